//! One dispatch block per register for an interpreter's computed gotos.
//!
//! A threaded interpreter (Lua's `luaV_execute`, gcc's `goto *table[op]`)
//! ends every handler with its own copy of the dispatch: `BR Xn`. Each
//! copy lowers to a `br_table` over every 4-byte slot of the function's
//! span of local targets (`backend::lower`), and to an edge per target:
//! in Lua's case 14 tables of 7 KB (246 KB of host code, 153 KB with one
//! table), and edges from every handler to every handler.
//!
//! Here the indirect jumps of a function that has local targets and jump
//! through the same register become jumps to one new block that reads the
//! register and jumps through it. The guest does the same thing at each:
//! `BR Xn` with the same registers. The lowered function then has one
//! table, one pending-signal test and one set of edges per register.
//!
//! Invariants: only blocks whose indirect target is the value their
//! register holds at the end of the block are redirected, so the shared
//! block jumps where each of them would; the new block is synthetic
//! (address 0), is no entry, and reads nothing but the register.

use std::collections::BTreeMap;

use super::copy::holds;
use crate::ir::{Block, Function, Imm, Opcode, Terminator, Type, Value};

/// Makes the computed gotos of `f` that jump through one register share
/// one block (when at least two do).
pub fn share_dispatch(f: &mut Function) {
    if f.local_targets().is_empty() {
        return;
    }
    // By register, in order, so that the new blocks are numbered the same
    // way every time.
    let mut sites: BTreeMap<u8, Vec<(Block, Value)>> = BTreeMap::new();
    for (b, data) in f.blocks.iter() {
        let Terminator::JumpIndirect { target } = data.term else {
            continue;
        };
        let read = data
            .insts
            .iter()
            .find(|i| i.op == Opcode::GetReg && i.result == Some(target));
        if let Some(&Imm::Reg(r)) = read.map(|i| &i.imm) {
            if holds(&data.insts, r, target) {
                sites.entry(r).or_default().push((b, target));
            }
        }
    }
    for (r, blocks) in sites.into_iter().filter(|(_, s)| s.len() >= 2) {
        let shared = f.create_block(0);
        let mut b = f.builder(shared);
        let t = b.push_value(Opcode::GetReg, Type::I64, &[], Imm::Reg(r));
        b.terminate(Terminator::JumpIndirect { target: t });
        for (site, target) in blocks {
            let data = &mut f.blocks[site];
            data.term = Terminator::Jump(shared);
            let used = data.insts.iter().any(|i| i.operands().contains(&target));
            if !used {
                data.insts.retain(|i| i.result != Some(target));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::verify::verify;

    /// An interpreter: 0x1000 jumps through X1 to one of its handlers at
    /// 0x1010 and 0x1020 (entries: their addresses are taken), and each
    /// handler sets X0 and jumps through X1 again. With `clobber`, the
    /// handler at 0x1020 writes X1 after reading the target from it.
    fn interpreter(clobber: bool) -> Function {
        let mut f = Function::new("f".into(), 0x1000);
        let blocks = [0x1000, 0x1010, 0x1020].map(|pc| f.create_block(pc));
        for (i, &b) in blocks.iter().enumerate() {
            f.entries.push((f.blocks[b].pc, b));
            let mut bb = f.builder(b);
            let v = bb.iconst(Type::I64, i as u64);
            bb.set_reg(v, 0);
            let t = bb.get_reg(Type::I64, 1);
            if clobber && i == 2 {
                bb.set_reg(v, 1);
            }
            bb.terminate(Terminator::JumpIndirect { target: t });
        }
        f
    }

    fn ops(f: &Function, b: Block) -> Vec<Opcode> {
        f.blocks[b].insts.iter().map(|i| i.op).collect()
    }

    /// Every jump through X1 goes to one new block, which reads X1 and
    /// jumps through it; the handlers no longer read X1.
    #[test]
    fn jumps_through_one_register_share_a_block() {
        let mut f = interpreter(false);
        share_dispatch(&mut f);
        verify(&f).expect("valid IR");
        let shared = Block::from_u32(3);
        assert_eq!(f.blocks.len(), 4);
        assert_eq!(f.blocks[shared].pc, 0, "synthetic");
        assert!(matches!(
            f.blocks[shared].term,
            Terminator::JumpIndirect { .. }
        ));
        assert_eq!(f.blocks[shared].insts[0].imm, Imm::Reg(1));
        for &(_, b) in &f.entries {
            assert_eq!(f.blocks[b].term, Terminator::Jump(shared));
            assert_eq!(ops(&f, b), [Opcode::Iconst, Opcode::SetReg]);
        }
        assert_eq!(f.entries.len(), 3, "entries unchanged");
    }

    /// A block whose target is no longer what X1 holds keeps its jump;
    /// the other two still share one.
    #[test]
    fn a_target_the_register_no_longer_holds_stays() {
        let mut f = interpreter(true);
        share_dispatch(&mut f);
        verify(&f).expect("valid IR");
        let kept = f.entries[2].1;
        assert!(matches!(
            f.blocks[kept].term,
            Terminator::JumpIndirect { .. }
        ));
        let shared = Block::from_u32(3);
        for &(_, b) in &f.entries[..2] {
            assert_eq!(f.blocks[b].term, Terminator::Jump(shared));
        }
    }

    /// Without local targets (only the start is an entry) an indirect
    /// jump leaves the function: nothing changes.
    #[test]
    fn no_local_targets_no_change() {
        let mut f = interpreter(false);
        f.entries.truncate(1);
        share_dispatch(&mut f);
        assert_eq!(f.blocks.len(), 3);
        assert!(f
            .blocks
            .values()
            .all(|d| matches!(d.term, Terminator::JumpIndirect { .. })));
    }
}
