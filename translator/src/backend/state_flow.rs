//! Where guest state moves between `CpuState` and the Cranelift variables
//! that hold it inside one translated function.
//!
//! Registers are one `u64` mask: bit `r` is X`r` (31 = SP), bit `32 + r`
//! is V`r`.
//! - *Sync points* are where the variables and `CpuState` agree: entry
//!   points (after their loads), call and syscall resume points (after
//!   theirs), FPCR writes and `resync` (after a store and a load).
//! - A register is *dirty* where it may have been written since the last
//!   sync point (a forward analysis: the union over predecessors, except
//!   at the forward merges of [`flush_merges`], which take the
//!   intersection). Every exit (call, tail call, indirect jump, return,
//!   syscall, trap, FPCR write) stores the dirty set, less the registers
//!   AAPCS64 says nobody reads after a return or call (below), a safe
//!   point only the dirty registers live there
//!   ([`StateFlow::safepoint_stores`]),
//!   and an edge into such a merge the registers dirty at its source but
//!   not at the merge ([`StateFlow::flushed`]); `CpuState` already holds
//!   the rest.
//! - A register is *live* where it may be read, or stored, before being
//!   written (a backward analysis whose uses include each exit's stores
//!   and each edge's stores). Entry, resume and FPCR sync points load
//!   exactly the live set, so every variable read or stored has a value on
//!   every path.
//!
//! Calls: the return site loads everything live there again, the
//! callee-saved registers too. AAPCS64 preserves X19-X29 and SP across a
//! call, but a variable kept across one needs one of the host's five
//! callee-saved registers or a spill slot, while the call's stores have
//! just put its value in `CpuState` (reloading it there ran lua 2.7%,
//! SQLite 2.2% and malloc 1.8% fewer instructions). It also lets any frame
//! of the function resume at the return address (an exception landing pad
//! right after a `BL` to a noreturn function, in a recursive function).
//! Dirty callee-saved registers are stored before the call: the callee's
//! prologue saves them to the guest stack, where unwinders and backtraces
//! read them, and its epilogue restores them from there.
//!
//! Registers AAPCS64 says nobody reads after an exit are not stored there
//! unless `strict` ([`StateFlow::exit_stores`]): a return passes back only
//! X0-X1, V0-V3 and the callee-saved registers ([`DEAD_AT_RETURN`]); a
//! call or a tail call to a function's start (a symbol or a `BL` target)
//! passes no value in X9-X17 or V16-V31 ([`SCRATCH_AT_CALL`]), which the
//! caller stores only where it reads them after the call (GCC's
//! `-fipa-ra` keeps values there across calls of functions it knows leave
//! them alone). A register left unstored is not live there, so its value
//! need not be kept until the exit.
//!
//! Flags (bit `i` = `Flag::ALL[i]`) are separate: live where read, and dead
//! at calls and returns per AAPCS64 unless `strict`.

use cranelift_entity::{EntityRef, SecondaryMap};
use rustc_hash::FxHashSet;

use super::loop_stores::BlockGraph;

use crate::ir::{Block, Function, Imm, InstData, Opcode, SysReg, Terminator};

/// X2-X17, V4-V7 and V16-V31: the registers whose values a return passes
/// to no one (AAPCS64 returns results in X0-X1 and V0-V3; X18 is the
/// platform register and V8-V15 are callee-saved, so they are stored).
pub const DEAD_AT_RETURN: u64 = (0xffff << 2) | (0xf << 36) | (0xffff << 48);

/// X9-X17 and V16-V31: the registers that pass no argument to a callee
/// (X0-X8 and V0-V7 do, X18 is the static chain of nested functions, and
/// the callee-saved registers are saved by its prologue).
pub const SCRATCH_AT_CALL: u64 = (0x1ff << 9) | (0xffff << 48);

/// Whether a direct `B` to `target` is a tail call AAPCS64 holds for: to a
/// function symbol's start or a `BL` target ([`Function::aapcs_entry`]),
/// unless `strict`.
/// Elsewhere it may be a jump into code discovery split off where data
/// points into a function, which may read any register or flag set before.
fn aapcs_tail_call(target: u64, strict: bool, aapcs_entries: &FxHashSet<u64>) -> bool {
    !strict && aapcs_entries.contains(&target)
}

/// The flags a direct `B` to another function passes on (stores): none
/// where AAPCS64 holds ([`aapcs_tail_call`]), which says NZCV is dead
/// there; all of them otherwise.
pub fn tail_call_flags(target: u64, strict: bool, aapcs_entries: &FxHashSet<u64>) -> u8 {
    if aapcs_tail_call(target, strict, aapcs_entries) {
        0
    } else {
        0xf
    }
}

/// How one IR instruction touches guest registers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Touch {
    /// Reads the registers in the mask.
    Read(u64),
    /// Writes the registers in the mask.
    Write(u64),
    /// A sync point inside a block (an FPCR write, `resync`): stores the dirty set,
    /// then loads the set live after it.
    Sync,
}

/// How `inst` touches guest registers, if it does.
pub fn touch(inst: &InstData) -> Option<Touch> {
    match (inst.op, inst.imm) {
        (Opcode::GetReg, Imm::Reg(r)) => Some(Touch::Read(1 << r)),
        (Opcode::SetReg, Imm::Reg(r)) => Some(Touch::Write(1 << r)),
        (Opcode::GetV, Imm::Reg(r)) => Some(Touch::Read(1 << (32 + r))),
        (Opcode::SetV, Imm::Reg(r)) => Some(Touch::Write(1 << (32 + r))),
        (Opcode::SetSys, Imm::Sys(SysReg::Fpcr)) | (Opcode::Resync, _) => Some(Touch::Sync),
        _ => None,
    }
}

/// The dataflow facts lowering needs.
pub struct StateFlow {
    /// Registers possibly dirty on entry to each block.
    pub dirty_in: SecondaryMap<Block, u64>,
    /// Registers possibly dirty at each block's terminator (after its
    /// `pre_stored` stores).
    pub dirty_out: SecondaryMap<Block, u64>,
    /// Registers stored at the end of each block, before its terminator,
    /// because it enters a loop that calls on every iteration
    /// (`loop_stores::loop_entry_stores`); they are clean after.
    pub pre_stored: SecondaryMap<Block, u64>,
    /// Blocks whose dirty set on entry is the intersection of their
    /// predecessors' ([`flush_merges`]): an edge stores the registers dirty
    /// at its source but not at such a target ([`StateFlow::flushed`]).
    merge: SecondaryMap<Block, bool>,
    /// Registers live on entry to each block (after its safe point, if it
    /// has one: the safe point's stores count as uses).
    pub live_in: SecondaryMap<Block, u64>,
    /// Registers live at each block's terminator, before its stores.
    live_out: SecondaryMap<Block, u64>,
    /// Flags live on entry to each block.
    pub flags_live_in: SecondaryMap<Block, u8>,
    /// Registers that live in `CpuState` for the whole function instead of
    /// variables (see `mem_regs`): never dirty, never loaded.
    pub mem: u64,
    /// Every exit stores every dirty register (see [`StateFlow::exit_reads`]).
    strict: bool,
    /// Blocks ending in a tail call AAPCS64 holds for ([`aapcs_tail_call`]).
    aapcs_tail: SecondaryMap<Block, bool>,
    /// The [`SCRATCH_AT_CALL`] registers the guest may read on entry to
    /// each block before writing them, through calls and sync points (see
    /// [`scratch_liveness`]).
    scratch_live: SecondaryMap<Block, u64>,
}

/// Where a call or syscall `term` resumes: its return site, where the
/// live registers are loaded again.
fn resume_site(term: &Terminator) -> Option<Block> {
    match term {
        Terminator::Call { cont, .. }
        | Terminator::CallIndirect { cont, .. }
        | Terminator::Syscall { cont, .. } => Some(*cont),
        _ => None,
    }
}

/// Whether `term` leaves the function's variables (stores the dirty set).
fn exits(term: &Terminator) -> bool {
    !matches!(
        term,
        Terminator::Jump(_) | Terminator::Branch { .. } | Terminator::JumpTable { .. }
    )
}

/// Blocks that receive `b`'s variables as they are: its in-function
/// successors, and for an indirect jump the [`Function::local_targets`].
/// A call or syscall's resume block is not among them: it reloads.
pub fn var_succs(term: &Terminator, local: &[(u64, Block)]) -> Vec<Block> {
    match term {
        Terminator::Jump(_) | Terminator::Branch { .. } | Terminator::JumpTable { .. } => {
            term.successors()
        }
        Terminator::JumpIndirect { .. } => local.iter().map(|e| e.1).collect(),
        _ => Vec::new(),
    }
}

impl StateFlow {
    /// Solves the analyses for `f`, whose control flow is `graph` (indirect
    /// jumps continue at [`Function::local_targets`]), with a safe point at
    /// the blocks marked in `safepoints`.
    pub fn new(
        f: &Function,
        graph: &BlockGraph,
        safepoints: &SecondaryMap<Block, bool>,
        strict: bool,
        aapcs_entries: &FxHashSet<u64>,
        mem: u64,
    ) -> StateFlow {
        let hoisted = graph.loop_entry_stores(f);
        let mut s = StateFlow {
            dirty_in: SecondaryMap::new(),
            dirty_out: SecondaryMap::new(),
            pre_stored: SecondaryMap::new(),
            merge: flush_merges(f, graph, safepoints),
            mem,
            live_in: SecondaryMap::new(),
            live_out: SecondaryMap::new(),
            flags_live_in: flag_liveness(f, graph, strict, aapcs_entries),
            strict,
            aapcs_tail: SecondaryMap::new(),
            scratch_live: SecondaryMap::new(),
        };
        for (b, data) in f.blocks.iter() {
            if let Terminator::TailCall { target } = data.term {
                s.aapcs_tail[b] = aapcs_tail_call(target, strict, aapcs_entries);
            }
        }
        s.scratch_live = scratch_liveness(f, graph, &s.aapcs_tail);
        // Forward: dirty (a least fixpoint, growing from nothing dirty).
        let mut preds: SecondaryMap<Block, Vec<Block>> = SecondaryMap::new();
        for b in f.blocks.keys() {
            for t in graph.var_succs(b) {
                preds[t].push(b);
            }
        }
        let mut changed = true;
        while changed {
            changed = false;
            for (b, data) in f.blocks.iter() {
                let from = preds[b].iter().map(|&p| s.dirty_out[p]);
                let d_in = if s.merge[b] {
                    from.reduce(|a, d| a & d).unwrap_or(0)
                } else {
                    from.fold(0, |a, d| a | d)
                };
                s.dirty_in[b] = d_in;
                let d = data.insts.iter().fold(d_in, |d, i| match s.touch(i) {
                    Some(Touch::Write(m)) => d | m,
                    Some(Touch::Sync) => 0,
                    _ => d,
                });
                s.pre_stored[b] = d & hoisted[b];
                let d = d & !hoisted[b];
                if s.dirty_out[b] != d {
                    s.dirty_out[b] = d;
                    changed = true;
                }
            }
        }
        // Backward: live.
        changed = true;
        while changed {
            changed = false;
            for b in f.blocks.keys().rev() {
                let mut out = graph
                    .var_succs(b)
                    .fold(0, |acc, t| acc | s.live_in[t] | s.flushed(b, t));
                out |= s.exit_stores(f, b) | s.pre_stored[b];
                s.live_out[b] = out;
                let live = s.live_before(f, b, 0);
                if live != s.live_in[b] {
                    s.live_in[b] = live;
                    changed = true;
                }
            }
        }
        s
    }

    /// How `inst` touches the registers held in variables.
    fn touch(&self, inst: &InstData) -> Option<Touch> {
        match touch(inst)? {
            Touch::Read(m) if m & !self.mem == 0 => None,
            Touch::Write(m) if m & !self.mem == 0 => None,
            Touch::Read(m) => Some(Touch::Read(m & !self.mem)),
            Touch::Write(m) => Some(Touch::Write(m & !self.mem)),
            Touch::Sync => Some(Touch::Sync),
        }
    }

    /// Registers live just before instruction `idx` of block `b` (not
    /// counting the block's safe point).
    fn live_before(&self, f: &Function, b: Block, idx: usize) -> u64 {
        let insts = &f.blocks[b].insts;
        let mut live = self.live_out[b];
        for (i, inst) in insts.iter().enumerate().skip(idx).rev() {
            match self.touch(inst) {
                Some(Touch::Read(m)) => live |= m,
                Some(Touch::Write(m)) => live &= !m,
                Some(Touch::Sync) => live = self.dirty_before(f, b, i),
                None => {}
            }
        }
        live
    }

    /// Registers possibly dirty just before instruction `idx` of block `b`.
    fn dirty_before(&self, f: &Function, b: Block, idx: usize) -> u64 {
        f.blocks[b].insts[..idx]
            .iter()
            .fold(self.dirty_in[b], |d, i| match self.touch(i) {
                Some(Touch::Write(m)) => d | m,
                Some(Touch::Sync) => 0,
                _ => d,
            })
    }

    /// Registers the exit ending `b` stores: the dirty ones, less those
    /// AAPCS64 says nobody reads after it (unless `strict`; see the module
    /// comment), except the scratch registers a call's return site reads.
    /// None if `b` does not end in an exit.
    pub fn exit_stores(&self, f: &Function, b: Block) -> u64 {
        let mut reads = self.exit_reads(f, b);
        if let Terminator::Call { cont, .. } | Terminator::CallIndirect { cont, .. } =
            f.blocks[b].term
        {
            reads |= self.scratch_live[cont];
        }
        self.dirty_out[b] & reads
    }

    /// The registers the code after the exit ending `b` may read from
    /// `CpuState`: all but those AAPCS64 says nobody reads there (a return
    /// passes no value in X2-X17 and V4-V7/V16-V31, a call or an AAPCS64
    /// tail call none in X9-X17 and V16-V31), and all of them under
    /// `strict`. None if `b` does not end in an exit.
    pub fn exit_reads(&self, f: &Function, b: Block) -> u64 {
        let term = &f.blocks[b].term;
        if !exits(term) {
            return 0;
        }
        !match term {
            _ if self.strict => 0,
            Terminator::Return { .. } => DEAD_AT_RETURN,
            Terminator::Call { .. } | Terminator::CallIndirect { .. } => SCRATCH_AT_CALL,
            Terminator::TailCall { .. } if self.aapcs_tail[b] => SCRATCH_AT_CALL,
            _ => 0,
        }
    }

    /// Registers stored on the edge from `b` to its successor `t`: dirty at
    /// `b`'s end but not on entry to `t` (a [`flush_merges`] block).
    pub fn flushed(&self, b: Block, t: Block) -> u64 {
        if self.merge[t] {
            self.dirty_out[b] & !self.dirty_in[t]
        } else {
            0
        }
    }

    /// Registers the safe point at the start of `b` stores before leaving:
    /// the dirty ones live there. A dirty register that is dead there is
    /// read by nothing after the dispatcher enters `b` again (that entry
    /// loads only the live ones), so it need not be kept in a host register
    /// or spill slot through the loop just for the safe point's sake;
    /// only a signal handler that inspects its context sees the register's
    /// last stored value instead.
    pub fn safepoint_stores(&self, b: Block) -> u64 {
        self.dirty_in[b] & self.live_in[b]
    }

    /// Registers to load after the sync point at instruction `idx` of `b`.
    pub fn live_after(&self, f: &Function, b: Block, idx: usize) -> u64 {
        self.live_before(f, b, idx + 1)
    }

    /// Checks in debug builds that every register read or stored has been
    /// loaded or written on every path to it (a must-analysis over the
    /// loads this plan makes at `entries` and resume points); panics naming
    /// the block otherwise.
    pub fn check(
        &self,
        f: &Function,
        entries: &[(u64, Block)],
        graph: &BlockGraph,
        safepoints: &SecondaryMap<Block, bool>,
    ) {
        let mut def_in: SecondaryMap<Block, Option<u64>> = SecondaryMap::new();
        for &(_, b) in entries {
            def_in[b] = Some(self.live_in[b]);
        }
        for (_, data) in f.blocks.iter() {
            if let Some(cont) = resume_site(&data.term) {
                def_in[cont] = Some(self.live_in[cont]);
            }
        }
        let mut changed = true;
        while changed {
            changed = false;
            for (b, data) in f.blocks.iter() {
                let Some(mut d) = def_in[b] else { continue };
                for (i, inst) in data.insts.iter().enumerate() {
                    match self.touch(inst) {
                        Some(Touch::Write(m)) => d |= m,
                        Some(Touch::Sync) => d = self.live_after(f, b, i),
                        _ => {}
                    }
                }
                for t in graph.var_succs(b) {
                    let merged = def_in[t].map_or(d, |old| old & d);
                    if def_in[t] != Some(merged) {
                        def_in[t] = Some(merged);
                        changed = true;
                    }
                }
            }
        }
        for (b, data) in f.blocks.iter() {
            let Some(mut d) = def_in[b] else { continue };
            let mut need = if safepoints[b] {
                self.safepoint_stores(b) & !d
            } else {
                0
            };
            for (i, inst) in data.insts.iter().enumerate() {
                match self.touch(inst) {
                    Some(Touch::Read(m)) => need |= m & !d,
                    Some(Touch::Write(m)) => d |= m,
                    Some(Touch::Sync) => {
                        need |= self.dirty_before(f, b, i) & !d;
                        d = self.live_after(f, b, i);
                    }
                    None => {}
                }
            }
            need |= self.pre_stored[b] & !d;
            for t in graph.var_succs(b) {
                need |= self.flushed(b, t) & !d;
            }
            need |= self.exit_stores(f, b) & !d;
            assert!(
                need == 0,
                "{}: block at {:#x} uses registers {need:#x} not loaded on every path",
                f.name,
                data.pc
            );
        }
    }
}

/// The blocks whose dirty set on entry is the intersection of their
/// predecessors' rather than the union: those entered only by jumps and
/// branches inside the function (not entry points, return sites, syscall
/// continuations or safe points, which also hold for other ways in, and so
/// no loop header). A register dirty on one way in and clean on another is
/// stored on the dirty edge instead of at every exit after the merge.
/// With the union, the exits after the merge store it on every path, so
/// it needs a value on the clean paths too: it becomes live back to the
/// function's entry, which loads it, and Cranelift keeps it in a register
/// or spill slot all the way (libm's `sin` loaded 25 registers at entry
/// for the temporaries of paths a call mostly does not take).
fn flush_merges(
    f: &Function,
    graph: &BlockGraph,
    safepoints: &SecondaryMap<Block, bool>,
) -> SecondaryMap<Block, bool> {
    let cyclic = graph.cyclic_blocks();
    let mut merge: SecondaryMap<Block, bool> = SecondaryMap::new();
    for b in f.blocks.keys() {
        merge[b] = !safepoints[b] && !cyclic[b.index()];
    }
    for &(_, b) in &f.entries {
        merge[b] = false;
    }
    for data in f.blocks.values() {
        if let Some(cont) = resume_site(&data.term) {
            merge[cont] = false;
        }
    }
    merge
}

/// The [`SCRATCH_AT_CALL`] registers live on entry to each block in the
/// guest's sense: read before written on some path, following calls and
/// syscalls to their return sites (a callee reads none of them, and may
/// leave them alone, as `-fipa-ra` callers assume) and through sync points.
/// A return passes none back and a tail call to a function's start (a
/// symbol or a `BL` target) passes none on; any other exit (an indirect jump, a tail call into the
/// middle of a function, a trap) may lead to code that reads them all.
///
/// This, not variable liveness, decides which of them a call may leave
/// unstored: a register clean after the call is loaded from `CpuState`
/// where it is next used, so the value there must be right wherever the
/// guest reads it later, past any number of further calls.
fn scratch_liveness(
    f: &Function,
    graph: &BlockGraph,
    aapcs_tail: &SecondaryMap<Block, bool>,
) -> SecondaryMap<Block, u64> {
    let mut gen: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut kill: SecondaryMap<Block, u64> = SecondaryMap::new();
    for (b, data) in f.blocks.iter() {
        for inst in &data.insts {
            match touch(inst) {
                Some(Touch::Read(m)) => gen[b] |= m & SCRATCH_AT_CALL & !kill[b],
                Some(Touch::Write(m)) => kill[b] |= m & SCRATCH_AT_CALL,
                _ => {}
            }
        }
        let leaves = match data.term {
            Terminator::Return { .. }
            | Terminator::Call { .. }
            | Terminator::CallIndirect { .. }
            | Terminator::Syscall { .. } => false,
            Terminator::TailCall { .. } => !aapcs_tail[b],
            ref t => exits(t),
        };
        if leaves {
            gen[b] |= SCRATCH_AT_CALL & !kill[b];
        }
    }
    live_on_entry(f, graph, &gen, &kill)
}

/// The least solution of `live_in[b] = gen[b] | (succs' live_in & !kill[b])`
/// over every edge of `graph` (calls flow to their return sites).
pub fn live_on_entry(
    f: &Function,
    graph: &BlockGraph,
    gen: &SecondaryMap<Block, u64>,
    kill: &SecondaryMap<Block, u64>,
) -> SecondaryMap<Block, u64> {
    let mut live_in: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut changed = true;
    while changed {
        changed = false;
        for b in f.blocks.keys().rev() {
            let out = graph.succs(b).fold(0, |acc, s| acc | live_in[s]);
            let live = gen[b] | (out & !kill[b]);
            if live != live_in[b] {
                live_in[b] = live;
                changed = true;
            }
        }
    }
    live_in
}

/// Flags live on entry to each block. Flags are stored and loaded by the
/// lowerer per point (see `lower::resume_flags`): calls and syscalls keep
/// them only through their continuation's reload of the stored copy, so
/// liveness flows through them like a jump; an indirect jump flows to its
/// [`Function::local_targets`].
fn flag_liveness(
    f: &Function,
    graph: &BlockGraph,
    strict: bool,
    aapcs_entries: &FxHashSet<u64>,
) -> SecondaryMap<Block, u8> {
    let mut gen: SecondaryMap<Block, u64> = SecondaryMap::new();
    let mut kill: SecondaryMap<Block, u64> = SecondaryMap::new();
    for (b, data) in f.blocks.iter() {
        for inst in &data.insts {
            match (inst.op, inst.imm) {
                (Opcode::GetFlag, Imm::Flag(fl)) => {
                    let bit = 1 << fl.index();
                    if kill[b] & bit == 0 {
                        gen[b] |= bit;
                    }
                }
                (Opcode::SetFlag, Imm::Flag(fl)) => kill[b] |= 1 << fl.index(),
                _ => {}
            }
        }
        // (An indirect jump passes flags to its local targets: an edge.)
        let exit = match data.term {
            Terminator::TailCall { target } => tail_call_flags(target, strict, aapcs_entries),
            ref t if strict && exits(t) => 0xf,
            _ => 0,
        };
        gen[b] |= u64::from(exit) & !kill[b];
    }
    let live = live_on_entry(f, graph, &gen, &kill);
    let mut out: SecondaryMap<Block, u8> = SecondaryMap::new();
    for b in f.blocks.keys() {
        out[b] = live[b] as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_cfg::{branch_on, diamond, function, ret};
    use super::*;
    use crate::ir::Type;

    /// A diamond: 0x1000 branches on X0 to 0x1004, which writes X5, or to
    /// 0x1008; both jump to 0x100c, which returns.
    #[test]
    fn a_register_written_on_one_side_of_a_diamond_is_stored_on_that_edge() {
        let (mut f, [entry, write, skip, join]) = diamond(5);
        ret(&mut f, join);
        let graph = BlockGraph::new(&f, &[]);
        let no_safepoints = SecondaryMap::new();
        let flow = StateFlow::new(&f, &graph, &no_safepoints, false, &FxHashSet::default(), 0);
        let x5 = 1 << 5;
        assert_eq!(flow.flushed(write, join), x5);
        assert_eq!(flow.flushed(skip, join), 0);
        assert_eq!(flow.dirty_in[join] & x5, 0);
        // The path that does not write X5 needs no value for it.
        assert_eq!(flow.live_in[entry] & x5, 0);
        flow.check(&f, &f.entries, &graph, &no_safepoints);
    }

    /// Two calls in a row (0x2000 writes X11 and X12, calls; 0x2004 calls
    /// again; 0x2008 reads X11 and returns), as GCC's `-fipa-ra` emits when
    /// the callee leaves X11 alone: X11 is read only after the second call,
    /// through a reload there, so the first call must store it although no
    /// variable needs it at its return site; X12 nobody reads again. The
    /// return stores X0 and not X3.
    #[test]
    fn a_scratch_register_read_after_a_later_call_is_stored_at_the_first() {
        let (mut f, [first, second, last]) = function([0x2000, 0x2004, 0x2008]);
        let mut b = f.builder(first);
        let v = b.get_reg(Type::I64, 0);
        b.set_reg(v, 11);
        b.set_reg(v, 12);
        b.terminate(Terminator::Call {
            target: 0x9000,
            ret: 0x2004,
            cont: second,
        });
        f.builder(second).terminate(Terminator::Call {
            target: 0x9000,
            ret: 0x2008,
            cont: last,
        });
        let mut b = f.builder(last);
        let v = b.get_reg(Type::I64, 11);
        b.set_reg(v, 0);
        b.set_reg(v, 3);
        ret(&mut f, last);
        let graph = BlockGraph::new(&f, &[]);
        let no_safepoints = SecondaryMap::new();
        let flow = StateFlow::new(&f, &graph, &no_safepoints, false, &FxHashSet::default(), 0);
        let (x11, x12) = (1 << 11, 1 << 12);
        assert_eq!(flow.live_in[second] & x11, 0, "no variable holds X11 there");
        assert_eq!(flow.exit_stores(&f, first) & (x11 | x12), x11);
        // X0 is a result, stored at the return; X3 is not.
        assert_eq!(flow.exit_stores(&f, last), 1);
        let strict = StateFlow::new(&f, &graph, &no_safepoints, true, &FxHashSet::default(), 0);
        assert_eq!(strict.exit_stores(&f, first) & (x11 | x12), x11 | x12);
        assert_eq!(strict.exit_stores(&f, last), 1 | 1 << 3);
        flow.check(&f, &f.entries, &graph, &no_safepoints);
    }

    /// 0x3000 writes X3 (a temporary) and X19, then loops at 0x3004 on X0
    /// (a safe point) and returns at 0x3008: the safe point stores X19,
    /// which the return passes back, and not X3, which nothing reads again
    /// (with `strict`, the return stores X3 too, so the safe point does).
    #[test]
    fn a_safe_point_stores_only_the_dirty_registers_live_there() {
        let (mut f, [entry, body, exit]) = function([0x3000, 0x3004, 0x3008]);
        let mut b = f.builder(entry);
        let v = b.get_reg(Type::I64, 1);
        b.set_reg(v, 3);
        b.set_reg(v, 19);
        b.terminate(Terminator::Jump(body));
        branch_on(&mut f, body, 0, body, exit);
        ret(&mut f, exit);
        let graph = BlockGraph::new(&f, &[]);
        let mut safepoints = SecondaryMap::new();
        safepoints[body] = true;
        let (x3, x19) = (1 << 3, 1 << 19);
        let flow = StateFlow::new(&f, &graph, &safepoints, false, &FxHashSet::default(), 0);
        assert_eq!(flow.dirty_in[body] & (x3 | x19), x3 | x19);
        assert_eq!(flow.safepoint_stores(body) & (x3 | x19), x19);
        flow.check(&f, &f.entries, &graph, &safepoints);
        let strict = StateFlow::new(&f, &graph, &safepoints, true, &FxHashSet::default(), 0);
        assert_eq!(strict.safepoint_stores(body) & (x3 | x19), x3 | x19);
    }
}
