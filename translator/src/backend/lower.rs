//! Lowering of one IR function to a Cranelift function.
//!
//! Guest registers, flags and vector registers are Cranelift `Variable`s.
//! They move to and from `CpuState` only where something outside the
//! function can observe them, and only as much as needed
//! ([`StateFlow`](super::state_flow)):
//! - stored at exits (calls, syscalls, returns, traps, safe points): only
//!   the registers written since the last point where variables and
//!   `CpuState` agreed; and on an edge into a forward merge, those written
//!   on that way in but not on every other ([`StateFlow::flushed`]);
//! - loaded at entry and resume points: only the registers live there
//!   (the call entry leaves some to the block where their uses start,
//!   [`entry_loads`]), after a call the callee-saved ones too, so any
//!   frame of the function may resume at the return address (an exception
//!   landing pad right after a `BL` to a noreturn function, in a recursive
//!   function: the `mtcxx-landing` fixture);
//! - flags: loaded where live on entry; not kept across calls and returns
//!   (AAPCS64 says NZCV is not preserved there) unless `strict_abi`.
//!
//! Registers the function uses little are not variables at all
//! (`mem_regs`, X and SIMD&FP registers): every read loads and every write
//! stores `CpuState`, except inside the call-free loops that use the X
//! ones most, where they are variables between the loop's entry and exit
//! edges (`loop_promote`).
//! Within a block, a read after a load or write of the same register
//! reuses that value, and a write that nothing reads back from `CpuState`
//! before the register is written again is not stored (`mem_live`).
//!
//! Calls: `BL` is a host call of the callee's translation; after it the
//! caller checks that the PC it returned (`GuestRet::pc`, in RDX) is the
//! return address and otherwise
//! returns to its own caller (longjmp, exceptions). A function that calls
//! checks at its entry, with the safe point, that the host stack pointer is
//! above `CpuState::stack_limit`, and otherwise leaves for the dispatcher,
//! which bounds the host stack. Indirect branches probe the calling
//! thread's code TLB (at `abi::OFF_TLB` from `CpuState`) inline.
//!
//! Safe points: the targets of the back edges of a depth-first search
//! ([`safepoint_blocks`]) and computed gotos test `CpuState::pending`; the
//! function entry (entry 0) compares the host stack pointer with
//! `CpuState::stack_limit` instead, which the runtime raises to `u64::MAX`
//! while a signal is pending (one test for both). A function that makes no
//! call or jump to other code skips the entry check: without its loops
//! (whose headers check) it runs a bounded number of instructions and
//! returns to a caller that checks again, and every cycle of calls passes
//! through functions that check; so a signal is still taken in bounded
//! time at no cost to small leaf functions. For the same reason, so do the
//! functions that only start short chains of direct calls and lie on no
//! cycle of them (`entry_check`). When the check fails, the
//! guest state is stored with `pc` = the point's guest address,
//! `vmx_safepoint` runs and the function returns to its caller; the
//! dispatcher continues at `pc` (redirected to a handler, or not). So that
//! the point can be entered again, loop headers and syscall continuations
//! are entry points ([`entry_points`]).
//!
//! Fault map: each guest memory access is lowered with its guest address as
//! the Cranelift source location (relative to the function entry, see
//! [`srcloc_pc`]), from which the backend emits the host-to-guest fault map.

use cranelift_codegen::ir::{
    self, condcodes::IntCC as ClCC, types, Block as ClBlock, InstBuilder, JumpTableData,
    MemFlagsData, SourceLoc, Value as ClValue,
};
use cranelift_entity::{EntityRef, SecondaryMap};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch, Variable};
use cranelift_module::{DataId, FuncId};
use rustc_hash::{FxHashMap, FxHashSet};
use vmxlate_abi as abi;

use super::entry_loads::{self, EntryLoads};
use super::env::{data_ref, func_ref, guest_sig, routine_sig, Env, Helper, HELPERS};
use super::loop_promote::{self, Promotion};
use super::loop_stores::BlockGraph;
use super::lower_fp::FpHost;
use super::mem_live;
use super::state_flow::{tail_call_flags, touch, StateFlow, Touch};
use super::{lower_fp, lower_int, lower_vec, lower_vfp};
use crate::ir::{Block, Function, Imm, Opcode, Routine, SysReg, Terminator, TrapKind, Value};

/// Flags for `CpuState` accesses: never trap, aligned.
fn cpu_mem() -> MemFlagsData {
    MemFlagsData::trusted().with_alias_region(Some(lower_int::cpu_region()))
}

/// Where a system register lives in `CpuState`: `(offset, is 32-bit)`;
/// `None` for CNTVCT_EL0, which is read through a helper.
fn sys_slot(s: SysReg) -> Option<(i32, bool)> {
    match s {
        SysReg::TpidrEl0 => Some((abi::OFF_TPIDR, false)),
        SysReg::Fpcr => Some((abi::OFF_FPCR, true)),
        SysReg::Fpsr => Some((abi::OFF_FPSR, true)),
        SysReg::ExclAddr => Some((abi::OFF_EXCL_ADDR, false)),
        SysReg::ExclVal => Some((abi::OFF_EXCL_VAL, false)),
        SysReg::ExclVal2 => Some((abi::OFF_EXCL_VAL2, false)),
        SysReg::CntvctEl0 => None,
    }
}

struct Lowerer<'a, 'b> {
    fb: FunctionBuilder<'b>,
    env: &'a Env<'a>,
    ir: &'a Function,
    cpu: ClValue,
    x: [Variable; 32],
    flags: [Variable; 4],
    v: [Variable; 32],
    /// The guest's FPCR, when the function has FP operations that read it
    /// (`uses_fpcr`): loaded with the registers at entry and resume points
    /// and after FPCR writes, the only places it can change.
    fpcr: Variable,
    /// The `CpuState` pointer as a variable: every guest call returns it,
    /// so the value from before a call is dead after it and never needs a
    /// host register or a spill slot across the call. `cpu` is its value
    /// at the point being lowered.
    cpu_var: Variable,
    uses_fpcr: bool,
    /// The function reads or writes FPSR.
    fpsr_access: bool,
    /// The function writes FPCR.
    fpcr_writes: bool,
    flow: StateFlow,
    /// Which registers the call entry leaves for later blocks to load.
    entry_loads: EntryLoads,
    /// Registers possibly written since the last sync point, at the
    /// instruction being lowered (see `state_flow`).
    dirty: u64,
    /// The values of the block's `CpuState`-resident registers
    /// ([`Self::in_memory`], [`Self::v_in_memory`]; V`n` at index 32 + n)
    /// as last loaded or stored in the block being lowered: a read after
    /// them reuses the value instead of loading again. Cranelift's alias
    /// analysis forwards a load only when no store to `CpuState` lies
    /// between, and a busy block stores several registers. Reset at each block and at every instruction that lets a
    /// helper write the registers ([`Touch::Sync`]).
    mem_seen: [Option<ClValue>; 64],
    /// Where the `CpuState`-resident registers are live
    /// ([`mem_live::liveness`]).
    mem_live: mem_live::MemLiveness,
    /// For each instruction of the block being lowered, whether it writes
    /// such a register that nothing reads from `CpuState` before it is
    /// written again ([`mem_live::dead_stores`]): the write only updates
    /// `mem_seen`.
    dead_store: Vec<bool>,
    /// The block and instruction index being lowered.
    at: (Block, usize),
    /// Whether FPCR.FZ is known to be clear where code is emitted (the
    /// fast copy of a block that tests it once, see [`tests_fz_once`]).
    fz_clear: bool,
    blocks: SecondaryMap<Block, Option<ClBlock>>,
    values: SecondaryMap<Value, Option<ClValue>>,
    loop_headers: SecondaryMap<Block, bool>,
    /// `CpuState`-resident registers held in variables in call-free loops.
    promo: Promotion,
    safepoints: SecondaryMap<Block, bool>,
    /// [`entry_points`] of `ir`, in entry-index order.
    entries: Vec<(u64, Block)>,
    /// Where computed gotos continue directly ([`Function::local_targets`]).
    local: Vec<(u64, Block)>,
    /// The dense table computed gotos use, if small enough: the lowest
    /// local target and the number of 4-byte slots up to the highest.
    local_table: Option<(u64, u64)>,
    refs: Refs,
    /// Prefetches emitted so far (each gets its own marker).
    prefetches: u32,
    /// The function calls no guest code ([`needs_entry_safepoint`] is
    /// false).
    leaf: bool,
    /// The function's entry checks the host stack and pending signals: it
    /// calls, and is not one of `Env::unchecked`.
    entry_check: bool,
}

/// External references already imported into the function being built.
#[derive(Default)]
struct Refs {
    helpers: [Option<ir::FuncRef>; HELPERS.len()],
    routines: [Option<ir::FuncRef>; Routine::ALL.len()],
    callees: FxHashMap<FuncId, ir::FuncRef>,
    guest_sig: Option<ir::SigRef>,
    data: FxHashMap<DataId, ir::GlobalValue>,
}

/// The function's reference to runtime helper `h`, imported once.
fn import_helper(
    func: &mut ir::Function,
    cache: &mut [Option<ir::FuncRef>; HELPERS.len()],
    env: &Env,
    h: Helper,
) -> ir::FuncRef {
    if let Some(r) = cache[h as usize] {
        return r;
    }
    let r = func_ref(func, env.helpers[h as usize], h.decl().1);
    cache[h as usize] = Some(r);
    r
}

/// What FP lowering sees of the function being built.
struct Host<'r, 'e> {
    cpu: ClValue,
    helpers: &'r mut [Option<ir::FuncRef>; HELPERS.len()],
    env: &'r Env<'e>,
    fpcr: Variable,
    fz_clear: bool,
    signals: bool,
}

impl FpHost for Host<'_, '_> {
    fn cpu(&self) -> ClValue {
        self.cpu
    }

    fn has_fma(&self) -> bool {
        self.env.host_fma
    }

    fn call(&mut self, fb: &mut FunctionBuilder, h: Helper, args: &[ClValue]) -> Option<ClValue> {
        let f = import_helper(fb.func, self.helpers, self.env, h);
        let call = fb.ins().call(f, args);
        fb.inst_results(call).first().copied()
    }

    fn fpcr(&mut self, fb: &mut FunctionBuilder) -> ClValue {
        fb.use_var(self.fpcr)
    }

    fn fz_clear(&self) -> bool {
        self.fz_clear
    }

    fn signals(&self) -> bool {
        self.signals
    }
}

/// Whether `op` is lowered by `lower_fp`.
fn is_scalar_fp(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::FBin
            | Opcode::Fsqrt
            | Opcode::Fneg
            | Opcode::Fabs
            | Opcode::Fma
            | Opcode::Fround
            | Opcode::Fcmp
            | Opcode::Fconvert
            | Opcode::FcvtToInt
            | Opcode::IntToF
            | Opcode::FEstimate
            | Opcode::HalfToF
            | Opcode::FToHalf
            | Opcode::Fjcvt
    )
}

/// Whether `op`'s lowering tests FPCR.FZ (arithmetic, compares,
/// conversions and rounding, scalar and vector).
fn tests_fz(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::FBin
            | Opcode::Fsqrt
            | Opcode::Fma
            | Opcode::Fround
            | Opcode::Fcmp
            | Opcode::Fconvert
            | Opcode::FcvtToInt
            | Opcode::FToHalf
            | Opcode::VFBin
            | Opcode::VFsqrt
            | Opcode::VFma
            | Opcode::VFCmp
            | Opcode::VFcvtToInt
    )
}

/// Whether a block tests FPCR.FZ once, at its start, and is lowered
/// twice: when it has at least two ops that test it and does not write
/// FPCR (which would change FZ inside it).
fn tests_fz_once(data: &crate::ir::BlockData) -> bool {
    let writes_fpcr = data
        .insts
        .iter()
        .any(|i| i.op == Opcode::SetSys && i.imm == Imm::Sys(SysReg::Fpcr));
    !writes_fpcr && data.insts.iter().filter(|i| tests_fz(i.op)).count() >= 2
}

/// Whether `op`'s lowering may read FPCR (FP arithmetic, conversions,
/// estimates and their vector forms).
fn reads_fpcr(op: Opcode) -> bool {
    is_scalar_fp(op) || is_vector_fp(op)
}

/// Whether `op` is lowered by `lower_vfp`.
fn is_vector_fp(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::VFBin
            | Opcode::VFsqrt
            | Opcode::VFma
            | Opcode::VFCmp
            | Opcode::VIntToF
            | Opcode::VFcvtToInt
    )
}

/// Most general registers a function keeps in variables when a loop of it
/// makes calls; the others live in `CpuState` (see [`mem_regs`]).
const VAR_REGS_CALLING: usize = 3;

/// The same for functions whose loops make no calls.
const VAR_REGS_LEAF_LOOPS: usize = 11;

/// Most SIMD&FP registers a function keeps in variables when a loop of it
/// makes calls; the others live in `CpuState` (see [`mem_regs`]).
const VAR_V_REGS_CALLING: usize = 1;

/// A loop without calls keeps its registers in variables when it uses at
/// most this many.
const PROTECTED_LOOP_REGS: usize = 7;

/// Functions whose loops call and that have more blocks than this protect
/// no loop's registers (see [`mem_regs`]).
const PROTECT_MAX_BLOCKS: usize = 1000;

/// The X registers that stay in `CpuState` for the whole function: when it
/// uses more than [`VAR_REGS_CALLING`] registers and calls inside a loop
/// (a function that may return: calls of `noreturn` entries such as
/// `abort` do not count), more than [`VAR_REGS_LEAF_LOOPS`] otherwise, the
/// least used ones, counting uses inside loops (blocks on a cycle) 16
/// times. Registers of a loop that makes no call stay variables whatever
/// their count, when that loop uses at most [`PROTECTED_LOOP_REGS`]
/// registers: there Cranelift keeps them in host registers and spills the
/// others around the loop (bzip2's sorting and coding loops ran 40% slower
/// in memory). Not in a function whose loops call and that has more than
/// [`PROTECT_MAX_BLOCKS`] blocks (an interpreter's dispatch loop): there a
/// protected register is a variable live across thousands of blocks and
/// calls, which the register allocator splits into many stack slots and
/// shuffles between them on edges (SQLite's `sqlite3VdbeExec` spent 43% of
/// its instructions on stack-slot moves; unprotected, it runs 26% fewer
/// instructions, while bzip2's `BZ2_compressBlock`, 448 blocks, runs 64%
/// more); `loop_promote` still holds the registers of its call-free loops
/// in variables.
///
/// Such a register costs a load per read and a store per write, but
/// nothing at calls, returns and entries, and takes no host register and no
/// spill slot. A variable costs a store at every call where it is dirty
/// and a load after it where it is live, and holds a host register between
/// calls. So where loops call, only the few busiest registers gain
/// from being variables (callgrind and timings on the bench workloads:
/// SQLite 38% and malloc 29% less time than with every register a
/// variable; three rather than four: lua 2.3% fewer instructions, SQLite
/// and malloc within 0.4%; rather than eight: lua 8.5%), while loops
/// without calls keep their registers in host registers (an interpreter
/// loop with 8 busy registers ran 50% slower with 5 variables). X30 and SP
/// stay variables. Inside call-free loops, `loop_promote` holds the
/// busiest of these in variables again.
///
/// In a function whose loops call, the SIMD&FP registers beyond the
/// busiest [`VAR_V_REGS_CALLING`] live in `CpuState` too (bits 32 + n of
/// the mask), and no loop promotes them. Most of them are temporaries of
/// a block: a 32-byte copy through Q0/Q1, a conversion through D0; as
/// variables, one written anywhere in an interpreter's handlers was dirty
/// at every later call (stored there, and loaded after it) and held in a
/// spill slot across host calls; in `CpuState` such a write costs one
/// store or none (`mem_live`). SQLite -2.0% instructions, busybox `awk`
/// -2.7% and `sort` -2.1%, lua -0.4%; libm +0.1% (its loop's
/// accumulators: with none kept, +3.5%; with two, SQLite gains half as
/// much), and a vectorized call-free loop inside a calling function pays
/// a load and a store per register and iteration (intloop +0.16%).
fn mem_regs(
    f: &Function,
    graph: &BlockGraph,
    free_loops: &[Vec<usize>],
    noreturn: &FxHashSet<u64>,
) -> u64 {
    // The X registers an instruction reads or writes.
    let x_regs = |inst: &crate::ir::InstData| match touch(inst) {
        Some(Touch::Read(m) | Touch::Write(m)) => m & 0xffff_ffff,
        _ => 0,
    };
    let cyclic = graph.cyclic_blocks();
    // Uses of X`n` at index n, of V`n` at 32 + n (the `touch` masks' bits).
    let mut weight = [0u64; 64];
    let mut loop_calls = false;
    for (b, data) in f.blocks.iter() {
        let in_loop = cyclic[b.index()];
        loop_calls |= in_loop
            && match data.term {
                Terminator::Call { target, .. } => !noreturn.contains(&target),
                Terminator::CallIndirect { .. } => true,
                _ => false,
            };
        let w = if in_loop { 16 } else { 1 };
        for inst in &data.insts {
            let m = match touch(inst) {
                Some(Touch::Read(m) | Touch::Write(m)) => m,
                _ => 0,
            };
            for (r, c) in weight.iter_mut().enumerate() {
                if m & (1 << r) != 0 {
                    *c += w;
                }
            }
        }
    }
    let protected = free_loops
        .iter()
        .filter(|_| !loop_calls || f.blocks.len() <= PROTECT_MAX_BLOCKS)
        .map(|l| {
            l.iter()
                .flat_map(|&b| f.blocks[Block::new(b)].insts.iter())
                .fold(0u64, |m, inst| m | x_regs(inst))
        })
        .filter(|m| m.count_ones() as usize <= PROTECTED_LOOP_REGS)
        .fold(0u64, |a, m| a | m);
    let keep = if loop_calls {
        VAR_REGS_CALLING
    } else {
        VAR_REGS_LEAF_LOOPS
    };
    let vmem = if loop_calls {
        let mut vused: Vec<usize> = (32..64).filter(|&r| weight[r] > 0).collect();
        vused.sort_by_key(|&r| weight[r]);
        let n = vused.len().saturating_sub(VAR_V_REGS_CALLING);
        vused[..n].iter().fold(0u64, |m, &r| m | 1 << r)
    } else {
        0
    };
    let mut used: Vec<usize> = (0..30)
        .filter(|&r| weight[r] > 0 && protected & (1 << r) == 0)
        .collect();
    if used.len() <= keep {
        return vmem;
    }
    used.sort_by_key(|&r| weight[r]);
    used[..used.len() - keep]
        .iter()
        .fold(vmem, |m, &r| m | 1 << r)
}

/// Blocks entered by a backward edge (by guest address): loop headers.
fn loop_headers(f: &Function) -> SecondaryMap<Block, bool> {
    let mut h = SecondaryMap::new();
    for (_, data) in f.blocks.iter() {
        for s in data.term.successors() {
            if f.blocks[s].pc != 0 && f.blocks[s].pc <= data.pc {
                h[s] = true;
            }
        }
    }
    h
}

/// The blocks that get a safe point: the targets of the back edges of a
/// depth-first search from the entries, over the edges that stay in the
/// function (calls continue at their return site) but not those of
/// computed gotos (`jump_local` checks for pending signals itself).
///
/// Every cycle passes one: removing the back edges of a depth-first search
/// leaves no cycle, and the target of a back edge lies on a cycle (it is
/// an ancestor of the edge's source). Only blocks on a cycle get one: a
/// safe point stores the registers that may be dirty there, so on the
/// paths where they are clean they must be loaded first (libm's `sin`
/// loaded 20 vector registers per call when a shared epilogue that later
/// code jumps back to had one). Headers by address would also put one on
/// every copy of an interpreter's dispatch that a handler placed before it
/// jumps back to.
///
/// The targets are real guest blocks: synthetic jump-table checks are
/// entered only from their table block, by a tree edge, and tail-call stubs
/// have no successor.
fn safepoint_blocks(f: &Function) -> SecondaryMap<Block, bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut mark: SecondaryMap<Block, Mark> = SecondaryMap::with_default(Mark::New);
    let mut sp = SecondaryMap::new();
    let roots = f.entries.iter().map(|e| e.1).chain(f.blocks.keys());
    for root in roots {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnStack;
        let mut stack = vec![(root, f.blocks[root].term.successors(), 0)];
        while let Some((b, succs, next)) = stack.last_mut() {
            let Some(&s) = succs.get(*next) else {
                mark[*b] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match mark[s] {
                Mark::New => {
                    mark[s] = Mark::OnStack;
                    stack.push((s, f.blocks[s].term.successors(), 0));
                }
                Mark::OnStack => {
                    debug_assert_ne!(f.blocks[s].pc, 0, "a back edge to a synthetic block");
                    sp[s] = true;
                }
                Mark::Done => {}
            }
        }
    }
    sp
}

/// Whether the function's entry checks for pending signals: only if it can
/// leave to other code other than by returning (calls, tail calls, indirect
/// jumps), since every cycle of calls passes through such functions; a
/// leaf's own loops have their header checks.
fn needs_entry_safepoint(f: &Function) -> bool {
    f.blocks.iter().any(|(_, data)| {
        matches!(
            data.term,
            Terminator::Call { .. }
                | Terminator::CallIndirect { .. }
                | Terminator::TailCall { .. }
                | Terminator::JumpIndirect { .. }
        )
    })
}

/// Every guest address at which the function can be entered, with its
/// block, in entry-index order: the IR's entries (function start first,
/// then call return sites), then syscall continuations and safe-point loop
/// headers not already listed (a signal handler returns there). The PC map
/// lists exactly these ([`lower_function`] returns them).
fn entry_points(f: &Function, sp: &SecondaryMap<Block, bool>) -> Vec<(u64, Block)> {
    let mut out = f.entries.clone();
    let mut seen: rustc_hash::FxHashSet<u64> = out.iter().map(|e| e.0).collect();
    for (b, data) in f.blocks.iter() {
        if let Terminator::Syscall { next, cont } = data.term {
            if seen.insert(next) {
                out.push((next, cont));
            }
        }
        if sp[b] && seen.insert(data.pc) {
            out.push((data.pc, b));
        }
    }
    out
}

/// Most 4-byte slots the dense tables of one function's computed gotos
/// may have in all (each slot is 4 bytes of host code per site).
const LOCAL_TABLE_SLOTS: u64 = 1 << 16;

/// Most slots per local target a dense table may have: sparser spans use a
/// compare tree.
const LOCAL_TABLE_DENSITY: u64 = 64;

/// The span `(lowest target, slots)` a dense computed-goto table covers,
/// when it is dense enough and the function's indirect jumps together stay
/// within [`LOCAL_TABLE_SLOTS`].
fn local_table(f: &Function, local: &[(u64, Block)]) -> Option<(u64, u64)> {
    let sites = f
        .blocks
        .values()
        .filter(|d| matches!(d.term, Terminator::JumpIndirect { .. }))
        .count() as u64;
    let lo = local.iter().map(|e| e.0).min()?;
    let hi = local.iter().map(|e| e.0).max()?;
    let slots = (hi - lo) / 4 + 1;
    let aligned = local.iter().all(|e| e.0 % 4 == 0);
    let dense = slots <= LOCAL_TABLE_DENSITY * local.len() as u64;
    (aligned && dense && slots * sites <= LOCAL_TABLE_SLOTS).then_some((lo, slots))
}

/// Where one arm of a branch on a select goes ([`split_select`]).
#[derive(Clone, Copy)]
enum Arm {
    /// Always to the branch's target (true) or its fall-back (false).
    To(bool),
    /// Where a test of the value sends it (the other way when negated).
    Test(ClValue, bool),
}

/// `c` as `select(s, p, q)` where `p` or `q` is a constant, seen through
/// `bxor` with 1 (negations of 0/1 values): the selector and where each arm
/// goes. None for any other condition.
fn split_select(dfg: &ir::DataFlowGraph, mut c: ClValue) -> Option<(ClValue, [Arm; 2])> {
    let mut negated = false;
    loop {
        let ir::ValueDef::Result(inst, 0) = dfg.value_def(c) else {
            return None;
        };
        match dfg.insts[inst] {
            ir::InstructionData::Binary {
                opcode: ir::Opcode::Bxor,
                args: [arg, one],
            } if constant(dfg, one) == Some(1) => {
                negated = !negated;
                c = arg;
            }
            ir::InstructionData::Ternary {
                opcode: ir::Opcode::Select,
                args: [s, p, q],
            } => {
                let arm = |v: ClValue| match constant(dfg, v) {
                    Some(k) if k <= 1 => Some(Arm::To((k == 1) != negated)),
                    Some(_) => None,
                    None if !negated || boolean(dfg, v) => Some(Arm::Test(v, negated)),
                    None => None,
                };
                let (p, q) = (arm(p)?, arm(q)?);
                if matches!((p, q), (Arm::Test(..), Arm::Test(..))) {
                    return None;
                }
                return Some((s, [p, q]));
            }
            _ => return None,
        }
    }
}

/// The value of `v` when an `iconst` defines it.
fn constant(dfg: &ir::DataFlowGraph, v: ClValue) -> Option<u64> {
    match dfg.value_def(v) {
        ir::ValueDef::Result(inst, 0) => match dfg.insts[inst] {
            ir::InstructionData::UnaryImm {
                opcode: ir::Opcode::Iconst,
                imm,
            } => Some(imm.bits() as u64),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `v` is 0 or 1 by construction (a compare's result), so that
/// `bxor` with 1 negates it.
fn boolean(dfg: &ir::DataFlowGraph, v: ClValue) -> bool {
    match dfg.value_def(v) {
        ir::ValueDef::Result(inst, 0) => matches!(
            dfg.insts[inst].opcode(),
            ir::Opcode::Icmp | ir::Opcode::Fcmp
        ),
        _ => false,
    }
}

/// The source location that marks a memory access at guest address `pc`
/// in the function entered at `entry`.
fn srcloc(entry: u64, pc: u64) -> SourceLoc {
    SourceLoc::new(pc.wrapping_sub(entry) as u32)
}

/// The guest address a source location from [`srcloc`] stands for (none
/// for a prefetch's, see [`super::prefetch`]).
pub fn srcloc_pc(entry: u64, loc: SourceLoc) -> Option<u64> {
    if loc.is_default() || super::prefetch::is_marker(loc) {
        None
    } else {
        Some(entry.wrapping_add(loc.bits() as i32 as i64 as u64))
    }
}

/// Builds `out` (already given the guest signature and name) from `ir`.
/// Returns the guest addresses it can be entered at, in entry-index order
/// (the rows of the PC map).
pub fn lower_function(
    ir: &Function,
    env: &Env,
    out: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
) -> Vec<u64> {
    out.signature = guest_sig();
    lower_int::declare_regions(out);
    let mut fb = FunctionBuilder::new(out, fctx);
    let entry = fb.create_block();
    fb.append_block_params_for_function_params(entry);
    fb.switch_to_block(entry);
    let cpu = fb.block_params(entry)[0];
    let entry_idx = fb.block_params(entry)[1];
    let x = std::array::from_fn(|_| fb.declare_var(types::I64));
    let flags = std::array::from_fn(|_| fb.declare_var(types::I8));
    let v = std::array::from_fn(|_| fb.declare_var(types::I8X16));
    let fpcr = fb.declare_var(types::I32);
    let cpu_var = fb.declare_var(types::I64);
    fb.def_var(cpu_var, cpu);
    let local = ir.local_targets();
    let graph = BlockGraph::new(ir, &local);
    let safepoints = safepoint_blocks(ir);
    let entries = entry_points(ir, &safepoints);
    let free_loops = graph.call_free_loops();
    let mem = mem_regs(ir, &graph, &free_loops, env.noreturn);
    let flow = StateFlow::new(
        ir,
        &graph,
        &safepoints,
        env.strict_abi,
        env.aapcs_entries,
        mem,
    );
    if cfg!(debug_assertions) {
        flow.check(ir, &entries, &graph, &safepoints);
    }
    let mem_live = mem_live::liveness(ir, &graph, &flow);
    let resumes: Vec<Block> = entries.iter().skip(1).map(|e| e.1).collect();
    let entry_loads = entry_loads::place(ir, &graph, &flow, entries[0].1, &resumes);
    let leaf = !needs_entry_safepoint(ir);
    let mut l = Lowerer {
        fb,
        env,
        ir,
        cpu,
        x,
        flags,
        v,
        fpcr,
        cpu_var,
        uses_fpcr: ir
            .blocks
            .values()
            .any(|d| d.insts.iter().any(|i| reads_fpcr(i.op))),
        fpsr_access: ir.blocks.values().any(|d| {
            d.insts.iter().any(|i| {
                matches!(
                    (i.op, i.imm),
                    (Opcode::GetSys | Opcode::SetSys, Imm::Sys(SysReg::Fpsr))
                )
            })
        }),
        fpcr_writes: ir.blocks.values().any(|d| {
            d.insts
                .iter()
                .any(|i| matches!((i.op, i.imm), (Opcode::SetSys, Imm::Sys(SysReg::Fpcr))))
        }),
        flow,
        entry_loads,
        dirty: 0,
        mem_seen: [None; 64],
        mem_live,
        dead_store: Vec::new(),
        at: (Block::from_u32(0), 0),
        fz_clear: false,
        blocks: SecondaryMap::new(),
        values: SecondaryMap::new(),
        loop_headers: loop_headers(ir),
        // Only X registers are promoted (see `mem_regs`).
        promo: loop_promote::promote(ir, &free_loops, mem & 0xffff_ffff),
        safepoints,
        local_table: local_table(ir, &local),
        local,
        entries,
        refs: Refs::default(),
        prefetches: 0,
        leaf,
        entry_check: !leaf && !env.unchecked.contains(&ir.entry_pc),
    };
    for b in ir.blocks.keys() {
        let cb = l.fb.create_block();
        l.blocks[b] = Some(cb);
    }
    l.entry_switch(entry_idx);
    for b in ir.blocks.keys() {
        l.lower_block(b);
    }
    l.fb.seal_all_blocks();
    l.fb.finalize(super::isa::frontend_config());
    l.entries.iter().map(|e| e.0).collect()
}

impl Lowerer<'_, '_> {
    fn block(&self, b: Block) -> ClBlock {
        self.blocks[b].expect("every IR block has a Cranelift block")
    }

    /// Returns from the translated function with the `CpuState` pointer
    /// and the next guest PC, as [`vmxlate_abi::GuestFn`] does: `pc`, or
    /// when it is `None` (after a helper that may have redirected the
    /// guest), the one in `CpuState`.
    fn ret(&mut self, pc: Option<ClValue>) {
        let pc = pc.unwrap_or_else(|| self.cpu_load(types::I64, abi::OFF_PC));
        let cpu = self.cpu;
        self.fb.ins().return_(&[cpu, pc]);
    }

    /// Takes the `CpuState` pointer a guest function or the dispatcher
    /// returned from `call`, and returns the next guest PC it returned.
    fn cpu_from(&mut self, call: ir::Inst) -> ClValue {
        let (cpu, pc) = (self.fb.inst_results(call)[0], self.fb.inst_results(call)[1]);
        self.fb.def_var(self.cpu_var, cpu);
        self.cpu = cpu;
        pc
    }

    fn cpu_load(&mut self, ty: types::Type, off: i32) -> ClValue {
        self.fb.ins().load(ty, cpu_mem(), self.cpu, off)
    }

    fn cpu_store(&mut self, v: ClValue, off: i32) {
        self.fb.ins().store(cpu_mem(), v, self.cpu, off);
    }

    /// Loads the registers in `regs` (see `state_flow`) and the flags in
    /// `flag_mask` from `CpuState` into the variables.
    fn reload(&mut self, regs: u64, flag_mask: u8) {
        self.load_regs(regs);
        for i in 0..4 {
            if flag_mask & (1 << i) != 0 {
                let val = self.cpu_load(types::I8, abi::OFF_NZCV + i as i32);
                self.fb.def_var(self.flags[i], val);
            }
        }
        if self.uses_fpcr {
            let val = self.cpu_load(types::I32, abi::OFF_FPCR);
            self.fb.def_var(self.fpcr, val);
        }
    }

    /// Loads the registers in `regs` from `CpuState` into the variables.
    fn load_regs(&mut self, regs: u64) {
        for r in 0..32 {
            if regs & (1 << r) != 0 {
                let val = self.cpu_load(types::I64, abi::OFF_X + 8 * r as i32);
                self.fb.def_var(self.x[r], val);
            }
            if regs & (1 << (32 + r)) != 0 {
                let val = self.cpu_load(types::I8X16, abi::OFF_V + 16 * r as i32);
                self.fb.def_var(self.v[r], val);
            }
        }
    }

    /// Stores the dirty registers and the flags in `flag_mask` back.
    fn spill(&mut self, flag_mask: u8) {
        self.store_regs(self.dirty, flag_mask);
    }

    /// At the exit ending the block being lowered: stores what
    /// [`StateFlow::exit_stores`] says (the dirty registers someone may
    /// read after it) and the flags in `flag_mask`.
    fn exit_spill(&mut self, flag_mask: u8) {
        let regs = self.dirty & self.flow.exit_stores(self.ir, self.at.0);
        self.store_regs(regs, flag_mask);
    }

    /// Stores the registers in `regs` and the flags in `flag_mask`.
    fn store_regs(&mut self, regs: u64, flag_mask: u8) {
        for r in 0..32 {
            if regs & (1 << r) != 0 {
                let val = self.fb.use_var(self.x[r]);
                self.cpu_store(val, abi::OFF_X + 8 * r as i32);
            }
            if regs & (1 << (32 + r)) != 0 {
                let val = self.fb.use_var(self.v[r]);
                self.cpu_store(val, abi::OFF_V + 16 * r as i32);
            }
        }
        for i in 0..4 {
            if flag_mask & (1 << i) != 0 {
                let val = self.fb.use_var(self.flags[i]);
                self.cpu_store(val, abi::OFF_NZCV + i as i32);
            }
        }
    }

    /// Whether X`r` is read and written in `CpuState` in the block being
    /// lowered: one of the function's [`mem_regs`] not promoted there.
    fn in_memory(&self, r: u8) -> bool {
        (self.flow.mem & !self.promo.held[self.at.0]) & (1 << r) != 0
    }

    /// Whether V`r` is read and written in `CpuState`: one of the
    /// function's [`mem_regs`] (no loop promotes them).
    fn v_in_memory(&self, r: u8) -> bool {
        self.flow.mem & (1 << (32 + r)) != 0
    }

    /// Stores the promoted registers in `regs` from their variables.
    fn store_promoted(&mut self, regs: u64) {
        for r in (0..32).filter(|r| regs & (1 << r) != 0) {
            let val = self.fb.use_var(self.x[r]);
            self.cpu_store(val, abi::OFF_X + 8 * r as i32);
        }
    }

    /// Loads the promoted registers in `regs` into their variables.
    fn load_promoted(&mut self, regs: u64) {
        for r in (0..32).filter(|r| regs & (1 << r) != 0) {
            let val = self.cpu_load(types::I64, abi::OFF_X + 8 * r as i32);
            self.fb.def_var(self.x[r], val);
        }
    }

    /// The promoted registers the edge from `b` to `t` stores: those `b`'s
    /// loop wrote that `t` does not hold ([`Promotion::stores`]) and that
    /// are live there (the others nothing reads from `CpuState`).
    fn promoted_stores(&self, b: Block, t: Block) -> u64 {
        self.promo.stores(b, t) & self.mem_live.live_in[t]
    }

    /// What the edge from `b` to `t` does for promoted registers: stores
    /// [`Self::promoted_stores`], then loads those `t` holds that `b` does
    /// not (see `loop_promote`).
    fn promoted_edge(&mut self, b: Block, t: Block) {
        self.store_promoted(self.promoted_stores(b, t));
        self.load_promoted(self.promo.loads(b, t));
    }

    fn exit_flags(&self) -> u8 {
        if self.env.strict_abi {
            0xf
        } else {
            0
        }
    }

    fn resume_flags(&self, b: Block) -> u8 {
        self.flow.flags_live_in[b] | self.exit_flags()
    }

    fn entry_switch(&mut self, entry_idx: ClValue) {
        let mut targets = Vec::new();
        for (pc, b) in self.entries.clone() {
            let eb = self.fb.create_block();
            targets.push((eb, pc, b));
        }
        if targets.len() == 1 {
            self.fb.ins().jump(targets[0].0, &[]);
        } else {
            let pool = &mut self.fb.func.dfg.value_lists;
            let calls: Vec<_> = targets
                .iter()
                .map(|(eb, _, _)| ir::BlockCall::new(*eb, [], pool))
                .collect();
            // The default is a call of its own (a shared one would get
            // block arguments appended twice).
            let def = ir::BlockCall::new(targets[0].0, [], pool);
            let jt = JumpTableData::new(def, &calls);
            let jt = self.fb.create_jump_table(jt);
            // Calls enter at 0: test for it before the table dispatch.
            let table = self.fb.create_block();
            self.fb.set_cold_block(table);
            self.fb.ins().brif(entry_idx, table, &[], targets[0].0, &[]);
            self.fb.switch_to_block(table);
            self.fb.ins().br_table(entry_idx, jt);
        }
        for (i, (eb, pc, b)) in targets.into_iter().enumerate() {
            self.fb.switch_to_block(eb);
            if i > 0 {
                // Entered from the dispatcher only: out of the way of the
                // call entry, which falls through into the function.
                self.fb.set_cold_block(eb);
            }
            let cpu = self.cpu;
            self.fb.def_var(self.cpu_var, cpu);
            if i == 0 && self.entry_check {
                // Function entry: every register is in CpuState already.
                self.safepoint(pc, None);
            }
            let mask = self.resume_flags(b);
            let live = self.flow.live_in[b];
            let live = if i == 0 {
                // The call entry: some loads wait for the block that needs them.
                live & !self.entry_loads.sunk
            } else {
                live
            };
            self.reload(live, mask);
            let held = self.promo.held[b];
            self.load_promoted(held);
            let target = self.block(b);
            self.fb.ins().jump(target, &[]);
        }
    }

    fn lower_block(&mut self, b: Block) {
        let cb = self.block(b);
        self.fb.switch_to_block(cb);
        self.cpu = self.fb.use_var(self.cpu_var);
        self.load_regs(self.entry_loads.at_block[b]);
        if self.loop_headers[b] {
            // Guest memory may change between iterations (other threads,
            // signal handlers): no load is reused across a back edge.
            self.fb.ins().sequence_point();
        }
        let data = &self.ir.blocks[b];
        self.dirty = self.flow.dirty_in[b];
        self.at = (b, 0);
        if self.safepoints[b] {
            let mask = self.resume_flags(b);
            self.safepoint(data.pc, Some(mask));
        }
        if !tests_fz_once(data) {
            self.lower_body(b);
            return;
        }
        // FPCR.FZ is tested once here instead of at each op: the block is
        // lowered twice, for FZ clear and (cold) for FZ set.
        let fpcr = self.fb.use_var(self.fpcr);
        let fz = self.fb.ins().band_imm_u(fpcr, i64::from(abi::FPCR_FZ));
        let clear = self.fb.create_block();
        let set = self.fb.create_block();
        self.fb.set_cold_block(set);
        self.fb.ins().brif(fz, set, &[], clear, &[]);
        let dirty = self.dirty;
        self.fb.switch_to_block(clear);
        self.fz_clear = true;
        self.lower_body(b);
        self.fz_clear = false;
        self.fb.switch_to_block(set);
        self.cpu = self.fb.use_var(self.cpu_var);
        self.dirty = dirty;
        self.lower_body(b);
    }

    /// Lowers the instructions and the terminator of block `b`.
    fn lower_body(&mut self, b: Block) {
        let data = &self.ir.blocks[b];
        self.mem_seen = [None; 64];
        self.dead_store =
            mem_live::dead_stores(&data.insts, self.flow.mem, self.mem_live.live_out[b]);
        for (i, inst) in data.insts.iter().enumerate() {
            self.at = (b, i);
            if touch(inst) == Some(Touch::Sync) {
                self.mem_seen = [None; 64];
            }
            let loc = match inst.op {
                Opcode::Load | Opcode::Store | Opcode::Cas | Opcode::AtomicRmw | Opcode::DcZva => {
                    srcloc(self.ir.entry_pc, inst.pc)
                }
                _ => SourceLoc::default(),
            };
            self.fb.set_srcloc(loc);
            let args: Vec<ClValue> = inst
                .operands()
                .iter()
                .map(|v| self.values[*v].expect("operand defined earlier in the block"))
                .collect();
            if let Some(r) = inst.result {
                let val = self.lower_value(inst, &args);
                self.values[r] = Some(val);
            } else {
                self.lower_effect(inst, &args);
            }
        }
        self.fb.set_srcloc(SourceLoc::default());
        let hoisted = self.flow.pre_stored[b];
        if hoisted != 0 {
            self.store_regs(hoisted, 0);
            self.dirty &= !hoisted;
        }
        self.at = (b, data.insts.len());
        self.lower_term(&data.term);
    }

    /// The check at a safe point whose guest address is `pc` (an entry
    /// point). At a loop header (`spill` = the flags live there) it tests
    /// `CpuState::pending`, and the dirty registers are stored first on
    /// the slow path. At the function entry (`None`) the registers are all
    /// in `CpuState` already, and the host stack pointer is compared with
    /// `CpuState::stack_limit`, which bounds nested host calls and is
    /// `u64::MAX` while a signal is pending ([`Self::must_stop`]). The slow
    /// path always leaves the function after `vmx_safepoint`: the
    /// dispatcher then enters `pc` again (at the bottom of the host stack),
    /// or the handler a delivered signal redirected to. So the fast path is
    /// one load, one compare and one branch to a cold block per check, with
    /// no merge back into it.
    fn safepoint(&mut self, pc: u64, spill: Option<u8>) {
        let slow = self.fb.create_block();
        let go_on = self.fb.create_block();
        let stop = match spill {
            None => self.must_stop(),
            Some(_) => self.cpu_load(types::I32, abi::OFF_PENDING),
        };
        self.fb.ins().brif(stop, slow, &[], go_on, &[]);
        self.fb.set_cold_block(slow);
        self.fb.switch_to_block(slow);
        if let Some(mask) = spill {
            let regs = self.flow.safepoint_stores(self.at.0);
            self.store_regs(regs, mask);
            let b = self.at.0;
            self.store_promoted(self.promo.written[b] & self.mem_live.live_in[b]);
        }
        let pcv = self.fb.ins().iconst(types::I64, pc as i64);
        self.leave_at_safepoint(pcv);
        self.fb.switch_to_block(go_on);
    }

    /// The slow path of a safe point, once the guest state is stored:
    /// `vmx_safepoint` with `CpuState::pc` = `pc`, then back to the
    /// dispatcher with the PC it returns. A function that makes no call
    /// also returns the `CpuState` pointer it returns, so that no host
    /// register keeps the pointer across this call and Cranelift need not
    /// save a callee-saved one for it (callgrind: zstd -4.6%
    /// instructions). Where the function calls, it returns its own, which
    /// keeps the pointer in a callee-saved register all through the
    /// function: else Cranelift spilled it in busy loops (interp +9.5%,
    /// lua +2.7%).
    fn leave_at_safepoint(&mut self, pc: ClValue) {
        self.store_pc(pc);
        let f = self.helper(Helper::Safepoint);
        let cpu = self.cpu;
        let call = self.fb.ins().call(f, &[cpu]);
        let (cpu_back, pc) = (self.fb.inst_results(call)[0], self.fb.inst_results(call)[1]);
        let cpu = if self.leaf { cpu_back } else { cpu };
        self.fb.ins().return_(&[cpu, pc]);
    }

    fn lower_value(&mut self, inst: &crate::ir::InstData, args: &[ClValue]) -> ClValue {
        match (inst.op, inst.imm) {
            (Opcode::GetReg, Imm::Reg(r)) if self.in_memory(r) => {
                if let Some(v) = self.mem_seen[r as usize] {
                    return v;
                }
                let v = self.cpu_load(types::I64, abi::OFF_X + 8 * r as i32);
                self.mem_seen[r as usize] = Some(v);
                v
            }
            (Opcode::GetReg, Imm::Reg(r)) => self.fb.use_var(self.x[r as usize]),
            (Opcode::GetFlag, Imm::Flag(f)) => self.fb.use_var(self.flags[f.index()]),
            (Opcode::GetV, Imm::Reg(r)) if self.v_in_memory(r) => {
                let i = 32 + r as usize;
                if let Some(v) = self.mem_seen[i] {
                    return v;
                }
                let v = self.cpu_load(types::I8X16, abi::OFF_V + 16 * r as i32);
                self.mem_seen[i] = Some(v);
                v
            }
            (Opcode::GetV, Imm::Reg(r)) => self.fb.use_var(self.v[r as usize]),
            (Opcode::GetSys, Imm::Sys(SysReg::Fpsr)) => {
                let f = self.helper(Helper::GetFpsr);
                let cpu = self.cpu;
                let call = self.fb.ins().call(f, &[cpu]);
                self.fb.inst_results(call)[0]
            }
            (Opcode::GetSys, Imm::Sys(s)) => match sys_slot(s) {
                Some((off, narrow)) => {
                    let v = self.cpu_load(if narrow { types::I32 } else { types::I64 }, off);
                    lower_int::resize(&mut self.fb, v, types::I64, false)
                }
                None => {
                    let f = self.helper(Helper::Cntvct);
                    let call = self.fb.ins().call(f, &[]);
                    self.fb.inst_results(call)[0]
                }
            },
            (Opcode::LibCall, Imm::Routine(r)) => {
                let f = self.routine(r);
                let call = self.fb.ins().call(f, args);
                self.fb.inst_results(call)[0]
            }
            _ => {
                let signals = !self.quiet_compare(inst);
                let mut host = Host {
                    cpu: self.cpu,
                    helpers: &mut self.refs.helpers,
                    env: self.env,
                    fpcr: self.fpcr,
                    fz_clear: self.fz_clear,
                    signals,
                };
                if let Some(v) = lower_int::lower(&mut self.fb, inst, args) {
                    v
                } else if is_scalar_fp(inst.op) {
                    lower_fp::lower(&mut self.fb, &mut host, inst, args)
                } else if is_vector_fp(inst.op) {
                    lower_vfp::lower(&mut self.fb, &mut host, inst, args)
                } else {
                    lower_vec::lower(&mut self.fb, inst, args)
                }
            }
        }
    }

    fn lower_effect(&mut self, inst: &crate::ir::InstData, args: &[ClValue]) {
        match (inst.op, inst.imm) {
            (Opcode::SetReg, Imm::Reg(r)) if self.in_memory(r) => {
                if !self.dead_store[self.at.1] {
                    self.cpu_store(args[0], abi::OFF_X + 8 * r as i32);
                }
                self.mem_seen[r as usize] = Some(args[0]);
            }
            (Opcode::SetReg, Imm::Reg(r)) if self.flow.mem & (1 << r) != 0 => {
                // Promoted in this loop: the variable, stored on the way out.
                self.fb.def_var(self.x[r as usize], args[0]);
            }
            (Opcode::SetReg, Imm::Reg(r)) => {
                self.dirty |= 1 << r;
                self.fb.def_var(self.x[r as usize], args[0]);
            }
            (Opcode::SetFlag, Imm::Flag(f)) => self.fb.def_var(self.flags[f.index()], args[0]),
            (Opcode::SetV, Imm::Reg(r)) if self.v_in_memory(r) => {
                if !self.dead_store[self.at.1] {
                    self.cpu_store(args[0], abi::OFF_V + 16 * r as i32);
                }
                self.mem_seen[32 + r as usize] = Some(args[0]);
            }
            (Opcode::SetV, Imm::Reg(r)) => {
                self.dirty |= 1 << (32 + r);
                self.fb.def_var(self.v[r as usize], args[0]);
            }
            (Opcode::SetSys, Imm::Sys(s @ (SysReg::Fpcr | SysReg::Fpsr))) => {
                let h = if s == SysReg::Fpcr {
                    Helper::SetFpcr
                } else {
                    Helper::SetFpsr
                };
                let f = self.helper(h);
                let cpu = self.cpu;
                if s == SysReg::Fpcr {
                    // Guest registers get fresh values after an FPCR write
                    // (a sync point, see `state_flow`), so Cranelift cannot
                    // reuse or hoist an FP operation computed under the
                    // previous rounding mode.
                    self.spill(0);
                    self.fb.ins().call(f, &[cpu, args[0]]);
                    self.sync_after();
                } else {
                    self.fb.ins().call(f, &[cpu, args[0]]);
                }
            }
            (Opcode::Resync, _) => {
                self.spill(0);
                self.sync_after();
            }
            (Opcode::FpRaise, Imm::U64(bits)) => {
                let mut host = Host {
                    cpu: self.cpu,
                    helpers: &mut self.refs.helpers,
                    env: self.env,
                    fpcr: self.fpcr,
                    fz_clear: self.fz_clear,
                    signals: true,
                };
                lower_fp::lower_raise(&mut self.fb, &mut host, args[0], bits);
            }
            (Opcode::Prefetch, Imm::U64(level)) => {
                if self.env.prefetch {
                    super::prefetch::emit(&mut self.fb, self.prefetches, level, args[0]);
                    self.prefetches += 1;
                }
            }
            (Opcode::SetSys, Imm::Sys(s)) => {
                let (off, narrow) = sys_slot(s).expect("the lifter never writes CNTVCT_EL0");
                let v = if narrow {
                    lower_int::resize(&mut self.fb, args[0], types::I32, false)
                } else {
                    args[0]
                };
                self.cpu_store(v, off);
            }
            _ => {
                let done = lower_int::lower_effect(&mut self.fb, inst, args);
                debug_assert!(done, "unlowered effect op {:?}", inst.op);
            }
        }
    }

    /// The second half of a sync point inside a block (`Touch::Sync`, after
    /// the dirty registers were stored): loads what is live after the
    /// instruction being lowered; nothing is dirty then.
    fn sync_after(&mut self) {
        let (b, i) = self.at;
        self.reload(self.flow.live_after(self.ir, b, i), 0);
        self.dirty = 0;
    }

    /// Whether `inst` is an ordered FP compare whose exception flags an
    /// `Unordered` compare of the same operands in its block raises (FCMP
    /// lifts to three compares): then it need not raise them itself, at a
    /// fixed point (see `lower_fp::pin`), and Cranelift may drop it where
    /// its flag is dead or fuse it into the branch that reads it.
    ///
    /// Cranelift computes such a compare where its result is first used,
    /// so it may then run again later, raising the same flags a second
    /// time, or after an FPCR write changed FZ (x86's DAZ). Hence not in
    /// functions that access FPSR; not where an FPCR write may come between
    /// (later in the block, or in a function that writes FPCR anywhere
    /// when the block passes flags on); and flags are not read across
    /// calls (AAPCS64) unless `strict_abi`.
    fn quiet_compare(&self, inst: &crate::ir::InstData) -> bool {
        let (Opcode::Fcmp, Imm::FloatCC(cc)) = (inst.op, inst.imm) else {
            return false;
        };
        let (b, idx) = self.at;
        let insts = &self.ir.blocks[b].insts;
        let fpcr_write = |i: &crate::ir::InstData| {
            matches!((i.op, i.imm), (Opcode::SetSys, Imm::Sys(SysReg::Fpcr)))
        };
        let flags_out = || match &self.ir.blocks[b].term {
            // (Flags pass to the local targets.)
            Terminator::JumpIndirect { .. } => 0xf,
            t => t
                .successors()
                .iter()
                .fold(0, |m, &s| m | self.flow.flags_live_in[s]),
        };
        cc != crate::ir::FloatCC::Unordered
            && !self.env.strict_abi
            && !self.fpsr_access
            && !insts[idx..].iter().any(fpcr_write)
            && (!self.fpcr_writes || flags_out() == 0)
            && insts.iter().any(|i| {
                i.op == Opcode::Fcmp
                    && i.imm == Imm::FloatCC(crate::ir::FloatCC::Unordered)
                    && i.operands() == inst.operands()
            })
    }

    /// Whether a function entry must stop (an i8): the host stack is below
    /// `CpuState::stack_limit`, which is also how the runtime asks for a
    /// pending signal.
    fn must_stop(&mut self) -> ClValue {
        let sp = self.fb.ins().get_stack_pointer(types::I64);
        let limit = self.cpu_load(types::I64, abi::OFF_STACK_LIMIT);
        self.fb.ins().icmp(ClCC::UnsignedLessThan, sp, limit)
    }

    fn store_pc(&mut self, pc: ClValue) {
        self.cpu_store(pc, abi::OFF_PC);
    }

    /// The function's reference to a runtime helper, imported once.
    fn helper(&mut self, h: Helper) -> ir::FuncRef {
        import_helper(self.fb.func, &mut self.refs.helpers, self.env, h)
    }

    /// The function's reference to a bound libc routine, imported once.
    fn routine(&mut self, r: Routine) -> ir::FuncRef {
        if let Some(f) = self.refs.routines[r as usize] {
            return f;
        }
        let f = func_ref(self.fb.func, self.env.routines[r as usize], routine_sig());
        self.refs.routines[r as usize] = Some(f);
        f
    }

    /// The function's reference to another translated function, imported
    /// once.
    fn callee(&mut self, id: FuncId) -> ir::FuncRef {
        if let Some(r) = self.refs.callees.get(&id) {
            return *r;
        }
        let r = func_ref(self.fb.func, id, guest_sig());
        self.refs.callees.insert(id, r);
        r
    }

    /// The guest-function signature, imported once (for indirect calls).
    fn guest_sig_ref(&mut self) -> ir::SigRef {
        *self
            .refs
            .guest_sig
            .get_or_insert_with(|| self.fb.import_signature(guest_sig()))
    }

    /// A data object's address symbol, declared once.
    fn data(&mut self, id: DataId) -> ir::GlobalValue {
        if let Some(gv) = self.refs.data.get(&id) {
            return *gv;
        }
        let gv = data_ref(self.fb.func, id);
        self.refs.data.insert(id, gv);
        gv
    }

    /// Calls the guest function at `target`: its translation directly
    /// (nothing reads `CpuState::pc` before that function's first helper
    /// call or exit to the dispatcher stores it), else through the
    /// dispatcher, which looks `pc` up.
    /// Returns the guest PC the call returned.
    fn call_direct(&mut self, target: u64) -> ClValue {
        let cpu = self.cpu;
        let call = match self.env.funcs.get(&target).copied() {
            Some(id) => {
                let f = self.callee(id);
                let zero = self.fb.ins().iconst(types::I32, 0);
                self.fb.ins().call(f, &[cpu, zero])
            }
            None => {
                let pc = self.fb.ins().iconst(types::I64, target as i64);
                self.store_pc(pc);
                let f = self.helper(Helper::Dispatch);
                self.fb.ins().call(f, &[cpu])
            }
        };
        self.cpu_from(call)
    }

    /// Calls the guest code at `target` through the code TLB, or the
    /// dispatcher when the TLB misses. Returns the guest PC it returned.
    /// Only the dispatcher reads `CpuState::pc` (see [`Self::call_direct`]).
    fn call_indirect(&mut self, target: ClValue) -> ClValue {
        let cpu = self.cpu;
        // Slot `(target >> 2) & (TLB_ENTRIES - 1)` at its byte offset, with
        // the mask applied before the shift: the entry size is a multiple
        // of 4, so no shift is left.
        const _: () = assert!(abi::TLB_ENTRY_SIZE % 4 == 0);
        let slot = self
            .fb
            .ins()
            .band_imm_s(target, (abi::TLB_ENTRIES as i64 - 1) << 2);
        let off = self
            .fb
            .ins()
            .imul_imm_s(slot, i64::from(abi::TLB_ENTRY_SIZE / 4));
        let entry = self.fb.ins().iadd(cpu, off);
        let cached = self
            .fb
            .ins()
            .load(types::I64, cpu_mem(), entry, abi::OFF_TLB);
        let hit = self.fb.ins().icmp(ClCC::Equal, cached, target);
        let hit_b = self.fb.create_block();
        let miss_b = self.fb.create_block();
        let done = self.fb.create_block();
        // The PC param first: the SSA builder appends its own when
        // `done` is sealed.
        let returned = self.fb.append_block_param(done, types::I64);
        self.fb.ins().brif(hit, hit_b, &[], miss_b, &[]);
        self.fb.switch_to_block(hit_b);
        let fnp = self
            .fb
            .ins()
            .load(types::I64, cpu_mem(), entry, abi::OFF_TLB + abi::TLB_OFF_FN);
        let idx = self.fb.ins().load(
            types::I32,
            cpu_mem(),
            entry,
            abi::OFF_TLB + abi::TLB_OFF_ENTRY,
        );
        let sig = self.guest_sig_ref();
        let call = self.fb.ins().call_indirect(sig, fnp, &[cpu, idx]);
        let pc = self.cpu_from(call);
        self.fb.ins().jump(done, &[pc.into()]);
        self.fb.switch_to_block(miss_b);
        self.fb.set_cold_block(miss_b);
        self.cpu = cpu;
        self.store_pc(target);
        let d = self.helper(Helper::Dispatch);
        let call = self.fb.ins().call(d, &[cpu]);
        let pc = self.cpu_from(call);
        self.fb.ins().jump(done, &[pc.into()]);
        self.fb.switch_to_block(done);
        self.cpu = self.fb.use_var(self.cpu_var);
        returned
    }

    /// An indirect jump to one of this function's
    /// [`Function::local_targets`] (a computed `goto`, as interpreters
    /// dispatch) continues there directly, with the guest state still in
    /// variables: no host call, no frame. Like a loop back edge it is a
    /// safe point and a sequence point. Other
    /// targets fall through to the code after this. Each jump to a target
    /// is an edge ([`Self::edge`]): it stores and loads what any branch
    /// there would.
    ///
    /// The target is found by one `br_table` over every 4-byte slot of the
    /// span of local targets when the function's tables stay small
    /// ([`LOCAL_TABLE_SLOTS`]), else by a compare tree.
    fn jump_local(&mut self, t: ClValue) {
        if self.local.is_empty() {
            return;
        }
        let elsewhere = self.fb.create_block();
        // Every cycle through this jump passes the block's own safe point,
        // if it has one.
        if !self.safepoints[self.at.0] {
            let pending = self.cpu_load(types::I32, abi::OFF_PENDING);
            let check = self.fb.create_block();
            let deliver = self.fb.create_block();
            self.fb.ins().brif(pending, deliver, &[], check, &[]);
            // A pending signal: leave through the dispatcher, which delivers
            // it and then enters `t` (an entry point) with the stored state.
            self.fb.set_cold_block(deliver);
            self.fb.switch_to_block(deliver);
            // The flags the dispatcher loads again at a local target.
            let flags = self
                .local
                .iter()
                .fold(0, |acc, e| acc | self.flow.flags_live_in[e.1]);
            self.spill(flags);
            self.leave_at_safepoint(t);
            self.fb.switch_to_block(check);
        }
        self.fb.ins().sequence_point();
        // Each target through its edge (`Self::edge`), made once.
        let mut edges = Vec::new();
        let mut to: FxHashMap<Block, ClBlock> = FxHashMap::default();
        let local = std::mem::take(&mut self.local);
        let targets: Vec<(u64, ClBlock)> = local
            .iter()
            .map(|&(pc, b)| (pc, *to.entry(b).or_insert_with(|| self.edge(b, &mut edges))))
            .collect();
        self.local = local;
        match self.local_table {
            Some((lo, slots)) => {
                // Rotating the offset right by 2 moves a misaligned
                // target's low bits to the top: out of range.
                let off = self.fb.ins().iadd_imm_s(t, -(lo as i64));
                let idx = self.fb.ins().rotr_imm_s(off, 2);
                let inside = self
                    .fb
                    .ins()
                    .icmp_imm_s(ClCC::UnsignedLessThan, idx, slots as i64);
                let table = self.fb.create_block();
                self.fb.ins().brif(inside, table, &[], elsewhere, &[]);
                self.fb.switch_to_block(table);
                let mut slot = vec![elsewhere; slots as usize];
                for &(pc, b) in &targets {
                    slot[((pc - lo) / 4) as usize] = b;
                }
                let pool = &mut self.fb.func.dfg.value_lists;
                let calls: Vec<_> = slot
                    .iter()
                    .map(|b| ir::BlockCall::new(*b, [], pool))
                    .collect();
                let def = ir::BlockCall::new(elsewhere, [], pool);
                let jt = self.fb.create_jump_table(JumpTableData::new(def, &calls));
                let idx = self.fb.ins().ireduce(types::I32, idx);
                self.fb.ins().br_table(idx, jt);
            }
            None => {
                let mut switch = Switch::new();
                for &(pc, b) in &targets {
                    switch.set_entry(u128::from(pc), b);
                }
                switch.emit(&mut self.fb, t, elsewhere);
            }
        }
        self.fill_edges(edges);
        self.fb.switch_to_block(elsewhere);
    }

    /// After a call or syscall: continue at `cont` if the guest returned to
    /// `ret` (`pc` is where it returned), else return to the caller.
    fn check_return(&mut self, pc: ClValue, ret: u64, cont: Block) {
        let pc_ok = self.fb.ins().icmp_imm_s(ClCC::Equal, pc, ret as i64);
        let resume = self.fb.create_block();
        let leave = self.fb.create_block();
        self.fb.ins().brif(pc_ok, resume, &[], leave, &[]);
        self.fb.switch_to_block(leave);
        self.fb.set_cold_block(leave);
        self.ret(Some(pc));
        self.fb.switch_to_block(resume);
        let mask = self.resume_flags(cont);
        self.reload(self.flow.live_in[cont], mask);
        // The return site may lie in a promoted loop (the call's block never
        // does): the edge loads its promoted registers.
        self.promoted_edge(self.at.0, cont);
        let c = self.block(cont);
        self.fb.ins().jump(c, &[]);
    }

    /// Where the branch being lowered goes to reach block `t`: `t` itself,
    /// or, when the edge stores registers ([`StateFlow::flushed`]) or moves
    /// promoted ones ([`Self::promoted_edge`]), a new block for that, listed
    /// in `edges` for [`Self::fill_edges`].
    fn edge(&mut self, t: Block, edges: &mut Vec<(ClBlock, Block, u64)>) -> ClBlock {
        let from = self.at.0;
        let regs = self.flow.flushed(from, t);
        if regs == 0 && self.promo.loads(from, t) == 0 && self.promoted_stores(from, t) == 0 {
            return self.block(t);
        }
        let e = self.fb.create_block();
        edges.push((e, t, regs));
        e
    }

    /// Emits the edge blocks [`Self::edge`] created: their stores and
    /// promoted-register moves, then a jump to the target.
    fn fill_edges(&mut self, edges: Vec<(ClBlock, Block, u64)>) {
        let from = self.at.0;
        for (e, t, regs) in edges {
            self.fb.switch_to_block(e);
            self.store_regs(regs, 0);
            self.promoted_edge(from, t);
            let t = self.block(t);
            self.fb.ins().jump(t, &[]);
        }
    }

    /// Branches on `c` to `then_to` or `else_to`. A condition that selects
    /// between a constant and a test (what the flags of `CCMP` and `CCMN`
    /// become: `s ? (a == b) : #nzcv`) branches twice instead, so neither
    /// the select nor the test is materialised.
    fn branch(&mut self, c: ClValue, then_to: ClBlock, else_to: ClBlock) {
        let Some((s, arms)) = split_select(&self.fb.func.dfg, c) else {
            self.fb.ins().brif(c, then_to, &[], else_to, &[]);
            return;
        };
        let mut tests = Vec::new();
        let [p, q] = arms.map(|arm| match arm {
            Arm::To(true) => then_to,
            Arm::To(false) => else_to,
            Arm::Test(v, negated) => {
                let blk = self.fb.create_block();
                tests.push((blk, v, negated));
                blk
            }
        });
        self.fb.ins().brif(s, p, &[], q, &[]);
        for (blk, v, negated) in tests {
            self.fb.switch_to_block(blk);
            let (t, e) = if negated {
                (else_to, then_to)
            } else {
                (then_to, else_to)
            };
            self.fb.ins().brif(v, t, &[], e, &[]);
        }
    }

    fn value(&self, v: Value) -> ClValue {
        self.values[v].expect("terminator operand defined in the block")
    }

    fn lower_term(&mut self, term: &Terminator) {
        let exit_flags = self.exit_flags();
        match term {
            Terminator::Unset => unreachable!("verified functions are terminated"),
            Terminator::Jump(t) => {
                let from = self.at.0;
                self.store_regs(self.flow.flushed(from, *t), 0);
                self.promoted_edge(from, *t);
                let t = self.block(*t);
                self.fb.ins().jump(t, &[]);
            }
            Terminator::Branch {
                cond,
                then_to,
                else_to,
            } => {
                let c = self.value(*cond);
                let mut edges = Vec::new();
                let a = self.edge(*then_to, &mut edges);
                let b = self.edge(*else_to, &mut edges);
                self.branch(c, a, b);
                self.fill_edges(edges);
            }
            Terminator::JumpTable {
                index,
                targets,
                default,
            } => {
                let idx = self.value(*index);
                let idx = self.fb.ins().ireduce(types::I32, idx);
                let mut edges = Vec::new();
                let mut to: FxHashMap<Block, ClBlock> = FxHashMap::default();
                let mut edge =
                    |l: &mut Self, t: Block| *to.entry(t).or_insert_with(|| l.edge(t, &mut edges));
                let blocks: Vec<ClBlock> = targets.iter().map(|&t| edge(self, t)).collect();
                let def = edge(self, *default);
                let pool = &mut self.fb.func.dfg.value_lists;
                let calls: Vec<_> = blocks
                    .iter()
                    .map(|&b| ir::BlockCall::new(b, [], pool))
                    .collect();
                let def = ir::BlockCall::new(def, [], pool);
                let jt = self.fb.create_jump_table(JumpTableData::new(def, &calls));
                self.fb.ins().br_table(idx, jt);
                self.fill_edges(edges);
            }
            Terminator::Call { target, ret, cont } => {
                self.exit_spill(exit_flags);
                let pc = self.call_direct(*target);
                self.check_return(pc, *ret, *cont);
            }
            Terminator::CallIndirect { target, ret, cont } => {
                let t = self.value(*target);
                self.exit_spill(exit_flags);
                let pc = self.call_indirect(t);
                self.check_return(pc, *ret, *cont);
            }
            Terminator::TailCall { target } => {
                // The flags passed on are live here: defined, so stored.
                let env = self.env;
                self.exit_spill(tail_call_flags(*target, env.strict_abi, env.aapcs_entries));
                let pc = self.call_direct(*target);
                self.ret(Some(pc));
            }
            Terminator::JumpIndirect { target } => {
                let t = self.value(*target);
                self.jump_local(t);
                self.spill(exit_flags);
                let pc = self.call_indirect(t);
                self.ret(Some(pc));
            }
            Terminator::Return { target } => {
                let t = self.value(*target);
                self.exit_spill(exit_flags);
                self.ret(Some(t));
            }
            Terminator::Syscall { next, cont } => {
                let mask = self.resume_flags(*cont);
                self.spill(mask);
                let pc = self.fb.ins().iconst(types::I64, *next as i64);
                self.store_pc(pc);
                let f = self.helper(Helper::Syscall);
                let cpu = self.cpu;
                self.fb.ins().call(f, &[cpu]);
                let pc = self.cpu_load(types::I64, abi::OFF_PC);
                self.check_return(pc, *next, *cont);
            }
            Terminator::Trap { pc, word, kind } => {
                self.spill(exit_flags);
                let pcv = self.fb.ins().iconst(types::I64, *pc as i64);
                self.store_pc(pcv);
                let cpu = self.cpu;
                match kind {
                    TrapKind::Brk(imm) => {
                        let f = self.helper(Helper::Brk);
                        let i = self.fb.ins().iconst(types::I32, *imm as i64);
                        self.fb.ins().call(f, &[cpu, pcv, i]);
                    }
                    TrapKind::Undefined(_) => {
                        let f = self.helper(Helper::Undefined);
                        let w = self.fb.ins().iconst(types::I32, *word as i64);
                        let gv = self.data(self.env.trap_text);
                        let base = self.fb.ins().symbol_value(types::I64, gv);
                        let off = self.env.trap_offsets.get(pc).copied().unwrap_or(0);
                        let text = self.fb.ins().iadd_imm_s(base, off as i64);
                        self.fb.ins().call(f, &[cpu, pcv, w, text]);
                    }
                }
                self.ret(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{branch_on, function, ret};
    use super::*;
    use crate::ir::Type;

    /// Coming back from the call of [`promoted_loop_with_a_call`], the
    /// promoted registers are loaded again (the callee may have written
    /// them). Before, the return path used their values from before the
    /// call, and busybox's shell ran out of memory.
    #[test]
    fn a_call_returning_into_a_promoted_loop_loads_its_registers() {
        let (mut f, [entry, body, ..]) = promoted_loop_with_a_call();
        f.builder(entry).terminate(Terminator::Jump(body));
        let text = lowered(&f);
        // The call (through the dispatcher) returns the `CpuState` pointer
        // and the PC, which is compared with the return address 0x100c,
        // and X5 is loaded from the pointer.
        let calls: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.trim().split_once(" = call "))
            .filter_map(|(v, _)| v.split_once(", "))
            .map(|(cpu, pc)| (cpu.to_string(), pc.to_string()))
            .collect();
        let (returned, _) = calls
            .iter()
            .find(|(_, pc)| {
                text.lines()
                    .any(|l| l.contains(&format!("icmp eq {pc}, ")) && l.ends_with("= 4108"))
            })
            .expect("the guest call");
        let x5 = format!(" {returned}+{}", abi::OFF_X + 8 * 5);
        assert!(
            text.lines()
                .any(|l| l.contains("= load.i64") && l.ends_with(&x5)),
            "{text}"
        );
    }

    /// The loop of [`promoted_loop_with_a_call`] also entered at 0x1004 by
    /// a computed goto at 0x1014 (0x1004 is a local target): that way in
    /// loads X5 too. Every way into the loop loads it: the edge from
    /// 0x1000, the entry points 0x1004 and 0x100c, the way back from the
    /// call, and the computed goto.
    #[test]
    fn a_computed_goto_into_a_promoted_loop_loads_its_registers() {
        let (mut f, [entry, body, ..]) = promoted_loop_with_a_call();
        let goto = f.create_block(0x1014);
        f.entries.push((0x1004, body));
        let mut b = f.builder(goto);
        let target = b.get_reg(Type::I64, 3);
        b.terminate(Terminator::JumpIndirect { target });
        branch_on(&mut f, entry, 2, goto, body);
        let text = lowered(&f);
        let x5 = format!("+{}", abi::OFF_X + 8 * 5);
        let loads = text
            .lines()
            .filter(|l| l.contains("= load.i64") && l.ends_with(&x5))
            .count();
        assert_eq!(loads, 5, "{text}");
    }

    /// A loop at 0x1004 that reads X0-X4 and X6-X9 twice and X5 once (too
    /// many for variables: X5 lives in `CpuState` and is promoted in the
    /// call-free cycle 0x1004 -> 0x100c), with a call at 0x1008 on one way
    /// round that returns into the loop at 0x100c, and an exit at 0x1010.
    /// The entry block 0x1000 is left for the caller to end.
    fn promoted_loop_with_a_call() -> (Function, [Block; 5]) {
        let (mut f, [entry, body, call, back, exit]) =
            function([0x1000, 0x1004, 0x1008, 0x100c, 0x1010]);
        f.entries.push((0x100c, back));
        let mut b = f.builder(body);
        let mut acc = b.get_reg(Type::I64, 5);
        for r in [0, 1, 2, 3, 4, 6, 7, 8, 9, 0, 1, 2, 3, 4, 6, 7, 8, 9] {
            let v = b.get_reg(Type::I64, r);
            acc = b.add(Type::I64, acc, v);
        }
        b.set_reg(acc, 5);
        b.set_reg(acc, 6);
        branch_on(&mut f, body, 0, call, back);
        f.builder(call).terminate(Terminator::Call {
            target: 0x9000,
            ret: 0x100c,
            cont: back,
        });
        branch_on(&mut f, back, 1, body, exit);
        ret(&mut f, exit);
        (f, [entry, body, call, back, exit])
    }

    /// `f` lowered (with no translated callees) and printed as CLIF.
    fn lowered(f: &Function) -> String {
        let funcs = FxHashMap::default();
        let none = FxHashSet::default();
        let env = Env {
            funcs: &funcs,
            helpers: [FuncId::from_u32(0); HELPERS.len()],
            routines: [FuncId::from_u32(0); Routine::ALL.len()],
            trap_text: DataId::from_u32(0),
            trap_offsets: &FxHashMap::default(),
            strict_abi: false,
            aapcs_entries: &none,
            noreturn: &none,
            unchecked: &none,
            host_fma: false,
            prefetch: false,
        };
        let mut out = ir::Function::new();
        lower_function(f, &env, &mut out, &mut FunctionBuilderContext::new());
        out.display().to_string()
    }

    /// A return at 0x1008 that code at 0x1010 jumps back to (a shared
    /// epilogue: a loop header by address, on no cycle) and a loop at
    /// 0x1020 that branches to itself: only the loop gets a safe point.
    #[test]
    fn safe_points_only_on_cycles() {
        let (mut f, [entry, epilogue, side, body]) = function([0x1000, 0x1008, 0x1010, 0x1020]);
        branch_on(&mut f, entry, 0, side, body);
        ret(&mut f, epilogue);
        f.builder(side).terminate(Terminator::Jump(epilogue));
        branch_on(&mut f, body, 1, body, epilogue);
        let sp = safepoint_blocks(&f);
        assert!(loop_headers(&f)[epilogue]);
        assert!(!sp[epilogue]);
        assert!(sp[body]);
    }

    /// Random control flow (branches, jumps, calls, returns, with entries
    /// at call return sites): removing the blocks with safe points leaves
    /// no cycle, and every safe point lies on a cycle.
    #[test]
    fn safe_points_cut_every_cycle() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..300 {
            let n = 2 + next(14);
            let mut f = Function::new("t".into(), 0x1000);
            let blocks: Vec<Block> = (0..n)
                .map(|i| f.create_block(0x1000 + 4 * i as u64))
                .collect();
            f.entries.push((0x1000, blocks[0]));
            for &b in &blocks {
                let (t, e) = (blocks[next(n)], blocks[next(n)]);
                match next(5) {
                    0 => f.builder(b).terminate(Terminator::Jump(t)),
                    1 => ret(&mut f, b),
                    2 => f.builder(b).terminate(Terminator::Call {
                        target: 0x9000,
                        ret: 0,
                        cont: t,
                    }),
                    _ => branch_on(&mut f, b, 0, t, e),
                }
            }
            let sp = safepoint_blocks(&f);
            let graph = BlockGraph::new(&f, &[]);
            let cyclic = graph.cyclic_blocks();
            // Kahn's algorithm over the blocks without a safe point.
            let mut indeg = vec![0usize; n];
            for &b in blocks.iter().filter(|b| !sp[**b]) {
                for s in f.blocks[b].term.successors() {
                    if !sp[s] {
                        indeg[s.index()] += 1;
                    }
                }
            }
            let mut ready: Vec<Block> = blocks
                .iter()
                .copied()
                .filter(|b| !sp[*b] && indeg[b.index()] == 0)
                .collect();
            let mut seen = 0;
            while let Some(b) = ready.pop() {
                seen += 1;
                for s in f.blocks[b].term.successors() {
                    if !sp[s] {
                        indeg[s.index()] -= 1;
                        if indeg[s.index()] == 0 {
                            ready.push(s);
                        }
                    }
                }
            }
            assert_eq!(
                seen,
                blocks.iter().filter(|b| !sp[**b]).count(),
                "a cycle without a safe point"
            );
            for &b in &blocks {
                assert!(!sp[b] || cyclic[b.index()], "a safe point on no cycle");
            }
        }
    }
}
