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

use super::state_flow::{touch, Touch};
use crate::ir::{Block, Function, Terminator};

/// For each block, the registers to store at its end (before its
/// terminator, when they are dirty there) because it enters a loop that
/// calls on every iteration and never writes them. `var_succs` are the
/// edges that keep the guest state in variables (not call returns).
pub fn loop_entry_stores(
    f: &Function,
    var_succs: &SecondaryMap<Block, Vec<Block>>,
) -> SecondaryMap<Block, u64> {
    let n = f.blocks.len();
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, data) in f.blocks.iter() {
        let mut s: Vec<usize> = data.term.successors().iter().map(|x| x.index()).collect();
        s.extend(var_succs[b].iter().map(|x| x.index()));
        s.sort_unstable();
        s.dedup();
        for &t in &s {
            preds[t].push(b.index());
        }
        succs[b.index()] = s;
    }
    let var: Vec<Vec<usize>> = (0..n)
        .map(|i| var_succs[Block::new(i)].iter().map(|x| x.index()).collect())
        .collect();
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
    let graph = Graph {
        succs: &succs,
        var: &var,
    };
    let mut out: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut work = vec![(0..n).collect::<Vec<usize>>()];
    while let Some(region) = work.pop() {
        for scc in graph.sccs(&region) {
            let cyclic = scc.len() > 1 || succs[scc[0]].contains(&scc[0]);
            if !cyclic || !scc.iter().any(|&b| calls[b]) {
                continue;
            }
            let mut inside = vec![false; n];
            for &b in &scc {
                inside[b] = true;
            }
            if graph.var_acyclic(&scc, &inside) {
                let written = scc
                    .iter()
                    .flat_map(|&b| f.blocks[Block::new(b)].insts.iter())
                    .fold(0u64, |w, i| match touch(i) {
                        Some(Touch::Write(m)) => w | m,
                        _ => w,
                    });
                for &b in &scc {
                    for &p in &preds[b] {
                        if !inside[p] && var[p].contains(&b) {
                            out[Block::new(p)] |= !written;
                        }
                    }
                }
            } else {
                // Inner loops: the component without the blocks that enter
                // it (or, entered only from outside the function's graph,
                // without its first block).
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

/// Which blocks of `f` lie on a cycle of its control flow graph (calls
/// return to their return sites; indirect jumps continue at `local`
/// targets), by block index.
pub fn cyclic_blocks(f: &Function, local: &[(u64, Block)]) -> Vec<bool> {
    let n = f.blocks.len();
    let succs: Vec<Vec<usize>> = f
        .blocks
        .values()
        .map(|d| {
            let mut s: Vec<usize> = d.term.successors().iter().map(|x| x.index()).collect();
            if let Terminator::JumpIndirect { .. } = d.term {
                s.extend(local.iter().map(|e| e.1.index()));
            }
            s
        })
        .collect();
    let graph = Graph {
        succs: &succs,
        var: &[],
    };
    let mut out = vec![false; n];
    for scc in graph.sccs(&(0..n).collect::<Vec<_>>()) {
        if scc.len() > 1 || succs[scc[0]].contains(&scc[0]) {
            for b in scc {
                out[b] = true;
            }
        }
    }
    out
}

/// The loops of `f` that make no call: the blocks of each cycle that passes
/// no call or syscall (strongly connected components of the control flow
/// graph without return edges), by block index.
pub fn call_free_loops(f: &Function, local: &[(u64, Block)]) -> Vec<Vec<usize>> {
    let n = f.blocks.len();
    let succs: Vec<Vec<usize>> = f
        .blocks
        .values()
        .map(|d| match d.term {
            Terminator::Call { .. }
            | Terminator::CallIndirect { .. }
            | Terminator::Syscall { .. } => Vec::new(),
            Terminator::JumpIndirect { .. } => local.iter().map(|e| e.1.index()).collect(),
            ref t => t.successors().iter().map(|x| x.index()).collect(),
        })
        .collect();
    let graph = Graph {
        succs: &succs,
        var: &[],
    };
    graph
        .sccs(&(0..n).collect::<Vec<_>>())
        .into_iter()
        .filter(|scc| scc.len() > 1 || succs[scc[0]].contains(&scc[0]))
        .collect()
}

/// The control flow graph by block index.
struct Graph<'a> {
    succs: &'a [Vec<usize>],
    /// Successors along edges that keep the guest state in variables.
    var: &'a [Vec<usize>],
}

impl Graph<'_> {
    /// The strongly connected components of the subgraph on `region`
    /// (iterative Tarjan), each sorted.
    fn sccs(&self, region: &[usize]) -> Vec<Vec<usize>> {
        let n = self.succs.len();
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
                if let Some(&w) = self.succs[v].get(*i) {
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

    /// Whether the edges that keep the guest state in variables form no
    /// cycle inside `scc` (every cycle of the component passes a call's
    /// return or a syscall's continuation).
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
