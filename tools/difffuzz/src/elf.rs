//! A minimal static AArch64 ELF writer (hand-built: the `object` crate's
//! writer targets relocatable objects, and an executable with two segments
//! and a symbol table is a few dozen lines).
//!
//! Layout: ELF header, two program headers (text R+X from file offset 0,
//! data R+W), code at `code_addr`, data page-aligned after it, then
//! `.symtab`, `.strtab`, `.shstrtab` and the section headers. The function
//! symbols tell discovery where each function starts and ends, so a `B` to
//! a shared routine is a tail call rather than code to inline.

/// What to write.
pub struct Image<'a> {
    /// Address of file offset 0 (page-aligned).
    pub text_addr: u64,
    /// Address of the first instruction (`text_addr` + a page).
    pub code_addr: u64,
    /// Instructions.
    pub code: &'a [u8],
    /// Address of the data segment (page-aligned).
    pub data_addr: u64,
    /// Data bytes.
    pub data: &'a [u8],
    /// Entry point.
    pub entry: u64,
    /// Function symbols: `(name, address, size in bytes)`.
    pub funcs: &'a [(String, u64, u64)],
}

fn u16s(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn u32s(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn u64s(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// One section header.
struct Sh {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

/// The ELF file for `img`.
pub fn write(img: &Image) -> Vec<u8> {
    let code_off = img.code_addr - img.text_addr;
    let text_size = code_off + img.code.len() as u64;
    let data_off = text_size.next_multiple_of(0x1000);
    let mut f = Vec::with_capacity(data_off as usize + img.data.len() + 64 * 1024);
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    u16s(&mut f, 2); // ET_EXEC
    u16s(&mut f, 183); // EM_AARCH64
    u32s(&mut f, 1);
    u64s(&mut f, img.entry);
    u64s(&mut f, 64); // e_phoff
    let shoff_at = f.len();
    u64s(&mut f, 0); // e_shoff, patched below
    u32s(&mut f, 0);
    for v in [64, 56, 2, 64, 6, 5] {
        u16s(&mut f, v); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    for (flags, off, addr, size) in [
        (5u32, 0, img.text_addr, text_size),
        (6, data_off, img.data_addr, img.data.len() as u64),
    ] {
        u32s(&mut f, 1); // PT_LOAD
        u32s(&mut f, flags);
        for v in [off, addr, addr, size, size, 0x1000] {
            u64s(&mut f, v);
        }
    }
    f.resize(code_off as usize, 0);
    f.extend_from_slice(img.code);
    f.resize(data_off as usize, 0);
    f.extend_from_slice(img.data);

    let symtab_off = f.len() as u64;
    let mut strtab = vec![0u8];
    f.extend_from_slice(&[0; 24]);
    for (name, addr, size) in img.funcs {
        u32s(&mut f, strtab.len() as u32);
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        f.push(0x12); // STB_GLOBAL, STT_FUNC
        f.push(0);
        u16s(&mut f, 1); // .text
        u64s(&mut f, *addr);
        u64s(&mut f, *size);
    }
    let symtab_size = f.len() as u64 - symtab_off;
    let strtab_off = f.len() as u64;
    f.extend_from_slice(&strtab);
    let shstrtab_off = f.len() as u64;
    let shstrtab = b"\0.text\0.data\0.symtab\0.strtab\0.shstrtab\0";
    f.extend_from_slice(shstrtab);
    f.resize(f.len().next_multiple_of(8), 0);
    let shoff = f.len() as u64;
    f[shoff_at..shoff_at + 8].copy_from_slice(&shoff.to_le_bytes());
    let headers = [
        Sh {
            name: 0,
            kind: 0,
            flags: 0,
            addr: 0,
            offset: 0,
            size: 0,
            link: 0,
            info: 0,
            align: 0,
            entsize: 0,
        },
        Sh {
            name: 1,
            kind: 1,
            flags: 6,
            addr: img.code_addr,
            offset: code_off,
            size: img.code.len() as u64,
            link: 0,
            info: 0,
            align: 4,
            entsize: 0,
        },
        Sh {
            name: 7,
            kind: 1,
            flags: 3,
            addr: img.data_addr,
            offset: data_off,
            size: img.data.len() as u64,
            link: 0,
            info: 0,
            align: 16,
            entsize: 0,
        },
        Sh {
            name: 13,
            kind: 2,
            flags: 0,
            addr: 0,
            offset: symtab_off,
            size: symtab_size,
            link: 4,
            info: 1,
            align: 8,
            entsize: 24,
        },
        Sh {
            name: 21,
            kind: 3,
            flags: 0,
            addr: 0,
            offset: strtab_off,
            size: strtab.len() as u64,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
        Sh {
            name: 29,
            kind: 3,
            flags: 0,
            addr: 0,
            offset: shstrtab_off,
            size: shstrtab.len() as u64,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
    ];
    for h in headers {
        u32s(&mut f, h.name);
        u32s(&mut f, h.kind);
        for v in [h.flags, h.addr, h.offset, h.size] {
            u64s(&mut f, v);
        }
        u32s(&mut f, h.link);
        u32s(&mut f, h.info);
        u64s(&mut f, h.align);
        u64s(&mut f, h.entsize);
    }
    f
}
