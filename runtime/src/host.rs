//! Raw system calls on the host (x86-64 Linux).
//!
//! Owns the one `syscall` instruction of the runtime and the [`Errno`] /
//! [`SysResult`] vocabulary every syscall path uses.
//!
//! Invariants: nothing here reads or writes the C `errno`; a host result is
//! either a non-negative value or `-errno` in `-4095..=-1`, exactly as the
//! kernel returns it. Syscall numbers here are *host* numbers (`libc::SYS_*`).

use core::arch::asm;
use libc::c_long;

/// A Linux error number (positive, e.g. `libc::ENOENT`). Linux/AArch64 uses
/// the asm-generic numbering, which x86-64 shares, so one value serves both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// Result of a syscall: the non-negative return value or an [`Errno`].
pub type SysResult = Result<i64, Errno>;

impl Errno {
    /// The value the guest sees in x0: `-errno`.
    pub fn to_guest(self) -> i64 {
        -i64::from(self.0)
    }
}

/// Splits a raw kernel return value into success or [`Errno`].
pub fn check(raw: i64) -> SysResult {
    if (-4095..0).contains(&raw) {
        Err(Errno(-raw as i32))
    } else {
        Ok(raw)
    }
}

/// Performs host syscall `nr` with up to six arguments (missing ones are 0)
/// and returns the raw kernel result.
///
/// # Safety
/// The arguments must be valid for syscall `nr`: memory the kernel reads or
/// writes must be valid for that access, and the call must not unmap, remap
/// or overwrite memory the runtime itself is using.
pub unsafe fn raw(nr: c_long, args: &[u64]) -> i64 {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let ret: i64;
    // SAFETY: the caller guarantees the arguments are valid for `nr`; the
    // `syscall` instruction clobbers only rax (result), rcx and r11.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Performs host syscall `nr` and splits the result with [`check`].
///
/// # Safety
/// As for [`raw`].
pub unsafe fn call(nr: c_long, args: &[u64]) -> SysResult {
    // SAFETY: forwarded to the caller.
    check(unsafe { raw(nr, args) })
}

/// `mmap` on the host; returns the mapped address.
///
/// # Safety
/// With `MAP_FIXED` the range must not hold memory the runtime uses; a file
/// descriptor, if any, must be valid.
pub unsafe fn mmap(addr: u64, len: u64, prot: i32, flags: i32, fd: i32, off: u64) -> SysResult {
    let args = [addr, len, prot as u64, flags as u64, fd as u64, off];
    // SAFETY: forwarded to the caller.
    unsafe { call(libc::SYS_mmap, &args) }
}

/// `mprotect` on the host.
///
/// # Safety
/// The range must not hold memory the runtime uses with stronger needs.
pub unsafe fn mprotect(addr: u64, len: u64, prot: i32) -> SysResult {
    // SAFETY: forwarded to the caller.
    unsafe { call(libc::SYS_mprotect, &[addr, len, prot as u64]) }
}

/// `munmap` on the host.
///
/// # Safety
/// The range must not hold memory the runtime uses.
pub unsafe fn munmap(addr: u64, len: u64) -> SysResult {
    // SAFETY: forwarded to the caller.
    unsafe { call(libc::SYS_munmap, &[addr, len]) }
}

/// Ends the whole process with `status` (host `exit_group`), flushing nothing.
pub fn exit_group(status: i32) -> ! {
    loop {
        // SAFETY: exit_group takes no pointers and does not return.
        unsafe { raw(libc::SYS_exit_group, &[status as u64]) };
    }
}

/// Ends the calling thread with `status` (host `exit`).
pub fn exit_thread(status: i32) -> ! {
    loop {
        // SAFETY: exit takes no pointers and does not return.
        unsafe { raw(libc::SYS_exit, &[status as u64]) };
    }
}

/// Writes all of `bytes` to host file descriptor `fd`, retrying short writes;
/// errors are ignored (used for diagnostics only).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live slice of the given length.
        let r = unsafe {
            raw(
                libc::SYS_write,
                &[fd as u64, bytes.as_ptr() as u64, bytes.len() as u64],
            )
        };
        match check(r) {
            Ok(n) if n > 0 => bytes = &bytes[n as usize..],
            Err(Errno(libc::EINTR)) => {}
            _ => return,
        }
    }
}
