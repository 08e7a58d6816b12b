//! The VMA map: every guest mapping with the permissions the guest asked for.
//!
//! Invariants: ranges are page-aligned, non-empty and never overlap; keys
//! are start addresses. Operations follow Linux semantics on ranges: mapping
//! replaces whatever overlapped, unmapping and protecting split mappings at
//! the range ends, and unmapped holes inside a range are left alone.
//! Adjacent mappings are not merged.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// One guest mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    /// One past the last byte (page-aligned).
    pub end: u64,
    /// Guest protection bits (`PROT_READ | PROT_WRITE | PROT_EXEC`, same
    /// values on AArch64 and x86-64), including `PROT_EXEC`.
    pub prot: i32,
}

/// An ordered set of non-overlapping guest mappings.
#[derive(Debug, Default)]
pub struct VmaMap {
    map: BTreeMap<u64, Vma>,
}

/// The VMA map of the process (threads share it).
pub static VMAS: Mutex<VmaMap> = Mutex::new(VmaMap::new());

/// Locks [`VMAS`]; a poisoned lock is still usable (the map stays consistent
/// because every operation completes before it can panic).
pub fn lock() -> MutexGuard<'static, VmaMap> {
    VMAS.lock().unwrap_or_else(|e| e.into_inner())
}

impl VmaMap {
    /// An empty map.
    pub const fn new() -> VmaMap {
        VmaMap {
            map: BTreeMap::new(),
        }
    }

    /// Records a mapping of `[start, end)` with `prot`, replacing any overlap.
    pub fn insert(&mut self, start: u64, end: u64, prot: i32) {
        self.remove(start, end);
        if start < end {
            self.map.insert(start, Vma { end, prot });
        }
    }

    /// Forgets every mapped byte of `[start, end)`.
    pub fn remove(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.map.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            self.map.remove(&k);
        }
    }

    /// Sets `prot` on every mapped byte of `[start, end)`.
    pub fn protect(&mut self, start: u64, end: u64, prot: i32) {
        self.split_at(start);
        self.split_at(end);
        for (_, vma) in self.map.range_mut(start..end) {
            vma.prot = prot;
        }
    }

    /// The mapping containing `addr`, as `(start, vma)`.
    pub fn find(&self, addr: u64) -> Option<(u64, Vma)> {
        let (&start, &vma) = self.map.range(..=addr).next_back()?;
        (addr < vma.end).then_some((start, vma))
    }

    /// Splits the mapping that strictly contains `addr` into two at `addr`.
    fn split_at(&mut self, addr: u64) {
        if let Some((start, vma)) = self.find(addr) {
            if start < addr {
                self.map.insert(start, Vma { end: addr, ..vma });
                self.map.insert(addr, vma);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: i32 = libc::PROT_READ;
    const RW: i32 = libc::PROT_READ | libc::PROT_WRITE;
    const RX: i32 = libc::PROT_READ | libc::PROT_EXEC;

    fn dump(m: &VmaMap) -> Vec<(u64, u64, i32)> {
        m.map.iter().map(|(&s, v)| (s, v.end, v.prot)).collect()
    }

    #[test]
    fn insert_replaces_overlaps() {
        let mut m = VmaMap::new();
        m.insert(0x1000, 0x5000, R);
        m.insert(0x2000, 0x3000, RW);
        assert_eq!(
            dump(&m),
            [
                (0x1000, 0x2000, R),
                (0x2000, 0x3000, RW),
                (0x3000, 0x5000, R)
            ]
        );
        m.insert(0x0, 0x6000, RX);
        assert_eq!(dump(&m), [(0x0, 0x6000, RX)]);
    }

    #[test]
    fn remove_and_protect_split() {
        let mut m = VmaMap::new();
        m.insert(0x1000, 0x4000, R);
        m.insert(0x6000, 0x8000, R);
        m.protect(0x3000, 0x7000, RW);
        assert_eq!(
            dump(&m),
            [
                (0x1000, 0x3000, R),
                (0x3000, 0x4000, RW),
                (0x6000, 0x7000, RW),
                (0x7000, 0x8000, R)
            ]
        );
        m.remove(0x2000, 0x6800);
        assert_eq!(
            dump(&m),
            [
                (0x1000, 0x2000, R),
                (0x6800, 0x7000, RW),
                (0x7000, 0x8000, R)
            ]
        );
        assert_eq!(m.find(0x6900).map(|(s, _)| s), Some(0x6800));
        assert_eq!(m.find(0x2000), None);
    }
}
