//! The host's fused multiply-add, for translated code whose target CPU
//! level (x86-64-v2 by default) does not assume FMA.
//!
//! Translated code tests `CpuState::host_fma` and, when set, calls one of
//! these stubs instead of its inline emulation: one `VFMADD213`, so the
//! result and the MXCSR flags are exactly those of one fused operation in
//! the guest's rounding mode (MXCSR mirrors FPCR, see the parent module).
//! Cranelift's preserve-all convention has no return registers, so a stub
//! stores its result in the `CpuState` (`FMA_RESULT`) and preserves every
//! register.
//!
//! Invariant: `host_fma` is set only when [`detect`] found FMA usable
//! (CPUID FMA and AVX with the OS saving the AVX state), so the stubs never
//! run where VFMADD would fault.

use core::arch::global_asm;

use vmxlate_abi::FMA_RESULT;

/// Environment variable that, set to `0`, keeps translated code on the
/// emulation even when the host has FMA (to test that path).
pub const ENV: &str = "VMXLATE_HOST_FMA";

/// Whether translated code may call the FMA stubs: the host CPU has FMA,
/// and [`ENV`] is not `0`.
pub fn detect() -> bool {
    let wanted = std::env::var_os(ENV).is_none_or(|v| v != "0");
    wanted && std::arch::is_x86_feature_detected!("fma")
}

/// Defines stub `$name`: `$op xmm0, xmm1, xmm2` (xmm0 = xmm1 * xmm0 +
/// xmm2, i.e. a * b + c for (a, b, c) in (xmm0, xmm1, xmm2)), the result
/// stored with `$store` at `FMA_RESULT` bytes into the `CpuState` in rdi,
/// and xmm0 restored (preserve-all).
macro_rules! fma_stub {
    ($name:literal, $op:literal, $store:literal) => {
        global_asm!(
            ".text",
            ".p2align 4",
            concat!(".globl ", $name),
            concat!(".type ", $name, ", @function"),
            concat!($name, ":"),
            "sub rsp, 24",
            "movdqu [rsp], xmm0",
            concat!($op, " xmm0, xmm1, xmm2"),
            concat!($store, " [rdi + {res}], xmm0"),
            "movdqu xmm0, [rsp]",
            "add rsp, 24",
            "ret",
            concat!(".size ", $name, ", . - ", $name),
            res = const FMA_RESULT,
        );
    };
}

fma_stub!("vmx_host_fma_f64", "vfmadd213sd", "movq");
fma_stub!("vmx_host_fma_f32", "vfmadd213ss", "movd");
fma_stub!("vmx_host_fma_f64x2", "vfmadd213pd", "movdqu");
fma_stub!("vmx_host_fma_f32x4", "vfmadd213ps", "movdqu");

#[cfg(test)]
mod tests {
    use super::*;
    use vmxlate_abi::CpuState;

    extern "C" {
        fn vmx_host_fma_f64(cpu: *mut CpuState, a: f64, b: f64, c: f64);
    }

    #[test]
    fn f64_stub_is_fused() {
        if !detect() {
            return;
        }
        let mut cpu = CpuState::default();
        // (1 + 2^-30)^2 - 1 loses 2^-60 when rounded twice.
        let a = 1.0 + 2f64.powi(-30);
        // SAFETY: `detect` found FMA usable; `cpu` is a valid CpuState.
        unsafe { vmx_host_fma_f64(&mut cpu, a, a, -1.0) };
        let r = f64::from_bits(cpu.fp_tmp[4]);
        assert_eq!(r, a.mul_add(a, -1.0));
        assert_eq!(r, 2f64.powi(-29) + 2f64.powi(-60));
    }
}
