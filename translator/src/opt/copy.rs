//! What the passes that copy a callee's code into its callers share:
//! copying a block's instructions with fresh values, and telling whether a
//! return goes through X30 (or a jump through another register).
//!
//! Invariant: IR values are local to their block, so one map from the
//! callee's values to the copies' serves every block copied.

use cranelift_entity::SecondaryMap;

use crate::ir::{Block, BlockData, Function, Imm, InstData, Opcode, Value};

/// Appends copies of `from`'s instructions to block `to` of `f`, each
/// result a new value of `f` (recorded in `values`, which maps their
/// operands too).
pub fn copy_insts(
    f: &mut Function,
    to: Block,
    from: &BlockData,
    values: &mut SecondaryMap<Value, Option<Value>>,
) {
    for inst in &from.insts {
        let mut copy = inst.clone();
        let arity = copy.op.arity();
        for a in &mut copy.args[..arity] {
            *a = values[*a].expect("operands are defined earlier in the block");
        }
        if let Some(r) = inst.result {
            let v = f.values.push(inst.ty);
            values[r] = Some(v);
            copy.result = Some(v);
        }
        f.blocks[to].insts.push(copy);
    }
}

/// Whether `target` is the value X30 holds at the end of a block with
/// instructions `insts` ([`holds`]).
pub fn through_lr(insts: &[InstData], target: Value) -> bool {
    holds(insts, 30, target)
}

/// Whether `value` is what X`reg` holds at the end of a block with
/// instructions `insts`: read from it after its last write, or that write.
pub fn holds(insts: &[InstData], reg: u8, value: Value) -> bool {
    for i in insts.iter().rev().filter(|i| i.imm == Imm::Reg(reg)) {
        match i.op {
            Opcode::SetReg => return i.args[0] == value,
            Opcode::GetReg if i.result == Some(value) => return true,
            _ => {}
        }
    }
    false
}
