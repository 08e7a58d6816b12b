//! `vmxlate run [--argv0 NAME] [--] PROGRAM [ARGS...]`: translate if needed
//! and run, as a drop-in for `qemu-aarch64` and as the path a translated
//! program's `execve` of an AArch64 program takes.
//!
//! Translations live in a content-addressed cache: `$VMXLATE_CACHE`, else
//! `$XDG_CACHE_HOME/vmxlate`, else `$HOME/.cache/vmxlate`. An entry is named
//! by the SHA-256 of the guest file and a stamp of the translator that made
//! it (this binary's and the runtime archive's size and modification time,
//! and the crate version), so a rebuilt translator never reuses stale code.
//! An entry appears atomically (written to a temporary file, then renamed),
//! and is made under an exclusive lock on `ENTRY.lock`, so concurrent runs
//! of one program translate it once.
//!
//! The translation is then executed in place of this process with
//! `argv[0]` = NAME (default: PROGRAM as given), `VMXLATE` = this binary
//! (so the program's own `execve`s of AArch64 programs come back here) and
//! `VMXLATE_EXECFN` = PROGRAM (its `AT_EXECFN` and `/proc/self/exe`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::backend::{CpuLevel, Options};

/// Exit status when the program cannot be translated or started (as a
/// shell reports a command it found but cannot execute).
pub const CANNOT_EXECUTE: u8 = 126;

/// What `vmxlate run` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// `argv[0]` for the program.
    pub argv0: OsString,
    /// The guest program file.
    pub program: PathBuf,
    /// Arguments after `argv[0]`.
    pub args: Vec<OsString>,
}

/// Parses the arguments after `run`.
pub fn parse(args: &[OsString]) -> Result<Request, String> {
    let mut argv0 = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_bytes() {
            b"--argv0" => {
                argv0 = Some(args.get(i + 1).ok_or("--argv0 needs a value")?.clone());
                i += 2;
            }
            b"--" => {
                i += 1;
                break;
            }
            a if a.starts_with(b"-") && a.len() > 1 => {
                return Err(format!("unknown option {}", args[i].to_string_lossy()))
            }
            _ => break,
        }
    }
    let program = args
        .get(i)
        .ok_or("usage: vmxlate run [--argv0 NAME] [--] PROGRAM [ARGS...]")?;
    Ok(Request {
        argv0: argv0.unwrap_or_else(|| program.clone()),
        program: PathBuf::from(program),
        args: args[i + 1..].to_vec(),
    })
}

/// The cache directory from the environment.
pub fn cache_dir() -> Result<PathBuf, String> {
    let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    if let Some(d) = var("VMXLATE_CACHE") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("vmxlate"));
    }
    var("HOME")
        .map(|h| PathBuf::from(h).join(".cache/vmxlate"))
        .ok_or_else(|| "no cache directory (set VMXLATE_CACHE or HOME)".to_string())
}

/// A stamp of the translator: changes whenever this binary or the runtime
/// archive it links into outputs changes.
fn translator_stamp() -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate vmxlate: {e}"))?;
    let runtime = crate::link::find_runtime()?;
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for p in [&exe, &runtime] {
        let m = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        h.update(p.as_os_str().as_bytes());
        for v in [m.len() as i64, m.mtime(), m.mtime_nsec()] {
            h.update(v.to_le_bytes());
        }
    }
    Ok(hex(&h.finalize()[..8]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache entry for `program`, translating it first if it is missing.
pub fn cached_translation(program: &Path, dir: &Path) -> Result<PathBuf, String> {
    let bytes =
        std::fs::read(program).map_err(|e| format!("cannot read '{}': {e}", program.display()))?;
    let name = format!("{}-{}", hex(&Sha256::digest(&bytes)), translator_stamp()?);
    let entry = dir.join(name);
    if entry.is_file() {
        return Ok(entry);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create cache directory {}: {e}", dir.display()))?;
    // One translation per entry at a time: concurrent runs of the same
    // program wait for the first instead of translating it again.
    let lock_path = entry.with_extension("lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if entry.is_file() {
        return Ok(entry);
    }
    // `translate` writes through a temporary file and renames it into
    // place, so the entry is complete whenever it exists.
    let opts = Options {
        cpu: CpuLevel::V2,
        strict_abi: false,
        verify: false,
        jit: true,
    };
    crate::driver::translate(program, &entry, opts)?;
    Ok(entry)
}

/// Runs `vmxlate run` with the arguments after `run`; returns only on
/// failure, with the message to print.
pub fn run(args: &[OsString]) -> String {
    let req = match parse(args) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let exe = match cache_dir().and_then(|d| cached_translation(&req.program, &d)) {
        Ok(e) => e,
        Err(e) => return e,
    };
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("vmxlate"));
    let err = Command::new(&exe)
        .arg0(&req.argv0)
        .args(&req.args)
        .env("VMXLATE", &me)
        .env("VMXLATE_EXECFN", OsStr::new(&req.program))
        .exec();
    format!("cannot execute {}: {err}", exe.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_options_and_program_arguments() {
        let r = parse(&os(&["--argv0", "ls", "--", "/bin/ls", "-l", "--argv0"])).unwrap();
        assert_eq!(r.argv0, "ls");
        assert_eq!(r.program, PathBuf::from("/bin/ls"));
        assert_eq!(r.args, os(&["-l", "--argv0"]));
        let r = parse(&os(&["prog", "--x"])).unwrap();
        assert_eq!((r.argv0.as_os_str(), r.args.len()), (OsStr::new("prog"), 1));
        assert!(parse(&os(&["--bogus", "prog"])).is_err());
        assert!(parse(&os(&["--argv0"])).is_err());
        assert!(parse(&os(&[])).is_err());
    }
}
