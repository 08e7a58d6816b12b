//! The host stack bound of translated code: [`limit`] computes the value
//! of `CpuState::stack_limit` for the calling host thread.
//!
//! Translated functions that make calls compare the host stack pointer
//! with the limit at their entry and leave for the dispatcher below it, so
//! nested guest calls never use the [`HOST_STACK_RESERVE`] at the bottom of
//! the host stack, which the runtime's own frames (helpers, syscalls, host
//! signal handlers) need.
//!
//! Invariant: the limit is always some way below the caller's stack
//! pointer, so the dispatcher loop that sets it always makes progress (a
//! loop started deep in the stack, for a fault handler, gets a limit inside
//! the reserve rather than none).

use vmxlate_abi::HOST_STACK_RESERVE;

/// Stack a dispatcher loop keeps for the translated code it runs, whatever
/// the reserve says.
const PROGRESS: u64 = 256 << 10;

/// The main thread's stack is bounded by RLIMIT_STACK; with no limit set,
/// this much is assumed.
const UNLIMITED_MAIN: u64 = 8 << 20;

extern "C" {
    /// The top of the main thread's stack (glibc).
    static __libc_stack_end: *const u8;
}

/// The stack limit for a dispatcher loop about to run on this host thread.
pub fn limit() -> u64 {
    let marker = 0u8;
    let sp = core::ptr::addr_of!(marker) as u64;
    let cap = sp.saturating_sub(PROGRESS);
    match stack_low() {
        Some(low) => low.saturating_add(HOST_STACK_RESERVE).min(cap),
        None => cap,
    }
}

/// The lowest address of the calling thread's host stack, if known.
fn stack_low() -> Option<u64> {
    // SAFETY: plain syscalls without arguments.
    let main = unsafe { libc::gettid() == libc::getpid() };
    if main {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `r` is a valid rlimit to fill.
        if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut r) } != 0 {
            return None;
        }
        let size = if r.rlim_cur == libc::RLIM_INFINITY {
            UNLIMITED_MAIN
        } else {
            r.rlim_cur
        };
        // SAFETY: glibc sets `__libc_stack_end` before `main` runs.
        let top = unsafe { __libc_stack_end } as u64;
        return Some(top.saturating_sub(size));
    }
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read
    // and destroyed once.
    unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr = core::ptr::null_mut();
        let mut size = 0;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (r == 0).then_some(addr as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_below_the_stack_pointer_with_room_to_progress() {
        let here = 0u8;
        let sp = core::ptr::addr_of!(here) as u64;
        let l = limit();
        assert!(l < sp - PROGRESS / 2, "{l:#x} vs {sp:#x}");
        // A spawned thread's 64 MiB stack leaves most of it to guest code.
        let l2 = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(|| {
                let here = 0u8;
                (core::ptr::addr_of!(here) as u64, limit())
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(l2.0 - l2.1 > 60 << 20, "{:#x} vs {:#x}", l2.0, l2.1);
    }
}
