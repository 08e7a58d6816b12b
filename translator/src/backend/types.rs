//! Mapping of IR types to Cranelift types.
//!
//! Invariant: a `V128` is always an `I8X16` in Cranelift; ops that need
//! another lane shape bitcast on entry and back on exit.

use cranelift_codegen::ir::types;

use crate::ir::Type;

/// The Cranelift type of an IR type.
pub fn cl_type(t: Type) -> types::Type {
    match t {
        Type::I8 => types::I8,
        Type::I16 => types::I16,
        Type::I32 => types::I32,
        Type::I64 => types::I64,
        Type::F32 => types::F32,
        Type::F64 => types::F64,
        Type::V128 => types::I8X16,
    }
}
