//! Guest signals: actions, per-thread masks and pending sets, delivery to
//! guest handlers through AArch64 signal frames ([`frame`]), and the host
//! signal handler that feeds them ([`host`]).
//!
//! How a signal reaches a guest handler:
//! 1. The guest sets a handler: the runtime installs its own host handler
//!    for that signal ([`host::install`]); default and ignore dispositions
//!    go to the host unchanged, so the kernel carries them out (and a
//!    default fatal signal ends the process with the right status).
//! 2. The kernel delivers the host signal to a thread not blocking it (the
//!    host mask is the guest mask, see below). The host handler only
//!    records it: siginfo into the thread's slot, the bit into `deferred`,
//!    `CpuState::pending` = 1 and `CpuState::stack_limit` = `u64::MAX`
//!    (which sends translated code to its next safe point's slow path), and
//!    the signal stays host-blocked on return.
//! 3. At the next safe point (function entry, loop header, syscall return,
//!    dispatcher loop) [`deliver`] builds the frame and points the guest PC
//!    at the handler; translated code then returns to the dispatcher.
//! 4. The handler returns through `rt_sigreturn` ([`sigreturn`]).
//!
//! Synchronous faults in translated code are handled by [`host`] directly.
//!
//! Invariants: a thread's host mask is always `mask | deferred` (plus, in
//! the host handler's own frame, everything); a deferred signal is in
//! `deferred` until delivered or dropped; the host handler never takes a
//! lock or allocates; guest actions change only under [`ACTIONS`].

mod deliver;
pub mod frame;
pub mod host;
pub mod resume;

pub use deliver::{
    after_syscall, before_syscall, deliver, enter_handler, fault_info, raise_sync, sigreturn,
    sync_action, vmx_safepoint, Interrupted,
};

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::host::{self as hostsys, Errno};
use crate::syscall::uaccess::Plain;
use crate::thread::{self, Thread};

/// The bit of signal `sig` (1..=64) in a 64-bit signal set.
pub const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// Signals no mask can block.
pub const UNBLOCKABLE: u64 = bit(libc::SIGKILL) | bit(libc::SIGSTOP);

/// `SA_RESTORER` (arm64 defines it; same value as x86-64).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// arm64's `MINSIGSTKSZ`, the smallest alternate stack the kernel accepts.
pub const ARM64_MINSIGSTKSZ: u64 = 5120;
/// `SS_AUTODISARM`.
pub const SS_AUTODISARM: i32 = 1 << 31;

/// The kernel's `struct sigaction`, identical on arm64 and x86-64:
/// handler, flags, restorer, mask.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    /// `SIG_DFL` (0), `SIG_IGN` (1) or the handler's guest address.
    pub handler: u64,
    /// `SA_*` flags (same values on both).
    pub flags: u64,
    /// `sa_restorer`: where the handler returns to with `SA_RESTORER`.
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

/// A disabled alternate stack.
pub const DISABLED: StackT = StackT {
    sp: 0,
    flags: libc::SS_DISABLE,
    pad: 0,
    size: 0,
};

/// Guest actions by signal number - 1; `None` until the guest sets one
/// (then the host's inherited disposition stands).
static ACTIONS: Mutex<[Option<KernelSigaction>; 64]> = Mutex::new([None; 64]);

/// The signal state of one guest thread.
pub struct SigState {
    /// Blocked signals (the guest's view of the mask).
    pub mask: u64,
    /// Signals the host handler recorded and that wait for delivery.
    pub deferred: AtomicU64,
    /// The siginfo of each deferred signal, by number - 1.
    info: [UnsafeCell<[u8; 128]>; 64],
    /// The mask to restore when the next handler returns, if not `mask`
    /// (set by `rt_sigsuspend`).
    pub saved_mask: Option<u64>,
    /// The alternate signal stack.
    pub altstack: StackT,
    /// Host contexts of synchronous faults whose handlers may return.
    pub faults: Vec<resume::Saved>,
    /// The context being resumed (kept alive across the host sigreturn).
    pub resume_buf: Option<Box<resume::Buffer>>,
}

impl SigState {
    /// Signal state with mask `mask`, nothing pending, no alternate stack.
    pub fn new(mask: u64) -> SigState {
        SigState {
            mask,
            deferred: AtomicU64::new(0),
            info: [const { UnsafeCell::new([0; 128]) }; 64],
            saved_mask: None,
            altstack: DISABLED,
            faults: Vec::new(),
            resume_buf: None,
        }
    }

    /// Records `sig` with `info` (called from the host signal handler).
    pub fn record(&self, sig: i32, info: &[u8; 128]) {
        // SAFETY: the slot of a signal is written only while its deferred
        // bit is clear and the signal is host-unblocked, i.e. never while
        // `take` reads it (which happens with the bit still set).
        unsafe { *self.info[sig as usize - 1].get() = *info };
        self.deferred.fetch_or(bit(sig), Ordering::SeqCst);
    }

    /// Removes deferred signal `sig`, returning its siginfo.
    pub fn take(&self, sig: i32) -> [u8; 128] {
        // SAFETY: the bit is set, so the host handler does not write it.
        let info = unsafe { *self.info[sig as usize - 1].get() };
        self.deferred.fetch_and(!bit(sig), Ordering::SeqCst);
        info
    }
}

/// The guest's action for `sig` (1..=64).
pub fn action(sig: i32) -> KernelSigaction {
    let actions = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    match actions[sig as usize - 1] {
        Some(a) => a,
        None => host::query(sig).unwrap_or_default(),
    }
}

/// Sets the guest's action for `sig`, installing the matching host
/// disposition; returns the previous action.
pub fn set_action(sig: i32, new: Option<KernelSigaction>) -> Result<KernelSigaction, Errno> {
    let mut actions = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    let slot = &mut actions[sig as usize - 1];
    let old = match *slot {
        Some(a) => a,
        None => host::query(sig)?,
    };
    if let Some(mut new) = new {
        new.mask &= !UNBLOCKABLE;
        host::install(sig, &new)?;
        *slot = Some(new);
    }
    Ok(old)
}

/// Sets the calling host thread's signal mask to `set`; returns the old
/// one.
pub fn set_host_mask(set: u64) -> u64 {
    let mut old = 0u64;
    let args = [
        libc::SIG_SETMASK as u64,
        &raw const set as u64,
        &raw mut old as u64,
        8,
    ];
    // SAFETY: both pointers are live 8-byte sets.
    unsafe { hostsys::raw(libc::SYS_rt_sigprocmask, &args) };
    old
}

/// Blocks every host signal on the calling thread; returns the old mask.
pub fn block_all_host() -> u64 {
    set_host_mask(!0)
}

/// The calling thread's guest signal mask.
pub fn guest_mask() -> u64 {
    // SAFETY: a short borrow of this thread's bookkeeping.
    unsafe { thread::ext() }.sig.mask
}

/// Makes the host mask `mask | deferred` again and raises `pending` when a
/// deferred signal is no longer blocked.
pub fn sync_host_mask() {
    let t = thread::current();
    // SAFETY: a short borrow of this thread's bookkeeping.
    let sig = &unsafe { thread::ext() }.sig;
    let deferred = sig.deferred.load(Ordering::SeqCst);
    set_host_mask(sig.mask | deferred);
    if deferred & !sig.mask != 0 {
        // SAFETY: `t` is this thread's live guest thread.
        unsafe { set_pending(t) };
    }
}

/// Sets the guest mask to `mask` (minus the unblockable signals) and the
/// host mask to match.
pub fn set_mask(mask: u64) {
    // SAFETY: a short borrow of this thread's bookkeeping.
    unsafe { thread::ext() }.sig.mask = mask & !UNBLOCKABLE;
    sync_host_mask();
}

/// `t`'s `CpuState::pending`, as an atomic.
///
/// # Safety
/// As for [`set_pending`].
unsafe fn pending_word<'a>(t: *mut Thread) -> &'a AtomicU32 {
    // SAFETY: `pending` is a live, aligned u32 in `t`; translated code
    // and the syscall stubs read it with plain loads on the same thread.
    unsafe { &*core::ptr::addr_of!((*t).cpu.pending).cast::<AtomicU32>() }
}

/// `t`'s `CpuState::stack_limit`, as an atomic.
///
/// # Safety
/// As for [`set_pending`].
unsafe fn limit_word<'a>(t: *mut Thread) -> &'a AtomicU64 {
    // SAFETY: `stack_limit` is a live, aligned u64 in `t`, read by
    // translated code with plain loads on the same thread.
    unsafe { &*core::ptr::addr_of!((*t).cpu.stack_limit).cast::<AtomicU64>() }
}

/// Raises `t`'s pending flag, and its stack limit to the top of the
/// address space: translated code compares the host stack pointer with
/// the limit at function entries and loop headers, so it now takes the
/// slow path there, which delivers the signal.
///
/// # Safety
/// `t` is a live guest thread owned by the calling host thread.
pub unsafe fn set_pending(t: *mut Thread) {
    // SAFETY: the caller's contract.
    unsafe {
        pending_word(t).store(1, Ordering::SeqCst);
        limit_word(t).store(u64::MAX, Ordering::SeqCst);
    }
}

/// # Safety
/// As for [`set_pending`].
pub(crate) unsafe fn clear_pending(t: *mut Thread) {
    // SAFETY: the caller's contract.
    unsafe {
        pending_word(t).store(0, Ordering::SeqCst);
        restore_limit(t);
    }
}

/// Sets the host stack limit of `t`'s translated code (see
/// `CpuState::stack_limit`); it stays at the top while a signal is
/// pending.
///
/// # Safety
/// As for [`set_pending`], and `t` is not running translated code.
pub unsafe fn set_stack_limit(t: *mut Thread, limit: u64) {
    // SAFETY: the caller's contract; the host handler never touches
    // `ext.stack_limit`.
    unsafe {
        (*t).ext.stack_limit = limit;
        restore_limit(t);
    }
}

/// Puts `t`'s real stack limit back, unless a signal is pending. The host
/// handler may run between any two steps: it raises the limit after it
/// sets the flag, so the flag is read after the limit is written.
///
/// # Safety
/// As for [`set_stack_limit`].
unsafe fn restore_limit(t: *mut Thread) {
    // SAFETY: the caller's contract.
    unsafe {
        let limit = limit_word(t);
        limit.store((*t).ext.stack_limit, Ordering::SeqCst);
        if pending_word(t).load(Ordering::SeqCst) != 0 {
            limit.store(u64::MAX, Ordering::SeqCst);
        }
    }
}

/// Whether `t`'s pending flag is set.
///
/// # Safety
/// As for [`set_pending`].
pub unsafe fn is_pending(t: *mut Thread) -> bool {
    // SAFETY: the caller's contract.
    unsafe { pending_word(t) }.load(Ordering::SeqCst) != 0
}

/// Before `execve`: hands the signals the runtime recorded but did not
/// deliver (in practice those the guest blocks) back to the kernel as
/// pending signals of this thread, with their siginfo, and makes the host
/// mask the guest mask, so the new program inherits exactly the guest's
/// mask and pending set. After a failed `execve`, call [`sync_host_mask`].
pub fn prepare_exec() {
    block_all_host();
    // SAFETY: a short borrow of this thread's bookkeeping.
    let sig = &unsafe { thread::ext() }.sig;
    let pid = u64::from(std::process::id());
    let tid = thread::host_tid() as u64;
    let mut left = sig.deferred.load(Ordering::SeqCst);
    let mut kept = 0;
    while left != 0 {
        let signo = left.trailing_zeros() as i32 + 1;
        left &= left - 1;
        let info = sig.take(signo);
        let args = [pid, tid, signo as u64, info.as_ptr() as u64];
        // SAFETY: a live 128-byte siginfo; queued to this very thread.
        let r = unsafe { hostsys::raw(libc::SYS_rt_tgsigqueueinfo, &args) };
        if r < 0 {
            // SAFETY: tgkill to this thread with a valid signal.
            unsafe { hostsys::raw(libc::SYS_tgkill, &[pid, tid, signo as u64]) };
        }
        if sig.mask & bit(signo) == 0 {
            // A race left it unblocked: keep it blocked rather than lose it.
            kept |= bit(signo);
        }
    }
    set_host_mask(sig.mask | kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_hands_recorded_signals_back_to_the_kernel() {
        std::thread::spawn(|| {
            // A real-time signal no other test uses.
            const SIG: i32 = 44;
            let set = bit(SIG);
            set_mask(set);
            let info = fault_info(SIG, -1, 0);
            // SAFETY: a short borrow of this thread's bookkeeping.
            unsafe { thread::ext() }.sig.record(SIG, &info);
            prepare_exec();
            // SAFETY: as above.
            assert_eq!(
                unsafe { thread::ext() }.sig.deferred.load(Ordering::SeqCst),
                0
            );
            let mut pending = 0u64;
            // SAFETY: a live 8-byte set.
            unsafe { hostsys::raw(libc::SYS_rt_sigpending, &[&raw mut pending as u64, 8]) };
            assert_ne!(pending & set, 0);
            assert_eq!(set_host_mask(set), set);
            // Take it back out of the kernel.
            let mut out = [0u8; 128];
            let ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let args = [
                &raw const set as u64,
                out.as_mut_ptr() as u64,
                &raw const ts as u64,
                8,
            ];
            // SAFETY: live set, buffer and timeout.
            let got = unsafe { hostsys::raw(libc::SYS_rt_sigtimedwait, &args) };
            assert_eq!(got, i64::from(SIG));
            assert_eq!(i32::from_le_bytes(out[8..12].try_into().unwrap()), -1);
        })
        .join()
        .unwrap();
    }
}
