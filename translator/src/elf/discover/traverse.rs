//! Recursive traversal of one function: which instructions are reachable
//! from its entries, where its blocks start and end, what it calls, where it
//! tail-calls, its jump tables and the code addresses it builds in
//! registers.
//!
//! Invariants: blocks are sorted, non-overlapping, and each holds
//! contiguous instructions; a block starts at every leader (entry, extra
//! entry, intra-function branch target, jump-table target, instruction after
//! a conditional branch, call or SVC) and ends after any block-ending
//! instruction or before the next leader; the traversal never leaves the
//! function's extent (see [`Extent`]).

use super::decode::{CodeCache, Flow, NO_REG};
use super::jump_table::{self, Body, Step};
use super::{BlockInfo, JumpTable};
use rustc_hash::{FxHashMap, FxHashSet};

/// Longest backward path examined for a jump table.
const MAX_SLICE: usize = 24;

/// Which addresses belong to the function being traversed.
pub(super) enum Extent<'a> {
    /// A sized symbol: exactly `start..end`.
    Sized(u64, u64),
    /// Unsized: everything up to another function's entry.
    Open(&'a FxHashSet<u64>),
}

/// What one traversal found.
#[derive(Default)]
pub(super) struct Traversal {
    /// The function's blocks (sorted, non-overlapping).
    pub blocks: Vec<BlockInfo>,
    /// BL targets.
    pub calls: Vec<u64>,
    /// Branch targets outside the function (tail calls and conditional tail
    /// calls).
    pub exits: Vec<u64>,
    /// `(instruction, value)` of addresses built by ADR or ADRP+ADD that are
    /// not part of a recognised jump table.
    pub built: Vec<(u64, u64)>,
    /// Recognised jump tables.
    pub tables: Vec<JumpTable>,
}

/// The state of one traversal.
struct Walker<'c, 'a, 'e> {
    code: &'c mut CodeCache<'a>,
    entry: u64,
    extent: &'e Extent<'e>,
    seen: FxHashSet<u64>,
    leaders: FxHashSet<u64>,
    /// Branch sources of each intra-function branch target.
    preds: FxHashMap<u64, Vec<u64>>,
    work: Vec<u64>,
    /// BRs not yet examined for a jump table.
    indirect: Vec<u64>,
    out: Traversal,
}

/// Traverses the function at `entry` (plus `extra` entries).
pub(super) fn traverse(
    code: &mut CodeCache<'_>,
    entry: u64,
    extra: &[u64],
    extent: &Extent<'_>,
) -> Traversal {
    let mut w = Walker {
        code,
        entry,
        extent,
        seen: FxHashSet::default(),
        leaders: FxHashSet::default(),
        preds: FxHashMap::default(),
        work: Vec::new(),
        indirect: Vec::new(),
        out: Traversal::default(),
    };
    for &e in std::iter::once(&entry).chain(extra) {
        w.leaders.insert(e);
        w.work.push(e);
    }
    loop {
        while let Some(start) = w.work.pop() {
            w.walk(start);
        }
        // Jump tables are resolved once the function's other edges are
        // known, so the backward path sees every join.
        let mut grew = false;
        for br in std::mem::take(&mut w.indirect) {
            grew |= w.jump_table(br);
        }
        if !grew {
            break;
        }
    }
    let blocks = blocks(w.code, w.seen, &w.leaders);
    w.out.blocks = blocks;
    w.out
}

impl Walker<'_, '_, '_> {
    /// Whether `addr` is inside the function.
    fn belongs(&self, addr: u64) -> bool {
        match *self.extent {
            Extent::Sized(start, end) => addr >= start && addr < end,
            Extent::Open(entries) => addr == self.entry || !entries.contains(&addr),
        }
    }

    /// Records a branch from `src` to `target`: an intra-function edge or an
    /// exit.
    fn edge(&mut self, src: u64, target: u64) {
        if self.belongs(target) && code_ok(target) {
            self.preds.entry(target).or_default().push(src);
            self.leaders.insert(target);
            if !self.seen.contains(&target) {
                self.work.push(target);
            }
        } else {
            self.out.exits.push(target);
        }
    }

    /// Walks straight-line code from `start` until a block-ending
    /// instruction, an already-seen instruction, or the end of the function.
    fn walk(&mut self, start: u64) {
        let mut pages: [Option<u64>; 32] = [None; 32];
        let mut pc = start;
        loop {
            if self.seen.contains(&pc) || (pc != start && !self.belongs(pc)) {
                return;
            }
            let Some(flow) = self.code.flow(pc) else {
                return;
            };
            self.seen.insert(pc);
            let next = pc.wrapping_add(4);
            match flow {
                Flow::Plain(a, b) => {
                    set(&mut pages, a, None);
                    set(&mut pages, b, None);
                }
                Flow::Adr(rd, value) => {
                    self.out.built.push((pc, value));
                    set(&mut pages, rd, None);
                }
                Flow::Adrp(rd, page) => set(&mut pages, rd, Some(page)),
                Flow::AddImm(rd, rn, imm) => {
                    if let Some(page) = pages.get(usize::from(rn)).copied().flatten() {
                        self.out.built.push((pc, page.wrapping_add(imm)));
                    }
                    set(&mut pages, rd, None);
                }
                Flow::Undecodable | Flow::Trap | Flow::Return => return,
                Flow::Jump(t) => return self.edge(pc, t),
                Flow::JumpIndirect => return self.indirect.push(pc),
                Flow::CondJump(t) => {
                    self.edge(pc, t);
                    self.leaders.insert(next);
                }
                Flow::Call(t) => {
                    self.out.calls.push(t);
                    self.leaders.insert(next);
                    pages = [None; 32];
                }
                Flow::CallIndirect | Flow::Syscall => {
                    self.leaders.insert(next);
                    pages = [None; 32];
                }
            }
            pc = next;
        }
    }

    /// Tries to recognise a jump table at `br`; returns whether new
    /// intra-function targets were queued.
    fn jump_table(&mut self, br: u64) -> bool {
        let path = backward_path(self.code, br, &self.seen, &self.leaders, &self.preds);
        let mut body = Body {
            code: self.code,
            insns: &self.seen,
            own: (br, Vec::new()),
        };
        let Some(rec) = jump_table::recognise(self.code.image(), br, &path, &mut body) else {
            return false;
        };
        let mut grew = false;
        for &t in &rec.targets {
            if !self.preds.get(&t).is_some_and(|p| p.contains(&br)) {
                self.edge(br, t);
                grew = true;
            }
        }
        self.out.built.retain(|(at, _)| !rec.slice.contains(at));
        self.out.tables.push(JumpTable {
            br_addr: br,
            index_reg: rec.index_reg,
            target_reg: rec.target_reg,
            load_addr: rec.load_addr,
            targets: rec.targets,
        });
        grew
    }
}

/// 4-aligned and nonzero (whether it is code is checked when walked).
fn code_ok(addr: u64) -> bool {
    addr.is_multiple_of(4) && addr != 0
}

/// Tracks (or forgets, with `None`) the page ADRP put in `reg`.
fn set(pages: &mut [Option<u64>; 32], reg: u8, value: Option<u64>) {
    if reg != NO_REG {
        if let Some(slot) = pages.get_mut(usize::from(reg)) {
            *slot = value;
        }
    }
}

/// The single-predecessor path leading to `br`, most recent first; stops
/// at joins, calls and after [`MAX_SLICE`] steps.
fn backward_path(
    code: &mut CodeCache<'_>,
    br: u64,
    seen: &FxHashSet<u64>,
    leaders: &FxHashSet<u64>,
    preds: &FxHashMap<u64, Vec<u64>>,
) -> Vec<Step> {
    let mut path = Vec::new();
    let mut at = br;
    while path.len() < MAX_SLICE {
        let prev = at.wrapping_sub(4);
        let falls = seen.contains(&prev)
            && code.flow(prev).is_some_and(|f| {
                f.falls_through() && !matches!(f, Flow::Call(_) | Flow::CallIndirect)
            });
        let branches = if leaders.contains(&at) {
            preds.get(&at).map_or(&[][..], Vec::as_slice)
        } else {
            &[]
        };
        let step = match (falls, branches) {
            (true, []) => Step {
                addr: prev,
                taken: false,
            },
            (false, [src]) => Step {
                addr: *src,
                taken: true,
            },
            _ => break,
        };
        path.push(step);
        at = step.addr;
    }
    path
}

/// Cuts the reached instructions into blocks.
fn blocks(
    code: &mut CodeCache<'_>,
    seen: FxHashSet<u64>,
    leaders: &FxHashSet<u64>,
) -> Vec<BlockInfo> {
    let mut insns: Vec<u64> = seen.into_iter().collect();
    insns.sort_unstable();
    let mut blocks: Vec<BlockInfo> = Vec::new();
    let mut open = false;
    for pc in insns {
        let continues =
            open && blocks.last().is_some_and(|b| b.end == pc) && !leaders.contains(&pc);
        if continues {
            if let Some(b) = blocks.last_mut() {
                b.end = pc + 4;
            }
        } else {
            blocks.push(BlockInfo {
                start: pc,
                end: pc + 4,
            });
        }
        open = !code.flow(pc).is_some_and(Flow::ends_block);
    }
    blocks
}
