//! Advanced SIMD integer instructions: the entry point that sends each
//! instruction to its class (`simd_sat` saturating and shifting forms,
//! `simd_wide` widening/narrowing/long forms, `simd_misc` halving,
//! absolute-difference, TBL/TBX, polynomial and dot products), and the
//! plain forms lifted here: immediate moves (MOVI/MVNI/ORR/BIC), bitwise
//! ops and bit selects, compares, lane-wise and pairwise arithmetic,
//! reductions, immediate shifts, XTN, USHLL/SSHLL, lane moves (DUP/INS/
//! UMOV/SMOV), permutes (EXT/UZP/ZIP/REV) and CNT/RBIT.
//!
//! Invariants: a 64-bit (`.8b/.4h/.2s`, or scalar `D`) result zeroes the
//! upper 64 bits of the destination; a 64-bit source only contributes its
//! low 64 bits. 64-bit permutes are expressed on the 128-bit concatenation
//! of the two low halves, so the IR needs no separate 64-bit shuffles.
//! Fixed permutations are `vtbl1` with a constant index vector.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SIMDSizeCode};

use super::ctx::{int_ty, unsupported, Ctx, Lift, Unsupported};
use super::simd_lanes::{lanes_of, operand_or_element};
use super::simd_wide::{concat_low, widen};
use super::{simd_misc, simd_sat, simd_wide};
use crate::ir::{Lanes, Type, VBinOp, VReduceOp, VShiftOp, VUnOp, Value};

/// Lifts an Advanced SIMD instruction.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    if simd_sat::handles(i) {
        return simd_sat::lift(cx, i);
    }
    if simd_wide::handles(i) {
        return simd_wide::lift(cx, i);
    }
    if simd_misc::handles(i) {
        return simd_misc::lift(cx, i);
    }
    match i.opcode {
        MOVI | MVNI => move_imm(cx, i),
        ORR | BIC if matches!(i.operands[1], Operand::ImmShift(..)) => logic_imm(cx, i),
        AND => lanewise(cx, i, VBinOp::And),
        ORR => lanewise(cx, i, VBinOp::Or),
        EOR => lanewise(cx, i, VBinOp::Xor),
        BIC => lanewise(cx, i, VBinOp::AndNot),
        ORN => orn(cx, i),
        NOT => unary(cx, i, VUnOp::Not),
        BSL | BIT | BIF => bit_select(cx, i),
        CMEQ | CMGT | CMGE | CMHI | CMHS | CMTST | CMLT | CMLE => compare(cx, i),
        ADD => lanewise(cx, i, VBinOp::Add),
        SUB => lanewise(cx, i, VBinOp::Sub),
        MUL => lanewise(cx, i, VBinOp::Mul),
        MLA => multiply_accumulate(cx, i, VBinOp::Add),
        MLS => multiply_accumulate(cx, i, VBinOp::Sub),
        UMAX => lanewise(cx, i, VBinOp::Umax),
        UMIN => lanewise(cx, i, VBinOp::Umin),
        SMAX => lanewise(cx, i, VBinOp::Smax),
        SMIN => lanewise(cx, i, VBinOp::Smin),
        ADDP => match i.operands[1] {
            Operand::SIMDRegisterElements(..) if i.operands[2] == Operand::Nothing => {
                reduce(cx, i, VReduceOp::Add)
            }
            _ => pairwise(cx, i, VBinOp::AddPairwise),
        },
        UMAXP => pairwise(cx, i, VBinOp::UmaxPairwise),
        UMINP => pairwise(cx, i, VBinOp::UminPairwise),
        ADDV | UADDLV => reduce(cx, i, VReduceOp::Add),
        UMAXV => reduce(cx, i, VReduceOp::Umax),
        UMINV => reduce(cx, i, VReduceOp::Umin),
        SMAXV => reduce(cx, i, VReduceOp::Smax),
        SMINV => reduce(cx, i, VReduceOp::Smin),
        NEG => unary(cx, i, VUnOp::Neg),
        ABS => unary(cx, i, VUnOp::Abs),
        CNT => unary(cx, i, VUnOp::Cnt),
        RBIT => unary(cx, i, VUnOp::Rbit),
        SHL => shift(cx, i, VShiftOp::Shl),
        USHR => shift(cx, i, VShiftOp::Ushr),
        SSHR => shift(cx, i, VShiftOp::Sshr),
        SHRN => shrn(cx, i),
        DUP => dup(cx, i),
        INS => ins(cx, i),
        UMOV | SMOV => mov_to_general(cx, i),
        EXT => ext(cx, i),
        XTN | XTN2 => xtn(cx, i),
        UZP1 => permute(cx, i, VBinOp::Uzp1),
        UZP2 => permute(cx, i, VBinOp::Uzp2),
        ZIP1 => permute(cx, i, VBinOp::Zip1),
        ZIP2 => permute(cx, i, VBinOp::Zip2),
        REV16 => rev(cx, i, 16),
        REV32 => rev(cx, i, 32),
        REV64 => rev(cx, i, 64),
        USHLL | USHLL2 | SSHLL | SSHLL2 => widen_shift(cx, i),
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

/// Whether `i` is the Advanced SIMD form of a mnemonic the general-purpose
/// handlers also decode (`add v0.4s, ...`, `orr v1.16b, ...`, `rev32
/// v1.8b, ...`): the dispatcher sends such forms here first.
pub fn shadows_general(i: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        i.opcode,
        ADD | SUB | AND | ORR | EOR | BIC | ORN | REV16 | REV32 | RBIT | CLZ | CLS
    ) && matches!(
        i.operands[0],
        Operand::SIMDRegister(..) | Operand::SIMDRegisterElements(..)
    )
}

/// A vector register operand: number, whether all 128 bits are used, and
/// the lane shape.
#[derive(Clone, Copy)]
struct VOp {
    reg: u16,
    full: bool,
    lanes: Lanes,
}

/// Decodes a vector operand; a scalar `D` register is a 64-bit vector of
/// one 64-bit lane (the scalar integer forms of ADD, CMEQ, USHR...).
fn vop(op: &Operand) -> Result<VOp, Unsupported> {
    match *op {
        Operand::SIMDRegisterElements(size, reg, esize) => Ok(VOp {
            reg,
            full: size == SIMDSizeCode::Q,
            lanes: lanes_of(esize)?,
        }),
        Operand::SIMDRegister(SIMDSizeCode::D, reg) => Ok(VOp {
            reg,
            full: false,
            lanes: Lanes::I64x2,
        }),
        _ => unsupported(format!("vector operand {op:?}")),
    }
}

fn get(cx: &mut Ctx, r: u16) -> Value {
    cx.b.get_v(Type::V128, r as u8)
}

/// Writes a result: 64-bit results clear the upper half.
fn put(cx: &mut Ctx, d: VOp, v: Value) {
    let v = if d.full {
        v
    } else {
        cx.b.vzero_high(Type::V128, v)
    };
    cx.b.set_v(v, d.reg as u8);
}

fn zero(cx: &mut Ctx) -> Value {
    cx.b.vconst(Type::V128, 0)
}

/// Repeats a `bits`-wide pattern over 128 bits.
pub fn replicate(pattern: u64, bits: u32) -> u128 {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let mut out = 0u128;
    let mut shift = 0;
    while shift < 128 {
        out |= ((pattern & mask) as u128) << shift;
        shift += bits;
    }
    out
}

/// The lane value of a modified-immediate operand.
fn imm_lane(op: &Operand) -> Result<u64, Unsupported> {
    match *op {
        Operand::ImmShift(imm, s) => Ok((imm as u64) << s),
        Operand::ImmShiftMSL(imm, s) => Ok(((imm as u64) << s) | ((1u64 << s) - 1)),
        Operand::Imm64(v) => Ok(v),
        _ => unsupported(format!("vector immediate {op:?}")),
    }
}

/// The 128-bit constant of a modified immediate for destination `op`.
fn imm_vector(dst: &Operand, imm: &Operand) -> Result<(VOp, u128), Unsupported> {
    let d = vop(dst)?;
    let c = replicate(imm_lane(imm)?, d.lanes.lane_bits());
    Ok((d, c))
}

fn move_imm(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (d, mut c) = imm_vector(&i.operands[0], &i.operands[1])?;
    if i.opcode == Opcode::MVNI {
        c = !c;
    }
    if !d.full {
        c &= u64::MAX as u128;
    }
    let v = cx.b.vconst(Type::V128, c);
    cx.b.set_v(v, d.reg as u8);
    Ok(())
}

fn logic_imm(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (d, c) = imm_vector(&i.operands[0], &i.operands[1])?;
    let op = if i.opcode == Opcode::ORR {
        VBinOp::Or
    } else {
        VBinOp::AndNot
    };
    let a = get(cx, d.reg);
    let k = cx.b.vconst(Type::V128, c);
    let r = cx.b.vbin(Type::V128, a, k, (op, d.lanes));
    put(cx, d, r);
    Ok(())
}

/// `Vd = Vn op Vm` lane by lane.
fn lanewise(cx: &mut Ctx, i: &Instruction, op: VBinOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let a = get(cx, n.reg);
    let b = operand_or_element(cx, &i.operands[2], d.lanes)?;
    let r = cx.b.vbin(Type::V128, a, b, (op, d.lanes));
    put(cx, d, r);
    Ok(())
}

/// MLA/MLS (vector): `d = d +/- n * m`, lane by lane.
fn multiply_accumulate(cx: &mut Ctx, i: &Instruction, acc: VBinOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let a = get(cx, n.reg);
    let b = operand_or_element(cx, &i.operands[2], d.lanes)?;
    let p = cx.b.vbin(Type::V128, a, b, (VBinOp::Mul, d.lanes));
    let old = get(cx, d.reg);
    let r = cx.b.vbin(Type::V128, old, p, (acc, d.lanes));
    put(cx, d, r);
    Ok(())
}

fn orn(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let m = vop(&i.operands[2])?;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let nb = cx.b.vun(Type::V128, b, (VUnOp::Not, d.lanes));
    let r = cx.b.vbin(Type::V128, a, nb, (VBinOp::Or, d.lanes));
    put(cx, d, r);
    Ok(())
}

fn unary(cx: &mut Ctx, i: &Instruction, op: VUnOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let a = get(cx, n.reg);
    let r = cx.b.vun(Type::V128, a, (op, d.lanes));
    put(cx, d, r);
    Ok(())
}

/// `(x & mask) | (y & !mask)`.
fn blend(cx: &mut Ctx, mask: Value, x: Value, y: Value) -> Value {
    let l = Lanes::I8x16;
    let a = cx.b.vbin(Type::V128, x, mask, (VBinOp::And, l));
    let b = cx.b.vbin(Type::V128, y, mask, (VBinOp::AndNot, l));
    cx.b.vbin(Type::V128, a, b, (VBinOp::Or, l))
}

/// BSL `d ? n : m`, BIT `m ? n : d`, BIF `m ? d : n` (bit by bit).
fn bit_select(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let m = vop(&i.operands[2])?;
    let vd = get(cx, d.reg);
    let vn = get(cx, n.reg);
    let vm = get(cx, m.reg);
    let r = match i.opcode {
        Opcode::BSL => blend(cx, vd, vn, vm),
        Opcode::BIT => blend(cx, vm, vn, vd),
        _ => blend(cx, vm, vd, vn),
    };
    put(cx, d, r);
    Ok(())
}

/// Register compares and compares against `#0`.
fn compare(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let against_zero = matches!(i.operands[2], Operand::Imm64(0) | Operand::Immediate(0));
    let m = if against_zero {
        None
    } else {
        Some(vop(&i.operands[2])?)
    };
    let a = get(cx, n.reg);
    let l = d.lanes;
    let r = match m {
        Some(m) => {
            let b = get(cx, m.reg);
            let op = match i.opcode {
                Opcode::CMEQ => VBinOp::CmpEq,
                Opcode::CMGT => VBinOp::CmpGt,
                Opcode::CMGE => VBinOp::CmpGe,
                Opcode::CMHI => VBinOp::CmpHi,
                Opcode::CMHS => VBinOp::CmpHs,
                Opcode::CMTST => VBinOp::CmpTst,
                _ => return unsupported("compare form"),
            };
            cx.b.vbin(Type::V128, a, b, (op, l))
        }
        None => {
            let z = zero(cx);
            match i.opcode {
                Opcode::CMEQ => cx.b.vun(Type::V128, a, (VUnOp::CmpEqZ, l)),
                Opcode::CMGT => cx.b.vbin(Type::V128, a, z, (VBinOp::CmpGt, l)),
                Opcode::CMGE => cx.b.vbin(Type::V128, a, z, (VBinOp::CmpGe, l)),
                Opcode::CMLT => cx.b.vbin(Type::V128, z, a, (VBinOp::CmpGt, l)),
                Opcode::CMLE => cx.b.vbin(Type::V128, z, a, (VBinOp::CmpGe, l)),
                _ => return unsupported("compare with zero form"),
            }
        }
    };
    put(cx, d, r);
    Ok(())
}

/// Pairwise ops; the 64-bit form works on `m.lo : n.lo`, whose pairs are
/// exactly the low 64 bits of the 128-bit pairwise result.
fn pairwise(cx: &mut Ctx, i: &Instruction, op: VBinOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let m = vop(&i.operands[2])?;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let r = if d.full {
        cx.b.vbin(Type::V128, a, b, (op, d.lanes))
    } else {
        let c = concat_low(cx, a, b);
        cx.b.vbin(Type::V128, c, c, (op, d.lanes))
    };
    put(cx, d, r);
    Ok(())
}

/// Across-lanes reductions into a scalar register; ADDP (scalar) is the
/// two-lane ADDV and UADDLV sums into a double-width result. A 64-bit
/// source has its upper half zeroed (sums) or filled with a copy of its
/// lower half (minimum/maximum).
fn reduce(cx: &mut Ctx, i: &Instruction, op: VReduceOp) -> Lift {
    let (ty, d) = match i.operands[0] {
        Operand::SIMDRegister(SIMDSizeCode::B, r) => (Type::I8, r),
        Operand::SIMDRegister(SIMDSizeCode::H, r) => (Type::I16, r),
        Operand::SIMDRegister(SIMDSizeCode::S, r) => (Type::I32, r),
        Operand::SIMDRegister(SIMDSizeCode::D, r) => (Type::I64, r),
        _ => return unsupported("reduction destination"),
    };
    let n = vop(&i.operands[1])?;
    let mut a = get(cx, n.reg);
    if !n.full {
        a = if op == VReduceOp::Add {
            cx.b.vzero_high(Type::V128, a)
        } else {
            concat_low(cx, a, a)
        };
    }
    let s = cx.b.vreduce(ty, a, (op, n.lanes));
    let v = cx.b.vfrom_scalar(Type::V128, s);
    cx.b.set_v(v, d as u8);
    Ok(())
}

/// The shift amount of a SHL/USHR/SSHR immediate.
fn shift_amount(op: &Operand) -> Result<u32, Unsupported> {
    match *op {
        Operand::Immediate(n) => Ok(n),
        Operand::Imm16(n) => Ok(n as u32),
        _ => unsupported(format!("shift operand {op:?}")),
    }
}

/// Immediate shifts; a right shift by the full lane width (encodable) gives
/// zero (USHR) or the sign (SSHR).
fn shift(cx: &mut Ctx, i: &Instruction, op: VShiftOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let amount = shift_amount(&i.operands[2])?;
    let width = d.lanes.lane_bits();
    let a = get(cx, n.reg);
    let r = match (op, amount >= width) {
        (VShiftOp::Ushr, true) => zero(cx),
        (VShiftOp::Sshr, true) => cx.b.vshift(Type::V128, a, (op, d.lanes, (width - 1) as u8)),
        (_, false) => cx.b.vshift(Type::V128, a, (op, d.lanes, amount as u8)),
        (VShiftOp::Shl, true) => return unsupported("shl by lane width"),
    };
    put(cx, d, r);
    Ok(())
}

fn shrn(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    if d.full {
        return unsupported("shrn2");
    }
    let amount = shift_amount(&i.operands[2])?;
    let a = get(cx, n.reg);
    let r = cx.b.vshrn(Type::V128, a, (n.lanes, amount as u8));
    cx.b.set_v(r, d.reg as u8);
    Ok(())
}

/// The integer type of one lane.
fn lane_ty(l: Lanes) -> Type {
    Type::int(l.lane_bits())
}

fn dup(cx: &mut Ctx, i: &Instruction) -> Lift {
    let s = match i.operands[1] {
        Operand::Register(size, r) => cx.reg(size, r),
        Operand::SIMDRegisterElementsLane(_, r, esize, idx) => {
            let l = lanes_of(esize)?;
            let v = get(cx, r);
            cx.b.vextract(lane_ty(l), v, (l, idx))
        }
        _ => return unsupported("dup source"),
    };
    if let Operand::SIMDRegister(_, d) = i.operands[0] {
        let v = cx.b.vfrom_scalar(Type::V128, s);
        cx.b.set_v(v, d as u8);
        return Ok(());
    }
    let d = vop(&i.operands[0])?;
    let v = cx.b.vsplat(Type::V128, s, d.lanes);
    put(cx, d, v);
    Ok(())
}

fn ins(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::SIMDRegisterElementsLane(_, d, esize, idx) = i.operands[0] else {
        return unsupported("ins destination");
    };
    let l = lanes_of(esize)?;
    let s = match i.operands[1] {
        Operand::Register(size, r) => cx.reg(size, r),
        Operand::SIMDRegisterElementsLane(_, r, _, src) => {
            let v = get(cx, r);
            cx.b.vextract(lane_ty(l), v, (l, src))
        }
        _ => return unsupported("ins source"),
    };
    let v = get(cx, d);
    let v = cx.b.vinsert(Type::V128, v, s, (l, idx));
    cx.b.set_v(v, d as u8);
    Ok(())
}

fn mov_to_general(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (Operand::Register(size, d), Operand::SIMDRegisterElementsLane(_, n, esize, idx)) =
        (i.operands[0], i.operands[1])
    else {
        return unsupported("umov/smov form");
    };
    let l = lanes_of(esize)?;
    let v = get(cx, n);
    let x = if i.opcode == Opcode::SMOV {
        let lane = cx.b.vextract(lane_ty(l), v, (l, idx));
        cx.b.sext(int_ty(size), lane)
    } else {
        cx.b.vextract(int_ty(size), v, (l, idx))
    };
    cx.set_reg(d, x);
    Ok(())
}

fn ext(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let m = vop(&i.operands[2])?;
    let Operand::Imm16(pos) = i.operands[3] else {
        return unsupported("ext index");
    };
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let r = if d.full {
        cx.b.vext(Type::V128, a, b, pos as u64)
    } else {
        let c = concat_low(cx, a, b);
        cx.b.vext(Type::V128, c, c, pos as u64)
    };
    put(cx, d, r);
    Ok(())
}

/// XTN keeps the low half of each lane: the even narrow lanes, i.e. UZP1
/// with zero; XTN2 puts them in the upper half and keeps the lower half.
fn xtn(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let a = get(cx, n.reg);
    if i.opcode == Opcode::XTN {
        let z = zero(cx);
        let r = cx.b.vbin(Type::V128, a, z, (VBinOp::Uzp1, d.lanes));
        cx.b.set_v(r, d.reg as u8);
    } else {
        let narrow = cx.b.vbin(Type::V128, a, a, (VBinOp::Uzp1, d.lanes));
        let old = get(cx, d.reg);
        let r = concat_low(cx, old, narrow);
        cx.b.set_v(r, d.reg as u8);
    }
    Ok(())
}

/// UZP/ZIP. For 64-bit vectors: UZP works on `m.lo : n.lo`; ZIP1 is the low
/// half of the 128-bit ZIP1 and ZIP2 its high half.
fn permute(cx: &mut Ctx, i: &Instruction, op: VBinOp) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let m = vop(&i.operands[2])?;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let l = d.lanes;
    let r = match (d.full, op) {
        (true, _) => cx.b.vbin(Type::V128, a, b, (op, l)),
        (false, VBinOp::Uzp1 | VBinOp::Uzp2) => {
            let c = concat_low(cx, a, b);
            cx.b.vbin(Type::V128, c, c, (op, l))
        }
        (false, VBinOp::Zip1) => cx.b.vbin(Type::V128, a, b, (VBinOp::Zip1, l)),
        (false, _) => {
            let z = cx.b.vbin(Type::V128, a, b, (VBinOp::Zip1, l));
            cx.b.vext(Type::V128, z, z, 8)
        }
    };
    put(cx, d, r);
    Ok(())
}

/// REV16/REV32/REV64: reverse the order of the elements inside each
/// `container`-bit group, as a constant byte permutation.
fn rev(cx: &mut Ctx, i: &Instruction, container: u32) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let esize = d.lanes.lane_bits() / 8;
    let group = container / 8;
    if esize >= group {
        return unsupported("rev element size");
    }
    let mut idx = 0u128;
    for byte in 0..16u32 {
        let base = byte - byte % group;
        let within = byte % group;
        let elem = within / esize;
        let src = base + (group / esize - 1 - elem) * esize + within % esize;
        idx |= (src as u128) << (byte * 8);
    }
    let a = get(cx, n.reg);
    let k = cx.b.vconst(Type::V128, idx);
    let r = cx.b.vtbl1(Type::V128, a, k);
    put(cx, d, r);
    Ok(())
}

/// USHLL/SSHLL (UXTL/SXTL) and their `2` forms.
fn widen_shift(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vop(&i.operands[0])?;
    let n = vop(&i.operands[1])?;
    let amount = shift_amount(&i.operands[2])?;
    let high = matches!(i.opcode, Opcode::USHLL2 | Opcode::SSHLL2);
    let signed = matches!(i.opcode, Opcode::SSHLL | Opcode::SSHLL2);
    let v = get(cx, n.reg);
    let mut r = widen(cx, v, n.lanes, high, signed);
    if amount != 0 {
        r =
            cx.b.vshift(Type::V128, r, (VShiftOp::Shl, d.lanes, amount as u8));
    }
    put(cx, d, r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    #[test]
    fn string_routine_idioms() {
        // cmeq v1.16b, v0.16b, #0 ; shrn v2.8b, v1.8h, #4 ; umaxp v2.16b, v1.16b, v1.16b
        // fmov x4, d2 is FP; dup v0.16b, w1 ; bit v2.16b, v3.16b, v4.16b
        let ir = lift_words(&[
            0x4e20_9801,
            0x0f0c_8422,
            0x6e21_a422,
            0x4e01_0c20,
            0x6ea4_1c62,
        ]);
        assert!(ir.contains("(CmpEqZ, I8x16)"), "{ir}");
        assert!(ir.contains("vshrn v") && ir.contains("(I16x8, 4)"), "{ir}");
        assert!(ir.contains("(UmaxPairwise, I8x16)"), "{ir}");
        assert!(ir.contains("vsplat"), "{ir}");
        assert!(ir.contains("AndNot"), "{ir}");
        assert!(!ir.contains("trap"), "{ir}");
    }

    #[test]
    fn immediates() {
        // movi v0.2d, #0xff00ff00ff00ff00 ; movi v1.2s, #0x80, lsl #16 ;
        // mvni v0.4s, #0x12, msl #16 ; bic v0.8h, #0xf, lsl #8
        let ir = lift_words(&[0x6f05_e540, 0x0f04_4401, 0x6f00_d640, 0x6f00_b5e0]);
        assert!(
            ir.contains("vconst 0xff00ff00ff00ff00ff00ff00ff00ff00"),
            "{ir}"
        );
        assert!(ir.contains("vconst 0x80000000800000\n"), "{ir}");
        assert!(
            ir.contains("vconst 0xffed0000ffed0000ffed0000ffed0000"),
            "{ir}"
        );
        assert!(
            ir.contains("vconst 0xf000f000f000f000f000f000f000f00"),
            "{ir}"
        );
    }

    #[test]
    fn sixty_four_bit_forms_zero_the_top() {
        // add v0.2s, v0.2s, v1.2s ; addp d0, v1.2d ; ext v0.8b, v1.8b, v2.8b, #3
        let ir = lift_words(&[0x0ea1_8400, 0x5ef1_b820, 0x2e02_1820]);
        assert_eq!(ir.matches("vzero_high").count(), 2, "{ir}");
        assert!(ir.contains(":i64 = vreduce"), "{ir}");
        assert!(ir.contains("vext") && ir.contains("0x3"), "{ir}");
    }

    #[test]
    fn rev_is_a_constant_permutation() {
        // rev64 v0.2s, v0.2s ; rev32 v1.8b, v1.8b ; rev16 v0.16b, v1.16b
        let ir = lift_words(&[0x0ea0_0800, 0x2e20_0821, 0x4e20_1820]);
        assert!(
            ir.contains("vconst 0xb0a09080f0e0d0c0302010007060504\n"),
            "{ir}"
        );
        assert!(
            ir.contains("vconst 0xc0d0e0f08090a0b0405060700010203\n"),
            "{ir}"
        );
        assert!(
            ir.contains("vconst 0xe0f0c0d0a0b08090607040502030001\n"),
            "{ir}"
        );
    }

    #[test]
    fn lane_moves_and_widening() {
        // umov w23, v0.b[0] ; smov x0, v1.b[3] ; mov v0.d[1], x23 ;
        // uaddw v0.2d, v0.2d, v1.2s ; xtn v0.2s, v0.2d ; uaddlv h0, v1.16b
        let ir = lift_words(&[
            0x0e01_3c17,
            0x4e07_2c20,
            0x4e18_1ee0,
            0x2ea1_1000,
            0x0ea1_2800,
            0x6e30_3820,
        ]);
        assert!(
            ir.contains(":i32 = vextract") && ir.contains("(I8x16, 0)"),
            "{ir}"
        );
        assert!(ir.contains("sext"), "{ir}");
        assert!(ir.contains("(I64x2, 1)"), "{ir}");
        assert!(ir.contains("(Zip1, I32x4)"), "{ir}");
        assert!(ir.contains("(Uzp1, I32x4)"), "{ir}");
        assert!(
            ir.contains(":i16 = vreduce") && ir.contains("(Add, I8x16)"),
            "{ir}"
        );
        assert!(!ir.contains("trap"), "{ir}");
    }
}
