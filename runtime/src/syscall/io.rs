//! I/O syscalls that need more than forwarding: `ioctl` (only requests known
//! to be identical on both architectures are forwarded) and `pipe2`
//! (`O_DIRECT` is encoded differently).
//!
//! Invariant: an `ioctl` request not in [`SHARED_IOCTLS`] never reaches the
//! host; it fails with `ENOTTY` and is named when syscall logging is on.

use super::flags::open_to_host;
use super::Call;
use crate::host::{self, Errno, SysResult};
use crate::log;

/// `ioctl` requests whose number and argument layout are the same on
/// AArch64 and x86-64 (both use asm-generic `ioctls.h` and `termbits.h`:
/// `struct termios` is 36 bytes, `struct winsize` 8, on both).
const SHARED_IOCTLS: &[(u32, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5409, "TCSBRK"),
    (0x540a, "TCXONC"),
    (0x540b, "TCFLSH"),
    (0x540e, "TIOCSCTTY"),
    (0x540f, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x541b, "FIONREAD"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5429, "TIOCGSID"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x540c, "TIOCEXCL"),
    (0x540d, "TIOCNXCL"),
    (0x5415, "TIOCMGET"),
    (0x5416, "TIOCMBIS"),
    (0x5417, "TIOCMBIC"),
    (0x5418, "TIOCMSET"),
    (0x5441, "TIOCGPTPEER"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x8004_5432, "TIOCGDEV"),
    (0x802c_542a, "TCGETS2"),
    (0x402c_542b, "TCSETS2"),
    (0x402c_542c, "TCSETSW2"),
    (0x402c_542d, "TCSETSF2"),
    // Files and block devices (`linux/fs.h`): longs and u64s, the same on
    // both 64-bit ABIs.
    (0x0001, "FIBMAP"),
    (0x0002, "FIGETBSZ"),
    (0x1268, "BLKSSZGET"),
    (0x8008_1272, "BLKGETSIZE64"),
    (0x8008_6601, "FS_IOC_GETFLAGS"),
    (0x4008_6602, "FS_IOC_SETFLAGS"),
    (0x8008_7601, "FS_IOC_GETVERSION"),
    (0x4004_9409, "FICLONE"),
    (0x4020_940d, "FICLONERANGE"),
    // Sockets (`linux/sockios.h`): `struct ifreq` (40 bytes) and
    // `struct ifconf` (int, then a pointer at offset 8) are the same on
    // both 64-bit ABIs.
    (0x8905, "SIOCATMARK"),
    (0x8910, "SIOCGIFNAME"),
    (0x8912, "SIOCGIFCONF"),
    (0x8913, "SIOCGIFFLAGS"),
    (0x8915, "SIOCGIFADDR"),
    (0x8917, "SIOCGIFDSTADDR"),
    (0x8919, "SIOCGIFBRDADDR"),
    (0x891b, "SIOCGIFNETMASK"),
    (0x8921, "SIOCGIFMTU"),
    (0x8927, "SIOCGIFHWADDR"),
    (0x8933, "SIOCGIFINDEX"),
    (0x8942, "SIOCGIFTXQLEN"),
];

/// `ioctl(fd, request, arg)`.
pub fn ioctl(c: &mut Call<'_>) -> SysResult {
    let request = c.arg(1) as u32;
    if !SHARED_IOCTLS.iter().any(|&(r, _)| r == request) {
        if log::syscalls() {
            log::line(format_args!("unsupported ioctl 0x{request:x}"));
        }
        return Err(Errno(libc::ENOTTY));
    }
    let args = [c.arg(0), u64::from(request), c.arg(2)];
    // SAFETY: the request's argument has the same layout on both; it is
    // guest memory (or an integer) the host kernel checks.
    unsafe { host::call(libc::SYS_ioctl, &args) }
}

/// `pipe2(fds, flags)`.
pub fn pipe2(c: &mut Call<'_>) -> SysResult {
    let flags = open_to_host(c.int(1)) as u64;
    // SAFETY: the kernel writes two ints to guest memory it checks.
    unsafe { host::call(libc::SYS_pipe2, &[c.arg(0), flags]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ioctl_table_matches_host_numbers() {
        let numbers: HashSet<u32> = SHARED_IOCTLS.iter().map(|&(r, _)| r).collect();
        assert_eq!(numbers.len(), SHARED_IOCTLS.len());
        let host = |name: &str| SHARED_IOCTLS.iter().find(|e| e.1 == name).unwrap().0;
        assert_eq!(u64::from(host("TCGETS")), libc::TCGETS);
        assert_eq!(u64::from(host("TIOCGWINSZ")), libc::TIOCGWINSZ);
        assert_eq!(u64::from(host("FIONREAD")), libc::FIONREAD);
        assert_eq!(u64::from(host("TIOCGPTN")), libc::TIOCGPTN);
        assert_eq!(u64::from(host("TCGETS2")), libc::TCGETS2);
        assert_eq!(u64::from(host("TIOCMGET")), libc::TIOCMGET);
        // Printed by an aarch64-linux-gnu-gcc build of linux/fs.h.
        assert_eq!(host("BLKGETSIZE64"), 0x8008_1272);
        assert_eq!(host("FICLONERANGE"), 0x4020_940d);
        assert_eq!(u64::from(host("FS_IOC_GETFLAGS")), libc::FS_IOC_GETFLAGS);
        assert_eq!(u64::from(host("FICLONE")), libc::FICLONE);
        assert_eq!(u64::from(host("SIOCGIFCONF")), libc::SIOCGIFCONF);
        assert_eq!(u64::from(host("SIOCGIFHWADDR")), libc::SIOCGIFHWADDR);
        assert_eq!(u64::from(host("SIOCGIFINDEX")), libc::SIOCGIFINDEX);
        // struct ifreq and struct termios2 sizes (arm64: 40 and 44).
        assert_eq!(size_of::<libc::ifreq>(), 40);
        assert_eq!(size_of::<libc::termios2>(), 44);
    }

    #[test]
    fn unknown_ioctl_is_enotty() {
        let mut cpu = vmxlate_abi::CpuState::default();
        cpu.x[1] = 0xdead;
        assert_eq!(ioctl(&mut Call { cpu: &mut cpu }), Err(Errno(libc::ENOTTY)));
    }
}
