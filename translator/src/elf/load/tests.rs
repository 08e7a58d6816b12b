//! Loader tests: real binaries, foreign files, and malformed input (which
//! must give an error, never a panic).

use super::*;
use crate::elf::discover::discover;
use crate::elf::test_util::{compile, some_static_binary, Rng};

#[test]
fn loads_a_static_executable() {
    let Some(file) = some_static_binary() else {
        return;
    };
    let len = file.len();
    let image = GuestImage::parse(file).expect("parse");
    assert_eq!(image.kind, ImageKind::Exec);
    assert_eq!(image.load_bias, 0);
    assert_eq!(image.file.len(), len);
    assert!(image.is_code(image.entry));
    assert!(image.segments.windows(2).all(|w| w[0].vaddr < w[1].vaddr));
    assert!(image.symbols.windows(2).all(|w| w[0].addr <= w[1].addr));
    assert!(!image.fdes.is_empty());
    let main = image
        .symbols
        .iter()
        .find(|s| s.name == "main")
        .expect("main symbol");
    assert_eq!(main.kind, SymbolKind::Func);
    assert_eq!(image.symbol_at(main.addr).map(|s| s.addr), Some(main.addr));
    assert_eq!(
        image.func_containing(main.addr + 4).map(|s| s.addr),
        Some(main.addr)
    );
    assert!(image.fdes.iter().any(|&(start, _)| start == main.addr));
    // glibc's stdio functions have cancellation cleanups.
    let puts = image
        .symbols
        .iter()
        .find(|s| s.name == "puts")
        .expect("puts symbol");
    let pads: Vec<u64> = image
        .landing_pads
        .iter()
        .filter(|&&(f, _)| f == puts.addr)
        .map(|&(_, pad)| pad)
        .collect();
    assert!(!pads.is_empty(), "puts has a landing pad");
    assert!(pads
        .iter()
        .all(|&p| p > puts.addr && p < puts.addr + puts.size));
    let word = image.read_u32(main.addr).expect("code word");
    assert_eq!(image.read(main.addr, 4), Some(&word.to_le_bytes()[..]));
}

#[test]
fn loads_a_static_pie_with_bias_and_relocations() {
    let src = "#include <stdio.h>\nstatic int f(int x) { return x + 1; }\nint (*volatile fp)(int) = f;\nint main(void) { printf(\"%d\\n\", fp(1)); return 0; }\n";
    let Some(file) = compile(src, &["-O2", "-static-pie"]) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    assert_eq!(image.kind, ImageKind::StaticPie);
    assert_eq!(image.load_bias, PIE_BASE);
    assert!(image.entry >= PIE_BASE && image.is_code(image.entry));
    assert!(image.segments.iter().all(|s| s.vaddr >= PIE_BASE));
    assert!(image.fdes.iter().all(|&(s, _)| s >= PIE_BASE));
    let f = image
        .symbols
        .iter()
        .find(|s| s.name == "f")
        .expect("f symbol");
    assert!(
        image.relative_relocs.contains(&f.addr),
        "fp's relocation points at f"
    );
}

#[test]
fn rejects_foreign_files_with_clear_errors() {
    assert_eq!(
        GuestImage::parse(b"hello world\n".to_vec()).unwrap_err(),
        LoadError::NotElf
    );
    assert_eq!(
        GuestImage::parse(Vec::new()).unwrap_err(),
        LoadError::NotElf
    );
    if let Ok(host) = std::fs::read("/bin/true") {
        let err = GuestImage::parse(host).unwrap_err();
        assert_eq!(err, LoadError::NotAarch64("x86-64".into()));
        assert_eq!(err.to_string(), "not an AArch64 program (machine: x86-64)");
    }
    let Some(file) = some_static_binary() else {
        return;
    };
    let mut rel = file.clone();
    rel[16] = elf::ET_REL as u8;
    assert!(matches!(
        GuestImage::parse(rel),
        Err(LoadError::NotExecutable(_))
    ));
    let mut class32 = file.clone();
    class32[EI_CLASS] = elf::ELFCLASS32;
    assert!(matches!(
        GuestImage::parse(class32),
        Err(LoadError::NotLittleEndian64(_))
    ));
}

#[test]
fn reports_pt_interp_of_dynamic_programs() {
    let Some(file) = compile("int main(void) { return 0; }\n", &["-O2"]) else {
        return;
    };
    let err = GuestImage::parse(file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dynamically linked programs are not supported yet (PT_INTERP /lib/ld-linux-aarch64.so.1)"
    );
}

#[test]
fn truncated_prefixes_never_panic() {
    let Some(file) = some_static_binary() else {
        return;
    };
    let mut cuts: Vec<usize> = (0..1024).collect();
    cuts.extend((1024..file.len()).step_by(4093));
    cuts.extend(file.len().saturating_sub(2048)..file.len());
    for cut in cuts {
        let result = GuestImage::parse(file[..cut].to_vec());
        assert!(result.is_err(), "a {cut}-byte prefix should not load");
    }
}

#[test]
fn byte_flips_never_panic() {
    let Some(file) = some_static_binary() else {
        return;
    };
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let header_end = 64 + 56 * 8;
    let mut loaded = 0;
    for round in 0..600 {
        let mut bad = file.clone();
        for _ in 0..1 + rng.below(4) {
            // Mostly headers (ELF, program and section header tables), some
            // anywhere.
            let at = match round % 3 {
                0 => rng.below(header_end),
                1 => file.len() - 1 - rng.below(64 * 40),
                _ => rng.below(file.len()),
            };
            bad[at] ^= 1 << rng.below(8);
        }
        if let Ok(image) = GuestImage::parse(bad) {
            loaded += 1;
            if loaded % 40 == 1 {
                let _ = discover(&image);
            }
        }
    }
    assert!(loaded > 0, "some flips are harmless");
}
