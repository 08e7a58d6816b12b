//! The host's fused multiply-add, for translated code whose target CPU
//! level (x86-64-v2 by default) does not assume FMA.
//!
//! Translated code tests `CpuState::host_fma` and, when set, calls one of
//! these stubs instead of its inline emulation: one `VFMADD213` and `RET`,
//! so the result and the MXCSR flags are exactly those of one fused
//! operation in the guest's rounding mode (MXCSR mirrors FPCR, see the
//! parent module). The stubs preserve every register but xmm0, which the
//! translator's preserve-all call signature relies on.
//!
//! Invariant: `host_fma` is set only when [`detect`] found FMA usable
//! (CPUID FMA and AVX with the OS saving the AVX state), so the stubs never
//! run where VFMADD would fault.

use core::arch::global_asm;

/// Environment variable that, set to `0`, keeps translated code on the
/// emulation even when the host has FMA (to test that path).
pub const ENV: &str = "VMXLATE_HOST_FMA";

/// Whether translated code may call the FMA stubs: the host CPU has FMA,
/// and [`ENV`] is not `0`.
pub fn detect() -> bool {
    let wanted = std::env::var_os(ENV).is_none_or(|v| v != "0");
    wanted && std::arch::is_x86_feature_detected!("fma")
}

// `vfmadd213sd xmm0, xmm1, xmm2`: xmm0 = xmm1 * xmm0 + xmm2, i.e.
// a * b + c for (a, b, c) in (xmm0, xmm1, xmm2); likewise for the others.
global_asm!(
    ".text",
    ".p2align 4",
    ".globl vmx_host_fma_f64",
    ".type vmx_host_fma_f64, @function",
    "vmx_host_fma_f64:",
    "vfmadd213sd xmm0, xmm1, xmm2",
    "ret",
    ".size vmx_host_fma_f64, . - vmx_host_fma_f64",
    ".p2align 4",
    ".globl vmx_host_fma_f32",
    ".type vmx_host_fma_f32, @function",
    "vmx_host_fma_f32:",
    "vfmadd213ss xmm0, xmm1, xmm2",
    "ret",
    ".size vmx_host_fma_f32, . - vmx_host_fma_f32",
    ".p2align 4",
    ".globl vmx_host_fma_f64x2",
    ".type vmx_host_fma_f64x2, @function",
    "vmx_host_fma_f64x2:",
    "vfmadd213pd xmm0, xmm1, xmm2",
    "ret",
    ".size vmx_host_fma_f64x2, . - vmx_host_fma_f64x2",
    ".p2align 4",
    ".globl vmx_host_fma_f32x4",
    ".type vmx_host_fma_f32x4, @function",
    "vmx_host_fma_f32x4:",
    "vfmadd213ps xmm0, xmm1, xmm2",
    "ret",
    ".size vmx_host_fma_f32x4, . - vmx_host_fma_f32x4",
);

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn vmx_host_fma_f64(a: f64, b: f64, c: f64) -> f64;
    }

    #[test]
    fn f64_stub_is_fused() {
        if !detect() {
            return;
        }
        // (1 + 2^-30)^2 - 1 loses 2^-60 when rounded twice.
        let a = 1.0 + 2f64.powi(-30);
        // SAFETY: `detect` found FMA usable.
        let r = unsafe { vmx_host_fma_f64(a, a, -1.0) };
        assert_eq!(r, a.mul_add(a, -1.0));
        assert_eq!(r, 2f64.powi(-29) + 2f64.powi(-60));
    }
}
