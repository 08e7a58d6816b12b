//! Early returns copied into callers: `free(NULL)` without the call.
//!
//! Many functions begin with a test that returns at once on one side
//! (`free` of a null pointer, a disabled feature, an empty list). Where a
//! program takes that side often (busybox's `awk` frees a null pointer
//! 6.9 million times in the bench's run), the call costs far more than the
//! test: the caller's stores, the callee's frame and entry check, its
//! return and the caller's check and loads.
//!
//! A function has a *guard* when its entry block only reads registers and
//! computes integers, then branches, and one side is a block that only
//! reads and writes registers (not X30) and returns through X30. At a
//! `BL` to it the caller then runs a copy of the test itself: on the
//! guard's side a copy of that block, which goes to the return site (X30
//! holds the `BL`'s return address there), else the call as before, whose
//! callee repeats the test. At a `B` (a tail call) the copied block keeps
//! its return and the other side tail-calls.
//!
//! At a `BL` the copied block ends with a sync point (`resync`: the
//! dirty registers stored, the live ones loaded), as the call's way back
//! does: a jump that carried the caller's variables into the return site
//! would make it a merge of variables and loaded state, which cost the
//! malloc bench's loop spills (1.4% more instructions, against 0.9% with
//! the sync point; busybox `awk` runs 6.0% fewer).
//!
//! Invariants: nothing copied touches memory, flags, vector or system
//! registers, so running the test twice (in the caller, then in the
//! callee) is running it once; the call's X30 write stays before the
//! copied test; and the caller's entries are unchanged (the return site
//! stays one).

use cranelift_entity::{EntityRef, SecondaryMap};
use rustc_hash::FxHashMap;

use super::copy::{copy_insts, through_lr};
use crate::ir::{Block, BlockData, Effect, Function, Imm, InstData, Opcode, Terminator, Value};

/// Most instructions the copied test and return block may have each.
const MAX_INSTS: usize = 8;

/// A function's early return.
#[derive(Clone)]
struct Guard {
    /// The entry block: its test and its branch.
    test: BlockData,
    /// The block the branch returns from.
    exit: BlockData,
    /// Whether the branch goes to `exit` when its condition holds.
    exit_when: bool,
}

/// The guards of a program's functions, by entry address.
pub struct Guards {
    by_entry: FxHashMap<u64, Guard>,
}

impl Guards {
    /// Finds the functions of `funcs` with a guard.
    pub fn new(funcs: &[Function]) -> Guards {
        let by_entry = funcs
            .iter()
            .filter_map(|f| Some((f.entry_pc, guard(f)?)))
            .collect();
        Guards { by_entry }
    }

    /// Whether no function has one.
    pub fn is_empty(&self) -> bool {
        self.by_entry.is_empty()
    }
}

/// `f`'s guard, if it has one (see the module doc).
fn guard(f: &Function) -> Option<Guard> {
    let &(_, entry) = f.entries.first()?;
    let test = &f.blocks[entry];
    let Terminator::Branch {
        then_to, else_to, ..
    } = test.term
    else {
        return None;
    };
    // Register reads and integer arithmetic (whose operands are then
    // integers too: nothing else defines a value here).
    let pure =
        |i: &InstData| i.op == Opcode::GetReg || (i.op.effect() == Effect::Pure && i.ty.is_int());
    if test.insts.len() > MAX_INSTS || !test.insts.iter().all(pure) {
        return None;
    }
    let returns = |b: Block| {
        let d = &f.blocks[b];
        let Terminator::Return { target } = d.term else {
            return false;
        };
        b != entry
            && d.insts.len() <= MAX_INSTS
            && d.insts
                .iter()
                .all(|i| pure(i) || (i.op == Opcode::SetReg && i.imm != Imm::Reg(30)))
            && through_lr(&d.insts, target)
    };
    let (exit, exit_when) = match (returns(then_to), returns(else_to)) {
        (true, false) => (then_to, true),
        (false, true) => (else_to, false),
        _ => return None,
    };
    Some(Guard {
        test: test.clone(),
        exit: f.blocks[exit].clone(),
        exit_when,
    })
}

/// Copies the guards of the functions `f` calls or tail-calls to their
/// sites, each copy laid out right after its site.
pub fn copy_guards(f: &mut Function, guards: &Guards) {
    let sites: Vec<(Block, Guard)> = f
        .blocks
        .iter()
        .filter_map(|(b, d)| match d.term {
            Terminator::Call { target, .. } | Terminator::TailCall { target } => {
                Some((b, guards.by_entry.get(&target)?.clone()))
            }
            _ => None,
        })
        .collect();
    if sites.is_empty() {
        return;
    }
    let n = f.blocks.len();
    let mut after: Vec<Vec<Block>> = vec![Vec::new(); n];
    for (site, g) in sites {
        let call = f.blocks[site].term.clone();
        let mut values: SecondaryMap<Value, Option<Value>> = SecondaryMap::new();
        copy_insts(f, site, &g.test, &mut values);
        let Terminator::Branch { cond: c, .. } = g.test.term else {
            unreachable!("a guard's test branches");
        };
        let cond = values[c].expect("the test's condition is copied");
        let exit = f.create_block(g.exit.pc);
        copy_insts(f, exit, &g.exit, &mut values);
        if matches!(call, Terminator::Call { .. }) {
            // As after the call: the return site then finds every register
            // in `CpuState` on both ways in, and its loads serve both.
            f.builder(exit).resync();
        }
        f.blocks[exit].term = match (&call, &g.exit.term) {
            (Terminator::Call { cont, .. }, _) => Terminator::Jump(*cont),
            (_, Terminator::Return { target }) => Terminator::Return {
                target: values[*target].expect("the return's target is copied"),
            },
            _ => unreachable!("a guard's exit returns"),
        };
        let rest = f.create_block(f.blocks[site].pc);
        f.blocks[rest].term = call;
        let (then_to, else_to) = if g.exit_when {
            (exit, rest)
        } else {
            (rest, exit)
        };
        f.blocks[site].term = Terminator::Branch {
            cond,
            then_to,
            else_to,
        };
        after[site.index()] = vec![exit, rest];
    }
    let order: Vec<Block> = (0..n)
        .flat_map(|i| std::iter::once(Block::new(i)).chain(after[i].iter().copied()))
        .collect();
    f.reorder(&order);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::verify::verify;
    use crate::ir::{IntCC, MemAccess, Type};

    const EIGHT: MemAccess = MemAccess {
        bytes: 8,
        signed: false,
        ordered: false,
    };

    /// 0x9000: `CBZ X0` to 0x9004, which sets X0 to -1 and returns, else
    /// to 0x9008, which stores X0 to itself and returns (`free`'s shape,
    /// with a result). With `load`, the test reads memory first.
    fn callee(load: bool) -> Function {
        let mut f = Function::new("g".into(), 0x9000);
        let [test, exit, body] = [0x9000, 0x9004, 0x9008].map(|pc| f.create_block(pc));
        f.entries.push((0x9000, test));
        let mut b = f.builder(test);
        let mut x0 = b.get_reg(Type::I64, 0);
        if load {
            x0 = b.load(Type::I64, x0, EIGHT);
        }
        let zero = b.iconst(Type::I64, 0);
        let cond = b.icmp(Type::I8, x0, zero, IntCC::Eq);
        b.terminate(Terminator::Branch {
            cond,
            then_to: exit,
            else_to: body,
        });
        let mut b = f.builder(exit);
        let m1 = b.iconst(Type::I64, u64::MAX);
        b.set_reg(m1, 0);
        let lr = b.get_reg(Type::I64, 30);
        b.terminate(Terminator::Return { target: lr });
        let mut b = f.builder(body);
        let x0 = b.get_reg(Type::I64, 0);
        b.store(x0, x0, EIGHT);
        let lr = b.get_reg(Type::I64, 30);
        b.terminate(Terminator::Return { target: lr });
        f
    }

    /// 0x1000: `BL 0x9000` returning to 0x1004, which returns; or, with
    /// `tail`, `B 0x9000`.
    fn caller(tail: bool) -> Function {
        let mut f = Function::new("f".into(), 0x1000);
        let [site, cont] = [0x1000, 0x1004].map(|pc| f.create_block(pc));
        f.entries.push((0x1000, site));
        let mut b = f.builder(site);
        if tail {
            b.terminate(Terminator::TailCall { target: 0x9000 });
        } else {
            let lr = b.iconst(Type::I64, 0x1004);
            b.set_reg(lr, 30);
            b.terminate(Terminator::Call {
                target: 0x9000,
                ret: 0x1004,
                cont,
            });
            f.entries.push((0x1004, cont));
        }
        let mut b = f.builder(cont);
        let lr = b.get_reg(Type::I64, 30);
        b.terminate(Terminator::Return { target: lr });
        f
    }

    /// The site tests X0 itself: on zero it sets X0 to -1 and goes to the
    /// return site through a sync point, else it calls as before. The X30
    /// write stays ahead of the test.
    #[test]
    fn a_call_tests_first_and_calls_on_the_other_side() {
        let guards = Guards::new(&[callee(false)]);
        let mut f = caller(false);
        copy_guards(&mut f, &guards);
        verify(&f).expect("valid IR");
        let site = f.entries[0].1;
        let cont = f.entries[1].1;
        let insts = &f.blocks[site].insts;
        let lr = insts.iter().position(|i| i.op == Opcode::SetReg);
        let test = insts.iter().position(|i| i.op == Opcode::Icmp);
        assert!(lr < test, "X30 is written before the test");
        let Terminator::Branch {
            then_to: exit,
            else_to: rest,
            ..
        } = f.blocks[site].term
        else {
            panic!("the site branches");
        };
        assert_eq!(f.blocks[exit].term, Terminator::Jump(cont));
        let ops: Vec<Opcode> = f.blocks[exit].insts.iter().map(|i| i.op).collect();
        assert!(ops.contains(&Opcode::SetReg) && ops.last() == Some(&Opcode::Resync));
        assert!(matches!(
            f.blocks[rest].term,
            Terminator::Call { target: 0x9000, ret: 0x1004, cont: c } if c == cont
        ));
        assert_eq!(f.entries.len(), 2, "entries unchanged");
    }

    /// At a tail call the copied block returns as the callee did.
    #[test]
    fn a_tail_call_keeps_the_return() {
        let guards = Guards::new(&[callee(false)]);
        let mut f = caller(true);
        copy_guards(&mut f, &guards);
        verify(&f).expect("valid IR");
        let Terminator::Branch {
            then_to: exit,
            else_to: rest,
            ..
        } = f.blocks[f.entries[0].1].term
        else {
            panic!("the site branches");
        };
        assert!(matches!(f.blocks[exit].term, Terminator::Return { .. }));
        assert_eq!(f.blocks[rest].term, Terminator::TailCall { target: 0x9000 });
    }

    /// A test that reads memory is no guard: it could fault, or see a
    /// value that changes before the callee reads it again.
    #[test]
    fn a_test_that_loads_is_no_guard() {
        assert!(Guards::new(&[callee(true)]).is_empty());
    }
}
