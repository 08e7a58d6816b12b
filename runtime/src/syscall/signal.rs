//! Signal syscalls: actions, per-thread masks, pending sets, waiting for
//! signals, the alternate stack and `rt_sigreturn`. The machinery behind
//! them (host handlers, frames, delivery) is [`crate::signal`].
//!
//! Invariants: the guest's view of every action is exactly what it last set
//! (or what the process inherited); a thread's mask never holds SIGKILL or
//! SIGSTOP; every call that changes the mask leaves the host mask equal to
//! `mask | deferred` ([`signal::sync_host_mask`]).

use core::sync::atomic::Ordering;

use super::uaccess;
use super::Call;
use crate::host::{self, Errno, SysResult};
use crate::signal::{self, KernelSigaction, StackT, ARM64_MINSIGSTKSZ, DISABLED, UNBLOCKABLE};
use crate::thread;

const SIGSET_SIZE: u64 = 8;

fn check_sigset_size(size: u64) -> Result<(), Errno> {
    if size == SIGSET_SIZE {
        Ok(())
    } else {
        Err(Errno(libc::EINVAL))
    }
}

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(c: &mut Call<'_>) -> SysResult {
    let (sig, act, oldact) = (c.int(0), c.arg(1), c.arg(2));
    check_sigset_size(c.arg(3))?;
    if !(1..=64).contains(&sig) {
        return Err(Errno(libc::EINVAL));
    }
    let new = if act != 0 {
        Some(uaccess::read::<KernelSigaction>(act)?)
    } else {
        None
    };
    if new.is_some() && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return Err(Errno(libc::EINVAL));
    }
    let old = signal::set_action(sig, new)?;
    if oldact != 0 {
        uaccess::write(oldact, &old)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`: the calling thread's
/// mask.
pub fn rt_sigprocmask(c: &mut Call<'_>) -> SysResult {
    let (how, set, oldset) = (c.int(0), c.arg(1), c.arg(2));
    check_sigset_size(c.arg(3))?;
    let old = signal::guest_mask();
    if set != 0 {
        let s: u64 = uaccess::read(set)?;
        let new = match how {
            libc::SIG_BLOCK => old | s,
            libc::SIG_UNBLOCK => old & !s,
            libc::SIG_SETMASK => s,
            _ => return Err(Errno(libc::EINVAL)),
        };
        if oldset != 0 {
            uaccess::write(oldset, &old)?;
        }
        signal::set_mask(new);
    } else if oldset != 0 {
        uaccess::write(oldset, &old)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`: signals waiting for delivery, in the
/// kernel or recorded by the runtime.
pub fn rt_sigpending(c: &mut Call<'_>) -> SysResult {
    check_sigset_size(c.arg(1))?;
    let mut host_set = 0u64;
    // SAFETY: a live 8-byte set.
    unsafe {
        host::call(
            libc::SYS_rt_sigpending,
            &[&raw mut host_set as u64, SIGSET_SIZE],
        )?
    };
    // SAFETY: a short borrow of this thread's bookkeeping.
    let deferred = unsafe { thread::ext() }.sig.deferred.load(Ordering::SeqCst);
    uaccess::write(c.arg(0), &(host_set | deferred))?;
    Ok(0)
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` until a handler
/// runs; the handler's frame restores the old mask.
pub fn rt_sigsuspend(c: &mut Call<'_>) -> SysResult {
    check_sigset_size(c.arg(1))?;
    let new: u64 = uaccess::read(c.arg(0))?;
    let new = new & !UNBLOCKABLE;
    // SAFETY: a short borrow of this thread's bookkeeping.
    let sig = &mut unsafe { thread::ext() }.sig;
    sig.saved_mask = Some(sig.mask);
    sig.mask = new;
    let deferred = sig.deferred.load(Ordering::SeqCst);
    if deferred & !new == 0 {
        let host_set = new | deferred;
        // SAFETY: a live 8-byte set; returns once a host handler ran.
        let _ = unsafe {
            host::call(
                libc::SYS_rt_sigsuspend,
                &[&raw const host_set as u64, SIGSET_SIZE],
            )
        };
    }
    signal::sync_host_mask();
    Err(Errno(libc::EINTR))
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a signal in
/// `set` recorded by the runtime, else waits in the kernel.
pub fn rt_sigtimedwait(c: &mut Call<'_>) -> SysResult {
    let (set, info, timeout) = (c.arg(0), c.arg(1), c.arg(2));
    check_sigset_size(c.arg(3))?;
    let want: u64 = uaccess::read(set)?;
    let want = want & !UNBLOCKABLE;
    // SAFETY: a short borrow of this thread's bookkeeping.
    let sig = &unsafe { thread::ext() }.sig;
    let ready = sig.deferred.load(Ordering::SeqCst) & want;
    if ready != 0 {
        let signo = ready.trailing_zeros() as i32 + 1;
        let bytes = sig.take(signo);
        signal::sync_host_mask();
        if info != 0 {
            uaccess::write_bytes(info, &bytes)?;
        }
        return Ok(signo.into());
    }
    // siginfo and timespec have the same layout on both; guest pointers are
    // host pointers, checked by the kernel.
    let args = [&raw const want as u64, info, timeout, SIGSET_SIZE];
    // SAFETY: `want` is live; the other pointers are guest memory.
    unsafe { host::call(libc::SYS_rt_sigtimedwait, &args) }
}

/// `rt_sigreturn()`: back from a handler; the frame at SP gives every
/// register (x0 is the result).
pub fn rt_sigreturn(c: &mut Call<'_>) -> SysResult {
    // SAFETY: the CpuState of a syscall is the `cpu` of its thread's
    // `Thread`; every register is in it during the syscall.
    let t = unsafe { thread::of_cpu(&raw mut *c.cpu) };
    // SAFETY: as above.
    unsafe { signal::sigreturn(t) };
    Ok(c.cpu.x[0] as i64)
}

/// Whether guest stack pointer `sp` is on the alternate stack `alt`.
fn on_stack(alt: &StackT, sp: u64) -> bool {
    alt.flags & libc::SS_DISABLE == 0 && sp > alt.sp && sp <= alt.sp + alt.size
}

/// `sigaltstack(ss, old_ss)`: the calling thread's alternate stack.
pub fn sigaltstack(c: &mut Call<'_>) -> SysResult {
    let (ss, old_ss, sp) = (c.arg(0), c.arg(1), c.cpu.x[31]);
    let new = if ss != 0 {
        Some(uaccess::read::<StackT>(ss)?)
    } else {
        None
    };
    // SAFETY: a short borrow of this thread's bookkeeping.
    let alt = &mut unsafe { thread::ext() }.sig.altstack;
    let mut old = *alt;
    if on_stack(alt, sp) {
        old.flags |= libc::SS_ONSTACK;
    }
    if let Some(n) = new {
        if on_stack(alt, sp) {
            return Err(Errno(libc::EPERM));
        }
        let mode = n.flags & !signal::SS_AUTODISARM;
        *alt = match mode {
            libc::SS_DISABLE => DISABLED,
            0 | libc::SS_ONSTACK if n.size < ARM64_MINSIGSTKSZ => return Err(Errno(libc::ENOMEM)),
            0 | libc::SS_ONSTACK => StackT {
                flags: n.flags & signal::SS_AUTODISARM,
                pad: 0,
                ..n
            },
            _ => return Err(Errno(libc::EINVAL)),
        };
    }
    if old_ss != 0 {
        uaccess::write(old_ss, &old)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::tests::call_with;
    use super::super::uaccess::tests::guest_pages;
    use super::*;

    #[test]
    fn sigaction_records_handlers_and_installs_host_dispositions() {
        let buf = guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
        let (act, old) = (buf, buf + 64);
        let sig = libc::SIGUSR2 as u64;
        let handler = KernelSigaction {
            handler: 0x40_1234,
            flags: libc::SA_SIGINFO as u64,
            restorer: 0,
            mask: u64::MAX,
        };
        uaccess::write(act, &handler).unwrap();
        assert_eq!(call_with(&[sig, act, old, 8], rt_sigaction), Ok(0));
        let prev: KernelSigaction = uaccess::read(old).unwrap();
        assert_eq!(prev.handler, libc::SIG_DFL as u64);
        assert_eq!(call_with(&[sig, 0, old, 8], rt_sigaction), Ok(0));
        let got: KernelSigaction = uaccess::read(old).unwrap();
        assert_eq!(got.handler, 0x40_1234);
        assert_eq!(got.mask, !((1 << 8) | (1 << 18)));

        let ignore = KernelSigaction {
            handler: libc::SIG_IGN as u64,
            ..Default::default()
        };
        uaccess::write(act, &ignore).unwrap();
        assert_eq!(call_with(&[sig, act, 0, 8], rt_sigaction), Ok(0));
        assert_eq!(signal::host::query(sig as i32).unwrap().handler, 1);
        let dfl = KernelSigaction::default();
        uaccess::write(act, &dfl).unwrap();
        assert_eq!(call_with(&[sig, act, 0, 8], rt_sigaction), Ok(0));
        assert_eq!(signal::host::query(sig as i32).unwrap().handler, 0);

        let kill = libc::SIGKILL as u64;
        assert_eq!(
            call_with(&[kill, act, 0, 8], rt_sigaction),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(
            call_with(&[sig, act, 0, 16], rt_sigaction),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(
            call_with(&[sig, 8, 0, 8], rt_sigaction),
            Err(Errno(libc::EFAULT))
        );
    }

    #[test]
    fn sigprocmask_is_per_thread_and_reaches_the_host() {
        std::thread::spawn(|| {
            let buf = guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
            let (set, old) = (buf, buf + 8);
            let usr1 = signal::bit(libc::SIGUSR1);
            let block = usr1 | signal::bit(libc::SIGKILL);
            uaccess::write(set, &block).unwrap();
            let how = libc::SIG_BLOCK as u64;
            assert_eq!(call_with(&[how, set, old, 8], rt_sigprocmask), Ok(0));
            assert_eq!(signal::guest_mask(), usr1);
            let host_now = signal::set_host_mask(0);
            assert_eq!(host_now, usr1);
            let unblock = libc::SIG_UNBLOCK as u64;
            assert_eq!(call_with(&[unblock, set, old, 8], rt_sigprocmask), Ok(0));
            assert_eq!(uaccess::read::<u64>(old).unwrap(), usr1);
            assert_eq!(signal::guest_mask(), 0);
            assert_eq!(
                call_with(&[9, set, old, 8], rt_sigprocmask),
                Err(Errno(libc::EINVAL))
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn sigaltstack_validates_and_reports() {
        let buf = guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
        let (ss, old) = (buf, buf + 64);
        let small = StackT {
            sp: 0x1000,
            flags: 0,
            pad: 0,
            size: 4096,
        };
        uaccess::write(ss, &small).unwrap();
        assert_eq!(call_with(&[ss, 0], sigaltstack), Err(Errno(libc::ENOMEM)));
        let good = StackT {
            size: 8192,
            ..small
        };
        uaccess::write(ss, &good).unwrap();
        assert_eq!(call_with(&[ss, old], sigaltstack), Ok(0));
        assert_eq!(
            uaccess::read::<StackT>(old).unwrap().flags,
            libc::SS_DISABLE
        );
        assert_eq!(call_with(&[0, old], sigaltstack), Ok(0));
        assert_eq!(uaccess::read::<StackT>(old).unwrap(), good);
    }
}
