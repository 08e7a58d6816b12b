//! Executable memory for JIT-compiled code, within reach of the runtime.
//!
//! Translated code reaches runtime helpers, the code TLB and other
//! translated functions with 32-bit PC-relative calls and addresses (the
//! same code the translator emits ahead of time), so JIT code must lie
//! within ±2 GiB of the executable. One region is reserved (no access, no
//! memory committed) near the executable at first use; allocations take
//! whole pages from it, are written while read-write and then made
//! read-execute (never writable and executable at once).
//!
//! Invariants: every allocation lies in the region, page-aligned, and no
//! two allocations share a page; the region lies within [`REACH`] bytes of
//! the anchor address it was reserved near.

use vmxlate_abi::guest::PAGE_SIZE;

/// Size of the reserved region.
const REGION: usize = 256 << 20;

/// Largest distance between the anchor and any byte of the region; leaves
/// room for the executable itself inside the ±2 GiB of a rel32.
pub const REACH: u64 = 1 << 30;

/// The reserved region and how much of it is used.
pub struct CodeMemory {
    base: usize,
    used: usize,
}

/// Pages being filled: read-write until [`CodeMemory::seal`].
pub struct Pages {
    /// Start address.
    pub addr: usize,
    /// Length (a multiple of the page size).
    pub len: usize,
}

impl CodeMemory {
    /// Reserves the region near `anchor` (an address in the executable).
    pub fn reserve(anchor: usize) -> Result<CodeMemory, String> {
        let page = PAGE_SIZE as usize;
        let anchor_page = anchor & !(page - 1);
        // Candidates above, then below, the executable, nearest first.
        let steps = [256usize << 20, 512 << 20];
        for step in steps {
            for hint in [
                anchor_page.checked_add(step),
                anchor_page.checked_sub(step + REGION),
            ]
            .into_iter()
            .flatten()
            {
                // SAFETY: an anonymous PROT_NONE mapping that replaces
                // nothing (MAP_FIXED_NOREPLACE fails instead).
                let p = unsafe {
                    libc::mmap(
                        hint as *mut libc::c_void,
                        REGION,
                        libc::PROT_NONE,
                        libc::MAP_PRIVATE
                            | libc::MAP_ANONYMOUS
                            | libc::MAP_NORESERVE
                            | libc::MAP_FIXED_NOREPLACE,
                        -1,
                        0,
                    )
                };
                if p == libc::MAP_FAILED {
                    continue;
                }
                let base = p as usize;
                if within(anchor, base) && within(anchor, base + REGION) {
                    return Ok(CodeMemory { base, used: 0 });
                }
                // SAFETY: unmapping exactly what was just mapped.
                unsafe { libc::munmap(p, REGION) };
            }
        }
        Err("no address space for JIT code near the executable".to_string())
    }

    /// Makes `len` bytes of fresh pages read-write for filling.
    pub fn alloc(&mut self, len: usize) -> Result<Pages, String> {
        let page = PAGE_SIZE as usize;
        let len = len.max(1).div_ceil(page) * page;
        if self.used + len > REGION {
            return Err("JIT code region full".to_string());
        }
        let addr = self.base + self.used;
        // SAFETY: the pages lie in our reserved region and are not in use.
        let r = unsafe {
            libc::mprotect(
                addr as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if r != 0 {
            return Err(format!(
                "mprotect of JIT code: {}",
                std::io::Error::last_os_error()
            ));
        }
        self.used += len;
        Ok(Pages { addr, len })
    }

    /// Makes filled pages read-execute.
    pub fn seal(&self, pages: &Pages) -> Result<(), String> {
        // SAFETY: `pages` came from `alloc` on this region.
        let r = unsafe {
            libc::mprotect(
                pages.addr as *mut libc::c_void,
                pages.len,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if r != 0 {
            return Err(format!(
                "mprotect of JIT code: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }
}

/// Whether `addr` is within [`REACH`] of `anchor`.
pub fn within(anchor: usize, addr: usize) -> bool {
    (anchor as u64).abs_diff(addr as u64) <= REACH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_near_the_anchor_and_hands_out_whole_pages() {
        let anchor = reserves_near_the_anchor_and_hands_out_whole_pages as *const () as usize;
        let mut m = CodeMemory::reserve(anchor).unwrap();
        let a = m.alloc(10).unwrap();
        let b = m.alloc(5000).unwrap();
        assert_eq!(a.len, 4096);
        assert_eq!(b.len, 8192);
        assert_eq!(b.addr, a.addr + 4096);
        assert!(within(anchor, a.addr) && within(anchor, b.addr + b.len));
        // SAFETY: the pages are read-write until sealed.
        unsafe { (a.addr as *mut u8).write(0xc3) };
        m.seal(&a).unwrap();
        // SAFETY: sealed pages stay readable.
        assert_eq!(unsafe { (a.addr as *const u8).read() }, 0xc3);
    }
}
