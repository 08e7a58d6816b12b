//! Lowering of packed FP ops (`VFBin`, `VFsqrt`, `VFma`, `VFCmp`) to SSE
//! packed arithmetic (FMA inline at x86-64-v3; below it, `VFma` calls the
//! host's packed FMA through a stub when the host has it, and is emulated
//! lane by lane when it has not: see [`fp_fma`]).
//!
//! Packed ADDPS/SUBPS/MULPS/DIVPS/SQRTPS (and the PD forms) round and flag
//! exactly as the scalar forms do under the MXCSR that mirrors FPCR, so
//! the only lanes that can differ from Arm are those the scalar lowering
//! fixes up: NaN results, and (for multiply and divide) results of the
//! smallest normal magnitude. One packed compare finds them; if any lane
//! has one, a cold path recomputes every lane with the scalar lowering
//! (the flags it raises again are the same sticky flags).
//!
//! Invariant: V128 values are `I8X16` outside this file; `I32x4` lanes are
//! f32 and `I64x2` lanes f64.

use cranelift_codegen::ir::{
    condcodes::FloatCC as ClFCC, condcodes::IntCC as ClCC, types, BlockArg, InstBuilder,
    Type as ClType, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;

use super::fp_fma::{self, How};
use super::lower_fp::{
    binary, checked_sqrt, fz_kind, fz_op, fz_set, input_denormal, le, pin, with_cold, Fmt, FpHost,
};
use crate::ir::{FBinOp, Imm, InstData, Lanes, Opcode};
use vmxlate_abi as abi;

/// The Cranelift float vector type of a lane shape (32 or 64-bit lanes).
fn fvty(l: Lanes) -> ClType {
    if l.lane_bits() == 32 {
        types::F32X4
    } else {
        types::F64X2
    }
}

/// Lowers `VFBin`, `VFsqrt`, `VFma` or `VFCmp`; `args` are its lowered
/// operands.
pub fn lower(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    inst: &InstData,
    args: &[ClValue],
) -> ClValue {
    // Under FPCR.FZ arithmetic goes lane by lane to the runtime, and the
    // other ops report denormal lanes (see `lower_fp::with_fz`).
    let fz = match (inst.op, inst.imm) {
        (Opcode::VFBin, Imm::VFBin((op, l))) => Some((fz_kind(op), l)),
        (Opcode::VFsqrt, Imm::Lanes(l)) => Some((abi::FP_FZ_SQRT, l)),
        (Opcode::VFma, Imm::Lanes(l)) => Some((abi::FP_FZ_FMA, l)),
        (Opcode::VFCmp, Imm::VFCmp((_, l))) => {
            lanes_denormal(fb, host, l, &args[..2]);
            None
        }
        (Opcode::VFcvtToInt, Imm::Lanes(l)) => {
            lanes_denormal(fb, host, l, &args[..1]);
            None
        }
        _ => None,
    };
    let Some((kind, l)) = fz else {
        return fast(fb, host, inst, args);
    };
    let Some(set) = fz_set(fb, host) else {
        return fast(fb, host, inst, args);
    };
    let lanewise = |fb: &mut FunctionBuilder, host: &mut dyn FpHost| {
        let vt = fvty(l);
        let v: Vec<ClValue> = args
            .iter()
            .map(|&x| fb.ins().bitcast(vt, le(), x))
            .collect();
        let mut r = v[0];
        for k in 0..vt.lane_count() as u8 {
            let lanes: Vec<ClValue> = v.iter().map(|&x| fb.ins().extractlane(x, k)).collect();
            let s = fz_op(fb, host, kind, &lanes, vt.lane_type());
            r = fb.ins().insertlane(r, s, k);
        }
        fb.ins().bitcast(types::I8X16, le(), r)
    };
    with_cold(
        fb,
        host,
        set,
        types::I8X16,
        |fb, host| fast(fb, host, inst, args),
        lanewise,
    )
}

/// With FPCR.FZ set, raises IDC when a lane of `args` is denormal.
fn lanes_denormal(fb: &mut FunctionBuilder, host: &mut dyn FpHost, l: Lanes, args: &[ClValue]) {
    let vt = fvty(l);
    let lanes: Vec<ClValue> = args
        .iter()
        .flat_map(|&x| {
            let v = fb.ins().bitcast(vt, le(), x);
            (0..vt.lane_count() as u8)
                .map(|k| fb.ins().extractlane(v, k))
                .collect::<Vec<_>>()
        })
        .collect();
    input_denormal(fb, host, &lanes);
}

/// The inline lowering.
fn fast(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    inst: &InstData,
    args: &[ClValue],
) -> ClValue {
    let r = match (inst.op, inst.imm) {
        (Opcode::VFBin, Imm::VFBin((op, l))) => {
            let vt = fvty(l);
            let a = fb.ins().bitcast(vt, le(), args[0]);
            let b = fb.ins().bitcast(vt, le(), args[1]);
            let r = match op {
                FBinOp::Add => fb.ins().fadd(a, b),
                FBinOp::Sub => fb.ins().fsub(a, b),
                FBinOp::Mul => fb.ins().fmul(a, b),
                FBinOp::Div => fb.ins().fdiv(a, b),
                _ => unreachable!("vfbin {op:?}: only the IEEE arithmetic ops are packed"),
            };
            let tiny = matches!(op, FBinOp::Mul | FBinOp::Div);
            checked(fb, host, r, tiny, |fb, host, k| {
                let x = fb.ins().extractlane(a, k);
                let y = fb.ins().extractlane(b, k);
                binary(fb, host, op, x, y)
            })
        }
        (Opcode::VFsqrt, Imm::Lanes(l)) => {
            let a = fb.ins().bitcast(fvty(l), le(), args[0]);
            let r = fb.ins().sqrt(a);
            checked(fb, host, r, false, |fb, host, k| {
                let x = fb.ins().extractlane(a, k);
                checked_sqrt(fb, host, x)
            })
        }
        (Opcode::VFma, Imm::Lanes(l)) => {
            let vt = fvty(l);
            let v: [ClValue; 3] = std::array::from_fn(|i| fb.ins().bitcast(vt, le(), args[i]));
            let lane = |how: How| {
                move |fb: &mut FunctionBuilder, host: &mut dyn FpHost, k: u8| {
                    let x = fb.ins().extractlane(v[0], k);
                    let y = fb.ins().extractlane(v[1], k);
                    let z = fb.ins().extractlane(v[2], k);
                    fp_fma::fused_by(fb, host, how, x, y, z)
                }
            };
            // No packed emulation: every lane goes through the scalar one.
            let emulated = |fb: &mut FunctionBuilder, host: &mut dyn FpHost| {
                let mut r = v[2];
                for k in 0..vt.lane_count() as u8 {
                    let s = lane(How::Emulated)(fb, host, k);
                    r = fb.ins().insertlane(r, s, k);
                }
                r
            };
            if host.has_fma() {
                let r = fb.ins().fma(v[0], v[1], v[2]);
                checked(fb, host, r, true, lane(How::Inline))
            } else {
                let set = fp_fma::host_fma_set(fb, host.cpu());
                let clear = fb.ins().icmp_imm_u(ClCC::Equal, set, 0);
                with_cold(
                    fb,
                    host,
                    clear,
                    vt,
                    |fb, host| {
                        let r = fp_fma::stub(fb, host, v[0], v[1], v[2]);
                        checked(fb, host, r, true, lane(How::Stub))
                    },
                    emulated,
                )
            }
        }
        (Opcode::VFCmp, Imm::VFCmp((cc, l))) => {
            // CMPPS/CMPPD predicates EQ_OQ (quiet), LT_OS and LE_OS
            // (signalling) are Arm's FCMEQ and FCMGT/FCMGE rules;
            // Cranelift swaps the operands for greater-than.
            let vt = fvty(l);
            let a = fb.ins().bitcast(vt, le(), args[0]);
            let b = fb.ins().bitcast(vt, le(), args[1]);
            let r = fb.ins().fcmp(super::lower_fp::float_cc(cc), a, b);
            // The compare signals IOC: compute it here (see `pin`).
            let any = fb.ins().vany_true(r);
            pin(fb, any);
            r
        }
        (Opcode::VIntToF, Imm::Lanes(Lanes::I32x4)) => {
            let a = fb.ins().bitcast(types::I32X4, le(), args[0]);
            let a = super::lower_fp::opaque(fb, host, a);
            let r = fb.ins().fcvt_from_sint(types::F32X4, a);
            let nan = fb.ins().fcmp(ClFCC::Unordered, r, r);
            let any = fb.ins().vany_true(nan);
            pin(fb, any);
            r
        }
        (Opcode::VFcvtToInt, Imm::Lanes(Lanes::I32x4)) => {
            // CVTTPS2DQ signals invalid (out of range) and inexact as Arm
            // does; Cranelift's saturating sequence zeroes NaN lanes before
            // it, so a NaN lane's IOC is raised here.
            let a = fb.ins().bitcast(types::F32X4, le(), args[0]);
            let r = fb.ins().fcvt_to_sint_sat(types::I32X4, a);
            let nan = fb.ins().fcmp(ClFCC::Unordered, a, a);
            // The conversion's own flags are raised here (see `pin`).
            let min = fb.ins().iconst(types::I32, i64::from(i32::MIN));
            let min = fb.ins().splat(types::I32X4, min);
            let sat = fb
                .ins()
                .icmp(cranelift_codegen::ir::condcodes::IntCC::Equal, r, min);
            let sat = fb.ins().vany_true(sat);
            pin(fb, sat);
            let any = fb.ins().vany_true(nan);
            super::lower_fp::lower_raise(fb, host, any, u64::from(vmxlate_abi::FPSR_IOC));
            r
        }
        (op, imm) => unreachable!("not a packed FP op: {op:?} {imm:?}"),
    };
    fb.ins().bitcast(types::I8X16, le(), r)
}

/// `r`, or, when a lane is NaN (or with `tiny` of the smallest normal
/// magnitude), every lane recomputed by `lane` on a cold path.
fn checked(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    r: ClValue,
    tiny: bool,
    lane: impl Fn(&mut FunctionBuilder, &mut dyn FpHost, u8) -> ClValue,
) -> ClValue {
    let vt = fb.func.dfg.value_type(r);
    let mut mask = fb.ins().fcmp(ClFCC::Unordered, r, r);
    if tiny {
        let abs = fb.ins().fabs(r);
        let min = Fmt::of(vt.lane_type()).min_normal(fb);
        let min = fb.ins().splat(vt, min);
        let eq = fb.ins().fcmp(ClFCC::Equal, abs, min);
        mask = fb.ins().bor(mask, eq);
    }
    let any = fb.ins().vany_true(mask);
    let cold = fb.create_block();
    let join = fb.create_block();
    let out = fb.append_block_param(join, vt);
    fb.ins().brif(any, cold, &[], join, &[BlockArg::Value(r)]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    let mut v = r;
    for k in 0..vt.lane_count() as u8 {
        let s = lane(fb, host, k);
        v = fb.ins().insertlane(v, s, k);
    }
    fb.ins().jump(join, &[BlockArg::Value(v)]);
    fb.switch_to_block(join);
    out
}
