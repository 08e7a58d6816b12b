//! System information syscalls that differ from the host's answer: `uname`
//! reports the guest machine.

use super::{uaccess, Call};
use crate::host::{self, SysResult};

/// Offset of `machine` in `struct new_utsname` (six 65-byte fields, the
/// same on both architectures).
const MACHINE_OFFSET: u64 = 4 * 65;

/// `uname(buf)`: the host's answer with `machine` = `aarch64`.
pub fn uname(c: &mut Call<'_>) -> SysResult {
    let buf = c.arg(0);
    // SAFETY: the kernel writes a `struct new_utsname` (same layout on both)
    // to guest memory it checks.
    unsafe { host::call(libc::SYS_uname, &[buf])? };
    let mut machine = [0u8; 65];
    machine[..7].copy_from_slice(b"aarch64");
    uaccess::write_bytes(buf + MACHINE_OFFSET, &machine)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::super::uaccess::tests::guest_pages;
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn machine_reads_aarch64() {
        assert_eq!(offset_of!(libc::utsname, machine) as u64, MACHINE_OFFSET);
        let buf = guest_pages(1, libc::PROT_READ | libc::PROT_WRITE);
        let mut cpu = vmxlate_abi::CpuState::default();
        cpu.x[0] = buf;
        assert_eq!(uname(&mut Call { cpu: &mut cpu }), Ok(0));
        // SAFETY: `buf` holds the utsname the call just wrote.
        let u = unsafe { &*(buf as *const libc::utsname) };
        // SAFETY: uname NUL-terminates every field.
        let machine = unsafe { core::ffi::CStr::from_ptr(u.machine.as_ptr()) };
        assert_eq!(machine.to_bytes(), b"aarch64");
        // SAFETY: as above.
        let sysname = unsafe { core::ffi::CStr::from_ptr(u.sysname.as_ptr()) };
        assert_eq!(sysname.to_bytes(), b"Linux");
    }
}
