//! Guest floating-point control and status (FPCR/FPSR) on the host FPU,
//! and the FP helpers translated code calls for what SSE cannot do inline.
//!
//! The host MXCSR mirrors FPCR: RC <- RMode, FTZ and DAZ <- FZ. Translated
//! SSE arithmetic therefore rounds and flushes as the guest asks at no cost
//! per instruction, and MXCSR's sticky flags accumulate the guest's IEEE
//! exceptions. FPSR is those flags mapped to Arm bits, ORed with the
//! software-sticky bits in `CpuState::fpsr` (set by translated code and by
//! these helpers for what the host does not flag itself).
//!
//! Invariants: MXCSR's exception masks stay set (no host FP traps); its
//! flag bits belong to the guest since the last MSR FPSR (the runtime's own
//! code does no floating point between guest instructions); `cpu.fpcr`
//! holds the implemented FPCR bits the guest wrote.
//!
//! With FZ set, x86 flushes after rounding, raises inexact with
//! underflow and never reports IDC: translated code then computes
//! arithmetic through [`fz`] instead (see the translator's `lower_fp`).

use core::arch::asm;

mod fz;
pub mod host_fma;
pub mod host_libm;

use vmxlate_abi::{
    CpuState, FPCR_AHP, FPCR_DN, FPCR_FZ, FPCR_MASK, FPCR_RMODE_SHIFT, FPSR_DZC, FPSR_IDC,
    FPSR_IOC, FPSR_IXC, FPSR_MASK, FPSR_OFC, FPSR_UFC, FP_EST_RECPE, FP_EST_RSQRTE, FP_KIND_FZ,
    FP_KIND_SINGLE, FP_TINY_DIV, FP_TINY_MUL, FP_TINY_NARROW,
};

/// MXCSR exception flag bits (IE, DE, ZE, OE, UE, PE).
const CSR_FLAGS: u32 = 0x3f;
/// MXCSR with every exception masked, round to nearest, no flushing.
const CSR_DEFAULT: u32 = 0x1f80;
/// MXCSR rounding control (bits 14:13).
const CSR_RC: u32 = 3 << 13;
/// MXCSR flush-to-zero (outputs) and denormals-are-zero (inputs).
const CSR_FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

fn getcsr() -> u32 {
    let mut v: u32 = 0;
    // SAFETY: STMXCSR writes 4 bytes to a valid local.
    unsafe { asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags)) };
    v
}

fn setcsr(v: u32) {
    // SAFETY: LDMXCSR of a value with all exceptions masked and no reserved
    // bits set (callers build it from `CSR_*`).
    unsafe { asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, readonly, preserves_flags)) };
}

/// The MXCSR control bits (flags clear) for a guest FPCR.
fn csr_for(fpcr: u32) -> u32 {
    // Arm RMode 0 nearest, 1 +inf, 2 -inf, 3 zero; x86 RC 0 nearest,
    // 1 -inf, 2 +inf, 3 zero.
    let rc = match (fpcr >> FPCR_RMODE_SHIFT) & 3 {
        1 => 2,
        2 => 1,
        m => m,
    };
    let fz = if fpcr & FPCR_FZ != 0 { CSR_FTZ_DAZ } else { 0 };
    CSR_DEFAULT | (rc << 13) | fz
}

/// Arm FPSR bits for MXCSR's sticky flags (DE has no Arm counterpart: IDC
/// means an input was flushed, which x86's DAZ never reports).
fn fpsr_of_csr(csr: u32) -> u32 {
    let mut f = 0;
    for (bit, arm) in [
        (0, FPSR_IOC),
        (2, FPSR_DZC),
        (3, FPSR_OFC),
        (4, FPSR_UFC),
        (5, FPSR_IXC),
    ] {
        if csr & (1 << bit) != 0 {
            f |= arm;
        }
    }
    f
}

/// Sets the host FPU for `cpu`'s FPCR with the host flags clear (`cpu.fpsr`
/// then holds the whole sticky state): for a thread starting, and after
/// `rt_sigreturn` restored both registers.
pub fn enter(cpu: &CpuState) {
    setcsr(csr_for(cpu.fpcr));
}

/// Folds the host's sticky flags into `cpu.fpsr` and clears them, so that
/// `cpu.fpcr`/`cpu.fpsr` hold the whole FP control state (for a signal
/// frame). MRS FPSR reads the same value before and after.
pub fn save(cpu: &mut CpuState) {
    let csr = getcsr();
    cpu.fpsr |= fpsr_of_csr(csr);
    setcsr(csr & !CSR_FLAGS);
}

/// MSR FPCR.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_set_fpcr(cpu: *mut CpuState, v: u64) {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    cpu.fpcr = v as u32 & FPCR_MASK;
    setcsr((getcsr() & CSR_FLAGS) | csr_for(cpu.fpcr));
}

/// MRS FPSR.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_get_fpsr(cpu: *mut CpuState) -> u64 {
    // SAFETY: per the contract.
    let cpu = unsafe { &*cpu };
    u64::from(cpu.fpsr | fpsr_of_csr(getcsr()))
}

/// MSR FPSR: the written value becomes the software-sticky state and the
/// host flags start afresh.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_set_fpsr(cpu: *mut CpuState, v: u64) {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    cpu.fpsr = v as u32 & FPSR_MASK;
    setcsr(getcsr() & !CSR_FLAGS);
}

/// Runs `f` with the host rounding towards zero and no output flushing,
/// leaving MXCSR (flags included) as it was.
fn towards_zero<T>(f: impl FnOnce() -> T) -> T {
    let saved = getcsr();
    setcsr((saved & !(CSR_RC | CSR_FLAGS | (1 << 15))) | (3 << 13));
    let r = core::hint::black_box(f());
    setcsr(saved);
    r
}

/// With `FP_KIND_FZ` in the kind: the operation under FZ ([`fz`]).
/// Otherwise, called when a host result `r` is the smallest normal number in
/// magnitude. x86 detects tininess after rounding and Arm before, so an
/// exact result just below it underflows on Arm only: recompute rounding
/// towards zero to see which side the exact result is on. Arm with FZ then
/// flushes the result to zero.
///
/// Arguments and result are in `cpu.fp_tmp`: translated code calls this
/// through the preserve-all trampoline `vmx_fp_tiny`.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_fp_tiny_impl(cpu: *mut CpuState) {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let [kind, a, b, c, r, _] = cpu.fp_tmp;
    if kind as u32 & FP_KIND_FZ != 0 {
        cpu.fp_tmp[5] = fz::compute(cpu, kind as u32, a, b, c);
        return;
    }
    let f = f64::from_bits;
    let v = tiny_result(cpu, kind as u32, (f(a), f(b), f(c)), f(r));
    cpu.fp_tmp[5] = v.to_bits();
}

/// Defines `$name`, which calls `$imp(cpu)` (System V) preserving every
/// general and XMM register except the stack and flags, for Cranelift's
/// preserve-all call convention. Entry rsp is 8 mod 16; after rbp and nine
/// pushes it is 8 mod 16 again, and 264 more bytes align it for the call.
macro_rules! preserve_all_trampoline {
    ($name:literal, $imp:path) => {
        core::arch::global_asm!(
            concat!(".globl ", $name),
            concat!(".type ", $name, ",@function"),
            concat!($name, ":"),
            "push rbp",
            "mov rbp, rsp",
            "push rax",
            "push rcx",
            "push rdx",
            "push rsi",
            "push rdi",
            "push r8",
            "push r9",
            "push r10",
            "push r11",
            "sub rsp, 264",
            "movdqu [rsp + 0], xmm0",
            "movdqu [rsp + 16], xmm1",
            "movdqu [rsp + 32], xmm2",
            "movdqu [rsp + 48], xmm3",
            "movdqu [rsp + 64], xmm4",
            "movdqu [rsp + 80], xmm5",
            "movdqu [rsp + 96], xmm6",
            "movdqu [rsp + 112], xmm7",
            "movdqu [rsp + 128], xmm8",
            "movdqu [rsp + 144], xmm9",
            "movdqu [rsp + 160], xmm10",
            "movdqu [rsp + 176], xmm11",
            "movdqu [rsp + 192], xmm12",
            "movdqu [rsp + 208], xmm13",
            "movdqu [rsp + 224], xmm14",
            "movdqu [rsp + 240], xmm15",
            "call {imp}",
            "movdqu xmm0, [rsp + 0]",
            "movdqu xmm1, [rsp + 16]",
            "movdqu xmm2, [rsp + 32]",
            "movdqu xmm3, [rsp + 48]",
            "movdqu xmm4, [rsp + 64]",
            "movdqu xmm5, [rsp + 80]",
            "movdqu xmm6, [rsp + 96]",
            "movdqu xmm7, [rsp + 112]",
            "movdqu xmm8, [rsp + 128]",
            "movdqu xmm9, [rsp + 144]",
            "movdqu xmm10, [rsp + 160]",
            "movdqu xmm11, [rsp + 176]",
            "movdqu xmm12, [rsp + 192]",
            "movdqu xmm13, [rsp + 208]",
            "movdqu xmm14, [rsp + 224]",
            "movdqu xmm15, [rsp + 240]",
            "add rsp, 264",
            "pop r11",
            "pop r10",
            "pop r9",
            "pop r8",
            "pop rdi",
            "pop rsi",
            "pop rdx",
            "pop rcx",
            "pop rax",
            "pop rbp",
            "ret",
            concat!(".size ", $name, ", . - ", $name),
            imp = sym $imp,
        );
    };
}

preserve_all_trampoline!("vmx_fp_tiny", vmx_fp_tiny_impl);
preserve_all_trampoline!("vmx_fma", vmx_fma_impl);

/// Arm's result (and FPSR bits) for a host result `r` of magnitude
/// `MIN_NORMAL`; see [`vmx_fp_tiny_impl`].
fn tiny_result(cpu: &mut CpuState, kind: u32, (a, b, c): (f64, f64, f64), r: f64) -> f64 {
    use core::hint::black_box as bb;
    let single = kind & FP_KIND_SINGLE != 0;
    let op = kind & !FP_KIND_SINGLE;
    let below = towards_zero(|| {
        if op == FP_TINY_NARROW {
            (bb(a) as f32).abs() < f32::MIN_POSITIVE
        } else if single {
            let (a, b, c) = (bb(a as f32), bb(b as f32), bb(c as f32));
            let t = match op {
                FP_TINY_MUL => a * b,
                FP_TINY_DIV => a / b,
                _ => a.mul_add(b, c),
            };
            t.abs() < f32::MIN_POSITIVE
        } else {
            let (a, b, c) = (bb(a), bb(b), bb(c));
            let t = match op {
                FP_TINY_MUL => a * b,
                FP_TINY_DIV => a / b,
                _ => a.mul_add(b, c),
            };
            t.abs() < f64::MIN_POSITIVE
        }
    });
    if !below {
        return r;
    }
    cpu.fpsr |= FPSR_UFC;
    if cpu.fpcr & FPCR_FZ != 0 {
        return 0f64.copysign(r);
    }
    cpu.fpsr |= FPSR_IXC;
    r
}

/// Fused multiply-add with one rounding in the current (guest) mode; the
/// host's libm `fma`/`fmaf` raise the IEEE flags of the fused operation.
/// Translated code calls it through the preserve-all trampoline `vmx_fma`
/// with `cpu.fp_tmp` = [single, a, b, c, -, result].
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_fma_impl(cpu: *mut CpuState) {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let [single, a, b, c, _, _] = cpu.fp_tmp;
    let (a, b, c) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
    let r = if single != 0 {
        f64::from((a as f32).mul_add(b as f32, c as f32))
    } else {
        a.mul_add(b, c)
    };
    cpu.fp_tmp[5] = r.to_bits();
}

/// FCVT from half precision: exact; a signalling NaN is quietened with
/// IOC; FPCR.DN gives the default NaN.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_f16_to_f64(cpu: *mut CpuState, h: u32) -> f64 {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = (h >> 10) & 0x1f;
    let frac = h & 0x3ff;
    if cpu.fpcr & FPCR_AHP != 0 && exp == 0x1f {
        // Alternative half precision: exponent 31 is a normal number.
        return sign * f64::from(frac | 0x400) * 2f64.powi(31 - 25);
    }
    match exp {
        0x1f if frac == 0 => sign * f64::INFINITY,
        0x1f => {
            if frac & 0x200 == 0 {
                cpu.fpsr |= FPSR_IOC;
            }
            if cpu.fpcr & FPCR_DN != 0 {
                return f64::from_bits(0x7ff8_0000_0000_0000);
            }
            let s = u64::from(h & 0x8000) << 48;
            f64::from_bits(s | 0x7ff8_0000_0000_0000 | (u64::from(frac & 0x1ff) << 42))
        }
        0 => sign * f64::from(frac) * 2f64.powi(-24),
        _ => sign * f64::from(frac | 0x400) * 2f64.powi(exp as i32 - 25),
    }
}

/// FCVT to half precision (IEEE format): one rounding in FPCR's mode,
/// with Arm's flags (tininess before rounding). FZ16 is not modelled.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_f64_to_f16(cpu: *mut CpuState, x: f64) -> u32 {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let (h, flags) = to_half(x, cpu.fpcr);
    cpu.fpsr |= flags;
    u32::from(h)
}

/// The half-precision bits and FPSR flags of `x` rounded per `fpcr`.
fn to_half(x: f64, fpcr: u32) -> (u16, u32) {
    let bits = x.to_bits();
    let sign = ((bits >> 48) & 0x8000) as u16;
    if fpcr & FPCR_AHP != 0 {
        // Alternative half precision (FPConvert, FPRoundCV with alt_hp):
        // NaN gives zero and infinity the largest value, both invalid;
        // exponent 31 is normal, and overflow saturates, invalid and
        // exact.
        if x.is_nan() {
            return (sign, FPSR_IOC);
        }
        if x.is_infinite() {
            return (sign | 0x7fff, FPSR_IOC);
        }
        if fpcr & FPCR_FZ != 0 && x.is_subnormal() {
            return (sign, FPSR_IDC);
        }
        // Round as IEEE half with twice the range: halve, round (the
        // quantum halves too, so rounding is the same), double.
        let (h, flags) = to_half(x / 2.0, fpcr & !FPCR_AHP);
        let e = (h >> 10) & 0x1f;
        if e == 0x1f || flags & FPSR_OFC != 0 {
            return (sign | 0x7fff, FPSR_IOC);
        }
        // Subnormal halves of x/2 lose a bit of precision: only normal
        // results (e >= 1, so x >= 2^-13) are doubled exactly here.
        if e >= 1 {
            return (sign | ((h & 0x7fff) + 0x400), flags);
        }
    }
    if x.is_nan() {
        let flags = if bits & (1 << 51) == 0 { FPSR_IOC } else { 0 };
        if fpcr & FPCR_DN != 0 {
            return (0x7e00, flags);
        }
        return (sign | 0x7e00 | ((bits >> 42) & 0x1ff) as u16, flags);
    }
    if x.is_infinite() {
        return (sign | 0x7c00, 0);
    }
    if x == 0.0 {
        return (sign, 0);
    }
    if fpcr & FPCR_FZ != 0 && x.is_subnormal() {
        return (sign, FPSR_IDC);
    }
    let a = x.abs();
    // Quantum of the result: 2^(e-10) for normal halves, 2^-24 below.
    let e = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let qexp = (e - 10).max(-24);
    let m = a * 2f64.powi(-qexp); // exact: a power-of-two scaling
    let int = m.trunc();
    let frac = m - int;
    let negative = sign != 0;
    let up = match (fpcr >> FPCR_RMODE_SHIFT) & 3 {
        0 => frac > 0.5 || (frac == 0.5 && int % 2.0 == 1.0),
        1 => frac > 0.0 && !negative,
        2 => frac > 0.0 && negative,
        _ => false,
    };
    let mut flags = 0;
    if frac != 0.0 {
        flags |= FPSR_IXC;
        if a < 2f64.powi(-14) {
            flags |= FPSR_UFC;
        }
    }
    let v = (int + if up { 1.0 } else { 0.0 }) * 2f64.powi(qexp);
    if v > 65504.0 {
        let to_inf = match (fpcr >> FPCR_RMODE_SHIFT) & 3 {
            0 => true,
            1 => !negative,
            2 => negative,
            _ => false,
        };
        let h = if to_inf { 0x7c00 } else { 0x7bff };
        return (sign | h, FPSR_OFC | FPSR_IXC);
    }
    let h = if v >= 2f64.powi(-14) {
        let fb = (v as f32).to_bits();
        let exp = (fb >> 23) as i32 - 127 + 15;
        ((exp as u32) << 10 | ((fb >> 13) & 0x3ff)) as u16
    } else {
        (v * 2f64.powi(24)) as u16
    };
    (sign | h, flags)
}

/// FRECPE, FRSQRTE and FRECPX, bit-exact per the Arm pseudocode
/// (`FPRecipEstimate`, `FPRSqrtEstimate`, `FPRecpX`).
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_fp_estimate(cpu: *mut CpuState, kind: u32, bits: u64) -> u64 {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let fmt = if kind & FP_KIND_SINGLE != 0 {
        Fmt::S
    } else {
        Fmt::D
    };
    let (r, flags) = match kind & !FP_KIND_SINGLE {
        FP_EST_RECPE => recip_estimate(fmt, bits, cpu.fpcr),
        FP_EST_RSQRTE => rsqrt_estimate(fmt, bits, cpu.fpcr),
        _ => recpx(fmt, bits, cpu.fpcr),
    };
    cpu.fpsr |= flags;
    r
}

/// FJCVTZS (`FPToFixedJS`): the double truncated to an integer, wrapped to
/// 32 bits; Z is set when the conversion is exact and in range (and the
/// input is not -0). Invalid for NaN, infinity and out-of-range values,
/// inexact otherwise when the value has a fraction.
///
/// # Safety
/// `cpu` points to the running thread's `CpuState`.
#[no_mangle]
pub unsafe extern "C" fn vmx_fjcvtzs(cpu: *mut CpuState, bits: u64) -> u64 {
    // SAFETY: per the contract.
    let cpu = unsafe { &mut *cpu };
    let (r, z, flags) = fjcvtzs(bits, cpu.fpcr);
    cpu.fpsr |= flags;
    u64::from(r) | (u64::from(z) << 32)
}

/// The W result, Z and FPSR flags of FJCVTZS.
fn fjcvtzs(bits: u64, fpcr: u32) -> (u32, bool, u32) {
    let f = Fmt::D;
    let (bits, idc) = f.flush(bits, fpcr);
    let negative = f.sign(bits) == 1;
    let exp = f.exp(bits);
    let frac = f.frac(bits);
    if exp == f.max_exp() {
        // NaN or infinity: 0, invalid.
        return (0, false, idc | FPSR_IOC);
    }
    if exp == 0 && frac == 0 {
        return (0, !negative, idc);
    }
    // |value| = m * 2^e.
    let m = if exp == 0 { frac } else { frac | (1 << 52) };
    let e = if exp == 0 { -1074 } else { exp as i64 - 1075 };
    let (magnitude_low32, inexact, big) = if e >= 0 {
        let low = if e >= 32 { 0 } else { (m << e) as u32 };
        // m >= 2^52 for normals: anything shifted left is out of range.
        (low, false, true)
    } else if e <= -64 {
        (0, true, false)
    } else {
        let t = m >> -e;
        let inexact = t << -e != m;
        (t as u32, inexact, t > u64::from(u32::MAX))
    };
    let t_small = if e < 0 && e > -64 { m >> -e } else { 0 };
    let out_of_range = big
        || if negative {
            t_small > 1 << 31
        } else {
            t_small > (1 << 31) - 1
        };
    let r = if negative {
        magnitude_low32.wrapping_neg()
    } else {
        magnitude_low32
    };
    if out_of_range {
        (r, false, idc | FPSR_IOC)
    } else if inexact {
        (r, false, idc | FPSR_IXC)
    } else {
        (r, true, idc)
    }
}

/// A binary FP format: exponent and fraction widths.
#[derive(Clone, Copy)]
struct Fmt {
    ebits: u32,
    fbits: u32,
}

impl Fmt {
    const S: Fmt = Fmt {
        ebits: 8,
        fbits: 23,
    };
    const D: Fmt = Fmt {
        ebits: 11,
        fbits: 52,
    };
    fn bits(self) -> u32 {
        1 + self.ebits + self.fbits
    }
    fn sign(self, x: u64) -> u64 {
        (x >> (self.bits() - 1)) & 1
    }
    fn exp(self, x: u64) -> u64 {
        (x >> self.fbits) & ((1 << self.ebits) - 1)
    }
    fn frac(self, x: u64) -> u64 {
        x & ((1 << self.fbits) - 1)
    }
    fn pack(self, sign: u64, exp: u64, frac: u64) -> u64 {
        (sign << (self.bits() - 1)) | (exp << self.fbits) | frac
    }
    fn max_exp(self) -> u64 {
        (1 << self.ebits) - 1
    }
    fn infinity(self, sign: u64) -> u64 {
        self.pack(sign, self.max_exp(), 0)
    }
    fn default_nan(self) -> u64 {
        self.pack(0, self.max_exp(), 1 << (self.fbits - 1))
    }
    /// The processed NaN (quietened, or the default NaN under DN) with IOC
    /// for a signalling one; `None` when `x` is not a NaN.
    fn nan(self, x: u64, fpcr: u32) -> Option<(u64, u32)> {
        if self.exp(x) != self.max_exp() || self.frac(x) == 0 {
            return None;
        }
        let quiet = 1 << (self.fbits - 1);
        let flags = if x & quiet == 0 { FPSR_IOC } else { 0 };
        let r = if fpcr & FPCR_DN != 0 {
            self.default_nan()
        } else {
            x | quiet
        };
        Some((r, flags))
    }
    /// `x` with a denormal flushed to zero under FZ (and IDC).
    fn flush(self, x: u64, fpcr: u32) -> (u64, u32) {
        if fpcr & FPCR_FZ != 0 && self.exp(x) == 0 && self.frac(x) != 0 {
            (self.pack(self.sign(x), 0, 0), FPSR_IDC)
        } else {
            (x, 0)
        }
    }
    /// The fraction as 52 bits (left-aligned like a double's).
    fn frac52(self, x: u64) -> u64 {
        self.frac(x) << (52 - self.fbits)
    }
}

fn recip_estimate_int(a: u64) -> u64 {
    let a = a * 2 + 1;
    let b = (1 << 19) / a;
    b.div_ceil(2) // (b + 1) DIV 2: round to nearest
}

fn rsqrt_estimate_int(a: u64) -> u64 {
    let a = if a < 256 {
        a * 2 + 1
    } else {
        ((a >> 1) << 1) * 2 + 2
    };
    let mut b: u64 = 512;
    while a * (b + 1) * (b + 1) < (1 << 28) {
        b += 1;
    }
    b.div_ceil(2) // (b + 1) DIV 2: round to nearest
}

fn recip_estimate(f: Fmt, x: u64, fpcr: u32) -> (u64, u32) {
    if let Some(r) = f.nan(x, fpcr) {
        return r;
    }
    let (x, idc) = f.flush(x, fpcr);
    let sign = f.sign(x);
    let (exp, frac) = (f.exp(x), f.frac(x));
    if exp == f.max_exp() {
        return (f.pack(sign, 0, 0), idc);
    }
    if exp == 0 && frac == 0 {
        return (f.infinity(sign), idc | FPSR_DZC);
    }
    // |x| < 2^-(bias+1): the estimate overflows.
    let tiny = exp == 0 && (f.frac52(x) >> 50) == 0;
    if tiny {
        let to_inf = match (fpcr >> FPCR_RMODE_SHIFT) & 3 {
            0 => true,
            1 => sign == 0,
            2 => sign == 1,
            _ => false,
        };
        let r = if to_inf {
            f.infinity(sign)
        } else {
            f.pack(sign, f.max_exp() - 1, (1 << f.fbits) - 1)
        };
        return (r, idc | FPSR_OFC | FPSR_IXC);
    }
    let bias = (1u64 << (f.ebits - 1)) - 1;
    if fpcr & FPCR_FZ != 0 && exp >= 2 * bias - 1 {
        return (f.pack(sign, 0, 0), idc | FPSR_UFC);
    }
    let mut fraction = f.frac52(x);
    let mut exp = exp as i64;
    if exp == 0 {
        if fraction >> 51 == 0 {
            exp = -1;
            fraction = (fraction << 2) & ((1 << 52) - 1);
        } else {
            fraction = (fraction << 1) & ((1 << 52) - 1);
        }
    }
    let scaled = 0x100 | (fraction >> 44);
    let mut result_exp = 2 * bias as i64 - 1 - exp;
    let estimate = recip_estimate_int(scaled);
    let mut fraction = (estimate & 0xff) << 44;
    if result_exp == 0 {
        fraction = (1 << 51) | (fraction >> 1);
    } else if result_exp == -1 {
        fraction = (1 << 50) | (fraction >> 2);
        result_exp = 0;
    }
    let r = f.pack(sign, result_exp as u64, fraction >> (52 - f.fbits));
    (r, idc)
}

fn rsqrt_estimate(f: Fmt, x: u64, fpcr: u32) -> (u64, u32) {
    if let Some(r) = f.nan(x, fpcr) {
        return r;
    }
    let (x, idc) = f.flush(x, fpcr);
    let sign = f.sign(x);
    let (exp, frac) = (f.exp(x), f.frac(x));
    if exp == 0 && frac == 0 {
        return (f.infinity(sign), idc | FPSR_DZC);
    }
    if sign == 1 {
        return (f.default_nan(), idc | FPSR_IOC);
    }
    if exp == f.max_exp() {
        return (0, idc);
    }
    let mut fraction = f.frac52(x);
    let mut exp = exp as i64;
    if exp == 0 {
        while fraction >> 51 == 0 {
            fraction = (fraction << 1) & ((1 << 52) - 1);
            exp -= 1;
        }
        fraction = (fraction << 1) & ((1 << 52) - 1);
    }
    let scaled = if exp & 1 == 0 {
        0x100 | (fraction >> 44)
    } else {
        0x80 | (fraction >> 45)
    };
    let bias = (1i64 << (f.ebits - 1)) - 1;
    // 3068 for doubles, 380 for singles: 3 * bias - 1.
    let result_exp = (3 * bias - 1 - exp) / 2;
    let estimate = rsqrt_estimate_int(scaled);
    let r = f.pack(0, result_exp as u64, (estimate & 0xff) << (f.fbits - 8));
    (r, idc)
}

fn recpx(f: Fmt, x: u64, fpcr: u32) -> (u64, u32) {
    if let Some(r) = f.nan(x, fpcr) {
        return r;
    }
    let (x, idc) = f.flush(x, fpcr);
    let sign = f.sign(x);
    let exp = f.exp(x);
    let r = if exp == 0 {
        f.pack(sign, f.max_exp() - 1, 0)
    } else {
        f.pack(sign, !exp & f.max_exp(), 0)
    };
    (r, idc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmxlate_abi::FP_EST_RECPX;

    fn est(kind: u32, bits: u64) -> (u64, u32) {
        let mut cpu = CpuState::default();
        // SAFETY: a valid CpuState.
        let r = unsafe { vmx_fp_estimate(&mut cpu, kind, bits) };
        (r, cpu.fpsr)
    }

    fn est_s(kind: u32, x: f32) -> u32 {
        est(kind | FP_KIND_SINGLE, u64::from(x.to_bits())).0 as u32
    }

    #[test]
    fn recip_estimates_match_the_pseudocode() {
        // Hand-evaluated from FPRecipEstimate/RecipEstimate:
        // 1.0 -> scaled 256 -> a 513 -> b 1021 -> r 511 -> 0x3f7f8000.
        assert_eq!(est_s(FP_EST_RECPE, 1.0), 0x3f7f_8000);
        // 2.0: exp 128 -> result_exp 125, same fraction.
        assert_eq!(est_s(FP_EST_RECPE, 2.0), 0x3eff_8000);
        // 3.0: fraction 0x40.. -> scaled 384 -> a 769 -> b 681 -> r 341 (0x155).
        assert_eq!(est_s(FP_EST_RECPE, 3.0), 0x3eaa_8000);
        assert_eq!(est_s(FP_EST_RECPE, -0.0), 0xff80_0000);
        assert_eq!(est_s(FP_EST_RECPE, f32::INFINITY), 0);
        let (d, _) = est(FP_EST_RECPE, 1.0f64.to_bits());
        assert_eq!(d, 0x3fef_f000_0000_0000);
        // The smallest subnormal overflows: +inf with OFC and IXC.
        let (r, f) = est(FP_EST_RECPE | FP_KIND_SINGLE, 1);
        assert_eq!((r, f), (0x7f80_0000, FPSR_OFC | FPSR_IXC));
        // 2^-127 (subnormal, fraction bit 22 set): result_exp 253.
        assert_eq!(
            est_s(FP_EST_RECPE, f32::from_bits(0x0040_0000)),
            0x7eff_8000
        );
    }

    #[test]
    fn rsqrt_estimates_match_the_pseudocode() {
        // 1.0: exp 127 odd -> scaled 128 -> a 257 -> b 1022 -> r 511;
        // result_exp (380-127)/2 = 126 -> 0x3f7f8000.
        assert_eq!(est_s(FP_EST_RSQRTE, 1.0), 0x3f7f_8000);
        // 4.0: exp 129 odd -> same scaled, result_exp 125.
        assert_eq!(est_s(FP_EST_RSQRTE, 4.0), 0x3eff_8000);
        // 2.0: exp 128 even -> scaled 256 -> a 514 -> b 722 -> r 361 (0x169);
        // result_exp 126.
        assert_eq!(est_s(FP_EST_RSQRTE, 2.0), 0x3f34_8000);
        let (r, f) = est(
            FP_EST_RSQRTE | FP_KIND_SINGLE,
            u64::from((-1.0f32).to_bits()),
        );
        assert_eq!((r, f), (0x7fc0_0000, FPSR_IOC));
        let (r, f) = est(FP_EST_RSQRTE | FP_KIND_SINGLE, 0);
        assert_eq!((r, f), (0x7f80_0000, FPSR_DZC));
    }

    #[test]
    fn fjcvtzs_follows_fptofixedjs() {
        let j = |x: f64| fjcvtzs(x.to_bits(), 0);
        assert_eq!(j(1.0), (1, true, 0));
        assert_eq!(j(-1.5), ((-1i32) as u32, false, FPSR_IXC));
        assert_eq!(j(-0.0), (0, false, 0));
        assert_eq!(j(0.0), (0, true, 0));
        assert_eq!(j(2147483647.0), (0x7fff_ffff, true, 0));
        assert_eq!(j(-2147483648.0), (0x8000_0000, true, 0));
        // Out of range: wrapped modulo 2^32, invalid.
        assert_eq!(j(4294967297.0), (1, false, FPSR_IOC));
        assert_eq!(j(2147483648.0), (0x8000_0000, false, FPSR_IOC));
        assert_eq!(j(-4294967295.5), (1, false, FPSR_IOC));
        assert_eq!(j(1e300), (0, false, FPSR_IOC));
        assert_eq!(j(f64::NAN), (0, false, FPSR_IOC));
        assert_eq!(j(f64::NEG_INFINITY), (0, false, FPSR_IOC));
        assert_eq!(j(5e-324), (0, false, FPSR_IXC));
    }

    #[test]
    fn recpx_inverts_the_exponent() {
        assert_eq!(est_s(FP_EST_RECPX, 1.0), 0x4000_0000);
        assert_eq!(est_s(FP_EST_RECPX, 0.0), 0x7f00_0000);
        assert_eq!(est_s(FP_EST_RECPX, -3.0), 0xbf80_0000);
    }

    #[test]
    fn half_conversions_round_per_mode() {
        let h = |x: f64, mode: u32| to_half(x, mode << FPCR_RMODE_SHIFT);
        assert_eq!(h(1.0, 0), (0x3c00, 0));
        assert_eq!(h(-2.5, 0), (0xc100, 0));
        assert_eq!(h(65504.0, 0), (0x7bff, 0));
        assert_eq!(h(65520.0, 0), (0x7c00, FPSR_OFC | FPSR_IXC));
        assert_eq!(h(65520.0, 3), (0x7bff, FPSR_IXC));
        assert_eq!(h(65536.0, 3), (0x7bff, FPSR_OFC | FPSR_IXC));
        // 1 + 2^-11 is a tie: even (1.0) to nearest, up towards +inf.
        let tie = 1.0 + 2f64.powi(-11);
        assert_eq!(h(tie, 0), (0x3c00, FPSR_IXC));
        assert_eq!(h(tie, 1), (0x3c01, FPSR_IXC));
        assert_eq!(h(-tie, 2), (0xbc01, FPSR_IXC));
        // Smallest subnormal, and half of it (a tie to even: zero).
        assert_eq!(h(2f64.powi(-24), 0), (0x0001, 0));
        assert_eq!(h(2f64.powi(-25), 0), (0x0000, FPSR_IXC | FPSR_UFC));
        assert_eq!(
            h(f64::from_bits(0x7ff4_0000_0000_0000), 0),
            (0x7f00, FPSR_IOC)
        );
        let mut cpu = CpuState::default();
        for bits in [0x3c00u32, 0x0001, 0x8400, 0x7bff, 0x7c00, 0x3555] {
            // SAFETY: a valid CpuState.
            let x = unsafe { vmx_f16_to_f64(&mut cpu, bits) };
            assert_eq!(to_half(x, 0), (bits as u16, 0), "{bits:#x}");
        }
    }

    #[test]
    fn alternative_half_precision() {
        let ahp = FPCR_AHP;
        assert_eq!(to_half(1.0, ahp), (0x3c00, 0));
        assert_eq!(to_half(65536.0, ahp), (0x7c00, 0));
        assert_eq!(to_half(-131008.0, ahp), (0xffff, 0));
        assert_eq!(to_half(131072.0, ahp), (0x7fff, FPSR_IOC));
        assert_eq!(to_half(f64::INFINITY, ahp), (0x7fff, FPSR_IOC));
        assert_eq!(to_half(-f64::NAN, ahp), (0x8000, FPSR_IOC));
        assert_eq!(to_half(2f64.powi(-24), ahp), (0x0001, 0));
        let mut cpu = CpuState {
            fpcr: ahp,
            ..CpuState::default()
        };
        // SAFETY: a valid CpuState.
        let x = unsafe { vmx_f16_to_f64(&mut cpu, 0xfc00) };
        assert_eq!((x, cpu.fpsr), (-65536.0, 0));
    }

    #[test]
    fn fpsr_reads_host_flags_and_clears() {
        let mut cpu = CpuState::default();
        enter(&cpu);
        let x = core::hint::black_box(1.0f64) / core::hint::black_box(3.0);
        core::hint::black_box(x);
        // SAFETY: a valid CpuState.
        unsafe {
            assert_eq!(vmx_get_fpsr(&mut cpu) as u32 & FPSR_IXC, FPSR_IXC);
            vmx_set_fpsr(&mut cpu, 0);
            assert_eq!(vmx_get_fpsr(&mut cpu), 0);
            vmx_set_fpcr(&mut cpu, 1 << FPCR_RMODE_SHIFT);
            let y = core::hint::black_box(1.0f64) / core::hint::black_box(3.0);
            let y = core::hint::black_box(y);
            vmx_set_fpcr(&mut cpu, 0);
            assert!(y > 1.0 / 3.0);
            assert_eq!(vmx_get_fpsr(&mut cpu) as u32, FPSR_IXC);
            vmx_set_fpsr(&mut cpu, 0);
        }
    }
}
