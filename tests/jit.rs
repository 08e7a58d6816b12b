//! The run-time JIT and the profile loop, end to end.
//!
//! `fixtures/bin/jit` calls routines that ahead-of-time discovery cannot
//! find (see `fixtures/src/jit.c`): translated without the JIT they are
//! fatal; with it they run and match what qemu-aarch64 recorded; the PCs
//! the JIT compiled, written to `VMXLATE_PROFILE`, let the next
//! translation find everything ahead of time.
//!
//! Busybox (`scripts/fetch-busybox.sh`, not committed): applets whose code
//! was reached only through the JIT (sed's switch at 0x545a74, dc, bc) are
//! compared with qemu-aarch64 running the same binary. Skipped when
//! busybox has not been fetched, or (outside `CI=true`) without qemu.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn vmxlate(args: &[&std::ffi::OsStr]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .args(args)
        .output()
        .expect("run vmxlate");
    assert!(
        o.status.success(),
        "vmxlate {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn translate(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![input.as_os_str(), "-o".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    vmxlate(&args);
}

fn run(exe: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(exe);
    c.args(args)
        .env_clear()
        .env("VMX_TEST_VAR", "hello-from-test")
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run translated program")
}

fn expected(case: &str) -> Vec<u8> {
    std::fs::read(root().join(format!("fixtures/expected/{case}.stdout"))).expect("expected")
}

#[test]
fn hidden_code_is_fatal_without_the_jit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("jit");
    translate(&root().join("fixtures/bin/jit"), &exe, &["--no-jit"]);
    let o = run(&exe, &["squares"], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no translation for guest PC"), "stderr: {err}");
    assert_eq!(o.status.signal(), Some(11), "dies by SIGSEGV");
}

#[test]
fn jit_profile_seeds_the_next_translation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = root().join("fixtures/bin/jit");
    let exe = dir.path().join("jit");
    let profile = dir.path().join("jit.vmxprof");
    translate(&input, &exe, &[]);
    for case in ["calls", "switch"] {
        let o = run(
            &exe,
            &[case],
            &[
                ("VMXLATE_PROFILE", &profile),
                ("VMXLATE_LOG", Path::new("jit")),
            ],
        );
        assert_eq!(o.stdout, expected(&format!("jit-{case}")), "jit-{case}");
        assert_eq!(o.status.code(), Some(0));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("vmxlate: jit: 0x"), "JIT log: {err}");
    }
    // `calls` reaches all three routines; the second run appends pick's PC
    // again, without a header (the file is not empty).
    let p = vmxlate::profile::read(&profile).expect("profile parses");
    assert_eq!(p.jit.len(), 3, "{p:?}");

    // Retranslated with the profile, everything is found ahead of time:
    // no JIT needed.
    let pgo = dir.path().join("jit-pgo");
    let prof = profile.to_str().expect("utf-8 path");
    translate(&input, &pgo, &["--no-jit", "--profile", prof]);
    for case in ["squares", "switch", "calls"] {
        let o = run(&pgo, &[case], &[]);
        assert_eq!(o.stdout, expected(&format!("jit-{case}")), "pgo jit-{case}");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn bad_profiles_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.vmxprof");
    std::fs::write(&bad, "vmxlate-profile 9\n").expect("write");
    for profile in [bad, dir.path().join("missing")] {
        let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
            .arg(root().join("fixtures/bin/jit"))
            .arg("-o")
            .arg(dir.path().join("out"))
            .arg("--profile")
            .arg(&profile)
            .output()
            .expect("run vmxlate");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("vmxlate: error: "), "{err}");
        assert!(err.contains("profile"), "{err}");
        assert!(!dir.path().join("out").exists());
    }
}

/// Busybox applets that needed the JIT before discovery learned spilled
/// table addresses; compared with qemu-aarch64.
#[test]
fn busybox_applets_match_qemu() {
    let bb = root().join("target/thirdparty/busybox/busybox-arm64");
    if !bb.exists() {
        eprintln!("skipped: run scripts/fetch-busybox.sh to test busybox");
        return;
    }
    let qemu_ok = Command::new("qemu-aarch64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !qemu_ok {
        assert!(!in_ci(), "qemu-aarch64 is required under CI=true");
        eprintln!("skipped: no qemu-aarch64");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("busybox");
    translate(&bb, &exe, &[]);
    let readme = root().join("README.md");
    let readme = readme.to_str().expect("utf-8 path");
    let cases: [&[&str]; 5] = [
        &["sed", "s/a/b/g;s/^#/%/", readme],
        &["sed", "-n", "/vmxlate/{p;=}", readme],
        &["dc", "-e", "2 64 ^ p 7 3 / p"],
        &["awk", "{ n += NF } END { print n, NR }", readme],
        &["sort", "-r", readme],
    ];
    for args in cases {
        let ours = run(&exe, args, &[]);
        let theirs = Command::new("qemu-aarch64")
            .arg("-0")
            .arg("busybox")
            .arg(&bb)
            .args(args)
            .env_clear()
            .env("VMX_TEST_VAR", "hello-from-test")
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .output()
            .expect("run qemu-aarch64");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "busybox {args:?}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
}
