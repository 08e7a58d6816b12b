//! Linux/AArch64 system call emulation.
//!
//! Translated code calls [`vmx_syscall`] for `SVC #0`: number in x8,
//! arguments in x0..x5, result (or `-errno`) back in x0, every other
//! register preserved. [`table`] maps numbers to handlers; handlers live in
//! files by topic and convert structures where AArch64 and x86-64 differ.
//!
//! Invariants: a syscall the table does not support returns `-ENOSYS`
//! (named on stderr when `VMXLATE_LOG=syscalls`); with that switch on, every
//! syscall prints exactly one line.

pub mod exec;
mod flags;
mod fs;
mod info;
mod io;
mod ipc;
mod mm;
mod poll;
mod process;
mod shared_layouts;
mod signal;
mod stat;
pub mod table;
pub(crate) mod uaccess;

use vmxlate_abi::CpuState;

use crate::host::Errno;
use crate::log;
use table::{Handler, Syscall};

/// One syscall in progress: the calling thread's registers.
pub struct Call<'c> {
    /// The calling guest thread.
    pub cpu: &'c mut CpuState,
}

impl Call<'_> {
    /// Argument `i` (register x`i`).
    pub fn arg(&self, i: usize) -> u64 {
        self.cpu.x[i]
    }

    /// Argument `i` as a C `int` (the low 32 bits, as the kernel reads it).
    pub fn int(&self, i: usize) -> i32 {
        self.cpu.x[i] as i32
    }

    fn args(&self) -> [u64; 6] {
        let x = &self.cpu.x;
        [x[0], x[1], x[2], x[3], x[4], x[5]]
    }
}

/// Performs the guest syscall in x8 and stores the result in x0, with
/// signals delivered before it (if pending then) and after it (restarting
/// it when it was interrupted and no handler ran).
///
/// # Safety
/// `cpu` must point to the live `CpuState` of the calling guest thread.
#[no_mangle]
pub unsafe extern "C" fn vmx_syscall(cpu: *mut CpuState) {
    // SAFETY: the caller passes its own live CpuState.
    let (nr, orig_x0) = unsafe { ((*cpu).x[8], (*cpu).x[0]) };
    // SAFETY: as above.
    if unsafe { crate::signal::before_syscall(cpu, nr) } {
        return;
    }
    loop {
        // SAFETY: as above; the borrow ends before signal delivery.
        let mut call = Call {
            cpu: unsafe { &mut *cpu },
        };
        let ret = match table::find(nr) {
            Some(sc) => perform(sc, &mut call),
            None => unsupported(nr, "?"),
        };
        call.cpu.x[0] = ret as u64;
        // SAFETY: as above.
        if !unsafe { crate::signal::after_syscall(cpu, nr, orig_x0) } {
            return;
        }
        // SAFETY: as above.
        unsafe { (*cpu).x[0] = orig_x0 };
    }
}

fn perform(sc: &Syscall, call: &mut Call<'_>) -> i64 {
    let Some(imp) = sc.imp else {
        return unsupported(sc.nr, sc.name);
    };
    let args = call.args();
    let ret = match imp.handler {
        // SAFETY: `Pass` entries name host syscalls whose arguments and
        // structures are identical on AArch64; guest pointers are host
        // pointers (identity memory), so the host kernel checks them.
        Handler::Pass(host_nr) => unsafe {
            crate::signal::host::raw_interruptible(host_nr, &args, &raw const call.cpu.pending)
        },
        Handler::Emulate(f) => f(call).unwrap_or_else(Errno::to_guest),
        Handler::NoReturn(f) => {
            if log::syscalls() {
                trace(sc.name, &args[..imp.argc], format_args!("?"));
            }
            f(call)
        }
        Handler::Fail(errno) => Errno(errno).to_guest(),
    };
    if log::syscalls() {
        if ret >= 0x1_0000 {
            trace(sc.name, &args[..imp.argc], format_args!("0x{ret:x}"));
        } else {
            trace(sc.name, &args[..imp.argc], format_args!("{ret}"));
        }
    }
    ret
}

fn unsupported(nr: u64, name: &str) -> i64 {
    if log::syscalls() {
        log::line(format_args!("unsupported syscall {nr} ({name})"));
    }
    Errno(libc::ENOSYS).to_guest()
}

fn trace(name: &str, args: &[u64], ret: core::fmt::Arguments<'_>) {
    let args: Vec<String> = args.iter().map(|a| format!("0x{a:x}")).collect();
    log::line(format_args!("syscall {name}({}) = {ret}", args.join(", ")));
}
