//! `struct stat`: the x86-64 kernel layout (144 bytes) and the AArch64 one
//! (asm-generic, 128 bytes), and the conversion between them.
//!
//! Invariant: both layouts match their UAPI headers exactly (checked by the
//! tests against offsets measured from `asm/stat.h` of each architecture).

use super::uaccess::Plain;
use crate::host::Errno;

/// x86-64 `struct stat` as the kernel fills it (fields as in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HostStat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub unused: [i64; 3],
}

/// AArch64 (asm-generic) `struct stat` (fields as in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestStat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_mode: u32,
    pub st_nlink: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub st_rdev: u64,
    pub pad1: u64,
    pub st_size: i64,
    pub st_blksize: i32,
    pub pad2: i32,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: u64,
    pub st_mtime: i64,
    pub st_mtime_nsec: u64,
    pub st_ctime: i64,
    pub st_ctime_nsec: u64,
    pub unused4: u32,
    pub unused5: u32,
}

// SAFETY: only integer fields.
unsafe impl Plain for GuestStat {}

impl GuestStat {
    /// Converts a host stat; `EOVERFLOW` if the link count does not fit,
    /// as arm64's `cp_new_stat` reports.
    pub fn from_host(h: &HostStat) -> Result<GuestStat, Errno> {
        Ok(GuestStat {
            st_dev: h.st_dev,
            st_ino: h.st_ino,
            st_mode: h.st_mode,
            st_nlink: u32::try_from(h.st_nlink).map_err(|_| Errno(libc::EOVERFLOW))?,
            st_uid: h.st_uid,
            st_gid: h.st_gid,
            st_rdev: h.st_rdev,
            pad1: 0,
            st_size: h.st_size,
            st_blksize: h.st_blksize as i32,
            pad2: 0,
            st_blocks: h.st_blocks,
            st_atime: h.st_atime,
            st_atime_nsec: h.st_atime_nsec as u64,
            st_mtime: h.st_mtime,
            st_mtime_nsec: h.st_mtime_nsec as u64,
            st_ctime: h.st_ctime,
            st_ctime_nsec: h.st_ctime_nsec as u64,
            unused4: 0,
            unused5: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn guest_layout_matches_arm64_uapi() {
        // offsetof/sizeof measured from /usr/aarch64-linux-gnu/include/asm/stat.h.
        assert_eq!(size_of::<GuestStat>(), 128);
        let offsets = [
            offset_of!(GuestStat, st_dev),
            offset_of!(GuestStat, st_ino),
            offset_of!(GuestStat, st_mode),
            offset_of!(GuestStat, st_nlink),
            offset_of!(GuestStat, st_uid),
            offset_of!(GuestStat, st_gid),
            offset_of!(GuestStat, st_rdev),
            offset_of!(GuestStat, st_size),
            offset_of!(GuestStat, st_blksize),
            offset_of!(GuestStat, st_blocks),
            offset_of!(GuestStat, st_atime),
            offset_of!(GuestStat, st_atime_nsec),
            offset_of!(GuestStat, st_mtime),
            offset_of!(GuestStat, st_mtime_nsec),
            offset_of!(GuestStat, st_ctime),
            offset_of!(GuestStat, st_ctime_nsec),
        ];
        assert_eq!(
            offsets,
            [0, 8, 16, 20, 24, 28, 32, 48, 56, 64, 72, 80, 88, 96, 104, 112]
        );
    }

    #[test]
    fn host_layout_matches_x86_64_uapi() {
        assert_eq!(size_of::<HostStat>(), size_of::<libc::stat>());
        assert_eq!(size_of::<HostStat>(), 144);
        assert_eq!(
            offset_of!(HostStat, st_nlink),
            offset_of!(libc::stat, st_nlink)
        );
        assert_eq!(
            offset_of!(HostStat, st_mode),
            offset_of!(libc::stat, st_mode)
        );
        assert_eq!(offset_of!(HostStat, st_gid), offset_of!(libc::stat, st_gid));
        assert_eq!(
            offset_of!(HostStat, st_rdev),
            offset_of!(libc::stat, st_rdev)
        );
        assert_eq!(
            offset_of!(HostStat, st_blksize),
            offset_of!(libc::stat, st_blksize)
        );
        assert_eq!(
            offset_of!(HostStat, st_atime),
            offset_of!(libc::stat, st_atime)
        );
        assert_eq!(
            offset_of!(HostStat, st_ctime_nsec),
            offset_of!(libc::stat, st_ctime_nsec)
        );
    }

    #[test]
    fn converts_every_field() {
        let h = HostStat {
            st_dev: 1,
            st_ino: 2,
            st_nlink: 3,
            st_mode: 0o100644,
            st_uid: 5,
            st_gid: 6,
            st_rdev: 7,
            st_size: 8,
            st_blksize: 4096,
            st_blocks: 10,
            st_atime: 11,
            st_atime_nsec: 12,
            st_mtime: 13,
            st_mtime_nsec: 14,
            st_ctime: 15,
            st_ctime_nsec: 16,
            ..HostStat::default()
        };
        let g = GuestStat::from_host(&h).unwrap();
        assert_eq!(
            (g.st_dev, g.st_ino, g.st_nlink, g.st_mode, g.st_uid, g.st_gid, g.st_rdev),
            (1, 2, 3, 0o100644, 5, 6, 7)
        );
        assert_eq!((g.st_size, g.st_blksize, g.st_blocks), (8, 4096, 10));
        assert_eq!((g.st_atime, g.st_atime_nsec, g.st_mtime), (11, 12, 13));
        assert_eq!((g.st_mtime_nsec, g.st_ctime, g.st_ctime_nsec), (14, 15, 16));
        let big = HostStat {
            st_nlink: 1 << 32,
            ..h
        };
        assert_eq!(GuestStat::from_host(&big), Err(Errno(libc::EOVERFLOW)));
    }
}
