//! End-to-end tests: every case in `fixtures/cases.txt` is translated, run,
//! and compared byte for byte (stdout) and exactly (exit status or fatal
//! signal) with the outputs `qemu-aarch64` recorded in `fixtures/expected/`.
//!
//! Cases listed in `fixtures/pending.txt` name the open issue that makes
//! them pass; they are reported, not run, so the suite states plainly what
//! does not work yet.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Case {
    name: String,
    binary: String,
    args: Vec<String>,
    stdin: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(root().join("fixtures/cases.txt")).expect("cases.txt");
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        assert!(cols.len() >= 2, "malformed case line: {line}");
        let args = cols.get(2).map_or(Vec::new(), |a| {
            a.split_whitespace().map(String::from).collect()
        });
        let stdin = cols.get(3).and_then(|f| {
            f.split_whitespace()
                .find_map(|kv| kv.strip_prefix("stdin=").map(String::from))
        });
        out.push(Case {
            name: cols[0].to_string(),
            binary: cols[1].to_string(),
            args,
            stdin,
        });
    }
    out
}

/// Cases that cannot pass yet, with the issue that will make them pass.
fn pending() -> &'static HashMap<String, String> {
    static P: OnceLock<HashMap<String, String>> = OnceLock::new();
    P.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("fixtures/pending.txt")).unwrap_or_default();
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (name, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
                (name.to_string(), why.trim().to_string())
            })
            .collect()
    })
}

fn translate(binary: &str, out: &Path) {
    let input = root().join("fixtures/bin").join(binary);
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg(&input)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run vmxlate");
    assert!(
        o.status.success(),
        "translating {binary} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `exe` for `case` with the extra environment `env`; returns
/// (stdout, status text as in .status files).
fn run(exe: &Path, case: &Case, env: &[(&str, &str)]) -> (Vec<u8>, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{tmpdir}", &tmp.path().to_string_lossy()))
        .collect();
    let stdin = match &case.stdin {
        Some(p) => {
            Stdio::from(std::fs::File::open(root().join("fixtures").join(p)).expect("stdin"))
        }
        None => Stdio::null(),
    };
    let mut child = Command::new(exe)
        .args(&args)
        .env_clear()
        .env("VMX_TEST_VAR", "hello-from-test")
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn translated program");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            let _ = child.wait();
            return (Vec::new(), "timeout".to_string());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().expect("reader").expect("read stdout");
    let st = match (status.code(), status.signal()) {
        (Some(c), _) => c.to_string(),
        (None, Some(s)) => format!("signal {s}"),
        _ => "unknown".to_string(),
    };
    (out, st)
}

fn check_binary(binary: &str) {
    check_binary_env(binary, &[]);
}

/// Checks every case of `binary` run with the extra environment `env`.
fn check_binary_env(binary: &str, env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join(binary);
    translate(binary, &exe);
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in cases().iter().filter(|c| c.binary == binary) {
        if let Some(why) = pending().get(&case.name) {
            eprintln!("pending {}: {why}", case.name);
            continue;
        }
        let exp_dir = root().join("fixtures/expected");
        let want_out =
            std::fs::read(exp_dir.join(format!("{}.stdout", case.name))).expect("expected stdout");
        let want_st = std::fs::read_to_string(exp_dir.join(format!("{}.status", case.name)))
            .expect("expected status")
            .trim()
            .to_string();
        let (out, st) = run(&exe, case, env);
        if out != want_out || st != want_st {
            let first_diff = out
                .iter()
                .zip(want_out.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(out.len().min(want_out.len()));
            failures.push(format!(
                "{}: status {st} (want {want_st}); stdout {} bytes (want {}), first difference at byte {first_diff}",
                case.name,
                out.len(),
                want_out.len()
            ));
        } else {
            passed += 1;
        }
    }
    eprintln!("{binary}: {passed} cases passed");
    assert!(
        failures.is_empty(),
        "{} case(s) differ from qemu-aarch64:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// x86-64-v2 output runs the FMA clones of functions that use fused
/// multiply-add where the host has FMA (`backend/fma_clone.rs`), as every
/// other test here does on such a host; with the host FMA turned off it
/// runs the plain v2 functions, which must give the same results.
#[test]
fn fpmath_without_host_fma() {
    check_binary_env("fpmath", &[("VMXLATE_HOST_FMA", "0")]);
}

#[test]
fn basic() {
    check_binary("basic");
}

#[test]
fn basic_pie() {
    check_binary("basic-pie");
}

#[test]
fn alloc() {
    check_binary("alloc");
}

#[test]
fn fileio() {
    check_binary("fileio");
}

#[test]
fn compute() {
    check_binary("compute");
}

#[test]
fn threads() {
    check_binary("threads");
}

#[test]
fn strings() {
    check_binary("strings");
}

#[test]
fn strings_stripped() {
    check_binary("strings-stripped");
}

#[test]
fn vector() {
    check_binary("vector");
}

#[test]
fn conds() {
    check_binary("conds");
}

#[test]
fn fpmath() {
    check_binary("fpmath");
}

#[test]
fn mt() {
    check_binary("mt");
}

#[test]
fn mtcxx() {
    check_binary("mtcxx");
}

#[test]
fn sysproc() {
    check_binary("sysproc");
}

#[test]
fn sysio() {
    check_binary("sysio");
}

#[test]
fn jit() {
    check_binary("jit");
}

#[test]
fn progs() {
    check_binary("progs");
}

#[test]
fn progscxx() {
    check_binary("progscxx");
}
