//! System V IPC where the architectures differ: `shmat` and `shmdt` map
//! and unmap memory, so the VMA map must learn about them, and `semctl`'s
//! `struct semid64_ds` has padding words on x86-64 that arm64 (asm-generic)
//! lacks. The other IPC calls take identical structures (`shmid64_ds`,
//! `msqid64_ds`, `ipc64_perm` are asm-generic on both) and are forwarded.
//!
//! Invariants: every attachment made through [`shmat`] is recorded with its
//! size until [`shmdt`] detaches it; the VMA map holds the attached range
//! with the guest's protection for exactly that time.

use std::collections::BTreeMap;
use std::sync::Mutex;

use libc::{PROT_EXEC, PROT_READ, PROT_WRITE};

use super::uaccess::{self, Plain};
use super::Call;
use crate::host::{self, SysResult};
use crate::memory::{page, vma};

/// Attached segments: address -> size in bytes.
static ATTACHED: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());

/// `shmat(shmid, addr, flags)`: returns the attach address.
pub fn shmat(c: &mut Call<'_>) -> SysResult {
    let (id, addr, flags) = (c.arg(0), c.arg(1), c.int(2));
    // SAFETY: an all-zero shmid_ds is a valid buffer for IPC_STAT to fill.
    let mut ds: libc::shmid_ds = unsafe { core::mem::zeroed() };
    let stat = [id, libc::IPC_STAT as u64, &raw mut ds as u64];
    // SAFETY: the kernel fills our local `ds`.
    unsafe { host::call(libc::SYS_shmctl, &stat)? };
    // SAFETY: attaching maps guest memory where the guest asked (or where
    // the kernel chooses); like a guest mmap, it cannot touch runtime memory
    // unless the guest names it with SHM_REMAP, which is its own corruption.
    let at = unsafe { host::call(libc::SYS_shmat, &[id, addr, flags as u64])? } as u64;
    let size = ds.shm_segsz as u64;
    let mut prot = PROT_READ;
    if flags & libc::SHM_RDONLY == 0 {
        prot |= PROT_WRITE;
    }
    if flags & libc::SHM_EXEC != 0 {
        prot |= PROT_EXEC;
    }
    let end = page::ceil(at + size).unwrap_or(u64::MAX);
    vma::lock().insert(at, end, prot);
    ATTACHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(at, size);
    Ok(at as i64)
}

/// `shmdt(addr)`.
pub fn shmdt(c: &mut Call<'_>) -> SysResult {
    let addr = c.arg(0);
    // SAFETY: detaching guest memory; the kernel checks the address.
    let r = unsafe { host::call(libc::SYS_shmdt, &[addr])? };
    let size = ATTACHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&addr);
    if let Some(size) = size {
        vma::lock().remove(addr, page::ceil(addr + size).unwrap_or(u64::MAX));
    }
    Ok(r)
}

/// arm64 `struct semid64_ds` (asm-generic, 64-bit): 88 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuestSemid {
    /// `struct ipc64_perm`, the same on both (48 bytes).
    pub perm: [u64; 6],
    /// Last `semop` time.
    pub otime: i64,
    /// Last change time.
    pub ctime: i64,
    /// Number of semaphores in the set.
    pub nsems: u64,
    /// Reserved.
    pub unused: [u64; 2],
}

// SAFETY: only integer fields.
unsafe impl Plain for GuestSemid {}

/// x86-64 `struct semid64_ds`: 104 bytes, a padding word after each time.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HostSemid {
    /// `struct ipc64_perm`.
    pub perm: [u64; 6],
    /// Last `semop` time.
    pub otime: i64,
    /// Padding.
    pub unused1: u64,
    /// Last change time.
    pub ctime: i64,
    /// Padding.
    pub unused2: u64,
    /// Number of semaphores in the set.
    pub nsems: u64,
    /// Reserved.
    pub unused: [u64; 2],
}

/// `IPC_64`, which glibc may add to the command.
const IPC_64: i32 = 0x100;
const SEM_STAT: i32 = 18;
const SEM_STAT_ANY: i32 = 20;

/// `semctl(semid, semnum, cmd, arg)`: the commands that exchange a
/// `semid64_ds` convert it; the rest are forwarded.
pub fn semctl(c: &mut Call<'_>) -> SysResult {
    let (id, num, cmd, arg) = (c.arg(0), c.arg(1), c.int(2), c.arg(3));
    match cmd & !IPC_64 {
        libc::IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            uaccess::check(arg, size_of::<GuestSemid>(), libc::PROT_WRITE)?;
            let mut h = HostSemid::default();
            let local = &raw mut h as u64;
            // SAFETY: the kernel fills our local `h`.
            let r = unsafe { host::call(libc::SYS_semctl, &[id, num, cmd as u64, local])? };
            let g = GuestSemid {
                perm: h.perm,
                otime: h.otime,
                ctime: h.ctime,
                nsems: h.nsems,
                unused: [0; 2],
            };
            uaccess::write(arg, &g)?;
            Ok(r)
        }
        libc::IPC_SET => {
            let g: GuestSemid = uaccess::read(arg)?;
            let h = HostSemid {
                perm: g.perm,
                ..HostSemid::default()
            };
            let local = &raw const h as u64;
            // SAFETY: the kernel reads our local `h`.
            unsafe { host::call(libc::SYS_semctl, &[id, num, cmd as u64, local]) }
        }
        // SAFETY: the other commands take integers, arrays of unsigned
        // short or `struct seminfo`, the same on both.
        _ => unsafe { host::call(libc::SYS_semctl, &[id, num, cmd as u64, arg]) },
    }
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::{self, tests::call_with};
    use super::*;

    #[test]
    fn semid_layouts() {
        use core::mem::offset_of;
        // Offsets from asm-generic/sembuf.h (arm64) and x86's sembuf.h.
        assert_eq!(size_of::<GuestSemid>(), 88);
        assert_eq!(offset_of!(GuestSemid, nsems), 64);
        assert_eq!(size_of::<HostSemid>(), size_of::<libc::semid_ds>());
        assert_eq!(
            offset_of!(HostSemid, nsems),
            offset_of!(libc::semid_ds, sem_nsems)
        );
        assert_eq!(
            offset_of!(HostSemid, ctime),
            offset_of!(libc::semid_ds, sem_ctime)
        );
    }

    #[test]
    fn semctl_stat_fills_the_arm64_layout() {
        let mem = super::super::uaccess::tests::guest_pages(1, PROT_READ | PROT_WRITE);
        // SAFETY: plain syscall creating a private set of 3 semaphores.
        let id = unsafe { libc::semget(libc::IPC_PRIVATE, 3, libc::IPC_CREAT | 0o600) };
        assert!(id >= 0);
        let stat = libc::IPC_STAT as u64;
        assert_eq!(call_with(&[id as u64, 0, stat, mem], semctl), Ok(0));
        let g: GuestSemid = uaccess::read(mem).unwrap();
        assert_eq!(g.nsems, 3);
        assert_eq!((g.perm[2] >> 32) as u32 & 0o777, 0o600); // mode at offset 20
        let rmid = libc::IPC_RMID as u64;
        assert_eq!(call_with(&[id as u64, 0, rmid, 0], semctl), Ok(0));
    }

    #[test]
    fn attach_is_guest_memory_until_detached() {
        // SAFETY: plain syscall creating a private segment.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 8192, libc::IPC_CREAT | 0o600) };
        assert!(id >= 0);
        let at = call_with(&[id as u64, 0, 0], shmat).unwrap() as u64;
        uaccess::write(at + 8188, &0x1234_5678u32).unwrap();
        assert_eq!(uaccess::read::<u32>(at + 8188), Ok(0x1234_5678));
        assert_eq!(call_with(&[at], shmdt), Ok(0));
        assert!(uaccess::read::<u32>(at).is_err());
        let ro = call_with(&[id as u64, 0, libc::SHM_RDONLY as u64], shmat).unwrap() as u64;
        assert!(uaccess::write(ro, &1u8).is_err());
        assert_eq!(call_with(&[ro], shmdt), Ok(0));
        // SAFETY: removing the segment we created.
        unsafe { libc::shmctl(id, libc::IPC_RMID, core::ptr::null_mut()) };
    }
}
