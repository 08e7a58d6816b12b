//! Dynamic relocations of a static-pie image: the values that
//! `R_AARCH64_RELATIVE` / `R_AARCH64_IRELATIVE` relocations (RELA or packed
//! RELR) store, which are the pointers in the image's data.
//!
//! Invariants: never panics on malformed tables (a table that does not fit
//! the file is an error; unknown relocation types are ignored); results are
//! biased.

use super::error::{malformed, LoadError};
use object::elf;

/// Reads `len` file-backed bytes at an unbiased virtual address.
pub(crate) type ReadFn<'a> = dyn Fn(u64, usize) -> Option<&'a [u8]> + 'a;

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let end = at.checked_add(8)?;
    Some(u64::from_le_bytes(bytes.get(at..end)?.try_into().ok()?))
}

/// Values of every RELATIVE/IRELATIVE relocation reachable from the
/// `PT_DYNAMIC` contents `dynamic`, with `bias` added.
pub(crate) fn relative_targets(
    dynamic: &[u8],
    bias: u64,
    read: &ReadFn<'_>,
) -> Result<Vec<u64>, LoadError> {
    let mut tags = [None::<u64>; 40];
    for entry in dynamic.chunks_exact(16) {
        let tag = u64_at(entry, 0).unwrap_or(0);
        let val = u64_at(entry, 8).unwrap_or(0);
        if tag == elf::DT_NULL as u64 {
            break;
        }
        if let Some(slot) = usize::try_from(tag).ok().and_then(|t| tags.get_mut(t)) {
            *slot = Some(val);
        }
    }
    let tag = |t: i64| {
        usize::try_from(t)
            .ok()
            .and_then(|t| tags.get(t))
            .copied()
            .flatten()
    };
    let mut out = Vec::new();
    for (addr_tag, size_tag) in [
        (elf::DT_RELA, elf::DT_RELASZ),
        (elf::DT_JMPREL, elf::DT_PLTRELSZ),
    ] {
        if let (Some(addr), Some(size)) = (tag(addr_tag), tag(size_tag)) {
            let table = table_bytes(read, addr, size, "RELA")?;
            for rela in table.chunks_exact(24) {
                let info = u64_at(rela, 8).unwrap_or(0);
                let addend = u64_at(rela, 16).unwrap_or(0);
                let kind = (info & 0xffff_ffff) as u32;
                if kind == elf::R_AARCH64_RELATIVE || kind == elf::R_AARCH64_IRELATIVE {
                    out.push(bias.wrapping_add(addend));
                }
            }
        }
    }
    if let (Some(addr), Some(size)) = (tag(elf::DT_RELR), tag(elf::DT_RELRSZ)) {
        let table = table_bytes(read, addr, size, "RELR")?;
        let mut next = 0u64;
        for word in table.chunks_exact(8) {
            let entry = u64_at(word, 0).unwrap_or(0);
            if entry & 1 == 0 {
                push_in_place(read, entry, bias, &mut out);
                next = entry.wrapping_add(8);
            } else {
                for bit in 1..64u64 {
                    if entry >> bit & 1 != 0 {
                        push_in_place(read, next.wrapping_add((bit - 1) * 8), bias, &mut out);
                    }
                }
                next = next.wrapping_add(63 * 8);
            }
        }
    }
    Ok(out)
}

/// RELR relocations keep their addend in place: the stored word plus bias.
fn push_in_place(read: &ReadFn<'_>, where_: u64, bias: u64, out: &mut Vec<u64>) {
    if let Some(word) = read(where_, 8).and_then(|b| u64_at(b, 0)) {
        out.push(bias.wrapping_add(word));
    }
}

fn table_bytes<'a>(
    read: &ReadFn<'a>,
    addr: u64,
    size: u64,
    what: &str,
) -> Result<&'a [u8], LoadError> {
    usize::try_from(size)
        .ok()
        .and_then(|len| read(addr, len))
        .ok_or_else(|| {
            malformed(format!(
                "{what} table at {addr:#x} (+{size:#x}) is not in the file"
            ))
        })
}
