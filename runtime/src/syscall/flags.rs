//! File status flags (`O_*`), which AArch64 and x86-64 encode differently.
//!
//! arm64 moves four flags relative to the generic (x86-64) encoding:
//! `O_DIRECTORY` 0o40000, `O_NOFOLLOW` 0o100000, `O_DIRECT` 0o200000 and
//! `O_LARGEFILE` 0o400000 (x86-64: 0o200000, 0o400000, 0o40000, 0o100000).
//! Every other bit is the same on both.
//!
//! Invariant: the two conversions are inverse permutations of those bits.

/// `(AArch64 bit, x86-64 bit)` for each flag that differs: `O_DIRECTORY`,
/// `O_NOFOLLOW`, `O_DIRECT`, `O_LARGEFILE`. (Kernel values: the `libc`
/// crate's x86-64 `O_LARGEFILE` is glibc's user-space 0.)
const MOVED: [(i32, i32); 4] = [
    (0o40000, 0o200000),
    (0o100000, 0o400000),
    (0o200000, 0o40000),
    (0o400000, 0o100000),
];

const MOVED_MASK: i32 = 0o40000 | 0o100000 | 0o200000 | 0o400000;

fn permute(flags: i32, from_guest: bool) -> i32 {
    let mut out = flags & !MOVED_MASK;
    for (guest, host) in MOVED {
        let (from, to) = if from_guest {
            (guest, host)
        } else {
            (host, guest)
        };
        if flags & from != 0 {
            out |= to;
        }
    }
    out
}

/// AArch64 `O_*` flags to host flags.
pub fn open_to_host(flags: i32) -> i32 {
    permute(flags, true)
}

/// Host `O_*` flags to AArch64 flags.
pub fn open_to_guest(flags: i32) -> i32 {
    permute(flags, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_only_the_four_flags() {
        // Values from /usr/aarch64-linux-gnu/include/asm/fcntl.h.
        assert_eq!(open_to_host(0o40000), libc::O_DIRECTORY);
        assert_eq!(open_to_host(0o100000), libc::O_NOFOLLOW);
        assert_eq!(open_to_host(0o200000), libc::O_DIRECT);
        assert_eq!(open_to_host(0o400000), 0o100000);
        // AArch64 O_TMPFILE is __O_TMPFILE | its O_DIRECTORY.
        assert_eq!(open_to_host(0o20040000), libc::O_TMPFILE);
        let same =
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC | libc::O_NONBLOCK;
        assert_eq!(open_to_host(same), same);
        for bit in 0..31 {
            assert_eq!(open_to_guest(open_to_host(1 << bit)), 1 << bit);
        }
    }
}
