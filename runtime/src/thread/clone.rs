//! Starting guest threads (`clone` with `CLONE_THREAD`) on new host threads.
//!
//! The child's registers are a copy of the parent's at the `svc` (its PC
//! is already the instruction after it, a dispatcher entry) with x0 = 0,
//! SP = the new stack and TPIDR_EL0 = the new TLS, as the kernel sets them.
//! The child publishes its tid (`CLONE_PARENT_SETTID`,
//! `CLONE_CHILD_SETTID`) before the parent's `clone` returns and before
//! either runs guest code again, which is what glibc relies on.
//!
//! Invariant: the host thread is made with every host signal blocked; the
//! child installs the guest's mask only after publishing its `Thread`.

use std::sync::mpsc;

use vmxlate_abi::CpuState;

use super::{host_tid, release_tid_word, set_current, Thread};
use crate::host::{Errno, SysResult};
use crate::signal::{self, SigState};
use crate::{dispatch, host};

/// `clone` flags as the AArch64 kernel defines them.
pub mod flags {
    /// Share the address space.
    pub const VM: u64 = 0x100;
    /// Share the filesystem information.
    pub const FS: u64 = 0x200;
    /// Share the file descriptor table.
    pub const FILES: u64 = 0x400;
    /// Share signal handlers.
    pub const SIGHAND: u64 = 0x800;
    /// The parent sleeps until the child execs or exits.
    pub const VFORK: u64 = 0x4000;
    /// Same thread group.
    pub const THREAD: u64 = 0x1_0000;
    /// Share System V semaphore undo lists.
    pub const SYSVSEM: u64 = 0x4_0000;
    /// Set the thread pointer.
    pub const SETTLS: u64 = 0x8_0000;
    /// Store the child's tid at `parent_tid`.
    pub const PARENT_SETTID: u64 = 0x10_0000;
    /// Zero and wake `child_tid` when the child exits.
    pub const CHILD_CLEARTID: u64 = 0x20_0000;
    /// Store the child's tid at `child_tid` in the child.
    pub const CHILD_SETTID: u64 = 0x100_0000;
}

/// Host stack size of a guest thread's host thread: room for deeply nested
/// translated frames (see `CpuState::stack_limit`) plus the runtime's
/// reserve (only touched pages cost memory).
const HOST_STACK: usize = 64 << 20;

/// The kind of `clone` a flag set asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new thread in this process.
    Thread,
    /// A new process (fork; vfork is done as fork with the parent waiting).
    Process,
}

/// Classifies `clone` flags as the kernel validates them: `CLONE_THREAD`
/// needs `CLONE_SIGHAND`, which needs `CLONE_VM`; a process sharing our
/// memory without being a thread or a vfork child is not supported.
pub fn classify(f: u64) -> Result<Kind, Errno> {
    use flags::*;
    if f & THREAD != 0 && f & SIGHAND == 0 || f & SIGHAND != 0 && f & VM == 0 {
        return Err(Errno(libc::EINVAL));
    }
    if f & THREAD != 0 {
        return Ok(Kind::Thread);
    }
    if f & VM != 0 && f & VFORK == 0 {
        return Err(Errno(libc::ENOSYS));
    }
    Ok(Kind::Process)
}

/// Starts a guest thread for `clone(flags, newsp, parent_tid, tls,
/// child_tid)` called with registers `cpu`; returns the child's tid.
pub fn spawn_thread(
    cpu: &CpuState,
    f: u64,
    newsp: u64,
    ptid: u64,
    tls: u64,
    ctid: u64,
) -> SysResult {
    let mut child = cpu.clone();
    child.x[0] = 0;
    if newsp != 0 {
        child.x[31] = newsp;
    }
    if f & flags::SETTLS != 0 {
        child.tpidr = tls;
    }
    child.pending = 0;
    child.excl_addr = u64::MAX;
    let mask = signal::guest_mask();
    let (tx, rx) = mpsc::channel::<i32>();
    let all = signal::block_all_host();
    let spawned = std::thread::Builder::new()
        .stack_size(HOST_STACK)
        .spawn(move || thread_main(child, mask, f, ptid, ctid, tx));
    signal::set_host_mask(all);
    if spawned.is_err() {
        return Err(Errno(libc::EAGAIN));
    }
    rx.recv().map(i64::from).map_err(|_| Errno(libc::EAGAIN))
}

fn thread_main(cpu: CpuState, mask: u64, f: u64, ptid: u64, ctid: u64, tx: mpsc::Sender<i32>) {
    let tid = host_tid();
    let t = Thread::new(cpu, tid, false, SigState::new(mask));
    set_current(t);
    // SAFETY: `t` was just made and is owned by this thread.
    let ext = unsafe { &mut (*t).ext };
    if f & flags::CHILD_CLEARTID != 0 {
        ext.clear_child_tid = ctid;
    }
    // The kernel writes the tid words without failing the clone; so do we.
    if f & flags::PARENT_SETTID != 0 {
        let _ = crate::syscall::uaccess::write(ptid, &(tid as u32));
    }
    if f & flags::CHILD_SETTID != 0 {
        let _ = crate::syscall::uaccess::write(ctid, &(tid as u32));
    }
    if tx.send(tid).is_err() {
        host::exit_thread(0);
    }
    signal::sync_host_mask();
    // SAFETY: `t` is this thread's live guest thread.
    unsafe { dispatch::run(t) };
    // The guest called `exit`.
    // SAFETY: as above; guest code no longer runs on this thread.
    release_tid_word(unsafe { &mut (*t).ext });
    set_current(core::ptr::null_mut());
    // SAFETY: nothing refers to `t` any more.
    unsafe { Thread::free(t) };
}

#[cfg(test)]
mod tests {
    use super::flags::*;
    use super::*;

    #[test]
    fn clone_flags_are_validated_like_the_kernel() {
        let glibc_thread =
            VM | FS | FILES | SIGHAND | THREAD | SYSVSEM | SETTLS | PARENT_SETTID | CHILD_CLEARTID;
        assert_eq!(classify(glibc_thread), Ok(Kind::Thread));
        let fork = CHILD_SETTID | CHILD_CLEARTID | libc::SIGCHLD as u64;
        assert_eq!(classify(fork), Ok(Kind::Process));
        assert_eq!(
            classify(VM | VFORK | libc::SIGCHLD as u64),
            Ok(Kind::Process)
        );
        assert_eq!(classify(THREAD | VM), Err(Errno(libc::EINVAL)));
        assert_eq!(classify(SIGHAND), Err(Errno(libc::EINVAL)));
        assert_eq!(classify(VM), Err(Errno(libc::ENOSYS)));
    }
}
