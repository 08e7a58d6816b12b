//! Lowering of scalar floating-point IR ops to Cranelift, with Arm
//! semantics where x86-64 differs.
//!
//! The environment: the runtime keeps the host MXCSR equal to the guest's
//! FPCR (rounding mode, FZ as FTZ+DAZ; `runtime/src/fpu.rs`), so SSE
//! arithmetic rounds and flushes as the guest asks and MXCSR's sticky
//! flags are the guest's FPSR exception bits. What x86 does differently is
//! fixed up here, on cold paths entered by one compare and branch per op:
//! - NaN results: x86 returns its negative "indefinite" NaN for invalid
//!   operations and picks the first *source* NaN; Arm returns the positive
//!   default NaN, prefers signalling over quiet NaNs in operand order, and
//!   with FPCR.DN returns the default NaN for every NaN result. When a
//!   result is NaN, [`arm_nan`] recomputes it from the operands.
//! - Tininess: Arm detects underflow before rounding, x86 after; they
//!   differ only when the rounded result is the smallest normal number,
//!   so a result of that magnitude (from multiply, divide, FMA or
//!   narrowing) goes to the `vmx_fp_tiny` helper.
//! - FMIN/FMAX: Cranelift's `fmin`/`fmax` order -0 below +0; FMINNM/FMAXNM
//!   give the number when exactly one operand is a quiet NaN.
//! - FP->int conversions round as asked, then saturate with NaN -> 0
//!   (`fcvt_to_*_sat`); CVTTSD2SI raises invalid and inexact as Arm does.
//!   Ties-away rounding is `trunc` plus a step away from zero when the
//!   dropped fraction is at least one half. FRINTX/FRINTI select among the
//!   four directed roundings by FPCR.RMode. ROUNDSD signals inexact, which
//!   FRINTN/P/M/Z/A/I must not: they round with exact integer operations.
//! - Fused multiply-add: see [`super::fp_fma`].
//! - FPCR.FZ: x86's DAZ/FTZ flush silently and after rounding. Each
//!   arithmetic op tests FZ first and, when set, is computed by the
//!   runtime on a cold path (`with_fz`, `runtime/src/fpu/fz.rs`);
//!   compares, conversions and FRINT only report denormal inputs (IDC).
//!   Where the host knows FZ is clear ([`FpHost::fz_clear`]: the lowerer
//!   tests it once at the start of a block with several such ops and
//!   lowers the block twice) nothing is tested.
//! - Flags of ops with no branch of their own: Cranelift computes pure
//!   ops where their result is first used, possibly after an MRS FPSR;
//!   `pin` makes them happen in program order.

use cranelift_codegen::ir::{
    condcodes::FloatCC as ClFCC, condcodes::IntCC as ClCC, types, BlockArg, Endianness,
    InstBuilder, MemFlagsData, Opcode as ClOpcode, Type as ClType, Value as ClValue, ValueDef,
};
use cranelift_frontend::FunctionBuilder;
use vmxlate_abi as abi;

use super::env::Helper;
use super::fp_fma;
use super::types::cl_type;
use crate::ir::{FBinOp, FEst, FloatCC, Imm, InstData, Opcode, Round};

/// What FP lowering needs from the function being built: the `CpuState`
/// pointer (FPCR, FPSR) and calls to runtime helpers.
pub trait FpHost {
    /// The `CpuState` pointer.
    fn cpu(&self) -> ClValue;
    /// Whether the host has fused multiply-add instructions.
    fn has_fma(&self) -> bool;
    /// Calls runtime helper `h` with `args`; its result, if it has one.
    fn call(&mut self, fb: &mut FunctionBuilder, h: Helper, args: &[ClValue]) -> Option<ClValue>;
    /// The guest's FPCR (an i32). By default loaded from `CpuState`; the
    /// lowerer keeps it in a variable instead.
    fn fpcr(&mut self, fb: &mut FunctionBuilder) -> ClValue {
        let cpu = self.cpu();
        fb.ins()
            .load(types::I32, MemFlagsData::trusted(), cpu, abi::OFF_FPCR)
    }
    /// Whether FPCR.FZ is known to be clear where code is being emitted
    /// (then nothing tests it).
    fn fz_clear(&self) -> bool {
        false
    }
    /// Whether the op being lowered must raise its exception flags itself;
    /// false for a compare whose flags a sibling compare raises (see
    /// `lower::quiet_compare`).
    fn signals(&self) -> bool {
        true
    }
}

/// Flags for value bitcasts (lane order is little-endian, as on Arm).
pub(super) fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Bit-level facts about a float type.
#[derive(Clone, Copy)]
pub(super) struct Fmt {
    /// The float type.
    pub ty: ClType,
    /// The integer type of the same width.
    pub ity: ClType,
    /// The quiet bit.
    pub quiet: i64,
    /// Arm's default NaN.
    pub default_nan: i64,
}

impl Fmt {
    /// The format of float type `ty`.
    pub fn of(ty: ClType) -> Fmt {
        if ty == types::F32 {
            Fmt {
                ty,
                ity: types::I32,
                quiet: 1 << 22,
                default_nan: 0x7fc0_0000,
            }
        } else {
            Fmt {
                ty,
                ity: types::I64,
                quiet: 1 << 51,
                default_nan: 0x7ff8_0000_0000_0000,
            }
        }
    }

    /// The format of value `v`.
    pub fn of_value(fb: &FunctionBuilder, v: ClValue) -> Fmt {
        Fmt::of(fb.func.dfg.value_type(v))
    }

    /// A float constant of this type.
    pub fn constant(self, fb: &mut FunctionBuilder, v: f64) -> ClValue {
        if self.ty == types::F32 {
            fb.ins().f32const(v as f32)
        } else {
            fb.ins().f64const(v)
        }
    }

    /// A constant of this type with raw bits `bits`.
    fn bits_constant(self, fb: &mut FunctionBuilder, bits: u64) -> ClValue {
        if self.ty == types::F32 {
            fb.ins().f32const(f32::from_bits(bits as u32))
        } else {
            fb.ins().f64const(f64::from_bits(bits))
        }
    }

    /// The sign bit alone.
    fn sign_bit(self) -> u64 {
        1 << (self.ity.bits() - 1)
    }

    /// `|x|`, clearing the sign bit with a constant-pool mask (Cranelift's
    /// `fabs` builds its mask in a general register first).
    pub fn abs(self, fb: &mut FunctionBuilder, x: ClValue) -> ClValue {
        let mask = self.bits_constant(fb, self.sign_bit() - 1);
        fb.ins().band(x, mask)
    }

    /// `-x`, flipping the sign bit with a constant-pool mask.
    pub fn neg(self, fb: &mut FunctionBuilder, x: ClValue) -> ClValue {
        let sign = self.bits_constant(fb, self.sign_bit());
        fb.ins().bxor(x, sign)
    }

    /// `|mag|` with the sign of `sign`.
    pub fn copysign(self, fb: &mut FunctionBuilder, mag: ClValue, sign: ClValue) -> ClValue {
        let mag = self.abs(fb, mag);
        self.signed(fb, mag, sign)
    }

    /// `mag`, which has a clear sign bit, with the sign of `sign`.
    pub fn signed(self, fb: &mut FunctionBuilder, mag: ClValue, sign: ClValue) -> ClValue {
        let bit = self.bits_constant(fb, self.sign_bit());
        let s = fb.ins().band(sign, bit);
        fb.ins().bor(mag, s)
    }

    /// The smallest positive normal number.
    pub fn min_normal(self, fb: &mut FunctionBuilder) -> ClValue {
        if self.ty == types::F32 {
            fb.ins().f32const(f32::MIN_POSITIVE)
        } else {
            fb.ins().f64const(f64::MIN_POSITIVE)
        }
    }
}

/// Lowers one scalar FP op; `args` are its lowered operands.
pub fn lower(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    inst: &InstData,
    args: &[ClValue],
) -> ClValue {
    let ty = cl_type(inst.ty);
    let guarded;
    let args = if matches!(
        inst.op,
        Opcode::Fneg | Opcode::Fabs | Opcode::Fcmp | Opcode::Fjcvt
    ) {
        args
    } else {
        guarded = unfoldable(fb, host, args);
        &guarded[..]
    };
    match (inst.op, inst.imm) {
        (Opcode::FBin, Imm::FBin(op)) => with_fz(fb, host, fz_kind(op), args, ty, |fb, host| {
            binary(fb, host, op, args[0], args[1])
        }),
        (Opcode::Fsqrt, _) => with_fz(fb, host, abi::FP_FZ_SQRT, args, ty, |fb, host| {
            checked_sqrt(fb, host, args[0])
        }),
        (Opcode::Fneg, _) => Fmt::of_value(fb, args[0]).neg(fb, args[0]),
        (Opcode::Fabs, _) => Fmt::of_value(fb, args[0]).abs(fb, args[0]),
        (Opcode::Fma, _) => with_fz(fb, host, abi::FP_FZ_FMA, args, ty, |fb, host| {
            fp_fma::fused(fb, host, args[0], args[1], args[2])
        }),
        (Opcode::Fround, Imm::Round(mode)) => {
            let a = args[0];
            input_denormal(fb, host, &[a]);
            let r = match mode {
                Round::CurrentExact => round(fb, mode, a),
                _ => round_quiet(fb, host, mode, a),
            };
            checked(fb, host, r, None, |fb, host| arm_nan(fb, host, &[a]))
        }
        (Opcode::Fcmp, Imm::FloatCC(cc)) => {
            let signals = host.signals();
            if signals {
                input_denormal(fb, host, &args[..2]);
            }
            let r = fb.ins().fcmp(float_cc(cc), args[0], args[1]);
            if signals {
                // The compare signals IOC for a signalling NaN (see `pin`).
                pin(fb, r);
            }
            r
        }
        (Opcode::Fconvert, _) => {
            if fb.func.dfg.value_type(args[0]).bits() < ty.bits() {
                input_denormal(fb, host, &args[..1]);
                convert(fb, host, ty, args[0])
            } else {
                with_fz(fb, host, abi::FP_FZ_NARROW, args, ty, |fb, host| {
                    convert(fb, host, ty, args[0])
                })
            }
        }
        (Opcode::FcvtToInt, Imm::FcvtInt((signed, mode))) => {
            input_denormal(fb, host, &args[..1]);
            to_int(fb, host, ty, args[0], signed, mode)
        }
        (Opcode::IntToF, Imm::Signed(signed)) => {
            let r = int_to_float(fb, host, ty, args[0], signed);
            let nan = fb.ins().fcmp(ClFCC::Unordered, r, r);
            pin(fb, nan);
            r
        }
        (Opcode::FEstimate, Imm::FEst(e)) => {
            let f = Fmt::of(ty);
            let mut kind = match e {
                FEst::RecipEst => abi::FP_EST_RECPE,
                FEst::RsqrtEst => abi::FP_EST_RSQRTE,
                FEst::Recpx => abi::FP_EST_RECPX,
            };
            if ty == types::F32 {
                kind |= abi::FP_KIND_SINGLE;
            }
            let bits = fb.ins().bitcast(f.ity, le(), args[0]);
            let bits = if f.ity == types::I32 {
                fb.ins().uextend(types::I64, bits)
            } else {
                bits
            };
            let cpu = host.cpu();
            let k = fb.ins().iconst(types::I32, i64::from(kind));
            let r = host.call(fb, Helper::FpEstimate, &[cpu, k, bits]);
            let r = r.expect("helper result");
            let r = if f.ity == types::I32 {
                fb.ins().ireduce(types::I32, r)
            } else {
                r
            };
            fb.ins().bitcast(ty, le(), r)
        }
        (Opcode::HalfToF, _) => {
            let h = fb.ins().uextend(types::I32, args[0]);
            let cpu = host.cpu();
            let r = host.call(fb, Helper::F16ToF64, &[cpu, h]);
            let r = r.expect("helper result");
            if ty == types::F32 {
                // Exact: every half is a float.
                fb.ins().fdemote(types::F32, r)
            } else {
                r
            }
        }
        (Opcode::FToHalf, _) => {
            let x = args[0];
            // Promoting a single flushes it silently under FZ.
            input_denormal(fb, host, &[x]);
            let x = if fb.func.dfg.value_type(x) == types::F32 {
                fb.ins().fpromote(types::F64, x)
            } else {
                x
            };
            let cpu = host.cpu();
            let r = host.call(fb, Helper::F64ToF16, &[cpu, x]);
            fb.ins().ireduce(types::I16, r.expect("helper result"))
        }
        (Opcode::Fjcvt, _) => {
            let bits = fb.ins().bitcast(types::I64, le(), args[0]);
            let cpu = host.cpu();
            let r = host.call(fb, Helper::Fjcvtzs, &[cpu, bits]);
            r.expect("helper result")
        }
        (op, imm) => unreachable!("not a scalar FP op: {op:?} {imm:?}"),
    }
}

/// Whether Cranelift sees `v` as a compile-time constant: a constant, or a
/// pure instruction of constants (up to a small depth).
pub(super) fn is_constant(fb: &FunctionBuilder, v: ClValue, depth: u32) -> bool {
    let dfg = &fb.func.dfg;
    let ValueDef::Result(inst, _) = dfg.value_def(v) else {
        return false;
    };
    let op = dfg.insts[inst].opcode();
    if matches!(
        op,
        ClOpcode::Iconst | ClOpcode::F32const | ClOpcode::F64const | ClOpcode::Vconst
    ) {
        return true;
    }
    if depth == 0
        || op.can_load()
        || op.can_store()
        || op.is_call()
        || op.other_side_effects()
        || op.can_trap()
    {
        return false;
    }
    let args = dfg.inst_args(inst);
    !args.is_empty() && args.iter().all(|a| is_constant(fb, *a, depth - 1))
}

/// The operands of an FP op, with the first made opaque when all of them
/// are constants: Cranelift folds FP arithmetic on constants at compile
/// time, rounding to nearest and raising no exception flags, but the
/// guest's FPCR and FPSR are only known at run time.
fn unfoldable(fb: &mut FunctionBuilder, host: &mut dyn FpHost, args: &[ClValue]) -> Vec<ClValue> {
    let mut out = args.to_vec();
    if args.is_empty() || !args.iter().all(|a| is_constant(fb, *a, 8)) {
        return out;
    }
    let v = out[0];
    let t = fb.func.dfg.value_type(v);
    if t.is_vector() {
        return out;
    }
    // FPCR bit 31 is RES0: a zero Cranelift cannot see through.
    let fpcr = fpcr(fb, host);
    let zero = fb.ins().ushr_imm_u(fpcr, 31);
    let it = if t.is_float() { Fmt::of(t).ity } else { t };
    let zero = match it.bits().cmp(&32) {
        std::cmp::Ordering::Greater => fb.ins().uextend(it, zero),
        std::cmp::Ordering::Less => fb.ins().ireduce(it, zero),
        std::cmp::Ordering::Equal => zero,
    };
    let bits = if t.is_float() {
        fb.ins().bitcast(it, le(), v)
    } else {
        v
    };
    let bits = fb.ins().bor(bits, zero);
    out[0] = if t.is_float() {
        fb.ins().bitcast(t, le(), bits)
    } else {
        bits
    };
    out
}

/// Square root with Arm's NaN rules.
pub(super) fn checked_sqrt(fb: &mut FunctionBuilder, host: &mut dyn FpHost, a: ClValue) -> ClValue {
    let r = fb.ins().sqrt(a);
    checked(fb, host, r, None, |fb, host| arm_nan(fb, host, &[a]))
}

/// Lowers `FpRaise`: ORs the FPSR bits into `CpuState::fpsr` on a cold
/// path when the condition holds.
pub fn lower_raise(fb: &mut FunctionBuilder, host: &mut dyn FpHost, cond: ClValue, bits: u64) {
    let cold = fb.create_block();
    let join = fb.create_block();
    fb.ins().brif(cond, cold, &[], join, &[]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    raise(fb, host, bits as u32);
    fb.ins().jump(join, &[]);
    fb.switch_to_block(join);
}

/// Sets the FPSR cumulative bits `bits` (software-sticky, next to the
/// host's flags).
pub(super) fn raise(fb: &mut FunctionBuilder, host: &mut dyn FpHost, bits: u32) {
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let old = fb.ins().load(types::I32, flags, cpu, abi::OFF_FPSR);
    let new = fb.ins().bor_imm_u(old, i64::from(bits));
    fb.ins().store(flags, new, cpu, abi::OFF_FPSR);
}

/// The guest's FPCR (an i32).
pub(super) fn fpcr(fb: &mut FunctionBuilder, host: &mut dyn FpHost) -> ClValue {
    host.fpcr(fb)
}

/// `fast`'s value computed inline, or when `cold_if` is set `cold`'s on a
/// cold path: the two meet in a join block taking a value of type `ty`.
pub(super) fn with_cold(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    cold_if: ClValue,
    ty: ClType,
    fast: impl FnOnce(&mut FunctionBuilder, &mut dyn FpHost) -> ClValue,
    cold: impl FnOnce(&mut FunctionBuilder, &mut dyn FpHost) -> ClValue,
) -> ClValue {
    let cold_b = fb.create_block();
    let fast_b = fb.create_block();
    let join = fb.create_block();
    let out = fb.append_block_param(join, ty);
    fb.ins().brif(cold_if, cold_b, &[], fast_b, &[]);
    fb.switch_to_block(fast_b);
    let r = fast(fb, host);
    fb.ins().jump(join, &[BlockArg::Value(r)]);
    fb.set_cold_block(cold_b);
    fb.switch_to_block(cold_b);
    let r = cold(fb, host);
    fb.ins().jump(join, &[BlockArg::Value(r)]);
    fb.switch_to_block(join);
    out
}

/// Operands of an op whose result may be tiny-before-rounding on Arm:
/// the `vmx_fp_tiny` kind and up to three operands.
pub(super) struct Tiny {
    /// `abi::FP_TINY_*`.
    pub kind: u32,
    /// The operands (unused ones are ignored by the helper).
    pub ops: Vec<ClValue>,
}

/// `r`, or the result of a cold path when `r` is a NaN (`nan` computes
/// Arm's NaN) or, with `tiny`, the smallest normal number in magnitude.
pub(super) fn checked(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    r: ClValue,
    tiny: Option<Tiny>,
    nan: impl FnOnce(&mut FunctionBuilder, &mut dyn FpHost) -> ClValue,
) -> ClValue {
    let f = Fmt::of_value(fb, r);
    let cond = if tiny.is_some() {
        let abs = f.abs(fb, r);
        let min = f.min_normal(fb);
        fb.ins().fcmp(ClFCC::UnorderedOrEqual, abs, min)
    } else {
        fb.ins().fcmp(ClFCC::Unordered, r, r)
    };
    let cold = fb.create_block();
    let join = fb.create_block();
    let out = fb.append_block_param(join, f.ty);
    fb.ins().brif(cond, cold, &[], join, &[BlockArg::Value(r)]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    match tiny {
        None => {
            let v = nan(fb, host);
            fb.ins().jump(join, &[BlockArg::Value(v)]);
        }
        Some(t) => {
            let is_nan = fb.ins().fcmp(ClFCC::Unordered, r, r);
            let nan_b = fb.create_block();
            let tiny_b = fb.create_block();
            fb.ins().brif(is_nan, nan_b, &[], tiny_b, &[]);
            fb.set_cold_block(nan_b);
            fb.set_cold_block(tiny_b);
            fb.switch_to_block(nan_b);
            let v = nan(fb, host);
            fb.ins().jump(join, &[BlockArg::Value(v)]);
            fb.switch_to_block(tiny_b);
            let v = tiny_fixup(fb, host, t, r);
            fb.ins().jump(join, &[BlockArg::Value(v)]);
        }
    }
    fb.switch_to_block(join);
    out
}

/// Calls `vmx_fp_tiny` for a result `r` of the smallest normal magnitude
/// (arguments and result through `CpuState::fp_tmp`).
fn tiny_fixup(fb: &mut FunctionBuilder, host: &mut dyn FpHost, t: Tiny, r: ClValue) -> ClValue {
    let single = fb.func.dfg.value_type(r) == types::F32;
    let cpu = host.cpu();
    let flags = MemFlagsData::trusted();
    let kind = t.kind | if single { abi::FP_KIND_SINGLE } else { 0 };
    let k = fb.ins().iconst(types::I64, i64::from(kind));
    fb.ins().store(flags, k, cpu, abi::OFF_FP_TMP);
    let ops = t
        .ops
        .iter()
        .copied()
        .chain(std::iter::repeat_n(r, 3 - t.ops.len()));
    for (slot, v) in ops.chain([r]).enumerate() {
        let v = if fb.func.dfg.value_type(v) == types::F32 {
            fb.ins().fpromote(types::F64, v)
        } else {
            v
        };
        fb.ins()
            .store(flags, v, cpu, abi::OFF_FP_TMP + 8 * (slot as i32 + 1));
    }
    host.call(fb, Helper::FpTiny, &[cpu]);
    let v = fb.ins().load(types::F64, flags, cpu, abi::OFF_FP_TMP + 40);
    if single {
        fb.ins().fdemote(types::F32, v)
    } else {
        v
    }
}

/// Arm's NaN result for operands `ops` (in the pseudocode's order): the
/// first signalling NaN, else the first quiet NaN, quietened; the default
/// NaN when no operand is a NaN (an invalid operation) or FPCR.DN is set.
/// (Signalling NaNs raised IOC in the host operation already.)
pub(super) fn arm_nan(fb: &mut FunctionBuilder, host: &mut dyn FpHost, ops: &[ClValue]) -> ClValue {
    let f = Fmt::of_value(fb, ops[0]);
    let dn = fb.ins().iconst(f.ity, f.default_nan);
    let info: Vec<ColdBits> = ops.iter().map(|&op| cold_bits(fb, host, op)).collect();
    let mut r = dn;
    for c in info.iter().rev() {
        r = fb.ins().select(c.nan, c.quietened, r);
    }
    for c in info.iter().rev() {
        r = fb.ins().select(c.snan, c.quietened, r);
    }
    let r = default_nan_if_dn(fb, host, f, r);
    fb.ins().bitcast(f.ty, le(), r)
}

/// An operand's bits and NaN class, computed on a cold path.
pub(super) struct ColdBits {
    /// Is a NaN.
    pub nan: ClValue,
    /// Is a signalling NaN.
    pub snan: ClValue,
    /// The bits with the quiet bit set.
    pub quietened: ClValue,
}

/// Classifies `op` with integer operations on bits that depend on a load
/// made here: Cranelift would otherwise hoist this cold-path work on
/// loop-invariant operands out of loops, where it costs registers.
pub(super) fn cold_bits(fb: &mut FunctionBuilder, host: &mut dyn FpHost, op: ClValue) -> ColdBits {
    let f = Fmt::of_value(fb, op);
    let fpcr = fpcr(fb, host);
    // FPCR bit 31 is RES0: a zero Cranelift cannot see through.
    let zero = fb.ins().ushr_imm_u(fpcr, 31);
    let zero = if f.ity == types::I64 {
        fb.ins().uextend(types::I64, zero)
    } else {
        zero
    };
    let bits = fb.ins().bitcast(f.ity, le(), op);
    let bits = fb.ins().bor(bits, zero);
    let magnitude = fb.ins().band_imm_s(bits, !(1i64 << (f.ity.bits() - 1)));
    let inf = if f.ity == types::I64 {
        0x7ff0_0000_0000_0000
    } else {
        0x7f80_0000
    };
    let nan = fb.ins().icmp_imm_s(ClCC::SignedGreaterThan, magnitude, inf);
    let q = fb.ins().band_imm_s(bits, f.quiet);
    let signalling = fb.ins().icmp_imm_s(ClCC::Equal, q, 0);
    let snan = fb.ins().band(nan, signalling);
    let quietened = fb.ins().bor_imm_s(bits, f.quiet);
    ColdBits {
        nan,
        snan,
        quietened,
    }
}

/// `bits` (of format `f`), or the default NaN when FPCR.DN is set.
fn default_nan_if_dn(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    f: Fmt,
    bits: ClValue,
) -> ClValue {
    let fpcr = fpcr(fb, host);
    let dn_bit = fb.ins().band_imm_u(fpcr, i64::from(abi::FPCR_DN));
    let dn_on = fb.ins().icmp_imm_u(ClCC::NotEqual, dn_bit, 0);
    let dn = fb.ins().iconst(f.ity, f.default_nan);
    fb.ins().select(dn_on, dn, bits)
}

/// FCVT between single and double: x86 converts NaN payloads as Arm does
/// (top fraction bits kept, quietened); only FPCR.DN needs a fix-up, and
/// narrowing can be tiny before rounding.
fn convert(fb: &mut FunctionBuilder, host: &mut dyn FpHost, to: ClType, a: ClValue) -> ClValue {
    let widen = fb.func.dfg.value_type(a).bits() < to.bits();
    let r = if widen {
        fb.ins().fpromote(to, a)
    } else {
        fb.ins().fdemote(to, a)
    };
    let tiny = (!widen).then(|| Tiny {
        kind: abi::FP_TINY_NARROW,
        ops: vec![a],
    });
    checked(fb, host, r, tiny, |fb, host| {
        let f = Fmt::of(to);
        let bits = fb.ins().bitcast(f.ity, le(), r);
        let bits = default_nan_if_dn(fb, host, f, bits);
        fb.ins().bitcast(f.ty, le(), bits)
    })
}

/// Ends the block with a branch on `cond` to an empty cold block: the
/// values `cond` depends on are then computed here, before any later
/// FPSR read or FPCR write. Cranelift treats FP arithmetic as pure and
/// would otherwise compute it where its result is first used, possibly
/// after the guest read the flags it raises.
pub(super) fn pin(fb: &mut FunctionBuilder, cond: ClValue) {
    let cold = fb.create_block();
    let join = fb.create_block();
    fb.ins().brif(cond, cold, &[], join, &[]);
    fb.set_cold_block(cold);
    fb.switch_to_block(cold);
    fb.ins().jump(join, &[]);
    fb.switch_to_block(join);
}

/// Cranelift's predicate for `cc`.
pub(super) fn float_cc(cc: FloatCC) -> ClFCC {
    match cc {
        FloatCC::Eq => ClFCC::Equal,
        FloatCC::Lt => ClFCC::LessThan,
        FloatCC::Le => ClFCC::LessThanOrEqual,
        FloatCC::Gt => ClFCC::GreaterThan,
        FloatCC::Ge => ClFCC::GreaterThanOrEqual,
        FloatCC::Unordered => ClFCC::Unordered,
        FloatCC::Ordered => ClFCC::Ordered,
        FloatCC::Ne => ClFCC::NotEqual,
        FloatCC::Ult => ClFCC::UnorderedOrLessThan,
        FloatCC::Ule => ClFCC::UnorderedOrLessThanOrEqual,
        FloatCC::Ugt => ClFCC::UnorderedOrGreaterThan,
        FloatCC::Uge => ClFCC::UnorderedOrGreaterThanOrEqual,
    }
}

/// `(|a| == inf && b == 0) || (a == 0 && |b| == inf)`: the operand pairs
/// whose product is invalid.
pub(super) fn inf_times_zero(fb: &mut FunctionBuilder, a: ClValue, b: ClValue) -> ClValue {
    let f = Fmt::of_value(fb, a);
    let inf = f.constant(fb, f64::INFINITY);
    let zero = f.constant(fb, 0.0);
    let aa = f.abs(fb, a);
    let ba = f.abs(fb, b);
    let a_inf = fb.ins().fcmp(ClFCC::Equal, aa, inf);
    let b_inf = fb.ins().fcmp(ClFCC::Equal, ba, inf);
    let a_zero = fb.ins().fcmp(ClFCC::Equal, a, zero);
    let b_zero = fb.ins().fcmp(ClFCC::Equal, b, zero);
    let x = fb.ins().band(a_inf, b_zero);
    let y = fb.ins().band(a_zero, b_inf);
    fb.ins().bor(x, y)
}

/// A scalar binary op with its fix-ups.
pub(super) fn binary(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    op: FBinOp,
    a: ClValue,
    b: ClValue,
) -> ClValue {
    let nan2 = |fb: &mut FunctionBuilder, host: &mut dyn FpHost| arm_nan(fb, host, &[a, b]);
    let tiny = |kind| {
        Some(Tiny {
            kind,
            ops: vec![a, b],
        })
    };
    match op {
        FBinOp::Add => {
            let r = fb.ins().fadd(a, b);
            checked(fb, host, r, None, nan2)
        }
        FBinOp::Sub => {
            let r = fb.ins().fsub(a, b);
            checked(fb, host, r, None, nan2)
        }
        FBinOp::Mul => {
            let r = fb.ins().fmul(a, b);
            checked(fb, host, r, tiny(abi::FP_TINY_MUL), nan2)
        }
        FBinOp::Div => {
            let r = fb.ins().fdiv(a, b);
            checked(fb, host, r, tiny(abi::FP_TINY_DIV), nan2)
        }
        FBinOp::Min => {
            let r = fb.ins().fmin(a, b);
            checked(fb, host, r, None, nan2)
        }
        FBinOp::Max => {
            let r = fb.ins().fmax(a, b);
            checked(fb, host, r, None, nan2)
        }
        FBinOp::MinNum | FBinOp::MaxNum => {
            let r = if op == FBinOp::MinNum {
                fb.ins().fmin(a, b)
            } else {
                fb.ins().fmax(a, b)
            };
            checked(fb, host, r, None, |fb, host| {
                // A quiet NaN against a number gives the number.
                let ca = cold_bits(fb, host, a);
                let cb = cold_bits(fb, host, b);
                let one8 = fb.ins().iconst(types::I8, 1);
                let quiet = |fb: &mut FunctionBuilder, c: &ColdBits| {
                    let not_s = fb.ins().bxor(c.snan, one8);
                    fb.ins().band(c.nan, not_s)
                };
                let (a_nan, a_q) = (ca.nan, quiet(fb, &ca));
                let (b_nan, b_q) = (cb.nan, quiet(fb, &cb));
                let n = arm_nan(fb, host, &[a, b]);
                let b_num = fb.ins().bxor(b_nan, one8);
                let a_num = fb.ins().bxor(a_nan, one8);
                let take_b = fb.ins().band(a_q, b_num);
                let take_a = fb.ins().band(b_q, a_num);
                let r = fb.ins().select(take_a, a, n);
                fb.ins().select(take_b, b, r)
            })
        }
        FBinOp::MulX => {
            // Infinity times zero is 2.0 with the sign of the product; the
            // host multiply then sees two zeros so it raises nothing.
            let special = inf_times_zero(fb, a, b);
            let f = Fmt::of_value(fb, a);
            let zero = f.constant(fb, 0.0);
            let a2 = fb.ins().select(special, zero, a);
            let b2 = fb.ins().select(special, zero, b);
            let r = fb.ins().fmul(a2, b2);
            let r = checked(fb, host, r, tiny(abi::FP_TINY_MUL), nan2);
            let two = f.constant(fb, 2.0);
            let ab = {
                let x = fb.ins().bitcast(f.ity, le(), a);
                let y = fb.ins().bitcast(f.ity, le(), b);
                let s = fb.ins().bxor(x, y);
                fb.ins().bitcast(f.ty, le(), s)
            };
            let two = f.signed(fb, two, ab);
            fb.ins().select(special, two, r)
        }
        FBinOp::RecipStep | FBinOp::RsqrtStep => {
            // FRECPS `2 - a*b`, FRSQRTS `(3 - a*b) / 2`, fused, with the
            // negated first operand in NaN processing; infinity times
            // zero gives exactly 2.0 (1.5) and raises nothing.
            let special = inf_times_zero(fb, a, b);
            let f = Fmt::of_value(fb, a);
            let zero = f.constant(fb, 0.0);
            let na = f.neg(fb, a);
            if op == FBinOp::RecipStep {
                let a2 = fb.ins().select(special, zero, na);
                let b2 = fb.ins().select(special, zero, b);
                let two = f.constant(fb, 2.0);
                return fp_fma::fused(fb, host, a2, b2, two);
            }
            // FRSQRTS rounds `(3 - a*b) / 2` once: when the product may
            // be large, the larger operand (at least 1.0, so exactly) is
            // halved instead of the result, as `1.5 - (a/2)*b` cannot
            // overflow where the halved result does not. NaNs compare
            // false and are never scaled.
            let one = f.constant(fb, 1.0);
            let half = f.constant(fb, 0.5);
            let aa = f.abs(fb, a);
            let ba = f.abs(fb, b);
            let a_big = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, aa, ba);
            let b_big = fb.ins().fcmp(ClFCC::LessThan, aa, ba);
            let a_one = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, aa, one);
            let b_one = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, ba, one);
            let half_a = fb.ins().band(a_big, a_one);
            let half_b = fb.ins().band(b_big, b_one);
            // Only the operand halved is multiplied (the other multiply
            // sees 1.0), so no tiny operand signals underflow.
            let xa = fb.ins().select(half_a, na, one);
            let yb = fb.ins().select(half_b, b, one);
            let na_h = fb.ins().fmul(xa, half);
            let b_h = fb.ins().fmul(yb, half);
            let x = fb.ins().select(half_a, na_h, na);
            let y = fb.ins().select(half_b, b_h, b);
            let x = fb.ins().select(special, zero, x);
            let y = fb.ins().select(special, zero, y);
            let scaled = fb.ins().bor(half_a, half_b);
            let three = f.constant(fb, 3.0);
            let one_half = f.constant(fb, 1.5);
            let c = fb.ins().select(scaled, one_half, three);
            let post = fb.ins().select(scaled, one, half);
            let r = fp_fma::fused(fb, host, x, y, c);
            fb.ins().fmul(r, post)
        }
    }
}

/// Rounds to an integral value without signalling inexact (FRINTN/P/M/Z/A
/// and FRINTI; ROUNDSD would signal it): the fraction bits are cleared
/// with integer operations and the result stepped by one, all exact.
/// Infinities, NaNs and values that are already integral by exponent go
/// through `x + 0.0`, which quietens (and signals) a signalling NaN.
fn round_quiet(
    fb: &mut FunctionBuilder,
    host: &mut dyn FpHost,
    mode: Round,
    x: ClValue,
) -> ClValue {
    let f = Fmt::of_value(fb, x);
    let width = i64::from(f.ity.bits());
    let (mbits, bias) = if f.ty == types::F32 {
        (23, 127)
    } else {
        (52, 1023)
    };
    let bits = fb.ins().bitcast(f.ity, le(), x);
    let e = fb.ins().ushr_imm_u(bits, mbits);
    let e = fb.ins().band_imm_s(e, (1 << (width - 1 - mbits)) - 1);
    let big = fb
        .ins()
        .icmp_imm_u(ClCC::UnsignedGreaterThanOrEqual, e, bias + mbits);
    let small = fb.ins().icmp_imm_u(ClCC::UnsignedLessThan, e, bias);
    let zero_i = fb.ins().iconst(f.ity, 0);
    let bits = fb.ins().select(big, zero_i, bits);
    let xs = fb.ins().bitcast(f.ty, le(), bits);
    // Fraction bits to clear: all but the sign below 1.0.
    let top = fb.ins().iconst(f.ity, bias + mbits);
    let sh = fb.ins().isub(top, e);
    let all = fb.ins().iconst(f.ity, width - 1);
    let sh = fb.ins().select(small, all, sh);
    let sh = fb.ins().select(big, zero_i, sh);
    let one_i = fb.ins().iconst(f.ity, 1);
    let mask = fb.ins().ishl(one_i, sh);
    let mask = fb.ins().iadd_imm_s(mask, -1);
    let t_bits = fb.ins().band_not(bits, mask);
    let t = fb.ins().bitcast(f.ty, le(), t_bits);
    let frac = fb.ins().fsub(xs, t); // exact
    let zero = f.constant(fb, 0.0);
    let half = f.constant(fb, 0.5);
    let one = f.constant(fb, 1.0);
    let away = f.signed(fb, one, xs);
    let afrac = f.abs(fb, frac);
    let step_away = |fb: &mut FunctionBuilder, up: ClValue| {
        let s = fb.ins().fadd(t, away);
        fb.ins().select(up, s, t)
    };
    let floor = |fb: &mut FunctionBuilder| {
        let up = fb.ins().fcmp(ClFCC::LessThan, frac, zero);
        let s = fb.ins().fsub(t, one);
        fb.ins().select(up, s, t)
    };
    let ceil = |fb: &mut FunctionBuilder| {
        let up = fb.ins().fcmp(ClFCC::GreaterThan, frac, zero);
        let s = fb.ins().fadd(t, one);
        fb.ins().select(up, s, t)
    };
    let nearest = |fb: &mut FunctionBuilder| {
        let above = fb.ins().fcmp(ClFCC::GreaterThan, afrac, half);
        let tie = fb.ins().fcmp(ClFCC::Equal, afrac, half);
        // The units bit is the lowest one kept (the exponent's lowest bit,
        // which is 1, for values in [1, 2)); zero below 1.0.
        let units = fb.ins().ushr(bits, sh);
        let units = fb.ins().band_imm_s(units, 1);
        let odd = fb.ins().icmp_imm_s(ClCC::NotEqual, units, 0);
        let one8 = fb.ins().iconst(types::I8, 1);
        let not_small = fb.ins().bxor(small, one8);
        let odd = fb.ins().band(odd, not_small);
        let tie_odd = fb.ins().band(tie, odd);
        let up = fb.ins().bor(above, tie_odd);
        step_away(fb, up)
    };
    let r = match mode {
        Round::Trunc => t,
        Round::Floor => floor(fb),
        Round::Ceil => ceil(fb),
        Round::Nearest => nearest(fb),
        Round::TiesAway => {
            let up = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, afrac, half);
            step_away(fb, up)
        }
        _ => {
            let fpcr = fpcr(fb, host);
            let rm = fb.ins().ushr_imm_u(fpcr, i64::from(abi::FPCR_RMODE_SHIFT));
            let rm = fb.ins().band_imm_u(rm, 3);
            let n = nearest(fb);
            let p = ceil(fb);
            let m = floor(fb);
            let is_p = fb.ins().icmp_imm_u(ClCC::Equal, rm, 1);
            let is_m = fb.ins().icmp_imm_u(ClCC::Equal, rm, 2);
            let is_n = fb.ins().icmp_imm_u(ClCC::Equal, rm, 0);
            let r = fb.ins().select(is_m, m, t);
            let r = fb.ins().select(is_p, p, r);
            fb.ins().select(is_n, n, r)
        }
    };
    let same = fb.ins().fadd(x, zero);
    fb.ins().select(big, same, r)
}

/// Rounds to an integral value (as a float) in `mode`, signalling inexact
/// as ROUNDSD does (FRINTX, and the FP->int conversions, where Arm
/// signals IXC too).
pub(super) fn round(fb: &mut FunctionBuilder, mode: Round, x: ClValue) -> ClValue {
    match mode {
        Round::Nearest => fb.ins().nearest(x),
        Round::Ceil => fb.ins().ceil(x),
        Round::Floor => fb.ins().floor(x),
        Round::Trunc => fb.ins().trunc(x),
        Round::TiesAway => {
            // |x - trunc(x)| is exact; NaN compares false and stays NaN.
            let f = Fmt::of_value(fb, x);
            let t = fb.ins().trunc(x);
            let frac = fb.ins().fsub(x, t);
            let frac = f.abs(fb, frac);
            let half = f.constant(fb, 0.5);
            let up = fb.ins().fcmp(ClFCC::GreaterThanOrEqual, frac, half);
            // The step is ±1 only when `t` is small (adding 1 to a large
            // `t` would signal inexact), else a zero of `t`'s sign, which
            // leaves every `t` as it is in every rounding mode.
            let one = f.constant(fb, 1.0);
            let zero = f.constant(fb, 0.0);
            let step = fb.ins().select(up, one, zero);
            let step = f.signed(fb, step, x);
            fb.ins().fadd(t, step)
        }
        // FRINTX: `(x + c) - c` with `c = ±2^52` (2^23 for f32) rounds in
        // the host's MXCSR mode, which is FPCR's, and signals inexact
        // exactly when the result differs from `x`; the sign of a zero
        // result is `x`'s. Values at least `c` in magnitude, infinities and
        // NaNs are integral already: they take `x + 0`, which quietens
        // (and signals) a signalling NaN, while the rounding adds see 0.
        Round::Current | Round::CurrentExact => {
            let f = Fmt::of_value(fb, x);
            let big = f.constant(
                fb,
                if f.ty == types::F32 {
                    8388608.0
                } else {
                    4503599627370496.0
                },
            );
            let ax = f.abs(fb, x);
            let small = fb.ins().fcmp(ClFCC::LessThan, ax, big);
            let zero = f.constant(fb, 0.0);
            let xs = fb.ins().select(small, x, zero);
            let xb = fb.ins().select(small, zero, x);
            let c = f.signed(fb, big, xs);
            let t = fb.ins().fadd(xs, c);
            let t = fb.ins().fsub(t, c);
            let t = f.copysign(fb, t, x);
            let same = fb.ins().fadd(xb, zero);
            fb.ins().select(small, t, same)
        }
    }
}

mod convert;
mod fz;
pub(super) use convert::opaque;
use convert::{int_to_float, to_int};
pub(super) use fz::{fz_kind, fz_op, fz_set, input_denormal, with_fz};

#[cfg(test)]
pub mod jit;
#[cfg(test)]
mod tests;
