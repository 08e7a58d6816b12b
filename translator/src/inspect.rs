//! `vmxlate inspect`: what translation finds in a program, without
//! compiling it: functions, instructions, how much of each executable
//! section discovery covers (and the gaps), indirect branches left to run
//! time, and every instruction that would lift into a trap: apart, those
//! of extensions the runtime deliberately does not advertise (SVE, MTE...,
//! which programs only reach after checking HWCAP, so a trap there is what
//! a CPU without them does), and the rest, which are real gaps.
//!
//! Invariants: the report is computed by the same discovery and lifter as
//! translation (so it predicts what a translated program can reach
//! without the JIT); addresses are run-time guest addresses (biased for
//! static-pie); lists are sorted so output is deterministic.

use std::fmt::Write;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::driver::lift_code;
use crate::elf::{discover_with, CodeMap, GuestImage, ImageKind};
use crate::frontend::a64::extensions;

/// `NOP`, which gcc and the linker use to pad code.
const NOP: u32 = 0xd503_201f;

/// Gaps listed per section in the text report.
const TEXT_GAPS: usize = 12;

/// Everything `inspect` reports.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `exec` or `static-pie`.
    pub kind: &'static str,
    /// Entry point.
    pub entry: u64,
    /// Functions discovered.
    pub functions: usize,
    /// Of those, functions with a symbol name.
    pub named_functions: usize,
    /// Basic blocks.
    pub blocks: usize,
    /// Guest instructions lifted.
    pub instructions: usize,
    /// Recognised jump tables.
    pub jump_tables: usize,
    /// Distinct undecodable words inside blocks.
    pub undecodable: usize,
    /// Coverage of each executable section.
    pub sections: Vec<Coverage>,
    /// `BR`s that are not recognised jump tables.
    pub unresolved_branches: Vec<Unresolved>,
    /// Instructions that lift into traps and belong to no unadvertised
    /// extension (real gaps), by mnemonic, most frequent first.
    pub traps: Vec<TrapGroup>,
    /// Instructions of extensions not advertised in HWCAP (they trap as
    /// on a CPU without them), by extension and mnemonic.
    pub unadvertised: Vec<TrapGroup>,
}

/// How much of one executable section discovered functions cover.
#[derive(Debug, Serialize)]
pub struct Coverage {
    /// Section name.
    pub name: String,
    /// Start address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u64,
    /// Bytes inside discovered blocks.
    pub covered: u64,
    /// Bytes of gaps that are not padding.
    pub unexplained: u64,
    /// Maximal ranges not covered, by address.
    pub gaps: Vec<Gap>,
}

/// A range of a code section no discovered block covers.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// First address.
    pub start: u64,
    /// Address after the last byte.
    pub end: u64,
    /// Every word is zero or `NOP` (alignment padding).
    pub padding: bool,
}

/// An indirect jump left to the code TLB at run time.
#[derive(Debug, Serialize)]
pub struct Unresolved {
    /// Address of the `BR`.
    pub addr: u64,
    /// Entry of a function whose blocks hold it.
    pub function: u64,
}

/// Instructions with one mnemonic that lift into traps.
#[derive(Debug, Serialize)]
pub struct TrapGroup {
    /// The unadvertised extension (`SVE`, `MTE`...), for
    /// [`Report::unadvertised`]; `None` in [`Report::traps`].
    pub extension: Option<&'static str>,
    /// First word of the disassembly.
    pub mnemonic: String,
    /// How many distinct addresses.
    pub count: usize,
    /// Lowest address.
    pub example_pc: u64,
    /// Its instruction word.
    pub example_word: u32,
    /// Its disassembly.
    pub example: String,
}

/// Discovers and lifts `image` (with profile `seeds`) and reports.
pub fn inspect(image: &GuestImage, seeds: &[u64]) -> Report {
    let code = discover_with(image, seeds);
    let (_, stats) = lift_code(image, &code, false);
    type Key = (Option<&'static str>, String);
    let mut groups: FxHashMap<Key, (usize, u64, u32, String)> = FxHashMap::default();
    let mut all: Vec<&(u64, u32, String)> = stats.iter().flat_map(|s| &s.traps).collect();
    all.sort_by_key(|t| t.0);
    all.dedup_by_key(|t| t.0);
    for (pc, word, text) in all {
        let mnemonic = text.split_whitespace().next().unwrap_or("?").to_string();
        let ext = extensions::unadvertised(*word, &mnemonic);
        let g = groups
            .entry((ext, mnemonic))
            .or_insert_with(|| (0, *pc, *word, text.clone()));
        g.0 += 1;
    }
    let mut groups: Vec<TrapGroup> = groups
        .into_iter()
        .map(
            |((extension, mnemonic), (count, pc, word, example))| TrapGroup {
                extension,
                mnemonic,
                count,
                example_pc: pc,
                example_word: word,
                example,
            },
        )
        .collect();
    groups.sort_by(|a, b| {
        (a.extension, b.count, &a.mnemonic).cmp(&(b.extension, a.count, &b.mnemonic))
    });
    let (unadvertised, traps) = groups.into_iter().partition(|g| g.extension.is_some());
    let covered = covered_ranges(&code);
    Report {
        kind: match image.kind {
            ImageKind::Exec => "exec",
            ImageKind::StaticPie => "static-pie",
        },
        entry: image.entry,
        functions: code.functions.len(),
        named_functions: code.functions.values().filter(|f| f.name.is_some()).count(),
        blocks: code.functions.values().map(|f| f.blocks.len()).sum(),
        instructions: stats.iter().map(|s| s.insts).sum(),
        jump_tables: code.jump_tables.len(),
        undecodable: code.undecodable,
        sections: image
            .sections
            .iter()
            .filter(|s| s.exec && s.file_backed && s.size > 0)
            .map(|s| coverage(image, &s.name, s.addr, s.size, &covered))
            .collect(),
        unresolved_branches: unresolved(&code, &covered),
        traps,
        unadvertised,
    }
}

/// The union of every function's blocks: sorted, disjoint, with the entry
/// of (one of) the functions owning each range.
fn covered_ranges(code: &CodeMap) -> Vec<(u64, u64, u64)> {
    let mut all: Vec<(u64, u64, u64)> = code
        .functions
        .values()
        .flat_map(|f| f.blocks.iter().map(|b| (b.start, b.end, f.entry)))
        .collect();
    all.sort_unstable();
    let mut out: Vec<(u64, u64, u64)> = Vec::with_capacity(all.len());
    for (start, end, func) in all {
        match out.last_mut() {
            Some(last) if start <= last.1 && last.2 == func => last.1 = last.1.max(end),
            Some(&mut (_, last_end, _)) if start < last_end => {
                if end > last_end {
                    out.push((last_end, end, func));
                }
            }
            _ => out.push((start, end, func)),
        }
    }
    out
}

fn coverage(
    image: &GuestImage,
    name: &str,
    addr: u64,
    size: u64,
    covered: &[(u64, u64, u64)],
) -> Coverage {
    let end = addr.saturating_add(size);
    let mut c = Coverage {
        name: name.to_string(),
        addr,
        size,
        covered: 0,
        unexplained: 0,
        gaps: Vec::new(),
    };
    let mut at = addr;
    let first = covered.partition_point(|r| r.1 <= addr);
    for &(s, e, _) in &covered[first..] {
        if s >= end {
            break;
        }
        let (s, e) = (s.max(addr), e.min(end));
        if s > at {
            c.gaps.push(gap(image, at, s));
        }
        c.covered += e - s;
        at = at.max(e);
    }
    if at < end {
        c.gaps.push(gap(image, at, end));
    }
    c.unexplained = c
        .gaps
        .iter()
        .filter(|g| !g.padding)
        .map(|g| g.end - g.start)
        .sum();
    c
}

fn gap(image: &GuestImage, start: u64, end: u64) -> Gap {
    let padding = (start..end)
        .step_by(4)
        .all(|a| matches!(image.read_u32(a), Some(0 | NOP)));
    Gap {
        start,
        end,
        padding,
    }
}

fn unresolved(code: &CodeMap, covered: &[(u64, u64, u64)]) -> Vec<Unresolved> {
    code.unresolved
        .iter()
        .map(|&addr| {
            let i = covered.partition_point(|r| r.0 <= addr);
            let function = i
                .checked_sub(1)
                .and_then(|i| covered.get(i))
                .filter(|r| addr < r.1)
                .map_or(0, |r| r.2);
            Unresolved { addr, function }
        })
        .collect()
}

impl Report {
    /// The report as pretty-printed JSON (numbers for addresses and sizes).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("\"{e}\""));
        s.push('\n');
        s
    }

    /// The report as readable text.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let pct = |a: u64, b: u64| {
            if b == 0 {
                100.0
            } else {
                a as f64 * 100.0 / b as f64
            }
        };
        let _ = writeln!(o, "{} image, entry {:#x}", self.kind, self.entry);
        let _ = writeln!(
            o,
            "functions: {} ({} named), blocks: {}, instructions: {}",
            self.functions, self.named_functions, self.blocks, self.instructions
        );
        let _ = writeln!(
            o,
            "jump tables: {}, unresolved BRs: {}, undecodable words: {}",
            self.jump_tables,
            self.unresolved_branches.len(),
            self.undecodable
        );
        let _ = writeln!(o, "\ncode coverage:");
        for s in &self.sections {
            let _ = writeln!(
                o,
                "  {:<16} {:#x}..{:#x} {:>9} bytes, {:>9} covered ({:.1}%), {} gaps, {} bytes not padding",
                s.name,
                s.addr,
                s.addr + s.size,
                s.size,
                s.covered,
                pct(s.covered, s.size),
                s.gaps.len(),
                s.unexplained
            );
            let mut gaps: Vec<&Gap> = s.gaps.iter().filter(|g| !g.padding).collect();
            gaps.sort_by_key(|g| std::cmp::Reverse(g.end - g.start));
            for g in gaps.iter().take(TEXT_GAPS) {
                let _ = writeln!(
                    o,
                    "    gap {:#x}..{:#x} ({} bytes)",
                    g.start,
                    g.end,
                    g.end - g.start
                );
            }
            if gaps.len() > TEXT_GAPS {
                let _ = writeln!(o, "    ... {} more (see --json)", gaps.len() - TEXT_GAPS);
            }
        }
        let _ = writeln!(
            o,
            "\nunresolved indirect branches: {}",
            self.unresolved_branches.len()
        );
        for u in &self.unresolved_branches {
            let _ = writeln!(o, "  br at {:#x} in function {:#x}", u.addr, u.function);
        }
        let total: usize = self.traps.iter().map(|t| t.count).sum();
        let _ = writeln!(o, "\ninstructions that lift into traps: {total}");
        for t in &self.traps {
            let _ = writeln!(
                o,
                "  {:<12} {:>6}  e.g. {:#x}: {:08x} {}",
                t.mnemonic, t.count, t.example_pc, t.example_word, t.example
            );
        }
        let total: usize = self.unadvertised.iter().map(|t| t.count).sum();
        let _ = writeln!(
            o,
            "\ninstructions of extensions not advertised in HWCAP (SIGILL, as on a CPU without them): {total}"
        );
        for t in &self.unadvertised {
            let _ = writeln!(
                o,
                "  {:<8} {:<12} {:>6}  e.g. {:#x}: {:08x} {}",
                t.extension.unwrap_or("?"),
                t.mnemonic,
                t.count,
                t.example_pc,
                t.example_word,
                t.example
            );
        }
        o
    }
}
