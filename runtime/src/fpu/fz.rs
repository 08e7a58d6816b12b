//! Scalar FP arithmetic under FPCR.FZ, for the rare guests that set it.
//!
//! x86's DAZ and FTZ flush silently and after rounding: DAZ never reports
//! a flushed input, and FTZ raises inexact with underflow. Arm flushes
//! denormal inputs with IDC, and flushes an output whose exact value is
//! below the smallest normal (tininess before rounding) with UFC alone.
//! Translated code tests FZ before each arithmetic op and, when it is set,
//! calls [`compute`] (through `vmx_fp_tiny` with `FP_KIND_FZ`), which
//! computes with flushing off and restores the host's sticky flags, so
//! only Arm's flags are recorded (in `CpuState::fpsr`).
//!
//! Invariants: MXCSR is the same on return as on entry; results are
//! classified by their bits, never by FP compares (the guest's DAZ may be
//! in effect outside [`in_env`]).

use core::hint::black_box as bb;
use core::ops::{Add, Div, Mul, Neg, Sub};

use vmxlate_abi::{
    CpuState, FPCR_DN, FPCR_FZ, FPSR_DZC, FPSR_IDC, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC,
    FP_FZ_ADD, FP_FZ_DIV, FP_FZ_FMA, FP_FZ_MAX, FP_FZ_MAXNM, FP_FZ_MIN, FP_FZ_MINNM, FP_FZ_MUL,
    FP_FZ_MULX, FP_FZ_NARROW, FP_FZ_RECPS, FP_FZ_RSQRTS, FP_FZ_SQRT, FP_FZ_SUB, FP_KIND_SINGLE,
};

use super::{csr_for, getcsr, setcsr, CSR_FLAGS, CSR_RC};

/// MXCSR's precision (inexact) flag.
const PE: u32 = 1 << 5;

/// What [`compute`] needs of `f32` and `f64`.
trait Float:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    const MIN_NORMAL: Self;
    const ZERO: Self;
    const TWO: Self;
    const THREE: Self;
    const HALF: Self;
    const QUIET: u64;
    const DEFAULT_NAN: u64;
    const SIGN: u64;
    const INF: u64;
    fn from_u64(b: u64) -> Self;
    fn to_u64(self) -> u64;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    fn fma(self, b: Self, c: Self) -> Self;
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    fn is_subnormal(self) -> bool;
    fn is_sign_negative(self) -> bool;
}

macro_rules! float_impl {
    ($t:ty, $quiet:expr, $dn:expr, $sign:expr, $inf:expr) => {
        impl Float for $t {
            const MIN_NORMAL: Self = <$t>::MIN_POSITIVE;
            const ZERO: Self = 0.0;
            const TWO: Self = 2.0;
            const THREE: Self = 3.0;
            const HALF: Self = 0.5;
            const QUIET: u64 = $quiet;
            const DEFAULT_NAN: u64 = $dn;
            const SIGN: u64 = $sign;
            const INF: u64 = $inf;
            fn from_u64(b: u64) -> Self {
                <$t>::from_bits(b as _)
            }
            fn to_u64(self) -> u64 {
                u64::from(self.to_bits())
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn fma(self, b: Self, c: Self) -> Self {
                self.mul_add(b, c)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            fn is_subnormal(self) -> bool {
                <$t>::is_subnormal(self)
            }
            fn is_sign_negative(self) -> bool {
                <$t>::is_sign_negative(self)
            }
        }
    };
}

float_impl!(f32, 1 << 22, 0x7fc0_0000, 1 << 31, 0x7f80_0000);
float_impl!(
    f64,
    1 << 51,
    0x7ff8_0000_0000_0000,
    1 << 63,
    0x7ff0_0000_0000_0000
);

/// The operation `kind` (an `FP_FZ_*`, maybe with `FP_KIND_SINGLE`) on
/// the raw operand bits, under FZ: the result bits; Arm's flags are ORed
/// into `cpu.fpsr`.
pub(super) fn compute(cpu: &mut CpuState, kind: u32, a: u64, b: u64, c: u64) -> u64 {
    let op = kind & 0xff;
    // Operands the op does not have are whatever an earlier helper call
    // left in `CpuState::fp_tmp`: zero them, since the compiler may
    // evaluate NaN tests on them speculatively (UCOMISD of a signalling
    // NaN raises the host's invalid flag, which would become IOC).
    let b = if matches!(op, FP_FZ_SQRT | FP_FZ_NARROW) {
        0
    } else {
        b
    };
    let c = if op == FP_FZ_FMA { c } else { 0 };
    let (r, flags) = if op == FP_FZ_NARROW {
        narrow(cpu.fpcr, a)
    } else if kind & FP_KIND_SINGLE != 0 {
        let f = f32::from_u64;
        arith(cpu.fpcr, op, f(a), f(b), f(c))
    } else {
        let f = f64::from_u64;
        arith(cpu.fpcr, op, f(a), f(b), f(c))
    };
    cpu.fpsr |= flags;
    r
}

/// Arm's NaN result of `ops` (in priority order) and its flags, if one is
/// a NaN: the first signalling NaN, else the first quiet one, quietened;
/// the default NaN under FPCR.DN.
fn process_nans<F: Float>(fpcr: u32, ops: &[F]) -> Option<(u64, u32)> {
    let snan = ops
        .iter()
        .find(|x| x.is_nan() && x.to_u64() & F::QUIET == 0);
    let nan = snan.or_else(|| ops.iter().find(|x| x.is_nan()))?;
    let flags = if snan.is_some() { FPSR_IOC } else { 0 };
    let r = if fpcr & FPCR_DN != 0 {
        F::DEFAULT_NAN
    } else {
        nan.to_u64() | F::QUIET
    };
    Some((r, flags))
}

/// `x` flushed to zero when denormal, and IDC if it was.
fn flush<F: Float>(x: F) -> (F, u32) {
    if x.is_subnormal() {
        let z = if x.is_sign_negative() {
            -F::ZERO
        } else {
            F::ZERO
        };
        (z, FPSR_IDC)
    } else {
        (x, 0)
    }
}

/// Arm flags for MXCSR flags (underflow excluded: tiny results are
/// flushed before these are looked at).
fn arm_flags(csr: u32) -> u32 {
    let mut f = 0;
    for (bit, arm) in [(0, FPSR_IOC), (2, FPSR_DZC), (3, FPSR_OFC), (5, FPSR_IXC)] {
        if csr & (1 << bit) != 0 {
            f |= arm;
        }
    }
    f
}

/// Runs `f` with MXCSR set for `fpcr` without flushing (flags clear) and
/// `rc` overriding the rounding control when given; the result and the
/// flags it raised. MXCSR is restored.
fn in_env<T>(fpcr: u32, rc: Option<u32>, f: impl FnOnce() -> T) -> (T, u32) {
    let saved = getcsr();
    let mut csr = csr_for(fpcr & !FPCR_FZ);
    if let Some(rc) = rc {
        csr = (csr & !CSR_RC) | (rc << 13);
    }
    setcsr(csr);
    let r = bb(f());
    let flags = getcsr() & CSR_FLAGS;
    setcsr(saved);
    (r, flags)
}

/// Arithmetic under FZ; see [`compute`].
fn arith<F: Float>(fpcr: u32, op: u32, a: F, b: F, c: F) -> (u64, u32) {
    let (mut a, mut b) = (a, b);
    if matches!(op, FP_FZ_RECPS | FP_FZ_RSQRTS) {
        a = -a;
    }
    // FMINNM/FMAXNM: a quiet NaN against a number loses (it becomes the
    // infinity the number always beats).
    let qnan = |x: F| x.is_nan() && x.to_u64() & F::QUIET != 0;
    if matches!(op, FP_FZ_MINNM | FP_FZ_MAXNM) {
        let inf = F::from_u64(if op == FP_FZ_MINNM {
            F::INF
        } else {
            F::INF | F::SIGN
        });
        if qnan(a) && !b.is_nan() {
            a = inf;
        } else if qnan(b) && !a.is_nan() {
            b = inf;
        }
    }
    let nans = match op {
        FP_FZ_SQRT => process_nans(fpcr, &[a]),
        FP_FZ_FMA => process_nans(fpcr, &[c, a, b]),
        _ => process_nans(fpcr, &[a, b]),
    };
    let (a, fa) = flush(a);
    let (b, fb) = if op == FP_FZ_SQRT { (b, 0) } else { flush(b) };
    let (c, fc) = if op == FP_FZ_FMA { flush(c) } else { (c, 0) };
    let idc = fa | fb | fc;
    let inf_zero = (a.is_infinite() && b == F::ZERO) || (a == F::ZERO && b.is_infinite());
    if let Some((r, flags)) = nans {
        if op == FP_FZ_FMA && qnan(c) && inf_zero {
            return (F::DEFAULT_NAN, flags | FPSR_IOC | idc);
        }
        return (r, flags | idc);
    }
    let min_max = |min: bool| {
        let r = if a == b {
            // Equal: zeros of either sign; FMIN prefers -0, FMAX +0.
            if a.is_sign_negative() == min {
                a
            } else {
                b
            }
        } else if (a < b) == min {
            a
        } else {
            b
        };
        (r.to_u64(), idc)
    };
    match op {
        FP_FZ_MIN | FP_FZ_MINNM => return min_max(true),
        FP_FZ_MAX | FP_FZ_MAXNM => return min_max(false),
        FP_FZ_MULX if inf_zero => {
            let neg = a.is_sign_negative() != b.is_sign_negative();
            return ((if neg { -F::TWO } else { F::TWO }).to_u64(), idc);
        }
        FP_FZ_RECPS if inf_zero => return (F::TWO.to_u64(), idc),
        FP_FZ_RSQRTS if inf_zero => return ((F::THREE * F::HALF).to_u64(), idc),
        _ => {}
    }
    let eval = || {
        let (a, b, c) = (bb(a), bb(b), bb(c));
        match op {
            FP_FZ_ADD => a + b,
            FP_FZ_SUB => a - b,
            FP_FZ_MUL | FP_FZ_MULX => a * b,
            FP_FZ_DIV => a / b,
            FP_FZ_SQRT => a.sqrt(),
            FP_FZ_FMA => a.fma(b, c),
            FP_FZ_RECPS => a.fma(b, F::TWO),
            // `(3 + a*b) / 2` rounded once: halve the larger operand when
            // that is exact and the product may overflow.
            _ => {
                let one = F::TWO * F::HALF;
                let c = F::THREE * F::HALF;
                if a.abs() >= b.abs() && a.abs() >= one {
                    (a * F::HALF).fma(b, c)
                } else if b.abs() > a.abs() && b.abs() >= one {
                    a.fma(b * F::HALF, c)
                } else {
                    a.fma(b, F::THREE) * F::HALF
                }
            }
        }
    };
    let (r, csr) = in_env(fpcr, None, eval);
    if r.is_nan() {
        // An invalid operation on numbers.
        return (F::DEFAULT_NAN, arm_flags(csr) | idc);
    }
    // A zero is tiny when it is a rounded non-zero (inexact). Compared as
    // bits: the guest's DAZ is back in MXCSR, and would make a denormal
    // compare as zero.
    let mag = |x: F| x.to_u64() & !F::SIGN;
    let min = mag(F::MIN_NORMAL);
    let tiny = (mag(r) != 0 || csr & PE != 0)
        && (mag(r) < min || (mag(r) == min && mag(in_env(fpcr, Some(3), eval).0) < min));
    if tiny {
        let z = if r.is_sign_negative() {
            -F::ZERO
        } else {
            F::ZERO
        };
        return (z.to_u64(), FPSR_UFC | idc);
    }
    (r.to_u64(), arm_flags(csr) | idc)
}

/// FCVT double to single under FZ.
fn narrow(fpcr: u32, a: u64) -> (u64, u32) {
    let x = f64::from_bits(a);
    if let Some((_, flags)) = process_nans(fpcr, &[x]) {
        let r = if fpcr & FPCR_DN != 0 {
            f32::DEFAULT_NAN
        } else {
            let sign = (a >> 32) & (1 << 31);
            sign | 0x7fc0_0000 | ((a >> 29) & 0x3f_ffff)
        };
        return (r, flags);
    }
    let (x, idc) = flush(x);
    let eval = || bb(x) as f32;
    let (r, csr) = in_env(fpcr, None, eval);
    let mag = |x: f32| x.to_bits() & !(1 << 31);
    let min = f32::MIN_POSITIVE.to_bits();
    let tiny = (mag(r) != 0 || csr & PE != 0)
        && (mag(r) < min || (mag(r) == min && mag(in_env(fpcr, Some(3), eval).0) < min));
    if tiny {
        let z = if r.is_sign_negative() { -0.0f32 } else { 0.0 };
        return (z.to_u64(), FPSR_UFC | idc);
    }
    (r.to_u64(), arm_flags(csr) | idc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: u32, a: u64, b: u64, c: u64) -> (u64, u32) {
        let mut cpu = CpuState {
            fpcr: FPCR_FZ,
            ..CpuState::default()
        };
        // As translated code calls it: the host flushing as FZ asks.
        let saved = getcsr();
        setcsr(csr_for(FPCR_FZ));
        let r = compute(&mut cpu, kind, a, b, c);
        setcsr(saved);
        (r, cpu.fpsr)
    }

    #[test]
    fn inputs_flush_with_idc_outputs_with_ufc() {
        let d = |x: f64| x.to_bits();
        let tiny = f64::from_bits(1);
        // denormal + 1.0: the denormal is flushed, the sum is exact.
        assert_eq!(run(FP_FZ_ADD, d(tiny), d(1.0), 0), (d(1.0), FPSR_IDC));
        // A product below the normal range flushes with UFC alone.
        let r = run(FP_FZ_MUL, d(1e-200), d(-1e-200), 0);
        assert_eq!(r, (d(-0.0), FPSR_UFC));
        // 1/3 is inexact and normal.
        assert_eq!(run(FP_FZ_DIV, d(1.0), d(3.0), 0), (d(1.0 / 3.0), FPSR_IXC));
        // FMINNM of a quiet NaN and a denormal: the flushed number.
        let q = 0x7ff8_0000_0000_0001;
        assert_eq!(run(FP_FZ_MINNM, q, d(-tiny), 0), (d(-0.0), FPSR_IDC));
        // Single precision: the smallest normal times one half.
        let s = |x: f32| u64::from(x.to_bits());
        let r = run(FP_FZ_MUL | FP_KIND_SINGLE, s(f32::MIN_POSITIVE), s(0.5), 0);
        assert_eq!(r, (s(0.0), FPSR_UFC));
        // An exact denormal product flushes too.
        let r = run(FP_FZ_MUL, d(f64::MIN_POSITIVE), d(0.75), 0);
        assert_eq!(r, (0, FPSR_UFC));
        // Narrowing below the single range flushes.
        let r = run(FP_FZ_NARROW, d(1e-39), 0, 0);
        assert_eq!(r, (0, FPSR_UFC));
    }

    /// A signalling NaN left in an operand slot the op does not have (by
    /// an earlier FMA helper call) raises nothing: the fuzzer's
    /// `fmul d6, d17, d26` under FZ after an `fmadd` with a signalling
    /// addend (seed 77, class fp, cases 158 and 164).
    #[test]
    fn unused_operand_slots_raise_nothing() {
        let snan = 0xfff2_8380_90a5_25eb;
        let qnan = 0xffff_ffff_0944_a56c;
        let saved = getcsr();
        setcsr(csr_for(FPCR_FZ));
        let mut cpu = CpuState {
            fpcr: FPCR_FZ,
            ..CpuState::default()
        };
        let r = compute(&mut cpu, FP_FZ_MUL, 0x915c_fc7d_5b09_978f, qnan, snan);
        let csr = getcsr();
        setcsr(saved);
        assert_eq!((r, cpu.fpsr, csr & CSR_FLAGS), (qnan, 0, 0));
    }
}
