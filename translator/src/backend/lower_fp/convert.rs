//! FP <-> integer conversions with Arm's saturation and flags: FCVT*
//! (IOC when out of range or NaN, else IXC when rounding was inexact) and
//! SCVTF/UCVTF (one rounding in FPCR's mode).
//!
//! Invariant: nothing on the in-range path signals more than CVTT*/CVTSI*
//! would for the same value.

use cranelift_codegen::ir::{
    condcodes::FloatCC as ClFCC, condcodes::IntCC as ClCC, types, BlockArg, InstBuilder,
    MemFlagsData, Type as ClType, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;
use vmxlate_abi as abi;

use super::{le, pin, raise, round, round_quiet, with_cold, Fmt, FpHost};
use crate::ir::Round;

/// FCVT[ZNMPA][SU]: rounds in `mode`, then saturates with IOC (NaN gives
/// 0), else signals IXC when the rounding was inexact. CVTT* truncates
/// itself and signals as Arm does, and so does ROUNDSD where no value
/// out of range can be inexact; otherwise the value is first rounded
/// without signalling (integer operations: ROUNDSD would signal inexact
/// for out-of-range values too), and inexactness is tested on a cold
/// path.
pub(super) fn to_int(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    ty: ClType,
    x: ClValue,
    signed: bool,
    mode: Round,
) -> ClValue {
    // ROUNDSD signals inexact exactly when `x` is not integral. That is
    // Arm's IXC whenever every value out of the destination's range is
    // integral: for signed 64-bit destinations (from 2^52, or 2^23 for
    // f32, every value is) and for f32 sources. Out-of-range values then
    // signal IOC alone, from the conversion.
    let signalling = signed && (ty == types::I64 || Fmt::of_value(fb, x).ty == types::F32);
    let r = match mode {
        Round::Trunc => x,
        _ if signalling => round(fb, mode, x),
        _ => round_quiet(fb, host, mode, x),
    };
    let i = if signed {
        fb.ins().fcvt_to_sint_sat(ty, r)
    } else {
        to_unsigned(fb, host, ty, r)
    };
    if signed {
        // CVTT* signals IOC (see `pin`).
        let min = if ty == types::I32 {
            i64::from(i32::MIN)
        } else {
            i64::MIN
        };
        let sat = fb.ins().icmp_imm_s(ClCC::Equal, i, min);
        pin(fb, sat);
    }
    if mode == Round::Trunc || signalling {
        return i;
    }
    let inexact = fb.ins().fcmp(ClFCC::OrderedNotEqual, r, x);
    let cold = fb.create_block();
    let join = fb.create_block();
    fb.ins().brif(inexact, cold, &[], join, &[]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    // In range (the conversion did not saturate): `r` is integral, so
    // the bounds are `lo <= r < hi`.
    let f = Fmt::of_value(fb, r);
    let n = ty.bits() as i32;
    let (lo, hi) = if signed {
        (-(2f64.powi(n - 1)), 2f64.powi(n - 1))
    } else {
        (0.0, 2f64.powi(n))
    };
    let lo = f.constant(fb, lo);
    let hi = f.constant(fb, hi);
    let above = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, r, lo);
    let below = fb.ins().fcmp(ClFCC::LessThan, r, hi);
    let ok = fb.ins().band(above, below);
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let old = fb.ins().load(types::I32, flags, cpu, abi::OFF_FPSR);
    let ok = fb.ins().uextend(types::I32, ok);
    let bit = fb
        .ins()
        .ishl_imm_u(ok, i64::from(abi::FPSR_IXC.trailing_zeros()));
    let new = fb.ins().bor(old, bit);
    fb.ins().store(flags, new, cpu, abi::OFF_FPSR);
    fb.ins().jump(join, &[]);
    fb.switch_to_block(join);
    i
}

/// FCVT*U after rounding: truncates `r`, saturating with IOC (NaN and
/// anything at or below -1 give 0, too large gives the maximum). The
/// in-range conversion is a signed one, so it signals inexact exactly when
/// Arm does; Cranelift's `fcvt_to_uint_sat` signals differently per CPU
/// level.
fn to_unsigned(fb: &mut FunctionBuilder, host: &mut dyn FpHost, ty: ClType, r: ClValue) -> ClValue {
    let f = Fmt::of_value(fb, r);
    let minus_one = f.constant(fb, -1.0);
    let limit = f.constant(fb, 2f64.powi(ty.bits() as i32));
    let above = fb.ins().fcmp(ClFCC::GreaterThan, r, minus_one);
    let below = fb.ins().fcmp(ClFCC::LessThan, r, limit);
    let ok = fb.ins().band(above, below);
    let out_of_range = fb.ins().icmp_imm_u(ClCC::Equal, ok, 0);
    let in_range = |fb: &mut FunctionBuilder, _: &mut dyn FpHost| {
        if ty == types::I64 {
            // Values from 2^63 are converted less 2^63 (exactly), then the
            // top bit is put back.
            let top = f.constant(fb, 2f64.powi(63));
            let big = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, r, top);
            let rb = fb.ins().select(big, r, top);
            let low = fb.ins().fsub(rb, top);
            let r2 = fb.ins().select(big, low, r);
            let i = fb.ins().fcvt_to_sint_sat(types::I64, r2);
            let hi = fb.ins().bor_imm_s(i, i64::MIN);
            fb.ins().select(big, hi, i)
        } else {
            let i = fb.ins().fcvt_to_sint_sat(types::I64, r);
            fb.ins().ireduce(ty, i)
        }
    };
    let saturate = |fb: &mut FunctionBuilder, host: &mut dyn FpHost| {
        raise(fb, host, abi::FPSR_IOC);
        let max = fb.ins().iconst(ty, -1);
        let zero = fb.ins().iconst(ty, 0);
        let high = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, r, limit);
        fb.ins().select(high, max, zero)
    };
    with_cold(fb, host, out_of_range, ty, in_range, saturate)
}

/// SCVTF/UCVTF: one rounding in the current mode. A u64 with the top bit
/// set is halved with the dropped bit kept as a sticky bit, converted
/// and doubled, which rounds the same in every mode (Cranelift's own
/// sequence is right only to nearest). The integer goes through
/// [`opaque`] first.
pub(super) fn int_to_float(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    ty: ClType,
    x: ClValue,
    signed: bool,
) -> ClValue {
    let x = opaque(fb, host, x);
    let xt = fb.func.dfg.value_type(x);
    if signed {
        return fb.ins().fcvt_from_sint(ty, x);
    }
    if xt != types::I64 {
        let w = fb.ins().uextend(types::I64, x);
        return fb.ins().fcvt_from_sint(ty, w);
    }
    let big = fb.ins().icmp_imm_s(ClCC::SignedLessThan, x, 0);
    let big_b = fb.create_block();
    let small_b = fb.create_block();
    let join = fb.create_block();
    let out = fb.append_block_param(join, ty);
    fb.ins().brif(big, big_b, &[], small_b, &[]);
    fb.switch_to_block(small_b);
    let small = fb.ins().fcvt_from_sint(ty, x);
    fb.ins().jump(join, &[BlockArg::Value(small)]);
    fb.switch_to_block(big_b);
    let half = fb.ins().ushr_imm_u(x, 1);
    let sticky = fb.ins().band_imm_u(x, 1);
    let h = fb.ins().bor(half, sticky);
    let r = fb.ins().fcvt_from_sint(ty, h);
    let r = fb.ins().fadd(r, r);
    fb.ins().jump(join, &[BlockArg::Value(r)]);
    fb.switch_to_block(join);
    out
}

/// `x` as a value Cranelift cannot tell is a constant. Its mid-end folds
/// an int-to-float conversion of a constant at compile time, rounded to
/// nearest and raising nothing, whatever FPCR's mode: a constant the guest
/// builds with MOVZ/MOVK, or stores and loads back, converted under
/// `fesetround(FE_UPWARD)`, came out rounded to nearest (the `compute
/// rounding` fixture). The select is on the `CpuState` pointer, never
/// null: a test and a conditional move.
pub(in crate::backend) fn opaque(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    x: ClValue,
) -> ClValue {
    let ty = fb.func.dfg.value_type(x);
    let cpu = host.cpu();
    let live = fb.ins().icmp_imm_s(ClCC::NotEqual, cpu, 0);
    let zero = if ty.is_vector() {
        let z = fb.ins().iconst(types::I64, 0);
        let z = fb.ins().scalar_to_vector(types::I64X2, z);
        fb.ins().bitcast(ty, le(), z)
    } else {
        fb.ins().iconst(ty, 0)
    };
    fb.ins().select_spectre_guard(live, x, zero)
}
