//! Advanced SIMD (placeholder: filled in by the SIMD work).

use yaxpeax_arm::armv8::a64::Instruction;

use super::ctx::{unsupported, Ctx, Lift};

/// Lifts an Advanced SIMD instruction.
pub fn lift(_cx: &mut Ctx, i: &Instruction) -> Lift {
    unsupported(format!("{:?}", i.opcode))
}
