//! Lowering of scalar floating-point IR ops to Cranelift, with Arm
//! semantics where x86-64 differs.

use cranelift_codegen::ir::Value as ClValue;
use cranelift_frontend::FunctionBuilder;

use crate::ir::InstData;

/// Lowers one FP op (`FBin`, `Fsqrt`, `Fneg`, `Fabs`, `Fma`, `Fround`,
/// `Fcmp`, `Fconvert`, `FcvtToInt`, `IntToF`); `args` are its lowered
/// operands.
pub fn lower(fb: &mut FunctionBuilder, inst: &InstData, args: &[ClValue]) -> ClValue {
    let _ = (fb, args);
    unimplemented!("lowering of {:?}", inst.op)
}
