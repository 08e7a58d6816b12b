//! epoll, whose `struct epoll_event` differs: x86-64 packs it (12 bytes,
//! `data` at offset 4), arm64 does not (16 bytes, `data` at offset 8).
//! `epoll_ctl` converts the one event it is given; `epoll_pwait` and
//! `epoll_pwait2` collect host events in a runtime buffer and store them in
//! the arm64 layout. (`poll`, `ppoll`, `pselect6` and `epoll_create1` take
//! identical structures and are forwarded.)
//!
//! Invariants: the guest's event array is checked writable before the host
//! call, so events are never consumed and then lost to `EFAULT`; at most
//! [`MAX_BATCH`] events are collected per call (fewer than the guest asked
//! for is a valid answer, and the rest stay ready for the next call).

use super::uaccess::{self, Plain};
use super::Call;
use crate::host::{self, Errno, SysResult};

/// arm64 `struct epoll_event` (asm-generic `eventpoll.h`, natural alignment).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestEpollEvent {
    /// `EPOLL*` bits (same values on both).
    pub events: u32,
    /// Padding before the 8-byte-aligned `data`.
    pub pad: u32,
    /// The user's cookie.
    pub data: u64,
}

// SAFETY: only integer fields.
unsafe impl Plain for GuestEpollEvent {}

/// x86-64 `struct epoll_event` (`__attribute__((packed))` on x86-64).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HostEpollEvent {
    /// `EPOLL*` bits.
    pub events: u32,
    /// The user's cookie.
    pub data: u64,
}

impl HostEpollEvent {
    fn from_guest(g: &GuestEpollEvent) -> HostEpollEvent {
        HostEpollEvent {
            events: g.events,
            data: g.data,
        }
    }

    fn to_guest(self) -> GuestEpollEvent {
        GuestEpollEvent {
            events: self.events,
            pad: 0,
            data: self.data,
        }
    }
}

/// Most events collected by one `epoll_pwait`.
pub const MAX_BATCH: usize = 1024;

/// `epoll_ctl(epfd, op, fd, event)`.
pub fn epoll_ctl(c: &mut Call<'_>) -> SysResult {
    let (epfd, op, fd, event) = (c.arg(0), c.int(1), c.arg(2), c.arg(3));
    let host_ev = if op == libc::EPOLL_CTL_DEL && event == 0 {
        None
    } else {
        Some(HostEpollEvent::from_guest(&uaccess::read(event)?))
    };
    let ptr = host_ev
        .as_ref()
        .map_or(0, |e| e as *const HostEpollEvent as u64);
    // SAFETY: `ptr` is null or our local host-layout event.
    unsafe { host::call(libc::SYS_epoll_ctl, &[epfd, op as u64, fd, ptr]) }
}

/// Runs host wait syscall `nr` (`epoll_pwait` or `epoll_pwait2`, whose
/// arguments after the first three are identical on both) into a runtime
/// buffer and stores the events in the guest's array.
fn wait_into_guest(c: &Call<'_>, nr: libc::c_long) -> SysResult {
    let (epfd, events, max) = (c.arg(0), c.arg(1), c.int(2));
    if max <= 0 {
        return Err(Errno(libc::EINVAL));
    }
    let max = (max as usize).min(MAX_BATCH);
    uaccess::check(events, max * size_of::<GuestEpollEvent>(), libc::PROT_WRITE)?;
    let mut buf = vec![HostEpollEvent::default(); max];
    let args = [
        epfd,
        buf.as_mut_ptr() as u64,
        max as u64,
        c.arg(3),
        c.arg(4),
        c.arg(5),
    ];
    // SAFETY: the kernel writes at most `max` host events into `buf`; the
    // timeout and signal mask are guest memory in shared layouts that it
    // checks itself.
    let n = unsafe { host::call(nr, &args)? };
    for (i, ev) in buf.iter().take(n as usize).enumerate() {
        let at = events + (i * size_of::<GuestEpollEvent>()) as u64;
        uaccess::write(at, &ev.to_guest())?;
    }
    Ok(n)
}

/// `epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize)`.
pub fn epoll_pwait(c: &mut Call<'_>) -> SysResult {
    wait_into_guest(c, libc::SYS_epoll_pwait)
}

/// `epoll_pwait2(epfd, events, maxevents, timeout_ts, sigmask, sigsetsize)`.
pub fn epoll_pwait2(c: &mut Call<'_>) -> SysResult {
    wait_into_guest(c, libc::SYS_epoll_pwait2)
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::tests::{call_with, guest_pages};
    use super::*;
    use core::mem::offset_of;
    use std::os::fd::AsRawFd;

    #[test]
    fn layouts_match_both_uapis() {
        // arm64: sizeof 16, data at 8 (aarch64-linux-gnu-gcc, sys/epoll.h).
        assert_eq!(size_of::<GuestEpollEvent>(), 16);
        assert_eq!(offset_of!(GuestEpollEvent, data), 8);
        // x86-64: packed, 12 bytes, data at 4 (libc's own definition).
        assert_eq!(size_of::<HostEpollEvent>(), size_of::<libc::epoll_event>());
        assert_eq!(offset_of!(HostEpollEvent, data), 4);
    }

    #[test]
    fn ctl_and_wait_convert_events() {
        let mem = guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
        let (r, w) = std::io::pipe().unwrap();
        // SAFETY: plain syscall.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(ep >= 0);
        let ev = GuestEpollEvent {
            events: libc::EPOLLIN as u32,
            pad: 0,
            data: 0x1122_3344_5566_7788,
        };
        uaccess::write(mem, &ev).unwrap();
        let add = libc::EPOLL_CTL_ADD as u64;
        let rfd = r.as_raw_fd() as u64;
        assert_eq!(call_with(&[ep as u64, add, rfd, mem], epoll_ctl), Ok(0));
        let out = mem + 64;
        let wait = [ep as u64, out, 4, 0, 0, 8];
        assert_eq!(call_with(&wait, epoll_pwait), Ok(0));
        std::io::Write::write_all(&mut &w, b"x").unwrap();
        assert_eq!(call_with(&wait, epoll_pwait), Ok(1));
        assert_eq!(uaccess::read::<GuestEpollEvent>(out), Ok(ev));
        assert_eq!(
            call_with(&[ep as u64, out, 0, 0, 0, 8], epoll_pwait),
            Err(Errno(libc::EINVAL))
        );
        assert_eq!(
            call_with(&[ep as u64, 8, 4, 0, 0, 8], epoll_pwait),
            Err(Errno(libc::EFAULT))
        );
        let del = libc::EPOLL_CTL_DEL as u64;
        assert_eq!(call_with(&[ep as u64, del, rfd, 0], epoll_ctl), Ok(0));
        // SAFETY: our own descriptor.
        unsafe { libc::close(ep) };
    }
}
