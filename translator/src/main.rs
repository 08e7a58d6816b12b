//! `vmxlate`: the command-line front end.
//!
//! `vmxlate PROG -o OUT` translates; `vmxlate inspect PROG` reports what
//! translation finds without writing anything; `vmxlate run PROG ARGS...`
//! translates (through a cache) and runs.
//!
//! Exit status: 0 on success, 1 on an error (one line on stderr), 2 on bad
//! usage (clap's convention).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vmxlate::backend::{CpuLevel, Options};

/// Translate a static AArch64 Linux program into an x86-64 Linux executable.
#[derive(Parser)]
#[command(
    name = "vmxlate",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    translate: Translate,
}

#[derive(Subcommand)]
enum Command {
    /// Report what translation finds in PROG: functions, instructions, code
    /// coverage and its gaps, unresolved indirect branches, and the
    /// instructions that would become traps (listed apart: those of
    /// extensions not advertised in HWCAP, such as SVE and MTE, which trap
    /// as on a CPU without them).
    Inspect {
        /// The AArch64 ELF executable to inspect.
        input: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Seed discovery with the PCs of this profile, as translation would.
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
    },
}

#[derive(Args)]
struct Translate {
    /// The AArch64 ELF executable to translate (static, ET_EXEC or static-pie).
    #[arg(required = true)]
    input: Option<PathBuf>,
    /// Where to write the x86-64 executable.
    #[arg(short, long, required = true)]
    output: Option<PathBuf>,
    /// CPU level the output may assume.
    #[arg(long, value_enum, default_value = "v2")]
    cpu: Cpu,
    /// Assume nothing of called functions beyond the architecture: keep
    /// the NZCV flags and every register across calls, tail calls and
    /// returns (for hand-written assembly that breaks AAPCS64).
    #[arg(long, alias = "strict-flags")]
    strict_abi: bool,
    /// Run the Cranelift verifier on every function (slower).
    #[arg(long)]
    verify: bool,
    /// Leave the run-time JIT out: code that discovery missed is then a
    /// fatal "no translation" error when reached (smaller output).
    #[arg(long)]
    no_jit: bool,
    /// Seed discovery with the guest PCs a translated run JIT-compiled
    /// (written where VMXLATE_PROFILE pointed it).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Print the IR of the function with this symbol name or address, then
    /// continue.
    #[arg(long, value_name = "FUNCTION")]
    dump_ir: Option<String>,
    /// Print timings and counts.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Cpu {
    /// x86-64-v2 (SSE4.2, POPCNT): runs on any x86-64 from the last 15 years.
    /// Fused multiply-add still uses the host's FMA when the CPU running
    /// the output has it (VMXLATE_HOST_FMA=0 forces the emulation).
    V2,
    /// x86-64-v3 (AVX2, BMI2, FMA).
    V3,
}

fn main() -> ExitCode {
    // `vmxlate run [--argv0 NAME] [--] PROGRAM [ARGS...]` passes PROGRAM's
    // arguments through untouched, so it is parsed apart from the CLI below.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "run") {
        eprintln!("vmxlate: error: {}", vmxlate::run::run(&args[2..]));
        return ExitCode::from(vmxlate::run::CANNOT_EXECUTE);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Inspect {
            input,
            json,
            profile,
        }) => inspect(&input, json, profile.as_deref()),
        None => translate(&cli.translate),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vmxlate: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn seeds(profile: Option<&Path>) -> Result<Vec<u64>, String> {
    Ok(match profile {
        Some(p) => vmxlate::profile::read(p)?.jit,
        None => Vec::new(),
    })
}

fn inspect(input: &Path, json: bool, profile: Option<&Path>) -> Result<(), String> {
    let seeds = seeds(profile)?;
    let image = vmxlate::driver::load(input)?;
    let report = vmxlate::inspect::inspect(&image, &seeds);
    let text = if json {
        report.to_json()
    } else {
        report.to_text()
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

fn translate(cli: &Translate) -> Result<(), String> {
    let (Some(input), Some(output)) = (&cli.input, &cli.output) else {
        unreachable!("clap requires INPUT and --output without a subcommand")
    };
    if let Some(name) = &cli.dump_ir {
        dump_ir(input, name)?;
    }
    let seeds = seeds(cli.profile.as_deref())?;
    let opts = Options {
        cpu: match cli.cpu {
            Cpu::V2 => CpuLevel::V2,
            Cpu::V3 => CpuLevel::V3,
        },
        strict_abi: cli.strict_abi,
        verify: cli.verify,
        jit: !cli.no_jit,
    };
    let r = vmxlate::driver::translate_with(input, output, opts, &seeds)?;
    if cli.verbose {
        eprintln!(
            "vmxlate: {} functions ({} bound to host libc routines), {} instructions ({} untranslatable), {} bytes of code",
            r.functions, r.bound, r.insts, r.traps, r.code_bytes
        );
        eprintln!(
            "vmxlate: {} indirect branches (BR) not resolved to jump tables; {} profile seeds",
            r.unresolved_branches,
            seeds.len()
        );
        for (phase, d) in &r.phases {
            eprintln!("vmxlate: {phase}: {:.1} ms", d.as_secs_f64() * 1e3);
        }
    }
    Ok(())
}

fn dump_ir(input: &Path, name: &str) -> Result<(), String> {
    let image = vmxlate::driver::load(input)?;
    let (funcs, _) = vmxlate::driver::lift_all(&image);
    let addr = u64::from_str_radix(name.trim_start_matches("0x"), 16).ok();
    let f = funcs
        .iter()
        .find(|f| f.name == name || Some(f.entry_pc) == addr)
        .ok_or_else(|| format!("no function named {name}"))?;
    print!("{f}");
    Ok(())
}
