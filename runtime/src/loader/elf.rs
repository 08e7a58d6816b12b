//! Just enough ELF64 (little-endian) parsing to load a guest image and to
//! read the host executable's own program headers.
//!
//! Invariants: parsing never reads out of bounds and never panics; every
//! rejection says what was wrong. Only the file header and the program
//! headers are read.

use core::fmt;

/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_PHDR`.
pub const PT_PHDR: u32 = 6;
/// Segment is executable.
pub const PF_X: u32 = 1;
/// Segment is writable.
pub const PF_W: u32 = 2;
/// Size of one ELF64 program header.
pub const PHDR_SIZE: usize = 56;

const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_AARCH64: u16 = 183;

/// Why an ELF image was rejected.
#[derive(Debug, PartialEq, Eq)]
pub struct ElfError(pub String);

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One ELF64 program header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phdr {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags` (`PF_R` 4, `PF_W` 2, `PF_X` 1).
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
}

impl Phdr {
    /// Parses one program header from exactly [`PHDR_SIZE`] bytes.
    pub fn parse(b: &[u8; PHDR_SIZE]) -> Phdr {
        Phdr {
            p_type: u32_at(b, 0),
            flags: u32_at(b, 4),
            offset: u64_at(b, 8),
            vaddr: u64_at(b, 16),
            filesz: u64_at(b, 32),
            memsz: u64_at(b, 40),
        }
    }
}

/// The parts of an AArch64 executable the loader needs.
#[derive(Debug)]
pub struct GuestElf {
    /// Whether the image is position-independent (`ET_DYN`).
    pub is_dyn: bool,
    /// `e_entry` (unbiased).
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// The program headers, in file order.
    pub phdrs: Vec<Phdr>,
}

impl GuestElf {
    /// Parses and validates the headers of a static AArch64 Linux ELF.
    pub fn parse(file: &[u8]) -> Result<GuestElf, ElfError> {
        let err = |m: &str| Err(ElfError(m.to_string()));
        if file.len() < 64 || file[..4] != *b"\x7fELF" {
            return err("not an ELF file");
        }
        if file[4] != 2 || file[5] != 1 {
            return err("not a 64-bit little-endian ELF file");
        }
        let e_type = u16_at(file, 16);
        if u16_at(file, 18) != EM_AARCH64 {
            return err("not an AArch64 ELF file");
        }
        if e_type != ET_EXEC && e_type != ET_DYN {
            return err("not an executable (ELF type is neither EXEC nor DYN)");
        }
        let phoff = u64_at(file, 32);
        let phentsize = usize::from(u16_at(file, 54));
        let phnum = usize::from(u16_at(file, 56));
        if phentsize != PHDR_SIZE {
            return err("unexpected program header size");
        }
        let table = usize::try_from(phoff)
            .ok()
            .and_then(|start| Some(start..start.checked_add(phnum * PHDR_SIZE)?))
            .and_then(|range| file.get(range));
        let Some(table) = table else {
            return err("program headers lie outside the file");
        };
        let phdrs = table
            .as_chunks::<PHDR_SIZE>()
            .0
            .iter()
            .map(Phdr::parse)
            .collect();
        Ok(GuestElf {
            is_dyn: e_type == ET_DYN,
            entry: u64_at(file, 24),
            phoff,
            phdrs,
        })
    }

    /// The `PT_LOAD` segments, in file order.
    pub fn loads(&self) -> impl Iterator<Item = &Phdr> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD)
    }

    /// The unbiased address of the program headers in the loaded image: the
    /// `PT_PHDR` segment, else the `PT_LOAD` that maps `e_phoff`.
    pub fn phdr_vaddr(&self) -> Option<u64> {
        if let Some(p) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return Some(p.vaddr);
        }
        let size = (self.phdrs.len() * PHDR_SIZE) as u64;
        self.loads()
            .find(|p| p.offset <= self.phoff && self.phoff + size <= p.offset + p.filesz)
            .map(|p| p.vaddr + (self.phoff - p.offset))
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a minimal AArch64 ELF header followed by `phdrs` at offset 64.
    pub(crate) fn build(e_type: u16, entry: u64, phdrs: &[Phdr]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for p in phdrs {
            let mut h = [0u8; PHDR_SIZE];
            h[0..4].copy_from_slice(&p.p_type.to_le_bytes());
            h[4..8].copy_from_slice(&p.flags.to_le_bytes());
            h[8..16].copy_from_slice(&p.offset.to_le_bytes());
            h[16..24].copy_from_slice(&p.vaddr.to_le_bytes());
            h[32..40].copy_from_slice(&p.filesz.to_le_bytes());
            h[40..48].copy_from_slice(&p.memsz.to_le_bytes());
            f.extend_from_slice(&h);
        }
        f
    }

    #[test]
    fn parses_headers_and_finds_phdrs() {
        let text = Phdr {
            p_type: PT_LOAD,
            flags: 5,
            offset: 0,
            vaddr: 0x40_0000,
            filesz: 0x1000,
            memsz: 0x1000,
        };
        let f = build(ET_EXEC, 0x40_0100, &[text]);
        let e = GuestElf::parse(&f).unwrap();
        assert!(!e.is_dyn);
        assert_eq!(e.entry, 0x40_0100);
        assert_eq!(e.phdrs, [text]);
        assert_eq!(e.phdr_vaddr(), Some(0x40_0040));
    }

    #[test]
    fn rejects_bad_files() {
        assert!(GuestElf::parse(b"hello").is_err());
        let mut f = build(ET_EXEC, 0, &[]);
        f[18] = 62; // EM_X86_64
        assert_eq!(
            GuestElf::parse(&f).unwrap_err().0,
            "not an AArch64 ELF file"
        );
        let mut f = build(ET_EXEC, 0, &[Phdr::default()]);
        f.truncate(100);
        assert!(GuestElf::parse(&f).is_err());
    }
}
