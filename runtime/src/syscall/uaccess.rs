//! Reads and writes of guest memory on behalf of emulated syscalls.
//!
//! Invariants: an access is allowed only if the whole range lies in guest
//! mappings the VMA map records with the needed permission; otherwise the
//! syscall fails with `EFAULT`, as the kernel's `copy_{to,from}_user` would.
//! Accesses are unaligned-safe and limited to [`Plain`] types.

use core::ffi::CStr;

use libc::{PROT_READ, PROT_WRITE};

use crate::host::Errno;
use crate::memory::vma;

/// Plain old data: `#[repr(C)]`, only integer fields, every bit pattern
/// valid.
///
/// # Safety
/// Implement only for types for which any byte sequence is a valid value.
pub unsafe trait Plain: Copy {}

// SAFETY: every bit pattern is a valid integer.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}

const EFAULT: Errno = Errno(libc::EFAULT);

/// Fails with `EFAULT` unless `[addr, addr + len)` is guest memory with
/// `prot`.
pub fn check(addr: u64, len: usize, prot: i32) -> Result<(), Errno> {
    let end = addr.checked_add(len as u64).ok_or(EFAULT)?;
    if addr == 0 {
        return Err(EFAULT);
    }
    let vmas = vma::lock();
    let mut at = addr;
    while at < end {
        match vmas.find(at) {
            Some((_, v)) if v.prot & prot == prot => at = v.end,
            _ => return Err(EFAULT),
        }
    }
    Ok(())
}

/// Reads a `T` from guest address `addr`.
pub fn read<T: Plain>(addr: u64) -> Result<T, Errno> {
    check(addr, size_of::<T>(), PROT_READ)?;
    // SAFETY: the range is readable guest memory and `T` is `Plain`.
    Ok(unsafe { (addr as *const T).read_unaligned() })
}

/// Writes `value` to guest address `addr`.
pub fn write<T: Plain>(addr: u64, value: &T) -> Result<(), Errno> {
    check(addr, size_of::<T>(), PROT_WRITE)?;
    // SAFETY: the range is writable guest memory.
    unsafe { (addr as *mut T).write_unaligned(*value) };
    Ok(())
}

/// Copies `bytes` to guest address `addr`.
pub fn write_bytes(addr: u64, bytes: &[u8]) -> Result<(), Errno> {
    check(addr, bytes.len(), PROT_WRITE)?;
    // SAFETY: the range is writable guest memory, distinct from `bytes`
    // unless the guest passed a pointer into runtime memory, which `check`
    // rejected.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
    Ok(())
}

/// The NUL-terminated string at guest address `addr` (at most `PATH_MAX`
/// bytes including the NUL, else `ENAMETOOLONG`).
pub fn c_str<'g>(addr: u64) -> Result<&'g CStr, Errno> {
    const PATH_MAX: u64 = 4096;
    let mut at = addr;
    loop {
        if at - addr >= PATH_MAX {
            return Err(Errno(libc::ENAMETOOLONG));
        }
        // Check page by page, then scan that page.
        let page_end = (at | (crate::memory::page::SIZE - 1)) + 1;
        let chunk = (page_end - at).min(PATH_MAX - (at - addr));
        check(at, chunk as usize, PROT_READ)?;
        // SAFETY: `[at, at + chunk)` is readable guest memory.
        let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, chunk as usize) };
        if let Some(i) = bytes.iter().position(|&b| b == 0) {
            let len = (at - addr) as usize + i + 1;
            // SAFETY: `[addr, addr + len)` was checked readable above and
            // its last byte is the first NUL; guest memory is not unmapped
            // while the syscall that borrowed it runs.
            let all = unsafe { core::slice::from_raw_parts(addr as *const u8, len) };
            return CStr::from_bytes_with_nul(all).map_err(|_| EFAULT);
        }
        at += chunk;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::memory::{mapping, page};

    /// Runs handler `f` with guest registers x0.. set to `args`.
    pub(crate) fn call_with(
        args: &[u64],
        f: fn(&mut super::super::Call<'_>) -> crate::host::SysResult,
    ) -> crate::host::SysResult {
        let mut cpu = vmxlate_abi::CpuState::default();
        cpu.x[..args.len()].copy_from_slice(args);
        f(&mut super::super::Call { cpu: &mut cpu })
    }

    /// Maps `pages` fresh guest pages (recorded in the VMA map) for tests.
    pub(crate) fn guest_pages(pages: u64, prot: i32) -> u64 {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        mapping::map(0, pages * page::SIZE, prot, flags, -1, 0).unwrap() as u64
    }

    #[test]
    fn checks_permissions_and_bounds() {
        let rw = guest_pages(2, PROT_READ | PROT_WRITE);
        mapping::protect(rw + page::SIZE, page::SIZE, libc::PROT_NONE).unwrap();
        write(rw + 4, &0x1122_3344u32).unwrap();
        assert_eq!(read::<u32>(rw + 4), Ok(0x1122_3344));
        assert_eq!(read::<u64>(rw + page::SIZE - 4), Err(EFAULT));
        assert_eq!(read::<u64>(0), Err(EFAULT));
        let ro = guest_pages(1, PROT_READ);
        assert_eq!(write(ro, &1u8), Err(EFAULT));
        assert_eq!(read::<u8>(ro), Ok(0));
    }

    #[test]
    fn reads_strings_across_pages() {
        let base = guest_pages(2, PROT_READ | PROT_WRITE);
        let at = base + page::SIZE - 3;
        write_bytes(at, b"hello\0").unwrap();
        assert_eq!(c_str(at).unwrap().to_bytes(), b"hello");
        let unterminated = guest_pages(1, PROT_READ | PROT_WRITE);
        write_bytes(unterminated, &[b'x'; 4096]).unwrap();
        assert!(c_str(unterminated).is_err());
    }
}
