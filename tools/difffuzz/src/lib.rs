//! Differential testing of vmxlate's lifting, one instruction at a time,
//! against qemu-aarch64 (the oracle).
//!
//! - [`classes`]: the instruction classes, as encoding patterns.
//! - [`gen`]: random cases per class (random words filtered by the decoder
//!   and the lifter; unsupported ones are counted, not run) with random
//!   state ([`state`]) and scratch-area addressing for memory ([`mem`]).
//! - [`program`]: a batch of cases as one tiny static AArch64 ELF that
//!   loads each case's state, runs it, and writes the final state
//!   ([`layout`]) to stdout.
//! - [`exec`]: runs a batch under qemu-aarch64 and translated in-process.
//! - [`fuzz`]: the loop, the comparison and the report.
//! - [`vectors`]: instruction vectors (`tests/vectors/*.txt`) run through
//!   the same harness.

pub mod asm;
pub mod classes;
pub mod elf;
pub mod exec;
pub mod fuzz;
pub mod gen;
pub mod layout;
pub mod mem;
pub mod program;
pub mod state;
pub mod vectors;

use std::collections::BTreeSet;
use std::path::Path;

/// Reads a pending list: one mnemonic per line, then why (an issue or a
/// note); `#` starts a comment. A line whose second word is
/// `[emulated-fma]` applies only when the translated programs emulate
/// fused multiply-add ([`exec::emulated_fma`]).
pub fn read_pending(path: &Path) -> BTreeSet<String> {
    let emulated = exec::emulated_fma();
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let applies = words.next() != Some("[emulated-fma]") || emulated;
            applies.then(|| name.to_string())
        })
        .collect()
}
