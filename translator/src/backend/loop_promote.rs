//! Registers that live in `CpuState` for a whole function (`lower::mem_regs`)
//! held in variables inside the call-free loops that use them most.
//!
//! A function whose loops call keeps only a few registers in variables;
//! the others cost a load per read and a store per write everywhere. In a
//! loop that makes no call (a component of the graph of variable edges:
//! no call, syscall, host routine or computed goto, no FPCR write) the
//! busiest of them are *promoted*: loaded into their variables on every way
//! into the loop, kept there inside it, and stored on every way out when the
//! loop writes them.
//!
//! Invariants (kept by the lowerer): every edge from a block to a block
//! holding more promoted registers loads the extra ones
//! ([`Promotion::loads`]), and every edge from a block to one holding fewer
//! stores those its loop writes ([`Promotion::stores`]), counting a
//! computed goto's jumps to its local targets and a call's way back to its
//! return site (a call's block is in no loop, so the edge into it stored
//! them); an entry point inside a loop loads them after its own loads; a
//! safe point's slow path inside a loop stores those the loop writes. So
//! a promoted register's variable is defined wherever it is used, and
//! `CpuState` holds its value wherever the function's code outside the
//! loop, the dispatcher or a signal handler reads it.

use cranelift_entity::{EntityRef, SecondaryMap};

use super::state_flow::{touch, Touch};
use crate::ir::{Block, Function, Opcode, Terminator};

/// Most registers a promoted loop keeps in variables, counting the
/// function's own variables it uses: Cranelift has 14 allocatable general
/// registers, and the loop's temporaries need some (callgrind, zstd /
/// malloc / lua: 10 gives -2.9% / -0.3% / +0.4% instructions, 12 gives
/// -4.5% / +0.8% / +0.5%, 14 gives -5.4% / +2.2% / +0.6%).
const LOOP_VARS: usize = 10;

/// Which `CpuState`-resident registers each block holds in variables.
pub struct Promotion {
    /// The promoted registers of the loop each block belongs to (0 outside
    /// promoted loops).
    pub held: SecondaryMap<Block, u64>,
    /// Those of them the loop writes.
    pub written: SecondaryMap<Block, u64>,
}

impl Promotion {
    /// The registers an edge from `b` to `t` loads into their variables.
    pub fn loads(&self, b: Block, t: Block) -> u64 {
        self.held[t] & !self.held[b]
    }

    /// The registers an edge from `b` to `t` stores from their variables.
    pub fn stores(&self, b: Block, t: Block) -> u64 {
        self.written[b] & !self.held[t]
    }
}

/// Chooses the promoted registers among `mem` of `f`'s call-free loops
/// (`loop_stores::BlockGraph::call_free_loops`, by block index).
pub fn promote(f: &Function, free_loops: &[Vec<usize>], mem: u64) -> Promotion {
    let mut p = Promotion {
        held: SecondaryMap::new(),
        written: SecondaryMap::new(),
    };
    if mem == 0 {
        return p;
    }
    for l in free_loops {
        let blocks: Vec<Block> = l.iter().map(|&b| Block::new(b)).collect();
        let eligible = blocks.iter().all(|&b| {
            let data = &f.blocks[b];
            !matches!(data.term, Terminator::JumpIndirect { .. })
                && !data
                    .insts
                    .iter()
                    .any(|i| i.op == Opcode::LibCall || touch(i) == Some(Touch::Sync))
        });
        if !eligible {
            continue;
        }
        let mut uses = [0u32; 32];
        let (mut used, mut written) = (0u64, 0u64);
        for inst in blocks.iter().flat_map(|&b| f.blocks[b].insts.iter()) {
            let m = match touch(inst) {
                Some(Touch::Read(m)) => m,
                Some(Touch::Write(m)) => {
                    written |= m;
                    m
                }
                _ => 0,
            } & 0xffff_ffff;
            used |= m;
            for (r, c) in uses.iter_mut().enumerate() {
                *c += (m >> r) as u32 & 1;
            }
        }
        let own = (used & !mem).count_ones() as usize;
        let mut candidates: Vec<usize> = (0..32).filter(|&r| used & mem & (1 << r) != 0).collect();
        candidates.sort_by_key(|&r| std::cmp::Reverse(uses[r]));
        let chosen = candidates
            .iter()
            .take(LOOP_VARS.saturating_sub(own))
            .fold(0u64, |m, &r| m | 1 << r);
        for &b in &blocks {
            p.held[b] = chosen;
            p.written[b] = chosen & written;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::super::loop_stores::BlockGraph;
    use super::super::test_cfg::{branch_on, function, ret};
    use super::*;
    use crate::ir::Type;
    use vmxlate_abi::Routine;

    /// 0x1000 enters a loop at 0x1004 that increments X5 (in `CpuState`)
    /// and branches on X0 back or out to 0x1008, which returns.
    fn counting_loop(call_in_loop: bool) -> (Function, [Block; 3]) {
        let (mut f, [entry, body, exit]) = function([0x1000, 0x1004, 0x1008]);
        f.builder(entry).terminate(Terminator::Jump(body));
        let mut b = f.builder(body);
        let v = b.get_reg(Type::I64, 5);
        let one = b.iconst(Type::I64, 1);
        let v = b.add(Type::I64, v, one);
        b.set_reg(v, 5);
        if call_in_loop {
            let r = b.libcall(Type::I64, v, v, v, Routine::Strlen);
            b.set_reg(r, 0);
        }
        branch_on(&mut f, body, 0, body, exit);
        ret(&mut f, exit);
        (f, [entry, body, exit])
    }

    #[test]
    fn a_call_free_loop_holds_its_register_from_entry_to_exit() {
        let (f, [entry, body, exit]) = counting_loop(false);
        let graph = BlockGraph::new(&f, &[]);
        let p = promote(&f, &graph.call_free_loops(), 1 << 5);
        assert_eq!((p.held[entry], p.held[body], p.held[exit]), (0, 1 << 5, 0));
        assert_eq!(p.loads(entry, body), 1 << 5, "loaded on the way in");
        assert_eq!(p.loads(body, body), 0, "not on the back edge");
        assert_eq!(
            p.stores(body, exit),
            1 << 5,
            "written, so stored on the way out"
        );
        assert_eq!(p.stores(body, body), 0);
    }

    #[test]
    fn a_loop_that_calls_a_host_routine_keeps_its_registers_in_memory() {
        let (f, [_, body, _]) = counting_loop(true);
        let graph = BlockGraph::new(&f, &[]);
        assert_eq!(promote(&f, &graph.call_free_loops(), 1 << 5).held[body], 0);
    }
}
