//! Process syscalls that need more than forwarding: `exit`, `exit_group`,
//! `clone` (fork-like only, until threads exist) and `prctl` (options that
//! mean the same on both architectures).
//!
//! Invariants: a guest `clone` never gives the host `CLONE_VM` (translated
//! code runs on the host stack, which two live contexts cannot share) nor
//! `CLONE_SETTLS` (the guest thread pointer is `CpuState::tpidr`, never the
//! host's FS base); the child's guest SP and TPIDR are set as the kernel
//! would set them.

use super::Call;
use crate::host::{self, Errno, SysResult};
use crate::log;

/// `exit(status)`: ends the calling thread.
pub fn exit(c: &mut Call<'_>) -> ! {
    host::exit_thread(c.int(0))
}

/// `exit_group(status)`: ends the process.
pub fn exit_group(c: &mut Call<'_>) -> ! {
    host::exit_group(c.int(0))
}

const CLONE_VM: u64 = libc::CLONE_VM as u64;
const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;
const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
const CLONE_SIGHAND: u64 = libc::CLONE_SIGHAND as u64;
const CLONE_SETTLS: u64 = libc::CLONE_SETTLS as u64;

/// `clone(flags, newsp, parent_tid, tls, child_tid)` (the AArch64 argument
/// order). New processes only: `fork`-style calls are forwarded; a
/// `vfork`-style call (`CLONE_VM | CLONE_VFORK`) becomes a vfork without
/// shared memory (the parent still waits until the child execs or exits,
/// but the child's writes to memory are not seen by the parent). Threads
/// (`CLONE_THREAD`, or `CLONE_VM` alone) are not supported yet: `ENOSYS`.
pub fn clone(c: &mut Call<'_>) -> SysResult {
    let (flags, newsp, ptid, tls, ctid) = (c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4));
    if flags & CLONE_THREAD != 0 || (flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0) {
        if log::syscalls() {
            log::line(format_args!("unsupported clone flags 0x{flags:x}"));
        }
        return Err(Errno(libc::ENOSYS));
    }
    let host_flags = flags & !(CLONE_VM | CLONE_SIGHAND | CLONE_SETTLS);
    // SAFETY: without CLONE_VM the child gets its own copy of the address
    // space and continues here on its copy of the host stack, like fork;
    // the tid pointers are guest memory the kernel checks. x86-64 orders
    // the arguments flags, newsp, parent_tid, child_tid, tls.
    let pid = unsafe { host::call(libc::SYS_clone, &[host_flags, 0, ptid, ctid, 0])? };
    if pid == 0 {
        if newsp != 0 {
            c.cpu.x[31] = newsp;
        }
        if flags & CLONE_SETTLS != 0 {
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
    fn threads_are_refused_and_prctl_filtered() {
        let thread = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
        assert_eq!(
            call_with(&[thread, 0x1000], clone),
            Err(Errno(libc::ENOSYS))
        );
        assert_eq!(
            call_with(&[CLONE_VM, 0x1000], clone),
            Err(Errno(libc::ENOSYS))
        );
        let pr_sve_get_vl = 51;
        assert_eq!(call_with(&[pr_sve_get_vl], prctl), Err(Errno(libc::EINVAL)));
        let dumpable = call_with(&[libc::PR_GET_DUMPABLE as u64], prctl).unwrap();
        assert!(dumpable == 0 || dumpable == 1);
    }
}
