//! The code TLB: a direct-mapped cache from guest PC to translated code that
//! translated code probes inline for indirect branches.
//!
//! Each guest thread has its own table (right after its `CpuState`), so
//! no other thread ever reads a slot while it is rewritten.
//!
//! Invariants (the contract in `vmxlate_abi::TlbEntry`): slot `i` caches only
//! a PC with `(pc >> 2) & (TLB_ENTRIES - 1) == i`; an empty slot holds a PC
//! no probe can match (0, or 1 in slot 0), so `host_fn` is read only after a
//! match. Only the runtime, on the owning thread, writes a table.

use vmxlate_abi::{TlbEntry, TLB_ENTRIES};

use super::code_map::Target;

const EMPTY: TlbEntry = TlbEntry {
    guest_pc: 0,
    host_fn: None,
    entry: 0,
    _pad: 0,
};

/// An empty table.
pub const fn initial() -> [TlbEntry; TLB_ENTRIES] {
    let mut t = [EMPTY; TLB_ENTRIES];
    // No instruction is at an odd address, and slot 0 is where PC 0 probes.
    t[0].guest_pc = 1;
    t
}

/// The slot that caches `pc`.
pub const fn slot(pc: u64) -> usize {
    (pc >> 2) as usize & (TLB_ENTRIES - 1)
}

/// The cached translation of `pc` in `table`, if its slot holds it.
pub fn probe(table: &[TlbEntry; TLB_ENTRIES], pc: u64) -> Option<Target> {
    let e = table[slot(pc)];
    if e.guest_pc != pc {
        return None;
    }
    e.host_fn.map(|host_fn| Target {
        host_fn,
        entry: e.entry,
    })
}

/// Caches `target` as the translation of `pc` in `table`.
pub fn fill(table: &mut [TlbEntry; TLB_ENTRIES], pc: u64, target: Target) {
    let e = TlbEntry {
        guest_pc: pc,
        host_fn: Some(target.host_fn),
        entry: target.entry,
        _pad: 0,
    };
    table[slot(pc)] = e;
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmxlate_abi::{CpuState, GuestRet};

    unsafe extern "C" fn f(cpu: *mut CpuState, _: u32) -> GuestRet {
        GuestRet { cpu, pc: 0 }
    }

    #[test]
    fn empty_slots_never_match_and_fills_do() {
        let mut t = Box::new(initial());
        assert!(probe(&t, 0).is_none());
        assert_eq!(slot(0x40_0000 + 4 * TLB_ENTRIES as u64), slot(0x40_0000));
        let pc = 0x41_2344;
        assert!(probe(&t, pc).is_none());
        fill(
            &mut t,
            pc,
            Target {
                host_fn: f,
                entry: 3,
            },
        );
        assert_eq!(probe(&t, pc).unwrap().entry, 3);
        // A PC sharing the slot misses, then evicts.
        let other = pc + 4 * TLB_ENTRIES as u64;
        assert!(probe(&t, other).is_none());
        fill(
            &mut t,
            other,
            Target {
                host_fn: f,
                entry: 4,
            },
        );
        assert!(probe(&t, pc).is_none());
    }
}
