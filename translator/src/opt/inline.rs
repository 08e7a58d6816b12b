//! Small leaf functions copied into their callers at `BL` sites.
//!
//! A `BL` to a translated function is a host call: the caller stores the
//! registers the callee may read, the callee loads them, stores what it
//! wrote and returns its next PC, which the caller checks before loading
//! the registers again. For a function of a few instructions (glibc's
//! `getc` fast path, a hash step, an accessor) that is most of its cost.
//!
//! A callee is copied when it is small ([`MAX_INSTS`], [`MAX_BLOCKS`]),
//! has no cycle, makes no call, syscall or indirect jump, tail-calls only
//! function starts (AAPCS64 entries), can be entered only at its start,
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
//! Copies are laid out right after their sites. A return site stays one of
//! the caller's entries, so the PC map is unchanged: code resumed inside a
//! copy (a signal handler returning to a faulting load) runs in the
//! callee's own translation and returns there through the dispatcher. A
//! copy has no safe point: it has no cycle.

use cranelift_entity::{EntityRef, SecondaryMap};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::ir::{Block, BlockData, Function, Imm, Opcode, Terminator, Type, Value};

/// Most IR instructions a copied callee may have.
const MAX_INSTS: usize = 64;

/// Most blocks a copied callee may have.
const MAX_BLOCKS: usize = 8;

/// Most IR instructions copies may add to one caller.
const MAX_GROWTH: usize = 4096;

/// The functions small and simple enough to copy, by entry address.
pub struct Leaves {
    by_entry: FxHashMap<u64, Function>,
}

impl Leaves {
    /// Picks the copyable functions of `funcs`.
    pub fn new(funcs: &[Function]) -> Leaves {
        let aapcs: FxHashSet<u64> = funcs
            .iter()
            .filter(|f| f.aapcs_entry)
            .map(|f| f.entry_pc)
            .collect();
        let by_entry = funcs
            .iter()
            .filter(|f| copyable(f, &aapcs))
            .map(|f| (f.entry_pc, f.clone()))
            .collect();
        Leaves { by_entry }
    }

    /// Whether there is nothing to copy.
    pub fn is_empty(&self) -> bool {
        self.by_entry.is_empty()
    }
}

/// Whether `f` may be copied into its callers (see the module doc), where
/// `aapcs` holds the AAPCS64 entries (`Function::aapcs_entry`).
fn copyable(f: &Function, aapcs: &FxHashSet<u64>) -> bool {
    f.entries.len() == 1
        && f.blocks.len() <= MAX_BLOCKS
        && size(f) <= MAX_INSTS
        && f.blocks.values().all(|d| {
            let term = match d.term {
                Terminator::Jump(_)
                | Terminator::Branch { .. }
                | Terminator::JumpTable { .. }
                | Terminator::Return { .. }
                | Terminator::Trap { .. } => true,
                Terminator::TailCall { target } => aapcs.contains(&target),
                _ => false,
            };
            term && !d
                .insts
                .iter()
                .any(|i| i.op == Opcode::SetReg && i.imm == Imm::Reg(30))
        })
        && acyclic(f)
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

/// Copies the [`Leaves`] that `f` calls (`BL`) or tail-calls (`B`) into
/// `f`, each copy laid out right after its site.
pub fn inline_calls(f: &mut Function, leaves: &Leaves, strict_abi: bool) {
    let sites: Vec<(Block, &Function, Exit)> = f
        .blocks
        .iter()
        .filter_map(|(b, d)| match d.term {
            Terminator::Call { target, ret, cont } => {
                Some((b, leaves.by_entry.get(&target)?, Exit::Site { ret, cont }))
            }
            Terminator::TailCall { target } => Some((b, leaves.by_entry.get(&target)?, Exit::Tail)),
            _ => None,
        })
        .filter(|(_, callee, _)| near(f.entry_pc, callee))
        .collect();
    if sites.is_empty() {
        return;
    }
    let n = f.blocks.len();
    let mut after: Vec<Vec<Block>> = vec![Vec::new(); n];
    let mut budget = MAX_GROWTH;
    for (site, callee, exit) in sites {
        let size = size(callee);
        if size > budget {
            break;
        }
        budget -= size;
        if matches!(exit, Exit::Site { .. }) && !strict_abi {
            f.take_reg_write(site, 30);
        }
        let first = f.blocks.len();
        let start = splice(f, callee, exit, strict_abi);
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

/// Appends a copy of `callee`'s blocks to `f`, its returns and tail calls
/// going where `exit` says; returns the copy of its entry block.
fn splice(f: &mut Function, callee: &Function, exit: Exit, strict_abi: bool) -> Block {
    let mut values: SecondaryMap<Value, Option<Value>> = SecondaryMap::new();
    for (v, ty) in callee.values.iter() {
        values[v] = Some(f.values.push(*ty));
    }
    let value = |v: Value| values[v].expect("every callee value is copied");
    let mut blocks: SecondaryMap<Block, Option<Block>> = SecondaryMap::new();
    for (b, data) in callee.blocks.iter() {
        blocks[b] = Some(f.create_block(data.pc));
    }
    let block = |b: Block| blocks[b].expect("every callee block is copied");
    for (b, data) in callee.blocks.iter() {
        let mut insts = data.insts.clone();
        for inst in &mut insts {
            let arity = inst.op.arity();
            for a in &mut inst.args[..arity] {
                *a = value(*a);
            }
            inst.result = inst.result.map(value);
        }
        let mut term = data.term.clone();
        term.map_blocks(block);
        term.map_values(value);
        let term = match (term, exit) {
            (Terminator::Return { target }, Exit::Site { cont, .. }) => {
                if !strict_abi {
                    drop_lr_read(&mut insts, target);
                }
                Terminator::Jump(cont)
            }
            (Terminator::TailCall { target }, Exit::Site { ret, cont }) => {
                Terminator::Call { target, ret, cont }
            }
            (term, _) => term,
        };
        let call = matches!(term, Terminator::Call { .. });
        let copy = block(b);
        f.blocks[copy] = BlockData {
            pc: data.pc,
            insts,
            term,
        };
        if let (true, Exit::Site { ret, .. }, false) = (call, exit, strict_abi) {
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

    /// 0x1000: `BL 0x9000`, returning to 0x1004, which returns.
    fn caller() -> (Function, [Block; 2]) {
        let (mut f, b) = function(0x1000, 2);
        f.entries.push((0x1004, b[1]));
        let mut bb = f.builder(b[0]);
        let lr = bb.iconst(Type::I64, 0x1004);
        bb.set_reg(lr, 30);
        bb.terminate(Terminator::Call {
            target: 0x9000,
            ret: 0x1004,
            cont: b[1],
        });
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
        let leaves = Leaves::new(&[copy_x0_to_x1()]);
        for strict in [false, true] {
            let (mut f, [site, _]) = caller();
            inline_calls(&mut f, &leaves, strict);
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
        let leaves = Leaves::new(&[leaf.clone(), slow]);
        let (mut f, [site, _]) = caller();
        inline_calls(&mut f, &leaves, false);
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
        assert!(Leaves::new(&[leaf, cold]).is_empty());
    }

    /// 0x1000 tail-calls 0x9000, which copies X0 to X1 and returns: the
    /// copy, right after the site, returns to X30 as the callee did.
    #[test]
    fn a_leaf_tail_called_returns_as_it_did() {
        let leaves = Leaves::new(&[copy_x0_to_x1()]);
        let (mut f, b) = function(0x1000, 2);
        f.builder(b[0])
            .terminate(Terminator::TailCall { target: 0x9000 });
        ret(&mut f, b[1]);
        inline_calls(&mut f, &leaves, false);
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

    /// Loops, calls and writes of X30 keep a function out of its callers.
    #[test]
    fn loops_calls_and_x30_writes_are_not_copied() {
        let (mut looping, b) = function(0x9000, 1);
        branch(&mut looping, b[0], b[0], b[0]);
        let (mut calling, b) = function(0x9100, 2);
        calling.builder(b[0]).terminate(Terminator::Call {
            target: 0x9000,
            ret: 0x9104,
            cont: b[1],
        });
        ret(&mut calling, b[1]);
        let (mut lr, b) = function(0x9200, 1);
        let mut bb = lr.builder(b[0]);
        let v = bb.get_reg(Type::I64, 0);
        bb.set_reg(v, 30);
        ret(&mut lr, b[0]);
        assert!(Leaves::new(&[looping, calling, lr]).is_empty());
    }
}
