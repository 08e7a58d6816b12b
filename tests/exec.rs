//! A translated program's `execve`, by target: an AArch64 program runs
//! translated through `vmxlate run` (its cache in a fresh directory); a
//! `#!` script and a host program run as they are; without a known
//! translator an AArch64 target fails with `ENOEXEC` and a clear message.
//!
//! qemu-user without binfmt_misc cannot execute an AArch64 program from a
//! guest, so these expectations are written from Linux semantics (the
//! child's output is the qemu-recorded `basic-hello` fixture output) rather
//! than recorded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn translate(binary: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg(root().join("fixtures/bin").join(binary))
        .arg("-o")
        .arg(out)
        .output()
        .expect("run vmxlate");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs the translated `sysproc` with `args`; `translator` is exported as
/// `VMXLATE` when given.
fn sysproc(exe: &Path, args: &[&str], cache: &Path, translator: Option<&str>) -> Output {
    let mut c = Command::new(exe);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("VMXLATE_CACHE", cache);
    if let Some(t) = translator {
        c.env("VMXLATE", t);
    }
    c.output().expect("run translated sysproc")
}

/// Translations in the cache (not their lock files).
fn cached(cache: &Path) -> usize {
    std::fs::read_dir(cache)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_none_or(|x| x != "lock")
        })
        .count()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn execve_by_target_kind() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("sysproc");
    translate("sysproc", &exe);
    let cache = dir.path().join("cache");
    let vmxlate = env!("CARGO_BIN_EXE_vmxlate");
    let basic = root().join("fixtures/bin/basic");
    let basic = basic.to_str().unwrap();

    // An AArch64 program runs translated (and is cached).
    let o = sysproc(&exe, &["exec", basic, "hello"], &cache, Some(vmxlate));
    let hello = std::fs::read(root().join("fixtures/expected/basic-hello.stdout")).unwrap();
    let mut want = hello;
    want.extend_from_slice(b"exec child: exited 0\n");
    assert_eq!(text(&o.stdout), text(&want), "stderr: {}", text(&o.stderr));
    assert_eq!(cached(&cache), 1);

    // Its exit status comes back; the translation is reused.
    let o = sysproc(&exe, &["exec", basic, "exit", "42"], &cache, Some(vmxlate));
    let exit42 = std::fs::read(root().join("fixtures/expected/basic-exit-42.stdout")).unwrap();
    assert_eq!(text(&o.stdout), text(&exit42) + "exec child: exited 42\n");
    assert_eq!(cached(&cache), 1);

    // The child sees the guest path as AT_EXECFN and /proc/self/exe, and
    // the argv[0] it was given; a relative path resolves against the cwd.
    let guest = root().join("fixtures/bin/sysproc");
    let guest = std::fs::canonicalize(guest).unwrap();
    let o = Command::new(&exe)
        .args(["exec", "./sysproc", "whoami"])
        .current_dir(guest.parent().unwrap())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("VMXLATE", vmxlate)
        .env("VMXLATE_CACHE", &cache)
        .output()
        .unwrap();
    let want = format!(
        "argv[0]=exec-child\nAT_EXECFN=./sysproc\n/proc/self/exe={}\nexec child: exited 0\n",
        guest.display()
    );
    assert_eq!(text(&o.stdout), want, "stderr: {}", text(&o.stderr));

    // A #! script for a host interpreter and a host program run as they are.
    let script = dir.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"script ran: $0 $1\"\nexit 3\n").unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&script, mode).unwrap();
    let s = script.to_str().unwrap();
    let o = sysproc(&exe, &["exec", s, "arg"], &cache, None);
    assert_eq!(
        text(&o.stdout),
        format!("script ran: {s} arg\nexec child: exited 3\n")
    );
    let o = sysproc(
        &exe,
        &["exec", "/bin/sh", "-c", "echo host sh"],
        &cache,
        None,
    );
    assert_eq!(text(&o.stdout), "host sh\nexec child: exited 0\n");

    // Without a translator an AArch64 target is refused, clearly.
    let o = sysproc(&exe, &["exec", basic, "hello"], &cache, None);
    assert_eq!(
        text(&o.stdout),
        "execv failed: ENOEXEC\nexec child: exited 126\n"
    );
    assert!(
        text(&o.stderr).contains("the translator is unknown"),
        "stderr: {}",
        text(&o.stderr)
    );
    let o = sysproc(&exe, &["exec", "/nonexistent"], &cache, Some(vmxlate));
    assert_eq!(
        text(&o.stdout),
        "execv failed: ENOENT\nexec child: exited 126\n"
    );
}
