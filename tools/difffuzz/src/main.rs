//! `difffuzz`: runs random instructions of each class under qemu-aarch64
//! and translated by vmxlate, and reports every difference with a
//! one-line reproducer.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use difffuzz::classes::{by_name, CLASSES};
use difffuzz::fuzz::{run, Config};

/// Differential fuzzer: vmxlate against qemu-aarch64, one instruction at a time.
#[derive(Parser)]
#[command(name = "difffuzz")]
struct Cli {
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cases per class.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Classes to run (comma-separated; default all). `--list` names them.
    #[arg(long, value_delimiter = ',')]
    class: Vec<String>,
    /// Run only case N of each selected class (a reproducer).
    #[arg(long)]
    case: Option<usize>,
    /// Cases per batch program.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Print each mismatching case's input state.
    #[arg(short, long)]
    verbose: bool,
    /// Mnemonics whose mismatches are tracked elsewhere (reported, exit 0).
    #[arg(long)]
    pending: Option<PathBuf>,
    /// List the classes and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list {
        for c in CLASSES {
            println!("{:<10} {} patterns", c.name, c.patterns.len());
        }
        return ExitCode::SUCCESS;
    }
    let mut classes = Vec::new();
    for name in &cli.class {
        match by_name(name) {
            Some(c) => classes.push(c),
            None => {
                eprintln!("difffuzz: unknown class '{name}' (see --list)");
                return ExitCode::from(2);
            }
        }
    }
    if classes.is_empty() {
        classes = CLASSES.iter().collect();
    }
    let cfg = Config {
        seed: cli.seed,
        count: cli.count,
        classes,
        batch: cli.batch.max(1),
        only: cli.case,
        verbose: cli.verbose || cli.case.is_some(),
        pending: cli
            .pending
            .as_deref()
            .map(difffuzz::read_pending)
            .unwrap_or_default(),
    };
    let report = match run(&cfg, &mut |l| eprintln!("{l}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("difffuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    for l in report.failures.iter().chain(&report.pending) {
        println!("{l}");
    }
    let shown = if cfg.verbose { usize::MAX } else { 10 };
    for l in report.oracle_rejects.iter().take(shown) {
        println!("{l}");
    }
    for (name, c) in &report.classes {
        if !c.oracle_rejects.is_empty() {
            let r: Vec<String> = c
                .oracle_rejects
                .iter()
                .map(|(m, n)| format!("{m}:{n}"))
                .collect();
            println!("rejected by qemu in {name}: {}", r.join(" "));
        }
    }
    println!(
        "{:<10} {:>8} {:>9} {:>8} {:>8} {:>6} {:>7}  unsupported (top)",
        "class", "compared", "mismatch", "pending", "rejected", "undef", "unsupp"
    );
    for (name, c) in &report.classes {
        let mut top: Vec<(&String, &usize)> = c.gen.unsupported.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        let total: usize = c.gen.unsupported.values().sum();
        let names: Vec<String> = top
            .iter()
            .take(6)
            .map(|(m, n)| format!("{m}:{n}"))
            .collect();
        println!(
            "{name:<10} {:>8} {:>9} {:>8} {:>8} {:>6} {:>7}  {}",
            c.compared,
            c.mismatches,
            c.pending,
            c.oracle_rejects.values().sum::<usize>(),
            c.undefined,
            total,
            names.join(" ")
        );
    }
    println!(
        "seed {}: {} cases compared, {} mismatches, {} pending, {} rejected by qemu",
        cfg.seed,
        report.compared(),
        report.failures.len(),
        report.pending.len(),
        report.oracle_rejects.len()
    );
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
