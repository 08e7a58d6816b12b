//! Stores hoisted out of loops that call on every iteration.
//!
//! Every call stores the registers dirty at it (see `state_flow`). Inside a
//! loop, a register written before the loop and never inside it stays
//! dirty at the loop's entry, so a call inside stores it again on every
//! iteration, and the return site must load it (it is stored later).
//! Storing such registers once, at the end of each block that enters the
//! loop, makes them clean in the whole loop instead.
//!
//! Loops are the strongly connected components of the control flow graph,
//! nested the usual way: a component where some cycle avoids every call is
//! split by removing the blocks that enter it, and the components of the
//! rest are loops again. Only loops where every cycle passes a call (or
//! syscall) get stores: there the hoisted store replaces at least one store
//! per entry, while in a loop whose call is on a rare path it would cost a
//! store per entry for nothing.
//!
//! Invariant: the result only chooses where extra stores go. Storing a
//! dirty register early is always correct (`CpuState` then holds its
//! current value), so the dataflow in `state_flow` stays exact whatever
//! this returns.

use cranelift_entity::{EntityRef, SecondaryMap};

use super::state_flow::{touch, var_succs, Touch};
use crate::ir::{Block, Function, Terminator};

/// The control flow graph of one function, by block index.
pub struct BlockGraph {
    /// Every edge: a call or syscall continues at its return site, an
    /// indirect jump at the function's local targets. Sorted, no duplicates.
    succs: Vec<Vec<usize>>,
    /// The edges that keep the guest state in variables (`var_succs`):
    /// `succs` without those from a call or syscall to its return site.
    var: Vec<Vec<usize>>,
}

impl BlockGraph {
    /// The graph of `f`, whose indirect jumps continue at `local`.
    pub fn new(f: &Function, local: &[(u64, Block)]) -> BlockGraph {
        let var: Vec<Vec<usize>> = f
            .blocks
            .values()
            .map(|d| {
                var_succs(&d.term, local)
                    .iter()
                    .map(|b| b.index())
                    .collect()
            })
            .collect();
        let succs = f
            .blocks
            .values()
            .zip(&var)
            .map(|(d, v)| {
                let mut s: Vec<usize> = d.term.successors().iter().map(|b| b.index()).collect();
                s.extend(v);
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        BlockGraph { succs, var }
    }

    /// The successors of `b` (every edge).
    pub fn succs(&self, b: Block) -> impl Iterator<Item = Block> + '_ {
        self.succs[b.index()].iter().map(|&t| Block::new(t))
    }

    /// The successors of `b` that receive its variables as they are.
    pub fn var_succs(&self, b: Block) -> impl Iterator<Item = Block> + '_ {
        self.var[b.index()].iter().map(|&t| Block::new(t))
    }

    /// Which blocks lie on a cycle.
    pub fn cyclic_blocks(&self) -> Vec<bool> {
        let mut out = vec![false; self.succs.len()];
        for scc in loops(&self.succs, &self.all()) {
            for b in scc {
                out[b] = true;
            }
        }
        out
    }

    /// The loops that make no call: the blocks of each cycle that passes no
    /// call or syscall (components of the graph of variable edges).
    pub fn call_free_loops(&self) -> Vec<Vec<usize>> {
        loops(&self.var, &self.all())
    }

    /// For each block of `f`, the registers to store at its end (before its
    /// terminator, when they are dirty there) because it enters a loop that
    /// calls on every iteration and never writes them.
    pub fn loop_entry_stores(&self, f: &Function) -> SecondaryMap<Block, u64> {
        let n = self.succs.len();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (b, s) in self.succs.iter().enumerate() {
            for &t in s {
                preds[t].push(b);
            }
        }
        let calls: Vec<bool> = f
            .blocks
            .values()
            .map(|d| {
                matches!(
                    d.term,
                    Terminator::Call { .. }
                        | Terminator::CallIndirect { .. }
                        | Terminator::Syscall { .. }
                )
            })
            .collect();
        let mut out: SecondaryMap<Block, u64> = SecondaryMap::new();
        let mut work = vec![self.all()];
        while let Some(region) = work.pop() {
            for scc in loops(&self.succs, &region) {
                if !scc.iter().any(|&b| calls[b]) {
                    continue;
                }
                let mut inside = vec![false; n];
                for &b in &scc {
                    inside[b] = true;
                }
                if self.var_acyclic(&scc, &inside) {
                    let written = scc
                        .iter()
                        .flat_map(|&b| f.blocks[Block::new(b)].insts.iter())
                        .fold(0u64, |w, i| match touch(i) {
                            Some(Touch::Write(m)) => w | m,
                            _ => w,
                        });
                    for &b in &scc {
                        for &p in &preds[b] {
                            if !inside[p] && self.var[p].contains(&b) {
                                out[Block::new(p)] |= !written;
                            }
                        }
                    }
                } else {
                    // Inner loops: the component without the blocks that
                    // enter it (or, entered only from outside the function's
                    // graph, without its first block).
                    let mut entries: Vec<usize> = scc
                        .iter()
                        .copied()
                        .filter(|&b| preds[b].iter().any(|&p| !inside[p]))
                        .collect();
                    if entries.is_empty() {
                        entries.push(scc[0]);
                    }
                    work.push(scc.into_iter().filter(|b| !entries.contains(b)).collect());
                }
            }
        }
        out
    }

    /// Every block index.
    fn all(&self) -> Vec<usize> {
        (0..self.succs.len()).collect()
    }

    /// Whether the variable edges form no cycle inside `scc` (every cycle
    /// of the component passes a call's return or a syscall's
    /// continuation).
    fn var_acyclic(&self, scc: &[usize], inside: &[bool]) -> bool {
        // Kahn's algorithm on the component's variable edges.
        let mut indeg = vec![0usize; self.succs.len()];
        for &b in scc {
            for &t in &self.var[b] {
                if inside[t] {
                    indeg[t] += 1;
                }
            }
        }
        let mut ready: Vec<usize> = scc.iter().copied().filter(|&b| indeg[b] == 0).collect();
        let mut done = 0;
        while let Some(b) = ready.pop() {
            done += 1;
            for &t in &self.var[b] {
                if inside[t] {
                    indeg[t] -= 1;
                    if indeg[t] == 0 {
                        ready.push(t);
                    }
                }
            }
        }
        done == scc.len()
    }
}

/// The loops of the subgraph of `succs` on `region`: its strongly connected
/// components that contain a cycle, each sorted.
fn loops(succs: &[Vec<usize>], region: &[usize]) -> Vec<Vec<usize>> {
    sccs(succs, region)
        .into_iter()
        .filter(|scc| scc.len() > 1 || succs[scc[0]].contains(&scc[0]))
        .collect()
}

/// The strongly connected components of the subgraph of `succs` on
/// `region` (iterative Tarjan), each sorted, and each listed after every
/// component it reaches.
pub(super) fn sccs(succs: &[Vec<usize>], region: &[usize]) -> Vec<Vec<usize>> {
    let n = succs.len();
    let mut member = vec![false; n];
    for &b in region {
        member[b] = true;
    }
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for &root in region {
        if index[root] != usize::MAX {
            continue;
        }
        let mut frames: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = frames.last_mut() {
            if let Some(&w) = succs[v].get(*i) {
                *i += 1;
                if !member[w] {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(u, _)) = frames.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                scc.sort_unstable();
                out.push(scc);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{branch_on, function, ret};
    use super::*;
    use crate::ir::Type;

    /// `x19 = x20` at 0x1000, then a loop at 0x1004 that calls 0x2000 and
    /// branches back on x0; when `skip_call` the loop can also go round
    /// without the call. Returns the function and its entry block.
    fn loop_with_call(skip_call: bool) -> (Function, Block) {
        let (mut f, [entry, head, call, latch, exit]) =
            function([0x1000, 0x1004, 0x1008, 0x100c, 0x1010]);
        let mut b = f.builder(entry);
        let v = b.get_reg(Type::I64, 20);
        b.set_reg(v, 19);
        b.terminate(Terminator::Jump(head));
        let (then_to, else_to) = if skip_call {
            (latch, call)
        } else {
            (call, call)
        };
        branch_on(&mut f, head, 1, then_to, else_to);
        f.builder(call).terminate(Terminator::Call {
            target: 0x2000,
            ret: 0x100c,
            cont: latch,
        });
        let mut b = f.builder(latch);
        let c = b.get_reg(Type::I64, 0);
        b.set_reg(c, 2);
        branch_on(&mut f, latch, 0, head, exit);
        ret(&mut f, exit);
        (f, entry)
    }

    #[test]
    fn a_loop_that_always_calls_gets_its_invariant_registers_stored_on_entry() {
        let (f, entry) = loop_with_call(false);
        let stores = BlockGraph::new(&f, &[]).loop_entry_stores(&f);
        // X19, written before the loop, is stored on entry; X2, written in
        // the loop, is not; nothing is stored inside the loop.
        assert_ne!(stores[entry] & (1 << 19), 0);
        assert_eq!(stores[entry] & (1 << 2), 0);
        for (b, _) in f.blocks.iter().filter(|(b, _)| *b != entry) {
            assert_eq!(stores[b], 0, "{b}");
        }
    }

    #[test]
    fn a_loop_that_can_skip_its_call_gets_no_stores() {
        let (f, _) = loop_with_call(true);
        let stores = BlockGraph::new(&f, &[]).loop_entry_stores(&f);
        assert!(f.blocks.keys().all(|b| stores[b] == 0));
    }

    #[test]
    fn loops_with_and_without_calls() {
        let (f, entry) = loop_with_call(true);
        let g = BlockGraph::new(&f, &[]);
        let cyclic = g.cyclic_blocks();
        assert!(!cyclic[entry.index()]);
        assert_eq!(cyclic.iter().filter(|c| **c).count(), 3);
        // Only head -> latch -> head avoids the call.
        assert_eq!(g.call_free_loops(), vec![vec![1, 3]]);
    }
}
