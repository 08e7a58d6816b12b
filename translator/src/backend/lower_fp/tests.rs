//! JIT tests of the FP lowering; expected values come from the Arm
//! pseudocode (FPProcessNaNs, FPMulAdd, FPRoundInt, FPToFixed...) or from
//! Rust's IEEE operations, never from the lowering itself.

use cranelift_codegen::ir::{types, InstBuilder};
use vmxlate_abi::{CpuState, FPCR_DN, FPCR_RMODE_SHIFT, FPSR_IOC};

use super::jit::{compile, inst, TestHost};
use super::*;
use crate::ir::{Lanes, Type};

type F3 = extern "C" fn(*mut CpuState, f64, f64, f64) -> f64;

/// Compiles one f64 op taking `arity` of the three float arguments.
fn f64_fn(op: Opcode, imm: Imm, arity: usize) -> F3 {
    let t = types::F64;
    let code = compile(&[types::I64, t, t, t], &[t], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let r = lower(
            fb,
            &mut host,
            &inst(op, Type::F64, imm),
            &args[1..1 + arity],
        );
        fb.ins().return_(&[r]);
    });
    // SAFETY: compiled with exactly this signature.
    unsafe { std::mem::transmute::<*const u8, F3>(code) }
}

fn f32_fma() -> extern "C" fn(*mut CpuState, f32, f32, f32) -> f32 {
    let t = types::F32;
    let code = compile(&[types::I64, t, t, t], &[t], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let r = lower(
            fb,
            &mut host,
            &inst(Opcode::Fma, Type::F32, Imm::None),
            &args[1..],
        );
        fb.ins().return_(&[r]);
    });
    // SAFETY: compiled with exactly this signature.
    unsafe {
        std::mem::transmute::<*const u8, extern "C" fn(*mut CpuState, f32, f32, f32) -> f32>(code)
    }
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

fn bits(x: f64) -> u64 {
    x.to_bits()
}

fn nan(b: u64) -> f64 {
    f64::from_bits(b)
}

#[test]
fn fma_f64_is_correctly_rounded() {
    let f = f64_fn(Opcode::Fma, Imm::None, 3);
    let mut cpu = CpuState::default();
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
        let got = f(&mut cpu, a, b, c);
        assert_eq!(got.to_bits(), want.to_bits(), "fma({a:e}, {b:e}, {c:e})");
    }
    assert_eq!(f(&mut cpu, f64::INFINITY, 1.0, 1.0), f64::INFINITY);
    assert_eq!(f(&mut cpu, 1e300, 1e300, 1.0), f64::INFINITY);
    assert_eq!(bits(f(&mut cpu, 0.0, 5.0, -0.0)), bits(0.0));
}

/// With `CpuState::host_fma` set, x86-64-v2 code calls the host FMA stub
/// (here a test stub) and keeps Arm's NaN rules; clear, it emulates.
#[test]
fn fma_calls_the_host_stub_when_the_host_has_fma() {
    use super::jit::HOST_FMA_CALLS;
    use std::sync::atomic::Ordering;
    let f = f64_fn(Opcode::Fma, Imm::None, 3);
    let mut cpu = CpuState::default();
    let before = HOST_FMA_CALLS.load(Ordering::Relaxed);
    let a = 1.0 + 2f64.powi(-30);
    assert_eq!(f(&mut cpu, a, a, -1.0), a.mul_add(a, -1.0));
    assert_eq!(HOST_FMA_CALLS.load(Ordering::Relaxed), before);
    cpu.host_fma = 1;
    assert_eq!(f(&mut cpu, a, a, -1.0), a.mul_add(a, -1.0));
    assert_eq!(HOST_FMA_CALLS.load(Ordering::Relaxed), before + 1);
    // A quiet-NaN addend with infinity times zero: the default NaN, IOC.
    let qnan = nan(0x7ff8_0000_0000_0001);
    let r = f(&mut cpu, f64::INFINITY, 0.0, qnan);
    assert_eq!(bits(r), 0x7ff8_0000_0000_0000);
    assert_ne!(cpu.fpsr & FPSR_IOC, 0);
}

#[test]
fn fma_f32_is_correctly_rounded() {
    let f = f32_fma();
    let mut cpu = CpuState::default();
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
        let got = f(&mut cpu, a, b, c);
        assert_eq!(got.to_bits(), want.to_bits(), "fmaf({a:e}, {b:e}, {c:e})");
    }
}

#[test]
fn fma_nans_follow_fpmuladd() {
    let f = f64_fn(Opcode::Fma, Imm::None, 3);
    let mut cpu = CpuState::default();
    let qa = nan(0x7ff8_0000_0000_000a);
    let sb = nan(0x7ff0_0000_0000_000b);
    let qc = nan(0xfff8_0000_0000_000c);
    // Addend first among quiet NaNs; any signalling NaN before them.
    assert_eq!(bits(f(&mut cpu, qa, 1.0, qc)), 0xfff8_0000_0000_000c);
    assert_eq!(bits(f(&mut cpu, qa, sb, qc)), 0x7ff8_0000_0000_000b);
    assert_eq!(cpu.fpsr, 0);
    // Quiet-NaN addend with infinity times zero: default NaN and IOC.
    assert_eq!(
        bits(f(&mut cpu, f64::INFINITY, 0.0, qc)),
        0x7ff8_0000_0000_0000
    );
    assert_eq!(cpu.fpsr, FPSR_IOC);
    // Outside the default FPCR the helper computes the fused result.
    cpu.fpcr = 3 << FPCR_RMODE_SHIFT;
    assert_eq!(f(&mut cpu, 0.1, 10.0, -1.0), 0.1f64.mul_add(10.0, -1.0));
}

#[test]
fn min_max_and_nm_follow_arm() {
    let min = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Min), 2);
    let minnm = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::MinNum), 2);
    let maxnm = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::MaxNum), 2);
    let c = &mut CpuState::default();
    assert!(min(c, f64::NAN, 1.0, 0.0).is_nan());
    assert!(min(c, 1.0, f64::NAN, 0.0).is_nan());
    assert_eq!(bits(min(c, 0.0, -0.0, 0.0)), bits(-0.0));
    assert_eq!(bits(min(c, -0.0, 0.0, 0.0)), bits(-0.0));
    assert_eq!(minnm(c, f64::NAN, 1.0, 0.0), 1.0);
    assert_eq!(minnm(c, 2.0, f64::NAN, 0.0), 2.0);
    assert_eq!(maxnm(c, f64::NAN, -1.0, 0.0), -1.0);
    assert_eq!(maxnm(c, 3.0, 4.0, 0.0), 4.0);
    assert!(maxnm(c, f64::NAN, f64::NAN, 0.0).is_nan());
    // FPMinNum replaces only a quiet NaN: a signalling one propagates.
    let s = nan(0x7ff0_0000_0000_0001);
    assert_eq!(bits(minnm(c, s, 1.0, 0.0)), 0x7ff8_0000_0000_0001);
    // FMIN of two quiet NaNs: the first.
    let q2 = nan(0xfff8_0000_0000_0002);
    assert_eq!(bits(min(c, q2, f64::NAN, 0.0)), 0xfff8_0000_0000_0002);
}

#[test]
fn nan_results_follow_fpprocessnans() {
    let add = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Add), 2);
    let sub = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Sub), 2);
    let sqrt = f64_fn(Opcode::Fsqrt, Imm::None, 1);
    let c = &mut CpuState::default();
    assert_eq!(
        bits(sub(c, f64::INFINITY, f64::INFINITY, 0.0)),
        0x7ff8_0000_0000_0000
    );
    assert_eq!(bits(sqrt(c, -1.0, 0.0, 0.0)), 0x7ff8_0000_0000_0000);
    let neg_nan = nan(0xfff8_0000_0000_0001);
    assert_eq!(bits(sub(c, neg_nan, 1.0, 0.0)), bits(neg_nan));
    // x86 would return the first operand; Arm the signalling one.
    let q = nan(0x7ff8_0000_0000_0005);
    let s = nan(0x7ff0_0000_0000_0007);
    assert_eq!(bits(add(c, q, s, 0.0)), 0x7ff8_0000_0000_0007);
    assert_eq!(bits(add(c, 1.0, q, 0.0)), bits(q));
    // FPCR.DN: every NaN result is the default NaN.
    c.fpcr = FPCR_DN;
    assert_eq!(bits(add(c, neg_nan, 1.0, 0.0)), 0x7ff8_0000_0000_0000);
    assert_eq!(bits(sqrt(c, q, 0.0, 0.0)), 0x7ff8_0000_0000_0000);
}

#[test]
fn smallest_normal_results_reach_the_tininess_helper() {
    let mul = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::Mul), 2);
    let c = &mut CpuState::default();
    // The exact product is DBL_MIN * (1 - 2^-54): rounds up to DBL_MIN.
    let a = f64::from_bits(0x3ff0_0000_0200_0000); // 1 + 2^-27
    let b = f64::from_bits(0x000f_ffff_fe00_0000); // (1 - 2^-27) * 2^-1022
    let r = mul(c, a, b, 0.0);
    assert_eq!(r, f64::MIN_POSITIVE);
    assert_eq!(c.fpsr, super::jit::TINY_CALLED);
    c.fpsr = 0;
    assert_eq!(mul(c, 3.0, 5.0, 0.0), 15.0);
    assert_eq!(c.fpsr, 0);
}

#[test]
fn rounding_by_fpcr_mode() {
    // FRINTX rounds in the host MXCSR mode (which mirrors FPCR), FRINTI
    // reads FPCR.RMode: set both.
    let x_fn = f64_fn(Opcode::Fround, Imm::Round(Round::CurrentExact), 1);
    let i_fn = f64_fn(Opcode::Fround, Imm::Round(Round::Current), 1);
    let c = &mut CpuState::default();
    for (mode, x, want) in [
        (0u32, 2.5, 2.0),
        (0, 3.5, 4.0),
        (0, -0.3, -0.0),
        (1, 2.1, 3.0),
        (2, -2.1, -3.0),
        (2, 0.3, 0.0),
        (3, -2.9, -2.0),
        (1, -0.5, -0.0),
        (1, 4503599627370495.5, 4503599627370496.0),
        (0, f64::INFINITY, f64::INFINITY),
    ] {
        c.fpcr = mode << FPCR_RMODE_SHIFT;
        let rc = [0u32, 2, 1, 3][mode as usize];
        let csr = (mxcsr() & !(3 << 13)) | (rc << 13);
        // SAFETY: MXCSR with only the rounding control changed.
        unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &csr) };
        let got_x = x_fn(c, x, 0.0, 0.0);
        let got_i = i_fn(c, x, 0.0, 0.0);
        let csr = mxcsr() & !(3 << 13);
        // SAFETY: back to round to nearest.
        unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &csr) };
        assert_eq!(bits(got_x), bits(want), "frintx mode {mode} x {x}");
        assert_eq!(bits(got_i), bits(want), "frinti mode {mode} x {x}");
    }
}

#[test]
fn step_and_mulx_special_cases() {
    let recps = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::RecipStep), 2);
    let rsqrts = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::RsqrtStep), 2);
    let mulx = f64_fn(Opcode::FBin, Imm::FBin(FBinOp::MulX), 2);
    let c = &mut CpuState::default();
    assert_eq!(recps(c, 0.5, 3.0, 0.0), 0.5);
    assert_eq!(recps(c, f64::INFINITY, 0.0, 0.0), 2.0);
    assert_eq!(rsqrts(c, 1.0, 1.0, 0.0), 1.0);
    assert_eq!(rsqrts(c, -0.0, f64::INFINITY, 0.0), 1.5);
    assert_eq!(mulx(c, f64::NEG_INFINITY, 0.0, 0.0), -2.0);
    assert_eq!(mulx(c, 3.0, -2.0, 0.0), -6.0);
    assert_eq!(c.fpsr, 0);
}

#[test]
fn ties_away_rounding() {
    let f = f64_fn(Opcode::Fround, Imm::Round(Round::TiesAway), 1);
    let c = &mut CpuState::default();
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
        assert_eq!(bits(f(c, x, 0.0, 0.0)), bits(want), "round({x})");
    }
    assert!(f(c, f64::NAN, 0.0, 0.0).is_nan());
}

fn mxcsr() -> u32 {
    let mut v = 0u32;
    // SAFETY: STMXCSR into a local.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v) };
    v
}

fn clear_mxcsr_flags() {
    let v = mxcsr() & !0x3f;
    // SAFETY: the current MXCSR with its flags cleared.
    unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &v) };
}

#[test]
fn frint_rounds_exactly_without_inexact() {
    type Reference = fn(f64) -> f64;
    let modes: [(Round, Reference); 5] = [
        (Round::Nearest, f64::round_ties_even),
        (Round::Floor, f64::floor),
        (Round::Ceil, f64::ceil),
        (Round::Trunc, f64::trunc),
        (Round::TiesAway, f64::round),
    ];
    let c = &mut CpuState::default();
    let mut rng = Rng(0x05ee_d0ff_10a7);
    for (mode, want) in modes {
        let f = f64_fn(Opcode::Fround, Imm::Round(mode), 1);
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            1.0,
            -1.0,
            4503599627370495.5,
            4503599627370497.0,
            1e300,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            3.999999999999999,
        ];
        xs.extend((0..20_000).map(|_| rng.f64(60)));
        for x in xs {
            clear_mxcsr_flags();
            let r = f(c, x, 0.0, 0.0);
            // DE (bit 1) has no Arm counterpart and is never reported.
            assert_eq!(mxcsr() & 0x3d, 0, "{mode:?} {x:e} raised flags");
            assert_eq!(bits(r), bits(want(x)), "{mode:?} {x:e}");
        }
        assert_eq!(
            bits(f(c, nan(0x7ff0_0000_0000_0001), 0.0, 0.0)),
            0x7ff8_0000_0000_0001
        );
    }
    // f32 too.
    let t = types::F32;
    let code = compile(&[types::I64, t], &[t], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let i = inst(Opcode::Fround, Type::F32, Imm::Round(Round::Nearest));
        let r = lower(fb, &mut host, &i, &args[1..]);
        fb.ins().return_(&[r]);
    });
    // SAFETY: compiled with exactly this signature.
    let g =
        unsafe { std::mem::transmute::<*const u8, extern "C" fn(*mut CpuState, f32) -> f32>(code) };
    for x in [
        0.5f32, 1.5, 2.5, -3.5, 8388607.5, 8388609.0, -0.25, 1e30, 1.4e-45,
    ] {
        assert_eq!(g(c, x).to_bits(), x.round_ties_even().to_bits(), "{x:e}");
    }
}

type Cvt<R> = extern "C" fn(*mut CpuState, f64) -> R;

fn cvt_fn<R>(ty: Type, rt: types::Type, signed: bool, mode: Round) -> Cvt<R> {
    let code = compile(&[types::I64, types::F64], &[rt], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let i = inst(Opcode::FcvtToInt, ty, Imm::FcvtInt((signed, mode)));
        let r = lower(fb, &mut host, &i, &args[1..]);
        fb.ins().return_(&[r]);
    });
    // SAFETY: compiled with exactly this signature.
    unsafe { std::mem::transmute::<*const u8, Cvt<R>>(code) }
}

#[test]
fn conversions_saturate() {
    let c = &mut CpuState::default();
    let f = cvt_fn::<i32>(Type::I32, types::I32, true, Round::Nearest);
    assert_eq!(f(c, 2.5), 2);
    assert_eq!(f(c, -3.5), -4);
    assert_eq!(f(c, 1e20), i32::MAX);
    assert_eq!(f(c, -1e20), i32::MIN);
    assert_eq!(f(c, f64::NAN), 0);
    let g = cvt_fn::<u64>(Type::I64, types::I64, false, Round::TiesAway);
    assert_eq!(g(c, 2.5), 3);
    assert_eq!(g(c, 1e30), u64::MAX);
    assert_eq!(g(c, 1.8e19), 18_000_000_000_000_000_000);
    // Rounding 2.5 away is inexact (FPToFixed signals IXC in range).
    assert_eq!(c.fpsr, FPSR_IOC | vmxlate_abi::FPSR_IXC);
    c.fpsr = 0;
    // FCVTZU: -0.5 truncates to 0 (inexact, not invalid); -1.0 and NaN
    // are invalid; 2^32 saturates a W result.
    let z = cvt_fn::<u32>(Type::I32, types::I32, false, Round::Trunc);
    clear_mxcsr_flags();
    assert_eq!(z(c, -0.5), 0);
    assert_eq!((c.fpsr, mxcsr() & 0x21), (0, 0x20));
    assert_eq!(z(c, 4294967295.9), u32::MAX);
    assert_eq!(c.fpsr, 0);
    assert_eq!(z(c, -1.0), 0);
    assert_eq!(c.fpsr, FPSR_IOC);
    assert_eq!(z(c, 4294967296.0), u32::MAX);
    assert_eq!(z(c, f64::NAN), 0);
    let zx = cvt_fn::<u64>(Type::I64, types::I64, false, Round::Trunc);
    assert_eq!(zx(c, 9223372036854775808.0), 1 << 63);
    assert_eq!(zx(c, 18446744073709549568.0), 18446744073709549568);
    assert_eq!(zx(c, 12345.75), 12345);
}

#[test]
fn packed_arithmetic_fixes_nan_lanes() {
    let code = compile(&[types::I64, types::I64, types::I64], &[], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let flags = cranelift_codegen::ir::MemFlagsData::trusted();
        let a = fb.ins().load(types::I8X16, flags, args[1], 0);
        let b = fb.ins().load(types::I8X16, flags, args[1], 16);
        let i = inst(
            Opcode::VFBin,
            Type::V128,
            Imm::VFBin((FBinOp::Add, Lanes::I64x2)),
        );
        let r = crate::backend::lower_vfp::lower(fb, &mut host, &i, &[a, b]);
        fb.ins().store(flags, r, args[2], 0);
        fb.ins().return_(&[]);
    });
    // SAFETY: compiled with exactly this signature.
    let f = unsafe {
        std::mem::transmute::<*const u8, extern "C" fn(*mut CpuState, *const f64, *mut f64)>(code)
    };
    let c = &mut CpuState::default();
    let q = nan(0x7ff8_0000_0000_0005);
    let s = nan(0x7ff0_0000_0000_0007);
    let input = [1.5, q, 2.0, s];
    let mut out = [0.0; 2];
    f(c, input.as_ptr(), out.as_mut_ptr());
    assert_eq!(out[0], 3.5);
    assert_eq!(bits(out[1]), 0x7ff8_0000_0000_0007);
    let input = [1.0, f64::INFINITY, 2.0, f64::NEG_INFINITY];
    f(c, input.as_ptr(), out.as_mut_ptr());
    assert_eq!((out[0], bits(out[1])), (3.0, 0x7ff8_0000_0000_0000));
}

#[test]
fn packed_compares_give_masks_and_arm_flags() {
    use crate::ir::FloatCC;
    let cmp = |cc: FloatCC| {
        let code = compile(&[types::I64, types::I64, types::I64], &[], |fb, args| {
            let mut host = TestHost { cpu: args[0] };
            let flags = cranelift_codegen::ir::MemFlagsData::trusted();
            let a = fb.ins().load(types::I8X16, flags, args[1], 0);
            let b = fb.ins().load(types::I8X16, flags, args[1], 16);
            let i = inst(Opcode::VFCmp, Type::V128, Imm::VFCmp((cc, Lanes::I32x4)));
            let r = crate::backend::lower_vfp::lower(fb, &mut host, &i, &[a, b]);
            fb.ins().store(flags, r, args[2], 0);
            fb.ins().return_(&[]);
        });
        // SAFETY: compiled with exactly this signature.
        unsafe {
            std::mem::transmute::<*const u8, extern "C" fn(*mut CpuState, *const f32, *mut u32)>(
                code,
            )
        }
    };
    let c = &mut CpuState::default();
    let input = [1.0f32, f32::NAN, -0.0, 3.0, 2.0, 1.0, 0.0, 3.0];
    let mut out = [0u32; 4];
    // FCMEQ: quiet for a quiet NaN; -0 == +0.
    clear_mxcsr_flags();
    cmp(FloatCC::Eq)(c, input.as_ptr(), out.as_mut_ptr());
    assert_eq!(out, [0, 0, !0, !0]);
    assert_eq!(mxcsr() & 1, 0);
    // FCMGT: signals invalid for the quiet NaN.
    cmp(FloatCC::Gt)(c, input.as_ptr(), out.as_mut_ptr());
    assert_eq!(out, [0, 0, 0, 0]);
    assert_eq!(mxcsr() & 1, 1);
    clear_mxcsr_flags();
    cmp(FloatCC::Ge)(c, input.as_ptr(), out.as_mut_ptr());
    assert_eq!(out, [0, 0, !0, !0]);
    clear_mxcsr_flags();
}

#[test]
fn packed_fcvtzs_saturates_and_flags_nan_lanes() {
    let code = compile(&[types::I64, types::I64, types::I64], &[], |fb, args| {
        let mut host = TestHost { cpu: args[0] };
        let flags = cranelift_codegen::ir::MemFlagsData::trusted();
        let a = fb.ins().load(types::I8X16, flags, args[1], 0);
        let i = inst(Opcode::VFcvtToInt, Type::V128, Imm::Lanes(Lanes::I32x4));
        let r = crate::backend::lower_vfp::lower(fb, &mut host, &i, &[a]);
        fb.ins().store(flags, r, args[2], 0);
        fb.ins().return_(&[]);
    });
    // SAFETY: compiled with exactly this signature.
    let f = unsafe {
        std::mem::transmute::<*const u8, extern "C" fn(*mut CpuState, *const f32, *mut i32)>(code)
    };
    let c = &mut CpuState::default();
    let mut out = [0i32; 4];
    f(c, [1.5f32, -2.5, 3e9, -3e9].as_ptr(), out.as_mut_ptr());
    assert_eq!(out, [1, -2, i32::MAX, i32::MIN]);
    assert_eq!(c.fpsr, 0);
    f(c, [f32::NAN, 7.0, 0.0, -0.0].as_ptr(), out.as_mut_ptr());
    assert_eq!(out, [0, 7, 0, 0]);
    assert_eq!(c.fpsr, FPSR_IOC);
}
