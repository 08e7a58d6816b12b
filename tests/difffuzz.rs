//! The differential fuzzer in CI: a fixed seed and a bounded count of
//! random instructions per class, run under qemu-aarch64 and translated.
//! Any difference fails, except on mnemonics listed in
//! `tools/difffuzz/pending.txt` (each names the issue that fixes it),
//! which are reported. Cases qemu rejects (encodings the decoder accepts
//! but the architecture leaves unallocated) are reported, not failures.
//!
//! Skipped without qemu-aarch64 on a bare machine; a failure under
//! CI=true. Bounded: 1000 cases per class.

use std::path::PathBuf;

use difffuzz::classes::CLASSES;
use difffuzz::fuzz::{run, Config};

/// Seed and count of the CI run; `scripts/fuzz.sh` runs longer.
const SEED: u64 = 20261121;
const COUNT: usize = 1000;

#[test]
fn differential_fuzz_all_classes() {
    if difffuzz::exec::qemu().is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but qemu-aarch64 is missing"
        );
        eprintln!("skipped: qemu-aarch64 is not installed");
        return;
    }
    let pending = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pending.txt");
    let cfg = Config {
        seed: SEED,
        count: COUNT,
        classes: CLASSES.iter().collect(),
        batch: 2000,
        only: None,
        verbose: false,
        pending: difffuzz::read_pending(&pending),
    };
    let report = run(&cfg, &mut |l| eprintln!("{l}")).expect("fuzzer runs");
    for (name, c) in &report.classes {
        eprintln!(
            "{name}: {} compared, {} mismatches, {} pending, {} rejected by qemu, {} unsupported",
            c.compared,
            c.mismatches,
            c.pending,
            c.oracle_rejects.values().sum::<usize>(),
            c.gen.unsupported.values().sum::<usize>()
        );
    }
    for l in &report.pending {
        eprintln!("{l}");
    }
    assert!(
        report.compared() >= 1000,
        "only {} cases compared",
        report.compared()
    );
    assert!(
        report.failures.is_empty(),
        "{} mismatches against qemu-aarch64:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}

/// Regression: a data word equal to an address inside a function makes
/// discovery split the function there; the flags set before the split
/// must reach the code after it (fuzzer finding, `msr nzcv; mov x2, x1`).
#[test]
fn flags_survive_a_function_split() {
    use difffuzz::gen::Case;
    use difffuzz::layout::State;
    const MOV_X2_X1: u32 = 0xaa01_03e2;
    const NZCV: u64 = 0x9000_0000; // N and V, set by the case's MSR NZCV
    let case = |x5: u64| Case {
        class: "split",
        index: 0,
        words: vec![MOV_X2_X1],
        state: {
            let mut x = [0; 31];
            x[5] = x5;
            State {
                nzcv: NZCV,
                x,
                ..Default::default()
            }
        },
        rel: vec![],
        literal: None,
        clrex: false,
        undefined: false,
    };
    let elf = difffuzz::program::build(&[case(0)], &[0], false).elf;
    let at = elf
        .windows(4)
        .position(|w| w == MOV_X2_X1.to_le_bytes())
        .expect("the case's instruction");
    let addr = difffuzz::program::TEXT + at as u64;
    for x5 in [0, addr, addr + 4] {
        let p = difffuzz::program::build(&[case(x5)], &[0], false);
        let dir = tempfile::tempdir().unwrap();
        let (elf, exe) = (dir.path().join("a.elf"), dir.path().join("a"));
        std::fs::write(&elf, &p.elf).unwrap();
        difffuzz::exec::translate(&elf, &exe).unwrap();
        let out = std::process::Command::new(&exe).output().unwrap();
        let s = State::from_bytes(&out.stdout);
        assert_eq!(s.nzcv, NZCV, "x5 = {x5:#x}");
    }
}
