//! The helper functions translated code calls for instructions that do not
//! become plain host code (symbol names in `vmxlate_abi::sym`).
//!
//! Invariants: the untranslatable-instruction and breakpoint paths raise
//! SIGILL and SIGTRAP the way AArch64 Linux would: into the guest's handler
//! (returning with `cpu.pc` at the handler, so translated code returns to
//! the dispatcher), or ending the process by the signal; the others have no
//! side effects beyond what their instruction architecturally does.

use core::ffi::{c_char, CStr};

use vmxlate_abi::CpuState;

use crate::{fatal, log, signal, thread};

/// `si_code` of an illegal opcode.
const ILL_ILLOPC: i32 = 1;
/// `si_code` of a breakpoint.
const TRAP_BRKPT: i32 = 1;

/// Whether `word` is UDF (permanently undefined), which programs execute
/// on purpose.
fn is_udf(word: u32) -> bool {
    word >> 16 == 0
}

/// The guest reached an instruction the translator could not translate (or
/// an undefined one): SIGILL with `si_addr` = `pc`. Unless it is UDF, the
/// PC, word and disassembly are reported on stderr first, also when the
/// guest handles SIGILL.
///
/// # Safety
/// `cpu` is the calling guest thread's live `CpuState` with every register
/// stored; `disasm` is null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vmx_undefined(
    cpu: *mut CpuState,
    pc: u64,
    word: u32,
    disasm: *const c_char,
) {
    if signal::sync_action(libc::SIGILL).is_some() {
        if !is_udf(word) {
            // SAFETY: forwarded.
            log::line(format_args!(
                "unsupported instruction at 0x{pc:x}: {word:08x} {}",
                unsafe { text(disasm) }
            ));
        }
        // SAFETY: the caller's contract: a Thread's CpuState, registers
        // stored, PC at the instruction.
        unsafe { signal::raise_sync(thread::of_cpu(cpu), libc::SIGILL, ILL_ILLOPC, pc) };
        return;
    }
    // SAFETY: forwarded.
    fatal::unsupported_instruction(pc, word, &unsafe { text(disasm) })
}

/// The disassembly text the translator emitted.
///
/// # Safety
/// `disasm` is null or a NUL-terminated string.
unsafe fn text(disasm: *const c_char) -> String {
    if disasm.is_null() {
        "?".into()
    } else {
        // SAFETY: the translator emits a NUL-terminated string.
        unsafe { CStr::from_ptr(disasm) }
            .to_string_lossy()
            .into_owned()
    }
}

/// BRK: SIGTRAP (`TRAP_BRKPT`, `si_addr` = `pc`) into the guest's handler,
/// or death by SIGTRAP as under Linux with no handler (no message: the
/// kernel prints none either).
///
/// # Safety
/// As for [`vmx_undefined`].
#[no_mangle]
pub unsafe extern "C" fn vmx_brk(cpu: *mut CpuState, pc: u64, _imm: u32) {
    // SAFETY: forwarded.
    unsafe { signal::raise_sync(thread::of_cpu(cpu), libc::SIGTRAP, TRAP_BRKPT, pc) };
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
