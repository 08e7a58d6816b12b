//! The host C library's libm functions in place of the guest's, where they
//! are the same code: glibc 2.36's x86-64 FMA builds of sin, cos, exp, log,
//! pow and their single-precision forms compute bit for bit what its
//! AArch64 build does (the same C, compiled by GCC with fused multiply-add
//! contraction on both sides; the `libm` fixture compares translated
//! programs with qemu-aarch64).
//!
//! Each `vmx_libm_*` (a `vmxlate_abi::Routine`) takes the bits of the
//! guest's d0/d1 (s0/s1) and returns the bits of d0 (s0), or
//! [`ROUTINE_DECLINED`], and the guest's own code runs instead. It declines:
//! - unless the host is ready ([`ready`], once per process): glibc 2.36,
//!   whose IFUNCs pick the FMA builds (FMA and AVX2 usable), and every
//!   known answer in [`KNOWN`] matches; [`ENV`] set to `0` turns it off;
//! - unless MXCSR rounds to nearest without flushing (FPCR's default
//!   RMode, FZ clear; MXCSR mirrors FPCR, see the parent module);
//! - when an argument is not a normal number or zero, or the result is not
//!   a normal number: NaNs (x86 and Arm pick different default NaNs),
//!   infinities, zeros and subnormals, and with them every path that sets
//!   `errno` (the host's, not the guest's);
//! - for `pow` when |y| < 2^-900, where y * log(x) could be tiny: x86
//!   detects underflow after rounding and Arm before, which may differ.
//!
//! Invariants: an accepted result leaves in MXCSR the flags the guest's
//! code raises (the same operations on the same values); a declined call
//! leaves MXCSR as it found it.

use std::sync::atomic::{AtomicU8, Ordering};

use vmxlate_abi::{Routine, HOST_LIBM_ENV, HOST_LIBM_GLIBC, ROUTINE_DECLINED};

use super::{getcsr, setcsr, CSR_DEFAULT, CSR_FTZ_DAZ, CSR_RC};

/// Environment variable that, set to `0`, keeps the guest's own libm code
/// (the translator reads it too: `bind::host_libm_likely`).
pub const ENV: &str = HOST_LIBM_ENV;

extern "C" {
    fn sin(x: f64) -> f64;
    fn cos(x: f64) -> f64;
    fn exp(x: f64) -> f64;
    fn log(x: f64) -> f64;
    fn pow(x: f64, y: f64) -> f64;
    fn sinf(x: f32) -> f32;
    fn cosf(x: f32) -> f32;
    fn expf(x: f32) -> f32;
    fn logf(x: f32) -> f32;
    fn powf(x: f32, y: f32) -> f32;
    fn gnu_get_libc_version() -> *const core::ffi::c_char;
}

/// `(routine, x, y, result)` bits from glibc 2.36 AArch64 (qemu-aarch64).
/// The inputs of the second group of double ones are where glibc's x86-64
/// SSE2 builds round differently from its FMA builds.
const KNOWN: &[(Routine, u64, u64, u64)] = &[
    (Routine::Sin, 0x3fe0000000000000, 0, 0x3fdeaee8744b05f0),
    (Routine::Sin, 0x4008000000000000, 0, 0x3fc210386db6d55b),
    (Routine::Sin, 0xc004000000000000, 0, 0xbfe326af0dcfcab1),
    (Routine::Sin, 0x412e848000000000, 0, 0xbfd6664b2568d867),
    (Routine::Sin, 0x4480f0cf064dd592, 0, 0xbfeb453ab76bf397),
    (Routine::Sin, 0x3ff921fb54442d18, 0, 0x3ff0000000000000),
    (Routine::Cos, 0x3fe0000000000000, 0, 0x3fec1528065b7d50),
    (Routine::Cos, 0x4008000000000000, 0, 0xbfefae04be85e5d2),
    (Routine::Cos, 0xc004000000000000, 0, 0xbfe9a2f7ef858b7d),
    (Routine::Cos, 0x412e848000000000, 0, 0x3fedf9df9906d32c),
    (Routine::Cos, 0x4480f0cf064dd592, 0, 0x3fe0be2cef01c8f4),
    (Routine::Cos, 0x3ff921fb54442d18, 0, 0x3c91a62633145c07),
    (Routine::Exp, 0x3fe0000000000000, 0, 0x3ffa61298e1e069c),
    (Routine::Exp, 0xc00d99999999999a, 0, 0x3f99511fc6871044),
    (Routine::Exp, 0x4059000000000000, 0, 0x48f3494a9b171bf5),
    (Routine::Exp, 0xc085e00000000000, 0, 0x00d14f2b0fb9307f),
    (Routine::Exp, 0x3ddb7cdfd9d7bdbb, 0, 0x3ff000000006df38),
    (Routine::Exp, 0x4086280000000000, 0, 0x7fdd422d2be5dc9b),
    (Routine::Log, 0x3fe0000000000000, 0, 0xbfe62e42fefa39ef),
    (Routine::Log, 0x3ff8000000000000, 0, 0x3fd9f323ecbf984c),
    (Routine::Log, 0x7e37e43c8800759c, 0, 0x4085963447f87fb5),
    (Routine::Log, 0x01a56e1fc2f8f359, 0, 0xc085963447f87fb5),
    (Routine::Log, 0x40c81cd6c8b43958, 0, 0x4022d79559791e31),
    (Routine::Log, 0x3ff000000006df38, 0, 0x3ddb7cdffffa18d8),
    (
        Routine::Pow,
        0x4004000000000000,
        0x3fd7ae147ae147ae,
        0x3ff6751271a01214,
    ),
    (
        Routine::Pow,
        0x3feccccccccccccd,
        0xc040a66666666666,
        0x4040b2fbae73e99a,
    ),
    (
        Routine::Pow,
        0x4202a05f20000000,
        0x3fe0000000000000,
        0x40f86a0000000000,
    ),
    (
        Routine::Pow,
        0xc000000000000000,
        0x4008000000000000,
        0xc020000000000000,
    ),
    (
        Routine::Pow,
        0x401c666666666666,
        0x4059200000000000,
        0x51b2536e09d9baed,
    ),
    (
        Routine::Pow,
        0x3ff000001ad7f29b,
        0x416312d000000000,
        0x4005bf0a790ce6f2,
    ),
    (Routine::Sinf, 0x3f000000, 0, 0x3ef57744),
    (Routine::Sinf, 0x40400000, 0, 0x3e1081c3),
    (Routine::Sinf, 0xc0200000, 0, 0xbf193578),
    (Routine::Sinf, 0x49742400, 0, 0xbeb33259),
    (Routine::Sinf, 0x7149f2ca, 0, 0xbf4a89b0),
    (Routine::Sinf, 0x3fc90fdb, 0, 0x3f800000),
    (Routine::Cosf, 0x3f000000, 0, 0x3f60a940),
    (Routine::Cosf, 0x40400000, 0, 0xbf7d7026),
    (Routine::Cosf, 0xc0200000, 0, 0xbf4d17bf),
    (Routine::Cosf, 0x49742400, 0, 0x3f6fcefd),
    (Routine::Cosf, 0x7149f2ca, 0, 0xbf1c9222),
    (Routine::Cosf, 0x3fc90fdb, 0, 0xb33bbd2e),
    (Routine::Expf, 0x3f000000, 0, 0x3fd3094c),
    (Routine::Expf, 0xc06ccccd, 0, 0x3cca88fe),
    (Routine::Expf, 0x42a00000, 0, 0x792abbce),
    (Routine::Expf, 0xc2a00000, 0, 0x05bfecba),
    (Routine::Expf, 0x2edbe6ff, 0, 0x3f800000),
    (Routine::Expf, 0x42b00000, 0, 0x7ef882b7),
    (Routine::Logf, 0x3f000000, 0, 0xbf317218),
    (Routine::Logf, 0x3fc00000, 0, 0x3ecf991f),
    (Routine::Logf, 0x7149f2ca, 0, 0x428a27b5),
    (Routine::Logf, 0x0da24260, 0, 0xc28a27b5),
    (Routine::Logf, 0x4640e6b6, 0, 0x4116bcab),
    (Routine::Logf, 0x3f800347, 0, 0x38d1bd51),
    (Routine::Powf, 0x40200000, 0x3ebd70a4, 0x3fb3a894),
    (Routine::Powf, 0x3f666666, 0xc2053333, 0x420597e4),
    (Routine::Powf, 0x501502f9, 0x3f000000, 0x47c35000),
    (Routine::Powf, 0xc0000000, 0x40400000, 0xc1000000),
    (Routine::Powf, 0x40e33333, 0x41280000, 0x4e4ecd10),
    (Routine::Powf, 0x3f800347, 0x461c4000, 0x402dfd7e),
    (Routine::Sin, 0xc0188e56ca7d254f, 0, 0x3fc26436fce80c46),
    (Routine::Sin, 0xc02333c2d7370b9a, 0, 0x3fc673b2640b2360),
    (Routine::Cos, 0x401da937aa0a33d8, 0, 0x3fdb2fc3a20a13df),
    (Routine::Cos, 0xc000b852f437f4a4, 0, 0xbfdfc19652b2a2c0),
    (Routine::Exp, 0xc07923bdec240740, 0, 0x1ba9fa40f685f521),
    (Routine::Exp, 0x4053ddcee1032638, 0, 0x47190464a91a6a05),
    (Routine::Log, 0x408d4dba3bf9b1ea, 0, 0x401b5fb0962739ac),
    (Routine::Log, 0x40717cc3e63d679e, 0, 0x40168948efedd50a),
    (
        Routine::Pow,
        0x404986b5fd528f5a,
        0xc0402ee15fdc2eac,
        0x34747d83d3e42d05,
    ),
    (
        Routine::Pow,
        0x404d0315e751f8d7,
        0x40488550804009a2,
        0x51e3e2d652f61429,
    ),
];

const UNKNOWN: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the host functions compute the guest's results (decided on the
/// first call; threads racing there decide the same).
#[inline]
pub fn ready() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => decide(),
    }
}

#[cold]
#[inline(never)]
fn decide() -> bool {
    let on = check();
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    on
}

/// The host's glibc version string.
fn glibc_version() -> String {
    // SAFETY: glibc returns a static NUL-terminated string.
    unsafe { core::ffi::CStr::from_ptr(gnu_get_libc_version()) }
        .to_string_lossy()
        .into_owned()
}

fn check() -> bool {
    if std::env::var_os(ENV).is_some_and(|v| v == "0")
        || !std::arch::is_x86_feature_detected!("fma")
        || !std::arch::is_x86_feature_detected!("avx2")
        || glibc_version() != HOST_LIBM_GLIBC
    {
        return false;
    }
    let csr = getcsr();
    setcsr(CSR_DEFAULT);
    let ok = KNOWN.iter().all(|&(r, x, y, want)| host(r, x, y) == want);
    setcsr(csr);
    ok
}

/// `r` on the host, by bits (single precision in the low 32 bits).
fn host(r: Routine, x: u64, y: u64) -> u64 {
    let (d, e) = (f64::from_bits(x), f64::from_bits(y));
    let (s, t) = (f32::from_bits(x as u32), f32::from_bits(y as u32));
    // SAFETY: libm functions of plain values.
    unsafe {
        match r {
            Routine::Sin => sin(d).to_bits(),
            Routine::Cos => cos(d).to_bits(),
            Routine::Exp => exp(d).to_bits(),
            Routine::Log => log(d).to_bits(),
            Routine::Pow => pow(d, e).to_bits(),
            Routine::Sinf => u64::from(sinf(s).to_bits()),
            Routine::Cosf => u64::from(cosf(s).to_bits()),
            Routine::Expf => u64::from(expf(s).to_bits()),
            Routine::Logf => u64::from(logf(s).to_bits()),
            Routine::Powf => u64::from(powf(s, t).to_bits()),
            _ => ROUTINE_DECLINED,
        }
    }
}

/// Whether `r` works in single precision (its values in the low 32 bits).
fn single(r: Routine) -> bool {
    matches!(
        r,
        Routine::Sinf | Routine::Cosf | Routine::Expf | Routine::Logf | Routine::Powf
    )
}

/// Whether `bits` is a normal number (or, with `zero`, a zero too) in the
/// precision `single` says.
fn normal(bits: u64, single: bool, zero: bool) -> bool {
    if single {
        let s = f32::from_bits(bits as u32);
        s.is_normal() || (zero && s == 0.0)
    } else {
        let d = f64::from_bits(bits);
        d.is_normal() || (zero && d == 0.0)
    }
}

/// The smallest |y| `pow` takes on the host: 2^-900.
const POW_MIN_Y: u64 = 0x07b0_0000_0000_0000;

/// Whether the arguments are in the domain the host computes (see the
/// module doc): normal numbers or zeros, and for `pow` no tiny exponent.
fn accepts(r: Routine, x: u64, y: u64) -> bool {
    let single = single(r);
    let y_ok = match r {
        Routine::Pow => {
            normal(y, false, false) && f64::from_bits(y).abs() >= f64::from_bits(POW_MIN_Y)
        }
        Routine::Powf => normal(y, true, true),
        _ => true,
    };
    normal(x, single, true) && y_ok
}

/// Runs `r` on the host if the arguments and the environment allow, and
/// keeps a normal result.
#[inline]
fn run(r: Routine, x: u64, y: u64) -> u64 {
    if !accepts(r, x, y) || !ready() {
        return ROUTINE_DECLINED;
    }
    let csr = getcsr();
    if csr & (CSR_RC | CSR_FTZ_DAZ) != 0 {
        return ROUTINE_DECLINED;
    }
    let out = host(r, x, y);
    if normal(out, single(r), false) {
        out
    } else {
        setcsr(csr);
        ROUTINE_DECLINED
    }
}

macro_rules! entry {
    ($name:ident, $r:ident) => {
        #[doc = concat!("`Routine::", stringify!($r), "` (see the module doc).")]
        #[no_mangle]
        pub extern "C" fn $name(x: u64, y: u64, _: u64) -> u64 {
            run(Routine::$r, x, y)
        }
    };
}

entry!(vmx_libm_sin, Sin);
entry!(vmx_libm_cos, Cos);
entry!(vmx_libm_exp, Exp);
entry!(vmx_libm_log, Log);
entry!(vmx_libm_pow, Pow);
entry!(vmx_libm_sinf, Sinf);
entry!(vmx_libm_cosf, Cosf);
entry!(vmx_libm_expf, Expf);
entry!(vmx_libm_logf, Logf);
entry!(vmx_libm_powf, Powf);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_matches_the_known_answers_here() {
        // This machine (Debian bookworm, FMA and AVX2) is one the binding
        // is for; elsewhere only declining is checked.
        if glibc_version() == HOST_LIBM_GLIBC
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::env::var_os(ENV).is_none()
        {
            assert!(ready());
            assert_eq!(
                vmx_libm_sin(0x3fe0_0000_0000_0000, 0, 0),
                0x3fde_aee8_744b_05f0
            );
        }
        assert_eq!(vmx_libm_log(f64::NAN.to_bits(), 0, 0), ROUTINE_DECLINED);
        assert_eq!(vmx_libm_log((-1f64).to_bits(), 0, 0), ROUTINE_DECLINED);
        assert_eq!(vmx_libm_exp(1000f64.to_bits(), 0, 0), ROUTINE_DECLINED);
        assert_eq!(
            vmx_libm_pow(2f64.to_bits(), 1e-300f64.to_bits(), 0),
            ROUTINE_DECLINED
        );
    }

    #[test]
    fn a_declined_call_leaves_the_flags_as_they_were() {
        let csr = getcsr();
        setcsr(csr & !super::super::CSR_FLAGS);
        assert_eq!(vmx_libm_exp(1000f64.to_bits(), 0, 0), ROUTINE_DECLINED);
        assert_eq!(getcsr() & super::super::CSR_FLAGS, 0);
        setcsr(csr);
    }
}
