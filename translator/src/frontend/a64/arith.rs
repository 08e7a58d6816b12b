//! Integer data processing: add/subtract (immediate, shifted, extended, with
//! carry), logical operations, move-wide, PC-relative addresses, conditional
//! select and conditional compare.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, ShiftStyle, SizeCode};

use super::ctx::{int_ty, unsupported, Ctx, Lift};
use crate::ir::{Flag, Type};

/// The operand size of an instruction from its destination register.
pub fn op_size(op: &Operand) -> SizeCode {
    match *op {
        Operand::Register(s, _) | Operand::RegisterOrSP(s, _) => s,
        _ => SizeCode::X,
    }
}

/// Rejects encodings yaxpeax-arm 0.5 decodes although the Arm ARM leaves
/// them unallocated, so they trap like any undefined instruction (found by
/// difffuzz: qemu-aarch64 raises SIGILL on each): a 32-bit shift by 32 or
/// more, ROR in add/sub, an extend shifted by more than 4, a 32-bit
/// logical immediate with N = 1 (the decoder does not report N) and an
/// all-ones logical immediate.
fn check_allocated(cx: &Ctx, i: &Instruction) -> Lift {
    let narrow = op_size(&i.operands[0]) == SizeCode::W;
    let add_sub = matches!(
        i.opcode,
        Opcode::ADD | Opcode::ADDS | Opcode::SUB | Opcode::SUBS
    );
    let reserved = match i.operands[2] {
        Operand::RegShift(style, amount, _, _) => match style {
            ShiftStyle::LSL | ShiftStyle::LSR | ShiftStyle::ASR | ShiftStyle::ROR => {
                (narrow && amount >= 32) || (add_sub && style == ShiftStyle::ROR)
            }
            _ => amount > 4,
        },
        // No bitmask immediate is all ones (DecodeBitMasks rejects it).
        Operand::Imm64(v) if !add_sub => {
            let ones = if narrow { 0xffff_ffff } else { u64::MAX };
            (narrow && (cx.word >> 22) & 1 == 1) || v & ones == ones
        }
        Operand::Immediate(v) if !add_sub => narrow && ((cx.word >> 22) & 1 == 1 || v == u32::MAX),
        _ => false,
    };
    if reserved {
        unsupported("unallocated encoding")
    } else {
        Ok(())
    }
}

/// ADD, ADDS, SUB, SUBS in all operand forms.
pub fn add_sub(cx: &mut Ctx, i: &Instruction, sub: bool, flags: bool) -> Lift {
    check_allocated(cx, i)?;
    let ty = int_ty(op_size(&i.operands[0]));
    let a = cx.read_dst_operand(&i.operands[1])?;
    let b = cx.source(&i.operands[2], ty)?;
    let res = if sub {
        cx.b.sub(ty, a, b)
    } else {
        cx.b.add(ty, a, b)
    };
    if flags {
        if sub {
            cx.set_flags_sub(a, b, res);
        } else {
            cx.set_flags_add(a, b, res, None);
        }
    }
    cx.write_dst(&i.operands[0], res)
}

/// ADC, ADCS, SBC, SBCS.
pub fn add_carry(cx: &mut Ctx, i: &Instruction, sub: bool, flags: bool) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let a = cx.source(&i.operands[1], ty)?;
    let b0 = cx.source(&i.operands[2], ty)?;
    let b = if sub { cx.b.not(ty, b0) } else { b0 };
    let c8 = cx.b.get_flag(Type::I8, Flag::C);
    let c = cx.fit(c8, ty, false);
    let sum = cx.b.add(ty, a, b);
    let res = cx.b.add(ty, sum, c);
    if flags {
        cx.set_flags_add(a, b, res, Some(c8));
    }
    cx.write_dst(&i.operands[0], res)
}

/// AND, ANDS, ORR, ORN, EOR, EON, BIC, BICS.
pub fn logical(cx: &mut Ctx, i: &Instruction) -> Lift {
    check_allocated(cx, i)?;
    let ty = int_ty(op_size(&i.operands[0]));
    let a = cx.source(&i.operands[1], ty)?;
    let b0 = cx.source(&i.operands[2], ty)?;
    let invert = matches!(
        i.opcode,
        Opcode::ORN | Opcode::EON | Opcode::BIC | Opcode::BICS
    );
    let b = if invert { cx.b.not(ty, b0) } else { b0 };
    let res = match i.opcode {
        Opcode::AND | Opcode::ANDS | Opcode::BIC | Opcode::BICS => cx.b.and(ty, a, b),
        Opcode::ORR | Opcode::ORN => cx.b.or(ty, a, b),
        _ => cx.b.xor(ty, a, b),
    };
    if matches!(i.opcode, Opcode::ANDS | Opcode::BICS) {
        cx.set_flags_logic(res);
    }
    cx.write_dst(&i.operands[0], res)
}

/// MOVZ, MOVN, MOVK.
pub fn move_wide(cx: &mut Ctx, i: &Instruction) -> Lift {
    let size = op_size(&i.operands[0]);
    let ty = int_ty(size);
    let Operand::ImmShift(imm, shift) = i.operands[1] else {
        return unsupported("move-wide operand");
    };
    let Operand::Register(_, rd) = i.operands[0] else {
        return unsupported("move-wide destination");
    };
    if size == SizeCode::W && shift >= 32 {
        return unsupported("unallocated encoding: 32-bit move wide with hw >= 2");
    }
    let mask = if ty == Type::I32 {
        0xffff_ffffu64
    } else {
        u64::MAX
    };
    let field = (imm as u64) << shift;
    let res = match i.opcode {
        Opcode::MOVZ => cx.iconst(ty, field),
        Opcode::MOVN => cx.iconst(ty, !field & mask),
        _ => {
            let old = cx.reg(size, rd);
            let keep = cx.iconst(ty, !(0xffffu64 << shift) & mask);
            let kept = cx.b.and(ty, old, keep);
            let f = cx.iconst(ty, field);
            cx.b.or(ty, kept, f)
        }
    };
    cx.set_reg(rd, res);
    Ok(())
}

/// ADR and ADRP: constants, since the PC is known.
pub fn pc_relative(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::PCOffset(off) = i.operands[1] else {
        return unsupported("adr operand");
    };
    let base = if i.opcode == Opcode::ADRP {
        cx.pc & !0xfff
    } else {
        cx.pc
    };
    let v = cx.iconst(Type::I64, base.wrapping_add(off as u64));
    cx.write_dst(&i.operands[0], v)
}

/// CSEL, CSINC, CSINV, CSNEG.
pub fn cond_select(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let Operand::ConditionCode(cc) = i.operands[3] else {
        return unsupported("csel condition");
    };
    let a = cx.source(&i.operands[1], ty)?;
    let b0 = cx.source(&i.operands[2], ty)?;
    let b = match i.opcode {
        Opcode::CSINC => {
            let one = cx.iconst(ty, 1);
            cx.b.add(ty, b0, one)
        }
        Opcode::CSINV => cx.b.not(ty, b0),
        Opcode::CSNEG => cx.b.neg(ty, b0),
        _ => b0,
    };
    let c = cx.cond(cc);
    let res = cx.b.select(ty, c, a, b);
    cx.write_dst(&i.operands[0], res)
}

/// CCMP and CCMN: compare when the condition holds, else set NZCV from the
/// immediate.
pub fn cond_compare(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let (Operand::Immediate(nzcv), Operand::ConditionCode(cc)) = (i.operands[2], i.operands[3])
    else {
        return unsupported("ccmp operands");
    };
    let c = cx.cond(cc);
    let a = cx.source(&i.operands[0], ty)?;
    let b = cx.source(&i.operands[1], ty)?;
    if i.opcode == Opcode::CCMP {
        let res = cx.b.sub(ty, a, b);
        cx.set_flags_sub(a, b, res);
    } else {
        let res = cx.b.add(ty, a, b);
        cx.set_flags_add(a, b, res, None);
    }
    for (k, f) in Flag::ALL.iter().enumerate() {
        let computed = cx.b.get_flag(Type::I8, *f);
        let imm = cx.iconst(Type::I8, ((nzcv >> (3 - k)) & 1) as u64);
        let v = cx.b.select(Type::I8, c, computed, imm);
        cx.b.set_flag(v, *f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    /// Unallocated encodings yaxpeax-arm decodes trap (difffuzz found each
    /// one rejected by qemu-aarch64 with SIGILL).
    #[test]
    fn unallocated_encodings_trap() {
        for word in [
            0x124f_89ee, // and w14, w15, #0xfffff with N = 1
            0x52e0_5a72, // movz w18, #0x2d3, lsl #48
            0x2ae4_9a30, // orn w16, w17, w4, ror #38
            0x4b33_164f, // sub w15, w18, w19, uxtb #5
            0xb8a2_c03a, // ldapr w26, [x1] with Rs = x2
            0x121e_fb8a, // and w10, w28, #0xffffffff
            0xd27d_fd7c, // eor x28, x11, #0xffffffffffffffff
        ] {
            let ir = lift_words(&[word]);
            assert!(ir.contains("trap"), "{word:#010x} lifted:\n{ir}");
        }
        // The allocated neighbours still lift.
        for word in [
            0x920f_89ee,
            0xd2e0_5a72,
            0xaae4_9a30,
            0x4b33_104f,
            0xb8bf_c03a,
        ] {
            let ir = lift_words(&[word]);
            assert!(!ir.contains("trap"), "{word:#010x} lifted:\n{ir}");
        }
    }
}
