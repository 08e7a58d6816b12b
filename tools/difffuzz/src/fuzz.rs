//! The fuzzing loop: generate cases per class, run them in batches under
//! qemu-aarch64 and translated, compare the records, and report.
//!
//! A batch that one side cannot finish is resumed after the case where it
//! stopped (that case is reported: a crash of the translated program is a
//! mismatch, a crash under qemu means the oracle rejects the encoding). A
//! batch that does not translate is bisected to the case that breaks the
//! translator, which is reported and dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::classes::Class;
use crate::exec;
use crate::gen::{mnemonic, Case, Filter, GenStats, Generator};
use crate::layout::{State, REC};
use crate::program;
use vmxlate::frontend::a64::decode::disassemble;

/// What to run.
pub struct Config {
    /// Seed of every class's generator.
    pub seed: u64,
    /// Cases per class.
    pub count: usize,
    /// Classes to run.
    pub classes: Vec<&'static Class>,
    /// Cases per batch program.
    pub batch: usize,
    /// Run only this case index (of each selected class).
    pub only: Option<usize>,
    /// Print the input state with each mismatch.
    pub verbose: bool,
    /// Mnemonics with known, tracked mismatches: reported, not failures.
    pub pending: BTreeSet<String>,
}

/// Figures for one class.
#[derive(Default, Debug, Clone)]
pub struct ClassReport {
    /// Generation figures.
    pub gen: GenStats,
    /// Cases compared.
    pub compared: usize,
    /// Cases that differed (or crashed translated, or did not translate).
    pub mismatches: usize,
    /// Mismatches on pending mnemonics.
    pub pending: usize,
    /// Cases qemu-aarch64 did not run to the end (the decoder accepted an
    /// encoding the oracle treats as undefined), by mnemonic.
    pub oracle_rejects: BTreeMap<String, usize>,
    /// Unallocated encodings qemu-aarch64 rejected with SIGILL, as vmxlate
    /// does.
    pub undefined: usize,
}

/// The result of a run.
#[derive(Default)]
pub struct Report {
    /// Per class, in run order.
    pub classes: BTreeMap<&'static str, ClassReport>,
    /// One line per failing case (not pending).
    pub failures: Vec<String>,
    /// One line per mismatch on a pending mnemonic.
    pub pending: Vec<String>,
    /// One line per case qemu-aarch64 rejected.
    pub oracle_rejects: Vec<String>,
}

impl Report {
    /// Cases compared in total.
    pub fn compared(&self) -> usize {
        self.classes.values().map(|c| c.compared).sum()
    }
}

fn words_text(words: &[u32]) -> String {
    let shown = match words {
        [w, crate::asm::MARKER] => std::slice::from_ref(w),
        ws => ws,
    };
    let hex: Vec<String> = shown.iter().map(|w| format!("{w:#010x}")).collect();
    let text: Vec<String> = shown.iter().map(|w| disassemble(*w)).collect();
    format!("words={} `{}`", hex.join(","), text.join("; "))
}

fn repro(cfg: &Config, case: &Case) -> String {
    format!(
        "difffuzz --seed {} --class {} --case {}",
        cfg.seed, case.class, case.index
    )
}

fn state_text(s: &State) -> String {
    let mut t: Vec<String> =
        s.x.iter()
            .enumerate()
            .map(|(k, v)| format!("x{k}={v:#x}"))
            .collect();
    t.push(format!(
        "sp={:#x} nzcv={:#x} fpcr={:#x}",
        s.sp, s.nzcv, s.fpcr
    ));
    t.extend(s.v.iter().enumerate().map(|(k, v)| format!("v{k}={v:#x}")));
    t.join(" ")
}

/// Runs the fuzzer; `log` receives progress and finding lines.
pub fn run(cfg: &Config, log: &mut dyn FnMut(&str)) -> Result<Report, String> {
    let qemu =
        exec::qemu().ok_or("qemu-aarch64 not found (set QEMU_AARCH64 or install qemu-user)")?;
    let filter = Filter::new()?;
    let mut gens: Vec<Generator> = cfg
        .classes
        .iter()
        .map(|c| Generator::new(c, cfg.seed, cfg.only.map_or(cfg.count, |i| i + 1), &filter))
        .collect();
    let mut report = Report::default();
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut done = vec![false; gens.len()];
    let mut batch_no = 0;
    while done.iter().any(|d| !d) {
        // Fill one batch round-robin from the classes still producing.
        let mut batch = Vec::new();
        while batch.len() < cfg.batch && done.iter().any(|d| !d) {
            for (k, g) in gens.iter_mut().enumerate() {
                if done[k] || batch.len() >= cfg.batch {
                    continue;
                }
                let limit = cfg.only.map_or(cfg.count, |i| i + 1);
                match g.next_case() {
                    Some(c) if c.index + 1 >= limit => {
                        done[k] = true;
                        batch.push(c);
                    }
                    Some(c) if cfg.only.is_none() => batch.push(c),
                    Some(_) => {}
                    None => done[k] = true,
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        batch_no += 1;
        log(&format!("batch {batch_no}: {} cases", batch.len()));
        run_batch(cfg, &qemu, dir.path(), batch, &mut report, log)?;
    }
    for g in gens {
        let entry = report.classes.entry(g.class.name).or_default();
        for p in &g.stats.panics {
            report.failures.push(format!(
                "LIFTER PANIC seed={} class={} {p}",
                cfg.seed, g.class.name
            ));
            entry.mismatches += 1;
        }
        entry.gen = g.stats;
    }
    Ok(report)
}

/// Writes an ELF file with execute permission (qemu-aarch64 refuses to
/// load files without it).
fn write_elf(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes)
        .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn records(out: &[u8]) -> Vec<State> {
    out.chunks_exact(REC).map(State::from_bytes).collect()
}

fn run_batch(
    cfg: &Config,
    qemu: &Path,
    dir: &Path,
    mut cases: Vec<Case>,
    report: &mut Report,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let elf = dir.join("batch.elf");
    let exe = dir.join("batch");
    let n = cases.len();
    let placed = program::build(&cases, &[], false).cases;
    // The oracle first, resuming after each case it stops on (the layout
    // is the same whichever cases run, so all runs agree on addresses).
    let t0 = Instant::now();
    let mut theirs: Vec<Option<State>> = vec![None; n];
    let mut undefined_ok = Vec::new();
    let mut executed_undefined = Vec::new();
    let mut next = 0;
    while next < n {
        let active: Vec<usize> = (next..n).collect();
        write_elf(&elf, &program::build(&cases, &active, true).elf)?;
        if let Some(keep) = std::env::var_os("DIFFFUZZ_KEEP") {
            let _ = std::fs::copy(&elf, keep);
        }
        let ran = exec::wait(exec::spawn({
            let mut c = Command::new(qemu);
            c.arg(&elf);
            c
        })?);
        let recs = records(&ran.stdout);
        let done = recs.len().min(active.len());
        let mut reject = |k: usize, why: String| {
            let case = &cases[k];
            let entry = report.classes.entry(case.class).or_default();
            *entry
                .oracle_rejects
                .entry(mnemonic(case.main_word()))
                .or_default() += 1;
            report.oracle_rejects.push(format!(
                "ORACLE REJECTS seed={} class={} case={} {} | qemu: {why}",
                cfg.seed,
                case.class,
                case.index,
                words_text(&placed[k].0),
            ));
        };
        for (j, r) in recs.into_iter().take(done).enumerate() {
            let k = next + j;
            let signal = r.nzcv & 0xffff;
            if r.nzcv & !0xffff == program::REJECTED_MARK {
                if cases[k].undefined && signal == 4 {
                    undefined_ok.push(k);
                } else {
                    reject(k, format!("signal {signal}"));
                }
            } else if cases[k].undefined {
                executed_undefined.push(k);
            } else {
                theirs[k] = Some(r);
            }
        }
        let stopped = next + done;
        if stopped < n {
            reject(stopped, ran.status);
        }
        next = stopped + 1;
    }
    // Unallocated encodings: qemu must have raised SIGILL (translated, the
    // decoder refuses them, so they become the undefined-instruction trap).
    for k in undefined_ok {
        report.classes.entry(cases[k].class).or_default().undefined += 1;
    }
    for k in executed_undefined {
        let case = &cases[k];
        if qemu_runs_unallocated(case.main_word()) {
            let entry = report.classes.entry(case.class).or_default();
            entry.pending += 1;
            report.pending.push(format!(
                "PENDING seed={} class={} case={} {} | unallocated (Arm ARM), \
                 qemu-aarch64 7.2 runs it: see qemu_runs_unallocated",
                cfg.seed,
                case.class,
                case.index,
                words_text(&placed[k].0),
            ));
            continue;
        }
        fail(
            cfg,
            report,
            case,
            &placed[k].0,
            "qemu executed an encoding vmxlate refuses as unallocated".to_string(),
        );
    }
    // Then translated, on the cases the oracle ran.
    let mut todo: Vec<usize> = (0..n).filter(|k| theirs[*k].is_some()).collect();
    while !todo.is_empty() {
        write_elf(&elf, &program::build(&cases, &todo, false).elf)?;
        let t1 = Instant::now();
        if let Err(e) = exec::translate(&elf, &exe) {
            log(&format!("batch does not translate ({e}); bisecting"));
            let bad = bisect_translation(dir, &cases)?;
            let case = cases.remove(bad);
            fail(
                cfg,
                report,
                &case,
                &case.words,
                format!("does not translate: {e}"),
            );
            // The layout changed: start the batch again without it.
            return run_batch(cfg, qemu, dir, cases, report, log);
        }
        let t2 = Instant::now();
        let ours = exec::wait(exec::spawn(Command::new(&exe))?);
        log(&format!(
            "  {} cases: qemu {:.1}s, translate {:.1}s, run {:.1}s",
            todo.len(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            t2.elapsed().as_secs_f64()
        ));
        let recs = records(&ours.stdout);
        let done = recs.len().min(todo.len());
        for (j, ours) in recs.iter().take(done).enumerate() {
            let k = todo[j];
            let case = &cases[k];
            report.classes.entry(case.class).or_default().compared += 1;
            let Some(q) = &theirs[k] else { continue };
            let diff = q.diff(ours);
            if diff.is_empty() {
                continue;
            }
            let fields: Vec<String> = diff
                .iter()
                .map(|(n, a, b)| format!("{n}: qemu={a} ours={b}"))
                .collect();
            let mut line = fields.join(" | ");
            if placed[k].1.fpcr != 0 {
                line.push_str(&format!(" | fpcr={:#x}", placed[k].1.fpcr));
            }
            if cfg.verbose {
                line.push_str(&format!("\n    input: {}", state_text(&placed[k].1)));
            }
            fail(cfg, report, case, &placed[k].0, line);
        }
        if done == todo.len() {
            break;
        }
        let k = todo[done];
        fail(
            cfg,
            report,
            &cases[k],
            &placed[k].0,
            format!("translated program stopped: {} (qemu ran it)", ours.status),
        );
        todo.drain(..=done);
    }
    Ok(())
}

/// Unallocated encodings qemu-aarch64 7.2 executes: Advanced SIMD
/// modified immediate with cmode = 1111 and o2 = 1 is FMOV (vector,
/// immediate, half precision) only with op = 0 (Arm ARM C4.1, "Advanced
/// SIMD modified immediate"; binutils agrees), but qemu's
/// `disas_simd_mod_imm` accepts either op. vmxlate raises SIGILL, as the
/// architecture does (pinned in `frontend::a64::unallocated`'s tests).
fn qemu_runs_unallocated(word: u32) -> bool {
    word & 0xbff8_fc00 == 0x2f00_fc00
}

fn fail(cfg: &Config, report: &mut Report, case: &Case, words: &[u32], what: String) {
    let m = mnemonic(case.main_word());
    let is_pending = cfg.pending.contains(&m);
    let line = format!(
        "{} seed={} class={} case={} {} | {what} | repro: {}",
        if is_pending { "PENDING" } else { "MISMATCH" },
        cfg.seed,
        case.class,
        case.index,
        words_text(words),
        repro(cfg, case)
    );
    let entry = report.classes.entry(case.class).or_default();
    if is_pending {
        entry.pending += 1;
        report.pending.push(line);
    } else {
        entry.mismatches += 1;
        report.failures.push(line);
    }
}

/// Finds a case whose batch does not translate by halving.
fn bisect_translation(dir: &Path, cases: &[Case]) -> Result<usize, String> {
    let elf = dir.join("bisect.elf");
    let exe = dir.join("bisect");
    let (mut lo, mut hi) = (0, cases.len());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        let part = &cases[lo..mid];
        let all: Vec<usize> = (0..part.len()).collect();
        write_elf(&elf, &program::build(part, &all, false).elf)?;
        if exec::translate(&elf, &exe).is_err() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(lo)
}
