//! The translation pipeline, end to end: load -> discover -> lift (in
//! parallel) -> compile -> link. Used by the `vmxlate` binary and the tests.

use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::backend::{self, Options};
use crate::elf::{discover_with, CodeMap, GuestImage};
use crate::frontend::a64::{lift_function, table_loads, LiftStats};
use crate::ir::{verify::verify, Function};

/// Figures from one translation.
#[derive(Debug, Default)]
pub struct Report {
    /// Functions translated.
    pub functions: usize,
    /// Guest instructions lifted.
    pub insts: usize,
    /// Instructions that became traps.
    pub traps: usize,
    /// `BR`s that are not recognised jump tables.
    pub unresolved_branches: usize,
    /// Host code bytes.
    pub code_bytes: usize,
    /// Time per phase.
    pub phases: Vec<(&'static str, Duration)>,
}

/// Loads and parses a guest program.
pub fn load(input: &Path) -> Result<GuestImage, String> {
    let bytes =
        std::fs::read(input).map_err(|e| format!("cannot read '{}': {}", input.display(), e))?;
    GuestImage::parse(bytes).map_err(|e| format!("'{}': {}", input.display(), e))
}

/// Lifts every discovered function.
pub fn lift_all(image: &GuestImage) -> (Vec<Function>, Vec<LiftStats>) {
    lift_code(image, &discover_with(image, &[]))
}

/// Lifts every function of `code` (discovered in `image`), in parallel.
pub fn lift_code(image: &GuestImage, code: &CodeMap) -> (Vec<Function>, Vec<LiftStats>) {
    let loads = table_loads(code);
    let funcs: Vec<&crate::elf::FuncInfo> = code.functions.values().collect();
    funcs
        .par_iter()
        .map(|info| lift_function(image, code, &loads, info))
        .unzip()
}

/// Translates `input` into the executable `output`.
pub fn translate(input: &Path, output: &Path, opts: Options) -> Result<Report, String> {
    translate_with(input, output, opts, &[])
}

/// Translates `input` into `output`, seeding discovery with `seeds` (guest
/// PCs from a profile) besides what the image itself shows.
pub fn translate_with(
    input: &Path,
    output: &Path,
    opts: Options,
    seeds: &[u64],
) -> Result<Report, String> {
    let mut report = Report::default();
    let t = Instant::now();
    let image = load(input)?;
    report.phases.push(("load", t.elapsed()));
    let t = Instant::now();
    let code = discover_with(&image, seeds);
    report.unresolved_branches = code.unresolved.len();
    let (funcs, stats) = lift_code(&image, &code);
    report.phases.push(("discover+lift", t.elapsed()));
    if cfg!(debug_assertions) || opts.verify {
        for f in &funcs {
            verify(f).map_err(|e| {
                format!(
                    "internal error: IR of {} is invalid: {}",
                    f.name,
                    e.join("; ")
                )
            })?;
        }
    }
    report.functions = funcs.len();
    report.insts = stats.iter().map(|s| s.insts).sum();
    report.traps = stats.iter().map(|s| s.traps.len()).sum();
    let t = Instant::now();
    let compiled = backend::compile(&image, &funcs, opts)?;
    report.code_bytes = compiled.code_bytes;
    report.phases.push(("compile", t.elapsed()));
    let t = Instant::now();
    crate::link::link(&compiled.object, output)?;
    report.phases.push(("link", t.elapsed()));
    Ok(report)
}
