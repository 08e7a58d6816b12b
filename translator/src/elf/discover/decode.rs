//! What discovery needs to know about one instruction word, decoded once.
//!
//! [`Flow`] is the control-flow class of an instruction plus the few facts
//! the traversal tracks (ADR/ADRP/ADD results for code pointers built in
//! registers). [`CodeCache`] decodes each word of the executable segments at
//! most once, lazily.
//!
//! Invariants: decoding never panics; a word yaxpeax-arm cannot decode (for
//! example SVE) is [`Flow::Undecodable`]; addresses that are not 4-aligned
//! or not file bytes of an executable segment have no `Flow`.

use crate::elf::load::GuestImage;
use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction, Opcode, Operand, SizeCode};

/// Marker for "no register" in [`Flow::Plain`].
pub(super) const NO_REG: u8 = 0xff;

/// The control-flow class of one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// Falls through; writes at most the two listed registers (or
    /// [`NO_REG`]) as far as address tracking is concerned.
    Plain(u8, u8),
    /// `ADR rd, addr`.
    Adr(u8, u64),
    /// `ADRP rd, page`.
    Adrp(u8, u64),
    /// `ADD xd, xn, #imm` (64-bit, immediate).
    AddImm(u8, u8, u64),
    /// Not decodable by yaxpeax-arm.
    Undecodable,
    /// BRK, HLT, UDF and instructions that are undefined at EL0 (HVC, SMC,
    /// ERET, DCPS, DRPS).
    Trap,
    /// `B target`.
    Jump(u64),
    /// B.cond, CBZ, CBNZ, TBZ, TBNZ to `target`; falls through otherwise.
    CondJump(u64),
    /// `BL target`.
    Call(u64),
    /// BLR and its pointer-authenticated forms.
    CallIndirect,
    /// BR and its pointer-authenticated forms.
    JumpIndirect,
    /// RET, RETAA, RETAB.
    Return,
    /// SVC.
    Syscall,
}

impl Flow {
    /// Whether execution can continue with the next word.
    pub(super) fn falls_through(self) -> bool {
        matches!(
            self,
            Flow::Plain(..)
                | Flow::Adr(..)
                | Flow::Adrp(..)
                | Flow::AddImm(..)
                | Flow::CondJump(_)
                | Flow::Call(_)
                | Flow::CallIndirect
                | Flow::Syscall
        )
    }

    /// Whether the instruction ends a basic block.
    pub(super) fn ends_block(self) -> bool {
        !matches!(
            self,
            Flow::Plain(..) | Flow::Adr(..) | Flow::Adrp(..) | Flow::AddImm(..)
        )
    }
}

/// Decodes the instruction at `addr`, or `None` if it is not code or not
/// decodable.
pub(super) fn decode_at(image: &GuestImage, addr: u64) -> Option<Instruction> {
    if !addr.is_multiple_of(4) || !image.is_code(addr) {
        return None;
    }
    let bytes = image.read(addr, 4)?;
    let mut reader = U8Reader::new(bytes);
    InstDecoder::default().decode(&mut reader).ok()
}

/// Register number of a general-purpose register operand (31 is SP or ZR).
pub(super) fn gpr(op: &Operand) -> Option<u8> {
    match *op {
        Operand::Register(_, r) | Operand::RegisterOrSP(_, r) => u8::try_from(r).ok(),
        _ => None,
    }
}

/// `addr + offset` for a PC-relative operand.
fn pc_target(addr: u64, op: &Operand) -> Option<u64> {
    match *op {
        Operand::PCOffset(off) => Some(addr.wrapping_add(off as u64)),
        _ => None,
    }
}

/// Classifies one decoded instruction at `addr`.
fn classify(addr: u64, inst: &Instruction) -> Flow {
    let ops = &inst.operands;
    let target = |op: &Operand| pc_target(addr, op);
    match inst.opcode {
        Opcode::B => target(&ops[0]).map_or(Flow::Trap, Flow::Jump),
        Opcode::BL => target(&ops[0]).map_or(Flow::Trap, Flow::Call),
        Opcode::Bcc(_) => target(&ops[0]).map_or(Flow::Trap, Flow::CondJump),
        Opcode::CBZ | Opcode::CBNZ => target(&ops[1]).map_or(Flow::Trap, Flow::CondJump),
        Opcode::TBZ | Opcode::TBNZ => target(&ops[2]).map_or(Flow::Trap, Flow::CondJump),
        Opcode::BR | Opcode::BRAA | Opcode::BRAAZ | Opcode::BRAB | Opcode::BRABZ => {
            Flow::JumpIndirect
        }
        Opcode::BLR | Opcode::BLRAA | Opcode::BLRAAZ | Opcode::BLRAB | Opcode::BLRABZ => {
            Flow::CallIndirect
        }
        Opcode::RET | Opcode::RETAA | Opcode::RETAB => Flow::Return,
        Opcode::SVC => Flow::Syscall,
        Opcode::BRK
        | Opcode::HLT
        | Opcode::UDF
        | Opcode::HVC
        | Opcode::SMC
        | Opcode::ERET
        | Opcode::ERETAA
        | Opcode::ERETAB
        | Opcode::DRPS
        | Opcode::DCPS1
        | Opcode::DCPS2
        | Opcode::DCPS3
        | Opcode::Invalid => Flow::Trap,
        Opcode::ADR => match (gpr(&ops[0]), target(&ops[1])) {
            (Some(rd), Some(t)) => Flow::Adr(rd, t),
            _ => Flow::Plain(NO_REG, NO_REG),
        },
        Opcode::ADRP => match (gpr(&ops[0]), &ops[1]) {
            (Some(rd), Operand::PCOffset(off)) => {
                Flow::Adrp(rd, (addr & !0xfff).wrapping_add(*off as u64))
            }
            _ => Flow::Plain(NO_REG, NO_REG),
        },
        Opcode::ADD => match (ops[0], ops[1], ops[2], ops[3]) {
            (
                Operand::RegisterOrSP(SizeCode::X, rd),
                Operand::RegisterOrSP(SizeCode::X, rn),
                Operand::Immediate(imm),
                Operand::Nothing,
            ) => match (u8::try_from(rd), u8::try_from(rn)) {
                (Ok(rd), Ok(rn)) => Flow::AddImm(rd, rn, u64::from(imm)),
                _ => plain(inst),
            },
            _ => plain(inst),
        },
        _ => plain(inst),
    }
}

/// A fall-through instruction: the registers it may write (operand 0, even
/// for stores, which only makes address tracking more conservative; and
/// operand 1 of load pairs).
fn plain(inst: &Instruction) -> Flow {
    let first = gpr(&inst.operands[0]).unwrap_or(NO_REG);
    let second = match inst.opcode {
        Opcode::LDP | Opcode::LDPSW | Opcode::LDNP | Opcode::LDXP | Opcode::LDAXP => {
            gpr(&inst.operands[1]).unwrap_or(NO_REG)
        }
        _ => NO_REG,
    };
    Flow::Plain(first, second)
}

/// Lazily decoded [`Flow`]s of every word of the executable segments.
pub(super) struct CodeCache<'a> {
    image: &'a GuestImage,
    /// `(segment start, segment file end, flows by word index)`.
    segments: Vec<(u64, u64, Vec<Option<Flow>>)>,
}

impl<'a> CodeCache<'a> {
    /// An empty cache over `image`'s executable segments.
    pub(super) fn new(image: &'a GuestImage) -> Self {
        let segments = image
            .segments
            .iter()
            .filter(|s| s.exec)
            .map(|s| {
                let words = usize::try_from(s.filesz / 4).unwrap_or(0);
                (s.vaddr, s.vaddr.saturating_add(s.filesz), vec![None; words])
            })
            .collect();
        CodeCache { image, segments }
    }

    /// The image this cache decodes.
    pub(super) fn image(&self) -> &'a GuestImage {
        self.image
    }

    /// The flow of the instruction at `addr` if it was already decoded.
    pub(super) fn peek(&self, addr: u64) -> Option<Flow> {
        let (start, _, flows) = self
            .segments
            .iter()
            .find(|(start, end, _)| addr >= *start && addr < *end)?;
        *flows.get(usize::try_from((addr - *start) / 4).ok()?)?
    }

    /// The flow of the instruction at `addr`, or `None` if `addr` is not a
    /// 4-aligned address of file bytes of an executable segment.
    pub(super) fn flow(&mut self, addr: u64) -> Option<Flow> {
        if !addr.is_multiple_of(4) {
            return None;
        }
        let image = self.image;
        let (start, _, flows) = self
            .segments
            .iter_mut()
            .find(|(start, end, _)| addr >= *start && addr < *end)?;
        let slot = flows.get_mut(usize::try_from((addr - *start) / 4).ok()?)?;
        if let Some(flow) = *slot {
            return Some(flow);
        }
        let bytes = image.read(addr, 4)?;
        let mut reader = U8Reader::new(bytes);
        let flow = match InstDecoder::default().decode(&mut reader) {
            Ok(inst) => classify(addr, &inst),
            Err(_) => Flow::Undecodable,
        };
        *slot = Some(flow);
        Some(flow)
    }
}
