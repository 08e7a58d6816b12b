//! Guest `mmap`, `munmap`, `mprotect` and `mremap`, forwarded to the host
//! with the bookkeeping of [`super::vma`].
//!
//! Invariants: the host mapping always gets the guest protection without
//! `PROT_EXEC`; the VMA map records the guest protection (with `PROT_EXEC`)
//! and is updated only after the host call succeeded, for exactly the
//! page-rounded range the host changed.

use libc::{MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE};

use super::{page, vma};
use crate::host::{self, Errno, SysResult};

/// AArch64 `PROT_BTI`: not advertised (no `HWCAP2_BTI`), so rejected.
const GUEST_PROT_BTI: i32 = 0x10;
/// AArch64 `PROT_MTE`: not advertised (no `HWCAP2_MTE`), so rejected.
const GUEST_PROT_MTE: i32 = 0x20;
/// x86-64's `MAP_32BIT`, which has no meaning on AArch64 and is ignored there.
const HOST_ONLY_MAP_32BIT: i32 = 0x40;

/// The protection the host mapping gets for guest protection `prot`.
fn host_prot(prot: i32) -> i32 {
    prot & !PROT_EXEC
}

/// The protection recorded for guest protection `prot`.
fn guest_bits(prot: i32) -> i32 {
    prot & (PROT_READ | PROT_WRITE | PROT_EXEC)
}

fn check_prot(prot: i32) -> Result<(), Errno> {
    if prot & (GUEST_PROT_BTI | GUEST_PROT_MTE) != 0 {
        return Err(Errno(libc::EINVAL));
    }
    Ok(())
}

/// Page-rounded end of `[addr, addr + len)`, or `ENOMEM` on overflow.
fn range_end(addr: u64, len: u64) -> Result<u64, Errno> {
    addr.checked_add(len)
        .and_then(page::ceil)
        .ok_or(Errno(libc::ENOMEM))
}

/// Guest `mmap`: returns the mapped address.
pub fn map(addr: u64, len: u64, prot: i32, flags: i32, fd: i32, off: u64) -> SysResult {
    check_prot(prot)?;
    let flags = flags & !HOST_ONLY_MAP_32BIT;
    // SAFETY: guest memory is the guest's to map; a MAP_FIXED guest mapping
    // over runtime memory is the guest's own corruption, as on real hardware
    // it would corrupt its own process.
    let at = unsafe { host::mmap(addr, len, host_prot(prot), flags, fd, off)? };
    let end = range_end(at as u64, len)?;
    vma::lock().insert(at as u64, end, guest_bits(prot));
    Ok(at)
}

/// Guest `munmap`.
pub fn unmap(addr: u64, len: u64) -> SysResult {
    // SAFETY: as for `map`.
    let r = unsafe { host::munmap(addr, len)? };
    vma::lock().remove(addr, range_end(addr, len)?);
    Ok(r)
}

/// Guest `mprotect`.
pub fn protect(addr: u64, len: u64, prot: i32) -> SysResult {
    check_prot(prot)?;
    // SAFETY: as for `map`.
    let r = unsafe { host::mprotect(addr, len, host_prot(prot))? };
    vma::lock().protect(addr, range_end(addr, len)?, guest_bits(prot));
    Ok(r)
}

/// Guest `mremap`: returns the new address.
pub fn remap(old: u64, old_len: u64, new_len: u64, flags: i32, new_addr: u64) -> SysResult {
    let args = [old, old_len, new_len, flags as u64, new_addr];
    // SAFETY: as for `map`.
    let at = unsafe { host::call(libc::SYS_mremap, &args)? } as u64;
    let mut vmas = vma::lock();
    let prot = vmas
        .find(old)
        .map_or(PROT_READ | PROT_WRITE, |(_, v)| v.prot);
    if old_len != 0 {
        vmas.remove(old, range_end(old, old_len)?);
    }
    vmas.insert(at, range_end(at, new_len)?, prot);
    Ok(at as i64)
}

/// Maps fresh zeroed private memory at exactly `[addr, addr + len)` (both
/// page-aligned) with guest protection `prot`, failing with `EEXIST` rather
/// than replacing anything already there.
pub fn map_anon_exact(addr: u64, len: u64, prot: i32) -> SysResult {
    let flags = MAP_PRIVATE | libc::MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let at = unsafe { host::mmap(addr, len, host_prot(prot), flags, -1, 0)? } as u64;
    if at != addr {
        // A kernel older than 4.17 treats the flag as a hint.
        // SAFETY: `at` is the mapping we just made and nobody uses it.
        unsafe { host::munmap(at, len)? };
        return Err(Errno(libc::EEXIST));
    }
    vma::lock().insert(addr, addr + len, guest_bits(prot));
    Ok(at as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_never_gets_exec() {
        assert_eq!(host_prot(PROT_READ | PROT_EXEC), PROT_READ);
        assert_eq!(host_prot(PROT_EXEC), libc::PROT_NONE);
        assert_eq!(guest_bits(PROT_READ | PROT_EXEC), PROT_READ | PROT_EXEC);
        assert_eq!(
            check_prot(PROT_READ | GUEST_PROT_BTI),
            Err(Errno(libc::EINVAL))
        );
    }

    #[test]
    fn map_protect_unmap_round_trip() {
        let len = 3 * page::SIZE;
        let flags = MAP_PRIVATE | libc::MAP_ANONYMOUS;
        let at = map(0, len, PROT_READ | PROT_EXEC, flags, -1, 0).unwrap() as u64;
        assert_eq!(vma::lock().find(at).unwrap().1.prot, PROT_READ | PROT_EXEC);
        protect(at + page::SIZE, 1, PROT_READ | PROT_WRITE).unwrap();
        // SAFETY: the middle page was just made writable.
        unsafe { *((at + page::SIZE) as *mut u8) = 7 };
        assert_eq!(
            vma::lock().find(at + page::SIZE).unwrap().1.prot,
            PROT_READ | PROT_WRITE
        );
        assert_eq!(vma::lock().find(at).unwrap().1.prot, PROT_READ | PROT_EXEC);
        let moved = remap(at, page::SIZE, 8 * page::SIZE, libc::MREMAP_MAYMOVE, 0).unwrap() as u64;
        assert_eq!(
            vma::lock().find(moved + 7 * page::SIZE).unwrap().1.prot,
            PROT_READ | PROT_EXEC
        );
        if moved != at {
            assert!(vma::lock().find(at).is_none());
        }
        unmap(moved, 8 * page::SIZE).unwrap();
        unmap(at + page::SIZE, 2 * page::SIZE).unwrap();
        assert!(vma::lock().find(moved).is_none());
        assert!(vma::lock().find(at + 2 * page::SIZE).is_none());
    }
}
