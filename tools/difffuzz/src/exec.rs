//! Running a batch program both ways: under `qemu-aarch64` (the oracle)
//! and translated in-process by the `vmxlate` library, each with a
//! deadline, collecting stdout (the records) and how the process ended.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vmxlate::backend::{CpuLevel, Options};

/// How long one batch may run.
const DEADLINE: Duration = Duration::from_secs(120);

/// What a run produced.
pub struct Ran {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// `exit N`, `signal N`, or `timeout`, plus the first stderr line.
    pub status: String,
}

/// The oracle: `$QEMU_AARCH64`, else `qemu-aarch64` on PATH.
pub fn qemu() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("QEMU_AARCH64") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("qemu-aarch64"))
            .find(|p| p.is_file())
    })
}

/// Starts `cmd` with stdout and stderr piped, in an empty environment but
/// for `VMXLATE_HOST_FMA` (which selects the translated code's FMA path,
/// so both paths can be fuzzed on one host).
pub fn spawn(mut cmd: Command) -> Result<Child, String> {
    cmd.env_clear();
    if let Some(v) = std::env::var_os("VMXLATE_HOST_FMA") {
        cmd.env("VMXLATE_HOST_FMA", v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))
}

/// Waits for `child` (killing it after the deadline).
pub fn wait(mut child: Child) -> Ran {
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => {
                break match (s.code(), s.signal()) {
                    (Some(c), _) => format!("exit {c}"),
                    (_, Some(sig)) => format!("signal {sig}"),
                    _ => "unknown".into(),
                }
            }
            Ok(None) if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                break "timeout".into();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => break format!("wait failed: {e}"),
        }
    };
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let first = String::from_utf8_lossy(&stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    Ran {
        stdout,
        status: if first.is_empty() {
            status
        } else {
            format!("{status} ({first})")
        },
    }
}

/// The CPU level translated code targets: x86-64-v2, or v3 when
/// `DIFFFUZZ_CPU=v3`.
fn cpu_level() -> CpuLevel {
    match std::env::var("DIFFFUZZ_CPU").as_deref() {
        Ok("v3") => CpuLevel::V3,
        _ => CpuLevel::V2,
    }
}

/// Whether the translated programs will emulate fused multiply-add: at
/// x86-64-v2 on a host without FMA, or with `VMXLATE_HOST_FMA=0` (the
/// runtime's switch, passed through by [`spawn`]).
pub fn emulated_fma() -> bool {
    let off = std::env::var_os("VMXLATE_HOST_FMA").is_some_and(|v| v == "0");
    cpu_level() == CpuLevel::V2 && (off || !std::arch::is_x86_feature_detected!("fma"))
}

/// Translates `elf` into the executable `exe` for [`cpu_level`]; a panic in
/// the translator is an error too.
pub fn translate(elf: &Path, exe: &Path) -> Result<(), String> {
    let cpu = cpu_level();
    let opts = Options {
        cpu,
        // The harness's glue is assembly that passes every register through
        // `RET` and tail calls (`load_state`, `B dump`), which AAPCS64 does
        // not: only strict translation stores them all there.
        strict_abi: true,
        verify: false,
        // Every case is found ahead of time; a miss must fail loudly.
        jit: false,
    };
    match catch_unwind(AssertUnwindSafe(|| {
        vmxlate::driver::translate(elf, exe, opts)
    })) {
        Ok(r) => r.map(|_| ()),
        Err(e) => Err(format!(
            "translator panicked: {}",
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}
