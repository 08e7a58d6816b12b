//! Advanced SIMD floating point: `.2s/.4s/.2d` arithmetic, by-element
//! (`v.s[i]`, `v.d[i]`) and SIMD scalar forms, FMLA/FMLS, FMULX, FRECPS/
//! FRSQRTS, FRECPE/FRSQRTE/FRECPX, pairwise and across-lanes FADD/FMAX/
//! FMIN, compares into lane masks, FRINT*, and the int<->float (also
//! fixed-point `#fbits`) and precision conversions (FCVTZS/FCVTZU/SCVTF/
//! UCVTF..., FCVTL/FCVTL2/FCVTN/FCVTN2 between half, single and double).
//!
//! FADD/FSUB/FMUL/FDIV/FSQRT and FMLA/FMLS become one packed op each
//! (`vfbin`, `vfsqrt`, `vfma`), whose lowering gives every lane exactly the
//! scalar semantics; a 64-bit form pads the unused upper lanes with 1.0
//! (which raises no exception) and clears them in the result. The other
//! forms are lifted lane by lane onto the scalar FP ops (Arm NaN rules for
//! FMAX/FMIN/FMAXNM/FMINNM, saturating conversions with NaN giving 0).
//! Ordered compares (FCMGE/FCMGT/FCMLE/FCMLT/FACGE/FACGT) signal IOC for
//! quiet NaNs too.
//!
//! Invariants: a result is built on a zero vector, so a 64-bit or scalar
//! result clears the rest of the destination (FCVTN2 alone starts from the
//! destination and keeps its low half). Every handler decodes all operands
//! before it emits IR, so a refused form leaves nothing behind for the
//! dispatcher's next attempt. Half-precision arithmetic lanes (FEAT_FP16)
//! are refused.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SIMDSizeCode};

use super::ctx::{unsupported, Ctx, Lift, Unsupported};
use crate::ir::{FBinOp, FEst, FloatCC, Lanes, Round, Type, VBinOp, Value};

/// Lifts an Advanced SIMD floating-point instruction.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    match i.opcode {
        FADD => binary(cx, i, Bin::Op(FBinOp::Add)),
        FSUB => binary(cx, i, Bin::Op(FBinOp::Sub)),
        FMUL => binary(cx, i, Bin::Op(FBinOp::Mul)),
        FDIV => binary(cx, i, Bin::Op(FBinOp::Div)),
        FMAX => binary(cx, i, Bin::Op(FBinOp::Max)),
        FMIN => binary(cx, i, Bin::Op(FBinOp::Min)),
        FMAXNM => binary(cx, i, Bin::Op(FBinOp::MaxNum)),
        FMINNM => binary(cx, i, Bin::Op(FBinOp::MinNum)),
        FABD => binary(cx, i, Bin::AbsDiff),
        FMULX => binary(cx, i, Bin::Op(FBinOp::MulX)),
        FRECPS => binary(cx, i, Bin::Op(FBinOp::RecipStep)),
        FRSQRTS => binary(cx, i, Bin::Op(FBinOp::RsqrtStep)),
        FRECPE => unary(cx, i, Un::Estimate(FEst::RecipEst)),
        FRSQRTE => unary(cx, i, Un::Estimate(FEst::RsqrtEst)),
        FRECPX => unary(cx, i, Un::Estimate(FEst::Recpx)),
        FMLA => binary(cx, i, Bin::Fused { negate: false }),
        FMLS => binary(cx, i, Bin::Fused { negate: true }),
        FCMEQ => binary(cx, i, Bin::Cmp(FloatCC::Eq, false)),
        FCMGE => binary(cx, i, Bin::Cmp(FloatCC::Ge, false)),
        FCMGT => binary(cx, i, Bin::Cmp(FloatCC::Gt, false)),
        FCMLE => binary(cx, i, Bin::Cmp(FloatCC::Le, false)),
        FCMLT => binary(cx, i, Bin::Cmp(FloatCC::Lt, false)),
        FACGE => binary(cx, i, Bin::Cmp(FloatCC::Ge, true)),
        FACGT => binary(cx, i, Bin::Cmp(FloatCC::Gt, true)),
        FADDP => pairwise(cx, i, FBinOp::Add),
        FMAXP => pairwise(cx, i, FBinOp::Max),
        FMINP => pairwise(cx, i, FBinOp::Min),
        FMAXNMP => pairwise(cx, i, FBinOp::MaxNum),
        FMINNMP => pairwise(cx, i, FBinOp::MinNum),
        FMAXV => across(cx, i, FBinOp::Max),
        FMINV => across(cx, i, FBinOp::Min),
        FMAXNMV => across(cx, i, FBinOp::MaxNum),
        FMINNMV => across(cx, i, FBinOp::MinNum),
        FNEG | FABS | FSQRT => unary(cx, i, Un::Basic),
        FRINTN => unary(cx, i, Un::Round(Round::Nearest)),
        FRINTX => unary(cx, i, Un::Round(Round::CurrentExact)),
        FRINTI => unary(cx, i, Un::Round(Round::Current)),
        FRINTP => unary(cx, i, Un::Round(Round::Ceil)),
        FRINTM => unary(cx, i, Un::Round(Round::Floor)),
        FRINTZ => unary(cx, i, Un::Round(Round::Trunc)),
        FRINTA => unary(cx, i, Un::Round(Round::TiesAway)),
        FCVTZS => unary(cx, i, Un::ToInt(true, Round::Trunc)),
        FCVTZU => unary(cx, i, Un::ToInt(false, Round::Trunc)),
        FCVTNS => unary(cx, i, Un::ToInt(true, Round::Nearest)),
        FCVTNU => unary(cx, i, Un::ToInt(false, Round::Nearest)),
        FCVTAS => unary(cx, i, Un::ToInt(true, Round::TiesAway)),
        FCVTAU => unary(cx, i, Un::ToInt(false, Round::TiesAway)),
        FCVTMS => unary(cx, i, Un::ToInt(true, Round::Floor)),
        FCVTMU => unary(cx, i, Un::ToInt(false, Round::Floor)),
        FCVTPS => unary(cx, i, Un::ToInt(true, Round::Ceil)),
        FCVTPU => unary(cx, i, Un::ToInt(false, Round::Ceil)),
        SCVTF => unary(cx, i, Un::FromInt(true)),
        UCVTF => unary(cx, i, Un::FromInt(false)),
        FCVTL | FCVTL2 => widen(cx, i),
        FCVTN | FCVTN2 => narrow(cx, i),
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

/// A float operand: register, lane type, lanes used, and the lane index of
/// a by-element operand (which supplies that one lane to every result lane).
#[derive(Clone, Copy)]
struct FOp {
    reg: u16,
    ty: Type,
    count: u8,
    elem: Option<u8>,
}

fn float_ty(esize: SIMDSizeCode) -> Result<Type, Unsupported> {
    match esize {
        SIMDSizeCode::S => Ok(Type::F32),
        SIMDSizeCode::D => Ok(Type::F64),
        _ => unsupported("vector FP lane size"),
    }
}

/// Decodes a vector, SIMD scalar (S/D) or by-element operand.
fn fop(op: &Operand) -> Result<FOp, Unsupported> {
    match *op {
        Operand::SIMDRegisterElements(size, reg, esize) => {
            let ty = float_ty(esize)?;
            let bits = if size == SIMDSizeCode::Q { 128 } else { 64 };
            Ok(FOp {
                reg,
                ty,
                count: (bits / ty.bits()) as u8,
                elem: None,
            })
        }
        Operand::SIMDRegister(size @ (SIMDSizeCode::S | SIMDSizeCode::D), reg) => Ok(FOp {
            reg,
            ty: float_ty(size)?,
            count: 1,
            elem: None,
        }),
        Operand::SIMDRegisterElementsLane(_, reg, esize, idx) => Ok(FOp {
            reg,
            ty: float_ty(esize)?,
            count: 1,
            elem: Some(idx),
        }),
        _ => unsupported(format!("vector FP operand {op:?}")),
    }
}

fn lanes(ty: Type) -> Lanes {
    Lanes::of_bits(ty.bits())
}

/// Reads `count` lanes of `op`, starting at lane `first`, as `ty` (a float,
/// or an integer of the lane width); a by-element operand repeats its lane.
fn read(cx: &mut Ctx, op: FOp, ty: Type, first: u8, count: u8) -> Vec<Value> {
    let v = cx.b.get_v(Type::V128, op.reg as u8);
    let l = lanes(op.ty);
    match op.elem {
        Some(k) => {
            let x = cx.b.vextract(ty, v, (l, k));
            vec![x; count as usize]
        }
        None => (first..first + count)
            .map(|k| cx.b.vextract(ty, v, (l, k)))
            .collect(),
    }
}

/// Writes `vals` (lanes of width `bits`) into V register `d` from lane
/// `first` on; the other lanes come from `base`, or are zero.
fn write(cx: &mut Ctx, d: u16, bits: u32, base: Option<Value>, first: u8, vals: &[Value]) {
    let mut v = match base {
        Some(v) => v,
        None => cx.b.vconst(Type::V128, 0),
    };
    for (k, &x) in vals.iter().enumerate() {
        v =
            cx.b.vinsert(Type::V128, v, x, (Lanes::of_bits(bits), first + k as u8));
    }
    cx.b.set_v(v, d as u8);
}

/// The lane-wise two-operand forms.
#[derive(Clone, Copy)]
enum Bin {
    /// One scalar op per lane.
    Op(FBinOp),
    /// FABD: `|a - b|`.
    AbsDiff,
    /// FMLA `d + n*m` / FMLS `d - n*m`, one rounding.
    Fused { negate: bool },
    /// Compare into an all-ones/zero lane mask; `abs` compares magnitudes
    /// (FACGE/FACGT).
    Cmp(FloatCC, bool),
}

fn binary(cx: &mut Ctx, i: &Instruction, op: Bin) -> Lift {
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    let m = match i.operands[2] {
        Operand::ImmediateDouble(_) if matches!(op, Bin::Cmp(..)) => None,
        ref o => Some(fop(o)?),
    };
    if d.elem.is_some() || n.elem.is_some() || i.operands[3] != Operand::Nothing {
        return unsupported("vector FP form");
    }
    let ty = d.ty;
    if let (Bin::Op(op @ (FBinOp::Add | FBinOp::Sub | FBinOp::Mul | FBinOp::Div)), Some(m)) =
        (op, m)
    {
        if d.count > 1 {
            packed(cx, d, &[n, m], |cx, l, v| {
                cx.b.vfbin(Type::V128, v[0], v[1], (op, l))
            });
            return Ok(());
        }
    }
    if let Bin::Cmp(cc, abs) = op {
        if d.count > 1 {
            let zero = FOp { reg: u16::MAX, ..d };
            let srcs = [n, m.unwrap_or(zero)];
            packed(cx, d, &srcs, |cx, l, v| {
                let (a, b) = if abs {
                    (sign_op(cx, v[0], l, true), sign_op(cx, v[1], l, true))
                } else {
                    (v[0], v[1])
                };
                cx.b.vfcmp(Type::V128, a, b, (cc, l))
            });
            return Ok(());
        }
    }
    if let (Bin::Fused { negate }, Some(m)) = (op, m) {
        if d.count > 1 {
            packed(cx, d, &[n, m, d], |cx, l, v| {
                // FMLS negates the first product operand (FPNeg: the sign
                // bit, NaNs included).
                let a = if negate {
                    sign_op(cx, v[0], l, false)
                } else {
                    v[0]
                };
                cx.b.vfma(Type::V128, a, v[1], v[2], l)
            });
            return Ok(());
        }
    }
    let a = read(cx, n, ty, 0, d.count);
    let b = match m {
        Some(m) => read(cx, m, ty, 0, d.count),
        None => {
            let z = cx.iconst(Type::int(ty.bits()), 0);
            let z = cx.b.bitcast(ty, z);
            vec![z; d.count as usize]
        }
    };
    let acc = match op {
        Bin::Fused { .. } => read(cx, d, ty, 0, d.count),
        _ => Vec::new(),
    };
    let ity = Type::int(ty.bits());
    let mut out = Vec::with_capacity(a.len());
    for (k, (&x, &y)) in a.iter().zip(&b).enumerate() {
        let r = match op {
            Bin::Op(op) => cx.b.fbin(ty, x, y, op),
            Bin::AbsDiff => {
                let s = cx.b.fbin(ty, x, y, FBinOp::Sub);
                cx.b.fabs(ty, s)
            }
            Bin::Fused { negate } => {
                let x = if negate { cx.b.fneg(ty, x) } else { x };
                cx.b.fma(ty, x, y, acc[k])
            }
            Bin::Cmp(cc, abs) => {
                let (x, y) = if abs {
                    (cx.b.fabs(ty, x), cx.b.fabs(ty, y))
                } else {
                    (x, y)
                };
                let c = cx.b.fcmp(Type::I8, x, y, cc);
                if cc != FloatCC::Eq {
                    // FCMGE/FCMGT/FCMLE/FCMLT/FACGE/FACGT signal IOC for
                    // quiet NaNs too (FCMEQ only for signalling ones, as
                    // the host compare does).
                    let un = cx.b.fcmp(Type::I8, x, y, FloatCC::Unordered);
                    cx.b.fp_raise(un, u64::from(vmxlate_abi::FPSR_IOC));
                }
                let c = cx.b.uext(ity, c);
                cx.b.neg(ity, c)
            }
        };
        out.push(r);
    }
    write(cx, d.reg, ty.bits(), None, 0, &out);
    Ok(())
}

/// A whole-register operand for a packed op: the register, or its lane
/// `k` broadcast for a by-element operand; a 64-bit form gets 1.0 in its
/// upper lanes (which raises no exception in any packed op).
fn packed_operand(cx: &mut Ctx, op: FOp, d: FOp) -> Value {
    let l = lanes(op.ty);
    // `reg == u16::MAX`: the `#0.0` operand of a compare.
    let v = if op.reg == u16::MAX {
        cx.b.vconst(Type::V128, 0)
    } else {
        cx.b.get_v(Type::V128, op.reg as u8)
    };
    let v = match op.elem {
        Some(k) => {
            let x = cx.b.vextract(Type::int(op.ty.bits()), v, (l, k));
            cx.b.vsplat(Type::V128, x, l)
        }
        None => v,
    };
    if u32::from(d.count) * d.ty.bits() == 128 {
        return v;
    }
    let one = if d.ty == Type::F32 {
        u128::from(1f32.to_bits()) * 0x1_0000_0001
    } else {
        u128::from(1f64.to_bits())
    };
    let low = cx.b.vzero_high(Type::V128, v);
    let ones = cx.b.vconst(Type::V128, one << 64);
    cx.b.vbin(Type::V128, low, ones, (VBinOp::Or, Lanes::I64x2))
}

/// FABS (`abs`) or FNEG of every lane: the sign bits cleared or flipped
/// (NaNs included, as Arm's FPAbs/FPNeg do).
fn sign_op(cx: &mut Ctx, v: Value, l: Lanes, abs: bool) -> Value {
    let sign = if l == Lanes::I32x4 {
        0x8000_0000u128 * 0x0000_0001_0000_0001_0000_0001_0000_0001
    } else {
        (1u128 << 63) | (1u128 << 127)
    };
    let sign = cx.b.vconst(Type::V128, sign);
    let op = if abs { VBinOp::AndNot } else { VBinOp::Xor };
    cx.b.vbin(Type::V128, v, sign, (op, Lanes::I64x2))
}

/// A packed FP op on whole registers (`op` builds it from the operands and
/// the lane shape); a 64-bit form clears the upper half of the result.
fn packed(cx: &mut Ctx, d: FOp, srcs: &[FOp], op: impl Fn(&mut Ctx, Lanes, &[Value]) -> Value) {
    let vals: Vec<Value> = srcs.iter().map(|s| packed_operand(cx, *s, d)).collect();
    let r = op(cx, lanes(d.ty), &vals);
    let r = if u32::from(d.count) * d.ty.bits() == 128 {
        r
    } else {
        cx.b.vzero_high(Type::V128, r)
    };
    cx.b.set_v(r, d.reg as u8);
}

/// FADDP/FMAXP/...: the vector form combines adjacent lanes of `n:m`; the
/// scalar form (`faddp d0, v1.2d`) combines the two lanes of its source.
fn pairwise(cx: &mut Ctx, i: &Instruction, op: FBinOp) -> Lift {
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    let m = match i.operands[2] {
        Operand::Nothing if d.count == 1 && n.count == 2 => None,
        ref o => Some(fop(o)?),
    };
    let ty = d.ty;
    let mut src = read(cx, n, ty, 0, n.count);
    if let Some(m) = m {
        src.extend(read(cx, m, ty, 0, m.count));
    }
    let out: Vec<Value> = src
        .chunks(2)
        .map(|p| cx.b.fbin(ty, p[0], p[1], op))
        .collect();
    write(cx, d.reg, ty.bits(), None, 0, &out);
    Ok(())
}

/// FMAXV/FMINV/FMAXNMV/FMINNMV on `.4s`: Arm's pairwise reduction tree.
fn across(cx: &mut Ctx, i: &Instruction, op: FBinOp) -> Lift {
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    if n.count != 4 {
        return unsupported("fmaxv shape");
    }
    let ty = d.ty;
    let x = read(cx, n, ty, 0, 4);
    let lo = cx.b.fbin(ty, x[0], x[1], op);
    let hi = cx.b.fbin(ty, x[2], x[3], op);
    let r = cx.b.fbin(ty, lo, hi, op);
    write(cx, d.reg, ty.bits(), None, 0, &[r]);
    Ok(())
}

/// The lane-wise one-operand forms.
#[derive(Clone, Copy)]
enum Un {
    /// FNEG, FABS, FSQRT (by opcode).
    Basic,
    /// FRINT*.
    Round(Round),
    /// FCVT[ZNAMP][SU]: signed, rounding.
    ToInt(bool, Round),
    /// SCVTF/UCVTF: signed.
    FromInt(bool),
    /// FRECPE/FRSQRTE/FRECPX.
    Estimate(FEst),
}

fn unary(cx: &mut Ctx, i: &Instruction, op: Un) -> Lift {
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    // The `#fbits` of a fixed-point conversion.
    let fbits = match (op, i.operands[2]) {
        (_, Operand::Nothing) => 0,
        (Un::ToInt(..) | Un::FromInt(_), Operand::Immediate(f)) => f as i32,
        _ => return unsupported("vector FP unary form"),
    };
    if d.elem.is_some() || n.elem.is_some() {
        return unsupported("vector FP unary form");
    }
    let ty = d.ty;
    if matches!(op, Un::Basic) && d.count > 1 {
        match i.opcode {
            Opcode::FSQRT => packed(cx, d, &[n], |cx, l, v| cx.b.vfsqrt(Type::V128, v[0], l)),
            Opcode::FABS => packed(cx, d, &[n], |cx, l, v| sign_op(cx, v[0], l, true)),
            _ => packed(cx, d, &[n], |cx, l, v| sign_op(cx, v[0], l, false)),
        }
        return Ok(());
    }
    // SCVTF and FCVTZS on `.4s`: CVTDQ2PS and CVTTPS2DQ (plus saturation).
    if ty == Type::F32 && d.count == 4 && fbits == 0 {
        match op {
            Un::FromInt(true) => {
                packed(cx, d, &[n], |cx, l, v| cx.b.vint_to_f(Type::V128, v[0], l));
                return Ok(());
            }
            Un::ToInt(true, Round::Trunc) => {
                packed(cx, d, &[n], |cx, l, v| {
                    cx.b.vfcvt_to_int(Type::V128, v[0], l)
                });
                return Ok(());
            }
            _ => {}
        }
    }
    let ity = Type::int(ty.bits());
    let scale = |cx: &mut Ctx, e: i32| {
        let bits = if ty == Type::F32 {
            u64::from(2f32.powi(e).to_bits())
        } else {
            2f64.powi(e).to_bits()
        };
        let c = cx.iconst(ity, bits);
        cx.b.bitcast(ty, c)
    };
    let src_ty = if matches!(op, Un::FromInt(_)) {
        ity
    } else {
        ty
    };
    let a = read(cx, n, src_ty, 0, d.count);
    let out: Vec<Value> = a
        .into_iter()
        .map(|x| match op {
            Un::Basic => match i.opcode {
                Opcode::FNEG => cx.b.fneg(ty, x),
                Opcode::FABS => cx.b.fabs(ty, x),
                _ => cx.b.fsqrt(ty, x),
            },
            Un::Round(mode) => cx.b.fround(ty, x, mode),
            Un::ToInt(signed, mode) => {
                let x = if fbits != 0 {
                    super::fp::fixed_scale(cx, ty, x, fbits, ity.bits())
                } else {
                    x
                };
                cx.b.fcvt_to_int(ity, x, (signed, mode))
            }
            Un::FromInt(signed) => {
                let r = cx.b.int_to_f(ty, x, signed);
                if fbits != 0 {
                    let s = scale(cx, -fbits);
                    cx.b.fbin(ty, r, s, FBinOp::Mul)
                } else {
                    r
                }
            }
            Un::Estimate(e) => cx.b.festimate(ty, x, e),
        })
        .collect();
    write(cx, d.reg, ty.bits(), None, 0, &out);
    Ok(())
}

/// The register of a `.4h`/`.8h` operand.
fn half_vector(op: &Operand) -> Option<u16> {
    match *op {
        Operand::SIMDRegisterElements(_, r, SIMDSizeCode::H) => Some(r),
        _ => None,
    }
}

/// FCVTL (`.2s` -> `.2d`, `.4h` -> `.4s`) and FCVTL2 (upper half).
fn widen(cx: &mut Ctx, i: &Instruction) -> Lift {
    if let Some(n) = half_vector(&i.operands[1]) {
        let first = if i.opcode == Opcode::FCVTL2 { 4 } else { 0 };
        let d = fop(&i.operands[0])?;
        if d.ty != Type::F32 {
            return unsupported("fcvtl shape");
        }
        let v = cx.b.get_v(Type::V128, n as u8);
        let out: Vec<Value> = (first..first + 4)
            .map(|k| {
                let h = cx.b.vextract(Type::I16, v, (Lanes::I16x8, k));
                cx.b.half_to_f(Type::F32, h)
            })
            .collect();
        write(cx, d.reg, 32, None, 0, &out);
        return Ok(());
    }
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    if d.ty != Type::F64 || n.ty != Type::F32 || n.elem.is_some() {
        return unsupported("fcvtl shape");
    }
    let first = if i.opcode == Opcode::FCVTL2 { 2 } else { 0 };
    let a = read(cx, n, Type::F32, first, 2);
    let out: Vec<Value> = a.into_iter().map(|x| cx.b.fconvert(Type::F64, x)).collect();
    write(cx, d.reg, 64, None, 0, &out);
    Ok(())
}

/// FCVTN (`.2d` -> `.2s`, `.4s` -> `.4h`, upper half zeroed) and FCVTN2
/// (into the upper half, lower half kept).
fn narrow(cx: &mut Ctx, i: &Instruction) -> Lift {
    if let Some(d) = half_vector(&i.operands[0]) {
        let n = fop(&i.operands[1])?;
        if n.ty != Type::F32 || n.elem.is_some() {
            return unsupported("fcvtn shape");
        }
        let a = read(cx, n, Type::F32, 0, 4);
        let out: Vec<Value> = a
            .into_iter()
            .map(|x| cx.b.f_to_half(Type::I16, x))
            .collect();
        if i.opcode == Opcode::FCVTN2 {
            let base = cx.b.get_v(Type::V128, d as u8);
            write(cx, d, 16, Some(base), 4, &out);
        } else {
            write(cx, d, 16, None, 0, &out);
        }
        return Ok(());
    }
    let d = fop(&i.operands[0])?;
    let n = fop(&i.operands[1])?;
    if d.ty != Type::F32 || n.ty != Type::F64 || n.elem.is_some() {
        return unsupported("fcvtn shape");
    }
    let a = read(cx, n, Type::F64, 0, 2);
    let out: Vec<Value> = a.into_iter().map(|x| cx.b.fconvert(Type::F32, x)).collect();
    if i.opcode == Opcode::FCVTN2 {
        let base = cx.b.get_v(Type::V128, d.reg as u8);
        write(cx, d.reg, 32, Some(base), 2, &out);
    } else {
        write(cx, d.reg, 32, None, 0, &out);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    #[test]
    fn arithmetic_lanes() {
        // fadd v0.2d, v1.2d, v2.2d ; fmla v0.4s, v1.4s, v2.s[1] ; fmaxnm v0.2s, v1.2s, v2.2s
        let ir = lift_words(&[0x4e62_d420, 0x4fa2_1020, 0x0e22_c420]);
        assert!(!ir.contains("trap"), "{ir}");
        assert!(
            ir.contains("vfbin") && ir.contains("VFBin((Add, I64x2))"),
            "{ir}"
        );
        assert!(ir.contains("vfma") && ir.contains("Lanes(I32x4)"), "{ir}");
        assert!(ir.contains("Lane((I32x4, 1))"), "{ir}");
        assert_eq!(ir.matches("FBin(MaxNum)").count(), 2, "{ir}");
    }

    #[test]
    fn estimates_steps_half_and_fixed_point() {
        // frecpe v0.4s, v0.4s ; frecps v0.4s, v1.4s, v2.4s ; fmulx v0.4s, v1.4s, v2.4s ;
        // frecpx s0, s0 ; fcvtl v0.4s, v1.4h ; fcvtn v0.4h, v1.4s ;
        // scvtf v0.4s, v1.4s, #4 ; fsqrt v0.4s, v1.4s ; fdiv v0.2s, v1.2s, v2.2s
        let ir = lift_words(&[
            0x4ea1_d800,
            0x4e22_fc20,
            0x4e22_dc20,
            0x5ea1_f800,
            0x0e21_7820,
            0x0e21_6820,
            0x4f3c_e420,
            0x6ea1_f820,
            0x2e22_fc20,
        ]);
        assert!(!ir.contains("trap"), "{ir}");
        assert_eq!(ir.matches("FEst(RecipEst)").count(), 4, "{ir}");
        assert_eq!(ir.matches("FBin(RecipStep)").count(), 4, "{ir}");
        assert_eq!(ir.matches("FBin(MulX)").count(), 4, "{ir}");
        assert!(ir.contains("FEst(Recpx)"), "{ir}");
        assert_eq!(ir.matches("half_to_f").count(), 4, "{ir}");
        assert_eq!(ir.matches("f_to_half").count(), 4, "{ir}");
        // 2^-4 = 0x3d800000 scales the converted lanes.
        assert!(ir.contains("iconst 0x3d800000"), "{ir}");
        assert!(ir.contains("vfsqrt"), "{ir}");
        // The 64-bit FDIV pads its upper lanes with 1.0 and clears them after.
        assert!(ir.contains("VFBin((Div, I32x4))"), "{ir}");
        assert!(ir.contains("0x3f8000003f8000000000000000000000"), "{ir}");
    }

    #[test]
    fn pairwise_compares_conversions() {
        // faddp d0, v1.2d ; fcmgt v0.4s, v1.4s, #0.0 ; fcvtzs v0.2d, v1.2d ;
        // fcvtl2 v0.2d, v1.4s ; fcvtn2 v0.4s, v1.2d
        let ir = lift_words(&[
            0x7e70_d820,
            0x4ea0_c820,
            0x4ee1_b820,
            0x4e61_7820,
            0x4e61_6820,
        ]);
        assert!(!ir.contains("trap"), "{ir}");
        assert!(ir.contains("FBin(Add)"), "{ir}");
        assert!(ir.contains("VFCmp((Gt, I32x4))"), "{ir}");
        assert!(ir.contains(":i64 = fcvt_to_int"), "{ir}");
        assert_eq!(ir.matches("fconvert").count(), 4, "{ir}");
    }

    #[test]
    fn scalar_fixed_point_conversions() {
        // scvtf d0, d0, #7 ; ucvtf s0, s1, #31 ; fcvtzs d0, d1, #7 ; fcvtzu s0, s1, #31
        // (yaxpeax gives these `#fbits` as Imm16; decode.rs normalises it)
        let ir = lift_words(&[0x5f79_e400, 0x7f21_e420, 0x5f79_fc20, 0x7f21_fc20]);
        assert!(!ir.contains("trap"), "{ir}");
        assert_eq!(ir.matches("int_to_f").count(), 2, "{ir}");
        assert_eq!(ir.matches("fcvt_to_int").count(), 2, "{ir}");
        // 2^-7 (double) and 2^-31 (single) scale the converted values.
        assert!(ir.contains("iconst 0x3f80000000000000"), "{ir}");
        assert!(ir.contains("iconst 0x30000000"), "{ir}");
    }
}
