//! The AArch64 lifter: turns one discovered guest function into an IR
//! function.
//!
//! `lift_function` walks the blocks discovery found, decodes each
//! instruction once and dispatches on yaxpeax-arm's opcode to a handler in
//! the file for its Arm ARM class. An instruction we cannot lift ends its
//! block with a `Trap` naming the PC, the word and the disassembly; lifting
//! carries on with the next block.

pub mod arith;
pub mod atomic;
pub mod bits;
pub mod branch;
pub mod cond;
pub mod crc;
pub mod crypto;
pub mod ctx;
pub mod decode;
pub mod extensions;
pub mod fp;
pub mod ldst;
pub mod simd;
pub mod simd_lanes;
pub mod simd_misc;
pub mod simd_sat;
pub mod simd_wide;
pub mod system;
pub mod unallocated;
pub mod vfp;
pub mod words;

use rustc_hash::FxHashMap;
use yaxpeax_arm::armv8::a64::{Instruction, Opcode};

use crate::elf::{CodeMap, FuncInfo, GuestImage, JumpTable};
use crate::ir::{Block, Function, Terminator, TrapKind};
use ctx::{unsupported, Ctx, Lift, Targets};

/// Statistics from lifting one function.
#[derive(Default, Clone, Debug)]
pub struct LiftStats {
    /// Instructions lifted.
    pub insts: usize,
    /// Instructions that became traps: `(pc, word, disassembly)`.
    pub traps: Vec<(u64, u32, String)>,
    /// The host libc routine the function is bound to, if any.
    pub bound: Option<crate::ir::Routine>,
}

struct FuncTargets<'a> {
    code: &'a CodeMap,
    blocks: FxHashMap<u64, Block>,
}

/// Jump-table loads: the address of each table load (`LDRB`/`LDRH`/`LDR`)
/// with its table, so the lifter can capture the index there.
pub type TableLoads<'a> = FxHashMap<u64, &'a JumpTable>;

/// Indexes `code`'s jump tables by the address of their table load.
pub fn table_loads(code: &CodeMap) -> TableLoads<'_> {
    code.jump_tables
        .values()
        .map(|jt| (jt.load_addr, jt))
        .collect()
}

impl Targets for FuncTargets<'_> {
    fn block_for(&mut self, func: &mut Function, pc: u64) -> Block {
        if let Some(b) = self.blocks.get(&pc) {
            return *b;
        }
        let stub = func.create_block(pc);
        func.blocks[stub].term = Terminator::TailCall { target: pc };
        self.blocks.insert(pc, stub);
        stub
    }

    fn jump_table(&mut self, func: &mut Function, br_pc: u64) -> Option<Vec<(u64, Block)>> {
        let jt = self.code.jump_tables.get(&br_pc)?;
        Some(
            jt.targets
                .iter()
                .map(|t| (*t, self.block_for(func, *t)))
                .collect(),
        )
    }
}

/// Lifts `info` to an IR function.
pub fn lift_function(
    image: &GuestImage,
    code: &CodeMap,
    loads: &TableLoads,
    info: &FuncInfo,
) -> (Function, LiftStats) {
    let name = info
        .name
        .clone()
        .unwrap_or_else(|| format!("sub_{:x}", info.entry));
    let mut func = Function::new(name, info.entry);
    func.aapcs_entry = match info.name.as_deref() {
        Some(name) => !name.contains(".cold"),
        None => info.called,
    };
    let mut targets = FuncTargets {
        code,
        blocks: FxHashMap::default(),
    };
    for bi in &info.blocks {
        let b = func.create_block(bi.start);
        targets.blocks.insert(bi.start, b);
    }
    let mut stats = LiftStats::default();
    for bi in &info.blocks {
        let block = targets.blocks[&bi.start];
        lift_block(
            image,
            loads,
            &mut func,
            &mut targets,
            block,
            (bi.start, bi.end),
            &mut stats,
        );
    }
    let entry_block = targets.block_for(&mut func, info.entry);
    func.entries.push((info.entry, entry_block));
    let mut resume: Vec<(u64, Block)> = Vec::new();
    for (_, data) in func.blocks.iter() {
        if let Terminator::Call { ret, cont, .. } | Terminator::CallIndirect { ret, cont, .. } =
            data.term
        {
            resume.push((ret, cont));
        }
    }
    for pc in &info.extra_entries {
        let b = targets.block_for(&mut func, *pc);
        resume.push((*pc, b));
    }
    resume.sort_by_key(|e| e.0);
    resume.dedup_by_key(|e| e.0);
    func.entries
        .extend(resume.into_iter().filter(|e| e.0 != info.entry));
    (func, stats)
}

fn lift_block(
    image: &GuestImage,
    loads: &TableLoads,
    func: &mut Function,
    targets: &mut FuncTargets,
    block: Block,
    (start, end): (u64, u64),
    stats: &mut LiftStats,
) {
    let mut pc = start;
    let mut table_index = None;
    while pc < end {
        if let Some(jt) = loads
            .get(&pc)
            .filter(|jt| jt.br_addr > pc && jt.br_addr < end)
        {
            let mut b = func.builder(block);
            b.pc = pc;
            table_index = Some(b.get_reg(crate::ir::Type::I64, jt.index_reg));
        }
        let word = image.read_u32(pc).unwrap_or(0);
        stats.insts += 1;
        if let Some(text) = lift_one(image, func, block, targets, (pc, word), table_index) {
            stats.traps.push((pc, word, text));
            return;
        }
        if func.blocks[block].term != Terminator::Unset {
            return;
        }
        pc += 4;
    }
    let next = targets.block_for(func, end);
    func.blocks[block].term = Terminator::Jump(next);
}

/// Lifts the instruction `word` at `pc` into `block`. One that cannot be
/// lifted ends the block with a trap; its disassembly is returned.
pub(crate) fn lift_one(
    image: &GuestImage,
    func: &mut Function,
    block: Block,
    targets: &mut dyn Targets,
    (pc, word): (u64, u32),
    table_index: Option<crate::ir::Value>,
) -> Option<String> {
    let mut b = func.builder(block);
    b.pc = pc;
    let mut cx = Ctx {
        b,
        image,
        pc,
        word,
        targets,
        table_index,
    };
    let lifted = match decode::decode(word) {
        Some(i) => lift_inst(&mut cx, &i),
        None => unsupported("undecodable"),
    };
    if lifted.is_ok() {
        return None;
    }
    let text = decode::disassemble(word);
    func.blocks[block].term = Terminator::Trap {
        pc,
        word,
        kind: TrapKind::Undefined(text.clone()),
    };
    Some(text)
}

/// Dispatches one decoded instruction to its handler.
fn lift_inst(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    // Vector forms share mnemonics with the general-register ones.
    if simd::shadows_general(i) {
        return simd::lift(cx, i);
    }
    match i.opcode {
        ADD => arith::add_sub(cx, i, false, false),
        ADDS => arith::add_sub(cx, i, false, true),
        SUB => arith::add_sub(cx, i, true, false),
        SUBS => arith::add_sub(cx, i, true, true),
        ADC => arith::add_carry(cx, i, false, false),
        ADCS => arith::add_carry(cx, i, false, true),
        SBC => arith::add_carry(cx, i, true, false),
        SBCS => arith::add_carry(cx, i, true, true),
        AND | ANDS | ORR | ORN | EOR | EON | BIC | BICS => arith::logical(cx, i),
        MOVZ | MOVN | MOVK => arith::move_wide(cx, i),
        ADR | ADRP => arith::pc_relative(cx, i),
        CSEL | CSINC | CSINV | CSNEG => arith::cond_select(cx, i),
        CCMP | CCMN => arith::cond_compare(cx, i),
        UBFM | SBFM | BFM => bits::bitfield(cx, i),
        EXTR => bits::extract(cx, i),
        LSLV | LSRV | ASRV | RORV => bits::shift_reg(cx, i),
        CLZ | CLS | RBIT | REV | REV16 | REV32 => bits::unary(cx, i),
        MADD | MSUB | SMADDL | SMSUBL | UMADDL | UMSUBL | SMULH | UMULH | UDIV | SDIV => {
            bits::mul_div(cx, i)
        }
        B => branch::b(cx, i),
        BL => branch::bl(cx, i),
        Bcc(cc) => branch::b_cond(cx, i, cc),
        CBZ | CBNZ => branch::cbz(cx, i),
        TBZ | TBNZ => branch::tbz(cx, i),
        BR => branch::br(cx, i),
        BLR => branch::blr(cx, i),
        RET => branch::ret(cx, i),
        SVC => branch::svc(cx),
        BRK | HLT | UDF => branch::trap(cx, i),
        LDR | LDRB | LDRH | LDRSB | LDRSH | LDRSW | LDUR | LDURB | LDURH | LDURSB | LDURSH
        | LDURSW | LDTR | LDTRB | LDTRH | LDTRSB | LDTRSH | LDTRSW | STR | STRB | STRH | STUR
        | STURB | STURH | STTR | STTRB | STTRH => ldst::single(cx, i),
        LDP | STP | LDPSW | LDNP | STNP => ldst::pair(cx, i),
        LD1 | ST1 => ldst::ld1_st1(cx, i),
        LD2 | LD3 | LD4 | ST2 | ST3 | ST4 => ldst::ld_st_n(cx, i),
        LD1R | LD2R | LD3R | LD4R => ldst::ld_replicate(cx, i),
        LDXR | LDAXR | LDXRB | LDAXRB | LDXRH | LDAXRH => atomic::load_exclusive(cx, i),
        LDXP | LDAXP => atomic::load_exclusive_pair(cx, i),
        STXP | STLXP => atomic::store_exclusive_pair(cx, i),
        STXR | STLXR | STXRB | STLXRB | STXRH | STLXRH => atomic::store_exclusive(cx, i),
        LDAR | LDARB | LDARH | LDAPR | LDAPRB | LDAPRH | LDLAR | LDLARB | LDLARH => {
            atomic::load_acquire(cx, i)
        }
        STLR | STLRB | STLRH | STLLR | STLLRB | STLLRH => atomic::store_release(cx, i),
        CAS(_) | CASB(_) | CASH(_) => atomic::cas(cx, i),
        SWP(_) | SWPB(_) | SWPH(_) | LDADD(_) | LDADDB(_) | LDADDH(_) | LDCLR(_) | LDCLRB(_)
        | LDCLRH(_) | LDEOR(_) | LDEORB(_) | LDEORH(_) | LDSET(_) | LDSETB(_) | LDSETH(_)
        | LDSMAX(_) | LDSMAXB(_) | LDSMAXH(_) | LDSMIN(_) | LDSMINB(_) | LDSMINH(_) | LDUMAX(_)
        | LDUMAXB(_) | LDUMAXH(_) | LDUMIN(_) | LDUMINB(_) | LDUMINH(_) => atomic::rmw(cx, i),
        CRC32B | CRC32H | CRC32W | CRC32X | CRC32CB | CRC32CH | CRC32CW | CRC32CX => {
            crc::crc32(cx, i)
        }
        MRS => system::mrs(cx, i),
        MSR => system::msr(cx, i),
        DMB(_) | DSB(_) | ISB => system::barrier(cx, i),
        CLREX => system::clrex(cx),
        SYS(_) => system::sys(cx),
        PRFM | PRFUM => system::prefetch(cx, i),
        HINT => Ok(()),
        // Pointer authentication in the HINT space: a NOP on a CPU without
        // FEAT_PAuth, which is what HWCAP describes (no PACA/PACG).
        XPACLRI | PACIASP | PACIAZ | PACIA1716 | PACIBSP | PACIBZ | PACIB1716 | AUTIASP
        | AUTIAZ | AUTIA1716 | AUTIBSP | AUTIBZ | AUTIB1716 => Ok(()),
        _ if crypto::handles(i) => crypto::lift(cx, i),
        _ => fp::lift(cx, i)
            .or_else(|_| vfp::lift(cx, i))
            .or_else(|_| simd::lift(cx, i)),
    }
}
