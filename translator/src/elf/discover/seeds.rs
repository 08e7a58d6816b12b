//! Where function entries come from besides symbols and FDEs: code
//! addresses stored in data, and a plausibility test for addresses nothing
//! else vouches for.
//!
//! Invariants: every address returned is 4-aligned and lies in a code range
//! ([`CodeRanges`]); scanning never reads outside file-backed bytes.

use super::decode::{CodeCache, Flow};
use crate::elf::load::{GuestImage, ImageKind};

/// Instructions examined by [`plausible`].
const PLAUSIBLE_WINDOW: usize = 16;

/// Sorted, disjoint `[start, end)` ranges that hold instructions: the
/// executable sections, or without section headers the executable
/// segments' file bytes.
pub(super) struct CodeRanges(Vec<(u64, u64)>);

impl CodeRanges {
    /// The code ranges of `image`.
    pub(super) fn new(image: &GuestImage) -> Self {
        let mut ranges: Vec<(u64, u64)> = image
            .sections
            .iter()
            .filter(|s| s.exec && s.file_backed)
            .map(|s| (s.addr, s.addr.saturating_add(s.size)))
            .collect();
        if ranges.is_empty() {
            ranges = image
                .segments
                .iter()
                .filter(|s| s.exec)
                .map(|s| (s.vaddr, s.vaddr.saturating_add(s.filesz)))
                .collect();
        }
        ranges.sort_unstable();
        CodeRanges(ranges)
    }

    /// Whether `addr` is a 4-aligned address inside a code range.
    pub(super) fn contains(&self, addr: u64) -> bool {
        if !addr.is_multiple_of(4) {
            return false;
        }
        let i = self.0.partition_point(|&(start, _)| start <= addr);
        i.checked_sub(1)
            .and_then(|i| self.0.get(i))
            .is_some_and(|&(_, end)| addr < end)
    }
}

/// Code addresses stored in the image's data: RELATIVE relocation values
/// for static-pie; for ET_EXEC, every 8-byte aligned word of the
/// non-executable allocated sections (or non-executable segments, without
/// section headers) whose value is in a code range. Sorted, unique.
pub(super) fn data_pointers(image: &GuestImage, code: &CodeRanges) -> Vec<u64> {
    let mut out: Vec<u64> = match image.kind {
        ImageKind::StaticPie => image.relative_relocs.clone(),
        ImageKind::Exec => {
            let mut words = Vec::new();
            for (addr, size) in data_regions(image) {
                scan_words(image, addr, size, code, &mut words);
            }
            words
        }
    };
    out.retain(|&v| code.contains(v));
    out.sort_unstable();
    out.dedup();
    out
}

/// `(start, size)` of the regions that may hold absolute pointers.
fn data_regions(image: &GuestImage) -> Vec<(u64, u64)> {
    // Unwind tables and notes hold only relative offsets.
    let skip = |name: &str| {
        name.starts_with(".eh_frame")
            || name.starts_with(".gcc_except_table")
            || name.starts_with(".note")
    };
    if image.sections.is_empty() {
        return image
            .segments
            .iter()
            .filter(|s| !s.exec)
            .map(|s| (s.vaddr, s.filesz))
            .collect();
    }
    image
        .sections
        .iter()
        .filter(|s| !s.exec && s.file_backed && !skip(&s.name))
        .map(|s| (s.addr, s.size))
        .collect()
}

/// Pushes every aligned 64-bit word in `addr..addr + size` that points
/// into code.
fn scan_words(image: &GuestImage, addr: u64, size: u64, code: &CodeRanges, out: &mut Vec<u64>) {
    let Some(aligned) = addr.checked_add(7).map(|a| a & !7) else {
        return;
    };
    let len = size.saturating_sub(aligned - addr);
    let Some(bytes) = usize::try_from(len)
        .ok()
        .and_then(|l| image.read(aligned, l))
    else {
        return;
    };
    for word in bytes.chunks_exact(8) {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(word);
        let value = u64::from_le_bytes(buf);
        if code.contains(value) {
            out.push(value);
        }
    }
}

/// Whether the code at `addr` looks like the start of a function: the next
/// [`PLAUSIBLE_WINDOW`] instructions decode, reach no trap, and do not run
/// out of code before a block-ending branch.
pub(super) fn plausible(code: &mut CodeCache<'_>, addr: u64) -> bool {
    let mut pc = addr;
    for _ in 0..PLAUSIBLE_WINDOW {
        match code.flow(pc) {
            None | Some(Flow::Undecodable | Flow::Trap) => return false,
            Some(Flow::Return | Flow::Jump(_) | Flow::JumpIndirect) => return true,
            Some(_) => pc = pc.wrapping_add(4),
        }
    }
    true
}
