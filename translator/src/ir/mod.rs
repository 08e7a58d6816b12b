//! The vmxlate IR: guest functions as blocks of SSA values over explicit
//! guest-state accesses, with typed terminators.
//!
//! The op table in `ops.rs` is the single source of op properties; the
//! printer (`print.rs`) and verifier (`verify.rs`) are driven by it.

pub mod function;
pub mod ops;
pub mod print;
pub mod types;
pub mod verify;

pub use function::{
    Block, BlockData, Builder, Function, Imm, ImmKind, InstData, Terminator, TrapKind, Value,
};
pub use ops::{Effect, Opcode};
pub use types::*;
