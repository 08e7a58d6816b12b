//! IR functions: blocks of instructions with typed terminators, and the
//! builder the lifter appends to.
//!
//! Invariants (checked by `verify`): every value is defined exactly once,
//! before its uses, in the same block (values never cross blocks: guest state
//! crosses blocks through get/set ops); every block has exactly one
//! terminator; entry 0 is the function's first instruction.

use cranelift_entity::{entity_impl, EntityRef, PrimaryMap};

use super::ops::Opcode;
use super::types::*;

/// An SSA value, local to one block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(u32);
entity_impl!(Value, "v");

/// A basic block.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block(u32);
entity_impl!(Block, "block");

macro_rules! define_imms {
    ($( $(#[$doc:meta])* $v:ident $( ($t:ty) )? ),* $(,)?) => {
        /// The immediate payload of an instruction; its kind is fixed per
        /// opcode by the op table.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Imm { $( $(#[$doc])* $v $( ($t) )? ),* }

        /// The kind of an [`Imm`], without payload.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ImmKind { $( $(#[$doc])* $v ),* }

        impl Imm {
            /// This payload's kind.
            pub fn kind(&self) -> ImmKind {
                match self { $( Imm::$v { .. } => ImmKind::$v ),* }
            }
        }
    };
}

define_imms! {
    /// No immediate.
    None,
    /// A register number.
    Reg(u8),
    /// A condition flag.
    Flag(Flag),
    /// A system register.
    Sys(SysReg),
    /// A 64-bit integer.
    U64(u64),
    /// A 128-bit integer.
    U128(u128),
    /// An integer predicate.
    IntCC(IntCC),
    /// A float predicate.
    FloatCC(FloatCC),
    /// A memory access description.
    Mem(MemAccess),
    /// An atomic read-modify-write and its access.
    Rmw((RmwOp, MemAccess)),
    /// A binary FP op.
    FBin(FBinOp),
    /// A rounding mode.
    Round(Round),
    /// FP-to-int: signedness and rounding.
    FcvtInt((bool, Round)),
    /// Signedness.
    Signed(bool),
    /// An FP estimate.
    FEst(FEst),
    /// A binary FP op on every lane of a float vector shape.
    VFBin((FBinOp, Lanes)),
    /// An FP compare on every lane of a float vector shape.
    VFCmp((FloatCC, Lanes)),
    /// A binary vector op and shape.
    VBin((VBinOp, Lanes)),
    /// A unary vector op and shape.
    VUn((VUnOp, Lanes)),
    /// A reduction and shape.
    VReduce((VReduceOp, Lanes)),
    /// A vector shift, shape and amount.
    VShift((VShiftOp, Lanes, u8)),
    /// A lane shape and index (or shift amount for `vshrn`).
    Lane((Lanes, u8)),
    /// A lane shape.
    Lanes(Lanes),
    /// A host implementation of a guest libc routine.
    Routine(Routine),
}

/// One instruction.
#[derive(Clone, Debug)]
pub struct InstData {
    /// What it does.
    pub op: Opcode,
    /// Result type (meaningless when the op has no result).
    pub ty: Type,
    /// Value operands; only the first `op.arity()` are used.
    pub args: [Value; 3],
    /// Immediate payload.
    pub imm: Imm,
    /// The defined value, when `op.has_result()`.
    pub result: Option<Value>,
    /// Guest address of the instruction this came from.
    pub pc: u64,
}

impl InstData {
    /// The used operands.
    pub fn operands(&self) -> &[Value] {
        &self.args[..self.op.arity()]
    }
}

/// Why a block traps.
#[derive(Clone, Debug, PartialEq)]
pub enum TrapKind {
    /// An instruction we cannot translate: its disassembly (or why).
    Undefined(String),
    /// BRK #imm.
    Brk(u16),
}

/// How a block ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Terminator {
    /// Not yet set (only while building).
    Unset,
    /// Unconditional jump within the function.
    Jump(Block),
    /// Conditional branch on an i8 0/1 value.
    Branch {
        /// The condition.
        cond: Value,
        /// Taken when `cond != 0`.
        then_to: Block,
        /// Taken otherwise.
        else_to: Block,
    },
    /// Direct call (BL): X30 was set by the block; control continues at
    /// `cont` when the callee returns to `ret`.
    Call {
        /// Callee entry.
        target: u64,
        /// The return address.
        ret: u64,
        /// Block of the return site.
        cont: Block,
    },
    /// Indirect call (BLR).
    CallIndirect {
        /// Callee address.
        target: Value,
        /// The return address.
        ret: u64,
        /// Block of the return site.
        cont: Block,
    },
    /// Tail call: a B to another function's entry.
    TailCall {
        /// Callee entry.
        target: u64,
    },
    /// Indirect jump (BR) that is not a recovered jump table.
    JumpIndirect {
        /// Target address.
        target: Value,
    },
    /// A recovered jump table: `targets[index]`, else `default`.
    JumpTable {
        /// Table index (i64).
        index: Value,
        /// Targets by index.
        targets: Vec<Block>,
        /// Taken for an out-of-range index.
        default: Block,
    },
    /// RET to the address in `target`.
    Return {
        /// Return address.
        target: Value,
    },
    /// SVC #0: the syscall runs, then control continues at `cont` (guest
    /// address `next`) unless the syscall redirected the PC.
    Syscall {
        /// Guest address after the SVC.
        next: u64,
        /// Its block.
        cont: Block,
    },
    /// Stop with a fault report.
    Trap {
        /// Guest address.
        pc: u64,
        /// Instruction word.
        word: u32,
        /// Why.
        kind: TrapKind,
    },
}

impl Terminator {
    /// Blocks this terminator can transfer to within the function.
    pub fn successors(&self) -> Vec<Block> {
        match self {
            Terminator::Jump(b) => vec![*b],
            Terminator::Branch {
                then_to, else_to, ..
            } => vec![*then_to, *else_to],
            Terminator::Call { cont, .. }
            | Terminator::CallIndirect { cont, .. }
            | Terminator::Syscall { cont, .. } => vec![*cont],
            Terminator::JumpTable {
                targets, default, ..
            } => {
                let mut v = targets.clone();
                v.push(*default);
                v
            }
            _ => Vec::new(),
        }
    }

    /// Replaces each block the terminator names by `map` of it.
    pub fn map_blocks(&mut self, map: impl Fn(Block) -> Block) {
        match self {
            Terminator::Jump(b) => *b = map(*b),
            Terminator::Branch {
                then_to, else_to, ..
            } => {
                *then_to = map(*then_to);
                *else_to = map(*else_to);
            }
            Terminator::Call { cont, .. }
            | Terminator::CallIndirect { cont, .. }
            | Terminator::Syscall { cont, .. } => *cont = map(*cont),
            Terminator::JumpTable {
                targets, default, ..
            } => {
                for t in targets.iter_mut() {
                    *t = map(*t);
                }
                *default = map(*default);
            }
            _ => {}
        }
    }

    /// Replaces each value the terminator uses by `map` of it.
    pub fn map_values(&mut self, map: impl Fn(Value) -> Value) {
        match self {
            Terminator::Branch { cond: v, .. }
            | Terminator::CallIndirect { target: v, .. }
            | Terminator::JumpIndirect { target: v }
            | Terminator::Return { target: v }
            | Terminator::JumpTable { index: v, .. } => *v = map(*v),
            _ => {}
        }
    }

    /// Values the terminator uses.
    pub fn operands(&self) -> Vec<Value> {
        match self {
            Terminator::Branch { cond, .. } => vec![*cond],
            Terminator::CallIndirect { target, .. }
            | Terminator::JumpIndirect { target }
            | Terminator::Return { target } => vec![*target],
            Terminator::JumpTable { index, .. } => vec![*index],
            _ => Vec::new(),
        }
    }
}

/// A basic block: instructions and a terminator.
#[derive(Clone, Debug)]
pub struct BlockData {
    /// Guest address of the block's first instruction (0 for synthetic
    /// blocks).
    pub pc: u64,
    /// The instructions.
    pub insts: Vec<InstData>,
    /// How it ends.
    pub term: Terminator,
}

/// A lifted guest function.
#[derive(Clone, Debug)]
pub struct Function {
    /// Display name (symbol or `sub_ADDR`).
    pub name: String,
    /// Guest entry address.
    pub entry_pc: u64,
    /// The entry is a function symbol's start (not a compiler-split `.cold`
    /// part, which ordinary branches enter) or, in a stripped program, a
    /// `BL` target: only AAPCS64 calls and tail calls reach it, so NZCV is
    /// dead there. False when unknown.
    pub aapcs_entry: bool,
    /// All blocks.
    pub blocks: PrimaryMap<Block, BlockData>,
    /// The type of each value.
    pub values: PrimaryMap<Value, Type>,
    /// Entry points: index `i` is entry index `i` of the host function.
    /// Entry 0 is the function start; the others are return sites and
    /// addresses the dispatcher may enter.
    pub entries: Vec<(u64, Block)>,
}

impl Function {
    /// An empty function.
    pub fn new(name: String, entry_pc: u64) -> Function {
        Function {
            name,
            entry_pc,
            aapcs_entry: false,
            blocks: PrimaryMap::new(),
            values: PrimaryMap::new(),
            entries: Vec::new(),
        }
    }

    /// The return sites of the function's calls (direct and indirect).
    pub fn call_returns(&self) -> rustc_hash::FxHashSet<Block> {
        self.blocks
            .values()
            .filter_map(|d| match d.term {
                Terminator::Call { cont, .. } | Terminator::CallIndirect { cont, .. } => Some(cont),
                _ => None,
            })
            .collect()
    }

    /// The entry points an indirect jump of the function continues at
    /// directly, with the guest state in variables (`lower::jump_local`):
    /// the addresses its code can reach by a computed `goto` (entries
    /// discovery found other than the function start and call return
    /// sites: labels whose address is taken). Any other target goes
    /// through the dispatcher, which enters the same code with the stored
    /// state, so this is only a shortcut.
    pub fn local_targets(&self) -> Vec<(u64, Block)> {
        let returns = self.call_returns();
        self.entries
            .iter()
            .skip(1)
            .filter(|e| !returns.contains(&e.1))
            .copied()
            .collect()
    }

    /// Removes the last write of X`reg` in `blk` (a `BL`'s write of its
    /// return address to X30 is its block's last); false if there is none.
    pub fn take_reg_write(&mut self, blk: Block, reg: u8) -> bool {
        let insts = &mut self.blocks[blk].insts;
        let Some(at) = insts
            .iter()
            .rposition(|i| i.op == Opcode::SetReg && i.imm == Imm::Reg(reg))
        else {
            return false;
        };
        insts.remove(at);
        true
    }

    /// Puts the blocks in `order` (a permutation of all of them), which is
    /// the order the backend lays them out in, renaming them to match.
    pub fn reorder(&mut self, order: &[Block]) {
        debug_assert_eq!(order.len(), self.blocks.len());
        let mut renamed = vec![Block::new(0); order.len()];
        for (i, b) in order.iter().enumerate() {
            renamed[b.index()] = Block::new(i);
        }
        let mut blocks = PrimaryMap::with_capacity(order.len());
        for b in order {
            let mut data = self.blocks[*b].clone();
            data.term.map_blocks(|t| renamed[t.index()]);
            blocks.push(data);
        }
        self.blocks = blocks;
        for e in &mut self.entries {
            e.1 = renamed[e.1.index()];
        }
    }

    /// Creates an empty block for guest address `pc`.
    pub fn create_block(&mut self, pc: u64) -> Block {
        self.blocks.push(BlockData {
            pc,
            insts: Vec::new(),
            term: Terminator::Unset,
        })
    }

    /// A builder appending to `block`.
    pub fn builder(&mut self, block: Block) -> Builder<'_> {
        Builder {
            func: self,
            block,
            pc: 0,
        }
    }
}

/// Appends instructions to one block.
pub struct Builder<'f> {
    /// The function being built.
    pub func: &'f mut Function,
    /// The block appended to.
    pub block: Block,
    /// Guest address recorded on new instructions.
    pub pc: u64,
}

impl Builder<'_> {
    fn push(&mut self, op: Opcode, ty: Type, args: &[Value], imm: Imm, result: Option<Value>) {
        let mut a = [Value::from_u32(0); 3];
        a[..args.len()].copy_from_slice(args);
        let pc = self.pc;
        self.func.blocks[self.block].insts.push(InstData {
            op,
            ty,
            args: a,
            imm,
            result,
            pc,
        });
    }

    /// Appends an op that defines a value of type `ty`.
    pub fn push_value(&mut self, op: Opcode, ty: Type, args: &[Value], imm: Imm) -> Value {
        let v = self.func.values.push(ty);
        self.push(op, ty, args, imm, Some(v));
        v
    }

    /// Appends an op without a result.
    pub fn push_effect(&mut self, op: Opcode, args: &[Value], imm: Imm) {
        self.push(op, Type::I64, args, imm, None);
    }

    /// Ends the block.
    pub fn terminate(&mut self, term: Terminator) {
        self.func.blocks[self.block].term = term;
    }

    /// Whether the block already has a terminator.
    pub fn is_terminated(&self) -> bool {
        self.func.blocks[self.block].term != Terminator::Unset
    }

    /// The type of a value.
    pub fn ty(&self, v: Value) -> Type {
        self.func.values[v]
    }
}
