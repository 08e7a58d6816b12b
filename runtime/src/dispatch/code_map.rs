//! The code map: every guest PC at which translated code can be entered.
//!
//! Two sources, searched in order: the translator's PC map (sorted by guest
//! PC, no duplicates, searched by bisection; host code named by its offset
//! from the image's code base), and a hash map for code
//! translated at run time (the JIT's extension point: it registers each new
//! translation with [`CodeMap::register`]).
//!
//! It also maps host code addresses back to guest PCs for synchronous
//! faults: the translator's fault map gives the guest instruction of each
//! memory access; elsewhere the start of the enclosing guest function.
//!
//! Invariant: a PC present in the PC map is never shadowed by a registered
//! translation.

use std::sync::RwLock;

use rustc_hash::FxHashMap;
use vmxlate_abi::{FaultMapEntry, GuestFn, PcMapEntry};

/// Where translated code for one guest PC is entered.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The host function.
    pub host_fn: GuestFn,
    /// The entry index to pass it.
    pub entry: u32,
}

/// All known translations.
pub struct CodeMap {
    aot: &'static [PcMapEntry],
    code_base: usize,
    code_len: usize,
    faults: &'static [FaultMapEntry],
    runtime: RwLock<FxHashMap<u64, Target>>,
}

impl CodeMap {
    /// A code map over the translator's sorted PC map, whose code offsets
    /// are relative to `code_base`, and its fault map (sorted by offset)
    /// for the `code_len` bytes of translated code.
    ///
    /// # Safety
    /// For every entry, `code_base + code_offset` must be the address of a
    /// [`GuestFn`] that lives as long as the process.
    pub unsafe fn new(
        aot: &'static [PcMapEntry],
        code_base: *const u8,
        code_len: usize,
        faults: &'static [FaultMapEntry],
    ) -> CodeMap {
        CodeMap {
            aot,
            code_base: code_base as usize,
            code_len,
            faults,
            runtime: RwLock::new(FxHashMap::default()),
        }
    }

    /// The translation entered at `pc`.
    pub fn lookup(&self, pc: u64) -> Option<Target> {
        if let Ok(i) = self.aot.binary_search_by_key(&pc, |e| e.guest_pc) {
            let e = &self.aot[i];
            let addr = self.code_base + e.code_offset as usize;
            // SAFETY: `new`'s contract: this address is a GuestFn.
            let host_fn = unsafe { core::mem::transmute::<usize, GuestFn>(addr) };
            return Some(Target {
                host_fn,
                entry: e.entry,
            });
        }
        let map = self.runtime.read().unwrap_or_else(|e| e.into_inner());
        map.get(&pc).copied()
    }

    /// The guest PC that host code address `host` belongs to, if it is
    /// translated code: the exact instruction at a guest memory access,
    /// else the start of the guest function.
    pub fn fault_pc(&self, host: u64) -> Option<u64> {
        let off = (host as usize).checked_sub(self.code_base)?;
        if off >= self.code_len {
            return None;
        }
        let off = off as u32;
        let i = self.faults.partition_point(|e| e.code_offset <= off);
        if let Some(e) = i.checked_sub(1).map(|i| self.faults[i]) {
            if e.guest_pc != 0 {
                return Some(e.guest_pc);
            }
        }
        self.aot
            .iter()
            .filter(|e| e.entry == 0 && e.code_offset <= off)
            .max_by_key(|e| e.code_offset)
            .map(|e| e.guest_pc)
    }

    /// Registers code translated at run time for `pc` (ignored if the PC
    /// map already has `pc`).
    pub fn register(&self, pc: u64, target: Target) {
        if self.aot.binary_search_by_key(&pc, |e| e.guest_pc).is_err() {
            let mut map = self.runtime.write().unwrap_or_else(|e| e.into_inner());
            map.insert(pc, target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmxlate_abi::{CpuState, GuestRet};

    // Distinct bodies: identical empty functions may be merged at -O2.
    unsafe extern "C" fn f1(cpu: *mut CpuState, _: u32) -> GuestRet {
        // SAFETY: never called.
        unsafe { (*cpu).x[1] = 1 };
        GuestRet { cpu, pc: 1 }
    }
    unsafe extern "C" fn f2(cpu: *mut CpuState, _: u32) -> GuestRet {
        // SAFETY: never called.
        unsafe { (*cpu).x[2] = 2 };
        GuestRet { cpu, pc: 2 }
    }

    #[test]
    fn finds_aot_entries_then_registered_ones() {
        let (a1, a2) = (f1 as GuestFn as usize, f2 as GuestFn as usize);
        let base = a1.min(a2);
        let row = |guest_pc, f: usize, entry| PcMapEntry {
            guest_pc,
            code_offset: (f - base) as u32,
            entry,
        };
        let aot: &'static [PcMapEntry] = Box::leak(Box::new([
            row(0x40_0000, a1, 0),
            row(0x40_0010, a1, 1),
            row(0x40_0100, a2, 0),
        ]));
        // SAFETY: every offset leads to f1 or f2.
        let faults: &'static [FaultMapEntry] = Box::leak(Box::new([
            FaultMapEntry {
                code_offset: 4,
                _pad: 0,
                guest_pc: 0x40_0008,
            },
            FaultMapEntry {
                code_offset: 8,
                _pad: 0,
                guest_pc: 0,
            },
        ]));
        let len = a1.max(a2) - base + 16;
        let map = unsafe { CodeMap::new(aot, base as *const u8, len, faults) };
        assert_eq!(map.fault_pc(base as u64 + 5), Some(0x40_0008));
        assert_eq!(map.fault_pc(base as u64 + 3), map.fault_pc(base as u64 + 9));
        assert_eq!(map.fault_pc((base + len) as u64), None);
        let t = map.lookup(0x40_0010).unwrap();
        assert_eq!((t.host_fn as usize, t.entry), (f1 as GuestFn as usize, 1));
        assert_eq!(
            map.lookup(0x40_0100).unwrap().host_fn as usize,
            f2 as GuestFn as usize
        );
        assert!(map.lookup(0x40_0004).is_none());
        assert!(map.lookup(0).is_none());
        map.register(
            0x50_0000,
            Target {
                host_fn: f2,
                entry: 7,
            },
        );
        map.register(
            0x40_0000,
            Target {
                host_fn: f2,
                entry: 9,
            },
        );
        assert_eq!(map.lookup(0x50_0000).unwrap().entry, 7);
        assert_eq!(map.lookup(0x40_0000).unwrap().entry, 0);
    }
}
