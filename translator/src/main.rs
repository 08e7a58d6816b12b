//! `vmxlate`: the command-line front end.
//!
//! Exit status: 0 on success, 1 on an error (one line on stderr), 2 on bad
//! usage (clap's convention).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use vmxlate::backend::{CpuLevel, Options};

/// Translate a static AArch64 Linux program into an x86-64 Linux executable.
#[derive(Parser)]
#[command(name = "vmxlate", version, about, long_about = None)]
struct Cli {
    /// The AArch64 ELF executable to translate (static, ET_EXEC or static-pie).
    input: PathBuf,
    /// Where to write the x86-64 executable.
    #[arg(short, long)]
    output: PathBuf,
    /// CPU level the output may assume.
    #[arg(long, value_enum, default_value = "v2")]
    cpu: Cpu,
    /// Assume nothing of called functions beyond the architecture: keep
    /// the NZCV flags across calls and returns and reload callee-saved
    /// registers after calls (for hand-written assembly that breaks
    /// AAPCS64).
    #[arg(long, alias = "strict-flags")]
    strict_abi: bool,
    /// Run the Cranelift verifier on every function (slower).
    #[arg(long)]
    verify: bool,
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
    if let Some(name) = &cli.dump_ir {
        if let Err(e) = dump_ir(&cli.input, name) {
            eprintln!("vmxlate: error: {e}");
            return ExitCode::from(1);
        }
    }
    let opts = Options {
        cpu: match cli.cpu {
            Cpu::V2 => CpuLevel::V2,
            Cpu::V3 => CpuLevel::V3,
        },
        strict_abi: cli.strict_abi,
        verify: cli.verify,
    };
    match vmxlate::driver::translate(&cli.input, &cli.output, opts) {
        Ok(r) => {
            if cli.verbose {
                eprintln!(
                    "vmxlate: {} functions ({} bound to host libc routines), {} instructions ({} untranslatable), {} bytes of code",
                    r.functions, r.bound, r.insts, r.traps, r.code_bytes
                );
                for (phase, d) in &r.phases {
                    eprintln!("vmxlate: {phase}: {:.1} ms", d.as_secs_f64() * 1e3);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vmxlate: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn dump_ir(input: &std::path::Path, name: &str) -> Result<(), String> {
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
