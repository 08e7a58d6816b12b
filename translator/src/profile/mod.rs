//! The profile file: what a translated program learned at run time, read
//! back by `vmxlate --profile FILE` for the next translation.
//!
//! Format (text, version 1), one record per line:
//!
//! ```text
//! vmxlate-profile 1
//! jit 0x545b4c
//! ```
//!
//! - `vmxlate-profile N` declares the format version; it is the first line
//!   of every profile and may repeat (several processes append to one file;
//!   each writes the header when it finds the file empty, so a race can
//!   duplicate it). Every header must name a version this reader knows.
//! - `jit ADDR`: the runtime JIT-compiled code at guest PC `ADDR` (hex, with
//!   `0x`): ahead-of-time discovery missed it, so the next translation
//!   seeds discovery with it.
//! - Blank lines and lines starting with `#` are ignored.
//!
//! Invariants: writers emit whole lines with one `write` each (appends of
//! concurrent processes never interleave within a line); readers reject
//! unknown versions and unknown records with the line number, never guess.

use std::path::Path;

/// The format version this module reads and writes.
pub const VERSION: u32 = 1;

/// The header line (without newline).
pub const HEADER: &str = "vmxlate-profile 1";

/// What one profile file says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Guest PCs compiled by the JIT, sorted, without duplicates.
    pub jit: Vec<u64>,
}

/// The record line for a PC compiled by the JIT (with newline).
pub fn jit_record(pc: u64) -> String {
    format!("jit {pc:#x}\n")
}

/// Parses profile text.
pub fn parse(text: &str) -> Result<Profile, String> {
    let mut p = Profile::default();
    let mut seen_header = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_ascii_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("vmxlate-profile"), Some(v), None) => {
                if v.parse::<u32>() != Ok(VERSION) {
                    return Err(format!(
                        "line {n}: profile version {v} (this vmxlate reads version {VERSION})"
                    ));
                }
                seen_header = true;
            }
            _ if !seen_header => {
                return Err(format!(
                    "line {n}: not a vmxlate profile (expected `{HEADER}`)"
                ))
            }
            (Some("jit"), Some(addr), None) => {
                let pc = addr
                    .strip_prefix("0x")
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("line {n}: bad address `{addr}`"))?;
                p.jit.push(pc);
            }
            _ => return Err(format!("line {n}: unknown record `{line}`")),
        }
    }
    if !seen_header {
        return Err(format!("empty profile (expected `{HEADER}`)"));
    }
    p.jit.sort_unstable();
    p.jit.dedup();
    Ok(p)
}

/// Reads and parses the profile at `path`.
pub fn read(path: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read profile '{}': {e}", path.display()))?;
    parse(&text).map_err(|e| format!("profile '{}': {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_writers_append() {
        let mut text = format!("{HEADER}\n");
        text += &jit_record(0x545b4c);
        text += &format!("{HEADER}\n# another process\n\n");
        text += &jit_record(0x400100);
        text += &jit_record(0x545b4c);
        assert_eq!(parse(&text).unwrap().jit, vec![0x400100, 0x545b4c]);
    }

    #[test]
    fn rejects_other_versions_records_and_files() {
        assert!(parse("vmxlate-profile 2\n")
            .unwrap_err()
            .contains("version 2"));
        assert!(parse("vmxlate-profile 1\nhot 0x10\n")
            .unwrap_err()
            .contains("line 2: unknown record"));
        assert!(parse("vmxlate-profile 1\njit 545b4c\n")
            .unwrap_err()
            .contains("bad address"));
        assert!(parse("jit 0x10\n")
            .unwrap_err()
            .contains("not a vmxlate profile"));
        assert!(parse("").is_err());
    }
}
