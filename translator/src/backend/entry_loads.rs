//! Where the call entry loads the registers live there.
//!
//! A call enters a translated function at its entry (entry 0), which loads
//! from `CpuState` every register live there (see `state_flow`). Many
//! functions test an argument first and leave at once on one side (glibc's
//! `free(NULL)`, a cache hit): the other side's registers were loaded for
//! nothing. So a register's entry load moves down to the block that every
//! path from the entry to a use of its variable passes through (the
//! nearest common dominator of those uses), where it is loaded instead.
//!
//! The loaded value is the one the entry would have loaded, because:
//! - a use is any block that reads or writes the register, or where it may
//!   be dirty (an exit, edge or safe point may store it from there); before
//!   the new block no path from the entry touches the register, so
//!   `CpuState` still holds the caller's value;
//! - the block lies on no cycle, so no path comes back to it after the
//!   register was written;
//! - no path of variable edges reaches it from the function's other roots
//!   (call and syscall return sites, resume entries, computed-goto
//!   targets), which load their own live registers and may write them
//!   before it.
//!
//! When no block other than the entry qualifies, the entry loads it.

use cranelift_entity::{EntityRef, SecondaryMap};

use super::loop_stores::BlockGraph;
use super::state_flow::{touch, StateFlow, Touch};
use crate::ir::{Block, Function, Terminator};

/// Where the call entry's register loads go.
pub struct EntryLoads {
    /// The registers (`state_flow` masks) loaded at the start of each block
    /// instead of at the call entry.
    pub at_block: SecondaryMap<Block, u64>,
    /// Every register in `at_block`.
    pub sunk: u64,
}

/// Places the loads of the registers live at `entry`, the block the call
/// entry continues at; `roots` are the blocks the function's other entries
/// continue at, which load their own (call and syscall return sites count
/// as roots whether listed or not).
pub fn place(
    f: &Function,
    graph: &BlockGraph,
    flow: &StateFlow,
    entry: Block,
    roots: &[Block],
) -> EntryLoads {
    let mut out = EntryLoads {
        at_block: SecondaryMap::new(),
        sunk: 0,
    };
    let live = flow.live_in[entry];
    if live == 0 {
        return out;
    }
    let n = f.blocks.len();
    let dom = Dominators::new(graph, entry, n);
    let returns = f.blocks.values().filter_map(|d| match d.term {
        Terminator::Call { cont, .. }
        | Terminator::CallIndirect { cont, .. }
        | Terminator::Syscall { cont, .. } => Some(cont.index()),
        _ => None,
    });
    let starts = roots.iter().map(|b| b.index()).chain(returns);
    let from_roots = reachable(graph, starts, n);
    let cyclic = graph.cyclic_blocks();
    // The nearest common dominator of each register's uses.
    let mut lca: Vec<Option<usize>> = vec![None; 64];
    for b in dom.order.iter().copied() {
        let used = uses(f, flow, Block::new(b)) & live;
        for (r, slot) in lca.iter_mut().enumerate() {
            if used & (1 << r) != 0 {
                *slot = Some(slot.map_or(b, |d| dom.common(d, b)));
            }
        }
    }
    for (r, d) in lca.into_iter().enumerate() {
        let Some(mut d) = d else { continue };
        while d != entry.index() && (cyclic[d] || from_roots[d]) {
            d = dom.idom[d];
        }
        if d != entry.index() {
            out.at_block[Block::new(d)] |= 1 << r;
            out.sunk |= 1 << r;
        }
    }
    out
}

/// The registers block `b` uses the variables of: those it reads or writes
/// (all of them at a sync point) and those that may be dirty in it.
fn uses(f: &Function, flow: &StateFlow, b: Block) -> u64 {
    let data = &f.blocks[b];
    let touched = data.insts.iter().fold(0, |acc, i| match touch(i) {
        Some(Touch::Read(m) | Touch::Write(m)) => acc | m,
        Some(Touch::Sync) => !0,
        None => acc,
    });
    touched | flow.dirty_in[b] | flow.dirty_out[b] | flow.pre_stored[b]
}

/// The blocks reachable from `starts` by variable edges.
fn reachable(graph: &BlockGraph, starts: impl Iterator<Item = usize>, n: usize) -> Vec<bool> {
    let mut seen = vec![false; n];
    let mut work: Vec<usize> = starts.collect();
    while let Some(b) = work.pop() {
        if std::mem::replace(&mut seen[b], true) {
            continue;
        }
        work.extend(graph.var_succs(Block::new(b)).map(|t| t.index()));
    }
    seen
}

/// The dominator tree of the variable edges reachable from one block
/// (Cooper, Harvey and Kennedy's iteration over reverse postorder).
struct Dominators {
    /// Reachable blocks in reverse postorder.
    order: Vec<usize>,
    /// Position of each block in `order` (`usize::MAX`: unreachable).
    rank: Vec<usize>,
    /// Immediate dominator of each reachable block (the root's is itself).
    idom: Vec<usize>,
}

impl Dominators {
    fn new(graph: &BlockGraph, root: Block, n: usize) -> Dominators {
        // Iterative depth-first search for the postorder.
        let mut post = Vec::new();
        let mut seen = vec![false; n];
        let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
        let succs = |b: usize| -> Vec<usize> {
            graph.var_succs(Block::new(b)).map(|t| t.index()).collect()
        };
        seen[root.index()] = true;
        stack.push((root.index(), succs(root.index())));
        while let Some((b, rest)) = stack.last_mut() {
            match rest.pop() {
                Some(t) if !seen[t] => {
                    seen[t] = true;
                    let next = succs(t);
                    stack.push((t, next));
                }
                Some(_) => {}
                None => {
                    post.push(*b);
                    stack.pop();
                }
            }
        }
        let order: Vec<usize> = post.into_iter().rev().collect();
        let mut rank = vec![usize::MAX; n];
        for (i, &b) in order.iter().enumerate() {
            rank[b] = i;
        }
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &b in &order {
            for t in succs(b) {
                preds[t].push(b);
            }
        }
        let mut dom = Dominators {
            idom: vec![usize::MAX; n],
            order,
            rank,
        };
        let root = root.index();
        dom.idom[root] = root;
        let mut changed = true;
        while changed {
            changed = false;
            for &b in dom.order.iter().skip(1) {
                let new = preds[b]
                    .iter()
                    .copied()
                    .filter(|&p| dom.idom[p] != usize::MAX)
                    .reduce(|a, p| dom.common(a, p));
                if let Some(new) = new {
                    if dom.idom[b] != new {
                        dom.idom[b] = new;
                        changed = true;
                    }
                }
            }
        }
        dom
    }

    /// The nearest common dominator of `a` and `b`.
    fn common(&self, mut a: usize, mut b: usize) -> usize {
        while a != b {
            while self.rank[a] > self.rank[b] {
                a = self.idom[a];
            }
            while self.rank[b] > self.rank[a] {
                b = self.idom[b];
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{branch_on, diamond, function, ret};
    use super::*;
    use crate::ir::Type;
    use rustc_hash::FxHashSet;

    fn flow_of(f: &Function, graph: &BlockGraph) -> StateFlow {
        StateFlow::new(
            f,
            graph,
            &SecondaryMap::new(),
            false,
            &FxHashSet::default(),
            0,
        )
    }

    /// `free`'s shape: 0x1000 returns at once when X0 is zero (0x1004),
    /// else 0x1008 reads X19 and SP and returns: X19 and SP are loaded in
    /// 0x1008, X0 and X30 at the entry.
    #[test]
    fn a_register_used_on_one_side_only_is_loaded_there() {
        let (mut f, [entry, early, work]) = function([0x1000, 0x1004, 0x1008]);
        branch_on(&mut f, entry, 0, work, early);
        ret(&mut f, early);
        let mut b = f.builder(work);
        let sp = b.get_reg(Type::I64, 31);
        let x19 = b.get_reg(Type::I64, 19);
        b.set_reg(sp, 0);
        b.set_reg(x19, 1);
        ret(&mut f, work);
        let graph = BlockGraph::new(&f, &[]);
        let flow = flow_of(&f, &graph);
        let loads = place(&f, &graph, &flow, entry, &[]);
        assert_eq!(loads.at_block[work], 1 << 19 | 1 << 31);
        assert_eq!(loads.sunk, 1 << 19 | 1 << 31);
        assert_eq!(loads.at_block[early], 0);
    }

    /// A diamond that writes X5 on one side joins at a block that reads X5:
    /// the join needs the entry's value on the other side, so X5 stays
    /// loaded at the entry.
    #[test]
    fn a_register_read_after_a_join_is_loaded_above_it() {
        let (mut f, [entry, _, _, join]) = diamond(5);
        let mut b = f.builder(join);
        let v = b.get_reg(Type::I64, 5);
        b.set_reg(v, 0);
        ret(&mut f, join);
        let graph = BlockGraph::new(&f, &[]);
        let flow = flow_of(&f, &graph);
        let loads = place(&f, &graph, &flow, entry, &[]);
        assert_eq!(loads.sunk & 1 << 5, 0);
    }

    /// 0x3000 branches to a loop at 0x3004 (on X0) that reads and writes X7,
    /// or returns at 0x3008: the loop's first block lies on a cycle, so X7
    /// is loaded at the entry; and a block a resume entry reaches is no
    /// place for a load either.
    #[test]
    fn no_load_moves_into_a_loop_or_below_a_resume_entry() {
        let (mut f, [entry, body, exit]) = function([0x3000, 0x3004, 0x3008]);
        branch_on(&mut f, entry, 1, body, exit);
        let mut b = f.builder(body);
        let v = b.get_reg(Type::I64, 7);
        b.set_reg(v, 7);
        branch_on(&mut f, body, 0, body, exit);
        ret(&mut f, exit);
        let graph = BlockGraph::new(&f, &[]);
        let flow = flow_of(&f, &graph);
        assert_eq!(place(&f, &graph, &flow, entry, &[]).sunk & 1 << 7, 0);

        let (mut f, [entry, side, tail]) = function([0x4000, 0x4004, 0x4008]);
        branch_on(&mut f, entry, 0, side, tail);
        ret(&mut f, side);
        let mut b = f.builder(tail);
        let v = b.get_reg(Type::I64, 20);
        b.set_reg(v, 0);
        ret(&mut f, tail);
        let graph = BlockGraph::new(&f, &[]);
        let flow = flow_of(&f, &graph);
        assert_eq!(place(&f, &graph, &flow, entry, &[]).at_block[tail], 1 << 20);
        assert_eq!(place(&f, &graph, &flow, entry, &[tail]).sunk, 0);
    }
}
