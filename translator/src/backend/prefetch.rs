//! Host prefetches for guest `PRFM`.
//!
//! Cranelift has no prefetch instruction, so [`emit`] lowers an IR
//! `Prefetch` as an unused byte `atomic_load` of the address (a memory
//! fence to Cranelift's alias analysis, so no other load is ever replaced
//! by its value, and never removed as dead) under a source location of its
//! own, and [`patch`] rewrites that `movzx` in the finished code into
//! `prefetcht0`/`t1`/`t2`/`nta` of the same address: same length, same
//! addressing bytes, and it never faults.
//!
//! Invariants: marker source locations are never guest PCs (they stand for
//! offsets about 2 GiB before the function entry, see `lower::srcloc_pc`),
//! and each prefetch of a function has its own marker (two adjacent ones
//! under one location would make one range, and only its first instruction
//! is rewritten). Code is only kept when every marked
//! instruction was rewritten: [`patch`] reports failure, and the caller
//! then compiles the function again with prefetches left out, so no real
//! load of a prefetched address remains.

use cranelift_codegen::ir::{types, InstBuilder, SourceLoc, Value};
use cranelift_codegen::CompiledCode;
use cranelift_frontend::FunctionBuilder;

use super::lower_int::guest_mem;

/// The top four bits of a marker (a guest offset of at least -2 GiB and
/// less than -1.75 GiB, which no function spans); the two low bits hold
/// its level, the others its number.
const MARK: u32 = 0x8 << 28;

/// Whether `loc` marks a prefetch (and so stands for no guest PC).
pub fn is_marker(loc: SourceLoc) -> bool {
    !loc.is_default() && loc.bits() >> 28 == MARK >> 28
}

/// Emits the placeholder load of prefetch number `seq` of the function,
/// of `addr` into cache level `level` (0 for non-temporal, see
/// `Opcode::Prefetch`).
pub fn emit(fb: &mut FunctionBuilder, seq: u32, level: u64, addr: Value) {
    debug_assert!(seq < 1 << 26 && level < 4);
    fb.set_srcloc(SourceLoc::new(MARK | seq << 2 | level as u32));
    fb.ins().atomic_load(types::I8, guest_mem(), addr);
    fb.set_srcloc(SourceLoc::default());
}

/// Rewrites every placeholder load in `bytes` (the machine code of `code`)
/// into its prefetch; false, with `bytes` partly rewritten, when one is
/// not a plain `movzx` from memory.
pub fn patch(code: &CompiledCode, bytes: &mut [u8]) -> bool {
    code.buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|l| is_marker(l.loc))
        .all(|l| {
            rewrite(
                &mut bytes[l.start as usize..l.end as usize],
                l.loc.bits() & 3,
            )
        })
}

/// Rewrites the `movzx` from memory at the start of `code` into a prefetch
/// of `level` (`0F 18 /level`: /0 `prefetchnta`, /1 to /3 `prefetcht0` to
/// `t2`); false when `code` starts with anything else.
fn rewrite(code: &mut [u8], level: u32) -> bool {
    let rex = code.first().is_some_and(|b| b & 0xf0 == 0x40);
    let op = usize::from(rex);
    let Some(&[0x0f, 0xb6, modrm]) = code.get(op..op + 3) else {
        return false;
    };
    let (md, rm) = (modrm >> 6, modrm & 7);
    // A register source, or RIP-relative (no guest address is).
    if md == 3 || (md == 0 && rm == 5) {
        return false;
    }
    if rex {
        // Keep REX.X and REX.B (the address registers); REX.W and REX.R
        // (the destination) mean nothing to a prefetch.
        code[0] &= !0x0c;
    }
    code[op + 1] = 0x18;
    code[op + 2] = (modrm & 0xc7) | (level as u8) << 3;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(code: &[u8], level: u32) -> Option<Vec<u8>> {
        let mut c = code.to_vec();
        rewrite(&mut c, level).then_some(c)
    }

    #[test]
    fn byte_loads_become_prefetches_of_the_same_address() {
        // movzbl (%rdi),%eax -> prefetcht0 (%rdi)
        assert_eq!(
            rewritten(&[0x0f, 0xb6, 0x07], 1).unwrap(),
            [0x0f, 0x18, 0x0f]
        );
        // movzbq 0x10(%r8,%r9,4),%r10 -> prefetcht2 0x10(%r8,%r9,4)
        assert_eq!(
            rewritten(&[0x4f, 0x0f, 0xb6, 0x54, 0x88, 0x10], 3).unwrap(),
            [0x43, 0x0f, 0x18, 0x5c, 0x88, 0x10]
        );
        // movzbl 0x1000(%rax),%r11d -> prefetchnta 0x1000(%rax)
        assert_eq!(
            rewritten(&[0x44, 0x0f, 0xb6, 0x98, 0, 0x10, 0, 0], 0).unwrap(),
            [0x40, 0x0f, 0x18, 0x80, 0, 0x10, 0, 0]
        );
    }

    #[test]
    fn anything_else_is_refused() {
        // movzbl %al,%eax
        assert!(rewritten(&[0x0f, 0xb6, 0xc0], 1).is_none());
        // movzbl 0x0(%rip),%eax
        assert!(rewritten(&[0x0f, 0xb6, 0x05, 0, 0, 0, 0], 1).is_none());
        // lea 0x8(%rdi),%rax
        assert!(rewritten(&[0x48, 0x8d, 0x47, 0x08], 1).is_none());
        assert!(rewritten(&[0x0f], 1).is_none());
    }
}
