//! Bad input never panics, never leaves or clobbers an output file (nor a
//! temporary file under `$TMPDIR`), and always gives one line on stderr
//! with a non-zero exit status.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs vmxlate on `input`; asserts the error contract; returns stderr.
fn rejects(input: &Path, want: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let tmpdir = tempfile::tempdir().expect("tempdir");
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg(input)
        .arg("-o")
        .arg(&out)
        .env("RUST_BACKTRACE", "1")
        .env("TMPDIR", tmpdir.path())
        .output()
        .expect("run vmxlate");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "exit status for {input:?}: {err}");
    assert_eq!(err.lines().count(), 1, "want one line, got: {err}");
    assert!(err.starts_with("vmxlate: error: "), "{err}");
    assert!(err.contains(want), "want {want:?} in {err}");
    assert!(!out.exists(), "an output file was left behind");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("readdir").collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let in_tmp: Vec<_> = std::fs::read_dir(tmpdir.path()).expect("readdir").collect();
    assert!(in_tmp.is_empty(), "files left in TMPDIR: {in_tmp:?}");
    err
}

#[test]
fn missing_file() {
    rejects(Path::new("/nonexistent/prog"), "No such file");
}

#[test]
fn text_file() {
    rejects(&root().join("fixtures/cases.txt"), "not an ELF");
}

#[test]
fn x86_64_elf() {
    rejects(Path::new("/bin/true"), "x86-64");
}

#[test]
fn dynamically_linked() {
    rejects(
        &root().join("fixtures/bin/dynamic-hello"),
        "dynamically linked programs are not supported yet",
    );
}

#[test]
fn truncated_elfs() {
    let full = std::fs::read(root().join("fixtures/bin/basic")).expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    for len in [0usize, 4, 16, 63, 64, 100, 4096, 65536, full.len() / 2] {
        let p = dir.path().join(format!("trunc-{len}"));
        std::fs::write(&p, &full[..len]).expect("write");
        rejects(&p, "");
    }
}

#[test]
fn failed_run_keeps_existing_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("keep");
    std::fs::write(&out, b"precious").expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg("/bin/true")
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run vmxlate");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&out).expect("read"), b"precious");
}

#[test]
fn bad_usage_exits_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg("--no-such-option")
        .output()
        .expect("run vmxlate");
    assert_eq!(o.status.code(), Some(2));
}
