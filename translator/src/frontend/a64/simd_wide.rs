//! Advanced SIMD widening, narrowing and long instructions: the `L`/`W`
//! forms (SADDL/UADDW/SMULL/SMLAL/SABDL/SABAL/SHLL...), SQDMULL/SQDMLAL/
//! SQDMLSL, the pairwise long sums (SADDLP/UADALP...), the saturating
//! narrows (SQXTN/UQXTN/SQXTUN), the shift-right-narrows (SHRN2, RSHRN,
//! SQSHRN, UQRSHRN, SQSHRUN...) and the high-half narrows (ADDHN/RSUBHN...).
//!
//! Invariants: a widened operand is built with vector ops (interleaving
//! with zero or with the lanes' sign masks); a `2` form reads the upper
//! half of its narrow sources, and a narrowing `2` form writes the upper
//! half of the destination and keeps the lower half.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode};

use super::ctx::{unsupported, Ctx, Lift};
use super::simd_lanes::{
    assemble, clamp, get, k64, lane, lanes, operand_or_element, put, range, vx, Qc, Vx,
};
use super::simd_sat::{add_sat, imm_shift, shift_by, shift_right_vec, ShiftKind};
use crate::ir::{Lanes, Type, VBinOp, VReduceOp, VShiftOp, VUnOp, Value};

/// Widens the low (or, with `high`, the upper) half of `v`'s `narrow`
/// lanes to double width, zero- or sign-extending.
pub fn widen(cx: &mut Ctx, v: Value, narrow: Lanes, high: bool, signed: bool) -> Value {
    let zero = cx.b.vconst(Type::V128, 0);
    let fill = if signed {
        cx.b.vbin(Type::V128, zero, v, (VBinOp::CmpGt, narrow))
    } else {
        zero
    };
    let op = if high { VBinOp::Zip2 } else { VBinOp::Zip1 };
    cx.b.vbin(Type::V128, v, fill, (op, narrow))
}

/// The 128-bit concatenation `b.lo : a.lo` of two 64-bit vectors.
pub fn concat_low(cx: &mut Ctx, a: Value, b: Value) -> Value {
    cx.b.vbin(Type::V128, a, b, (VBinOp::Zip1, Lanes::I64x2))
}

fn half(l: Lanes) -> Lanes {
    Lanes::of_bits(l.lane_bits() / 2)
}

fn vb(cx: &mut Ctx, op: VBinOp, l: Lanes, a: Value, b: Value) -> Value {
    cx.b.vbin(Type::V128, a, b, (op, l))
}

/// Writes a narrow result: the plain form zeroes the upper half, the `2`
/// form puts it in the upper half above the destination's lower half.
fn put_narrow(cx: &mut Ctx, d: Vx, upper: bool, r: Value) {
    if upper {
        let old = get(cx, d.reg);
        let v = concat_low(cx, old, r);
        cx.b.set_v(v, d.reg as u8);
    } else {
        let d = Vx {
            count: d.count.min(64 / d.bits()),
            ..d
        };
        put(cx, d, r);
    }
}

/// Lifts the instructions of this file.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    match i.opcode {
        SADDL | SADDL2 | UADDL | UADDL2 | SSUBL | SSUBL2 | USUBL | USUBL2 | SADDW | SADDW2
        | UADDW | UADDW2 | SSUBW | SSUBW2 | USUBW | USUBW2 | SMULL | SMULL2 | UMULL | UMULL2
        | SMLAL | SMLAL2 | UMLAL | UMLAL2 | SMLSL | SMLSL2 | UMLSL | UMLSL2 | SABDL | SABDL2
        | UABDL | UABDL2 | SABAL | SABAL2 | UABAL | UABAL2 => long(cx, i),
        SHLL | SHLL2 => {
            let d = vx(&i.operands[0])?;
            let n = vx(&i.operands[1])?;
            let v = get(cx, n.reg);
            let w = widen(cx, v, n.lanes, i.opcode == SHLL2, false);
            let r =
                cx.b.vshift(Type::V128, w, (VShiftOp::Shl, d.lanes, n.bits() as u8));
            put(cx, d, r);
            Ok(())
        }
        SQDMULL | SQDMULL2 | SQDMLAL | SQDMLAL2 | SQDMLSL | SQDMLSL2 => sqdmull(cx, i),
        SADDLP | UADDLP | SADALP | UADALP => add_long_pairwise(cx, i),
        SQXTN | SQXTN2 | UQXTN | UQXTN2 | SQXTUN | SQXTUN2 => sat_narrow(cx, i),
        SHRN2 | RSHRN | RSHRN2 | SQSHRN | SQSHRN2 | UQSHRN | UQSHRN2 | SQRSHRN | SQRSHRN2
        | UQRSHRN | UQRSHRN2 | SQSHRUN | SQSHRUN2 | SQRSHRUN | SQRSHRUN2 => shift_narrow(cx, i),
        ADDHN | ADDHN2 | SUBHN | SUBHN2 | RADDHN | RADDHN2 | RSUBHN | RSUBHN2 => high_narrow(cx, i),
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

/// The long and wide three-operand forms.
fn long(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let op = i.opcode;
    let d = vx(&i.operands[0])?;
    let wl = d.lanes;
    let nl = half(wl);
    let high = matches!(
        op,
        SADDL2
            | UADDL2
            | SSUBL2
            | USUBL2
            | SADDW2
            | UADDW2
            | SSUBW2
            | USUBW2
            | SMULL2
            | UMULL2
            | SMLAL2
            | UMLAL2
            | SMLSL2
            | UMLSL2
            | SABDL2
            | UABDL2
            | SABAL2
            | UABAL2
    );
    let signed = matches!(
        op,
        SADDL
            | SADDL2
            | SSUBL
            | SSUBL2
            | SADDW
            | SADDW2
            | SSUBW
            | SSUBW2
            | SMULL
            | SMULL2
            | SMLAL
            | SMLAL2
            | SMLSL
            | SMLSL2
            | SABDL
            | SABDL2
            | SABAL
            | SABAL2
    );
    let wide_n = matches!(
        op,
        SADDW | SADDW2 | UADDW | UADDW2 | SSUBW | SSUBW2 | USUBW | USUBW2
    );
    let n = vx(&i.operands[1])?;
    let vn = get(cx, n.reg);
    let a = if wide_n {
        vn
    } else {
        widen(cx, vn, nl, high, signed)
    };
    let vm = operand_or_element(cx, &i.operands[2], nl)?;
    let b = widen(cx, vm, nl, high, signed);
    let r = match op {
        SADDL | SADDL2 | UADDL | UADDL2 | SADDW | SADDW2 | UADDW | UADDW2 => {
            vb(cx, VBinOp::Add, wl, a, b)
        }
        SSUBL | SSUBL2 | USUBL | USUBL2 | SSUBW | SSUBW2 | USUBW | USUBW2 => {
            vb(cx, VBinOp::Sub, wl, a, b)
        }
        SMULL | SMULL2 | UMULL | UMULL2 => vb(cx, VBinOp::Mul, wl, a, b),
        SMLAL | SMLAL2 | UMLAL | UMLAL2 | SMLSL | SMLSL2 | UMLSL | UMLSL2 => {
            let p = vb(cx, VBinOp::Mul, wl, a, b);
            let old = get(cx, d.reg);
            let acc = if matches!(op, SMLAL | SMLAL2 | UMLAL | UMLAL2) {
                VBinOp::Add
            } else {
                VBinOp::Sub
            };
            vb(cx, acc, wl, old, p)
        }
        _ => {
            // |a - b| of the widened (so exactly representable) values.
            let hi = vb(cx, VBinOp::Smax, wl, a, b);
            let lo = vb(cx, VBinOp::Smin, wl, a, b);
            let abd = vb(cx, VBinOp::Sub, wl, hi, lo);
            if matches!(op, SABAL | SABAL2 | UABAL | UABAL2) {
                let old = get(cx, d.reg);
                vb(cx, VBinOp::Add, wl, old, abd)
            } else {
                abd
            }
        }
    };
    put(cx, d, r);
    Ok(())
}

/// SQDMULL/SQDMLAL/SQDMLSL: `2 * n * m` saturated to the wide lane, then
/// (for the accumulating forms) a saturating add or subtract.
fn sqdmull(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let nl = half(d.lanes);
    let start = if matches!(i.opcode, SQDMULL2 | SQDMLAL2 | SQDMLSL2) {
        d.count
    } else {
        0
    };
    let vn = get(cx, n.reg);
    let vm = operand_or_element(cx, &i.operands[2], nl)?;
    let ns = lanes(cx, vn, nl, start, d.count, true);
    let ms = lanes(cx, vm, nl, start, d.count, true);
    let acc = !matches!(i.opcode, SQDMULL | SQDMULL2);
    let sub = matches!(i.opcode, SQDMLSL | SQDMLSL2);
    let vd = get(cx, d.reg);
    let mut qc = Qc::default();
    let mut out = Vec::new();
    for k in 0..d.count as usize {
        let p = cx.b.mul(Type::I64, ns[k], ms[k]);
        let two = k64(cx, 1);
        let dbl = cx.b.shl(Type::I64, p, two);
        let r = if d.bits() < 64 {
            clamp(cx, &mut qc, dbl, range(d.bits(), true), true)
        } else {
            // Only MIN * MIN (p = 2^62) overflows, to MAX.
            let big = k64(cx, 1i64 << 62);
            let ovf = cx.b.icmp(Type::I8, p, big, crate::ir::IntCC::Eq);
            qc.add(cx, ovf);
            let max = k64(cx, i64::MAX);
            cx.b.select(Type::I64, ovf, max, dbl)
        };
        let r = if acc {
            let old = lane(cx, vd, d.lanes, k as u32, true);
            add_sat(cx, &mut qc, old, r, d.bits(), true, sub)
        } else {
            r
        };
        out.push(r);
    }
    qc.finish(cx);
    let r = assemble(cx, d.lanes, &out);
    put(cx, d, r);
    Ok(())
}

/// SADDLP/UADDLP (and the accumulating SADALP/UADALP): adjacent narrow
/// lanes summed into wide lanes, computed on the wide view: the even lane
/// is the wide lane's low half extended, the odd lane its high half.
fn add_long_pairwise(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let signed = matches!(i.opcode, SADDLP | SADALP);
    let w = d.lanes;
    let h = n.bits() as u8;
    let v = get(cx, n.reg);
    let right = if signed {
        VShiftOp::Sshr
    } else {
        VShiftOp::Ushr
    };
    let up = cx.b.vshift(Type::V128, v, (VShiftOp::Shl, w, h));
    let even = cx.b.vshift(Type::V128, up, (right, w, h));
    let odd = cx.b.vshift(Type::V128, v, (right, w, h));
    let mut r = vb(cx, VBinOp::Add, w, even, odd);
    if matches!(i.opcode, SADALP | UADALP) {
        let old = get(cx, d.reg);
        r = vb(cx, VBinOp::Add, w, old, r);
    }
    put(cx, d, r);
    Ok(())
}

/// Narrows the halfword or word lanes `v` of shape `wide` with
/// saturation as x86's packs do, into the low 64 bits, and sets FPSR.QC
/// when a lane saturated: exactly when widening the result back changes
/// it.
fn narrow_sat_vec(
    cx: &mut Ctx,
    v: Value,
    wide: Lanes,
    src_signed: bool,
    dst_signed: bool,
) -> Value {
    let kind = match (src_signed, dst_signed) {
        (true, true) => VUnOp::NarrowSs,
        (true, false) => VUnOp::NarrowSu,
        _ => VUnOp::NarrowUu,
    };
    let r = cx.b.vun(Type::V128, v, (kind, wide));
    let back = widen(cx, r, half(wide), false, dst_signed);
    let same = cx.b.vbin(Type::V128, back, v, (VBinOp::CmpEq, wide));
    let all =
        cx.b.vreduce(Type::I8, same, (VReduceOp::Umin, Lanes::I8x16));
    let zero = cx.iconst(Type::I8, 0);
    let sat = cx.b.icmp(Type::I8, all, zero, crate::ir::IntCC::Eq);
    let mut qc = Qc::default();
    qc.add(cx, sat);
    qc.finish(cx);
    r
}

/// SQXTN/UQXTN/SQXTUN and their `2` forms (and scalar forms).
fn sat_narrow(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let upper = matches!(i.opcode, SQXTN2 | UQXTN2 | SQXTUN2);
    let src_signed = !matches!(i.opcode, UQXTN | UQXTN2);
    let dst_signed = matches!(i.opcode, SQXTN | SQXTN2);
    let v = get(cx, n.reg);
    if n.count > 1 && n.bits() <= 32 {
        let r = narrow_sat_vec(cx, v, n.lanes, src_signed, dst_signed);
        put_narrow(cx, d, upper, r);
        return Ok(());
    }
    let xs = lanes(cx, v, n.lanes, 0, n.count, src_signed);
    let mut qc = Qc::default();
    let out: Vec<Value> = xs
        .into_iter()
        .map(|x| clamp(cx, &mut qc, x, range(d.bits(), dst_signed), src_signed))
        .collect();
    qc.finish(cx);
    let r = assemble(cx, d.lanes, &out);
    put_narrow(cx, d, upper, r);
    Ok(())
}

/// The shift-right-narrow family; the shift is exact (rounded when the
/// mnemonic has an `R`) and the narrowing truncates (SHRN/RSHRN) or
/// saturates.
fn shift_narrow(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let op = i.opcode;
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let s = imm_shift(&i.operands[2])?;
    let upper = matches!(
        op,
        SHRN2 | RSHRN2 | SQSHRN2 | UQSHRN2 | SQRSHRN2 | UQRSHRN2 | SQSHRUN2 | SQRSHRUN2
    );
    let round = matches!(
        op,
        RSHRN | RSHRN2 | SQRSHRN | SQRSHRN2 | UQRSHRN | UQRSHRN2 | SQRSHRUN | SQRSHRUN2
    );
    let signed = matches!(
        op,
        SQSHRN | SQSHRN2 | SQRSHRN | SQRSHRN2 | SQSHRUN | SQSHRUN2 | SQRSHRUN | SQRSHRUN2
    );
    let saturate = !matches!(op, SHRN2 | RSHRN | RSHRN2);
    let dst_signed = matches!(op, SQSHRN | SQSHRN2 | SQRSHRN | SQRSHRN2);
    let v = get(cx, n.reg);
    if !saturate {
        // Rounding adds half a unit modulo the wide lane: the carry out
        // only changes bits above the narrow result.
        let x = if round {
            let c = super::simd::replicate(1u64 << (s - 1), n.bits());
            let c = cx.b.vconst(Type::V128, c);
            vb(cx, VBinOp::Add, n.lanes, v, c)
        } else {
            v
        };
        let r = cx.b.vshrn(Type::V128, x, (n.lanes, s as u8));
        put_narrow(cx, d, upper, r);
        return Ok(());
    }
    if n.count > 1 && n.bits() <= 32 {
        let x = shift_right_vec(cx, v, n.lanes, s, signed, round);
        let r = narrow_sat_vec(cx, x, n.lanes, signed, dst_signed);
        put_narrow(cx, d, upper, r);
        return Ok(());
    }
    let xs = lanes(cx, v, n.lanes, 0, n.count, signed);
    let mut qc = Qc::default();
    let kind = ShiftKind {
        signed,
        round,
        sat: None,
    };
    let mut out = Vec::new();
    for x in xs {
        let amt = k64(cx, -(s as i64));
        let r = shift_by(cx, &mut qc, x, amt, n.bits(), kind);
        out.push(clamp(cx, &mut qc, r, range(d.bits(), dst_signed), true));
    }
    qc.finish(cx);
    let r = assemble(cx, d.lanes, &out);
    put_narrow(cx, d, upper, r);
    Ok(())
}

/// ADDHN/SUBHN/RADDHN/RSUBHN: the high half of each wide sum or
/// difference (rounded: plus half a narrow unit first), modulo the wide
/// lane.
fn high_narrow(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let op = i.opcode;
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let m = vx(&i.operands[2])?;
    let wl = n.lanes;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let sub = matches!(op, SUBHN | SUBHN2 | RSUBHN | RSUBHN2);
    let mut r = vb(cx, if sub { VBinOp::Sub } else { VBinOp::Add }, wl, a, b);
    if matches!(op, RADDHN | RADDHN2 | RSUBHN | RSUBHN2) {
        let unit = 1u64 << (d.bits() - 1);
        let c =
            cx.b.vconst(Type::V128, super::simd::replicate(unit, wl.lane_bits()));
        r = vb(cx, VBinOp::Add, wl, r, c);
    }
    let r = cx.b.vshrn(Type::V128, r, (wl, d.bits() as u8));
    put_narrow(cx, d, matches!(op, ADDHN2 | SUBHN2 | RADDHN2 | RSUBHN2), r);
    Ok(())
}

/// Which of the opcodes this file lifts.
pub fn handles(i: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        i.opcode,
        SADDL
            | SADDL2
            | UADDL
            | UADDL2
            | SSUBL
            | SSUBL2
            | USUBL
            | USUBL2
            | SADDW
            | SADDW2
            | UADDW
            | UADDW2
            | SSUBW
            | SSUBW2
            | USUBW
            | USUBW2
            | SMULL
            | SMULL2
            | UMULL
            | UMULL2
            | SMLAL
            | SMLAL2
            | UMLAL
            | UMLAL2
            | SMLSL
            | SMLSL2
            | UMLSL
            | UMLSL2
            | SABDL
            | SABDL2
            | UABDL
            | UABDL2
            | SABAL
            | SABAL2
            | UABAL
            | UABAL2
            | SHLL
            | SHLL2
            | SQDMULL
            | SQDMULL2
            | SQDMLAL
            | SQDMLAL2
            | SQDMLSL
            | SQDMLSL2
            | SADDLP
            | UADDLP
            | SADALP
            | UADALP
            | SQXTN
            | SQXTN2
            | UQXTN
            | UQXTN2
            | SQXTUN
            | SQXTUN2
            | SHRN2
            | RSHRN
            | RSHRN2
            | SQSHRN
            | SQSHRN2
            | UQSHRN
            | UQSHRN2
            | SQRSHRN
            | SQRSHRN2
            | UQRSHRN
            | UQRSHRN2
            | SQSHRUN
            | SQSHRUN2
            | SQRSHRUN
            | SQRSHRUN2
            | ADDHN
            | ADDHN2
            | SUBHN
            | SUBHN2
            | RADDHN
            | RADDHN2
            | RSUBHN
            | RSUBHN2
    )
}
