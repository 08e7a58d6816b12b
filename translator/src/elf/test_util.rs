//! Test inputs for the `elf` rooms: real AArch64 binaries, either the
//! checked-in fixtures or programs cross-compiled at test time.
//!
//! Invariant: a missing cross compiler skips a test (returns `None`) except
//! under `CI=true`, where it is a failure (the project rule).

use std::path::PathBuf;
use std::process::Command;

/// The cross compiler tests use.
const CC: &str = "aarch64-linux-gnu-gcc";

/// Whether missing tools must fail the test instead of skipping it.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Compiles C source `src` with `CC` and `flags` into a static program and
/// returns its bytes; `None` (skip) if there is no cross compiler outside
/// CI.
pub(crate) fn compile(src: &str, flags: &[&str]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let c = dir.path().join("prog.c");
    let out = dir.path().join("prog");
    std::fs::write(&c, src).expect("write C source");
    let status = Command::new(CC)
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .status();
    match status {
        Ok(s) if s.success() => Some(std::fs::read(&out).expect("read compiled program")),
        Ok(s) => panic!("{CC} failed ({s}) on test program"),
        Err(e) if !in_ci() => {
            eprintln!("skipping: {CC} not available ({e})");
            None
        }
        Err(e) => panic!("{CC} is required under CI=true: {e}"),
    }
}

/// A fixture binary from `fixtures/bin/`, if it has been built.
pub(crate) fn fixture(name: &str) -> Option<Vec<u8>> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "fixtures", "bin", name]
        .iter()
        .collect();
    std::fs::read(path).ok()
}

/// A static AArch64 program to feed the loader: a fixture if present,
/// otherwise a freshly compiled hello world.
pub(crate) fn some_static_binary() -> Option<Vec<u8>> {
    fixture("basic").or_else(|| {
        compile(
            "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
            &["-O2", "-static"],
        )
    })
}

/// A small deterministic pseudo-random generator (xorshift64*).
pub(crate) struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random value.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
