//! Lowering of scalar floating-point IR ops to Cranelift, with Arm
//! semantics where x86-64 differs.
//!
//! - FMIN/FMAX: Cranelift's `fmin`/`fmax` already propagate NaN and order
//!   -0 below +0. FMINNM/FMAXNM return the other operand when exactly one
//!   is NaN.
//! - FP->int conversions round as asked, then saturate with NaN -> 0
//!   (`fcvt_to_*_sat`). Ties-away rounding is `trunc`, plus one step away
//!   from zero when the dropped fraction is at least one half.
//! - Fused multiply-add is done inline without the x86 FMA extension:
//!   f32 through an f64 sum rounded to odd, f64 with Boldo and Melquiond's
//!   emulated FMA (exact product by Dekker splitting, exact sum of the
//!   high parts, round-to-odd of the low parts, one final rounding). Invariant: this is correctly rounded
//!   unless the product underflows or overflows or an operand exceeds
//!   2^995 in magnitude; there it falls back to an unfused `a * b + c`.
//! - An invalid operation (0/0, sqrt(-1), inf-inf...) yields Arm's
//!   positive default NaN. FPCR.DN and flush-to-zero are not modelled.

use cranelift_codegen::ir::{
    condcodes::FloatCC as ClFCC, condcodes::IntCC as ClCC, types, Endianness, InstBuilder,
    MemFlagsData, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;

use super::types::cl_type;
use crate::ir::{FBinOp, FloatCC, Imm, InstData, Opcode, Round};

/// Flags for value bitcasts (lane order is little-endian, as on Arm).
fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Lowers one FP op (`FBin`, `Fsqrt`, `Fneg`, `Fabs`, `Fma`, `Fround`,
/// `Fcmp`, `Fconvert`, `FcvtToInt`, `IntToF`); `args` are its lowered
/// operands.
pub fn lower(fb: &mut FunctionBuilder, inst: &InstData, args: &[ClValue]) -> ClValue {
    let ty = cl_type(inst.ty);
    match (inst.op, inst.imm) {
        (Opcode::FBin, Imm::FBin(op)) => {
            let r = binary(fb, op, args[0], args[1]);
            if matches!(op, FBinOp::Add | FBinOp::Sub | FBinOp::Mul | FBinOp::Div) {
                let ok = fb.ins().fcmp(ClFCC::Ordered, args[0], args[1]);
                default_nan(fb, r, ok)
            } else {
                r
            }
        }
        (Opcode::Fsqrt, _) => {
            let r = fb.ins().sqrt(args[0]);
            let ok = fb.ins().fcmp(ClFCC::Ordered, args[0], args[0]);
            default_nan(fb, r, ok)
        }
        (Opcode::Fneg, _) => fb.ins().fneg(args[0]),
        (Opcode::Fabs, _) => fb.ins().fabs(args[0]),
        (Opcode::Fma, _) => {
            let r = fma(fb, args[0], args[1], args[2]);
            let ab = fb.ins().fcmp(ClFCC::Ordered, args[0], args[1]);
            let c = fb.ins().fcmp(ClFCC::Ordered, args[2], args[2]);
            let ok = fb.ins().band(ab, c);
            default_nan(fb, r, ok)
        }
        (Opcode::Fround, Imm::Round(mode)) => round(fb, mode, args[0]),
        (Opcode::Fcmp, Imm::FloatCC(cc)) => fb.ins().fcmp(float_cc(cc), args[0], args[1]),
        (Opcode::Fconvert, _) => {
            let from = fb.func.dfg.value_type(args[0]);
            if from.bits() < ty.bits() {
                fb.ins().fpromote(ty, args[0])
            } else {
                fb.ins().fdemote(ty, args[0])
            }
        }
        (Opcode::FcvtToInt, Imm::FcvtInt((signed, mode))) => {
            let r = round(fb, mode, args[0]);
            if signed {
                fb.ins().fcvt_to_sint_sat(ty, r)
            } else {
                fb.ins().fcvt_to_uint_sat(ty, r)
            }
        }
        (Opcode::IntToF, Imm::Signed(signed)) => {
            if signed {
                fb.ins().fcvt_from_sint(ty, args[0])
            } else {
                fb.ins().fcvt_from_uint(ty, args[0])
            }
        }
        (op, imm) => unreachable!("not a scalar FP op: {op:?} {imm:?}"),
    }
}

/// An invalid operation on numbers gives Arm's default NaN (positive
/// quiet NaN), not x86's negative "indefinite" one; NaN operands still
/// propagate as on x86 (the first NaN operand, quietened).
fn default_nan(fb: &mut FunctionBuilder, r: ClValue, inputs_are_numbers: ClValue) -> ClValue {
    let nan = fb.ins().fcmp(ClFCC::Unordered, r, r);
    let invalid = fb.ins().band(nan, inputs_are_numbers);
    let dn = if fb.func.dfg.value_type(r) == types::F32 {
        fb.ins().f32const(f32::from_bits(0x7fc0_0000))
    } else {
        fb.ins().f64const(f64::from_bits(0x7ff8_0000_0000_0000))
    };
    fb.ins().select(invalid, dn, r)
}

fn float_cc(cc: FloatCC) -> ClFCC {
    match cc {
        FloatCC::Eq => ClFCC::Equal,
        FloatCC::Lt => ClFCC::LessThan,
        FloatCC::Le => ClFCC::LessThanOrEqual,
        FloatCC::Gt => ClFCC::GreaterThan,
        FloatCC::Ge => ClFCC::GreaterThanOrEqual,
        FloatCC::Unordered => ClFCC::Unordered,
    }
}

fn binary(fb: &mut FunctionBuilder, op: FBinOp, a: ClValue, b: ClValue) -> ClValue {
    match op {
        FBinOp::Add => fb.ins().fadd(a, b),
        FBinOp::Sub => fb.ins().fsub(a, b),
        FBinOp::Mul => fb.ins().fmul(a, b),
        FBinOp::Div => fb.ins().fdiv(a, b),
        FBinOp::Min => fb.ins().fmin(a, b),
        FBinOp::Max => fb.ins().fmax(a, b),
        FBinOp::MinNum | FBinOp::MaxNum => {
            let m = if op == FBinOp::MinNum {
                fb.ins().fmin(a, b)
            } else {
                fb.ins().fmax(a, b)
            };
            let a_nan = fb.ins().fcmp(ClFCC::Unordered, a, a);
            let b_nan = fb.ins().fcmp(ClFCC::Unordered, b, b);
            let r = fb.ins().select(b_nan, a, m);
            fb.ins().select(a_nan, b, r)
        }
    }
}

/// A float constant of the type of `like`.
fn fconst(fb: &mut FunctionBuilder, like: ClValue, v: f64) -> ClValue {
    if fb.func.dfg.value_type(like) == types::F32 {
        fb.ins().f32const(v as f32)
    } else {
        fb.ins().f64const(v)
    }
}

fn round(fb: &mut FunctionBuilder, mode: Round, x: ClValue) -> ClValue {
    match mode {
        Round::Nearest => fb.ins().nearest(x),
        Round::Ceil => fb.ins().ceil(x),
        Round::Floor => fb.ins().floor(x),
        Round::Trunc => fb.ins().trunc(x),
        Round::TiesAway => {
            // |x - trunc(x)| is exact; NaN compares false and stays NaN.
            let t = fb.ins().trunc(x);
            let frac = fb.ins().fsub(x, t);
            let frac = fb.ins().fabs(frac);
            let half = fconst(fb, x, 0.5);
            let up = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, frac, half);
            let one = fconst(fb, x, 1.0);
            let step = fb.ins().fcopysign(one, x);
            let away = fb.ins().fadd(t, step);
            fb.ins().select(up, away, t)
        }
    }
}

/// `(s, e)` with `s = RN(a + b)` and `s + e = a + b` exactly.
fn two_sum(fb: &mut FunctionBuilder, a: ClValue, b: ClValue) -> (ClValue, ClValue) {
    let s = fb.ins().fadd(a, b);
    let bb = fb.ins().fsub(s, a);
    let ab = fb.ins().fsub(s, bb);
    let da = fb.ins().fsub(a, ab);
    let db = fb.ins().fsub(b, bb);
    let e = fb.ins().fadd(da, db);
    (s, e)
}

/// Dekker's split of an f64 into two 26-bit halves.
fn split(fb: &mut FunctionBuilder, a: ClValue) -> (ClValue, ClValue) {
    let c = fb.ins().f64const(134_217_729.0);
    let g = fb.ins().fmul(c, a);
    let d = fb.ins().fsub(g, a);
    let hi = fb.ins().fsub(g, d);
    let lo = fb.ins().fsub(a, hi);
    (hi, lo)
}

/// `(p, e)` with `p = RN(a * b)` and `p + e = a * b` exactly (no underflow
/// or overflow).
fn two_prod(fb: &mut FunctionBuilder, a: ClValue, b: ClValue) -> (ClValue, ClValue) {
    let p = fb.ins().fmul(a, b);
    let (ah, al) = split(fb, a);
    let (bh, bl) = split(fb, b);
    let hh = fb.ins().fmul(ah, bh);
    let t = fb.ins().fsub(hh, p);
    let hl = fb.ins().fmul(ah, bl);
    let t = fb.ins().fadd(t, hl);
    let lh = fb.ins().fmul(al, bh);
    let t = fb.ins().fadd(t, lh);
    let ll = fb.ins().fmul(al, bl);
    let e = fb.ins().fadd(t, ll);
    (p, e)
}

/// Round-to-odd of `s + e`, given `s = RN(s + e)` (f64): when inexact and
/// `s` is even, step one ulp towards `e`.
fn round_odd(fb: &mut FunctionBuilder, s: ClValue, e: ClValue) -> ClValue {
    let bits = fb.ins().bitcast(types::I64, le(), s);
    let ebits = fb.ins().bitcast(types::I64, le(), e);
    let zero = fb.ins().f64const(0.0);
    let inexact = fb.ins().fcmp(ClFCC::OrderedNotEqual, e, zero);
    let low = fb.ins().band_imm_u(bits, 1);
    let even = fb.ins().icmp_imm_u(ClCC::Equal, low, 0);
    let fix = fb.ins().band(inexact, even);
    let signs = fb.ins().bxor(bits, ebits);
    let same = fb
        .ins()
        .icmp_imm_s(ClCC::SignedGreaterThanOrEqual, signs, 0);
    let up = fb.ins().iadd_imm_s(bits, 1);
    let down = fb.ins().iadd_imm_s(bits, -1);
    let adj = fb.ins().select(same, up, down);
    let r = fb.ins().select(fix, adj, bits);
    fb.ins().bitcast(types::F64, le(), r)
}

fn fma(fb: &mut FunctionBuilder, a: ClValue, b: ClValue, c: ClValue) -> ClValue {
    if fb.func.dfg.value_type(a) == types::F32 {
        // The f64 product is exact; the f64 sum rounded to odd keeps enough
        // bits for one correct rounding to f32.
        let a = fb.ins().fpromote(types::F64, a);
        let b = fb.ins().fpromote(types::F64, b);
        let c = fb.ins().fpromote(types::F64, c);
        let p = fb.ins().fmul(a, b);
        let (s, e) = two_sum(fb, p, c);
        let odd = round_odd(fb, s, e);
        let plain = fb.ins().fdemote(types::F32, s);
        let fused = fb.ins().fdemote(types::F32, odd);
        // Infinities and NaNs make `e` NaN: `s` is then the answer.
        let finite = fb.ins().fcmp(ClFCC::Ordered, e, e);
        return fb.ins().select(finite, fused, plain);
    }
    let (uh, ul) = two_prod(fb, a, b);
    let (th, tl) = two_sum(fb, c, uh);
    let (s, e) = two_sum(fb, tl, ul);
    let v = round_odd(fb, s, e);
    let fused = fb.ins().fadd(th, v);
    let plain = fb.ins().fadd(uh, c);
    // The emulation is exact only when the product is in the normal range
    // with room for splitting, and all intermediate values are finite.
    let pa = fb.ins().fabs(uh);
    let lo = fb.ins().f64const(f64::from_bits(0x0370_0000_0000_0000)); // 2^-968
    let hi = fb.ins().f64const(f64::from_bits(0x7e20_0000_0000_0000)); // 2^995
    let above = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, pa, lo);
    let below = fb.ins().fcmp(ClFCC::LessThan, pa, hi);
    let aa = fb.ins().fabs(a);
    let ba = fb.ins().fabs(b);
    let a_ok = fb.ins().fcmp(ClFCC::LessThan, aa, hi);
    let b_ok = fb.ins().fcmp(ClFCC::LessThan, ba, hi);
    let ca = fb.ins().fabs(c);
    let c_ok = fb.ins().fcmp(ClFCC::LessThan, ca, hi);
    let f_ok = fb.ins().fcmp(ClFCC::Ordered, fused, fused);
    let ok = fb.ins().band(above, below);
    let ok = fb.ins().band(ok, a_ok);
    let ok = fb.ins().band(ok, b_ok);
    let ok = fb.ins().band(ok, c_ok);
    let ok = fb.ins().band(ok, f_ok);
    fb.ins().select(ok, fused, plain)
}

/// A tiny JIT for tests: compiles a Cranelift function with the project's
/// ISA settings, maps it executable and hands out its address.
#[cfg(test)]
pub mod jit {
    use crate::ir::{Imm, InstData, Opcode, Type, Value};

    /// An instruction with no operands wired, for lowering tests.
    pub fn inst(op: Opcode, ty: Type, imm: Imm) -> InstData {
        InstData {
            op,
            ty,
            args: [Value::from_u32(0); 3],
            imm,
            result: None,
            pc: 0,
        }
    }

    use cranelift_codegen::control::ControlPlane;
    use cranelift_codegen::ir::{AbiParam, Function, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use cranelift_codegen::Context;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    use crate::backend::isa::{build, CpuLevel};

    extern "C" {
        fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    }

    /// Builds `fn(params) -> rets` with `body` (which must end the block
    /// with a return) and returns its entry address. The code is leaked.
    pub fn compile(
        params: &[cranelift_codegen::ir::Type],
        rets: &[cranelift_codegen::ir::Type],
        body: impl FnOnce(&mut FunctionBuilder, &[cranelift_codegen::ir::Value]),
    ) -> *const u8 {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(rets.iter().map(|t| AbiParam::new(*t)));
        let mut func = Function::with_name_signature(UserFuncName::testcase("t"), sig);
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut fb = FunctionBuilder::new(&mut func, &mut fctx);
            let block = fb.create_block();
            fb.append_block_params_for_function_params(block);
            fb.switch_to_block(block);
            fb.seal_block(block);
            let args = fb.block_params(block).to_vec();
            body(&mut fb, &args);
            fb.finalize(crate::backend::isa::frontend_config());
        }
        let isa = build(CpuLevel::V2, true).expect("isa");
        let mut ctx = Context::for_function(func);
        let code = ctx
            .compile(&*isa, &mut ControlPlane::default())
            .expect("compiles");
        let bytes = code.code_buffer().to_vec();
        assert!(code.buffer.relocs().is_empty(), "code needs relocations");
        // SAFETY: a fresh private anonymous RWX mapping, filled once.
        unsafe {
            let p = mmap(std::ptr::null_mut(), bytes.len().max(1), 7, 0x22, -1, 0);
            assert!(p as isize != -1, "mmap");
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use cranelift_codegen::ir::{types, InstBuilder};

    use super::jit::{compile, inst};
    use super::*;
    use crate::ir::Type;

    fn f64_fn(op: Opcode, imm: Imm, arity: usize) -> extern "C" fn(f64, f64, f64) -> f64 {
        let t = types::F64;
        let code = compile(&[t, t, t], &[t], |fb, args| {
            let r = lower(fb, &inst(op, Type::F64, imm), &args[..arity]);
            fb.ins().return_(&[r]);
        });
        // SAFETY: compiled with exactly this signature.
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64, f64, f64) -> f64>(code) }
    }

    fn f32_fma() -> extern "C" fn(f32, f32, f32) -> f32 {
        let t = types::F32;
        let code = compile(&[t, t, t], &[t], |fb, args| {
            let r = lower(fb, &inst(Opcode::Fma, Type::F32, Imm::None), args);
            fb.ins().return_(&[r]);
        });
        // SAFETY: compiled with exactly this signature.
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(f32, f32, f32) -> f32>(code) }
    }

    /// xorshift64*: deterministic test inputs.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// A double with a random sign, mantissa and an exponent in
        /// `-range..range`.
        fn f64(&mut self, range: i64) -> f64 {
            let r = self.next();
            let e = (r >> 40) as i64 % (2 * range) - range;
            let m = f64::from_bits(0x3ff0_0000_0000_0000 | (self.next() >> 12));
            let v = m * 2f64.powi(e as i32);
            if r & 1 == 1 {
                -v
            } else {
                v
            }
        }
    }

    #[test]
    fn fma_f64_is_correctly_rounded() {
        let f = f64_fn(Opcode::Fma, Imm::None, 3);
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for k in 0..200_000 {
            let a = rng.f64(60);
            let b = rng.f64(60);
            // Make c cancel with a*b most of the time: the hard cases.
            let c = if k % 2 == 0 {
                -(a * b) * (1.0 + rng.f64(40) * 1e-14)
            } else {
                rng.f64(120)
            };
            let want = a.mul_add(b, c);
            let got = f(a, b, c);
            assert_eq!(got.to_bits(), want.to_bits(), "fma({a:e}, {b:e}, {c:e})");
        }
        assert_eq!(f(f64::INFINITY, 1.0, 1.0), f64::INFINITY);
        assert!(f(f64::NAN, 1.0, 1.0).is_nan());
        assert_eq!(f(1e300, 1e300, 1.0), f64::INFINITY);
        assert_eq!(f(0.0, 5.0, -0.0).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn fma_f32_is_correctly_rounded() {
        let f = f32_fma();
        let mut rng = Rng(0xfeed_beef_cafe_f00d);
        for k in 0..200_000 {
            let a = rng.f64(30) as f32;
            let b = rng.f64(30) as f32;
            let c = if k % 2 == 0 {
                -(a * b) * (1.0 + rng.f64(20) as f32 * 1e-6)
            } else {
                rng.f64(60) as f32
            };
            let want = a.mul_add(b, c);
            let got = f(a, b, c);
            assert_eq!(got.to_bits(), want.to_bits(), "fmaf({a:e}, {b:e}, {c:e})");
        }
    }

    #[test]
    fn min_max_and_nm_follow_arm() {
        let min = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Min), 2);
        let minnm = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::MinNum), 2);
        let maxnm = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::MaxNum), 2);
        assert!(min(f64::NAN, 1.0, 0.0).is_nan());
        assert!(min(1.0, f64::NAN, 0.0).is_nan());
        assert_eq!(min(0.0, -0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(min(-0.0, 0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(minnm(f64::NAN, 1.0, 0.0), 1.0);
        assert_eq!(minnm(2.0, f64::NAN, 0.0), 2.0);
        assert_eq!(maxnm(f64::NAN, -1.0, 0.0), -1.0);
        assert_eq!(maxnm(3.0, 4.0, 0.0), 4.0);
        assert!(maxnm(f64::NAN, f64::NAN, 0.0).is_nan());
    }

    #[test]
    fn invalid_operations_give_the_positive_default_nan() {
        let sub = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Sub), 2);
        let sqrt = f64_fn(Opcode::Fsqrt, Imm::None, 1);
        assert_eq!(
            sub(f64::INFINITY, f64::INFINITY, 0.0).to_bits(),
            0x7ff8_0000_0000_0000
        );
        assert_eq!(sqrt(-1.0, 0.0, 0.0).to_bits(), 0x7ff8_0000_0000_0000);
        let neg_nan = f64::from_bits(0xfff8_0000_0000_0001);
        assert_eq!(sub(neg_nan, 1.0, 0.0).to_bits(), neg_nan.to_bits());
    }

    #[test]
    fn ties_away_rounding() {
        let f = f64_fn(Opcode::Fround, Imm::Round(Round::TiesAway), 1);
        for (x, want) in [
            (0.5, 1.0),
            (-0.5, -1.0),
            (2.5, 3.0),
            (-2.5, -3.0),
            (0.49999999999999994, 0.0),
            (-0.3, -0.0),
            (4503599627370497.0, 4503599627370497.0),
            (f64::INFINITY, f64::INFINITY),
        ] {
            assert_eq!(f(x, 0.0, 0.0).to_bits(), f64::to_bits(want), "round({x})");
        }
        assert!(f(f64::NAN, 0.0, 0.0).is_nan());
    }

    #[test]
    fn conversions_saturate() {
        let t = types::F64;
        let code = compile(&[t], &[types::I32], |fb, args| {
            let i = inst(
                Opcode::FcvtToInt,
                Type::I32,
                Imm::FcvtInt((true, Round::Nearest)),
            );
            let r = lower(fb, &i, args);
            fb.ins().return_(&[r]);
        });
        // SAFETY: compiled with exactly this signature.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64) -> i32>(code) };
        assert_eq!(f(2.5), 2);
        assert_eq!(f(-3.5), -4);
        assert_eq!(f(1e20), i32::MAX);
        assert_eq!(f(-1e20), i32::MIN);
        assert_eq!(f(f64::NAN), 0);
        let code = compile(&[t], &[types::I64], |fb, args| {
            let i = inst(
                Opcode::FcvtToInt,
                Type::I64,
                Imm::FcvtInt((false, Round::TiesAway)),
            );
            let r = lower(fb, &i, args);
            fb.ins().return_(&[r]);
        });
        // SAFETY: compiled with exactly this signature.
        let g = unsafe { std::mem::transmute::<*const u8, extern "C" fn(f64) -> u64>(code) };
        assert_eq!(g(2.5), 3);
        assert_eq!(g(-2.5), 0);
        assert_eq!(g(1e30), u64::MAX);
        assert_eq!(g(1.8e19), 18_000_000_000_000_000_000);
    }
}
