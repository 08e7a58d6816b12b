//! Memory syscalls: decode the arguments and hand them to [`crate::memory`],
//! which owns the mappings and their bookkeeping.

use super::Call;
use crate::host::SysResult;
use crate::memory::{brk, mapping};

/// `brk(addr)`: returns the (possibly unchanged) break; never fails.
pub fn brk(c: &mut Call<'_>) -> SysResult {
    Ok(brk::brk(c.arg(0)) as i64)
}

/// `mmap(addr, len, prot, flags, fd, offset)`.
pub fn mmap(c: &mut Call<'_>) -> SysResult {
    mapping::map(c.arg(0), c.arg(1), c.int(2), c.int(3), c.int(4), c.arg(5))
}

/// `munmap(addr, len)`.
pub fn munmap(c: &mut Call<'_>) -> SysResult {
    mapping::unmap(c.arg(0), c.arg(1))
}

/// `mprotect(addr, len, prot)`.
pub fn mprotect(c: &mut Call<'_>) -> SysResult {
    mapping::protect(c.arg(0), c.arg(1), c.int(2))
}

/// `mremap(old, old_len, new_len, flags, new_addr)`.
pub fn mremap(c: &mut Call<'_>) -> SysResult {
    mapping::remap(c.arg(0), c.arg(1), c.arg(2), c.int(3), c.arg(4))
}
