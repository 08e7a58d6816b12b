//! Scalar floating point: FMOV (register, general, immediate), arithmetic,
//! fused multiply-add, compares into NZCV, conditional compare and select,
//! precision conversion, integer<->float conversion (including fixed-point
//! `#fbits` forms) and FRINT*.
//!
//! Invariants: a scalar S/D/H result written to a V register zeroes the
//! other bits of the register (`vfrom_scalar`); a scalar operand is lane 0
//! of its V register. Every handler checks its operand shapes before it
//! emits anything, so an instruction this file does not cover (vector FP,
//! half-precision arithmetic) is refused without leaving IR behind and the
//! dispatcher can try the Advanced SIMD handlers. FPCR's rounding mode,
//! FZ and DN and the FPSR exception flags are the backend's business
//! (`backend/lower_fp.rs`); FRINTX/FRINTI ask for FPCR's mode explicitly,
//! and FCMPE/FCCMPE signal IOC for quiet NaNs.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SIMDSizeCode, SizeCode};

use super::ctx::{int_ty, unsupported, Ctx, Lift, Unsupported};
use super::simd::replicate;
use crate::ir::{FBinOp, Flag, FloatCC, Lanes, Round, Type, Value};

/// Lifts a scalar FP instruction.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    match i.opcode {
        FMOV => fmov(cx, i),
        FADD => binary(cx, i, Bin::Op(FBinOp::Add)),
        FSUB => binary(cx, i, Bin::Op(FBinOp::Sub)),
        FMUL => binary(cx, i, Bin::Op(FBinOp::Mul)),
        FDIV => binary(cx, i, Bin::Op(FBinOp::Div)),
        FMAX => binary(cx, i, Bin::Op(FBinOp::Max)),
        FMIN => binary(cx, i, Bin::Op(FBinOp::Min)),
        FMAXNM => binary(cx, i, Bin::Op(FBinOp::MaxNum)),
        FMINNM => binary(cx, i, Bin::Op(FBinOp::MinNum)),
        FNMUL => binary(cx, i, Bin::NegMul),
        FABD => binary(cx, i, Bin::AbsDiff),
        FSQRT | FABS | FNEG => unary(cx, i),
        FRINTN => round(cx, i, Round::Nearest),
        FRINTP => round(cx, i, Round::Ceil),
        FRINTM => round(cx, i, Round::Floor),
        FRINTZ => round(cx, i, Round::Trunc),
        FRINTA => round(cx, i, Round::TiesAway),
        FRINTX => round(cx, i, Round::CurrentExact),
        FRINTI => round(cx, i, Round::Current),
        FMADD => fused(cx, i, false, false),
        FMSUB => fused(cx, i, true, false),
        FNMADD => fused(cx, i, true, true),
        FNMSUB => fused(cx, i, false, true),
        FCMP | FCMPE => compare(cx, i),
        FCCMP | FCCMPE => cond_compare(cx, i),
        FCSEL => select(cx, i),
        FCVT => convert(cx, i),
        SCVTF => int_to_float(cx, i, true),
        UCVTF => int_to_float(cx, i, false),
        FCVTZS => float_to_int(cx, i, true, Round::Trunc),
        FCVTZU => float_to_int(cx, i, false, Round::Trunc),
        FCVTAS => float_to_int(cx, i, true, Round::TiesAway),
        FCVTAU => float_to_int(cx, i, false, Round::TiesAway),
        FCVTMS => float_to_int(cx, i, true, Round::Floor),
        FCVTMU => float_to_int(cx, i, false, Round::Floor),
        FCVTNS => float_to_int(cx, i, true, Round::Nearest),
        FCVTNU => float_to_int(cx, i, false, Round::Nearest),
        FCVTPS => float_to_int(cx, i, true, Round::Ceil),
        FCVTPU => float_to_int(cx, i, false, Round::Ceil),
        FJCVTZS => js_convert(cx, i),
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

/// The float type of a scalar S/D register operand (H and vectors are
/// refused: no half-precision arithmetic in the IR).
fn float_operand(op: &Operand) -> Result<(Type, u16), Unsupported> {
    match *op {
        Operand::SIMDRegister(SIMDSizeCode::S, r) => Ok((Type::F32, r)),
        Operand::SIMDRegister(SIMDSizeCode::D, r) => Ok((Type::F64, r)),
        _ => unsupported(format!("scalar FP operand {op:?}")),
    }
}

/// The integer type of a scalar H/S/D register operand, for bit moves.
fn bits_operand(op: &Operand) -> Result<(Type, u16), Unsupported> {
    match *op {
        Operand::SIMDRegister(SIMDSizeCode::H, r) => Ok((Type::I16, r)),
        Operand::SIMDRegister(SIMDSizeCode::S, r) => Ok((Type::I32, r)),
        Operand::SIMDRegister(SIMDSizeCode::D, r) => Ok((Type::I64, r)),
        _ => unsupported(format!("scalar SIMD&FP operand {op:?}")),
    }
}

fn lanes_of(ty: Type) -> Lanes {
    Lanes::of_bits(ty.bits())
}

/// Reads lane 0 of V register `r` as `ty` (a float or an integer).
pub fn read_scalar(cx: &mut Ctx, r: u16, ty: Type) -> Value {
    let v = cx.b.get_v(Type::V128, r as u8);
    cx.b.vextract(ty, v, (lanes_of(ty), 0))
}

/// Writes a scalar into V register `r`, zeroing the rest of it.
pub fn write_scalar(cx: &mut Ctx, r: u16, s: Value) {
    let v = cx.b.vfrom_scalar(Type::V128, s);
    cx.b.set_v(v, r as u8);
}

/// A float constant of type `ty` with the value `f`.
fn fconst(cx: &mut Ctx, ty: Type, f: f64) -> Value {
    let (ity, bits) = if ty == Type::F32 {
        (Type::I32, (f as f32).to_bits() as u64)
    } else {
        (Type::I64, f.to_bits())
    };
    let c = cx.iconst(ity, bits);
    cx.b.bitcast(ty, c)
}

/// The IEEE bit pattern of an FMOV immediate in a `bits`-wide format (the
/// immediate is always a normal number exactly representable in half
/// precision).
fn imm_bits(f: f64, bits: u32) -> u64 {
    match bits {
        16 => {
            let raw = f.to_bits();
            let sign = (raw >> 63) << 15;
            if f == 0.0 {
                return sign;
            }
            let exp = ((raw >> 52) & 0x7ff) as i64 - 1023 + 15;
            sign | ((exp as u64) << 10) | ((raw >> 42) & 0x3ff)
        }
        32 => (f as f32).to_bits() as u64,
        _ => f.to_bits(),
    }
}

fn fmov(cx: &mut Ctx, i: &Instruction) -> Lift {
    match (i.operands[0], i.operands[1]) {
        (Operand::SIMDRegister(..), Operand::SIMDRegister(..)) => {
            let (ty, d) = bits_operand(&i.operands[0])?;
            let (_, n) = bits_operand(&i.operands[1])?;
            let s = read_scalar(cx, n, ty);
            write_scalar(cx, d, s);
        }
        (Operand::SIMDRegister(..), Operand::Register(size, n)) => {
            let (ty, d) = bits_operand(&i.operands[0])?;
            let x = cx.reg(size, n);
            let s = cx.fit(x, ty, false);
            write_scalar(cx, d, s);
        }
        (Operand::Register(size, d), Operand::SIMDRegister(..)) => {
            let (ty, n) = bits_operand(&i.operands[1])?;
            let v = cx.b.get_v(Type::V128, n as u8);
            let x = cx.b.vextract(int_ty(size), v, (lanes_of(ty), 0));
            cx.set_reg(d, x);
        }
        (
            Operand::SIMDRegisterElementsLane(_, d, SIMDSizeCode::D, lane),
            Operand::Register(SizeCode::X, n),
        ) => {
            let v = cx.b.get_v(Type::V128, d as u8);
            let x = cx.reg(SizeCode::X, n);
            let v = cx.b.vinsert(Type::V128, v, x, (Lanes::I64x2, lane));
            cx.b.set_v(v, d as u8);
        }
        (
            Operand::Register(SizeCode::X, d),
            Operand::SIMDRegisterElementsLane(_, n, SIMDSizeCode::D, lane),
        ) => {
            let v = cx.b.get_v(Type::V128, n as u8);
            let x = cx.b.vextract(Type::I64, v, (Lanes::I64x2, lane));
            cx.set_reg(d, x);
        }
        (Operand::SIMDRegister(..), Operand::ImmediateDouble(f)) => {
            let (ty, d) = bits_operand(&i.operands[0])?;
            let c = cx.iconst(ty, imm_bits(f, ty.bits()));
            write_scalar(cx, d, c);
        }
        (Operand::SIMDRegisterElements(q, d, esize), Operand::ImmediateDouble(f)) => {
            let bits = match esize {
                SIMDSizeCode::H => 16,
                SIMDSizeCode::S => 32,
                SIMDSizeCode::D => 64,
                _ => return unsupported("fmov vector element size"),
            };
            let mut c = replicate(imm_bits(f, bits), bits);
            if q != SIMDSizeCode::Q {
                c &= u64::MAX as u128;
            }
            let v = cx.b.vconst(Type::V128, c);
            cx.b.set_v(v, d as u8);
        }
        _ => return unsupported("fmov form"),
    }
    Ok(())
}

/// How a two-operand arithmetic instruction combines its operands.
#[derive(Clone, Copy)]
enum Bin {
    /// One IR op.
    Op(FBinOp),
    /// FNMUL: `-(a * b)`.
    NegMul,
    /// FABD: `|a - b|`.
    AbsDiff,
}

fn binary(cx: &mut Ctx, i: &Instruction, op: Bin) -> Lift {
    let (ty, d) = float_operand(&i.operands[0])?;
    let (_, n) = float_operand(&i.operands[1])?;
    let (_, m) = float_operand(&i.operands[2])?;
    let a = read_scalar(cx, n, ty);
    let b = read_scalar(cx, m, ty);
    let r = match op {
        Bin::Op(op) => cx.b.fbin(ty, a, b, op),
        Bin::NegMul => {
            let p = cx.b.fbin(ty, a, b, FBinOp::Mul);
            cx.b.fneg(ty, p)
        }
        Bin::AbsDiff => {
            let s = cx.b.fbin(ty, a, b, FBinOp::Sub);
            cx.b.fabs(ty, s)
        }
    };
    write_scalar(cx, d, r);
    Ok(())
}

fn unary(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (ty, d) = float_operand(&i.operands[0])?;
    let (_, n) = float_operand(&i.operands[1])?;
    let a = read_scalar(cx, n, ty);
    let r = match i.opcode {
        Opcode::FSQRT => cx.b.fsqrt(ty, a),
        Opcode::FABS => cx.b.fabs(ty, a),
        _ => cx.b.fneg(ty, a),
    };
    write_scalar(cx, d, r);
    Ok(())
}

fn round(cx: &mut Ctx, i: &Instruction, mode: Round) -> Lift {
    let (ty, d) = float_operand(&i.operands[0])?;
    let (_, n) = float_operand(&i.operands[1])?;
    let a = read_scalar(cx, n, ty);
    let r = cx.b.fround(ty, a, mode);
    write_scalar(cx, d, r);
    Ok(())
}

/// FMADD `a + n*m`, FMSUB `a - n*m`, FNMADD `-a - n*m`, FNMSUB `-a + n*m`,
/// each with a single rounding.
fn fused(cx: &mut Ctx, i: &Instruction, neg_product: bool, neg_addend: bool) -> Lift {
    let (ty, d) = float_operand(&i.operands[0])?;
    let (_, n) = float_operand(&i.operands[1])?;
    let (_, m) = float_operand(&i.operands[2])?;
    let (_, ra) = float_operand(&i.operands[3])?;
    let mut x = read_scalar(cx, n, ty);
    let y = read_scalar(cx, m, ty);
    let mut a = read_scalar(cx, ra, ty);
    if neg_product {
        x = cx.b.fneg(ty, x);
    }
    if neg_addend {
        a = cx.b.fneg(ty, a);
    }
    let r = cx.b.fma(ty, x, y, a);
    write_scalar(cx, d, r);
    Ok(())
}

/// The two compare operands: a register and a register or `#0.0`.
fn compare_operands(cx: &mut Ctx, i: &Instruction) -> Result<(Value, Value), Unsupported> {
    let (ty, n) = float_operand(&i.operands[0])?;
    let m = match i.operands[1] {
        Operand::ImmediateDouble(_) => None,
        ref op => Some(float_operand(op)?.1),
    };
    let a = read_scalar(cx, n, ty);
    let b = match m {
        Some(m) => read_scalar(cx, m, ty),
        None => fconst(cx, ty, 0.0),
    };
    Ok((a, b))
}

/// NZCV of an FP compare: less 1000, equal 0110, greater 0010, unordered
/// 0011.
fn compare_flags(cx: &mut Ctx, a: Value, b: Value) -> [Value; 4] {
    let n = cx.b.fcmp(Type::I8, a, b, FloatCC::Lt);
    let z = cx.b.fcmp(Type::I8, a, b, FloatCC::Eq);
    let one = cx.iconst(Type::I8, 1);
    let c = cx.b.xor(Type::I8, n, one);
    let v = cx.b.fcmp(Type::I8, a, b, FloatCC::Unordered);
    [n, z, c, v]
}

/// FCMPE/FCCMPE signal invalid for quiet NaNs too (the host compare
/// already signals it for signalling NaNs).
fn signal_unordered(cx: &mut Ctx, i: &Instruction, unordered: Value) {
    if matches!(i.opcode, Opcode::FCMPE | Opcode::FCCMPE) {
        cx.b.fp_raise(unordered, u64::from(vmxlate_abi::FPSR_IOC));
    }
}

fn compare(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (a, b) = compare_operands(cx, i)?;
    let flags = compare_flags(cx, a, b);
    signal_unordered(cx, i, flags[3]);
    for (f, v) in Flag::ALL.iter().zip(flags) {
        cx.b.set_flag(v, *f);
    }
    Ok(())
}

fn cond_compare(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (Operand::Immediate(nzcv), Operand::ConditionCode(cc)) = (i.operands[2], i.operands[3])
    else {
        return unsupported("fccmp form");
    };
    float_operand(&i.operands[1])?;
    let (ty, _) = float_operand(&i.operands[0])?;
    let (a, b) = compare_operands(cx, i)?;
    let cond = cx.cond(cc);
    // The comparison (and its exceptions) happens only when `cc` holds:
    // otherwise the host compares zeros, which signals nothing.
    let zero = fconst(cx, ty, 0.0);
    let a = cx.b.select(ty, cond, a, zero);
    let b = cx.b.select(ty, cond, b, zero);
    let flags = compare_flags(cx, a, b);
    let unordered = cx.b.and(Type::I8, cond, flags[3]);
    signal_unordered(cx, i, unordered);
    for (k, (f, v)) in Flag::ALL.iter().zip(flags).enumerate() {
        let imm = cx.iconst(Type::I8, ((nzcv >> (3 - k)) & 1) as u64);
        let r = cx.b.select(Type::I8, cond, v, imm);
        cx.b.set_flag(r, *f);
    }
    Ok(())
}

/// FCSEL selects the raw bits, so NaN payloads pass through untouched.
fn select(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::ConditionCode(cc) = i.operands[3] else {
        return unsupported("fcsel form");
    };
    let (ty, d) = bits_operand(&i.operands[0])?;
    let (_, n) = bits_operand(&i.operands[1])?;
    let (_, m) = bits_operand(&i.operands[2])?;
    let a = read_scalar(cx, n, ty);
    let b = read_scalar(cx, m, ty);
    let cond = cx.cond(cc);
    let r = cx.b.select(ty, cond, a, b);
    write_scalar(cx, d, r);
    Ok(())
}

/// FCVT between half, single and double precision.
fn convert(cx: &mut Ctx, i: &Instruction) -> Lift {
    match (i.operands[0], i.operands[1]) {
        (Operand::SIMDRegister(SIMDSizeCode::H, d), ref src) => {
            let (from, n) = float_operand(src)?;
            let a = read_scalar(cx, n, from);
            let r = cx.b.f_to_half(Type::I16, a);
            write_scalar(cx, d, r);
            return Ok(());
        }
        (ref dst, Operand::SIMDRegister(SIMDSizeCode::H, n)) => {
            let (to, d) = float_operand(dst)?;
            let h = read_scalar(cx, n, Type::I16);
            let r = cx.b.half_to_f(to, h);
            write_scalar(cx, d, r);
            return Ok(());
        }
        _ => {}
    }
    let (to, d) = float_operand(&i.operands[0])?;
    let (from, n) = float_operand(&i.operands[1])?;
    if to == from {
        return unsupported("fcvt to the same precision");
    }
    let a = read_scalar(cx, n, from);
    let r = cx.b.fconvert(to, a);
    write_scalar(cx, d, r);
    Ok(())
}

/// `2^e` as a float of type `ty` (exact for the fixed-point scales 1..=64).
fn pow2(cx: &mut Ctx, ty: Type, e: i32) -> Value {
    fconst(cx, ty, 2f64.powi(e))
}

/// `x * 2^fbits` for a fixed-point conversion to `ibits`-bit integers.
/// The scaling is exact, but a value far out of range could overflow and
/// signal OFC and IXC where Arm signals IOC alone: it is first clamped to
/// `2^(ibits - fbits + 1)` in magnitude (keeping its sign; NaN compares
/// false and stays), which still saturates.
pub(super) fn fixed_scale(cx: &mut Ctx, ty: Type, x: Value, fbits: i32, ibits: u32) -> Value {
    let lim = 2f64.powi(ibits as i32 - fbits + 1);
    let pos = fconst(cx, ty, lim);
    let neg = fconst(cx, ty, -lim);
    let ax = cx.b.fabs(ty, x);
    let big = cx.b.fcmp(Type::I8, ax, pos, FloatCC::Gt);
    let zero = fconst(cx, ty, 0.0);
    let minus = cx.b.fcmp(Type::I8, x, zero, FloatCC::Lt);
    let clamp = cx.b.select(ty, minus, neg, pos);
    let x = cx.b.select(ty, big, clamp, x);
    let scale = pow2(cx, ty, fbits);
    cx.b.fbin(ty, x, scale, FBinOp::Mul)
}

/// The `#fbits` operand of a fixed-point conversion, 0 when absent.
fn fbits(op: &Operand) -> Result<i32, Unsupported> {
    match *op {
        Operand::Nothing => Ok(0),
        Operand::Immediate(n) => Ok(n as i32),
        _ => unsupported(format!("fixed-point operand {op:?}")),
    }
}

/// SCVTF/UCVTF from a general register (optionally fixed-point) or from a
/// scalar SIMD&FP register of the same width.
fn int_to_float(cx: &mut Ctx, i: &Instruction, signed: bool) -> Lift {
    let (ty, d) = float_operand(&i.operands[0])?;
    let frac = fbits(&i.operands[2])?;
    let x = match i.operands[1] {
        Operand::Register(size, n) => cx.reg(size, n),
        ref op => {
            let (ity, n) = bits_operand(op)?;
            if ity.bits() != ty.bits() {
                return unsupported("scvtf scalar width");
            }
            read_scalar(cx, n, ity)
        }
    };
    let mut r = cx.b.int_to_f(ty, x, signed);
    if frac != 0 {
        let scale = pow2(cx, ty, -frac);
        r = cx.b.fbin(ty, r, scale, FBinOp::Mul);
    }
    write_scalar(cx, d, r);
    Ok(())
}

/// FCVT[ZAMNP][SU] to a general register (optionally fixed-point) or to a
/// scalar SIMD&FP register of the same width: round, then saturate, NaN
/// gives 0.
fn float_to_int(cx: &mut Ctx, i: &Instruction, signed: bool, mode: Round) -> Lift {
    let (fty, n) = float_operand(&i.operands[1])?;
    let frac = fbits(&i.operands[2])?;
    let dst = match i.operands[0] {
        Operand::Register(size, d) => Ok((int_ty(size), d)),
        ref op => {
            let (ity, d) = bits_operand(op)?;
            if ity.bits() != fty.bits() {
                return unsupported("fcvt scalar width");
            }
            Err((ity, d))
        }
    };
    let mut a = read_scalar(cx, n, fty);
    if frac != 0 {
        let ibits = match dst {
            Ok((ity, _)) | Err((ity, _)) => ity.bits(),
        };
        a = fixed_scale(cx, fty, a, frac, ibits);
    }
    match dst {
        Ok((ity, d)) => {
            let r = cx.b.fcvt_to_int(ity, a, (signed, mode));
            cx.set_reg(d, r);
        }
        Err((ity, d)) => {
            let r = cx.b.fcvt_to_int(ity, a, (signed, mode));
            write_scalar(cx, d, r);
        }
    }
    Ok(())
}

/// FJCVTZS: JavaScript's ToInt32 (truncate, wrap modulo 2^32); Z says
/// whether the conversion was exact, N, C and V are cleared.
fn js_convert(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (Operand::Register(SizeCode::W, d), Operand::SIMDRegister(SIMDSizeCode::D, n)) =
        (i.operands[0], i.operands[1])
    else {
        return unsupported("fjcvtzs form");
    };
    let x = read_scalar(cx, n, Type::F64);
    let r = cx.b.fjcvt(Type::I64, x);
    let w = cx.b.trunc(Type::I32, r);
    cx.set_reg(d, w);
    let sh = cx.iconst(Type::I64, 32);
    let z = cx.b.lshr(Type::I64, r, sh);
    let z = cx.b.trunc(Type::I8, z);
    let zero = cx.iconst(Type::I8, 0);
    for f in Flag::ALL {
        cx.b.set_flag(if f == Flag::Z { z } else { zero }, f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    #[test]
    fn fmov_general_and_lanes() {
        // fmov x4, d2 ; fmov d0, x1 ; fmov v0.d[1], x1 ; fmov x1, v0.d[1]
        let ir = lift_words(&[0x9e66_0044, 0x9e67_0020, 0x9eaf_0020, 0x9eae_0001]);
        assert!(
            ir.contains("vextract v0, Lane((I64x2, 0))\n    set_reg v1, x4"),
            "{ir}"
        );
        assert!(ir.contains("vfrom_scalar"), "{ir}");
        assert!(ir.contains("vinsert"), "{ir}");
        assert!(ir.contains("Lane((I64x2, 1))"), "{ir}");
    }

    #[test]
    fn fmov_immediates() {
        // fmov d0, #1.0 ; fmov s0, #-2.5 ; fmov h0, #1.0 ; fmov v0.4s, #1.0
        let ir = lift_words(&[0x1e6e_1000, 0x1e30_9000, 0x1eee_1000, 0x4f03_f600]);
        assert!(ir.contains("iconst 0x3ff0000000000000"), "{ir}");
        assert!(ir.contains("iconst 0xc0200000"), "{ir}");
        assert!(ir.contains("iconst 0x3c00"), "{ir}");
        assert!(
            ir.contains("vconst 0x3f8000003f8000003f8000003f800000"),
            "{ir}"
        );
    }

    #[test]
    fn arithmetic_and_fused() {
        // fadd d0, d0, d1 ; fnmul d0, d1, d2 ; fabd d0, d1, d2 ; fmsub s0, s1, s2, s3
        let ir = lift_words(&[0x1e61_2800, 0x1e62_8820, 0x7ee2_d420, 0x1f02_8c20]);
        assert!(ir.contains("fbin v1, v3, FBin(Add)"), "{ir}");
        assert!(ir.contains("fneg"), "{ir}");
        assert!(ir.contains("fabs"), "{ir}");
        assert!(ir.contains(":f32 = fma"), "{ir}");
    }

    #[test]
    fn compares_set_all_flags() {
        // fcmp d0, #0.0 ; fccmp d0, d1, #4, ne
        let ir = lift_words(&[0x1e60_2008, 0x1e61_1404]);
        assert_eq!(ir.matches("set_flag").count(), 8, "{ir}");
        assert!(ir.contains("Unordered"), "{ir}");
        assert!(ir.contains("select"), "{ir}");
    }

    #[test]
    fn conversions() {
        // fcvt d0, s1 ; scvtf d0, x1, #16 ; fcvtzs w0, d1 ; fcvtas x0, d1 ; frinta d0, d1
        let ir = lift_words(&[
            0x1e22_c020,
            0x9e42_c020,
            0x1e78_0020,
            0x9e64_0020,
            0x1e66_4020,
        ]);
        assert!(ir.contains("fconvert"), "{ir}");
        assert!(ir.contains("int_to_f v") && ir.contains("true"), "{ir}");
        assert!(ir.contains("iconst 0x3ef0000000000000"), "{ir}");
        assert!(
            ir.contains(":i32 = fcvt_to_int") && ir.contains("(true, Trunc)"),
            "{ir}"
        );
        assert!(ir.contains("(true, TiesAway)"), "{ir}");
        assert!(ir.contains("fround") && ir.contains("TiesAway"), "{ir}");
    }
}
