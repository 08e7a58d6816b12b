//! `vmxlate inspect`: the report on real fixtures (text and JSON agree with
//! what discovery can and cannot find) and its bad-input contract.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inspect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmxlate"))
        .arg("inspect")
        .args(args)
        .output()
        .expect("run vmxlate inspect")
}

fn fixture(name: &str) -> String {
    root()
        .join("fixtures/bin")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn json(name: &str) -> serde_json::Value {
    let o = inspect(&[&fixture(name), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("valid JSON")
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64().expect("a number")
}

#[test]
fn json_report_is_consistent() {
    let r = json("basic");
    assert_eq!(r["kind"], "exec");
    assert!(num(&r["functions"]) > 500, "glibc alone has hundreds");
    assert!(num(&r["named_functions"]) <= num(&r["functions"]));
    assert!(num(&r["instructions"]) > 10_000);
    let sections = r["sections"].as_array().expect("sections");
    let text = sections
        .iter()
        .find(|s| s["name"] == ".text")
        .expect(".text is reported");
    for s in sections {
        let (addr, size) = (num(&s["addr"]), num(&s["size"]));
        let gaps = s["gaps"].as_array().expect("gaps");
        let gap_bytes: u64 = gaps.iter().map(|g| num(&g["end"]) - num(&g["start"])).sum();
        assert_eq!(num(&s["covered"]) + gap_bytes, size, "{}", s["name"]);
        for g in gaps {
            assert!(addr <= num(&g["start"]) && num(&g["end"]) <= addr + size);
        }
    }
    // A symbolised glibc binary: nearly all of .text is found.
    assert!(num(&text["covered"]) * 100 > num(&text["size"]) * 95);
    for t in r["traps"].as_array().expect("traps") {
        assert!(num(&t["count"]) >= 1);
        let pc = num(&t["example_pc"]);
        assert!(
            sections
                .iter()
                .any(|s| num(&s["addr"]) <= pc && pc < num(&s["addr"]) + num(&s["size"])),
            "trap example {pc:#x} is in a code section"
        );
        assert!(t["example"]
            .as_str()
            .expect("text")
            .starts_with(t["mnemonic"].as_str().expect("mnemonic")));
    }
}

/// The routines of fixtures/src/jit.c that only a computed pointer reaches
/// are an unexplained gap right after `jit_anchor`.
#[test]
fn hidden_code_shows_as_a_gap() {
    let image = vmxlate::driver::load(&PathBuf::from(fixture("jit"))).expect("load");
    let anchor = image
        .symbols
        .iter()
        .find(|s| s.name == "jit_anchor")
        .expect("jit_anchor")
        .addr;
    let r = json("jit");
    let gap = r["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["gaps"].as_array().expect("gaps"))
        .find(|g| num(&g["start"]) == anchor + 8)
        .expect("a gap starts after jit_anchor's two instructions");
    assert_eq!(gap["padding"], false);
    assert!(num(&gap["end"]) - num(&gap["start"]) >= 4 * 40, "{gap}");
}

#[test]
fn text_report_names_every_part() {
    let o = inspect(&[&fixture("basic")]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "exec image, entry 0x",
        "functions: ",
        "code coverage:",
        "  .text ",
        "unresolved indirect branches: ",
        "instructions that lift into traps: ",
        "instructions of extensions not advertised in HWCAP",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn bad_input_is_a_one_line_error() {
    for (input, want) in [
        ("/nonexistent/prog".to_string(), "No such file"),
        (
            root().join("fixtures/cases.txt").to_string_lossy().into(),
            "not an ELF",
        ),
        ("/bin/true".to_string(), "x86-64"),
    ] {
        let o = inspect(&[&input]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{input}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("vmxlate: error: ") && err.contains(want),
            "{err}"
        );
        assert!(o.stdout.is_empty());
    }
    let o = inspect(&[]);
    assert_eq!(o.status.code(), Some(2), "usage error");
}

/// glibc's SVE and MTE string variants (selected only by HWCAP) are listed
/// apart, by extension, and nothing else in a static C++ program traps.
#[test]
fn unadvertised_extensions_are_apart() {
    let r = json("mtcxx");
    assert_eq!(
        r["traps"].as_array().expect("traps").len(),
        0,
        "{}",
        r["traps"]
    );
    let groups = r["unadvertised"].as_array().expect("unadvertised");
    let exts: Vec<&str> = groups
        .iter()
        .map(|g| g["extension"].as_str().expect("extension"))
        .collect();
    assert!(exts.contains(&"SVE") && exts.contains(&"MTE"), "{exts:?}");
}
