//! Advanced SIMD saturating arithmetic and shifts: SQADD/UQADD/SQSUB/UQSUB,
//! SUQADD/USQADD, SQABS/SQNEG, SQDMULH/SQRDMULH, SQRDMLAH/SQRDMLSH
//! (FEAT_RDM), shifts by register
//! (SSHL/USHL, rounding SRSHL/URSHL, saturating SQSHL/UQSHL/SQRSHL/UQRSHL),
//! saturating left shifts by immediate (SQSHL/UQSHL/SQSHLU), rounding
//! right shifts (SRSHR/URSHR/SRSRA/URSRA), accumulating SSRA/USRA and the
//! shift-inserts SLI/SRI. Vector and scalar forms alike.
//!
//! Invariants: every lane is computed exactly (see `simd_lanes`), 64-bit
//! lanes through explicit overflow checks; any saturated lane sets
//! FPSR.QC.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::ctx::{unsupported, Ctx, Lift, Unsupported};
use super::simd_lanes::{
    assemble, clamp, cmp, get, k64, lanes, operand_or_element, put, range, sel, signed_limit64, vx,
    Qc, Vx,
};
use crate::ir::{IntCC, Lanes, Type, VBinOp, VReduceOp, VShiftOp, VUnOp, Value};

/// The immediate shift amount of a shift-by-immediate form.
pub fn imm_shift(op: &Operand) -> Result<u32, Unsupported> {
    match *op {
        Operand::Immediate(n) => Ok(n),
        Operand::Imm16(n) => Ok(n as u32),
        Operand::Imm64(n) => Ok(n as u32),
        _ => unsupported(format!("shift operand {op:?}")),
    }
}

/// Applies `f(cx, qc, d_lane, n_lane, m_lane)` to every lane of a
/// three-operand (or, with `m` absent, two-operand) instruction; `signed`
/// says how the `(d, n, m)` lanes extend. `dsrc` says whether the old
/// destination is an input.
fn map3(
    cx: &mut Ctx,
    i: &Instruction,
    signed: (bool, bool, bool),
    dsrc: bool,
    mut f: impl FnMut(&mut Ctx, &mut Qc, Value, Value, Value) -> Value,
) -> Lift {
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let vn = get(cx, n.reg);
    let ns = lanes(cx, vn, d.lanes, 0, d.count, signed.1);
    let ms = match i.operands[2] {
        Operand::Nothing | Operand::Immediate(_) | Operand::Imm16(_) | Operand::Imm64(_) => {
            ns.clone()
        }
        ref op => {
            let vm = operand_or_element(cx, op, d.lanes)?;
            lanes(cx, vm, d.lanes, 0, d.count, signed.2)
        }
    };
    let ds = if dsrc {
        let vd = get(cx, d.reg);
        lanes(cx, vd, d.lanes, 0, d.count, signed.0)
    } else {
        ns.clone()
    };
    let mut qc = Qc::default();
    let mut out = Vec::with_capacity(d.count as usize);
    for k in 0..d.count as usize {
        out.push(f(cx, &mut qc, ds[k], ns[k], ms[k]));
    }
    qc.finish(cx);
    let r = assemble(cx, d.lanes, &out);
    put(cx, d, r);
    Ok(())
}

/// Lifts the saturating and shifting instructions of this file.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let d = vx(&i.operands[0])?;
    let bits = d.bits();
    match i.opcode {
        SQADD | SQSUB | UQADD | UQSUB if bits <= 16 && d.count > 1 => add_sat_vector(cx, i, d),
        SQADD | SQSUB | UQADD | UQSUB => {
            let signed = matches!(i.opcode, SQADD | SQSUB);
            let sub = matches!(i.opcode, SQSUB | UQSUB);
            map3(cx, i, (signed, signed, signed), false, |cx, qc, _, a, b| {
                add_sat(cx, qc, a, b, bits, signed, sub)
            })
        }
        SUQADD | USQADD => {
            let acc_signed = i.opcode == SUQADD;
            map3(
                cx,
                i,
                (acc_signed, !acc_signed, false),
                true,
                |cx, qc, acc, x, _| mixed_add(cx, qc, acc, x, bits, acc_signed),
            )
        }
        SQABS | SQNEG => {
            let abs = i.opcode == SQABS;
            map3(cx, i, (true, true, true), false, |cx, qc, _, a, _| {
                let zero = k64(cx, 0);
                let neg = cx.b.sub(Type::I64, zero, a);
                let r = if abs {
                    let isneg = cmp(cx, IntCC::Slt, a, zero);
                    sel(cx, isneg, neg, a)
                } else {
                    neg
                };
                if bits < 64 {
                    clamp(cx, qc, r, range(bits, true), true)
                } else {
                    // Only MIN overflows, to MAX.
                    let min = k64(cx, i64::MIN);
                    let ovf = cmp(cx, IntCC::Eq, a, min);
                    qc.add(cx, ovf);
                    let max = k64(cx, i64::MAX);
                    sel(cx, ovf, max, r)
                }
            })
        }
        SQRDMULH if bits == 16 && d.count > 1 => sqrdmulh_vector(cx, i, d),
        SQDMULH | SQRDMULH => {
            let round = i.opcode == SQRDMULH;
            if !(16..=32).contains(&bits) {
                return unsupported("sqdmulh lane size");
            }
            map3(cx, i, (true, true, true), false, |cx, qc, _, a, b| {
                let mut p = cx.b.mul(Type::I64, a, b);
                if round {
                    let c = k64(cx, 1i64 << (bits - 2));
                    p = cx.b.add(Type::I64, p, c);
                }
                let s = k64(cx, (bits - 1) as i64);
                let r = cx.b.ashr(Type::I64, p, s);
                clamp(cx, qc, r, range(bits, true), true)
            })
        }
        SQRDMLAH | SQRDMLSH => {
            // (d << e) +/- 2ab + 2^(e-1), halved so it fits in i64.
            if !(16..=32).contains(&bits) {
                return unsupported("sqrdmlah lane size");
            }
            let sub = i.opcode == SQRDMLSH;
            map3(cx, i, (true, true, true), true, |cx, qc, acc, a, b| {
                let p = cx.b.mul(Type::I64, a, b);
                let s = k64(cx, (bits - 1) as i64);
                let hi = cx.b.shl(Type::I64, acc, s);
                let sum = if sub {
                    cx.b.sub(Type::I64, hi, p)
                } else {
                    cx.b.add(Type::I64, hi, p)
                };
                let c = k64(cx, 1i64 << (bits - 2));
                let sum = cx.b.add(Type::I64, sum, c);
                let r = cx.b.ashr(Type::I64, sum, s);
                clamp(cx, qc, r, range(bits, true), true)
            })
        }
        SSHL | USHL | SRSHL | URSHL | SQSHL | UQSHL | SQRSHL | UQRSHL
            if !is_imm(&i.operands[2]) =>
        {
            let signed = matches!(i.opcode, SSHL | SRSHL | SQSHL | SQRSHL);
            let round = matches!(i.opcode, SRSHL | URSHL | SQRSHL | UQRSHL);
            let sat = matches!(i.opcode, SQSHL | UQSHL | SQRSHL | UQRSHL);
            map3(cx, i, (signed, signed, true), false, |cx, qc, _, x, m| {
                let amt = cx.b.trunc(Type::I8, m);
                let amt = cx.b.sext(Type::I64, amt);
                shift_by(
                    cx,
                    qc,
                    x,
                    amt,
                    bits,
                    ShiftKind {
                        signed,
                        round,
                        sat: sat.then_some(signed),
                    },
                )
            })
        }
        SQSHL | UQSHL | SQSHLU => {
            let s = imm_shift(&i.operands[2])?;
            let signed = i.opcode != UQSHL;
            let out_signed = i.opcode == SQSHL;
            map3(cx, i, (signed, signed, signed), false, |cx, qc, _, x, _| {
                let amt = k64(cx, s as i64);
                shift_by(
                    cx,
                    qc,
                    x,
                    amt,
                    bits,
                    ShiftKind {
                        signed,
                        round: false,
                        sat: Some(out_signed),
                    },
                )
            })
        }
        SRSHR | URSHR | SRSRA | URSRA | SSRA | USRA => {
            let s = imm_shift(&i.operands[2])?;
            let signed = matches!(i.opcode, SRSHR | SRSRA | SSRA);
            let round = matches!(i.opcode, SRSHR | URSHR | SRSRA | URSRA);
            let v = get(cx, vx(&i.operands[1])?.reg);
            let mut r = shift_right_vec(cx, v, d.lanes, s, signed, round);
            if matches!(i.opcode, SRSRA | URSRA | SSRA | USRA) {
                let old = get(cx, d.reg);
                r = cx.b.vbin(Type::V128, old, r, (VBinOp::Add, d.lanes));
            }
            put(cx, d, r);
            Ok(())
        }
        SLI | SRI => {
            let s = imm_shift(&i.operands[2])?;
            let left = i.opcode == SLI;
            map3(cx, i, (false, false, false), true, |cx, _, old, x, _| {
                shift_insert(cx, old, x, s, bits, left)
            })
        }
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

/// `x >> s` per lane for `1 <= s <= lane bits`, rounded to nearest (ties
/// up) when `round`: `(x >> s) + ((x >> (s - 1)) & 1)`, which needs no
/// wider intermediate. A shift by the full width gives the sign fill
/// (signed) or 0, and rounded the top bit (unsigned) or 0 (signed).
pub fn shift_right_vec(
    cx: &mut Ctx,
    v: Value,
    l: Lanes,
    s: u32,
    signed: bool,
    round: bool,
) -> Value {
    let e = l.lane_bits();
    let right = if signed {
        VShiftOp::Sshr
    } else {
        VShiftOp::Ushr
    };
    let base = if s < e {
        cx.b.vshift(Type::V128, v, (right, l, s as u8))
    } else if signed && !round {
        cx.b.vshift(Type::V128, v, (VShiftOp::Sshr, l, (e - 1) as u8))
    } else {
        cx.b.vconst(Type::V128, 0)
    };
    if !round || (signed && s == e) {
        return base;
    }
    let half =
        cx.b.vshift(Type::V128, v, (VShiftOp::Ushr, l, (s - 1) as u8));
    let one = cx.b.vconst(Type::V128, super::simd::replicate(1, e));
    let bit = cx.b.vbin(Type::V128, half, one, (VBinOp::And, l));
    cx.b.vbin(Type::V128, base, bit, (VBinOp::Add, l))
}

/// SQRDMULH on halfword vectors: x86's rounding fixed-point multiply,
/// which saturates exactly as Arm does; only MIN * MIN saturates.
fn sqrdmulh_vector(cx: &mut Ctx, i: &Instruction, d: Vx) -> Lift {
    let l = d.lanes;
    let a = get(cx, vx(&i.operands[1])?.reg);
    let b = operand_or_element(cx, &i.operands[2], l)?;
    let r = cx.b.vbin(Type::V128, a, b, (VBinOp::SqRdMulH, l));
    let min = cx.b.vconst(Type::V128, super::simd::replicate(0x8000, 16));
    let am = cx.b.vbin(Type::V128, a, min, (VBinOp::CmpEq, l));
    let bm = cx.b.vbin(Type::V128, b, min, (VBinOp::CmpEq, l));
    let both = cx.b.vbin(Type::V128, am, bm, (VBinOp::And, l));
    qc_if_any_lane(cx, d, both);
    put(cx, d, r);
    Ok(())
}

/// Sets FPSR.QC when any lane of `mask` (within `d`'s width) is non-zero.
fn qc_if_any_lane(cx: &mut Ctx, d: Vx, mut mask: Value) {
    if !d.full() {
        mask = cx.b.vzero_high(Type::V128, mask);
    }
    let any =
        cx.b.vreduce(Type::I8, mask, (VReduceOp::Umax, Lanes::I8x16));
    let zero = cx.iconst(Type::I8, 0);
    let sat = cx.b.icmp(Type::I8, any, zero, IntCC::Ne);
    let mut qc = Qc::default();
    qc.add(cx, sat);
    qc.finish(cx);
}

/// SQADD/UQADD/SQSUB/UQSUB on byte and halfword vectors, as x86's
/// saturating adds. A lane saturated exactly when the saturated result
/// differs from the wrapping one (the exact sum is within one range width
/// of the limits, so it cannot wrap back onto a limit).
fn add_sat_vector(cx: &mut Ctx, i: &Instruction, d: Vx) -> Lift {
    use Opcode::*;
    let (sat_op, wrap_op) = match i.opcode {
        SQADD => (VBinOp::SqAdd, VBinOp::Add),
        UQADD => (VBinOp::UqAdd, VBinOp::Add),
        SQSUB => (VBinOp::SqSub, VBinOp::Sub),
        _ => (VBinOp::UqSub, VBinOp::Sub),
    };
    let a = get(cx, vx(&i.operands[1])?.reg);
    let b = get(cx, vx(&i.operands[2])?.reg);
    let l = d.lanes;
    let r = cx.b.vbin(Type::V128, a, b, (sat_op, l));
    let w = cx.b.vbin(Type::V128, a, b, (wrap_op, l));
    let same = cx.b.vbin(Type::V128, r, w, (VBinOp::CmpEq, l));
    let differs = cx.b.vun(Type::V128, same, (VUnOp::Not, l));
    qc_if_any_lane(cx, d, differs);
    put(cx, d, r);
    Ok(())
}

fn is_imm(op: &Operand) -> bool {
    matches!(
        op,
        Operand::Immediate(_) | Operand::Imm16(_) | Operand::Imm64(_)
    )
}

/// Saturating `a + b` or `a - b` of two `bits`-wide lanes.
pub fn add_sat(
    cx: &mut Ctx,
    qc: &mut Qc,
    a: Value,
    b: Value,
    bits: u32,
    signed: bool,
    sub: bool,
) -> Value {
    let r = if sub {
        cx.b.sub(Type::I64, a, b)
    } else {
        cx.b.add(Type::I64, a, b)
    };
    if bits < 64 {
        return clamp(cx, qc, r, range(bits, signed), true);
    }
    let zero = k64(cx, 0);
    if signed {
        // Overflow iff the operands' signs make it possible and the
        // result's sign differs from a's.
        let x1 = cx.b.xor(Type::I64, a, r);
        let x2 = if sub {
            cx.b.xor(Type::I64, a, b)
        } else {
            cx.b.xor(Type::I64, b, r)
        };
        let both = cx.b.and(Type::I64, x1, x2);
        let ovf = cmp(cx, IntCC::Slt, both, zero);
        qc.add(cx, ovf);
        let aneg = cmp(cx, IntCC::Slt, a, zero);
        let lim = signed_limit64(cx, aneg);
        sel(cx, ovf, lim, r)
    } else if sub {
        let ovf = cmp(cx, IntCC::Ult, a, b);
        qc.add(cx, ovf);
        sel(cx, ovf, zero, r)
    } else {
        let ovf = cmp(cx, IntCC::Ult, r, a);
        qc.add(cx, ovf);
        let max = k64(cx, -1);
        sel(cx, ovf, max, r)
    }
}

/// SUQADD (signed accumulator + unsigned operand, signed saturation) and
/// USQADD (unsigned accumulator + signed operand, unsigned saturation).
fn mixed_add(
    cx: &mut Ctx,
    qc: &mut Qc,
    acc: Value,
    x: Value,
    bits: u32,
    acc_signed: bool,
) -> Value {
    let r = cx.b.add(Type::I64, acc, x);
    if bits < 64 {
        return clamp(cx, qc, r, range(bits, acc_signed), true);
    }
    if acc_signed {
        // acc + x > MAX  iff  x >u MAX - acc (as unsigned).
        let max = k64(cx, i64::MAX);
        let room = cx.b.sub(Type::I64, max, acc);
        let ovf = cmp(cx, IntCC::Ugt, x, room);
        qc.add(cx, ovf);
        sel(cx, ovf, max, r)
    } else {
        let zero = k64(cx, 0);
        let xneg = cmp(cx, IntCC::Slt, x, zero);
        let up = cmp(cx, IntCC::Ult, r, acc);
        let down = cmp(cx, IntCC::Ugt, r, acc);
        let ovf = cx.b.select(Type::I8, xneg, down, up);
        qc.add(cx, ovf);
        let ones = k64(cx, -1);
        let lim = sel(cx, xneg, zero, ones);
        sel(cx, ovf, lim, r)
    }
}

/// How a lane shift treats its operand and result.
#[derive(Clone, Copy)]
pub struct ShiftKind {
    /// The lane is signed (arithmetic right shifts).
    pub signed: bool,
    /// Right shifts round to nearest (ties up).
    pub round: bool,
    /// Left shifts saturate, into a signed (`Some(true)`) or unsigned range.
    pub sat: Option<bool>,
}

/// Shifts the extended lane `x` left by the signed `amt` (right when
/// negative), as SSHL/USHL and their rounding and saturating forms do.
pub fn shift_by(
    cx: &mut Ctx,
    qc: &mut Qc,
    x: Value,
    amt: Value,
    bits: u32,
    kind: ShiftKind,
) -> Value {
    let ShiftKind { signed, round, sat } = kind;
    let zero = k64(cx, 0);
    let c63 = k64(cx, 63);
    let width = k64(cx, bits as i64);
    let positive = cmp(cx, IntCC::Sge, amt, zero);
    // The left-shift amount, 0 for right shifts so that the unused left
    // result never flags saturation.
    let amt_l = {
        let over = cmp(cx, IntCC::Sgt, amt, c63);
        let a = sel(cx, over, c63, amt);
        sel(cx, positive, a, zero)
    };
    let shifted = cx.b.shl(Type::I64, x, amt_l);
    let too_far = cmp(cx, IntCC::Sge, amt, width);
    let left = match sat {
        None => sel(cx, too_far, zero, shifted),
        Some(out_signed) => left_sat(
            cx,
            qc,
            x,
            (shifted, amt_l, too_far),
            bits,
            signed,
            out_signed,
        ),
    };
    let n = cx.b.sub(Type::I64, zero, amt);
    let mut right = shr_clamped(cx, x, n, signed);
    if round {
        let one = k64(cx, 1);
        let n1 = cx.b.sub(Type::I64, n, one);
        let half = shr_clamped(cx, x, n1, signed);
        let bit = cx.b.and(Type::I64, half, one);
        right = cx.b.add(Type::I64, right, bit);
    }
    sel(cx, positive, left, right)
}

/// `x >> by` for `by >= 0`; `by >= 64` gives the sign fill (signed) or 0.
fn shr_clamped(cx: &mut Ctx, x: Value, by: Value, signed: bool) -> Value {
    let c63 = k64(cx, 63);
    let over = cmp(cx, IntCC::Sgt, by, c63);
    let by_c = sel(cx, over, c63, by);
    if signed {
        cx.b.ashr(Type::I64, x, by_c)
    } else {
        let zero = k64(cx, 0);
        let r = cx.b.lshr(Type::I64, x, by_c);
        sel(cx, over, zero, r)
    }
}

/// The saturating left shift of SQSHL/UQSHL/SQSHLU/SQRSHL/UQRSHL:
/// `shifted = x << amt` (amt in 0..=63), `too_far = amt >= bits`.
fn left_sat(
    cx: &mut Ctx,
    qc: &mut Qc,
    x: Value,
    (shifted, amt, too_far): (Value, Value, Value),
    bits: u32,
    signed: bool,
    out_signed: bool,
) -> Value {
    let zero = k64(cx, 0);
    let xneg = if signed {
        cmp(cx, IntCC::Slt, x, zero)
    } else {
        cmp(cx, IntCC::Ne, zero, zero)
    };
    if bits < 64 {
        // Exact in i64 unless the shift is at least the lane width, where
        // any non-zero value saturates in the direction of its sign.
        let huge = signed_limit64(cx, xneg);
        let isz = cmp(cx, IntCC::Eq, x, zero);
        let huge = sel(cx, isz, zero, huge);
        let exact = sel(cx, too_far, huge, shifted);
        return clamp(cx, qc, exact, range(bits, out_signed), true);
    }
    let back = if out_signed {
        cx.b.ashr(Type::I64, shifted, amt)
    } else {
        cx.b.lshr(Type::I64, shifted, amt)
    };
    let kept = cmp(cx, IntCC::Eq, back, x);
    let z8 = zero_i8(cx);
    let near = cmp(cx, IntCC::Eq, too_far, z8);
    let mut ok = cx.b.and(Type::I8, kept, near);
    if signed && !out_signed {
        let nonneg = cmp(cx, IntCC::Eq, xneg, z8);
        ok = cx.b.and(Type::I8, ok, nonneg);
    }
    let isz = cmp(cx, IntCC::Eq, x, zero);
    let ok = cx.b.or(Type::I8, ok, isz);
    let bad = cmp(cx, IntCC::Eq, ok, z8);
    qc.add(cx, bad);
    let lim = if out_signed {
        signed_limit64(cx, xneg)
    } else {
        let ones = k64(cx, -1);
        sel(cx, xneg, zero, ones)
    };
    sel(cx, ok, shifted, lim)
}

fn zero_i8(cx: &mut Ctx) -> Value {
    cx.iconst(Type::I8, 0)
}

/// SLI/SRI of one lane: the shifted source with the destination's bits
/// kept where the shift vacated them.
fn shift_insert(cx: &mut Ctx, old: Value, x: Value, s: u32, bits: u32, left: bool) -> Value {
    let ones = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if !left && s >= bits {
        return old;
    }
    let (shifted, keep) = if left {
        let sv = k64(cx, s as i64);
        (cx.b.shl(Type::I64, x, sv), !((ones << s) & ones) & ones)
    } else {
        let sv = k64(cx, s as i64);
        (cx.b.lshr(Type::I64, x, sv), !(ones >> s) & ones)
    };
    let keep_v = k64(cx, keep as i64);
    let kept = cx.b.and(Type::I64, old, keep_v);
    cx.b.or(Type::I64, shifted, kept)
}

/// Which of the opcodes this file lifts.
pub fn handles(i: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        i.opcode,
        SQADD
            | SQSUB
            | UQADD
            | UQSUB
            | SUQADD
            | USQADD
            | SQABS
            | SQNEG
            | SQDMULH
            | SQRDMULH
            | SQRDMLAH
            | SQRDMLSH
            | SSHL
            | USHL
            | SRSHL
            | URSHL
            | SQSHL
            | UQSHL
            | SQRSHL
            | UQRSHL
            | SQSHLU
            | SRSHR
            | URSHR
            | SRSRA
            | URSRA
            | SSRA
            | USRA
            | SLI
            | SRI
    )
}
