//! FPCR.FZ in the FP lowering: x86's DAZ/FTZ flush silently and after
//! rounding, so arithmetic tests FZ first and, when it is set, has the
//! runtime compute it on a cold path (`runtime/src/fpu/fz.rs`: inputs
//! flushed with IDC, outputs flushed by tininess before rounding with UFC
//! alone); ops whose values DAZ already gets right only report denormal
//! inputs.
//!
//! Invariant: the fast path is unchanged apart from one FZ test and
//! branch per op, and none where the host knows FZ is clear.

use cranelift_codegen::ir::{
    condcodes::IntCC as ClCC, types, InstBuilder, MemFlagsData, Type as ClType, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;
use vmxlate_abi as abi;

use super::{fpcr, le, with_cold, Fmt, FpHost};
use crate::backend::env::Helper;
use crate::ir::FBinOp;

/// The `FP_FZ_*` operation of a binary op.
pub(in crate::backend) fn fz_kind(op: FBinOp) -> u32 {
    match op {
        FBinOp::Add => abi::FP_FZ_ADD,
        FBinOp::Sub => abi::FP_FZ_SUB,
        FBinOp::Mul => abi::FP_FZ_MUL,
        FBinOp::Div => abi::FP_FZ_DIV,
        FBinOp::Min => abi::FP_FZ_MIN,
        FBinOp::Max => abi::FP_FZ_MAX,
        FBinOp::MinNum => abi::FP_FZ_MINNM,
        FBinOp::MaxNum => abi::FP_FZ_MAXNM,
        FBinOp::MulX => abi::FP_FZ_MULX,
        FBinOp::RecipStep => abi::FP_FZ_RECPS,
        FBinOp::RsqrtStep => abi::FP_FZ_RSQRTS,
    }
}

/// FPCR.FZ, non-zero when set (an i32); `None` where the host knows it is
/// clear.
pub(in crate::backend) fn fz_set(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
) -> Option<ClValue> {
    if host.fz_clear() {
        return None;
    }
    let fpcr = fpcr(fb, host);
    Some(fb.ins().band_imm_u(fpcr, i64::from(abi::FPCR_FZ)))
}

/// `fast` (the inline lowering), or with FPCR.FZ set the operation
/// `kind` (an `FP_FZ_*`) computed by the runtime on a cold path: x86's
/// DAZ/FTZ neither report flushed inputs (IDC) nor flush outputs by
/// Arm's tininess before rounding without raising inexact.
pub(in crate::backend) fn with_fz(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    kind: u32,
    args: &[ClValue],
    ty: ClType,
    fast: impl FnOnce(&mut FunctionBuilder, &mut dyn FpHost) -> ClValue,
) -> ClValue {
    let Some(fz) = fz_set(fb, host) else {
        return fast(fb, host);
    };
    with_cold(fb, host, fz, ty, fast, |fb, host| {
        fz_op(fb, host, kind, args, ty)
    })
}

/// The operation `kind` (an `FP_FZ_*`) on `args` computed under FZ by the
/// runtime (`vmx_fp_tiny` with `FP_KIND_FZ`); raw bits pass through
/// `CpuState::fp_tmp`.
pub(in crate::backend) fn fz_op(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    kind: u32,
    args: &[ClValue],
    ty: ClType,
) -> ClValue {
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let single = ty == types::F32 && kind != abi::FP_FZ_NARROW;
    let kind = kind | abi::FP_KIND_FZ | if single { abi::FP_KIND_SINGLE } else { 0 };
    let k = fb.ins().iconst(types::I64, i64::from(kind));
    fb.ins().store(flags, k, cpu, abi::OFF_FP_TMP);
    for (slot, &v) in args.iter().enumerate() {
        let f = Fmt::of_value(fb, v);
        let bits = fb.ins().bitcast(f.ity, le(), v);
        let bits = if f.ity == types::I32 {
            fb.ins().uextend(types::I64, bits)
        } else {
            bits
        };
        fb.ins()
            .store(flags, bits, cpu, abi::OFF_FP_TMP + 8 * (slot as i32 + 1));
    }
    host.call(fb, Helper::FpTiny, &[cpu]);
    let f = Fmt::of(ty);
    let r = fb.ins().load(f.ity, flags, cpu, abi::OFF_FP_TMP + 40);
    fb.ins().bitcast(ty, le(), r)
}

/// With FPCR.FZ set, raises IDC on a cold path when one of `args` is
/// denormal: Arm flushes it as x86's DAZ does, but also reports it.
pub(in crate::backend) fn input_denormal(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    args: &[ClValue],
) {
    let Some(fz) = fz_set(fb, host) else {
        return;
    };
    let cold = fb.create_block();
    let join = fb.create_block();
    fb.ins().brif(fz, cold, &[], join, &[]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    let mut any = fb.ins().iconst(types::I8, 0);
    for &a in args {
        let d = is_denormal(fb, a);
        any = fb.ins().bor(any, d);
    }
    let any = fb.ins().uextend(types::I32, any);
    let bit = fb
        .ins()
        .ishl_imm_u(any, i64::from(abi::FPSR_IDC.trailing_zeros()));
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let old = fb.ins().load(types::I32, flags, cpu, abi::OFF_FPSR);
    let new = fb.ins().bor(old, bit);
    fb.ins().store(flags, new, cpu, abi::OFF_FPSR);
    fb.ins().jump(join, &[]);
    fb.switch_to_block(join);
}

/// Whether float `a` is denormal (an i8): `0 < |a| < MIN_NORMAL` on its
/// bits, as one unsigned compare of `|a| - 1`.
fn is_denormal(fb: &mut FunctionBuilder, a: ClValue) -> ClValue {
    let f = Fmt::of_value(fb, a);
    let bits = fb.ins().bitcast(f.ity, le(), a);
    let sign = 1i64 << (f.ity.bits() - 1);
    let abs = fb.ins().band_imm_s(bits, !sign);
    let m1 = fb.ins().iadd_imm_s(abs, -1);
    let min = if f.ity == types::I32 {
        0x0080_0000
    } else {
        0x0010_0000_0000_0000
    };
    fb.ins().icmp_imm_u(ClCC::UnsignedLessThan, m1, min - 1)
}
