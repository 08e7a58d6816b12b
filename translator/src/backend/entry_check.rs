//! Which translated functions may skip the check at their entry.
//!
//! A function that calls compares the host stack pointer with
//! `CpuState::stack_limit` at its entry (`lower::Lowerer::safepoint`):
//! that bounds the host stack under guest recursion, and since the runtime
//! raises the limit while a signal is pending, it is also where a signal
//! is taken in a function without loops. Both jobs only need one check on
//! every cycle of calls. A function that no cycle of direct calls passes
//! through, and that makes no indirect call or jump (whose target could
//! lead back to it), starts a bounded chain of calls: this module lets it
//! skip the check (four instructions on every call of small functions
//! such as `free` and `l_alloc`) when that chain is short.
//!
//! Invariants: every cycle of the call graph, indirect calls included,
//! contains a checked function (a cycle through an indirect edge contains
//! the function making it, which is checked; one of direct edges only lies
//! in a strongly connected component, whose functions are all checked);
//! and between two checked frames on the host stack there are at most
//! [`MAX_UNCHECKED_DEPTH`] unchecked ones that call, and then one leaf
//! (which never checks), so the host stack below the limit stays within
//! `HOST_STACK_RESERVE` with room to spare. A call to a
//! guest address that is no translated function goes through the
//! dispatcher and counts as indirect.

use rustc_hash::{FxHashMap, FxHashSet};

use super::loop_stores::sccs;
use crate::ir::{Function, Terminator};

/// Most unchecked frames of functions that call a chain of direct calls
/// stacks between two checked ones (a leaf may come on top).
const MAX_UNCHECKED_DEPTH: u32 = 12;

/// Entries of the functions of `funcs` whose entry needs no check although
/// they call (see the module doc). Functions that call nothing are not
/// listed: they skip the check anyway.
pub fn unchecked_entries(funcs: &[Function]) -> FxHashSet<u64> {
    let index: FxHashMap<u64, usize> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.entry_pc, i))
        .collect();
    // Direct callees by index, and whether a function makes an indirect
    // call or jump (or one to an untranslated address).
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); funcs.len()];
    let mut open = vec![false; funcs.len()];
    for (i, f) in funcs.iter().enumerate() {
        for d in f.blocks.values() {
            match d.term {
                Terminator::Call { target, .. } | Terminator::TailCall { target } => {
                    match index.get(&target) {
                        Some(&c) => callees[i].push(c),
                        None => open[i] = true,
                    }
                }
                Terminator::CallIndirect { .. } | Terminator::JumpIndirect { .. } => open[i] = true,
                _ => {}
            }
        }
    }
    let mut out = FxHashSet::default();
    // Unchecked frames a call of each function may stack (0: checked).
    let mut depth = vec![0u32; funcs.len()];
    // Components come callees first, so each function's callees are done.
    let all: Vec<usize> = (0..funcs.len()).collect();
    for scc in sccs(&callees, &all) {
        let cyclic = scc.len() > 1 || callees[scc[0]].contains(&scc[0]);
        for &i in &scc {
            if cyclic || open[i] || callees[i].is_empty() {
                continue;
            }
            let d = 1 + callees[i].iter().map(|&c| depth[c]).max().unwrap_or(0);
            if d <= MAX_UNCHECKED_DEPTH {
                depth[i] = d;
                out.insert(funcs[i].entry_pc);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{function, ret};
    use super::*;

    /// A function at `pc` that calls `target` (a direct `BL`) and returns.
    fn calls(pc: u64, target: u64) -> Function {
        let (mut f, [call, back]) = function([pc, pc + 4]);
        f.builder(call).terminate(Terminator::Call {
            target,
            ret: pc + 4,
            cont: back,
        });
        ret(&mut f, back);
        f
    }

    /// A function at `pc` that returns at once.
    fn leaf(pc: u64) -> Function {
        let (mut f, [b]) = function([pc]);
        ret(&mut f, b);
        f
    }

    #[test]
    fn a_chain_of_calls_to_a_leaf_is_unchecked() {
        let funcs = [calls(0x1000, 0x2000), calls(0x2000, 0x3000), leaf(0x3000)];
        let out = unchecked_entries(&funcs);
        assert_eq!(out, [0x1000, 0x2000].into_iter().collect());
    }

    #[test]
    fn recursion_and_calls_out_of_the_program_keep_their_check() {
        let funcs = [
            calls(0x1000, 0x2000),
            calls(0x2000, 0x1000),
            calls(0x3000, 0x3000),
            calls(0x4000, 0x9000),
            calls(0x5000, 0x1000),
        ];
        let out = unchecked_entries(&funcs);
        // 0x5000 calls into a cycle, which checks: it may skip its own.
        assert_eq!(out, [0x5000].into_iter().collect());
    }

    #[test]
    fn an_indirect_call_keeps_the_check() {
        let (mut f, [call, back]) = function([0x1000, 0x1004]);
        let target = f.builder(call).get_reg(crate::ir::Type::I64, 16);
        f.builder(call).terminate(Terminator::CallIndirect {
            target,
            ret: 0x1004,
            cont: back,
        });
        ret(&mut f, back);
        assert!(unchecked_entries(&[f]).is_empty());
    }

    #[test]
    fn long_chains_are_cut_by_a_check() {
        // 0x1000 calls 0x2000 ... calls 0x1000 * (n + 1), a leaf.
        let n = 2 * MAX_UNCHECKED_DEPTH as u64 + 3;
        let mut funcs: Vec<Function> = (1..=n)
            .map(|i| calls(0x1000 * i, 0x1000 * (i + 1)))
            .collect();
        funcs.push(leaf(0x1000 * (n + 1)));
        let out = unchecked_entries(&funcs);
        // Walking up from the leaf, every (MAX + 1)th caller checks.
        for i in 1..=n {
            let from_leaf = n + 1 - i;
            let checked = from_leaf.is_multiple_of(MAX_UNCHECKED_DEPTH as u64 + 1);
            assert_eq!(!out.contains(&(0x1000 * i)), checked, "function {i}");
        }
    }
}
