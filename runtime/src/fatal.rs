//! Every way the runtime ends the process because the guest cannot go on.
//!
//! Invariants: each path prints at most one `vmxlate:` line, then dies the
//! way a real AArch64 Linux process would in that situation (by the same
//! signal, with the default action, so the exit status matches), or, for
//! failures of vmxlate itself, exits with [`LOAD_FAILURE_STATUS`]. Nothing is
//! flushed: the guest owns its stdio buffers.

use core::fmt;

use crate::{host, log};

/// Exit status when the guest image cannot be loaded (like a failed exec).
pub const LOAD_FAILURE_STATUS: i32 = 127;

/// The guest jumped to an address with no translation: report it and die by
/// SIGSEGV, like a jump to non-code would on real hardware.
pub fn no_translation(pc: u64) -> ! {
    log::line(format_args!("no translation for guest PC 0x{pc:x}"));
    die_by_signal(libc::SIGSEGV)
}

/// The guest reached an instruction the translator could not translate.
pub fn unsupported_instruction(pc: u64, word: u32, disasm: &str) -> ! {
    log::line(format_args!(
        "unsupported instruction at 0x{pc:x}: {word:08x} {disasm}"
    ));
    die_by_signal(libc::SIGILL)
}

/// The guest image could not be loaded or the runtime could not start it.
pub fn startup_failure(reason: fmt::Arguments<'_>) -> ! {
    log::line(format_args!("cannot start guest: {reason}"));
    host::exit_group(LOAD_FAILURE_STATUS)
}

/// Terminates the process by `sig` with its default action (restoring the
/// default disposition and unblocking it first). Falls back to exiting with
/// `128 + sig` should the signal somehow not end the process.
pub fn die_by_signal(sig: i32) -> ! {
    // SAFETY: plain libc calls on a valid signal number with valid local
    // pointers; the default disposition ends (or stops and then ends) us.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, core::ptr::null_mut());
        libc::raise(sig);
    }
    host::exit_group(128 + sig)
}
