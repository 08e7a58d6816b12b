//! Discovery of one function from a single entry, for code found only at
//! run time (the runtime's JIT): the entry is a PC the program reached that
//! ahead-of-time discovery did not find.
//!
//! Invariants: the function is bounded like any other (a sized symbol's
//! range, else up to one of `known` function entries), so its blocks stop
//! where code translated ahead of time begins; the result holds exactly
//! one function, at `entry`, and only its jump tables.

use super::decode::CodeCache;
use super::traverse::{traverse, Extent};
use super::{CodeMap, FuncInfo};
use crate::elf::load::GuestImage;
use rustc_hash::FxHashSet;

/// Discovers the function entered at `entry`, bounded by the sized symbol
/// containing it or else by the `known` function entries. `None` if `entry`
/// is not a 4-aligned code address.
pub fn discover_region(image: &GuestImage, entry: u64, known: &FxHashSet<u64>) -> Option<CodeMap> {
    if !entry.is_multiple_of(4) || !image.is_code(entry) {
        return None;
    }
    let mut code = CodeCache::new(image);
    let sized = image
        .func_containing(entry)
        .and_then(|s| Some((s.addr, s.addr.checked_add(s.size)?)));
    let t = match sized {
        Some((start, end)) => traverse(&mut code, entry, &[], &Extent::Sized(start, end)),
        None => traverse(&mut code, entry, &[], &Extent::Open(known)),
    };
    if t.blocks.is_empty() {
        return None;
    }
    let mut map = CodeMap::default();
    for table in t.tables {
        map.jump_tables.insert(table.br_addr, table);
    }
    map.functions.insert(
        entry,
        FuncInfo {
            entry,
            name: Some(format!("jit_{entry:x}")),
            blocks: t.blocks,
            extra_entries: Vec::new(),
            called: false,
            built: Vec::new(),
        },
    );
    Some(map)
}
