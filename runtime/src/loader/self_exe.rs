//! Where the embedded guest ELF lies inside our own executable file.
//!
//! The translator embeds the guest file page-aligned in a loadable segment of
//! the output executable, so guest segments can be mapped straight from
//! `/proc/self/exe` (O(1) per segment) instead of being copied.
//!
//! Invariant: an answer is given only if the whole embedded range is backed
//! by file bytes of one host `PT_LOAD` and its file offset is page-aligned;
//! otherwise `None`, and the caller copies instead.

use super::elf::{Phdr, PHDR_SIZE, PT_LOAD, PT_PHDR};
use crate::memory::page;

/// File offset in `/proc/self/exe` of the `len` bytes at host address
/// `addr`, found through our own program headers (`AT_PHDR`, `AT_PHNUM`).
pub fn file_offset_of(addr: u64, len: u64) -> Option<u64> {
    // SAFETY: getauxval has no preconditions.
    let (at_phdr, phnum, phent) = unsafe {
        (
            libc::getauxval(libc::AT_PHDR),
            libc::getauxval(libc::AT_PHNUM),
            libc::getauxval(libc::AT_PHENT),
        )
    };
    if at_phdr == 0 || phent != PHDR_SIZE as u64 {
        return None;
    }
    let bytes = usize::try_from(phnum).ok()? * PHDR_SIZE;
    // SAFETY: the kernel told us our program headers are mapped at AT_PHDR,
    // AT_PHNUM entries of AT_PHENT bytes each; they stay mapped read-only
    // for the life of the process.
    let table = unsafe { core::slice::from_raw_parts(at_phdr as *const u8, bytes) };
    let phdrs: Vec<Phdr> = table
        .as_chunks::<PHDR_SIZE>()
        .0
        .iter()
        .map(Phdr::parse)
        .collect();
    locate(&phdrs, at_phdr, addr, len)
}

/// The pure part of [`file_offset_of`]: `phdrs` are the executable's program
/// headers, which the kernel mapped at `at_phdr`.
fn locate(phdrs: &[Phdr], at_phdr: u64, addr: u64, len: u64) -> Option<u64> {
    let pt_phdr = phdrs.iter().find(|p| p.p_type == PT_PHDR)?;
    let bias = at_phdr.wrapping_sub(pt_phdr.vaddr);
    let end = addr.checked_add(len)?;
    let seg = phdrs.iter().find(|p| {
        let start = p.vaddr.wrapping_add(bias);
        p.p_type == PT_LOAD && start <= addr && end <= start.saturating_add(p.filesz)
    })?;
    let off = seg.offset + (addr - seg.vaddr.wrapping_add(bias));
    page::is_aligned(off).then_some(off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phdr(p_type: u32, offset: u64, vaddr: u64, filesz: u64) -> Phdr {
        Phdr {
            p_type,
            flags: 4,
            offset,
            vaddr,
            filesz,
            memsz: filesz,
        }
    }

    #[test]
    fn locates_in_a_biased_segment() {
        let phdrs = [
            phdr(PT_PHDR, 0x40, 0x40, 0x1c0),
            phdr(PT_LOAD, 0, 0, 0x1000),
            phdr(PT_LOAD, 0x1000, 0x2000, 0x9000),
        ];
        let bias = 0x5555_0000_0000;
        let at_phdr = bias + 0x40;
        assert_eq!(locate(&phdrs, at_phdr, bias + 0x3000, 0x4000), Some(0x2000));
        // Runs past the file bytes of the segment.
        assert_eq!(locate(&phdrs, at_phdr, bias + 0x3000, 0x9000), None);
        // Not page-aligned in the file.
        assert_eq!(locate(&phdrs, at_phdr, bias + 0x3010, 0x10), None);
        // No PT_PHDR, no bias.
        assert_eq!(locate(&phdrs[1..], at_phdr, bias + 0x3000, 0x10), None);
    }

    #[test]
    fn finds_our_own_code() {
        // A page-aligned address inside the test binary's text is backed by
        // the file; the answer must agree with the bytes in /proc/self/exe.
        // The page after this function's: its own page may begin before
        // the text segment, which need not start page-aligned.
        let f = finds_our_own_code as fn() as usize as u64;
        let addr = page::floor(f) + page::SIZE;
        let off = file_offset_of(addr, 64).expect("text is file-backed");
        let file = std::fs::read("/proc/self/exe").unwrap();
        // SAFETY: `addr` is mapped text of this test binary.
        let mem = unsafe { core::slice::from_raw_parts(addr as *const u8, 64) };
        assert_eq!(&file[off as usize..off as usize + 64], mem);
    }
}
