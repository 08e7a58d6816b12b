//! Guest threads: one host thread per guest thread, each with its own
//! [`Thread`] (architectural state, code TLB, signal state).
//!
//! Invariants:
//! - `Thread::cpu` is the first field of the `#[repr(C)]` [`Thread`], so the
//!   `*mut CpuState` translated code passes to helpers is also the address of
//!   its `Thread` ([`of_cpu`]); the pointer stays valid while the guest
//!   thread lives (threads are heap-allocated and never move).
//! - Only the owning host thread touches its `Thread`, except the `pending`
//!   word, which the host signal handler (on the same thread) sets.
//! - [`current`] is the calling host thread's `Thread`; a host thread that
//!   runs no guest code (a unit test) gets one made on first use.
//! - A new host thread starts with every host signal blocked and unblocks
//!   them (to the guest mask) only after it has published its `Thread`, so
//!   the host signal handler always finds one.

pub mod clone;

use core::cell::Cell;
use core::ptr::null_mut;

use vmxlate_abi::{CpuState, TlbEntry, TLB_ENTRIES};

use crate::dispatch::tlb;
use crate::signal::SigState;

/// One guest thread.
#[repr(C)]
pub struct Thread {
    /// Its registers; the address translated code passes around.
    pub cpu: CpuState,
    /// Its code TLB (`cpu.tlb` points here).
    pub tlb: [TlbEntry; TLB_ENTRIES],
    /// Everything else.
    pub ext: ThreadExt,
}

/// The runtime's per-thread bookkeeping beside the registers.
pub struct ThreadExt {
    /// Host (= guest) thread id.
    pub tid: i32,
    /// `CLONE_CHILD_CLEARTID` / `set_tid_address`: zeroed and woken (as a
    /// futex) when the thread exits; 0 for none.
    pub clear_child_tid: u64,
    /// The process's first thread (its host thread must end with a raw
    /// `exit`, never by returning, which would end the process).
    pub main: bool,
    /// Set by the guest `exit` syscall: the dispatcher loop ends the thread.
    pub exiting: bool,
    /// Signal mask, pending signals, alternate stack.
    pub sig: SigState,
}

std::thread_local! {
    static CURRENT: Cell<*mut Thread> = const { Cell::new(null_mut()) };
}

impl Thread {
    /// A new thread with `cpu` as its registers (the TLB pointer is set
    /// here), leaked: it is freed by [`Thread::free`] when the thread ends.
    pub fn new(cpu: CpuState, tid: i32, main: bool, sig: SigState) -> *mut Thread {
        let mut t = Box::new(Thread {
            cpu,
            tlb: tlb::initial(),
            ext: ThreadExt {
                tid,
                clear_child_tid: 0,
                main,
                exiting: false,
                sig,
            },
        });
        t.cpu.tlb = t.tlb.as_mut_ptr() as u64;
        Box::into_raw(t)
    }

    /// Frees a thread made by [`Thread::new`].
    ///
    /// # Safety
    /// `t` came from `Thread::new`, is not the current thread of any live
    /// host thread and is not used afterwards.
    pub unsafe fn free(t: *mut Thread) {
        // SAFETY: forwarded to the caller.
        drop(unsafe { Box::from_raw(t) });
    }
}

/// Makes `t` the calling host thread's guest thread.
pub fn set_current(t: *mut Thread) {
    CURRENT.with(|c| c.set(t));
}

/// The calling host thread's guest thread, or null if it has none yet
/// (usable from a signal handler: a constant-initialised thread-local).
pub fn current_raw() -> *mut Thread {
    CURRENT.with(|c| c.get())
}

/// The calling host thread's guest thread (made on first use for host
/// threads that run no guest code, such as unit tests).
pub fn current() -> *mut Thread {
    let t = current_raw();
    if !t.is_null() {
        return t;
    }
    let t = Thread::new(CpuState::default(), host_tid(), false, SigState::new(0));
    set_current(t);
    t
}

/// The per-thread bookkeeping of the calling host thread.
///
/// # Safety
/// The caller must not hold another reference to the same `ThreadExt`
/// (runtime code keeps these borrows short and never across guest code).
pub unsafe fn ext<'a>() -> &'a mut ThreadExt {
    let t = current();
    // SAFETY: `t` is live and owned by this host thread; the projection
    // does not touch `cpu`, which translated code may be using.
    unsafe { &mut *core::ptr::addr_of_mut!((*t).ext) }
}

/// The `Thread` whose registers are at `cpu`.
///
/// # Safety
/// `cpu` must be the `cpu` field of a live `Thread` (every `CpuState`
/// translated code runs on is).
pub unsafe fn of_cpu(cpu: *mut CpuState) -> *mut Thread {
    cpu.cast::<Thread>()
}

/// The host thread id of the caller.
pub fn host_tid() -> i32 {
    // SAFETY: gettid takes no arguments.
    unsafe { crate::host::raw(libc::SYS_gettid, &[]) as i32 }
}

/// The calling guest thread is done (guest `exit`): zero and wake its
/// `clear_child_tid` word, as the kernel does when a thread exits.
pub fn release_tid_word(ext: &mut ThreadExt) {
    let addr = core::mem::take(&mut ext.clear_child_tid);
    if addr == 0 {
        return;
    }
    if crate::syscall::uaccess::write(addr, &0u32).is_ok() {
        let wake = [addr, libc::FUTEX_WAKE as u64, 1, 0, 0, 0];
        // SAFETY: a futex wake on a guest word that was just written; the
        // kernel checks the address.
        unsafe { crate::host::raw(libc::SYS_futex, &wake) };
    }
}
