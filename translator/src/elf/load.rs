//! Loading a static AArch64 Linux ELF into a [`GuestImage`]: its PT_LOAD
//! segments, symbols, allocated sections, `.eh_frame` FDE ranges and (for
//! static-pie) the pointers its RELATIVE relocations create.
//!
//! Invariants:
//! - Every address in a `GuestImage` is biased (the address the guest sees at
//!   run time): `load_bias` is 0 for ET_EXEC and `abi::guest::PIE_BASE` for
//!   ET_DYN (static-pie).
//! - `segments` are the PT_LOAD headers sorted by `vaddr`, pairwise
//!   non-overlapping, with `filesz <= memsz` and their file bytes inside
//!   `file`; the entry point lies in an executable segment.
//! - Parsing never panics: every file value goes through checked arithmetic
//!   and checked slicing, and anything that does not fit is a [`LoadError`].

mod eh_frame;
mod error;
mod lsda;
mod relocs;
#[cfg(test)]
mod tests;

pub use error::LoadError;

use error::{machine_name, malformed};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader, Sym};
use object::LittleEndian as LE;
use vmxlate_abi::guest::PIE_BASE;

/// How the image is placed in guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// ET_EXEC: loaded at its link addresses.
    Exec,
    /// ET_DYN without PT_INTERP: loaded at `abi::guest::PIE_BASE`.
    StaticPie,
}

/// One PT_LOAD segment (biased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Biased start address.
    pub vaddr: u64,
    /// Size in memory (the tail past `filesz` is zero-filled).
    pub memsz: u64,
    /// Number of bytes backed by the file.
    pub filesz: u64,
    /// File offset of the first byte.
    pub offset: u64,
    /// PF_R.
    pub read: bool,
    /// PF_W.
    pub write: bool,
    /// PF_X.
    pub exec: bool,
}

impl Segment {
    /// Whether `addr` lies in the file-backed part of the segment.
    fn holds_file_byte(&self, addr: u64) -> bool {
        addr >= self.vaddr && addr - self.vaddr < self.filesz
    }
}

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// STT_FUNC or STT_GNU_IFUNC.
    Func,
    /// STT_OBJECT or STT_COMMON.
    Object,
    /// Anything else with an address (STT_NOTYPE labels, `$x`/`$d` mapping
    /// symbols).
    Other,
}

/// A defined symbol from `.symtab` or `.dynsym` (biased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Symbol name (lossily decoded as UTF-8).
    pub name: String,
    /// Biased address.
    pub addr: u64,
    /// `st_size` (0 when unknown).
    pub size: u64,
    /// Kind.
    pub kind: SymbolKind,
}

/// One allocated (`SHF_ALLOC`) section with a nonzero address (biased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Section name, e.g. `.text`.
    pub name: String,
    /// Biased start address.
    pub addr: u64,
    /// Size in memory.
    pub size: u64,
    /// `SHF_EXECINSTR`.
    pub exec: bool,
    /// `SHF_WRITE`.
    pub write: bool,
    /// Not `SHT_NOBITS`: the bytes come from the file.
    pub file_backed: bool,
}

/// A parsed guest program. See the module invariants.
#[derive(Debug, Clone)]
pub struct GuestImage {
    /// The original file bytes, unchanged (embedded in the output).
    pub file: Vec<u8>,
    /// ET_EXEC or static-pie.
    pub kind: ImageKind,
    /// 0 for ET_EXEC, `abi::guest::PIE_BASE` for static-pie.
    pub load_bias: u64,
    /// Biased entry point.
    pub entry: u64,
    /// PT_LOAD segments, sorted by `vaddr`.
    pub segments: Vec<Segment>,
    /// Symbols from `.symtab` and `.dynsym`, biased, sorted by address; at
    /// one address `Func` symbols come first, then larger sizes, then global
    /// names. Exact duplicates (same name and address) are removed.
    pub symbols: Vec<Symbol>,
    /// Allocated sections sorted by address (empty if the section headers
    /// were stripped).
    pub sections: Vec<Section>,
    /// `(start, len)` of every `.eh_frame` FDE, biased, sorted, unique.
    pub fdes: Vec<(u64, u64)>,
    /// `(FDE start, landing pad)` for every landing pad in the FDEs'
    /// LSDAs (where the unwinder resumes for catch blocks and cleanups),
    /// biased, sorted, unique.
    pub landing_pads: Vec<(u64, u64)>,
    /// Values stored by `R_AARCH64_RELATIVE` relocations (and resolver
    /// addresses of `R_AARCH64_IRELATIVE`), biased, sorted, unique. Empty
    /// for images without `PT_DYNAMIC`.
    pub relative_relocs: Vec<u64>,
}

impl GuestImage {
    /// Parses and validates a static AArch64 Linux executable.
    pub fn parse(file: Vec<u8>) -> Result<GuestImage, LoadError> {
        let header = check_ident(&file)?;
        let data: &[u8] = &file;
        let kind = match header.e_type.get(LE) {
            elf::ET_EXEC => ImageKind::Exec,
            elf::ET_DYN => ImageKind::StaticPie,
            elf::ET_REL => {
                return Err(LoadError::NotExecutable(
                    "relocatable object file (ET_REL)".into(),
                ))
            }
            elf::ET_CORE => return Err(LoadError::NotExecutable("core dump (ET_CORE)".into())),
            other => return Err(LoadError::NotExecutable(format!("ELF type {other}"))),
        };
        let load_bias = match kind {
            ImageKind::Exec => 0,
            ImageKind::StaticPie => PIE_BASE,
        };
        let phdrs = header
            .program_headers(LE, data)
            .map_err(|e| malformed(format!("program header table: {e}")))?;
        for ph in phdrs {
            if ph.p_type(LE) == elf::PT_INTERP {
                let interp = ph
                    .data(LE, data)
                    .map_err(|_| malformed("PT_INTERP is past the end of the file"))?;
                let interp = interp.split(|&b| b == 0).next().unwrap_or_default();
                return Err(LoadError::Dynamic(String::from_utf8_lossy(interp).into()));
            }
        }
        let segments = load_segments(phdrs, data.len(), load_bias)?;
        let entry = header
            .e_entry(LE)
            .checked_add(load_bias)
            .ok_or(LoadError::BadEntry(header.e_entry(LE)))?;
        if !segments.iter().any(|s| s.exec && s.holds_file_byte(entry)) {
            return Err(LoadError::BadEntry(entry));
        }

        let section_table = header
            .sections(LE, data)
            .map_err(|e| malformed(format!("section header table: {e}")))?;
        let mut sections = Vec::new();
        let mut eh_frame = None;
        for sh in section_table.iter() {
            let flags = sh.sh_flags(LE);
            if flags & u64::from(elf::SHF_ALLOC) == 0 || sh.sh_addr(LE) == 0 {
                continue;
            }
            let name = section_table
                .section_name(LE, sh)
                .map_err(|e| malformed(format!("section name: {e}")))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let file_backed = sh.sh_type(LE) != elf::SHT_NOBITS;
            if name == ".eh_frame" && file_backed {
                let bytes = sh
                    .data(LE, data)
                    .map_err(|_| malformed("section .eh_frame is past the end of the file"))?;
                eh_frame = Some((bytes, sh.sh_addr(LE)));
            }
            let addr = sh.sh_addr(LE).checked_add(load_bias).ok_or_else(|| {
                malformed(format!(
                    "section {name} address {:#x} overflows",
                    sh.sh_addr(LE)
                ))
            })?;
            sections.push(Section {
                name,
                addr,
                size: sh.sh_size(LE),
                exec: flags & u64::from(elf::SHF_EXECINSTR) != 0,
                write: flags & u64::from(elf::SHF_WRITE) != 0,
                file_backed,
            });
        }
        sections.sort_by_key(|s| s.addr);

        let mut symbols = Vec::new();
        for sh_type in [elf::SHT_SYMTAB, elf::SHT_DYNSYM] {
            let table = section_table
                .symbols(LE, data, sh_type)
                .map_err(|e| malformed(format!("symbol table: {e}")))?;
            for sym in table.iter() {
                if let Some(s) = convert_symbol(sym, load_bias, |s| table.symbol_name(LE, s).ok()) {
                    symbols.push(s);
                }
            }
        }
        let symbols = sort_symbols(symbols);

        let mut image = GuestImage {
            file: Vec::new(),
            kind,
            load_bias,
            entry,
            segments,
            symbols,
            sections,
            fdes: Vec::new(),
            landing_pads: Vec::new(),
            relative_relocs: Vec::new(),
        };
        let read = |vaddr: u64, len: usize| -> Option<&[u8]> {
            image_read(&image.segments, data, vaddr.checked_add(load_bias)?, len)
        };
        let fde_records = match eh_frame {
            Some((bytes, vaddr)) => eh_frame::fdes(bytes, vaddr, load_bias),
            None => eh_frame_from_hdr(phdrs, data, &image.segments, load_bias),
        };
        let mut fdes: Vec<(u64, u64)> = fde_records.iter().map(|f| (f.start, f.len)).collect();
        fdes.sort_unstable();
        fdes.dedup();
        let mut landing_pads = Vec::new();
        for fde in &fde_records {
            let Some(lsda) = fde.lsda else { continue };
            let Some(bytes) = lsda
                .checked_add(load_bias)
                .and_then(|addr| segment_tail(&image.segments, data, addr))
            else {
                continue;
            };
            for pad in lsda::landing_pads(bytes, lsda, fde.start, load_bias) {
                landing_pads.push((fde.start, pad));
            }
        }
        landing_pads.sort_unstable();
        landing_pads.dedup();
        let mut relative_relocs = Vec::new();
        for ph in phdrs {
            if ph.p_type(LE) == elf::PT_DYNAMIC {
                let dynamic = ph
                    .data(LE, data)
                    .map_err(|_| malformed("PT_DYNAMIC is past the end of the file"))?;
                relative_relocs = relocs::relative_targets(dynamic, load_bias, &read)?;
            }
        }
        relative_relocs.sort_unstable();
        relative_relocs.dedup();
        image.fdes = fdes;
        image.landing_pads = landing_pads;
        image.relative_relocs = relative_relocs;
        image.file = file;
        Ok(image)
    }

    /// The file-backed bytes `addr..addr + len` of one segment.
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        image_read(&self.segments, &self.file, addr, len)
    }

    /// A little-endian 32-bit word at `addr` (file-backed bytes only).
    pub fn read_u32(&self, addr: u64) -> Option<u32> {
        Some(u32::from_le_bytes(self.read(addr, 4)?.try_into().ok()?))
    }

    /// A little-endian 64-bit word at `addr` (file-backed bytes only).
    pub fn read_u64(&self, addr: u64) -> Option<u64> {
        Some(u64::from_le_bytes(self.read(addr, 8)?.try_into().ok()?))
    }

    /// Whether the four bytes at `addr` are file bytes of an executable
    /// segment.
    pub fn is_code(&self, addr: u64) -> bool {
        self.segment_at(addr).is_some_and(|s| {
            s.exec
                && addr
                    .checked_add(4)
                    .is_some_and(|end| end - s.vaddr <= s.filesz)
        })
    }

    /// The segment whose file-backed bytes contain `addr`.
    pub fn segment_at(&self, addr: u64) -> Option<&Segment> {
        let i = self
            .segments
            .partition_point(|s| s.vaddr <= addr)
            .checked_sub(1)?;
        self.segments.get(i).filter(|s| s.holds_file_byte(addr))
    }

    /// The symbol that starts exactly at `addr`, preferring `Func` symbols.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.addr < addr);
        self.symbols.get(i).filter(|s| s.addr == addr)
    }

    /// The sized `Func` symbol whose range covers `addr` (the nearest one
    /// starting at or before `addr`, among the few symbols before it).
    pub fn func_containing(&self, addr: u64) -> Option<&Symbol> {
        let upto = self.symbols.partition_point(|s| s.addr <= addr);
        self.symbols[..upto]
            .iter()
            .rev()
            .take(FUNC_LOOKBEHIND)
            .find(|s| s.kind == SymbolKind::Func && s.size != 0 && addr - s.addr < s.size)
    }
}

/// How many symbols before an address `func_containing` examines.
const FUNC_LOOKBEHIND: usize = 64;

/// Index of the class byte in `e_ident`.
const EI_CLASS: usize = 4;
/// Index of the data-encoding byte in `e_ident`.
const EI_DATA: usize = 5;

/// Checks magic, machine, class and byte order; returns the parsed header.
fn check_ident(file: &[u8]) -> Result<&elf::FileHeader64<LE>, LoadError> {
    if file.get(..4) != Some(&elf::ELFMAG[..]) {
        return Err(LoadError::NotElf);
    }
    let ident = file
        .get(..20)
        .ok_or_else(|| malformed(format!("file header cut short ({} bytes)", file.len())))?;
    let machine_bytes = [ident[18], ident[19]];
    let big_endian = ident[EI_DATA] == elf::ELFDATA2MSB;
    let machine = if big_endian {
        u16::from_be_bytes(machine_bytes)
    } else {
        u16::from_le_bytes(machine_bytes)
    };
    if machine != elf::EM_AARCH64 {
        return Err(LoadError::NotAarch64(machine_name(machine)));
    }
    if ident[EI_CLASS] != elf::ELFCLASS64 {
        return Err(LoadError::NotLittleEndian64(format!(
            "ELF class {}",
            ident[EI_CLASS]
        )));
    }
    if ident[EI_DATA] != elf::ELFDATA2LSB {
        return Err(LoadError::NotLittleEndian64("big-endian".into()));
    }
    elf::FileHeader64::<LE>::parse(file).map_err(|e| malformed(format!("ELF header: {e}")))
}

/// Validates the PT_LOAD headers and returns them biased and sorted.
fn load_segments(
    phdrs: &[elf::ProgramHeader64<LE>],
    file_len: usize,
    bias: u64,
) -> Result<Vec<Segment>, LoadError> {
    let mut segments = Vec::new();
    for ph in phdrs.iter().filter(|ph| ph.p_type(LE) == elf::PT_LOAD) {
        let (vaddr, memsz, filesz, offset) = (
            ph.p_vaddr(LE),
            ph.p_memsz(LE),
            ph.p_filesz(LE),
            ph.p_offset(LE),
        );
        let file_end = offset.checked_add(filesz);
        if file_end.is_none_or(|end| end > file_len as u64) {
            return Err(malformed(format!(
                "PT_LOAD at {vaddr:#x}: file bytes {offset:#x}+{filesz:#x} are past the end of the file ({file_len:#x} bytes)"
            )));
        }
        if filesz > memsz {
            return Err(malformed(format!(
                "PT_LOAD at {vaddr:#x}: file size {filesz:#x} exceeds memory size {memsz:#x}"
            )));
        }
        let biased = vaddr
            .checked_add(bias)
            .filter(|v| v.checked_add(memsz).is_some())
            .ok_or_else(|| malformed(format!("PT_LOAD at {vaddr:#x}+{memsz:#x} overflows")))?;
        let flags = ph.p_flags(LE);
        segments.push(Segment {
            vaddr: biased,
            memsz,
            filesz,
            offset,
            read: flags & elf::PF_R != 0,
            write: flags & elf::PF_W != 0,
            exec: flags & elf::PF_X != 0,
        });
    }
    if segments.is_empty() {
        return Err(LoadError::NoLoadableSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        // Checked above: vaddr + memsz does not overflow.
        if pair[0].vaddr + pair[0].memsz > pair[1].vaddr {
            return Err(LoadError::SegmentOverlap {
                first: pair[0].vaddr,
                second: pair[1].vaddr,
            });
        }
    }
    Ok(segments)
}

/// File-backed bytes at a biased address, within one segment.
fn image_read<'a>(segments: &[Segment], file: &'a [u8], addr: u64, len: usize) -> Option<&'a [u8]> {
    let i = segments
        .partition_point(|s| s.vaddr <= addr)
        .checked_sub(1)?;
    let seg = segments.get(i)?;
    let off = addr.checked_sub(seg.vaddr)?;
    let end = off.checked_add(len as u64)?;
    if end > seg.filesz {
        return None;
    }
    let start = usize::try_from(seg.offset.checked_add(off)?).ok()?;
    file.get(start..start.checked_add(len)?)
}

/// Converts one ELF symbol, or `None` for symbols that do not name a guest
/// address (undefined, absolute, section, file and TLS symbols).
fn convert_symbol<'d>(
    sym: &elf::Sym64<LE>,
    bias: u64,
    name: impl Fn(&elf::Sym64<LE>) -> Option<&'d [u8]>,
) -> Option<(Symbol, u8)> {
    let shndx = sym.st_shndx(LE);
    if shndx == elf::SHN_UNDEF || shndx == elf::SHN_ABS || sym.st_value(LE) == 0 {
        return None;
    }
    let kind = match sym.st_type() {
        elf::STT_FUNC | elf::STT_GNU_IFUNC => SymbolKind::Func,
        elf::STT_OBJECT | elf::STT_COMMON => SymbolKind::Object,
        elf::STT_NOTYPE => SymbolKind::Other,
        _ => return None,
    };
    let name = String::from_utf8_lossy(name(sym)?).into_owned();
    let symbol = Symbol {
        name,
        addr: sym.st_value(LE).checked_add(bias)?,
        size: sym.st_size(LE),
        kind,
    };
    Some((symbol, sym.st_bind()))
}

/// Sorts symbols by address with the preferred name first (see
/// [`GuestImage::symbols`]) and drops exact duplicates.
fn sort_symbols(mut symbols: Vec<(Symbol, u8)>) -> Vec<Symbol> {
    let kind_rank = |k: SymbolKind| match k {
        SymbolKind::Func => 0,
        SymbolKind::Object => 1,
        SymbolKind::Other => 2,
    };
    symbols.sort_by(|(a, ab), (b, bb)| {
        let underscores = |s: &Symbol| s.name.bytes().take_while(|&c| c == b'_').count();
        a.addr
            .cmp(&b.addr)
            .then(kind_rank(a.kind).cmp(&kind_rank(b.kind)))
            .then(b.size.cmp(&a.size))
            .then((*ab == elf::STB_LOCAL).cmp(&(*bb == elf::STB_LOCAL)))
            .then(underscores(a).cmp(&underscores(b)))
            .then(a.name.cmp(&b.name))
    });
    let mut out: Vec<Symbol> = symbols.into_iter().map(|(s, _)| s).collect();
    out.dedup_by(|a, b| a.addr == b.addr && a.name == b.name);
    out
}

/// FDE ranges found through `PT_GNU_EH_FRAME` when there are no section
/// headers: `.eh_frame_hdr` points at `.eh_frame`, which runs to the end of
/// its segment's file bytes (or to its zero terminator).
fn eh_frame_from_hdr(
    phdrs: &[elf::ProgramHeader64<LE>],
    data: &[u8],
    segments: &[Segment],
    bias: u64,
) -> Vec<eh_frame::Fde> {
    let Some(hdr) = phdrs
        .iter()
        .find(|ph| ph.p_type(LE) == elf::PT_GNU_EH_FRAME)
    else {
        return Vec::new();
    };
    let Ok(bytes) = hdr.data(LE, data) else {
        return Vec::new();
    };
    let (Some(&1), Some(&enc), Some(field)) = (bytes.first(), bytes.get(1), bytes.get(4..8)) else {
        return Vec::new();
    };
    // Only the encoding every toolchain uses: pcrel | sdata4.
    if enc != (eh_frame::PE_PCREL | eh_frame::PE_SDATA4) {
        return Vec::new();
    }
    let offset = i64::from(i32::from_le_bytes([field[0], field[1], field[2], field[3]]));
    let eh_vaddr = hdr.p_vaddr(LE).wrapping_add(4).wrapping_add(offset as u64);
    eh_vaddr
        .checked_add(bias)
        .and_then(|addr| segment_tail(segments, data, addr))
        .map(|bytes| eh_frame::fdes(bytes, eh_vaddr, bias))
        .unwrap_or_default()
}

/// The file-backed bytes from biased `addr` to the end of its segment's
/// file bytes.
fn segment_tail<'a>(segments: &[Segment], data: &'a [u8], addr: u64) -> Option<&'a [u8]> {
    let i = segments
        .partition_point(|s| s.vaddr <= addr)
        .checked_sub(1)?;
    let seg = segments.get(i)?;
    let len = seg.filesz.checked_sub(addr.checked_sub(seg.vaddr)?)?;
    image_read(segments, data, addr, usize::try_from(len).ok()?)
}
