//! Fused multiply-add: the host's FMA instruction when the target CPU level
//! has it (x86-64-v3; it rounds per MXCSR like every other op). Otherwise
//! (x86-64-v2, the default) the choice is made at run time: when
//! `CpuState::host_fma` is set (the host has FMA, see the runtime's
//! `fpu::host_fma`; `VMXLATE_HOST_FMA=0` clears it) a preserve-all stub
//! runs the same one instruction, with exact flags; else it is emulated.
//!
//! Emulated, in the default environment (FPCR = 0: round to nearest, no
//! flushing, no default NaN) it runs inline: f32 through an f64 sum
//! rounded to odd, f64 with Boldo and Melquiond's emulated FMA (exact
//! product by Dekker splitting, exact sum of the high parts, round-to-odd
//! of the low parts, one final rounding). Invariant: the inline f64 path
//! only runs when the product is in 2^-968..2^995 and every operand is
//! below 2^995 in magnitude (decided on the exponent bits before any FP
//! op, so it never overflows, underflows or meets a NaN); other operands,
//! and any other FPCR, go to the `vmx_fma` helper (libm's `fma`, exact in
//! every rounding mode). Its only flag Arm would not raise is inexact for
//! an exact fused result of f64 operands too wide for an exact Dekker
//! split; the result is always right. The f32 path raises exactly Arm's
//! flags.
//!
//! NaNs follow Arm's `FPMulAdd`: the addend is the first operand in NaN
//! priority, and a quiet-NaN addend with an infinity-times-zero product
//! gives the default NaN with IOC.

use cranelift_codegen::ir::{
    condcodes::FloatCC as ClFCC, condcodes::IntCC as ClCC, types, BlockArg, InstBuilder,
    MemFlagsData, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;
use vmxlate_abi as abi;

use super::env::Helper;
use super::lower_fp::{
    arm_nan, checked, cold_bits, fpcr, inf_times_zero, le, raise, with_cold, Fmt, FpHost, Tiny,
};

/// `a * b + c` with one rounding and Arm's NaN and tininess rules.
pub fn fused(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    a: ClValue,
    b: ClValue,
    c: ClValue,
) -> ClValue {
    let how = if host.has_fma() {
        How::Inline
    } else {
        How::RunTime
    };
    fused_by(fb, host, how, a, b, c)
}

/// How a fused multiply-add is computed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Cranelift's `fma` (the target CPU level has FMA).
    Inline,
    /// The host's FMA through a stub (`CpuState::host_fma` is known set).
    Stub,
    /// The emulation (`CpuState::host_fma` is known clear).
    Emulated,
    /// `Stub` or `Emulated` as `CpuState::host_fma` says at run time.
    RunTime,
}

/// `CpuState::host_fma` is set: an i32, loaded where Cranelift may share
/// and hoist it (the runtime writes it only before any guest code runs).
pub fn host_fma_set(fb: &mut FunctionBuilder, cpu: ClValue) -> ClValue {
    let flags = MemFlagsData::trusted().with_readonly().with_can_move();
    fb.ins().load(types::I32, flags, cpu, abi::OFF_HOST_FMA)
}

/// The host FMA stub's result for `a * b + c` (scalars or vectors).
pub fn stub(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    a: ClValue,
    b: ClValue,
    c: ClValue,
) -> ClValue {
    let h = match fb.func.dfg.value_type(a) {
        types::F32 => Helper::HostFmaF32,
        types::F64 => Helper::HostFmaF64,
        types::F32X4 => Helper::HostFmaF32x4,
        types::F64X2 => Helper::HostFmaF64x2,
        t => unreachable!("no FMA stub for {t}"),
    };
    let cpu = host.cpu();
    host.call(fb, h, &[cpu, a, b, c]);
    let ty = fb.func.dfg.value_type(a);
    fb.ins()
        .load(ty, MemFlagsData::trusted(), cpu, abi::FMA_RESULT)
}

/// [`fused`], computed as `how` says.
pub fn fused_by(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    how: How,
    a: ClValue,
    b: ClValue,
    c: ClValue,
) -> ClValue {
    let f = Fmt::of_value(fb, a);
    let r = match how {
        How::Inline => fb.ins().fma(a, b, c),
        How::Stub => stub(fb, host, a, b, c),
        How::Emulated => emulated(fb, host, a, b, c),
        How::RunTime => {
            let set = host_fma_set(fb, host.cpu());
            let clear = fb.ins().icmp_imm_u(ClCC::Equal, set, 0);
            with_cold(
                fb,
                host,
                clear,
                f.ty,
                |fb, host| stub(fb, host, a, b, c),
                |fb, host| emulated(fb, host, a, b, c),
            )
        }
    };
    let tiny = Tiny {
        kind: abi::FP_TINY_FMA,
        ops: vec![a, b, c],
    };
    checked(fb, host, r, Some(tiny), |fb, host| {
        // FPProcessNaNs3(addend, op1, op2), then the QNaN-addend rule.
        let n = arm_nan(fb, host, &[c, a, b]);
        let cc = cold_bits(fb, host, c);
        let one8 = fb.ins().iconst(types::I8, 1);
        let c_quiet = fb.ins().bxor(cc.snan, one8);
        let c_qnan = fb.ins().band(cc.nan, c_quiet);
        let itz = inf_times_zero(fb, a, b);
        let special = fb.ins().band(c_qnan, itz);
        let dn_bits = fb.ins().iconst(f.ity, f.default_nan);
        let dn = fb.ins().bitcast(f.ty, le(), dn_bits);
        let cold = fb.create_block();
        let join = fb.create_block();
        fb.ins().brif(special, cold, &[], join, &[]);
        fb.set_cold_block(cold);
        fb.switch_to_block(cold);
        raise(fb, host, abi::FPSR_IOC);
        fb.ins().jump(join, &[]);
        fb.switch_to_block(join);
        fb.ins().select(special, dn, n)
    })
}

/// The fused result without the x86 FMA extension: inline emulation in
/// the default environment, else the `vmx_fma` helper.
fn emulated(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    a: ClValue,
    b: ClValue,
    c: ClValue,
) -> ClValue {
    let f = Fmt::of_value(fb, a);
    let fpcr = fpcr(fb, host);
    let default_env = fb.ins().icmp_imm_u(ClCC::Equal, fpcr, 0);
    let slow = fb.create_block();
    let join = fb.create_block();
    let r = fb.append_block_param(join, f.ty);
    let fast = fb.create_block();
    fb.ins().brif(default_env, fast, &[], slow, &[]);
    fb.switch_to_block(fast);
    let (v, exact) = emulate(fb, a, b, c);
    fb.ins().brif(exact, join, &[BlockArg::Value(v)], slow, &[]);
    fb.set_cold_block(slow);
    fb.switch_to_block(slow);
    let single = f.ty == types::F32;
    let wide = |fb: &mut FunctionBuilder, v: ClValue| {
        if single {
            fb.ins().fpromote(types::F64, v)
        } else {
            v
        }
    };
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let flag = fb.ins().iconst(types::I64, i64::from(single));
    fb.ins().store(flags, flag, cpu, abi::OFF_FP_TMP);
    for (slot, v) in [a, b, c].into_iter().enumerate() {
        let v = wide(fb, v);
        fb.ins()
            .store(flags, v, cpu, abi::OFF_FP_TMP + 8 * (slot as i32 + 1));
    }
    host.call(fb, Helper::Fma, &[cpu]);
    let v = fb.ins().load(types::F64, flags, cpu, abi::OFF_FP_TMP + 40);
    let v = if single {
        fb.ins().fdemote(types::F32, v)
    } else {
        v
    };
    fb.ins().jump(join, &[BlockArg::Value(v)]);
    fb.switch_to_block(join);
    r
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

/// The inline emulation (round to nearest only): the result and whether it
/// is the correctly rounded one (else the helper must compute it).
fn emulate(fb: &mut FunctionBuilder, a: ClValue, b: ClValue, c: ClValue) -> (ClValue, ClValue) {
    if fb.func.dfg.value_type(a) == types::F32 {
        // The f64 product is exact; the f64 sum rounded to odd keeps enough
        // bits for one correct rounding to f32. Neither raises a flag the
        // fused op does not: the product is exact and in range, and an
        // inexact f64 sum means an inexact f32 result.
        let a = fb.ins().fpromote(types::F64, a);
        let b = fb.ins().fpromote(types::F64, b);
        let c = fb.ins().fpromote(types::F64, c);
        let p = fb.ins().fmul(a, b);
        let s = fb.ins().fadd(p, c);
        // An infinite or NaN sum is the answer; its error term would
        // subtract infinities (a spurious invalid), so it is computed on
        // zeros instead.
        let finite = is_finite(fb, s);
        let zero = fb.ins().f64const(0.0);
        let p = fb.ins().select(finite, p, zero);
        let c = fb.ins().select(finite, c, zero);
        let (s2, e) = two_sum(fb, p, c);
        let odd = round_odd(fb, s2, e);
        let plain = fb.ins().fdemote(types::F32, s);
        let fused = fb.ins().fdemote(types::F32, odd);
        let r = fb.ins().select(finite, fused, plain);
        let yes = fb.ins().iconst(types::I8, 1);
        return (r, yes);
    }
    // The emulation is exact only when the product is in the normal range
    // with room for splitting (2^-968 <= |a * b| < 2^995) and every
    // operand is below 2^995. That is decided on the biased exponents
    // before any FP op, and other operands run the sequence on 1.0
    // instead, so it never overflows, underflows or meets an infinity or
    // NaN (flags the fused op would not raise); the helper computes them.
    let ea = biased_exponent(fb, a);
    let eb = biased_exponent(fb, b);
    let ec = biased_exponent(fb, c);
    let sum = fb.ins().iadd(ea, eb);
    let mut ok = fb
        .ins()
        .icmp_imm_u(ClCC::UnsignedGreaterThanOrEqual, sum, 1078);
    for (v, imm) in [(sum, 3039), (ea, 2017), (eb, 2017), (ec, 2017)] {
        let c = fb.ins().icmp_imm_u(ClCC::UnsignedLessThanOrEqual, v, imm);
        ok = fb.ins().band(ok, c);
    }
    for e in [ea, eb] {
        let normal = fb.ins().icmp_imm_u(ClCC::NotEqual, e, 0);
        ok = fb.ins().band(ok, normal);
    }
    let one = fb.ins().f64const(1.0);
    let a = fb.ins().select(ok, a, one);
    let b = fb.ins().select(ok, b, one);
    let c = fb.ins().select(ok, c, one);
    let (uh, ul) = two_prod(fb, a, b);
    let (th, tl) = two_sum(fb, c, uh);
    let (s, e) = two_sum(fb, tl, ul);
    let v = round_odd(fb, s, e);
    let fused = fb.ins().fadd(th, v);
    (fused, ok)
}

/// The biased exponent field of f64 `v` (an i64).
fn biased_exponent(fb: &mut FunctionBuilder, v: ClValue) -> ClValue {
    let bits = fb.ins().bitcast(types::I64, le(), v);
    let e = fb.ins().ushr_imm_u(bits, 52);
    fb.ins().band_imm_u(e, 0x7ff)
}

/// Whether f64 `v` is finite (an i8), from its bits (no FP compare).
fn is_finite(fb: &mut FunctionBuilder, v: ClValue) -> ClValue {
    let e = biased_exponent(fb, v);
    fb.ins().icmp_imm_u(ClCC::NotEqual, e, 0x7ff)
}
