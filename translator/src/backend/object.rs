//! Finishes the object file: the embedded guest ELF (page-aligned, so the
//! runtime can map it straight from the executable), the PC map (guest PC ->
//! code offset, entry index; no relocations), the fault map (code offset ->
//! guest PC of memory accesses) and the `vmx_image` descriptor.
//!
//! Invariant: every translated function lives in the one text section that
//! `code_base` points at, so code offsets are section offsets.

use cranelift_module::FuncId;
use cranelift_object::ObjectProduct;
use object::write::{Object, Relocation, StandardSection, Symbol, SymbolId, SymbolSection};
use object::{
    RelocationEncoding, RelocationFlags, RelocationKind, SymbolFlags, SymbolKind, SymbolScope,
};
use vmxlate_abi as abi;

use crate::elf::GuestImage;

fn abs64(offset: u64, symbol: SymbolId) -> Relocation {
    Relocation {
        offset,
        symbol,
        addend: 0,
        flags: RelocationFlags::Generic {
            kind: RelocationKind::Absolute,
            encoding: RelocationEncoding::Generic,
            size: 64,
        },
    }
}

fn local_data(
    obj: &mut Object<'static>,
    name: &str,
    section: object::write::SectionId,
    value: u64,
    size: u64,
) -> SymbolId {
    obj.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value,
        size,
        kind: SymbolKind::Data,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    })
}

/// Adds the guest image, PC map and descriptor (and with `opts.jit` the
/// JIT's initialiser); returns the object bytes. `pc_rows` are each
/// function's symbol with its entry addresses in entry-index order (from
/// `lower_function`), `faults` each body's fault ranges.
pub fn finish(
    product: ObjectProduct,
    image: &GuestImage,
    pc_rows: &[(FuncId, Vec<u64>)],
    faults: &[(FuncId, Vec<(u32, u64)>)],
    opts: super::Options,
) -> Result<Vec<u8>, String> {
    let mut rows: Vec<(u64, u32, u32)> = Vec::new();
    let mut fault_rows: Vec<(u32, u64)> = Vec::new();
    let mut text_section = None;
    let mut offset = |id: FuncId| {
        let s = product.object.symbol(product.function_symbol(id));
        let SymbolSection::Section(sec) = s.section else {
            return Err(format!("function {id} has no section"));
        };
        if *text_section.get_or_insert(sec) != sec {
            return Err("translated code spans several sections".to_string());
        }
        u32::try_from(s.value).map_err(|_| "code larger than 4 GiB".to_string())
    };
    for (id, entries) in pc_rows {
        let off = offset(*id)?;
        for (i, pc) in entries.iter().enumerate() {
            rows.push((*pc, off, i as u32));
        }
    }
    for (id, fault) in faults {
        let off = offset(*id)?;
        fault_rows.extend(fault.iter().map(|(o, pc)| (off + o, *pc)));
    }
    fault_rows.sort_by_key(|r| r.0);
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);

    let mut obj = product.object;
    let ro = obj.section_id(StandardSection::ReadOnlyData);

    let elf_off = obj.append_section_data(ro, &image.file, abi::guest::PAGE_SIZE);
    let elf_sym = local_data(
        &mut obj,
        "vmx_guest_elf",
        ro,
        elf_off,
        image.file.len() as u64,
    );

    let mut map = Vec::with_capacity(rows.len() * 16);
    for (pc, off, entry) in &rows {
        map.extend_from_slice(&pc.to_le_bytes());
        map.extend_from_slice(&off.to_le_bytes());
        map.extend_from_slice(&entry.to_le_bytes());
    }
    let map_off = obj.append_section_data(ro, &map, 16);
    let map_sym = local_data(&mut obj, "vmx_pc_map", ro, map_off, map.len() as u64);

    let mut faults = Vec::with_capacity(fault_rows.len() * 16);
    for (off, pc) in &fault_rows {
        faults.extend_from_slice(&off.to_le_bytes());
        faults.extend_from_slice(&0u32.to_le_bytes());
        faults.extend_from_slice(&pc.to_le_bytes());
    }
    let fault_off = obj.append_section_data(ro, &faults, 16);
    let fault_sym = local_data(
        &mut obj,
        "vmx_fault_map",
        ro,
        fault_off,
        faults.len() as u64,
    );

    let (code_sym, code_len) = match text_section {
        Some(sec) => (obj.section_symbol(sec), obj.section(sec).data().len()),
        None => return Err("no functions to translate".to_string()),
    };

    let size = std::mem::size_of::<abi::ImageDesc>();
    let mut desc = vec![0u8; size];
    desc[0..4].copy_from_slice(&abi::IMAGE_VERSION.to_le_bytes());
    let put = |d: &mut Vec<u8>, field: usize, v: u64| {
        d[field..field + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(
        &mut desc,
        std::mem::offset_of!(abi::ImageDesc, elf_len),
        image.file.len() as u64,
    );
    put(
        &mut desc,
        std::mem::offset_of!(abi::ImageDesc, load_bias),
        image.load_bias,
    );
    put(
        &mut desc,
        std::mem::offset_of!(abi::ImageDesc, pc_map_len),
        rows.len() as u64,
    );
    put(
        &mut desc,
        std::mem::offset_of!(abi::ImageDesc, code_len),
        code_len as u64,
    );
    put(
        &mut desc,
        std::mem::offset_of!(abi::ImageDesc, fault_map_len),
        fault_rows.len() as u64,
    );
    let data = obj.section_id(StandardSection::Data);
    let desc_off = obj.append_section_data(data, &desc, 16);
    obj.add_symbol(Symbol {
        name: abi::sym::IMAGE.as_bytes().to_vec(),
        value: desc_off,
        size: size as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(data),
        flags: SymbolFlags::None,
    });
    for (field, sym) in [
        (abi::IMAGE_OFF_ELF, elf_sym),
        (abi::IMAGE_OFF_CODE_BASE, code_sym),
        (abi::IMAGE_OFF_PC_MAP, map_sym),
        (abi::IMAGE_OFF_FAULT_MAP, fault_sym),
    ] {
        obj.add_relocation(data, abs64(desc_off + field as u64, sym))
            .map_err(|e| e.to_string())?;
    }
    if opts.jit {
        add_jit_init(&mut obj, opts.strict_abi)?;
    }
    obj.write().map_err(|e| e.to_string())
}

/// Adds an `.init_array` entry calling the runtime's JIT initialiser. It is
/// the only reference to the JIT, so without it the linker leaves the JIT
/// (and Cranelift) out of the executable.
fn add_jit_init(obj: &mut Object<'static>, strict_abi: bool) -> Result<(), String> {
    let name = if strict_abi {
        abi::sym::JIT_INIT_STRICT_ABI
    } else {
        abi::sym::JIT_INIT
    };
    let init = obj.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value: 0,
        size: 0,
        kind: SymbolKind::Text,
        scope: SymbolScope::Unknown,
        weak: false,
        section: SymbolSection::Undefined,
        flags: SymbolFlags::None,
    });
    let sec = obj.add_section(
        Vec::new(),
        b".init_array".to_vec(),
        object::SectionKind::Elf(object::elf::SHT_INIT_ARRAY),
    );
    obj.section_mut(sec).flags = object::SectionFlags::Elf {
        sh_flags: u64::from(object::elf::SHF_ALLOC | object::elf::SHF_WRITE),
    };
    let off = obj.append_section_data(sec, &[0u8; 8], 8);
    obj.add_relocation(sec, abs64(off, init))
        .map_err(|e| e.to_string())
}
