//! Signal syscalls that need more than forwarding: `rt_sigaction` and
//! `sigaltstack`. (`rt_sigprocmask` and friends are forwarded: the mask
//! applies to the host thread for real, which is what makes `abort()` work.)
//!
//! Signal delivery to guest handlers is not implemented yet. Until it is,
//! the runtime records guest actions without installing host handlers:
//! `SIG_DFL` and `SIG_IGN` are applied to the host (so ignoring `SIGPIPE` or
//! `SIGCHLD` behaves), and a guest handler leaves the host at `SIG_DFL`.
//!
//! Invariants: the host never has a signal handler installed by this
//! module; the guest's view of every action is exactly what it last set (or
//! what the process inherited).

use std::sync::Mutex;

use super::uaccess::{self, Plain};
use super::Call;
use crate::host::{self, Errno, SysResult};

/// The kernel's `struct sigaction`, identical on arm64 (which defines
/// `SA_RESTORER`) and x86-64: handler, flags, restorer, mask.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    /// `SIG_DFL` (0), `SIG_IGN` (1) or the handler's guest address.
    pub handler: u64,
    /// `SA_*` flags (same values on both).
    pub flags: u64,
    /// `sa_restorer` (unused by AArch64 glibc).
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: u64,
}

// SAFETY: only integer fields.
unsafe impl Plain for KernelSigaction {}

/// Kernel `stack_t`, identical on both: pointer, flags, size.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackT {
    /// Base of the alternate stack.
    pub sp: u64,
    /// `SS_DISABLE`, `SS_AUTODISARM`.
    pub flags: i32,
    /// Padding.
    pub pad: i32,
    /// Size in bytes.
    pub size: u64,
}

// SAFETY: only integer fields.
unsafe impl Plain for StackT {}

/// arm64's `MINSIGSTKSZ`, the smallest alternate stack the kernel accepts.
const ARM64_MINSIGSTKSZ: u64 = 5120;
const SIGSET_SIZE: u64 = 8;
const SA_RESTORER: u64 = 0x0400_0000;

/// Guest actions by signal number - 1; `None` until the guest sets one.
static ACTIONS: Mutex<[Option<KernelSigaction>; 64]> = Mutex::new([None; 64]);

/// The alternate signal stack (per process until threads exist).
static ALT_STACK: Mutex<StackT> = Mutex::new(DISABLED);

const DISABLED: StackT = StackT {
    sp: 0,
    flags: libc::SS_DISABLE,
    pad: 0,
    size: 0,
};

fn host_sigaction(sig: i32, new: Option<&KernelSigaction>) -> Result<KernelSigaction, Errno> {
    let mut old = KernelSigaction::default();
    let new = new.map_or(0, |n| n as *const KernelSigaction as u64);
    let args = [sig as u64, new, &raw mut old as u64, SIGSET_SIZE];
    // SAFETY: both pointers are null or point to live KernelSigactions.
    unsafe { host::call(libc::SYS_rt_sigaction, &args)? };
    Ok(old)
}

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(c: &mut Call<'_>) -> SysResult {
    let (sig, act, oldact) = (c.int(0), c.arg(1), c.arg(2));
    if c.arg(3) != SIGSET_SIZE || !(1..=64).contains(&sig) {
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
    let mut actions = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    let slot = &mut actions[sig as usize - 1];
    let old = match *slot {
        Some(a) => a,
        None => host_sigaction(sig, None)?,
    };
    if let Some(mut new) = new {
        new.mask &= !((1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1)));
        let disposition = KernelSigaction {
            handler: if new.handler == libc::SIG_IGN as u64 {
                libc::SIG_IGN as u64
            } else {
                libc::SIG_DFL as u64
            },
            flags: new.flags & !SA_RESTORER,
            restorer: 0,
            mask: new.mask,
        };
        host_sigaction(sig, Some(&disposition))?;
        *slot = Some(new);
    }
    drop(actions);
    if oldact != 0 {
        uaccess::write(oldact, &old)?;
    }
    Ok(0)
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(c: &mut Call<'_>) -> SysResult {
    let (ss, old_ss) = (c.arg(0), c.arg(1));
    let new = if ss != 0 {
        Some(uaccess::read::<StackT>(ss)?)
    } else {
        None
    };
    let mut alt = ALT_STACK.lock().unwrap_or_else(|e| e.into_inner());
    let old = *alt;
    if let Some(n) = new {
        let mode = n.flags & !libc::SS_ONSTACK & !(1 << 31);
        *alt = match mode {
            libc::SS_DISABLE => DISABLED,
            0 if n.size < ARM64_MINSIGSTKSZ => return Err(Errno(libc::ENOMEM)),
            0 => StackT {
                flags: n.flags & (1 << 31),
                pad: 0,
                ..n
            },
            _ => return Err(Errno(libc::EINVAL)),
        };
    }
    drop(alt);
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
    fn sigaction_records_handlers_and_applies_ignore() {
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
        // The host keeps the default action for a guest handler.
        assert_eq!(host_sigaction(sig as i32, None).unwrap().handler, 0);
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
        assert_eq!(host_sigaction(sig as i32, None).unwrap().handler, 1);
        let dfl = KernelSigaction::default();
        uaccess::write(act, &dfl).unwrap();
        assert_eq!(call_with(&[sig, act, 0, 8], rt_sigaction), Ok(0));

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
