//! Maps the `PT_LOAD` segments of the guest image the way the Linux ELF
//! loader does.
//!
//! The whole image span is first reserved with one `MAP_FIXED_NOREPLACE`
//! mapping (so the image never lands on top of the host), then each segment
//! replaces its part of the reservation: file pages mapped privately from
//! `/proc/self/exe` when the embedded file can be located there (O(1) per
//! segment), copied otherwise; the rest of the last file page zeroed when
//! the segment has bss (or when the page runs past the end of the guest
//! file); bss pages fresh and anonymous. Gaps between segments are unmapped.
//!
//! Invariants: host protections are `PROT_READ` or `PROT_READ|PROT_WRITE`
//! (writable segments), never `PROT_EXEC`; the VMA map records the guest's
//! own `R`/`W`/`X` per segment; where segments share a page, the later one
//! wins, as in Linux.

use std::fmt;

use libc::{MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE};
use libc::{PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE};

use super::elf::{GuestElf, Phdr, PF_W, PF_X};
use crate::host::{self, Errno};
use crate::memory::{page, vma};

/// Where the file pages of the guest come from.
pub struct Source<'a> {
    /// The embedded guest ELF file.
    pub bytes: &'a [u8],
    /// `/proc/self/exe` and the page-aligned offset of the guest file in it,
    /// when the embedded file could be located there.
    pub exe: Option<(i32, u64)>,
}

/// The guest memory layout of one `PT_LOAD` (all addresses biased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    /// First page of the segment.
    start: u64,
    /// End of the pages holding file bytes (`start` when there are none).
    file_end: u64,
    /// Offset in the guest file of the byte at `start`.
    file_off: u64,
    /// Bytes from here to `file_end` must read as zero.
    zero_from: u64,
    /// Page-aligned end of the segment.
    end: u64,
    /// Guest protection (`PROT_READ` always, plus `W`/`X` from the flags).
    prot: i32,
}

/// Why the guest image could not be mapped.
#[derive(Debug, PartialEq, Eq)]
pub struct MapError(pub String);

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn plan(index: usize, p: &Phdr, bias: u64, file_len: u64) -> Result<Plan, MapError> {
    let bad = |why: &str| {
        Err(MapError(format!(
            "segment {index} (p_vaddr 0x{:x}): {why}",
            p.vaddr
        )))
    };
    if p.filesz > p.memsz {
        return bad("p_filesz exceeds p_memsz");
    }
    if p.offset.checked_add(p.filesz).is_none_or(|e| e > file_len) {
        return bad("file bytes lie outside the file");
    }
    if !page::is_aligned(p.vaddr.wrapping_sub(p.offset)) {
        return bad("p_vaddr and p_offset differ modulo the page size");
    }
    let vaddr = p.vaddr.wrapping_add(bias);
    let (Some(mem_end), Some(file_end)) = (
        vaddr.checked_add(p.memsz).and_then(page::ceil),
        vaddr.checked_add(p.filesz).and_then(page::ceil),
    ) else {
        return bad("segment runs past the end of the address space");
    };
    let start = page::floor(vaddr);
    let file_off = page::floor(p.offset);
    let file_end = if p.filesz == 0 { start } else { file_end };
    let zero_from = if p.memsz > p.filesz {
        vaddr + p.filesz
    } else {
        // Bytes past the end of the guest file read as zero, as past EOF.
        file_end.min(start + (file_len - file_off))
    };
    let mut prot = PROT_READ;
    if p.flags & PF_W != 0 {
        prot |= PROT_WRITE;
    }
    if p.flags & PF_X != 0 {
        prot |= PROT_EXEC;
    }
    Ok(Plan {
        start,
        file_end,
        file_off,
        zero_from: zero_from.min(file_end),
        end: mem_end,
        prot,
    })
}

/// Maps every `PT_LOAD` of `elf` at its address plus `bias`; returns the end
/// of the highest segment (where the brk heap begins).
pub fn map_all(elf: &GuestElf, bias: u64, src: &Source<'_>) -> Result<u64, MapError> {
    let file_len = src.bytes.len() as u64;
    let mut plans = Vec::new();
    let mut image_end = 0;
    for (i, p) in elf.loads().enumerate() {
        plans.push(plan(i, p, bias, file_len)?);
        image_end = image_end.max(p.vaddr.wrapping_add(bias) + p.memsz);
    }
    let (Some(lo), Some(hi)) = (
        plans.iter().map(|p| p.start).min(),
        plans.iter().map(|p| p.end).max(),
    ) else {
        return Err(MapError("no PT_LOAD segments".into()));
    };
    reserve(lo, hi)?;
    for p in &plans {
        map_one(p, src).map_err(|e| {
            MapError(format!(
                "mapping 0x{:x}..0x{:x}: errno {}",
                p.start, p.end, e.0
            ))
        })?;
    }
    let mut vmas = vma::lock();
    for p in &plans {
        // SAFETY: `[start, end)` lies inside the reservation made above.
        unsafe { host::mprotect(p.start, p.end - p.start, host_rw(p.prot)) }
            .map_err(|e| MapError(format!("mprotect 0x{:x}: errno {}", p.start, e.0)))?;
        vmas.insert(p.start, p.end, p.prot);
    }
    drop(vmas);
    unmap_gaps(lo, hi, &plans);
    Ok(image_end)
}

/// Host protection of a segment: read-write if writable, else read-only.
fn host_rw(prot: i32) -> i32 {
    prot & (PROT_READ | PROT_WRITE)
}

fn reserve(lo: u64, hi: u64) -> Result<(), MapError> {
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
    let at = unsafe { host::mmap(lo, hi - lo, PROT_NONE, flags, -1, 0) };
    match at {
        Ok(a) if a as u64 == lo => Ok(()),
        Ok(a) => {
            // SAFETY: the mapping we just made at the wrong place.
            let _ = unsafe { host::munmap(a as u64, hi - lo) };
            Err(MapError(format!("0x{lo:x}..0x{hi:x} is not available")))
        }
        Err(e) => Err(MapError(format!(
            "0x{lo:x}..0x{hi:x} is not available: errno {}",
            e.0
        ))),
    }
}

fn map_one(p: &Plan, src: &Source<'_>) -> Result<(), Errno> {
    let rw = PROT_READ | PROT_WRITE;
    if p.file_end > p.start {
        let len = p.file_end - p.start;
        let mapped = src.exe.is_some_and(|(fd, base)| {
            let flags = MAP_PRIVATE | MAP_FIXED;
            // SAFETY: replaces part of our own reservation with a private
            // mapping of our own executable file.
            unsafe { host::mmap(p.start, len, rw, flags, fd, base + p.file_off) }.is_ok()
        });
        if mapped {
            zero(p.zero_from, p.file_end);
        } else {
            // SAFETY: part of our own reservation.
            unsafe { host::mprotect(p.start, len, rw)? };
            let from = p.file_off as usize;
            let n = (p.zero_from - p.start) as usize;
            // SAFETY: `plan` checked the file range; the destination is our
            // writable reservation of at least `len >= n` bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(src.bytes[from..].as_ptr(), p.start as *mut u8, n)
            };
            zero(p.zero_from, p.file_end);
        }
    }
    if p.end > p.file_end {
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
        // SAFETY: replaces part of our own reservation with fresh zero pages.
        unsafe { host::mmap(p.file_end, p.end - p.file_end, rw, flags, -1, 0)? };
    }
    Ok(())
}

/// Zeroes `[from, to)`, which lies in a writable page just mapped.
fn zero(from: u64, to: u64) {
    if from < to {
        // SAFETY: the caller passes a range inside a writable mapping of
        // the image that nothing else references yet.
        unsafe { core::ptr::write_bytes(from as *mut u8, 0, (to - from) as usize) };
    }
}

fn unmap_gaps(lo: u64, hi: u64, plans: &[Plan]) {
    let mut ranges: Vec<(u64, u64)> = plans.iter().map(|p| (p.start, p.end)).collect();
    ranges.sort_unstable();
    let mut at = lo;
    for (start, end) in ranges.into_iter().chain([(hi, hi)]) {
        if start > at {
            // SAFETY: a part of our reservation that no segment uses.
            let _ = unsafe { host::munmap(at, start - at) };
        }
        at = at.max(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::elf::PT_LOAD;

    fn load(offset: u64, vaddr: u64, filesz: u64, memsz: u64, flags: u32) -> Phdr {
        Phdr {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
        }
    }

    #[test]
    fn plans_text_and_data_with_bss() {
        let text = plan(0, &load(0, 0x40_0000, 0x1234, 0x1234, 5), 0, 0x10_0000).unwrap();
        assert_eq!(
            text,
            Plan {
                start: 0x40_0000,
                file_end: 0x40_2000,
                file_off: 0,
                zero_from: 0x40_2000,
                end: 0x40_2000,
                prot: PROT_READ | PROT_EXEC,
            }
        );
        let data = plan(1, &load(0x2f10, 0x41_2f10, 0x100, 0x3000, 6), 0, 0x10_0000).unwrap();
        assert_eq!(
            data,
            Plan {
                start: 0x41_2000,
                file_end: 0x41_4000,
                file_off: 0x2000,
                zero_from: 0x41_3010,
                end: 0x41_6000,
                prot: PROT_READ | PROT_WRITE,
            }
        );
    }

    #[test]
    fn plan_zeroes_past_end_of_file_and_handles_bias() {
        let p = plan(
            0,
            &load(0x1000, 0x1000, 0x800, 0x800, 4),
            0x40_0000_0000,
            0x1800,
        )
        .unwrap();
        assert_eq!(p.start, 0x40_0000_1000);
        assert_eq!(p.zero_from, 0x40_0000_1800);
        assert_eq!(p.file_end, 0x40_0000_2000);
        let bss_only = plan(0, &load(0x100, 0x5100, 0, 0x2000, 6), 0, 0x1000).unwrap();
        assert_eq!(
            (bss_only.start, bss_only.file_end, bss_only.end),
            (0x5000, 0x5000, 0x8000)
        );
    }

    /// Maps a two-segment image at `bias` from `exe` (or by copying) and
    /// checks contents, zeroing, gaps and the VMA map.
    fn map_and_check(bias: u64, from_file: bool) {
        let bytes: Vec<u8> = (0..0x3100u32).map(|i| (i * 7 + 3) as u8).collect();
        let elf = GuestElf {
            is_dyn: true,
            entry: 0,
            phoff: 64,
            phdrs: vec![
                load(0, 0, 0x1800, 0x1800, 5),
                load(0x2f00, 0x4f00, 0x200, 0x3000, 6),
            ],
        };
        let path = std::env::temp_dir().join(format!("vmxrt-seg-{}-{bias:x}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let src = Source {
            bytes: &bytes,
            exe: from_file.then_some((fd, 0)),
        };
        assert_eq!(map_all(&elf, bias, &src), Ok(bias + 0x7f00));
        drop(file);
        std::fs::remove_file(&path).unwrap();
        // SAFETY: the image was just mapped readable at `bias`.
        let mem = |at: u64, len: u64| unsafe {
            core::slice::from_raw_parts((bias + at) as *const u8, len as usize)
        };
        assert_eq!(mem(0, 0x2000), &bytes[..0x2000]);
        assert_eq!(mem(0x4000, 0x1100), &bytes[0x2000..0x3100]);
        assert!(mem(0x5100, 0x2f00).iter().all(|&b| b == 0));
        let vmas = vma::lock();
        assert_eq!(
            vmas.find(bias).map(|(_, v)| v.prot),
            Some(PROT_READ | PROT_EXEC)
        );
        assert_eq!(
            vmas.find(bias + 0x7fff).map(|(_, v)| v.prot),
            Some(PROT_READ | PROT_WRITE)
        );
        assert!(vmas.find(bias + 0x2000).is_none());
        drop(vmas);
        // The gap between the segments is unmapped, so mprotect fails there.
        // SAFETY: mprotect on an unmapped range changes nothing.
        let gap = unsafe { host::mprotect(bias + 0x2000, 0x2000, PROT_READ) };
        assert_eq!(gap, Err(Errno(libc::ENOMEM)));
        // SAFETY: the test's own image, no longer used.
        unsafe { host::munmap(bias, 0x8000).unwrap() };
    }

    #[test]
    fn maps_segments_from_the_file() {
        map_and_check(0x2000_0000_0000, true);
    }

    #[test]
    fn maps_segments_by_copying() {
        map_and_check(0x2000_1000_0000, false);
    }

    #[test]
    fn plan_rejects_bad_segments() {
        assert!(plan(0, &load(0, 0x1000, 0x10, 0x8, 4), 0, 0x100).is_err());
        assert!(plan(0, &load(0xff0, 0x1ff0, 0x20, 0x20, 4), 0, 0x1000).is_err());
        assert!(plan(0, &load(0x10, 0x1020, 0x10, 0x10, 4), 0, 0x1000).is_err());
    }
}
