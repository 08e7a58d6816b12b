//! Recognising gcc/clang AArch64 switch lowering behind a `BR`.
//!
//! The shape, found by a backward slice along one path of predecessors:
//!
//! ```text
//! cmp   wI, #N            ; bound (b.hi default / b.ls in-range, or hs/lo)
//! b.hi  default
//! adrp  xT, table         ; or adr xT, table
//! add   xT, xT, :lo12:table
//! ldrb  wE, [xT, wI, uxtw]        ; or ldrh ..uxtw #1 / ldr ..uxtw #2, signed forms
//! adr   xB, base          ; or adrp+add
//! add   xD, xB, wE, sxtb #2       ; sxth/sxtw/uxtb/uxth/uxtw/lsl
//! br    xD
//! ```
//!
//! Invariants: a table is reported only when every piece of the slice is
//! found, no instruction between a definition and its use redefines the
//! register, the bound is proven by the branch taken on the path, and every
//! target is code. Anything else is "not a table" (the BR stays an indirect
//! branch), never a guess.

use super::decode::{decode_at, gpr, CodeCache, Flow};
use crate::elf::load::GuestImage;
use rustc_hash::{FxHashMap, FxHashSet};
use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, ShiftStyle, SizeCode};

/// Largest table accepted (entries).
const MAX_ENTRIES: u64 = 1 << 16;

/// One step of the backward path: an instruction address, and for a
/// conditional branch whether the path continued along its taken edge.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    /// Address of the instruction.
    pub addr: u64,
    /// The later instruction on the path is this branch's target.
    pub taken: bool,
}

/// A recognised table.
pub(super) struct Recognised {
    /// Register holding the index at the table load.
    pub index_reg: u8,
    /// Register the BR jumps through.
    pub target_reg: u8,
    /// Address of the table load.
    pub load_addr: u64,
    /// Target of each index.
    pub targets: Vec<u64>,
    /// Addresses of the slice's ADR/ADRP/ADD instructions (their results
    /// are table and base addresses, not code pointers).
    pub slice: Vec<u64>,
}

/// The decoded path, most recent instruction first.
struct Path<'a> {
    steps: &'a [Step],
    insts: Vec<Option<Instruction>>,
    image: &'a GuestImage,
    body: &'a Body<'a>,
}

/// The function reached so far: its instructions and their (already
/// decoded) flows.
pub(super) struct Body<'a> {
    /// Decoded flows.
    pub code: &'a CodeCache<'a>,
    /// Every instruction reached.
    pub insns: &'a FxHashSet<u64>,
    /// The BR being resolved and the targets assumed for it (none on the
    /// first, optimistic pass; the recognised ones on the checking pass).
    pub own: (u64, Vec<u64>),
}

impl Body<'_> {
    /// The instructions from which control can reach `to` inside the
    /// function (`to` included). Other unresolved indirect branches are
    /// assumed not to jump into the slice: recognition is optimistic, and
    /// the lifter checks at run time that the `BR` target equals the table
    /// entry, falling back to the code lookup table when it does not.
    fn reaching(&self, to: u64) -> FxHashSet<u64> {
        let mut preds: FxHashMap<u64, Vec<u64>> = FxHashMap::default();
        let mut work = vec![to];
        for &pc in self.insns {
            let next = pc.wrapping_add(4);
            if pc == self.own.0 {
                for &t in &self.own.1 {
                    preds.entry(t).or_default().push(pc);
                }
                continue;
            }
            match self.code.peek(pc) {
                Some(Flow::Jump(t)) => preds.entry(t).or_default().push(pc),
                Some(Flow::CondJump(t)) => {
                    preds.entry(t).or_default().push(pc);
                    preds.entry(next).or_default().push(pc);
                }
                Some(f) if f.falls_through() => preds.entry(next).or_default().push(pc),
                _ => {}
            }
        }
        let mut reach: FxHashSet<u64> = FxHashSet::default();
        while let Some(pc) = work.pop() {
            if reach.insert(pc) {
                if let Some(p) = preds.get(&pc) {
                    work.extend(p.iter().copied());
                }
            }
        }
        reach
    }

    /// Whether the instruction at `pc` passes control to one in `reach`.
    fn flows_into(&self, pc: u64, reach: &FxHashSet<u64>) -> bool {
        let next = pc.wrapping_add(4);
        if pc == self.own.0 {
            return self.own.1.iter().any(|t| reach.contains(t));
        }
        match self.code.peek(pc) {
            Some(Flow::Jump(t)) => reach.contains(&t),
            Some(Flow::CondJump(t)) => reach.contains(&t) || reach.contains(&next),
            Some(f) if f.falls_through() => reach.contains(&next),
            _ => false,
        }
    }
}

impl Path<'_> {
    fn inst(&self, i: usize) -> Option<&Instruction> {
        self.insts.get(i)?.as_ref()
    }

    /// Index of the nearest instruction at or after `from` (going back in
    /// time) that may write register `reg`.
    fn def(&self, from: usize, reg: u8) -> Option<usize> {
        (from..self.steps.len()).find(|&i| self.inst(i).is_none_or(|inst| writes(inst, reg)))
    }

    /// Every instruction of the function body that may write `reg` and
    /// whose value can reach `to`, in address order. Calls are not treated
    /// as writes: recognition is optimistic (see [`recognise`]).
    fn body_defs(&self, reg: u8, to: u64) -> Vec<(u64, Instruction)> {
        let reach = self.body.reaching(to);
        let mut addrs: Vec<u64> = self.body.insns.iter().copied().collect();
        addrs.sort_unstable();
        let mut defs = Vec::new();
        for addr in addrs {
            if !self.body.flows_into(addr, &reach) {
                continue;
            }
            // An undecodable word traps: nothing it might write flows on.
            let Some(inst) = decode_at(self.image, addr) else {
                continue;
            };
            if writes(&inst, reg) {
                defs.push((addr, inst));
            }
        }
        defs
    }
}

/// Whether `inst` may write general-purpose register `reg` (conservative:
/// unknown shapes count as writes).
fn writes(inst: &Instruction, reg: u8) -> bool {
    let ops = &inst.operands;
    let writeback = ops.iter().any(|op| match *op {
        Operand::RegPreIndex(base, _, true) | Operand::RegPostIndex(base, _) => {
            u16::from(reg) == base
        }
        Operand::RegPostIndexReg(base, _) => u16::from(reg) == base,
        _ => false,
    });
    if writeback {
        return true;
    }
    let name = inst.opcode.to_string();
    let is_plain_store = name.starts_with("st") && !name.contains('x');
    let reads_only = is_plain_store
        || matches!(
            inst.opcode,
            Opcode::CBZ
                | Opcode::CBNZ
                | Opcode::TBZ
                | Opcode::TBNZ
                | Opcode::Bcc(_)
                | Opcode::B
                | Opcode::BR
                | Opcode::RET
                | Opcode::HINT
                | Opcode::PRFM
                | Opcode::DMB(_)
                | Opcode::DSB(_)
                | Opcode::ISB
        );
    if reads_only {
        return false;
    }
    if matches!(inst.opcode, Opcode::BL | Opcode::BLR) && reg == 30 {
        return true;
    }
    // Operand 0 is the destination; load pairs and atomics also write
    // operand 1. Be conservative: any register in operands 0..2 that is not
    // a memory operand counts for those.
    let pairish = name.starts_with("ld") || name.starts_with("cas") || name.starts_with("swp");
    let limit = if pairish { 2 } else { 1 };
    ops.iter().take(limit).any(|op| gpr(op) == Some(reg))
}

/// Recognises the switch behind the BR at `br_addr`, given the path of
/// instructions executed before it (most recent first).
///
/// `body` is used for table and base addresses computed before the path's
/// start (hoisted out of a loop): the definitions of their register that
/// reach the use must all compute the same address.
///
/// A hoisted address is found assuming the BR goes nowhere. Recognition is
/// optimistic: the lifter takes a table entry only when the BR target at
/// run time equals it.
pub(super) fn recognise(
    image: &GuestImage,
    br_addr: u64,
    steps: &[Step],
    body: &mut Body<'_>,
) -> Option<Recognised> {
    body.own = (br_addr, Vec::new());
    recognise_once(image, br_addr, steps, body)
}

/// One recognition attempt with the BR's successors as in `body.own`.
fn recognise_once(
    image: &GuestImage,
    br_addr: u64,
    steps: &[Step],
    body: &Body<'_>,
) -> Option<Recognised> {
    let br = decode_at(image, br_addr)?;
    if br.opcode != Opcode::BR {
        return None;
    }
    let target_reg = gpr(&br.operands[0])?;
    let path = Path {
        steps,
        insts: steps.iter().map(|s| decode_at(image, s.addr)).collect(),
        image,
        body,
    };
    let mut slice = Vec::new();

    // add xD, xB, wE, <ext> #s
    let i_add = path.def(0, target_reg)?;
    let add = path.inst(i_add)?;
    let (base_reg, ext, shift, entry_reg) = match (add.opcode, add.operands) {
        (Opcode::ADD, [d, b, Operand::RegShift(style, amount, size, e), Operand::Nothing])
            if gpr(&d) == Some(target_reg) && amount <= 4 =>
        {
            (
                gpr(&b)?,
                extension(style, size)?,
                amount,
                u8::try_from(e).ok()?,
            )
        }
        _ => return None,
    };
    let base = address_in(&path, i_add + 1, base_reg, &mut slice)?;
    // The table load.
    let i_load = path.def(i_add + 1, entry_reg)?;
    let load = path.inst(i_load)?;
    let (width, signed): (u64, bool) = match load.opcode {
        Opcode::LDRB => (1, false),
        Opcode::LDRSB => (1, true),
        Opcode::LDRH => (2, false),
        Opcode::LDRSH => (2, true),
        Opcode::LDR => (4, false),
        Opcode::LDRSW => (4, true),
        _ => return None,
    };
    let (dest_size, table_reg, index_reg, index_size, index_style, index_shift) = match load
        .operands
    {
        [Operand::Register(size, e), Operand::RegRegOffset(t, i, isize, style, amount), Operand::Nothing, Operand::Nothing]
            if u16::from(entry_reg) == e =>
        {
            (
                size,
                u8::try_from(t).ok()?,
                u8::try_from(i).ok()?,
                isize,
                style,
                amount,
            )
        }
        _ => return None,
    };
    if width == 4 && !signed && dest_size != SizeCode::W {
        return None; // a 64-bit LDR: not a table of offsets
    }
    let scale = width.trailing_zeros() as u8;
    if index_shift != scale && !(width == 1 && index_shift == 0) {
        return None;
    }
    let index_is_w = match (index_size, index_style) {
        (SizeCode::W, ShiftStyle::UXTW) => true,
        (SizeCode::X, ShiftStyle::LSL | ShiftStyle::UXTX) => false,
        _ => return None,
    };
    let table = address_in(&path, i_load + 1, table_reg, &mut slice)?;
    let count = bound(&path, i_load + 1, index_reg, index_is_w)?;
    if count == 0 || count > MAX_ENTRIES {
        return None;
    }
    let bytes = image.read(table, usize::try_from(count.checked_mul(width)?).ok()?)?;
    let mut targets = Vec::new();
    for raw in bytes.chunks_exact(width as usize) {
        let mut buf = [0u8; 8];
        buf[..raw.len()].copy_from_slice(raw);
        let mut value = u64::from_le_bytes(buf);
        if signed {
            let bits = 64 - 8 * width as u32;
            value = (((value << bits) as i64) >> bits) as u64;
        }
        if dest_size == SizeCode::W {
            value &= 0xffff_ffff;
        }
        let target = base.wrapping_add(ext.apply(value) << shift);
        if !image.is_code(target) {
            return None;
        }
        targets.push(target);
    }
    Some(Recognised {
        index_reg,
        target_reg,
        load_addr: steps.get(i_load)?.addr,
        targets,
        slice,
    })
}

/// How the ADD extends the loaded entry.
#[derive(Clone, Copy)]
enum Extend {
    Signed(u32),
    Unsigned(u32),
    Full,
}

impl Extend {
    fn apply(self, v: u64) -> u64 {
        match self {
            Extend::Signed(bits) => (((v << (64 - bits)) as i64) >> (64 - bits)) as u64,
            Extend::Unsigned(bits) => v & (u64::MAX >> (64 - bits)),
            Extend::Full => v,
        }
    }
}

fn extension(style: ShiftStyle, size: SizeCode) -> Option<Extend> {
    Some(match style {
        ShiftStyle::SXTB => Extend::Signed(8),
        ShiftStyle::SXTH => Extend::Signed(16),
        ShiftStyle::SXTW => Extend::Signed(32),
        ShiftStyle::UXTB => Extend::Unsigned(8),
        ShiftStyle::UXTH => Extend::Unsigned(16),
        ShiftStyle::UXTW => Extend::Unsigned(32),
        ShiftStyle::LSL if size == SizeCode::W => Extend::Unsigned(32),
        ShiftStyle::LSL | ShiftStyle::UXTX | ShiftStyle::SXTX => Extend::Full,
        _ => return None,
    })
}

/// The constant address in `reg` at path position `from`: `adr reg, a` or
/// `adrp r, page; add reg, r, #lo12`. Records the instructions in `slice`.
fn address_in(path: &Path<'_>, from: usize, reg: u8, slice: &mut Vec<u64>) -> Option<u64> {
    let Some(i) = path.def(from, reg) else {
        let user = path.steps.get(from.checked_sub(1)?)?.addr;
        return hoisted_address(path, reg, user, slice);
    };
    let inst = path.inst(i)?;
    let addr = path.steps.get(i)?.addr;
    match (inst.opcode, inst.operands) {
        (Opcode::ADR, [_, Operand::PCOffset(off), ..]) => {
            slice.push(addr);
            Some(addr.wrapping_add(off as u64))
        }
        (
            Opcode::LDR | Opcode::LDUR,
            [Operand::Register(SizeCode::X, _), Operand::RegPreIndex(SP, off, false), ..],
        ) => spilled_address(path, addr, off, slice),
        (
            Opcode::ADD,
            [Operand::RegisterOrSP(SizeCode::X, _), Operand::RegisterOrSP(SizeCode::X, src), Operand::Immediate(imm), Operand::Nothing],
        ) => {
            let j = path.def(i + 1, u8::try_from(src).ok()?)?;
            let adrp = path.inst(j)?;
            let adrp_addr = path.steps.get(j)?.addr;
            match (adrp.opcode, adrp.operands) {
                (Opcode::ADRP, [_, Operand::PCOffset(off), ..]) => {
                    slice.push(addr);
                    slice.push(adrp_addr);
                    Some(
                        (adrp_addr & !0xfff)
                            .wrapping_add(off as u64)
                            .wrapping_add(u64::from(imm)),
                    )
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The constant address in `reg` at `user` when the path ran out before
/// its definition: `reg` must be written (among definitions that reach
/// `user`) only by `adr reg, a`, or by
/// `adrp reg, page` followed by `add reg, reg, #lo12`, or by a single
/// `add reg, r, #lo12` whose `r` is written only by one ADRP.
fn hoisted_address(path: &Path<'_>, reg: u8, user: u64, slice: &mut Vec<u64>) -> Option<u64> {
    // Only address-forming definitions can produce a table address; any
    // other definition that reaches the use is caught by the run-time check.
    let defs: Vec<_> = path
        .body_defs(reg, user)
        .into_iter()
        .filter(|(_, i)| {
            matches!(i.opcode, Opcode::ADR | Opcode::ADRP | Opcode::ADD) || stack_load(i).is_some()
        })
        .collect();
    if let [(load, inst)] = defs.as_slice() {
        if let Some(off) = stack_load(inst) {
            return spilled_address(path, *load, off, slice);
        }
    }
    let adrp_page = |(addr, inst): &(u64, Instruction)| match (inst.opcode, inst.operands) {
        (Opcode::ADRP, [_, Operand::PCOffset(off), ..]) => {
            Some((addr & !0xfff).wrapping_add(off as u64))
        }
        _ => None,
    };
    let add_imm = |inst: &Instruction| match (inst.opcode, inst.operands) {
        (
            Opcode::ADD,
            [Operand::RegisterOrSP(SizeCode::X, _), Operand::RegisterOrSP(SizeCode::X, src), Operand::Immediate(imm), Operand::Nothing],
        ) => Some((u8::try_from(src).ok()?, u64::from(imm))),
        _ => None,
    };
    match defs.as_slice() {
        [(addr, inst)] if inst.opcode == Opcode::ADR => match inst.operands[1] {
            Operand::PCOffset(off) => {
                slice.push(*addr);
                Some(addr.wrapping_add(off as u64))
            }
            _ => None,
        },
        [first, (add_addr, add)] => {
            let page = adrp_page(first)?;
            let (src, imm) = add_imm(add)?;
            (src == reg).then(|| {
                slice.extend([first.0, *add_addr]);
                page.wrapping_add(imm)
            })
        }
        [(add_addr, add)] => {
            let (src, imm) = add_imm(add)?;
            match path.body_defs(src, *add_addr).as_slice() {
                [adrp] => {
                    let page = adrp_page(adrp)?;
                    slice.extend([adrp.0, *add_addr]);
                    Some(page.wrapping_add(imm))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Register number of SP in a base-register operand.
const SP: u16 = 31;

/// Instructions searched backwards from a spill for the address it stores.
const SPILL_WINDOW: u64 = 12;

/// The stack-slot offset of `ldr xT, [sp, #off]` (or LDUR).
fn stack_load(inst: &Instruction) -> Option<i32> {
    match (inst.opcode, inst.operands) {
        (
            Opcode::LDR | Opcode::LDUR,
            [Operand::Register(SizeCode::X, _), Operand::RegPreIndex(SP, off, false), ..],
        ) => Some(off),
        _ => None,
    }
}

/// What a store does to the 8-byte stack slot at `[sp, #off]`.
enum SlotWrite {
    /// Does not touch it.
    None,
    /// Stores 64-bit register `r` in it.
    Reg(u8),
    /// Writes part of it or something unknown.
    Clobber,
}

fn slot_write(inst: &Instruction, off: i32) -> SlotWrite {
    let name = inst.opcode.to_string();
    if !name.starts_with("st") {
        return SlotWrite::None;
    }
    let (regs, mem): (&[Operand], Operand) = match inst.operands {
        [_, mem @ Operand::RegPreIndex(..), ..] => (&inst.operands[..1], mem),
        [_, _, mem @ Operand::RegPreIndex(..), ..] => (&inst.operands[..2], mem),
        _ => return SlotWrite::None,
    };
    let Operand::RegPreIndex(base, at, wb) = mem else {
        return SlotWrite::None;
    };
    if base != SP {
        return SlotWrite::None;
    }
    let width = match regs[0] {
        Operand::Register(SizeCode::X, _) => 8,
        Operand::Register(SizeCode::W, _) => 4,
        _ => 16, // vector registers: up to a Q register each
    };
    let len = width * regs.len() as i32;
    if at + len <= off || off + 8 <= at {
        return SlotWrite::None;
    }
    if wb || width != 8 || (off - at) % 8 != 0 {
        return SlotWrite::Clobber;
    }
    match regs[((off - at) / 8) as usize] {
        Operand::Register(SizeCode::X, r) => {
            u8::try_from(r).map_or(SlotWrite::Clobber, SlotWrite::Reg)
        }
        _ => SlotWrite::Clobber,
    }
}

/// The constant address in the stack slot `[sp, #off]` that the load at
/// `load` reads: gcc computed a table address once, spilled it, and
/// reloads it before each use. Every store to the slot in the function
/// that can reach the load must store a register holding the same
/// `adr` / `adrp`+`add` address, computed in the few instructions before
/// the store. Optimistic like the rest (stores through other pointers and
/// SP changes are not seen): the lifter checks the target at run time.
fn spilled_address(path: &Path<'_>, load: u64, off: i32, slice: &mut Vec<u64>) -> Option<u64> {
    let reach = path.body.reaching(load);
    let mut addrs: Vec<u64> = path.body.insns.iter().copied().collect();
    addrs.sort_unstable();
    let mut value = None;
    for at in addrs {
        if at == load || !path.body.flows_into(at, &reach) {
            continue;
        }
        let Some(inst) = decode_at(path.image, at) else {
            continue;
        };
        let reg = match slot_write(&inst, off) {
            SlotWrite::None => continue,
            // Prologue saves before the frame is allocated address another
            // SP.
            _ if sp_changes_after(path, at) => continue,
            SlotWrite::Clobber => return None,
            SlotWrite::Reg(r) => r,
        };
        let v = local_address(path, at, reg, slice)?;
        if value.replace(v).is_some_and(|old| old != v) {
            return None;
        }
    }
    value
}

/// Whether SP changes in the straight-line code shortly after `at` (then a
/// store at `at` is part of a prologue, relative to another SP than the
/// function body).
fn sp_changes_after(path: &Path<'_>, at: u64) -> bool {
    (1..=SPILL_WINDOW)
        .map(|k| at.wrapping_add(4 * k))
        .take_while(|a| path.body.insns.contains(a))
        .filter_map(|a| decode_at(path.image, a))
        .take_while(|i| !matches!(i.opcode, Opcode::B | Opcode::BL | Opcode::RET | Opcode::BR))
        .any(|i| writes_sp(&i))
}

/// Whether `inst` writes SP (ADD/SUB to SP, or a writeback on SP).
fn writes_sp(inst: &Instruction) -> bool {
    let to_sp = matches!(inst.opcode, Opcode::ADD | Opcode::SUB)
        && matches!(inst.operands[0], Operand::RegisterOrSP(_, SP));
    to_sp
        || inst.operands.iter().any(|op| {
            matches!(
                *op,
                Operand::RegPreIndex(SP, _, true) | Operand::RegPostIndex(SP, _)
            )
        })
}

/// The `adr reg, a` or `adrp r, page; add reg, r, #lo12` address in `reg`
/// just before `user`, searching back [`SPILL_WINDOW`] instructions of the
/// function.
fn local_address(path: &Path<'_>, user: u64, reg: u8, slice: &mut Vec<u64>) -> Option<u64> {
    let writer = |from: u64, r: u8| {
        (1..=SPILL_WINDOW)
            .map(|k| from.wrapping_sub(4 * k))
            .take_while(|a| path.body.insns.contains(a))
            .find_map(|a| {
                let inst = decode_at(path.image, a)?;
                writes(&inst, r).then_some((a, inst))
            })
    };
    let (at, inst) = writer(user, reg)?;
    match (inst.opcode, inst.operands) {
        (Opcode::ADR, [_, Operand::PCOffset(o), ..]) => {
            slice.push(at);
            Some(at.wrapping_add(o as u64))
        }
        (
            Opcode::ADD,
            [Operand::RegisterOrSP(SizeCode::X, _), Operand::RegisterOrSP(SizeCode::X, src), Operand::Immediate(imm), Operand::Nothing],
        ) => {
            let src = u8::try_from(src).ok()?;
            // The page is often formed once for several addresses, further
            // back: then it must be the only definition reaching the add.
            let (pat, page) =
                writer(at, src).or_else(|| match path.body_defs(src, at).as_slice() {
                    [only] => Some(*only),
                    _ => None,
                })?;
            match (page.opcode, page.operands) {
                (Opcode::ADRP, [_, Operand::PCOffset(o), ..]) => {
                    slice.extend([pat, at]);
                    Some(
                        (pat & !0xfff)
                            .wrapping_add(o as u64)
                            .wrapping_add(u64::from(imm)),
                    )
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Number of table entries proven by a `cmp index, #N` and the conditional
/// branch the path took after it, searching from path position `from`.
fn bound(path: &Path<'_>, from: usize, index: u8, index_is_w: bool) -> Option<u64> {
    let stop = path.def(from, index).unwrap_or(path.steps.len());
    // The nearest conditional branch before the load, then the nearest
    // flag-setting instruction before that branch, which must be the cmp.
    let i_branch = (from..stop).find(|&i| {
        path.inst(i)
            .is_some_and(|inst| matches!(inst.opcode, Opcode::Bcc(_)) || sets_flags(inst))
    })?;
    let branch = path.inst(i_branch)?;
    let Opcode::Bcc(cond) = branch.opcode else {
        return None; // flags were set after the bound check
    };
    let taken = path.steps.get(i_branch)?.taken;
    let i_cmp = (i_branch + 1..path.steps.len()).find(|&i| path.inst(i).is_none_or(sets_flags))?;
    if i_cmp >= stop {
        return None; // the index was redefined after the comparison
    }
    let cmp = path.inst(i_cmp)?;
    let (size, n) = match (cmp.opcode, cmp.operands) {
        (
            Opcode::SUBS,
            [Operand::Register(_, 31), Operand::RegisterOrSP(size, r), Operand::Immediate(n), Operand::Nothing],
        ) if u16::from(index) == r || copied_from(path, stop, i_cmp, index, r) => {
            (size, u64::from(n))
        }
        _ => return None,
    };
    if size == SizeCode::W && !index_is_w {
        return None; // upper half of the 64-bit index unchecked
    }
    // hi = 8, ls = 9, hs = 2, lo = 3.
    match (cond, taken) {
        (9, true) | (8, false) => n.checked_add(1),
        (3, true) | (2, false) => Some(n),
        _ => None,
    }
}

/// Whether the instruction at path position `i_mov` is `mov index, r`
/// (32-bit) and `r` is not written between it and the comparison at
/// `i_cmp`: gcc compares the source of the copy (`mov w1, w0; cmp w0, #N;
/// b.hi ...; ldrb w2, [x2, w1, uxtw]`).
fn copied_from(path: &Path<'_>, i_mov: usize, i_cmp: usize, index: u8, r: u16) -> bool {
    let Some(mov) = path.inst(i_mov) else {
        return false;
    };
    let src = match (mov.opcode, mov.operands) {
        (
            Opcode::ORR,
            [Operand::Register(SizeCode::W, d), Operand::Register(_, 31), Operand::Register(SizeCode::W, src)
            | Operand::RegShift(ShiftStyle::LSL, 0, SizeCode::W, src), Operand::Nothing],
        ) if d == u16::from(index) => src,
        _ => return false,
    };
    let Ok(r8) = u8::try_from(r) else {
        return false;
    };
    src == r && r != 31 && path.def(i_cmp + 1, r8).is_none_or(|d| d >= i_mov)
}

/// Whether `inst` writes NZCV.
fn sets_flags(inst: &Instruction) -> bool {
    matches!(
        inst.opcode,
        Opcode::ADDS
            | Opcode::SUBS
            | Opcode::ANDS
            | Opcode::BICS
            | Opcode::ADCS
            | Opcode::SBCS
            | Opcode::CCMP
            | Opcode::CCMN
            | Opcode::FCMP
            | Opcode::FCMPE
            | Opcode::FCCMP
            | Opcode::FCCMPE
            | Opcode::MSR
    )
}
