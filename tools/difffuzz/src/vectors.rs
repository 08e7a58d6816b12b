//! Instruction vectors: one case per line,
//! `INSTRUCTION | INPUTS | EXPECTED [| note]`, for example
//! `adds w0, w1, w2 | x1=0x7fffffff x2=1 | x0=0x80000000 nzcv=1001`.
//!
//! - INSTRUCTION is assembler text (assembled with `aarch64-linux-gnu-as`)
//!   or a hex word (`0x2b020020`).
//! - INPUTS and EXPECTED are `name=value` pairs: `x0`..`x30`, `sp`,
//!   `nzcv` (four binary digits, N Z C V), `fpcr`, `fpsr`, `v0`..`v31`
//!   (the whole 128-bit register), `d0`/`s0`/`h0` (the register with the
//!   scalar in its low bits and zeros above; `d`/`s` also take decimal
//!   floats, `inf`, `-inf`, `nan`). Unnamed inputs are zero; only named
//!   outputs are checked.
//! - A note starting with `pending` names the issue that will make vmxlate
//!   pass the vector; until then its vmxlate mismatches are reported as
//!   pending, not failures.
//! - A note starting with `qemu-differs` marks a case where qemu-aarch64
//!   is wrong (the note says why, against the Arm pseudocode); the runner
//!   then expects qemu to disagree with the vector.
//!
//! Expected values come from the Arm ARM or from qemu-aarch64, never from
//! vmxlate's output. Each vector runs translated and, when qemu-aarch64 is
//! present, under qemu too.

use std::path::Path;
use std::process::Command;

use crate::exec;
use crate::gen::Case;
use crate::layout::{State, REC};
use crate::program;

/// One parsed vector.
pub struct Vector {
    /// `file:line`.
    pub at: String,
    /// The instruction as written.
    pub insn: String,
    /// Its word, once assembled.
    pub word: Option<u32>,
    /// Input state.
    pub input: State,
    /// Expected fields: `(name, value)` as the state holds them.
    pub expect: Vec<(String, u128)>,
    /// qemu-aarch64 is known to differ.
    pub qemu_differs: bool,
    /// vmxlate is known to differ: the note naming why.
    pub pending: Option<String>,
}

fn parse_num(v: &str) -> Result<u128, String> {
    let (neg, body) = match v.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, v),
    };
    let n = if let Some(h) = body.strip_prefix("0x") {
        u128::from_str_radix(&h.replace('_', ""), 16)
    } else {
        body.parse::<u128>()
    }
    .map_err(|_| format!("bad number '{v}'"))?;
    Ok(if neg {
        (n as i128).wrapping_neg() as u128
    } else {
        n
    })
}

fn parse_float(v: &str, double: bool) -> Option<u128> {
    let hex = v.trim_start_matches('-').starts_with("0x");
    if hex || !(v.contains('.') || v.contains('e') || v.contains("inf") || v.contains("nan")) {
        return None;
    }
    let f: f64 = v.parse().ok()?;
    Some(if double {
        u128::from(f.to_bits())
    } else {
        u128::from((f as f32).to_bits())
    })
}

/// Parses `name=value` into the (field, value) the state holds.
fn parse_field(kv: &str) -> Result<(String, u128), String> {
    let (name, v) = kv
        .split_once('=')
        .ok_or_else(|| format!("'{kv}' is not name=value"))?;
    let num =
        |name: &str| -> Result<(String, u128), String> { Ok((name.to_string(), parse_num(v)?)) };
    let reg = |prefix: &str, max: u32| -> Option<u32> {
        name.strip_prefix(prefix)?
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
    };
    if name == "nzcv" {
        if v.len() != 4 || !v.chars().all(|c| c == '0' || c == '1') {
            return Err(format!("nzcv takes four binary digits, not '{v}'"));
        }
        let bits = u128::from_str_radix(v, 2).map_err(|e| e.to_string())?;
        return Ok(("nzcv".into(), bits << 28));
    }
    if matches!(name, "sp" | "fpcr" | "fpsr") {
        return num(name);
    }
    if let Some(n) = reg("x", 30) {
        let value = parse_num(v)? & u128::from(u64::MAX);
        return Ok((format!("x{n}"), value));
    }
    if let Some(n) = reg("w", 30) {
        let value = parse_num(v)? & 0xffff_ffff;
        return Ok((format!("x{n}"), value));
    }
    if let Some(n) = reg("v", 31).or_else(|| reg("q", 31)) {
        return Ok((format!("v{n}"), parse_num(v)?));
    }
    for (prefix, bits) in [("d", 64), ("s", 32), ("h", 16)] {
        if let Some(n) = reg(prefix, 31) {
            let value = match parse_float(v, bits == 64) {
                Some(f) if bits != 16 => f,
                _ => parse_num(v)?,
            };
            if value >> bits != 0 {
                return Err(format!("'{kv}' does not fit {bits} bits"));
            }
            return Ok((format!("v{n}"), value));
        }
    }
    Err(format!("unknown register '{name}'"))
}

fn set(s: &mut State, name: &str, v: u128) {
    match name {
        "sp" => s.sp = v as u64,
        "nzcv" => s.nzcv = v as u64,
        "fpcr" => s.fpcr = v as u64,
        "fpsr" => s.fpsr = v as u64,
        _ if name.starts_with('x') => s.x[name[1..].parse::<usize>().expect("checked")] = v as u64,
        _ => s.v[name[1..].parse::<usize>().expect("checked")] = v,
    }
}

fn get(s: &State, name: &str) -> u128 {
    match name {
        "sp" => s.sp.into(),
        "nzcv" => s.nzcv.into(),
        "fpcr" => s.fpcr.into(),
        "fpsr" => s.fpsr.into(),
        _ if name.starts_with('x') => s.x[name[1..].parse::<usize>().expect("checked")].into(),
        _ => s.v[name[1..].parse::<usize>().expect("checked")],
    }
}

/// Parses one vector file.
pub fn parse(path: &Path) -> Result<Vec<Vector>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{name}:{}", k + 1);
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 3 {
            return Err(format!("{at}: expected INSN | INPUTS | EXPECTED"));
        }
        let mut input = State::default();
        for kv in cols[1].split_whitespace() {
            let (n, v) = parse_field(kv).map_err(|e| format!("{at}: {e}"))?;
            set(&mut input, &n, v);
        }
        let expect = cols[2]
            .split_whitespace()
            .map(parse_field)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{at}: {e}"))?;
        let word = match cols[0].strip_prefix("0x") {
            Some(h) => Some(u32::from_str_radix(h, 16).map_err(|e| format!("{at}: {e}"))?),
            None => None,
        };
        out.push(Vector {
            at,
            insn: cols[0].to_string(),
            word,
            input,
            expect,
            qemu_differs: cols.get(3).is_some_and(|n| n.starts_with("qemu-differs")),
            pending: cols
                .get(3)
                .filter(|n| n.starts_with("pending"))
                .map(|n| n.to_string()),
        });
    }
    Ok(out)
}

/// Assembles the vectors that are text with `as` (an assembler for
/// AArch64, e.g. `aarch64-linux-gnu-as`). Errors name the vector.
pub fn assemble(vectors: &mut [Vector], as_cmd: &Path) -> Result<(), String> {
    let todo: Vec<usize> = (0..vectors.len())
        .filter(|k| vectors[*k].word.is_none())
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let src: String = todo
        .iter()
        .map(|k| format!("{}\n", vectors[*k].insn))
        .collect();
    let s = dir.path().join("v.s");
    let o = dir.path().join("v.o");
    std::fs::write(&s, src).map_err(|e| e.to_string())?;
    let out = Command::new(as_cmd)
        .arg("-march=armv8.2-a+crc+crypto+sha3+fp16+rcpc")
        .arg(&s)
        .arg("-o")
        .arg(&o)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", as_cmd.display()))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        // Messages look like `v.s:LINE: Error: ...`; name the vector.
        let first = msg.lines().find(|l| l.contains("Error")).unwrap_or("");
        let at = first
            .split(':')
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| todo.get(n - 1))
            .map_or("?".to_string(), |k| vectors[*k].at.clone());
        return Err(format!("{at}: {first}"));
    }
    let bytes = std::fs::read(&o).map_err(|e| e.to_string())?;
    let text = text_section(&bytes)?;
    if text.len() != 4 * todo.len() {
        return Err("each vector must assemble to exactly one instruction".into());
    }
    for (j, k) in todo.iter().enumerate() {
        vectors[*k].word = Some(u32::from_le_bytes(
            text[4 * j..4 * j + 4].try_into().expect("4"),
        ));
    }
    Ok(())
}

fn text_section(obj: &[u8]) -> Result<Vec<u8>, String> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(obj).map_err(|e| format!("assembler output: {e}"))?;
    let sec = file
        .section_by_name(".text")
        .ok_or("assembler output has no .text")?;
    sec.data().map(<[u8]>::to_vec).map_err(|e| e.to_string())
}

/// Results of running vectors: one line per failure.
pub struct Outcome {
    /// Vectors run.
    pub run: usize,
    /// Whether qemu-aarch64 cross-checked them.
    pub with_qemu: bool,
    /// Failures, one line each.
    pub failures: Vec<String>,
    /// vmxlate mismatches on pending vectors, one line each.
    pub pending: Vec<String>,
}

/// Runs assembled vectors translated (and under `qemu` when given).
pub fn run(vectors: &[Vector], qemu: Option<&Path>) -> Result<Outcome, String> {
    let cases: Vec<Case> = vectors
        .iter()
        .enumerate()
        .filter_map(|(k, v)| {
            Some(Case {
                class: "vector",
                index: k,
                words: vec![v.word?],
                state: v.input.clone(),
                rel: Vec::new(),
                literal: None,
                clrex: false,
                undefined: false,
            })
        })
        .collect();
    let ran: Vec<&Vector> = vectors.iter().filter(|v| v.word.is_some()).collect();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // Words the lifter turns into traps are not run translated (each would
    // end the program and cost a translation of the rest).
    let filter = crate::gen::Filter::new()?;
    let lifts: Vec<bool> = cases
        .iter()
        .map(|c| matches!(filter.check(&c.words), crate::gen::Lifted::Ok))
        .collect();
    let supported: Vec<Case> = cases
        .iter()
        .zip(&lifts)
        .filter(|(_, ok)| **ok)
        .map(|(c, _)| c.clone())
        .collect();
    let mut ran_ours = run_resuming(&supported, dir.path(), None)?.into_iter();
    let ours: Vec<Result<State, String>> = lifts
        .iter()
        .map(|ok| match ok {
            true => ran_ours.next().expect("one result per supported case"),
            false => Err("unsupported: the lifter emits a trap".to_string()),
        })
        .collect();
    let theirs = match qemu {
        Some(q) => Some(run_resuming(&cases, dir.path(), Some(q))?),
        None => None,
    };
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    for (k, v) in ran.iter().enumerate() {
        let label = format!("{} `{}` ({:#010x})", v.at, v.insn, v.word.unwrap_or(0));
        match &ours[k] {
            Err(status) => {
                let line = format!("{label}: translated program stopped: {status}");
                match &v.pending {
                    Some(why) => pending.push(format!("{line} ({why})")),
                    None => failures.push(line),
                }
            }
            Ok(s) => {
                for (name, want) in &v.expect {
                    let got = get(s, name);
                    if got == *want {
                        continue;
                    }
                    let line = format!("{label}: {name}: expected {want:#x}, vmxlate {got:#x}");
                    match &v.pending {
                        Some(why) => pending.push(format!("{line} ({why})")),
                        None => failures.push(line),
                    }
                }
            }
        }
        if let Some(t) = &theirs {
            let s = match &t[k] {
                Ok(s) => s,
                Err(status) => {
                    failures.push(format!("{label}: qemu stopped: {status}"));
                    continue;
                }
            };
            let wrong: Vec<String> = v
                .expect
                .iter()
                .filter(|(name, want)| get(s, name) != *want)
                .map(|(name, want)| format!("{name}: expected {want:#x}, qemu {:#x}", get(s, name)))
                .collect();
            match (wrong.is_empty(), v.qemu_differs) {
                (false, false) => failures.push(format!(
                    "{label}: the vector disagrees with qemu-aarch64: {}",
                    wrong.join(", ")
                )),
                (true, true) => failures.push(format!(
                    "{label}: marked qemu-differs but qemu-aarch64 agrees"
                )),
                _ => {}
            }
        }
    }
    Ok(Outcome {
        run: ran.len(),
        with_qemu: theirs.is_some(),
        failures,
        pending,
    })
}

/// Runs `cases` translated (or under `qemu`), resuming after a case that
/// stops the program; per case its final state or how the program stopped.
fn run_resuming(
    cases: &[Case],
    dir: &Path,
    qemu: Option<&Path>,
) -> Result<Vec<Result<State, String>>, String> {
    use std::os::unix::fs::PermissionsExt;
    let elf = dir.join("vectors.elf");
    let exe = dir.join("vectors");
    let mut out = Vec::new();
    while out.len() < cases.len() {
        let active: Vec<usize> = (out.len()..cases.len()).collect();
        let rest = &cases[out.len()..];
        std::fs::write(&elf, program::build(cases, &active, qemu.is_some()).elf)
            .and_then(|_| std::fs::set_permissions(&elf, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| e.to_string())?;
        let ran = match qemu {
            Some(q) => {
                let mut c = Command::new(q);
                c.arg(&elf);
                exec::wait(exec::spawn(c)?)
            }
            None => {
                exec::translate(&elf, &exe)?;
                exec::wait(exec::spawn(Command::new(&exe))?)
            }
        };
        let states: Vec<State> = ran
            .stdout
            .chunks_exact(REC)
            .map(State::from_bytes)
            .collect();
        let done = states.len().min(rest.len());
        out.extend(states.into_iter().take(done).map(|s| {
            if s.nzcv & !0xffff == program::REJECTED_MARK {
                Err(format!("signal {}", s.nzcv & 0xffff))
            } else {
                Ok(s)
            }
        }));
        if done < rest.len() {
            out.push(Err(ran.status));
        }
    }
    Ok(out)
}
