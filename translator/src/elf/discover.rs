//! Finding the guest program's code ahead of time: functions, their basic
//! blocks, and jump tables.
//!
//! Seeds are the ELF entry, `Func` symbols, `.eh_frame` FDE starts (and
//! their landing pads, as extra entries), BL targets, tail-call targets,
//! code addresses found in data (pointer scan for ET_EXEC, RELATIVE
//! relocations for static-pie) or built in registers by ADR / ADRP+ADD, and
//! profile-supplied PCs ([`discover_with`]). Each function is traversed
//! recursively (`traverse`); discovery repeats until no new entry, extra
//! entry or split appears. [`discover_region`] traverses one function from
//! a single entry, for code found only at run time.
//!
//! Invariants of the resulting [`CodeMap`]:
//! - Every function's blocks are sorted, non-overlapping and contain only
//!   instructions reachable from its entry or extra entries without leaving
//!   the function (a sized symbol's range, or for unsized functions up to
//!   the next known function entry).
//! - A block whose last instruction falls through continues at `end`, which
//!   is either the start of another block of the same function or outside
//!   it (the code runs into the next function).
//! - A branch whose target is not a block start of its function is an exit:
//!   a tail call (the target is a function entry when it is code).
//! - Every BL target that is code is a function entry.
//! - Discovery never panics, whatever the image holds; undecodable words
//!   end their block and are counted in `undecodable`.

mod decode;
mod jump_table;
mod region;
mod seeds;
#[cfg(test)]
mod tests;
mod traverse;

use crate::elf::load::GuestImage;
use decode::{CodeCache, Flow};
use rustc_hash::{FxHashMap, FxHashSet};
use seeds::CodeRanges;
use std::collections::{BTreeMap, BTreeSet};
use traverse::{traverse, Extent, Traversal};

pub use region::discover_region;

/// A basic block: the instructions `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Address of the first instruction.
    pub start: u64,
    /// Address after the last instruction (exclusive).
    pub end: u64,
}

/// A recognised switch table behind a `BR`.
///
/// The lifter should dispatch on the value of `target_reg` at the BR
/// (compare it against `targets`, falling back to an indirect branch):
/// `index_reg` holds the table index only at `load_addr` and is often
/// reused before the BR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpTable {
    /// Address of the `BR`.
    pub br_addr: u64,
    /// Register holding the table index at the table load.
    pub index_reg: u8,
    /// Register the `BR` jumps through.
    pub target_reg: u8,
    /// Address of the table load (`LDRB`/`LDRH`/`LDR`).
    pub load_addr: u64,
    /// Target for index `0..n`, where `n` is the proven bound.
    pub targets: Vec<u64>,
}

/// One function found by discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncInfo {
    /// Entry address.
    pub entry: u64,
    /// Name of the symbol at `entry`, if any.
    pub name: Option<String>,
    /// Sorted, non-overlapping blocks reachable from `entry` and
    /// `extra_entries`.
    pub blocks: Vec<BlockInfo>,
    /// Addresses inside the function (not its entry) that code pointers in
    /// data or in registers point at, and exception landing pads; they must
    /// be enterable from the dispatcher. Sorted.
    pub extra_entries: Vec<u64>,
    /// Some `BL` in the program calls `entry`: it is a function's start,
    /// which compiled code enters only by AAPCS64 calls and tail calls.
    pub called: bool,
    /// Code addresses the function builds in registers (ADR, ADRP+ADD),
    /// sorted, each once.
    pub built: Vec<u64>,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// Functions by entry address.
    pub functions: BTreeMap<u64, FuncInfo>,
    /// Jump tables by the address of their `BR`.
    pub jump_tables: FxHashMap<u64, JumpTable>,
    /// Number of distinct undecodable instruction words inside blocks.
    pub undecodable: usize,
    /// Addresses of `BR`s inside blocks that are not recognised jump tables
    /// (indirect jumps resolved only at run time, through the code TLB),
    /// sorted.
    pub unresolved: Vec<u64>,
}

/// Discovery state of one function entry.
#[derive(Default)]
struct Entry {
    extra: BTreeSet<u64>,
    /// Traversed without a sized symbol (bounded by other entries).
    open: bool,
    /// Number of known entries when last traversed.
    entries_seen: usize,
    result: Option<Traversal>,
}

/// The fixpoint over function entries.
struct Discovery<'a> {
    image: &'a GuestImage,
    code: CodeCache<'a>,
    ranges: CodeRanges,
    entries: BTreeMap<u64, Entry>,
    entry_set: FxHashSet<u64>,
    /// Functions to (re)traverse; `queued` holds the same set.
    queue: Vec<u64>,
    queued: FxHashSet<u64>,
    /// Code addresses from data or registers not yet classified.
    pending: Vec<u64>,
    classified: FxHashSet<u64>,
    /// Code addresses known to execute (profile seeds): new functions
    /// without the plausibility test.
    trusted: FxHashSet<u64>,
}

/// Finds the functions, blocks and jump tables of `image`.
pub fn discover(image: &GuestImage) -> CodeMap {
    discover_with(image, &[])
}

/// Like [`discover`], with extra code addresses (from a profile: PCs the
/// JIT compiled in an earlier run), classified like code pointers found in
/// data: an extra entry of the function whose blocks hold it, else a new
/// function.
pub fn discover_with(image: &GuestImage, extra_seeds: &[u64]) -> CodeMap {
    let ranges = CodeRanges::new(image);
    let mut pending = seeds::data_pointers(image, &ranges);
    pending.extend_from_slice(extra_seeds);
    let mut d = Discovery {
        image,
        code: CodeCache::new(image),
        ranges,
        entries: BTreeMap::new(),
        entry_set: FxHashSet::default(),
        queue: Vec::new(),
        queued: FxHashSet::default(),
        pending,
        classified: FxHashSet::default(),
        trusted: extra_seeds.iter().copied().collect(),
    };
    d.add_entry(image.entry);
    for sym in &image.symbols {
        if sym.kind == crate::elf::load::SymbolKind::Func {
            d.add_entry(sym.addr);
        }
    }
    for &(start, _) in &image.fdes {
        d.add_entry(start);
    }
    for &(func, pad) in &image.landing_pads {
        if d.ranges.contains(pad) {
            d.add_extra(func, pad);
        }
    }
    loop {
        d.drain_queue();
        d.classify_pending();
        d.requeue_swallowing();
        if d.queue.is_empty() {
            break;
        }
    }
    d.finish()
}

impl Discovery<'_> {
    /// Adds a function entry if it is code and new; queues it.
    fn add_entry(&mut self, addr: u64) {
        if self.image.is_code(addr) && addr.is_multiple_of(4) && self.entry_set.insert(addr) {
            self.entries.insert(addr, Entry::default());
            self.enqueue(addr);
        }
    }

    /// Adds an extra entry to the function at `func`; requeues it if new.
    fn add_extra(&mut self, func: u64, addr: u64) {
        if func == addr {
            return;
        }
        if let Some(e) = self.entries.get_mut(&func) {
            if e.extra.insert(addr) {
                self.enqueue(func);
            }
        }
    }

    /// Queues the function at `entry` for traversal (once).
    fn enqueue(&mut self, entry: u64) {
        if self.queued.insert(entry) {
            self.queue.push(entry);
        }
    }

    /// Traverses every queued function, collecting new seeds.
    fn drain_queue(&mut self) {
        while let Some(entry) = self.queue.pop() {
            self.queued.remove(&entry);
            let extra: Vec<u64> = match self.entries.get(&entry) {
                Some(e) => e.extra.iter().copied().collect(),
                None => continue,
            };
            let sized = self
                .image
                .func_containing(entry)
                .and_then(|s| Some((s.addr, s.addr.checked_add(s.size)?)));
            let t = match sized {
                Some((_, end)) => {
                    traverse(&mut self.code, entry, &extra, &Extent::Sized(entry, end))
                }
                None => traverse(
                    &mut self.code,
                    entry,
                    &extra,
                    &Extent::Open(&self.entry_set),
                ),
            };
            for &target in t.calls.iter().chain(&t.exits) {
                self.add_entry(target);
            }
            self.pending.extend(t.built.iter().map(|&(_, v)| v));
            let known = self.entry_set.len();
            if let Some(e) = self.entries.get_mut(&entry) {
                e.open = sized.is_none();
                e.entries_seen = known;
                e.result = Some(t);
            }
        }
    }

    /// Turns pending code addresses into extra entries or new functions.
    fn classify_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut index: Vec<(u64, u64, u64)> = Vec::new();
        for (&entry, e) in &self.entries {
            if let Some(t) = &e.result {
                index.extend(t.blocks.iter().map(|b| (b.start, b.end, entry)));
            }
        }
        index.sort_unstable();
        for addr in std::mem::take(&mut self.pending) {
            if !self.ranges.contains(addr)
                || self.entry_set.contains(&addr)
                || !self.classified.insert(addr)
            {
                continue;
            }
            let owner = self
                .image
                .func_containing(addr)
                .map(|s| s.addr)
                .filter(|f| self.entry_set.contains(f))
                .or_else(|| {
                    let i = index.partition_point(|&(start, _, _)| start <= addr);
                    let &(_, end, func) = index.get(i.checked_sub(1)?)?;
                    (addr < end).then_some(func)
                });
            match owner {
                Some(func) => self.add_extra(func, addr),
                None if self.trusted.contains(&addr) || seeds::plausible(&mut self.code, addr) => {
                    self.add_entry(addr)
                }
                None => {}
            }
        }
    }

    /// Requeues unsized functions whose blocks run over an entry found
    /// after they were traversed.
    fn requeue_swallowing(&mut self) {
        let known = self.entry_set.len();
        let mut swallowing = Vec::new();
        for (&entry, e) in &self.entries {
            let Some(t) = e
                .result
                .as_ref()
                .filter(|_| e.open && e.entries_seen < known)
            else {
                continue;
            };
            let swallowed = t.blocks.iter().any(|b| {
                self.entry_set.contains(&b.start) && b.start != entry
                    || (b.start + 4..b.end)
                        .step_by(4)
                        .any(|a| self.entry_set.contains(&a))
            });
            if swallowed {
                swallowing.push(entry);
            }
        }
        for entry in swallowing {
            self.enqueue(entry);
        }
    }

    /// Builds the [`CodeMap`].
    fn finish(mut self) -> CodeMap {
        let mut map = CodeMap::default();
        let mut undecodable: FxHashSet<u64> = FxHashSet::default();
        let called: FxHashSet<u64> = self
            .entries
            .values()
            .filter_map(|e| e.result.as_ref())
            .flat_map(|t| t.calls.iter().copied())
            .collect();
        for (entry, e) in std::mem::take(&mut self.entries) {
            let Some(t) = e.result else { continue };
            for b in &t.blocks {
                let last = b.end - 4;
                match self.code.flow(last) {
                    Some(Flow::Undecodable) => {
                        undecodable.insert(last);
                    }
                    Some(Flow::JumpIndirect) if !t.tables.iter().any(|j| j.br_addr == last) => {
                        map.unresolved.push(last);
                    }
                    _ => {}
                }
            }
            for table in t.tables {
                map.jump_tables.insert(table.br_addr, table);
            }
            let name = self
                .image
                .symbol_at(entry)
                .filter(|s| !s.name.starts_with('$') && !s.name.is_empty())
                .map(|s| s.name.clone());
            map.functions.insert(
                entry,
                FuncInfo {
                    entry,
                    name,
                    blocks: t.blocks,
                    extra_entries: e.extra.into_iter().collect(),
                    called: called.contains(&entry),
                    built: code_built(self.image, &t.built),
                },
            );
        }
        map.undecodable = undecodable.len();
        map.unresolved.sort_unstable();
        map.unresolved.dedup();
        map
    }
}

/// The code addresses among a traversal's `built` values, sorted, each once.
fn code_built(image: &GuestImage, built: &[(u64, u64)]) -> Vec<u64> {
    let mut out: Vec<u64> = built
        .iter()
        .map(|&(_, v)| v)
        .filter(|&v| image.is_code(v))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
