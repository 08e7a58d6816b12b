//! Small functions copied into their callers at `BL` sites.
//!
//! A `BL` to a translated function is a host call: the caller stores the
//! registers the callee may read, the callee loads them, stores what it
//! wrote and returns its next PC, which the caller checks before loading
//! the registers again. For a function of a few instructions (glibc's
//! `getc` fast path, a hash step, an accessor) that is most of its cost.
//!
//! A callee is copied when it is small ([`MAX_INSTS`], [`MAX_BLOCKS`]),
//! has no cycle, makes no syscall or indirect jump, tail-calls only
//! function starts (AAPCS64 entries), returns only through X30 and can be
//! entered only at its start. A leaf ([`Kind::Leaf`]) also makes no call
//! and never writes X30. Then its body, run in the caller's frame on the
//! same guest registers, does exactly what the call did: each return jumps
//! to the address in X30, which is the `BL`'s return address, so it
//! becomes a jump to the return site; each tail call (a fast path's way to
//! its slow path) becomes a call returning there.
//!
//! Unless `strict_abi`, the `BL`'s write of X30 goes too, with the returns'
//! reads of it: AAPCS64 leaves X30 undefined after a call, as for routines
//! bound in place (`bind::bind_calls`). A tail call then writes it first,
//! since its callee returns through it.
//!
//! A tail call (`B`) to such a function is copied too: there the copy's
//! returns and tail calls stay as they are, which needs nothing of
//! AAPCS64.
//!
//! A small function that calls ([`Kind::Caller`]: glibc's and Lua's
//! allocation wrappers) is copied at a `BL` site with the `BL`'s write of
//! X30 kept: its prologue saves X30 and its epilogue restores it from the
//! guest stack, so its return goes where that value says. A copied return
//! jumps to the return site when the value is the `BL`'s return address,
//! and else leaves the caller as the return would have (to the
//! dispatcher, as a return check that fails does). Its tail calls become
//! calls returning to the site, through the X30 the callee left. Its calls
//! stay calls; their return sites in the copy are no entries of the
//! caller: code resumed there (after a signal, or an unwinder) runs in the
//! callee's own translation, which returns through X30 to the caller's
//! return site, an entry.
//!
//! Copies are laid out right after their sites. A return site stays one of
//! the caller's entries, so the PC map is unchanged: code resumed inside a
//! copy (a signal handler returning to a faulting load) runs in the
//! callee's own translation and returns there through the dispatcher. A
//! copy has no safe point: it has no cycle.

use cranelift_entity::{EntityRef, SecondaryMap};
use rustc_hash::{FxHashMap, FxHashSet};

use super::copy::{copy_insts, through_lr};
use crate::ir::{Block, Function, Imm, IntCC, Opcode, Terminator, Type, Value};

/// Most IR instructions a copied callee may have.
const MAX_INSTS: usize = 64;

/// Most IR instructions a copied callee that calls may have: a call of it
/// costs a host frame, its entry's loads, its exits' stores and the
/// caller's check and loads after it, so a bigger one pays (callgrind,
/// with [`MAX_BLOCKS_FOR_CALLERS`]: lua 0.3% / 1.2% / 0.9% fewer
/// instructions with 96 / 128 / 192, SQLite 0.0% / +0.1% / +1.6%).
const MAX_CALLER_INSTS: usize = 128;

/// Callers with more blocks than this get no copies of callees that call:
/// in an interpreter's dispatch function (`luaV_execute`,
/// `sqlite3VdbeExec`) their registers, live across the copy's calls,
/// crowd the host registers of a function that is already short of them
/// (with no limit: lua -0.7%, SQLite +1.2%; with 256: lua -1.2%, SQLite
/// +0.1%, the switch interpreter -3.0%; with 1000 or 64 lua gains less).
const MAX_BLOCKS_FOR_CALLERS: usize = 256;

/// Most blocks a copied callee may have.
const MAX_BLOCKS: usize = 8;

/// Most IR instructions copies may add to one caller.
const MAX_GROWTH: usize = 4096;

/// What a copyable function does besides its own instructions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Calls nothing and leaves X30 alone.
    Leaf,
    /// Calls, or writes X30 (see the module doc).
    Caller,
}

/// The functions small and simple enough to copy, by entry address.
pub struct Copyable {
    by_entry: FxHashMap<u64, (Function, Kind)>,
}

impl Copyable {
    /// Picks the copyable functions of `funcs`.
    pub fn new(funcs: &[Function]) -> Copyable {
        let aapcs: FxHashSet<u64> = funcs
            .iter()
            .filter(|f| f.aapcs_entry)
            .map(|f| f.entry_pc)
            .collect();
        let by_entry = funcs
            .iter()
            .filter_map(|f| Some((f.entry_pc, (f.clone(), copyable(f, &aapcs)?))))
            .collect();
        Copyable { by_entry }
    }

    /// Whether there is nothing to copy.
    pub fn is_empty(&self) -> bool {
        self.by_entry.is_empty()
    }
}

/// Whether `f` may be copied into its callers (see the module doc), and
/// how, where `aapcs` holds the AAPCS64 entries (`Function::aapcs_entry`).
fn copyable(f: &Function, aapcs: &FxHashSet<u64>) -> Option<Kind> {
    // Entered only at its start (its calls' return sites aside).
    let conts = f.call_returns();
    let one_entry = f.entries.iter().skip(1).all(|e| conts.contains(&e.1));
    let max = if conts.is_empty() {
        MAX_INSTS
    } else {
        MAX_CALLER_INSTS
    };
    let small = one_entry && f.blocks.len() <= MAX_BLOCKS && size(f) <= max;
    if !small || !acyclic(f) {
        return None;
    }
    let mut kind = Kind::Leaf;
    for d in f.blocks.values() {
        match d.term {
            // `RET Xn` other than X30 does not go back to the `BL`.
            Terminator::Return { target } if !through_lr(&d.insts, target) => return None,
            Terminator::Jump(_)
            | Terminator::Branch { .. }
            | Terminator::JumpTable { .. }
            | Terminator::Return { .. }
            | Terminator::Trap { .. } => {}
            Terminator::TailCall { target } if aapcs.contains(&target) => {}
            Terminator::Call { .. } | Terminator::CallIndirect { .. } => kind = Kind::Caller,
            _ => return None,
        }
        if d.insts
            .iter()
            .any(|i| i.op == Opcode::SetReg && i.imm == Imm::Reg(30))
        {
            kind = Kind::Caller;
        }
    }
    Some(kind)
}

/// The number of IR instructions in `f`.
fn size(f: &Function) -> usize {
    f.blocks.values().map(|d| d.insts.len()).sum()
}

/// Whether no block of `f` reaches itself.
fn acyclic(f: &Function) -> bool {
    // Depth-first search with colours: 1 on the stack, 2 done.
    let mut colour: SecondaryMap<Block, u8> = SecondaryMap::new();
    let mut stack: Vec<(Block, Vec<Block>)> = Vec::new();
    for (_, root) in &f.entries {
        if colour[*root] != 0 {
            continue;
        }
        colour[*root] = 1;
        stack.push((*root, f.blocks[*root].term.successors()));
        while let Some((b, rest)) = stack.last_mut() {
            match rest.pop() {
                Some(t) if colour[t] == 1 => return false,
                Some(t) if colour[t] == 0 => {
                    colour[t] = 1;
                    let next = f.blocks[t].term.successors();
                    stack.push((t, next));
                }
                Some(_) => {}
                None => {
                    colour[*b] = 2;
                    stack.pop();
                }
            }
        }
    }
    true
}

/// Where the returns and tail calls of a copy go.
#[derive(Clone, Copy)]
enum Exit {
    /// A `BL` site: returns jump to `cont`, tail calls become calls that
    /// return there (to guest address `ret`).
    Site { ret: u64, cont: Block },
    /// A tail call's site: the copy returns and tail-calls as the callee
    /// would have.
    Tail,
}

/// Copies the [`Copyable`] functions that `f` calls (`BL`) or tail-calls (`B`) into
/// `f`, each copy laid out right after its site.
pub fn inline_calls(f: &mut Function, callees: &Copyable, strict_abi: bool) {
    let sites: Vec<(Block, &(Function, Kind), Exit)> = f
        .blocks
        .iter()
        .filter_map(|(b, d)| match d.term {
            Terminator::Call { target, ret, cont } => {
                Some((b, callees.by_entry.get(&target)?, Exit::Site { ret, cont }))
            }
            Terminator::TailCall { target } => {
                Some((b, callees.by_entry.get(&target)?, Exit::Tail))
            }
            _ => None,
        })
        .filter(|(_, (callee, _), _)| near(f.entry_pc, callee))
        .collect();
    if sites.is_empty() {
        return;
    }
    let n = f.blocks.len();
    let mut after: Vec<Vec<Block>> = vec![Vec::new(); n];
    let mut budget = MAX_GROWTH;
    let big = n > MAX_BLOCKS_FOR_CALLERS;
    for (site, (callee, kind), exit) in sites {
        if big && *kind == Kind::Caller {
            continue;
        }
        let size = size(callee);
        if size > budget {
            break;
        }
        budget -= size;
        // A caller's copy returns through the X30 the `BL` wrote.
        let keep_lr = strict_abi || *kind == Kind::Caller;
        if matches!(exit, Exit::Site { .. }) && !keep_lr {
            f.take_reg_write(site, 30);
        }
        let first = f.blocks.len();
        let start = splice(f, callee, exit, keep_lr, *kind);
        f.blocks[site].term = Terminator::Jump(start);
        after[site.index()] = (first..f.blocks.len()).map(Block::new).collect();
    }
    let order: Vec<Block> = (0..n)
        .flat_map(|i| std::iter::once(Block::new(i)).chain(after[i].iter().copied()))
        .collect();
    f.reorder(&order);
}

/// Whether every address of `callee` is within an `i32` of `entry`: the
/// backend marks memory accesses with their guest address relative to the
/// function's entry.
fn near(entry: u64, callee: &Function) -> bool {
    callee.blocks.values().all(|d| {
        let off = d.pc.wrapping_sub(entry) as i64;
        i32::try_from(off).is_ok()
    })
}

/// Appends a copy of `callee` (a `kind`) to `f`, its returns and tail calls
/// going where `exit` says, X30 written at a `BL` site when `keep_lr`;
/// returns the copy of its entry block.
fn splice(f: &mut Function, callee: &Function, exit: Exit, keep_lr: bool, kind: Kind) -> Block {
    let mut values: SecondaryMap<Value, Option<Value>> = SecondaryMap::new();
    let mut blocks: SecondaryMap<Block, Option<Block>> = SecondaryMap::new();
    for (b, data) in callee.blocks.iter() {
        blocks[b] = Some(f.create_block(data.pc));
    }
    let block = |b: Block| blocks[b].expect("every callee block is copied");
    for (b, data) in callee.blocks.iter() {
        let copy = block(b);
        copy_insts(f, copy, data, &mut values);
        let mut term = data.term.clone();
        term.map_blocks(block);
        term.map_values(|v| values[v].expect("terminator operands are copied"));
        let mut checked_return = None;
        let term = match (term, exit) {
            (Terminator::Return { target }, Exit::Site { ret, cont }) if kind == Kind::Caller => {
                checked_return = Some((target, ret, cont));
                Terminator::Unset
            }
            (Terminator::Return { target }, Exit::Site { cont, .. }) => {
                if !keep_lr {
                    drop_lr_read(&mut f.blocks[copy].insts, target);
                }
                Terminator::Jump(cont)
            }
            (Terminator::TailCall { target }, Exit::Site { ret, cont }) => {
                Terminator::Call { target, ret, cont }
            }
            (term, _) => term,
        };
        let call = matches!(term, Terminator::Call { .. });
        f.blocks[copy].term = term;
        if let Some((target, ret, cont)) = checked_return {
            // Back to the site when X30 still held its return address.
            let leave = f.create_block(data.pc);
            let mut b = f.builder(leave);
            let lr = b.get_reg(Type::I64, 30);
            b.terminate(Terminator::Return { target: lr });
            let mut b = f.builder(copy);
            let expected = b.iconst(Type::I64, ret);
            let cond = b.icmp(Type::I8, target, expected, IntCC::Eq);
            b.terminate(Terminator::Branch {
                cond,
                then_to: cont,
                else_to: leave,
            });
        }
        if let (true, Exit::Site { ret, .. }, false) = (call, exit, keep_lr) {
            // The BL's write of X30 is gone: the callee returns through it.
            let mut b = f.builder(copy);
            b.pc = ret - 4;
            let lr = b.iconst(Type::I64, ret);
            b.set_reg(lr, 30);
        }
    }
    block(callee.entries[0].1)
}

/// Removes the read of X30 that defined a return's `target`, when nothing
/// else in the block uses it.
fn drop_lr_read(insts: &mut Vec<crate::ir::InstData>, target: Value) {
    if insts.iter().any(|i| i.operands().contains(&target)) {
        return;
    }
    insts
        .retain(|i| !(i.result == Some(target) && i.op == Opcode::GetReg && i.imm == Imm::Reg(30)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::verify::verify;

    /// A function at `pc` whose entry block `body` fills, returning its
    /// blocks: the entry first.
    fn function(pc: u64, blocks: usize) -> (Function, Vec<Block>) {
        let mut f = Function::new(format!("f_{pc:x}"), pc);
        f.aapcs_entry = true;
        let b: Vec<Block> = (0..blocks as u64)
            .map(|i| f.create_block(pc + 4 * i))
            .collect();
        f.entries.push((pc, b[0]));
        (f, b)
    }

    /// Ends `b` with a return to X30.
    fn ret(f: &mut Function, b: Block) {
        let mut bb = f.builder(b);
        let target = bb.get_reg(Type::I64, 30);
        bb.terminate(Terminator::Return { target });
    }

    /// 0x9000: copies X0 to X1 and returns.
    fn copy_x0_to_x1() -> Function {
        let (mut leaf, lb) = function(0x9000, 1);
        let mut bb = leaf.builder(lb[0]);
        let v = bb.get_reg(Type::I64, 0);
        bb.set_reg(v, 1);
        ret(&mut leaf, lb[0]);
        leaf
    }

    /// Ends `b` with a branch on X0 to `then_to` or `else_to`.
    fn branch(f: &mut Function, b: Block, then_to: Block, else_to: Block) {
        let mut bb = f.builder(b);
        let cond = bb.get_reg(Type::I64, 0);
        bb.terminate(Terminator::Branch {
            cond,
            then_to,
            else_to,
        });
    }

    /// Ends `b` with `BL target`, which returns to `cont` at `ret`.
    fn bl(f: &mut Function, b: Block, target: u64, ret: u64, cont: Block) {
        let mut bb = f.builder(b);
        let lr = bb.iconst(Type::I64, ret);
        bb.set_reg(lr, 30);
        bb.terminate(Terminator::Call { target, ret, cont });
    }

    /// 0x1000: `BL 0x9000`, returning to 0x1004, which returns.
    fn caller() -> (Function, [Block; 2]) {
        let (mut f, b) = function(0x1000, 2);
        f.entries.push((0x1004, b[1]));
        bl(&mut f, b[0], 0x9000, 0x1004, b[1]);
        ret(&mut f, b[1]);
        (f, [b[0], b[1]])
    }

    fn writes(f: &Function, b: Block, reg: u8) -> bool {
        f.blocks[b]
            .insts
            .iter()
            .any(|i| i.op == Opcode::SetReg && i.imm == Imm::Reg(reg))
    }

    fn reads(f: &Function, b: Block, reg: u8) -> bool {
        f.blocks[b]
            .insts
            .iter()
            .any(|i| i.op == Opcode::GetReg && i.imm == Imm::Reg(reg))
    }

    /// 0x9000 copies X0 to X1 and returns: the call becomes a jump to the
    /// copy, which jumps to the return site; X30 is neither written nor
    /// read unless `strict_abi`.
    #[test]
    fn a_leaf_is_copied_and_returns_to_the_return_site() {
        let callees = Copyable::new(&[copy_x0_to_x1()]);
        for strict in [false, true] {
            let (mut f, [site, _]) = caller();
            inline_calls(&mut f, &callees, strict);
            verify(&f).expect("valid IR");
            // Blocks are renamed in layout order: the site, its copy, the
            // return site.
            let cont = f.entries[1].1;
            let Terminator::Jump(copy) = f.blocks[site].term else {
                panic!("the call site jumps to the copy");
            };
            assert!(matches!(f.blocks[copy].term, Terminator::Jump(t) if t == cont));
            assert!(writes(&f, copy, 1));
            assert_eq!(writes(&f, site, 30), strict, "the BL's X30 write");
            assert_eq!(reads(&f, copy, 30), strict, "the return's X30 read");
            assert_eq!(f.entries[1].0, 0x1004, "the return site stays an entry");
            assert_eq!(f.blocks[cont].pc, 0x1004);
        }
    }

    /// 0x9000 returns when X0 is non-zero (0x9004), else tail-calls 0xa000
    /// (0x9008): the tail call becomes a call of 0xa000 returning to the
    /// site, with X30 written first.
    #[test]
    fn a_tail_call_in_a_copy_returns_to_the_site() {
        let (mut leaf, lb) = function(0x9000, 3);
        branch(&mut leaf, lb[0], lb[1], lb[2]);
        ret(&mut leaf, lb[1]);
        leaf.builder(lb[2])
            .terminate(Terminator::TailCall { target: 0xa000 });
        let (slow, _) = function(0xa000, 1);
        let callees = Copyable::new(&[leaf.clone(), slow]);
        let (mut f, [site, _]) = caller();
        inline_calls(&mut f, &callees, false);
        verify(&f).expect("valid IR");
        let cont = f.entries[1].1;
        let calls: Vec<Block> = f
            .blocks
            .iter()
            .filter(|(_, d)| {
                matches!(d.term, Terminator::Call { target: 0xa000, ret: 0x1004, cont: c } if c == cont)
            })
            .map(|(b, _)| b)
            .collect();
        assert_eq!(calls.len(), 1);
        assert!(writes(&f, calls[0], 30), "X30 holds the return address");
        assert!(!matches!(f.blocks[site].term, Terminator::Call { .. }));
        // A tail call to what is not a function start keeps the leaf out.
        let (mut cold, _) = function(0xa000, 1);
        cold.aapcs_entry = false;
        assert!(Copyable::new(&[leaf, cold]).is_empty());
    }

    /// 0x1000 tail-calls 0x9000, which copies X0 to X1 and returns: the
    /// copy, right after the site, returns to X30 as the callee did.
    #[test]
    fn a_leaf_tail_called_returns_as_it_did() {
        let callees = Copyable::new(&[copy_x0_to_x1()]);
        let (mut f, b) = function(0x1000, 2);
        f.builder(b[0])
            .terminate(Terminator::TailCall { target: 0x9000 });
        ret(&mut f, b[1]);
        inline_calls(&mut f, &callees, false);
        verify(&f).expect("valid IR");
        let copy = Block::new(1);
        assert!(matches!(f.blocks[b[0]].term, Terminator::Jump(t) if t == copy));
        assert!(writes(&f, copy, 1) && reads(&f, copy, 30));
        assert!(matches!(f.blocks[copy].term, Terminator::Return { .. }));
        assert_eq!(
            f.blocks[Block::new(2)].pc,
            0x1004,
            "the caller's block follows"
        );
    }

    /// Loops and returns through a register other than X30 keep a
    /// function out of its callers; calls and writes of X30 make it a
    /// [`Kind::Caller`].
    #[test]
    fn what_is_copied_and_how() {
        let (mut looping, b) = function(0x9000, 1);
        branch(&mut looping, b[0], b[0], b[0]);
        let (mut ret_x1, b) = function(0x9300, 1);
        let mut bb = ret_x1.builder(b[0]);
        let target = bb.get_reg(Type::I64, 1);
        bb.terminate(Terminator::Return { target });
        assert!(Copyable::new(&[looping, ret_x1]).is_empty());
        let (mut lr, b) = function(0x9200, 1);
        let mut bb = lr.builder(b[0]);
        let v = bb.get_reg(Type::I64, 0);
        bb.set_reg(v, 30);
        ret(&mut lr, b[0]);
        let (mut leaf, b) = function(0x9400, 1);
        ret(&mut leaf, b[0]);
        let kinds = Copyable::new(&[calling(), lr, leaf]);
        let kind = |pc| kinds.by_entry[&pc].1;
        assert_eq!(
            [kind(0x9000), kind(0x9200), kind(0x9400)],
            [Kind::Caller, Kind::Caller, Kind::Leaf]
        );
    }

    /// 0x9000: `BL 0xa000` returning to 0x9004, which restores X30 from
    /// X19 (as an epilogue loads it from the stack) and returns.
    fn calling() -> Function {
        let (mut g, b) = function(0x9000, 2);
        bl(&mut g, b[0], 0xa000, 0x9004, b[1]);
        let mut bb = g.builder(b[1]);
        let saved = bb.get_reg(Type::I64, 19);
        bb.set_reg(saved, 30);
        ret(&mut g, b[1]);
        g
    }

    /// A function that calls is copied with the `BL`'s X30 write kept; its
    /// call stays a call whose return site is no entry of the caller, and
    /// its return goes to the site only when X30 holds the `BL`'s return
    /// address, else leaves through X30.
    #[test]
    fn a_caller_is_copied_with_its_return_checked() {
        let callees = Copyable::new(&[calling()]);
        for strict in [false, true] {
            let (mut f, [site, _]) = caller();
            inline_calls(&mut f, &callees, strict);
            verify(&f).expect("valid IR");
            assert!(writes(&f, site, 30), "the BL's X30 write stays");
            assert_eq!(f.entries.len(), 2, "no entry added");
            let cont = f.entries[1].1;
            let (call, inner) = f
                .blocks
                .iter()
                .find_map(|(b, d)| match d.term {
                    Terminator::Call {
                        target: 0xa000,
                        ret: 0x9004,
                        cont,
                    } => Some((b, cont)),
                    _ => None,
                })
                .expect("the copy's call");
            assert!(writes(&f, call, 30));
            let Terminator::Branch {
                then_to, else_to, ..
            } = f.blocks[inner].term
            else {
                panic!("the copied return branches");
            };
            assert_eq!(then_to, cont);
            assert!(reads(&f, else_to, 30));
            assert!(matches!(f.blocks[else_to].term, Terminator::Return { .. }));
        }
    }
}
