//! The helper functions translated code calls for instructions that do not
//! become plain host code (symbol names in `vmxlate_abi::sym`).
//!
//! Invariants: the untranslatable-instruction and breakpoint paths never
//! return and end the process the way AArch64 Linux would (SIGILL,
//! SIGTRAP); the others have no side effects beyond what their instruction
//! architecturally does.

use core::ffi::{c_char, CStr};

use vmxlate_abi::CpuState;

use crate::fatal;

/// The guest reached an instruction the translator could not translate:
/// report PC, word and disassembly and die by SIGILL.
///
/// # Safety
/// `disasm` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vmx_undefined(
    _cpu: *mut CpuState,
    pc: u64,
    word: u32,
    disasm: *const c_char,
) -> ! {
    let text = if disasm.is_null() {
        "?".into()
    } else {
        // SAFETY: the translator emits a NUL-terminated string.
        unsafe { CStr::from_ptr(disasm) }.to_string_lossy()
    };
    fatal::unsupported_instruction(pc, word, &text)
}

/// BRK / HLT / UDF: the guest process dies by SIGTRAP, as under Linux
/// with no handler (no message: the kernel prints none either).
#[no_mangle]
pub extern "C" fn vmx_brk(_cpu: *mut CpuState, _pc: u64, _imm: u32) -> ! {
    fatal::die_by_signal(libc::SIGTRAP)
}

/// CNTVCT_EL0: the host's monotonic clock in nanoseconds (CNTFRQ is 1 GHz).
#[no_mangle]
pub extern "C" fn vmx_cntvct() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_is_monotonic() {
        let a = vmx_cntvct();
        let b = vmx_cntvct();
        assert!(b >= a && a > 0);
    }
}
