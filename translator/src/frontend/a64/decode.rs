//! Decoding of A64 instruction words with yaxpeax-arm, plus the fix-ups for
//! the decoder's known defects, so handlers see correct operands.
//!
//! Invariant: every fix-up is pinned by the decoder differential test
//! (`tests/decoder.rs`) against `aarch64-linux-gnu-objdump`.

use yaxpeax_arch::{Decoder, U8Reader};

use super::unallocated::is_unallocated;
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction, Opcode, Operand, ShiftStyle, SizeCode};

/// Decodes one instruction word, or `None` when yaxpeax cannot (SVE, SME,
/// unallocated encodings) or the word is unallocated although yaxpeax
/// accepts it ([`is_unallocated`]).
pub fn decode(word: u32) -> Option<Instruction> {
    if is_unallocated(word) {
        return None;
    }
    decode_raw(word)
}

/// yaxpeax's decoding with the operand fix-ups, unallocated or not.
fn decode_raw(word: u32) -> Option<Instruction> {
    let bytes = word.to_le_bytes();
    let mut reader = U8Reader::new(&bytes);
    let mut inst = InstDecoder::default().decode(&mut reader).ok()?;
    fix_up(word, &mut inst);
    Some(inst)
}

/// Repairs operands yaxpeax-arm 0.5 gets wrong.
fn fix_up(word: u32, inst: &mut Instruction) {
    match inst.opcode {
        // MSR (register) keeps only 4 bits of Rt.
        Opcode::MSR => {
            if let Operand::Register(size, _) = inst.operands[1] {
                inst.operands[1] = Operand::Register(size, (word & 31) as u16);
            }
        }
        // ADD/SUB (extended register): a 64-bit UXTW comes back as `LSL` on
        // a W register. Re-derive the extend from the option field.
        Opcode::ADD | Opcode::ADDS | Opcode::SUB | Opcode::SUBS
            if (word >> 21) & 0xff == 0b0101_1001 =>
        {
            if let Operand::RegShift(_, amount, _, rm) = inst.operands[2] {
                let option = (word >> 13) & 7;
                let style = [
                    ShiftStyle::UXTB,
                    ShiftStyle::UXTH,
                    ShiftStyle::UXTW,
                    ShiftStyle::UXTX,
                    ShiftStyle::SXTB,
                    ShiftStyle::SXTH,
                    ShiftStyle::SXTW,
                    ShiftStyle::SXTX,
                ][option as usize];
                let size = if option & 3 == 3 {
                    SizeCode::X
                } else {
                    SizeCode::W
                };
                inst.operands[2] = Operand::RegShift(style, amount, size, rm);
            }
        }
        // SCVTF/UCVTF/FCVTZS/FCVTZU (Advanced SIMD scalar, fixed-point):
        // `#fbits` comes back as `Imm16`, where the vector and
        // general-register forms give `Immediate`. The value is right.
        Opcode::SCVTF | Opcode::UCVTF | Opcode::FCVTZS | Opcode::FCVTZU => {
            if let Operand::Imm16(fbits) = inst.operands[2] {
                inst.operands[2] = Operand::Immediate(u32::from(fbits));
            }
        }
        _ => {}
    }
}

/// Disassembly text for reports (`objdump`-like, from yaxpeax).
pub fn disassemble(word: u32) -> String {
    match decode_raw(word) {
        Some(inst) if is_unallocated(word) => format!("{inst} (unallocated encoding)"),
        Some(inst) => inst.to_string(),
        None => "<undecodable>".to_string(),
    }
}

/// Fields of a SYS/SYSL/MRS/MSR encoding that yaxpeax-arm does not expose
/// uniformly: `(op1, CRn, CRm, op2, Rt)`.
pub fn sys_fields(word: u32) -> (u32, u32, u32, u32, u16) {
    (
        (word >> 16) & 7,
        (word >> 12) & 15,
        (word >> 8) & 15,
        (word >> 5) & 7,
        (word & 31) as u16,
    )
}
