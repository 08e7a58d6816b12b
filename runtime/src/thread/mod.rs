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
    /// Its code TLB, right after `cpu` (`vmxlate_abi::OFF_TLB`).
    pub tlb: [TlbEntry; TLB_ENTRIES],
    /// Everything else.
    pub ext: ThreadExt,
}

// Translated code finds the TLB at `OFF_TLB` from the `CpuState` pointer.
const _: () = assert!(
    core::mem::offset_of!(Thread, tlb)
        == core::mem::offset_of!(Thread, cpu) + vmxlate_abi::OFF_TLB as usize
);

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
    /// The host stack limit of translated code, which
    /// `CpuState::stack_limit` holds when no signal is pending (see
    /// `signal::set_stack_limit`).
    pub stack_limit: u64,
}

std::thread_local! {
    static CURRENT: Cell<*mut Thread> = const { Cell::new(null_mut()) };
}

impl Thread {
    /// A new thread with `cpu` as its registers and an empty code TLB,
    /// leaked: it is freed by [`Thread::free`] when the thread ends.
    pub fn new(cpu: CpuState, tid: i32, main: bool, sig: SigState) -> *mut Thread {
        let t = Box::new(Thread {
            cpu,
            tlb: tlb::initial(),
            ext: ThreadExt {
                tid,
                clear_child_tid: 0,
                main,
                exiting: false,
                sig,
                stack_limit: 0,
            },
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::vmx_syscall;
    use core::sync::atomic::{AtomicU32, Ordering};

    /// Runs guest syscall `nr` with `args` on the calling thread's guest
    /// thread, as translated code would.
    fn guest_syscall(nr: u64, args: &[u64]) -> i64 {
        let t = current();
        // SAFETY: this thread's own guest thread; no translated code runs.
        unsafe {
            let cpu = &mut (*t).cpu;
            cpu.x[..args.len()].copy_from_slice(args);
            cpu.x[8] = nr;
            vmx_syscall(cpu);
            (*t).cpu.x[0] as i64
        }
    }

    const FUTEX: u64 = 98;
    const WAIT_PRIVATE: u64 = (libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG) as u64;
    const WAKE_PRIVATE: u64 = (libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG) as u64;

    #[test]
    fn futex_wait_and_wake_pass_through_guest_memory() {
        let word: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
        let addr = word as *const AtomicU32 as u64;
        // Wrong expected value: EAGAIN at once.
        assert_eq!(
            guest_syscall(FUTEX, &[addr, WAIT_PRIVATE, 5, 0]),
            -i64::from(libc::EAGAIN)
        );
        let waiter = std::thread::spawn(move || guest_syscall(FUTEX, &[addr, WAIT_PRIVATE, 0, 0]));
        let mut woken = 0;
        while woken == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
            word.store(1, Ordering::SeqCst);
            woken = guest_syscall(FUTEX, &[addr, WAKE_PRIVATE, 1]);
            if woken == 0 && waiter.is_finished() {
                break;
            }
        }
        assert_eq!(waiter.join().unwrap(), 0);
        // An absolute CLOCK_MONOTONIC deadline in the past times out.
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1,
        };
        let bitset = (libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG) as u64;
        let r = guest_syscall(
            FUTEX,
            &[
                addr,
                bitset,
                1,
                &raw const ts as u64,
                0,
                u64::from(u32::MAX),
            ],
        );
        assert_eq!(r, -i64::from(libc::ETIMEDOUT));
    }

    #[test]
    fn set_tid_address_word_is_cleared_and_woken_on_release() {
        let pages =
            crate::syscall::uaccess::tests::guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
        // The word must be guest memory for the runtime to write it.
        let guest = pages as *const AtomicU32;
        // SAFETY: a fresh, writable, aligned guest page.
        let gword = unsafe { &*guest };
        gword.store(99, Ordering::SeqCst);
        std::thread::spawn(move || {
            assert_eq!(guest_syscall(96, &[pages]), i64::from(host_tid()));
            // SAFETY: a short borrow of this thread's bookkeeping.
            release_tid_word(unsafe { ext() });
        })
        .join()
        .unwrap();
        assert_eq!(gword.load(Ordering::SeqCst), 0);
    }
}
