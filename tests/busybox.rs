//! busybox, translated, against busybox, native: Debian's busybox-static
//! 1.35 for arm64 is translated once, and every case of
//! `fixtures/busybox/cases.txt` runs with it and with the amd64 build of the
//! same version; stdout and exit status must be identical.
//!
//! The binaries come from `scripts/fetch-busybox.sh` (not committed). If
//! they are missing and cannot be fetched, the test is skipped on a laptop
//! and fails under `CI=true`. Cases in `fixtures/busybox/pending.txt` are
//! run too but only reported, each with the reason it cannot pass yet.
//!
//! Cost: one translation of busybox (about 40 s with a debug build of
//! vmxlate) plus about 150 short runs.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One invocation: a name and the arguments after `busybox`.
struct Case {
    name: String,
    args: Vec<String>,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, rest) = line
            .split_once('|')
            .unwrap_or_else(|| panic!("cases.txt:{}: no `|`", i + 1));
        let (name, rest) = (name.trim(), rest.trim());
        let args = match rest.strip_prefix("sh -c ") {
            Some(script) => vec!["sh".into(), "-c".into(), script.trim().into()],
            None => rest.split_whitespace().map(String::from).collect(),
        };
        assert!(
            !out.iter().any(|c| c.name == name),
            "cases.txt:{}: duplicate case {name}",
            i + 1
        );
        out.push(Case {
            name: name.into(),
            args,
        });
    }
    out
}

fn pending() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("fixtures/busybox/pending.txt"))
        .expect("fixtures/busybox/pending.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (n, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (n.to_string(), why.trim().to_string())
        })
        .collect()
}

/// The fetched busybox pair, fetching it if needed; `None` to skip.
fn busybox_pair() -> Option<(PathBuf, PathBuf)> {
    let dir = root().join("target/thirdparty/busybox");
    let arm = dir.join("busybox-arm64");
    let amd = dir.join("busybox-amd64");
    if !(arm.is_file() && amd.is_file()) {
        let fetched = Command::new(root().join("scripts/fetch-busybox.sh"))
            .status()
            .is_ok_and(|s| s.success());
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        if !(fetched && arm.is_file() && amd.is_file()) {
            assert!(
                !ci,
                "busybox could not be fetched (scripts/fetch-busybox.sh) and CI=true"
            );
            eprintln!("skipping: busybox not available (run scripts/fetch-busybox.sh)");
            return None;
        }
    }
    Some((arm, amd))
}

/// 2001-09-09 01:46:40 UTC, the mtime of every input file.
const FIXED_MTIME: u64 = 1_000_000_000;

/// Copies `from` into `to` recursively, then fixes every mtime.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create work dir");
    for e in std::fs::read_dir(from).expect("read input dir") {
        let e = e.expect("dir entry");
        let dst = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).expect("copy input file");
        }
        set_mtime(&dst);
    }
}

fn set_mtime(p: &Path) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_MTIME);
    let f = std::fs::File::open(p).expect("open for mtime");
    f.set_times(std::fs::FileTimes::new().set_accessed(t).set_modified(t))
        .expect("set mtime");
}

/// What one run produced.
#[derive(PartialEq, Eq)]
struct Outcome {
    stdout: Vec<u8>,
    status: String,
}

/// Runs `busybox ARGS` in a fresh copy of the inputs at `work`.
fn run(busybox: &Path, case: &Case, work: &Path) -> (Outcome, String) {
    if work.exists() {
        std::fs::remove_dir_all(work).expect("clean work dir");
    }
    copy_tree(&root().join("fixtures/busybox/input"), work);
    set_mtime(work);
    let mut child = Command::new(busybox)
        .args(&case.args)
        .current_dir(work)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", work)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn busybox");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).map(|_| buf)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = reader.join().expect("reader").unwrap_or_default();
    let stderr = err_reader.join().expect("reader").unwrap_or_default();
    let status = match status {
        None => "timeout".to_string(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => c.to_string(),
            (None, Some(sig)) => format!("signal {sig}"),
            _ => "unknown".to_string(),
        },
    };
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    (Outcome { stdout, status }, stderr)
}

fn first_line_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: translated {x:?}, native {y:?}", i + 1);
        }
    }
    format!(
        "{} lines translated, {} native",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn busybox_translated_matches_native() {
    let Some((arm, amd)) = busybox_pair() else {
        return;
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    // Both binaries are called `busybox`, so messages that name argv[0]
    // agree.
    let translated = scratch.path().join("translated/busybox");
    let native = scratch.path().join("native/busybox");
    std::fs::create_dir_all(translated.parent().unwrap()).unwrap();
    std::fs::create_dir_all(native.parent().unwrap()).unwrap();
    std::fs::copy(&amd, &native).expect("copy native busybox");
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg(&arm)
        .arg("-o")
        .arg(&translated)
        .output()
        .expect("run vmxlate");
    assert!(
        o.status.success(),
        "translating busybox failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("translated busybox in {:.1} s", t.elapsed().as_secs_f64());

    let text = std::fs::read_to_string(root().join("fixtures/busybox/cases.txt")).unwrap();
    let cases = parse_cases(&text);
    let pending = pending();
    for (name, _) in &pending {
        assert!(
            cases.iter().any(|c| &c.name == name),
            "pending.txt names unknown case {name}"
        );
    }
    let work = scratch.path().join("work");
    let (mut passed, mut failures, mut still_pending) = (0, Vec::new(), 0);
    for case in &cases {
        let (want, _) = run(&native, case, &work);
        let (got, stderr) = run(&translated, case, &work);
        let why = pending.iter().find(|(n, _)| n == &case.name).map(|p| &p.1);
        match (got == want, why) {
            (true, None) => passed += 1,
            (true, Some(_)) => eprintln!("pending case {} passes now: remove it", case.name),
            (false, Some(why)) => {
                still_pending += 1;
                eprintln!("pending {}: {why}", case.name);
            }
            (false, None) => failures.push(format!(
                "{}: status {} (native {}); {}; stderr: {}",
                case.name,
                got.status,
                want.status,
                first_line_difference(&got.stdout, &want.stdout),
                stderr.lines().take(3).collect::<Vec<_>>().join(" / ")
            )),
        }
    }
    eprintln!(
        "busybox: {passed} cases match, {} differ, {still_pending} pending",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} busybox case(s) differ from native busybox:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn case_table_parses() {
    let cases = parse_cases("# c\n\nx | echo a  b\ny | sh -c echo 'a | b' >f\n");
    assert_eq!(cases[0].args, ["echo", "a", "b"]);
    assert_eq!(cases[1].args, ["sh", "-c", "echo 'a | b' >f"]);
}
