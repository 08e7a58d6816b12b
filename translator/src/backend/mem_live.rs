//! Where the registers that live in `CpuState` (`lower::mem_regs`) are
//! live, so that a write to one that nothing reads again skips its store.
//!
//! A function whose loops call keeps most registers in `CpuState`: every
//! write is a store there, also for the temporaries a handler of an
//! interpreter computes and uses within a block. A write whose value
//! nobody reads before the register is written again needs no store: the
//! block's later reads take the value from the lowerer's cache
//! (`Lowerer::mem_seen`). Only a signal handler that inspects its context
//! sees the register's older value, as at safe points
//! (`StateFlow::safepoint_stores`).
//!
//! Invariant: a register is live wherever something may read it from
//! `CpuState` before it is written: a guest read in another block (or
//! after a sync point, which empties the cache), or an exit, which leaves
//! the registers to code outside the function. An exit uses every register
//! AAPCS64 lets that code read ([`StateFlow::exit_reads`], which also
//! decides the variables' stores); a call's return site reads back the
//! scratch registers it uses, through the edge to it.

use cranelift_entity::SecondaryMap;

use super::loop_stores::BlockGraph;
use super::state_flow::{live_on_entry, touch, StateFlow, Touch};
use crate::ir::{Block, Function};

/// The registers of `mem` live on entry to and at the end of each block.
pub struct MemLiveness {
    /// Live on entry (before the block's instructions).
    pub live_in: SecondaryMap<Block, u64>,
    /// Live at the end, counting the uses of the block's own exit.
    pub live_out: SecondaryMap<Block, u64>,
}

/// The liveness of the `CpuState`-resident registers (`flow.mem`) in `f`,
/// whose control flow is `graph`. An exit uses what
/// [`StateFlow::exit_reads`] says the code after it may read.
pub fn liveness(f: &Function, graph: &BlockGraph, flow: &StateFlow) -> MemLiveness {
    let mem = flow.mem;
    let mut gen: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut kill: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut exit: SecondaryMap<Block, u64> = SecondaryMap::new();
    for (b, data) in f.blocks.iter() {
        let (mut g, mut k) = (0, 0);
        for inst in &data.insts {
            match touch(inst) {
                Some(Touch::Read(m)) => g |= m & mem & !k,
                Some(Touch::Write(m)) => k |= m & mem,
                // Everything is read from `CpuState` after a sync point.
                Some(Touch::Sync) => {
                    g |= mem & !k;
                    k = mem;
                }
                None => {}
            }
        }
        exit[b] = mem & flow.exit_reads(f, b);
        gen[b] = g | (exit[b] & !k);
        kill[b] = k;
    }
    let live_in = live_on_entry(f, graph, &gen, &kill);
    let mut live_out = SecondaryMap::new();
    for b in f.blocks.keys() {
        live_out[b] = graph.succs(b).fold(exit[b], |a, s| a | live_in[s]);
    }
    MemLiveness { live_in, live_out }
}

/// For each instruction of `insts` (a block whose registers of `mem` live
/// at its end are `out`), whether it is a write to one of `mem` whose
/// store can be left out: the register is written again later in the
/// block, with no sync point between, or is dead at the block's end.
/// Reads later in the block take the written value from the cache.
pub fn dead_stores(insts: &[crate::ir::InstData], mem: u64, out: u64) -> Vec<bool> {
    let mut need = out & mem;
    let mut dead = vec![false; insts.len()];
    for (i, inst) in insts.iter().enumerate().rev() {
        match touch(inst) {
            Some(Touch::Write(m)) if m & mem != 0 => {
                dead[i] = need & m == 0;
                need &= !m;
            }
            Some(Touch::Sync) => need = mem,
            _ => {}
        }
    }
    dead
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{function, ret};
    use super::*;
    use crate::ir::{Terminator, Type};
    use rustc_hash::FxHashSet;

    /// The liveness of the registers in `mem` in `f`.
    fn live(f: &Function, mem: u64, strict: bool) -> MemLiveness {
        let graph = BlockGraph::new(f, &[]);
        let flow = StateFlow::new(
            f,
            &graph,
            &SecondaryMap::new(),
            strict,
            &FxHashSet::default(),
            mem,
        );
        liveness(f, &graph, &flow)
    }

    /// 0x1000 writes X2 twice and X19 and X3, then jumps to 0x1004, which
    /// reads X3 and returns: of X2 neither write is stored (the first is
    /// overwritten, the second is dead at the return), X19 is (a return
    /// passes it back), and so is X3 (read in the next block).
    #[test]
    fn writes_nobody_reads_from_cpu_state_are_not_stored() {
        let (mut f, [first, last]) = function([0x1000, 0x1004]);
        let mut b = f.builder(first);
        let v = b.get_reg(Type::I64, 0);
        b.set_reg(v, 2);
        b.set_reg(v, 2);
        b.set_reg(v, 19);
        b.set_reg(v, 3);
        b.terminate(Terminator::Jump(last));
        let mut b = f.builder(last);
        let v = b.get_reg(Type::I64, 3);
        b.set_reg(v, 0);
        ret(&mut f, last);
        let mem = (1 << 2) | (1 << 3) | (1 << 19);
        let out = live(&f, mem, false).live_out;
        assert_eq!(out[first], (1 << 3) | (1 << 19));
        let insts = &f.blocks[first].insts;
        let dead: Vec<bool> = dead_stores(insts, mem, out[first]);
        // get x0, set x2, set x2, set x19, set x3.
        assert_eq!(dead, [false, true, true, false, false]);
        // Under `strict`, a return passes every register back.
        let strict = live(&f, mem, true).live_out;
        assert!(!dead_stores(insts, mem, strict[first])[2]);
    }

    /// A sync point (`resync`) empties the cache: a write before it is
    /// stored even if the register is written again after it.
    #[test]
    fn a_write_before_a_sync_point_is_stored() {
        let (mut f, [only]) = function([0x2000]);
        let mut b = f.builder(only);
        let v = b.get_reg(Type::I64, 0);
        b.set_reg(v, 2);
        b.resync();
        b.set_reg(v, 2);
        ret(&mut f, only);
        let mem = 1 << 2;
        let out = live(&f, mem, false).live_out;
        let dead = dead_stores(&f.blocks[only].insts, mem, out[only]);
        assert_eq!(dead, [false, false, false, true, false]);
    }
}
