//! Process syscalls that need more than forwarding: `exit`, `exit_group`,
//! `clone` (threads and new processes), `set_tid_address` and `prctl`
//! (options that mean the same on both architectures).
//!
//! Invariants: a host `clone` made for the guest never has `CLONE_VM` (a
//! guest thread is a host thread made by the runtime, see
//! [`crate::thread::clone`]; a vfork child gets a copy of memory) nor
//! `CLONE_SETTLS` (the guest thread pointer is `CpuState::tpidr`, never the
//! host's FS base); the child's guest SP and TPIDR are set as the kernel
//! would set them. The runtime's memory map lock is held across a fork so
//! the child never inherits it locked by a thread it does not have.

use super::Call;
use crate::host::{self, Errno, SysResult};
use crate::log;
use crate::memory::vma;
use crate::thread::{self, clone};

/// `exit(status)`: ends the calling thread. The first thread ends at once
/// (its host thread must not return); another one returns to its
/// dispatcher loop, which ends the host thread.
pub fn exit(c: &mut Call<'_>) -> SysResult {
    // SAFETY: a short borrow of this thread's bookkeeping.
    let ext = unsafe { thread::ext() };
    if ext.main {
        thread::release_tid_word(ext);
        if log::syscalls() {
            // The one line every syscall logs; this one never returns.
            log::line(format_args!("syscall exit(0x{:x}) = ?", c.arg(0)));
        }
        host::exit_thread(c.int(0))
    }
    ext.exiting = true;
    // No return address matches: every translated frame returns.
    c.cpu.pc = 0;
    Ok(0)
}

/// `exit_group(status)`: ends the process.
pub fn exit_group(c: &mut Call<'_>) -> ! {
    host::exit_group(c.int(0))
}

/// `set_tid_address(tidptr)`: the word zeroed and woken when the thread
/// exits; returns the tid.
pub fn set_tid_address(c: &mut Call<'_>) -> SysResult {
    // SAFETY: a short borrow of this thread's bookkeeping.
    let ext = unsafe { thread::ext() };
    ext.clear_child_tid = c.arg(0);
    Ok(thread::host_tid().into())
}

/// `clone(flags, newsp, parent_tid, tls, child_tid)` (the AArch64 argument
/// order). Threads start on a new host thread; new processes are forked
/// (a `vfork`-style call too: the parent still waits until the child execs
/// or exits, but the child's writes to memory are not seen by the parent).
/// Fork keeps only the calling thread, as in Linux.
pub fn clone(c: &mut Call<'_>) -> SysResult {
    let (flags, newsp, ptid, tls, ctid) = (c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4));
    if clone::classify(flags)? == clone::Kind::Thread {
        return clone::spawn_thread(c.cpu, flags, newsp, ptid, tls, ctid);
    }
    let host_flags = flags & !(clone::flags::VM | clone::flags::SIGHAND | clone::flags::SETTLS);
    let held = vma::lock();
    // SAFETY: without CLONE_VM the child gets its own copy of the address
    // space and continues here on its copy of the host stack, like fork;
    // the tid pointers are guest memory the kernel checks. x86-64 orders
    // the arguments flags, newsp, parent_tid, child_tid, tls.
    let pid = unsafe { host::call(libc::SYS_clone, &[host_flags, 0, ptid, ctid, 0]) };
    drop(held);
    let pid = pid?;
    if pid == 0 {
        // SAFETY: a short borrow of this thread's bookkeeping.
        let ext = unsafe { thread::ext() };
        ext.tid = thread::host_tid();
        ext.main = true;
        if newsp != 0 {
            c.cpu.x[31] = newsp;
        }
        if flags & clone::flags::SETTLS != 0 {
            c.cpu.tpidr = tls;
        }
    }
    Ok(pid)
}

/// `prctl` options forwarded to the host: their meaning and arguments are
/// architecture-independent.
const SHARED_PRCTL: &[i32] = &[
    libc::PR_SET_PDEATHSIG,
    libc::PR_GET_PDEATHSIG,
    libc::PR_GET_DUMPABLE,
    libc::PR_SET_DUMPABLE,
    libc::PR_SET_NAME,
    libc::PR_GET_NAME,
    libc::PR_SET_CHILD_SUBREAPER,
    libc::PR_GET_CHILD_SUBREAPER,
    libc::PR_SET_NO_NEW_PRIVS,
    libc::PR_GET_NO_NEW_PRIVS,
    libc::PR_SET_VMA,
    libc::PR_GET_KEEPCAPS,
    libc::PR_SET_KEEPCAPS,
    libc::PR_GET_TIMING,
    libc::PR_GET_SECCOMP,
    libc::PR_CAPBSET_READ,
    libc::PR_CAPBSET_DROP,
    libc::PR_GET_SECUREBITS,
    libc::PR_SET_SECUREBITS,
    libc::PR_GET_TIMERSLACK,
    libc::PR_SET_TIMERSLACK,
    libc::PR_MCE_KILL_GET,
    libc::PR_SET_PTRACER,
    libc::PR_SET_THP_DISABLE,
    libc::PR_GET_THP_DISABLE,
    libc::PR_CAP_AMBIENT,
];

/// `prctl(option, ...)`: shared options are forwarded; the rest (including
/// arm64-only ones such as SVE, pointer-authentication and tagged-address
/// controls) fail with `EINVAL`, as on a CPU without those features.
pub fn prctl(c: &mut Call<'_>) -> SysResult {
    if !SHARED_PRCTL.contains(&c.int(0)) {
        return Err(Errno(libc::EINVAL));
    }
    let args = [c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4)];
    // SAFETY: these options take integers or small buffers (names) in guest
    // memory that the kernel checks.
    unsafe { host::call(libc::SYS_prctl, &args) }
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::tests::call_with;
    use super::*;

    #[test]
    fn bad_clone_flags_are_refused_and_prctl_filtered() {
        use clone::flags::*;
        assert_eq!(
            call_with(&[THREAD | VM, 0x1000], clone),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(call_with(&[VM, 0x1000], clone), Err(Errno(libc::ENOSYS)));
        let pr_sve_get_vl = 51;
        assert_eq!(call_with(&[pr_sve_get_vl], prctl), Err(Errno(libc::EINVAL)));
        let dumpable = call_with(&[libc::PR_GET_DUMPABLE as u64], prctl).unwrap();
        assert!(dumpable == 0 || dumpable == 1);
    }

    #[test]
    fn set_tid_address_returns_the_tid() {
        let tid = call_with(&[0x1234], set_tid_address).unwrap();
        assert_eq!(tid, i64::from(thread::host_tid()));
    }
}
