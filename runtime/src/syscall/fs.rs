//! File-system syscalls that need more than forwarding: `openat`,
//! `openat2`, `open_by_handle_at`, `fanotify_init` and `fcntl` (flag
//! encodings differ), `fstat`/`newfstatat` (`struct stat` differs) and
//! `readlinkat` and `openat` of `/proc/self/exe` (it names and reads as the
//! guest program).
//!
//! Invariant: paths and buffers the host kernel can read directly are passed
//! through untouched (identity memory); only converted data goes through
//! [`super::uaccess`].

use super::flags::{open_to_guest, open_to_host};
use super::stat::{GuestStat, HostStat};
use super::uaccess::{self, Plain};
use super::Call;
use crate::exe_path;
use crate::host::{self, Errno, SysResult};

/// `openat(dirfd, path, flags, mode)`. The program's own `exe`, opened
/// read-only, is the guest ELF (see [`open_guest_elf`]).
pub fn openat(c: &mut Call<'_>) -> SysResult {
    let guest_flags = c.int(2);
    if guest_flags & libc::O_ACCMODE == libc::O_RDONLY {
        if let Ok(path) = uaccess::c_str(c.arg(1)) {
            if path.to_bytes().starts_with(b"/proc/") && is_self_exe(path.to_bytes()) {
                if let Some(elf) = exe_path::guest_elf() {
                    return open_guest_elf(elf, guest_flags & libc::O_CLOEXEC);
                }
            }
        }
    }
    let flags = open_to_host(guest_flags) as u64;
    // SAFETY: the path is guest memory the host kernel reads and checks.
    unsafe { host::call(libc::SYS_openat, &[c.arg(0), c.arg(1), flags, c.arg(3)]) }
}

/// The kernel's `struct open_how` (`linux/openat2.h`, the same on both).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenHow {
    /// `O_*` flags (converted).
    pub flags: u64,
    /// Creation mode.
    pub mode: u64,
    /// `RESOLVE_*` flags.
    pub resolve: u64,
}

// SAFETY: only integer fields.
unsafe impl Plain for OpenHow {}

/// `openat2(dirfd, path, how, size)`: `how.flags` is converted; a larger
/// `how` than this runtime knows must have zeros beyond it (`E2BIG`
/// otherwise), as the kernel requires of extensible structures.
pub fn openat2(c: &mut Call<'_>) -> SysResult {
    let (how_addr, size) = (c.arg(2), c.arg(3) as usize);
    if size < size_of::<OpenHow>() {
        return Err(Errno(libc::EINVAL));
    }
    for extra in size_of::<OpenHow>()..size.min(4096) {
        if uaccess::read::<u8>(how_addr + extra as u64)? != 0 {
            return Err(Errno(libc::E2BIG));
        }
    }
    let mut how: OpenHow = uaccess::read(how_addr)?;
    how.flags = open_to_host(how.flags as i32) as u32 as u64 | (how.flags & !0xffff_ffff);
    let args = [
        c.arg(0),
        c.arg(1),
        &raw const how as u64,
        size_of::<OpenHow>() as u64,
    ];
    // SAFETY: the path is guest memory the kernel checks; `how` is local.
    unsafe { host::call(libc::SYS_openat2, &args) }
}

/// `open_by_handle_at(mount_fd, handle, flags)`.
pub fn open_by_handle_at(c: &mut Call<'_>) -> SysResult {
    let flags = open_to_host(c.int(2)) as u64;
    // SAFETY: `struct file_handle` is guest memory in a shared layout.
    unsafe { host::call(libc::SYS_open_by_handle_at, &[c.arg(0), c.arg(1), flags]) }
}

/// `fanotify_init(flags, event_f_flags)`: the second argument holds the
/// `O_*` flags of the event descriptors.
pub fn fanotify_init(c: &mut Call<'_>) -> SysResult {
    let event_flags = open_to_host(c.int(1)) as u32 as u64;
    // SAFETY: integer arguments only.
    unsafe { host::call(libc::SYS_fanotify_init, &[c.arg(0), event_flags]) }
}

/// `fcntl(fd, cmd, arg)`: status flags are converted both ways; every other
/// command (including the `struct flock` ones, whose layout is shared) is
/// forwarded.
pub fn fcntl(c: &mut Call<'_>) -> SysResult {
    let (fd, cmd, arg) = (c.arg(0), c.int(1), c.arg(2));
    let arg = match cmd {
        libc::F_SETFL => open_to_host(arg as i32) as u64,
        _ => arg,
    };
    // SAFETY: pointer arguments (struct flock, f_owner_ex) are guest memory
    // the host kernel checks; their layouts are the same on both.
    let r = unsafe { host::call(libc::SYS_fcntl, &[fd, cmd as u64, arg])? };
    Ok(match cmd {
        libc::F_GETFL => i64::from(open_to_guest(r as i32)),
        _ => r,
    })
}

fn store_stat(addr: u64, h: &HostStat) -> SysResult {
    uaccess::write(addr, &GuestStat::from_host(h)?)?;
    Ok(0)
}

/// `fstat(fd, statbuf)`.
pub fn fstat(c: &mut Call<'_>) -> SysResult {
    let mut h = HostStat::default();
    let buf = &raw mut h as u64;
    // SAFETY: the kernel writes a host `struct stat` into `h`.
    unsafe { host::call(libc::SYS_fstat, &[c.arg(0), buf])? };
    store_stat(c.arg(1), &h)
}

/// `newfstatat(dirfd, path, statbuf, flags)` (`AT_*` flags are shared).
pub fn newfstatat(c: &mut Call<'_>) -> SysResult {
    let mut h = HostStat::default();
    let buf = &raw mut h as u64;
    let args = [c.arg(0), c.arg(1), buf, c.arg(3)];
    // SAFETY: the path is guest memory the kernel checks; it writes a host
    // `struct stat` into `h`.
    unsafe { host::call(libc::SYS_newfstatat, &args)? };
    store_stat(c.arg(2), &h)
}

/// A read-only descriptor whose contents are `elf`: a sealed memfd,
/// reopened read-only through `/proc/self/fd`.
fn open_guest_elf(elf: &[u8], cloexec: i32) -> SysResult {
    let name = c"vmxlate-guest-exe";
    let flags = (libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) as u64;
    // SAFETY: `name` is a NUL-terminated string.
    let mfd = unsafe { host::call(libc::SYS_memfd_create, &[name.as_ptr() as u64, flags])? };
    let fill = || -> SysResult {
        let mut done = 0;
        while done < elf.len() {
            let rest = &elf[done..];
            let args = [mfd as u64, rest.as_ptr() as u64, rest.len() as u64];
            // SAFETY: the kernel reads `rest`, a live slice.
            done += unsafe { host::call(libc::SYS_write, &args)? } as usize;
        }
        let seals = (libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK) as u64;
        // SAFETY: integer arguments on our own descriptor.
        unsafe {
            host::call(
                libc::SYS_fcntl,
                &[mfd as u64, libc::F_ADD_SEALS as u64, seals],
            )?
        };
        let path = format!("/proc/self/fd/{mfd}\0");
        let oflags = (libc::O_RDONLY | cloexec) as u64;
        let at_fdcwd = libc::AT_FDCWD as u64;
        // SAFETY: `path` is NUL-terminated and outlives the call.
        unsafe {
            host::call(
                libc::SYS_openat,
                &[at_fdcwd, path.as_ptr() as u64, oflags, 0],
            )
        }
    };
    let r = fill();
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(mfd as i32) };
    r
}

/// Whether `path` names the running program through `/proc`.
fn is_self_exe(path: &[u8]) -> bool {
    if path == b"/proc/self/exe" || path == b"/proc/thread-self/exe" {
        return true;
    }
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    path == format!("/proc/{pid}/exe").as_bytes()
}

/// `readlinkat(dirfd, path, buf, bufsiz)`: the program's own `exe` link
/// reads as the guest program path; everything else is forwarded.
pub fn readlinkat(c: &mut Call<'_>) -> SysResult {
    let size = c.int(3);
    if size <= 0 {
        return Err(Errno(libc::EINVAL));
    }
    let path = uaccess::c_str(c.arg(1))?;
    if !is_self_exe(path.to_bytes()) {
        let args = [c.arg(0), c.arg(1), c.arg(2), c.arg(3)];
        // SAFETY: path and buffer are guest memory the host kernel checks.
        return unsafe { host::call(libc::SYS_readlinkat, &args) };
    }
    let exe = exe_path::get();
    let n = exe.len().min(size as usize);
    uaccess::write_bytes(c.arg(2), &exe[..n])?;
    Ok(n as i64)
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::tests::call_with;
    use super::super::uaccess::tests::guest_pages;
    use super::*;
    use libc::{PROT_READ, PROT_WRITE};

    #[test]
    fn fstat_and_newfstatat_fill_the_arm64_layout() {
        let buf = guest_pages(1, PROT_READ | PROT_WRITE);
        let path = buf + 512;
        uaccess::write_bytes(path, b"/proc/self/exe\0").unwrap();
        let flags = u64::from(libc::AT_SYMLINK_NOFOLLOW as u32);
        let at_fdcwd = libc::AT_FDCWD as u64;
        assert_eq!(call_with(&[at_fdcwd, path, buf, flags], newfstatat), Ok(0));
        let link: GuestStat = uaccess::read(buf).unwrap();
        assert_eq!(link.st_mode & libc::S_IFMT, libc::S_IFLNK);

        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file) as u64;
        assert_eq!(call_with(&[fd, buf], fstat), Ok(0));
        let st: GuestStat = uaccess::read(buf).unwrap();
        let meta = std::fs::metadata("/proc/self/exe").unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFREG);
        assert_eq!(st.st_size as u64, meta.size());
        assert_eq!(st.st_ino, meta.ino());
        assert_eq!(st.st_mtime, meta.mtime());
        assert_eq!(call_with(&[fd, 8], fstat), Err(Errno(libc::EFAULT)));
    }

    #[test]
    fn fcntl_converts_status_flags() {
        let dir = std::fs::File::open("/").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&dir) as u64;
        let setfl = libc::F_SETFL as u64;
        assert_eq!(
            call_with(&[fd, setfl, libc::O_NONBLOCK as u64], fcntl),
            Ok(0)
        );
        let fl = call_with(&[fd, libc::F_GETFL as u64], fcntl).unwrap() as i32;
        assert_eq!(fl & libc::O_NONBLOCK, libc::O_NONBLOCK);
        // The host's O_LARGEFILE (forced on 64-bit) reads as arm64's 0o400000.
        assert_eq!(fl & 0o400000, 0o400000);
        assert_eq!(fl & 0o100000, 0);
    }

    #[test]
    fn open_how_matches_the_uapi() {
        // linux/openat2.h: three __u64, the same on both (OPEN_HOW_SIZE_VER0).
        assert_eq!(size_of::<OpenHow>(), 24);
        assert_eq!(core::mem::offset_of!(OpenHow, resolve), 16);
    }

    #[test]
    fn openat2_converts_flags_and_checks_size() {
        let mem = guest_pages(1, PROT_READ | PROT_WRITE);
        let path = mem + 512;
        uaccess::write_bytes(path, b"/\0").unwrap();
        // arm64 O_DIRECTORY (0o40000) must reach the host as its own.
        let how = OpenHow {
            flags: 0o40000 | libc::O_CLOEXEC as u64,
            ..OpenHow::default()
        };
        uaccess::write(mem, &how).unwrap();
        let at_fdcwd = libc::AT_FDCWD as u64;
        let fd = call_with(&[at_fdcwd, path, mem, 24], openat2).unwrap();
        // SAFETY: our own descriptor.
        unsafe { libc::close(fd as i32) };
        uaccess::write_bytes(path, b"/proc/self/exe\0").unwrap();
        assert_eq!(
            call_with(&[at_fdcwd, path, mem, 24], openat2),
            Err(Errno(libc::ENOTDIR))
        );
        assert_eq!(
            call_with(&[at_fdcwd, path, mem, 16], openat2),
            Err(Errno(libc::EINVAL))
        );
        uaccess::write(mem + 24, &1u64).unwrap();
        assert_eq!(
            call_with(&[at_fdcwd, path, mem, 32], openat2),
            Err(Errno(libc::E2BIG))
        );
    }

    #[test]
    fn opening_proc_self_exe_reads_the_guest_elf() {
        static ELF: &[u8] = b"\x7fELF\x02\x01\x01 pretend guest";
        exe_path::set_guest_elf(ELF);
        let mem = guest_pages(1, PROT_READ | PROT_WRITE);
        uaccess::write_bytes(mem, b"/proc/self/exe\0").unwrap();
        let at_fdcwd = libc::AT_FDCWD as u64;
        let fd = call_with(&[at_fdcwd, mem, libc::O_CLOEXEC as u64, 0], openat).unwrap();
        let mut buf = [0u8; 64];
        // SAFETY: reading into a local buffer from our descriptor.
        let n = unsafe { libc::read(fd as i32, buf.as_mut_ptr().cast(), 64) };
        assert_eq!(&buf[..n as usize], ELF);
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::write(fd as i32, buf.as_ptr().cast(), 1) },
            -1
        );
        // SAFETY: our own descriptor.
        unsafe { libc::close(fd as i32) };
    }

    #[test]
    fn readlinkat_answers_proc_self_exe() {
        let buf = guest_pages(1, PROT_READ | PROT_WRITE);
        let path = buf + 1024;
        uaccess::write_bytes(path, b"/proc/self/exe\0").unwrap();
        let at_fdcwd = libc::AT_FDCWD as u64;
        exe_path::init(b"/bin/sh");
        let exe = exe_path::get();
        let n = call_with(&[at_fdcwd, path, buf, 1000], readlinkat).unwrap() as usize;
        assert_eq!(n, exe.len());
        let mut got = vec![0u8; n];
        got.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = uaccess::read(buf + i as u64).unwrap());
        assert_eq!(got, exe);
        assert_eq!(call_with(&[at_fdcwd, path, buf, 3], readlinkat), Ok(3));
        assert_eq!(
            call_with(&[at_fdcwd, path, buf, 0], readlinkat),
            Err(Errno(libc::EINVAL))
        );
        uaccess::write_bytes(path, b"/\0").unwrap();
        assert_eq!(
            call_with(&[at_fdcwd, path, buf, 100], readlinkat),
            Err(Errno(libc::EINVAL))
        );
    }
}
