//! Bit manipulation and multiply/divide: bitfield moves (BFM/UBFM/SBFM and
//! their aliases), EXTR, variable shifts, CLZ/CLS/RBIT/REV*, MADD/MSUB and
//! the long forms, high multiplies, and divides.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::arith::op_size;
use super::ctx::{int_ty, unsupported, Ctx, Lift};
use crate::ir::Type;

fn imm(op: &Operand) -> Result<u32, super::ctx::Unsupported> {
    match *op {
        Operand::Immediate(v) => Ok(v),
        _ => unsupported(format!("expected immediate, got {op:?}")),
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// UBFM, SBFM, BFM (covering LSL/LSR/ASR immediate, UBFX, SBFX, UBFIZ,
/// SBFIZ, BFI, BFXIL, SXT*, UXT*).
pub fn bitfield(cx: &mut Ctx, i: &Instruction) -> Lift {
    let size = op_size(&i.operands[0]);
    let ty = int_ty(size);
    let n = ty.bits();
    let src = cx.source(&i.operands[1], ty)?;
    let immr = imm(&i.operands[2])?;
    let imms = imm(&i.operands[3])?;
    let res = match i.opcode {
        Opcode::UBFM => {
            if imms >= immr {
                let sh = cx.iconst(ty, immr as u64);
                let v = cx.b.lshr(ty, src, sh);
                let m = cx.iconst(ty, mask(imms - immr + 1));
                cx.b.and(ty, v, m)
            } else {
                let m = cx.iconst(ty, mask(imms + 1));
                let v = cx.b.and(ty, src, m);
                cx.shl_imm(v, (n - immr) as u64)
            }
        }
        Opcode::SBFM => {
            if imms >= immr {
                let up = cx.shl_imm(src, (n - 1 - imms) as u64);
                let down = cx.iconst(ty, (n - 1 - imms + immr) as u64);
                cx.b.ashr(ty, up, down)
            } else {
                let w = imms + 1;
                let up = cx.shl_imm(src, (n - w) as u64);
                let down = cx.iconst(ty, (n - w) as u64);
                let field = cx.b.ashr(ty, up, down);
                cx.shl_imm(field, (n - immr) as u64)
            }
        }
        _ => {
            let Operand::Register(_, rd) = i.operands[0] else {
                return unsupported("bfm destination");
            };
            let dst = cx.reg(size, rd);
            let (field, fmask) = if imms >= immr {
                let w = imms - immr + 1;
                let sh = cx.iconst(ty, immr as u64);
                let v = cx.b.lshr(ty, src, sh);
                let m = cx.iconst(ty, mask(w));
                (cx.b.and(ty, v, m), mask(w))
            } else {
                let w = imms + 1;
                let pos = n - immr;
                let m = cx.iconst(ty, mask(w));
                let v = cx.b.and(ty, src, m);
                (cx.shl_imm(v, pos as u64), mask(w) << pos)
            };
            let keep = cx.iconst(ty, !fmask & mask(n));
            let kept = cx.b.and(ty, dst, keep);
            cx.b.or(ty, kept, field)
        }
    };
    cx.write_dst(&i.operands[0], res)
}

/// EXTR (and ROR immediate).
pub fn extract(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let hi = cx.source(&i.operands[1], ty)?;
    let lo = cx.source(&i.operands[2], ty)?;
    let lsb = imm(&i.operands[3])?;
    let res = if lsb == 0 {
        lo
    } else {
        let r = cx.iconst(ty, lsb as u64);
        let a = cx.b.lshr(ty, lo, r);
        let b = cx.shl_imm(hi, (ty.bits() - lsb) as u64);
        cx.b.or(ty, a, b)
    };
    cx.write_dst(&i.operands[0], res)
}

/// LSLV, LSRV, ASRV, RORV (the amount is taken modulo the width, as the
/// IR shift ops define).
pub fn shift_reg(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let a = cx.source(&i.operands[1], ty)?;
    let b = cx.source(&i.operands[2], ty)?;
    let res = match i.opcode {
        Opcode::LSLV => cx.b.shl(ty, a, b),
        Opcode::LSRV => cx.b.lshr(ty, a, b),
        Opcode::ASRV => cx.b.ashr(ty, a, b),
        _ => cx.b.rotr(ty, a, b),
    };
    cx.write_dst(&i.operands[0], res)
}

/// CLZ, CLS, RBIT, REV, REV16, REV32.
pub fn unary(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let a = cx.source(&i.operands[1], ty)?;
    let res = match i.opcode {
        Opcode::CLZ => cx.b.clz(ty, a),
        Opcode::CLS => cx.b.cls(ty, a),
        Opcode::RBIT => cx.b.bitrev(ty, a),
        Opcode::REV => cx.b.bswap(ty, a),
        Opcode::REV16 => {
            let m = cx.iconst(ty, 0x00ff_00ff_00ff_00ff & mask(ty.bits()));
            let eight = cx.iconst(ty, 8);
            let lo = cx.b.lshr(ty, a, eight);
            let lo = cx.b.and(ty, lo, m);
            let hi = cx.b.and(ty, a, m);
            let hi = cx.b.shl(ty, hi, eight);
            cx.b.or(ty, lo, hi)
        }
        _ => {
            // REV32 on X: swap bytes within each word.
            let s = cx.b.bswap(ty, a);
            let r = cx.iconst(ty, 32);
            cx.b.rotr(ty, s, r)
        }
    };
    cx.write_dst(&i.operands[0], res)
}

/// MADD, MSUB, SMADDL, SMSUBL, UMADDL, UMSUBL, SMULH, UMULH, UDIV, SDIV.
pub fn mul_div(cx: &mut Ctx, i: &Instruction) -> Lift {
    let ty = int_ty(op_size(&i.operands[0]));
    let long = matches!(
        i.opcode,
        Opcode::SMADDL | Opcode::SMSUBL | Opcode::UMADDL | Opcode::UMSUBL
    );
    let signed = matches!(i.opcode, Opcode::SMADDL | Opcode::SMSUBL);
    let (a, b) = if long {
        let a = cx.source(&i.operands[1], Type::I32)?;
        let b = cx.source(&i.operands[2], Type::I32)?;
        (cx.fit(a, Type::I64, signed), cx.fit(b, Type::I64, signed))
    } else {
        (
            cx.source(&i.operands[1], ty)?,
            cx.source(&i.operands[2], ty)?,
        )
    };
    let res = match i.opcode {
        Opcode::SMULH => cx.b.smulhi(ty, a, b),
        Opcode::UMULH => cx.b.umulhi(ty, a, b),
        Opcode::UDIV => cx.b.udiv(ty, a, b),
        Opcode::SDIV => cx.b.sdiv(ty, a, b),
        _ => {
            let p = cx.b.mul(ty, a, b);
            let acc = cx.source(&i.operands[3], ty)?;
            if matches!(i.opcode, Opcode::MSUB | Opcode::SMSUBL | Opcode::UMSUBL) {
                cx.b.sub(ty, acc, p)
            } else {
                cx.b.add(ty, acc, p)
            }
        }
    };
    cx.write_dst(&i.operands[0], res)
}
