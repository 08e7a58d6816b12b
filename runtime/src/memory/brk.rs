//! The emulated program break (`brk`) of the guest.
//!
//! The heap starts at the page-aligned end of the guest image and grows with
//! fresh `MAP_FIXED_NOREPLACE` mappings, so it never clobbers another
//! mapping. Invariants (as in Linux): the break never goes below its start;
//! pages `[start, ceil(brk))` are mapped read-write; a request that cannot
//! be satisfied leaves the break where it was and returns it.

use std::sync::Mutex;

use libc::{PROT_READ, PROT_WRITE};

use super::{mapping, page, vma};
use crate::host;

struct Heap {
    start: u64,
    brk: u64,
}

static HEAP: Mutex<Heap> = Mutex::new(Heap { start: 0, brk: 0 });

/// Sets the start of the heap (rounded up to a page); called once by the
/// loader after mapping the guest image.
pub fn init(image_end: u64) {
    let start = page::ceil(image_end).unwrap_or(image_end);
    let mut heap = HEAP.lock().unwrap_or_else(|e| e.into_inner());
    *heap = Heap { start, brk: start };
}

/// Guest `brk(request)`: moves the break if possible; returns the new (or,
/// on failure, the unchanged) break.
pub fn brk(request: u64) -> u64 {
    let mut heap = HEAP.lock().unwrap_or_else(|e| e.into_inner());
    if request < heap.start {
        return heap.brk;
    }
    let (Some(old_top), Some(new_top)) = (page::ceil(heap.brk), page::ceil(request)) else {
        return heap.brk;
    };
    if new_top > old_top {
        if mapping::map_anon_exact(old_top, new_top - old_top, PROT_READ | PROT_WRITE).is_err() {
            return heap.brk;
        }
    } else if new_top < old_top {
        // SAFETY: `[new_top, old_top)` is heap memory that belongs to the
        // guest's break, which the guest is releasing.
        if unsafe { host::munmap(new_top, old_top - new_top) }.is_err() {
            return heap.brk;
        }
        vma::lock().remove(new_top, old_top);
    }
    heap.brk = request;
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_shrinks_and_refuses_below_start() {
        // Find a free range, then let the heap start one byte into it.
        let len = 64 * page::SIZE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        // SAFETY: a fresh mapping, released straight away.
        let base = unsafe { host::mmap(0, len, PROT_READ, flags, -1, 0).unwrap() } as u64;
        // SAFETY: as above.
        unsafe { host::munmap(base, len).unwrap() };
        init(base + 1);
        let start = base + page::SIZE;
        assert_eq!(brk(0), start);
        assert_eq!(brk(start + 5000), start + 5000);
        // SAFETY: the heap now covers two pages from `start`.
        unsafe { *((start + 4999) as *mut u8) = 1 };
        assert_eq!(brk(start + 100), start + 100);
        assert!(vma::lock().find(start + page::SIZE).is_none());
        assert_eq!(brk(start - 1), start + 100);
        assert_eq!(brk(start), start);
    }
}
