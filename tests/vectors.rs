//! Instruction vectors (`tests/vectors/*.txt`): each line runs translated
//! through the difffuzz harness and must give the expected registers,
//! flags and FPSR; qemu-aarch64 cross-checks the vectors themselves.
//! Vectors whose note starts with `pending` name the issue that will make
//! vmxlate pass them; their vmxlate mismatches are reported, not failures.
//!
//! Needs `aarch64-linux-gnu-as` (text vectors) and `qemu-aarch64` (the
//! cross-check): skipped without them on a bare machine, a failure under
//! CI=true.

use std::path::{Path, PathBuf};

use difffuzz::vectors;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

#[test]
fn instruction_vectors() {
    let qemu = difffuzz::exec::qemu();
    let assembler = tool("aarch64-linux-gnu-as");
    if qemu.is_none() || assembler.is_none() {
        assert!(
            !in_ci(),
            "CI=true but qemu-aarch64 or aarch64-linux-gnu-as is missing"
        );
        eprintln!("skipped: qemu-aarch64 or aarch64-linux-gnu-as is not installed");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/vectors"))
        .expect("tests/vectors")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        all.extend(vectors::parse(f).unwrap_or_else(|e| panic!("{e}")));
    }
    vectors::assemble(&mut all, assembler.as_deref().expect("checked"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = vectors::run(&all, qemu.as_deref().map(Path::new)).expect("run vectors");
    for p in &out.pending {
        eprintln!("pending: {p}");
    }
    assert!(out.run > 50, "only {} vectors ran", out.run);
    assert!(
        out.failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        out.failures.len(),
        out.run,
        out.failures.join("\n")
    );
}
