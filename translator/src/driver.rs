//! The translation pipeline, end to end: load -> discover -> lift (in
//! parallel) -> compile -> link. Used by the `vmxlate` binary and the tests.

use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use vmxlate_abi::Routine;

use crate::backend::{self, Options};
use crate::bind;
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
    /// Functions bound to host libc routines.
    pub bound: usize,
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

/// Lifts every discovered function, as a translation without
/// `--strict-abi` does.
pub fn lift_all(image: &GuestImage) -> (Vec<Function>, Vec<LiftStats>) {
    lift_code(image, &discover_with(image, &[]), false)
}

/// Lifts every function of `code` (discovered in `image`), in parallel,
/// binding the known libc routines to host code and copying small leaf
/// functions into their callers (see [`bind::bind_calls`] and
/// [`crate::opt`] for what `strict_abi` keeps).
pub fn lift_code(
    image: &GuestImage,
    code: &CodeMap,
    strict_abi: bool,
) -> (Vec<Function>, Vec<LiftStats>) {
    let loads = table_loads(code);
    let funcs: Vec<&crate::elf::FuncInfo> = code.functions.values().collect();
    let (mut funcs, stats): (Vec<Function>, Vec<LiftStats>) = funcs
        .par_iter()
        .map(|info| {
            let (mut func, mut stats) = lift_function(image, code, &loads, info);
            if let Some(routine) = bind::recognise(image, code, info) {
                bind::bind(&mut func, routine);
                stats.bound = Some(routine);
            }
            (func, stats)
        })
        .unzip();
    let bound: FxHashMap<u64, Routine> = funcs
        .iter()
        .zip(&stats)
        .filter_map(|(f, s)| s.bound.map(|r| (f.entry_pc, r)))
        .collect();
    if !bound.is_empty() {
        funcs
            .par_iter_mut()
            .for_each(|f| bind::bind_calls(f, &bound, strict_abi));
    }
    crate::opt::run(&mut funcs, strict_abi);
    (funcs, stats)
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
    let (funcs, stats) = lift_code(&image, &code, opts.strict_abi);
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
    report.bound = stats.iter().filter(|s| s.bound.is_some()).count();
    let t = Instant::now();
    let compiled = backend::compile(&image, &funcs, opts)?;
    report.code_bytes = compiled.code_bytes;
    report.phases.push(("compile", t.elapsed()));
    let t = Instant::now();
    crate::link::link(&compiled.object, output)?;
    report.phases.push(("link", t.elapsed()));
    Ok(report)
}
