use std::fmt::Write as _;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};

use super::*;

const LIBC_A: &str = "/usr/aarch64-linux-gnu/lib/libc.a";
const LIBM_A: &str = "/usr/aarch64-linux-gnu/lib/libm.a";

/// The routine a fingerprinted implementation name stands for.
fn routine_named(name: &str) -> Option<Routine> {
    NAMES
        .iter()
        .chain(FINGERPRINT_ONLY)
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
}

/// Whether a static link fills in this word's relocated field in a way
/// [`canonical`] masks (ADRP, B/BL, ADD immediate, unsigned-offset load or
/// store).
fn masked_class(w: u32) -> bool {
    w & 0x9f00_0000 == 0x9000_0000
        || w & 0x7c00_0000 == 0x1400_0000
        || w & 0xff80_0000 == 0x9100_0000
        || w & 0x3b00_0000 == 0x3900_0000
}

/// The bytes of `body` (at `start` in its section) as a static link leaves
/// them, up to the fields [`canonical`] masks: initial-exec TLS accesses
/// relaxed to `MOVZ Xd, #hi, LSL #16; MOVK Xd, #lo`. `None` when a
/// relocation fills in anything else.
fn as_linked(body: &[u8], start: u64, relocs: &[(u64, object::Relocation)]) -> Option<Vec<u8>> {
    let mut out = body.to_vec();
    for (off, r) in relocs {
        let at = usize::try_from(off - start).ok()?;
        let word = u32::from_le_bytes(out[at..at + 4].try_into().ok()?);
        let rd = word & 31;
        let linked = match r.flags() {
            object::RelocationFlags::Elf { r_type } => match r_type {
                object::elf::R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21 => 0xd2a0_0000 | rd,
                object::elf::R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC => 0xf280_0000 | rd,
                _ if masked_class(word) => word,
                _ => return None,
            },
            _ => return None,
        };
        out[at..at + 4].copy_from_slice(&linked.to_le_bytes());
    }
    Some(out)
}

/// `(name, len, fingerprint)` of every bindable implementation in the
/// archive whose relocations a static link resolves only in fields
/// [`canonical`] masks, sorted by name.
fn fingerprint_archive(data: &[u8]) -> Vec<(String, u64, u64)> {
    let archive = object::read::archive::ArchiveFile::parse(data).expect("an archive");
    let mut out = Vec::new();
    for member in archive.members() {
        let member = member.expect("archive member");
        let Ok(bytes) = member.data(data) else {
            continue;
        };
        let Ok(obj) = object::File::parse(bytes) else {
            continue;
        };
        for sym in obj.symbols() {
            let Ok(name) = sym.name() else { continue };
            if routine_named(name).is_none() || sym.size() == 0 {
                continue;
            }
            let Some(index) = sym.section_index() else {
                continue;
            };
            let section = obj.section_by_index(index).expect("symbol's section");
            let (start, end) = (sym.address(), sym.address() + sym.size());
            let relocs: Vec<_> = section
                .relocations()
                .filter(|(off, r)| {
                    (start..end).contains(off) && !matches!(r.target(), RelocationTarget::Absolute)
                })
                .collect();
            let code = section.data().expect("section data");
            let body = &code[start as usize..end as usize];
            if let Some(linked) = as_linked(body, start, &relocs) {
                out.push((name.to_string(), sym.size(), fingerprint(&linked)));
            }
        }
    }
    out.sort();
    // Aliases (strchr/index) share bytes: keep the first name.
    let mut seen = std::collections::HashSet::new();
    out.retain(|(_, len, hash)| seen.insert((*len, *hash)));
    out
}

fn render(prints: &[(String, u64, u64)]) -> String {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/bind/fingerprints.rs"
    ))
    .expect("fingerprints.rs");
    let head = src
        .split("pub const GLIBC")
        .next()
        .expect("table header")
        .to_string();
    let mut s = head + "pub const GLIBC: &[Fingerprint] = &[\n";
    for (name, len, hash) in prints {
        let routine = routine_named(name).expect("named");
        writeln!(
            s,
            "    // {name}\n    Fingerprint {{\n        len: {len},\n        hash: {hash:#018x},\n        routine: Routine::{routine:?},\n    }},"
        )
        .unwrap();
    }
    s + "];\n"
}

#[test]
fn fingerprints_match_the_cross_glibc() {
    if !Path::new(LIBC_A).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "{LIBC_A} is missing (apt-get install gcc-aarch64-linux-gnu)"
        );
        eprintln!("skipping: {LIBC_A} not installed");
        return;
    }
    let mut prints = fingerprint_archive(&std::fs::read(LIBC_A).unwrap());
    prints.extend(fingerprint_archive(&std::fs::read(LIBM_A).unwrap()));
    prints.sort();
    let math = prints
        .iter()
        .filter(|p| routine_named(&p.0).is_some_and(|r| r.is_math()));
    assert_eq!(math.count(), 10, "libm routines found: {prints:?}");
    assert!(prints.len() >= 20, "too few routines found: {prints:?}");
    let text = render(&prints);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bind/fingerprints.rs");
    if std::env::var("VMXLATE_BLESS").is_ok() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        text,
        "fingerprints.rs is stale: rerun with VMXLATE_BLESS=1"
    );
}

#[test]
fn every_name_binds_a_defined_routine_once() {
    for (i, (name, _)) in NAMES.iter().enumerate() {
        assert!(
            !NAMES[..i].iter().any(|(n, _)| n == name),
            "{name} listed twice"
        );
        assert!(
            !matches!(*name, "memcpy" | "memmove" | "memset" | "strlen" | "memchr"),
            "{name} is an IFUNC resolver in static glibc"
        );
    }
}

#[test]
fn fnv1a_matches_the_published_vectors() {
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
}

/// What `recognise` finds in the functions of a fixture binary, sorted.
fn found_in(
    binary: &str,
    recognise: fn(&GuestImage, &crate::elf::CodeMap, &crate::elf::FuncInfo) -> Option<Routine>,
) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/bin")
        .join(binary);
    let image = GuestImage::parse(std::fs::read(path).unwrap()).unwrap();
    let code = crate::elf::discover(&image);
    let mut found: Vec<String> = code
        .functions
        .values()
        .filter_map(|f| recognise(&image, &code, f))
        .map(|r| format!("{r:?}"))
        .collect();
    found.sort();
    found
}

/// The routines bound in a fixture binary, sorted, each once.
fn bound_routines(binary: &str) -> Vec<String> {
    let mut found = found_in(binary, recognise);
    found.dedup();
    found
}

#[test]
fn a_stripped_program_binds_what_its_symbols_would() {
    let named = bound_routines("strings");
    assert_eq!(
        named,
        [
            "Memchr",
            "Memcmp",
            "Memmove",
            "Memset",
            "Rawmemchr",
            "Stpcpy",
            "Strchr",
            "Strchrnul",
            "Strcmp",
            "Strcpy",
            "Strcspn",
            "Strlen",
            "Strnlen",
            "Strrchr",
            "Strspn"
        ]
    );
    // glibc's rawmemchr branches to another function: the branch offset is
    // masked in its fingerprint.
    assert_eq!(bound_routines("strings-stripped"), named);
}

/// The routines whose IFUNC stubs are bound in a fixture binary, sorted.
fn bound_stubs(binary: &str) -> Vec<String> {
    found_in(binary, ifunc::recognise)
}

#[test]
fn ifunc_stubs_bind_by_their_resolvers_names_or_candidates() {
    // strings.c calls memcpy, memmove, memset, strlen and memchr, glibc's
    // AArch64 IFUNCs (`readelf -r`: 7 IRELATIVE slots, memchr's and
    // strlen's twice, for libc's own calls); memcpy and memmove both bind
    // Memmove.
    assert_eq!(
        bound_stubs("strings"),
        ["Memchr", "Memchr", "Memmove", "Memmove", "Memset", "Strlen", "Strlen"]
    );
    // Without symbols the resolvers have no names: a stub binds when every
    // implementation its resolver builds the address of has a fingerprint
    // of the same routine (the SVE variants of memcpy, memmove and memset
    // too, although they never run here).
    assert_eq!(
        bound_stubs("strings-stripped"),
        ["Memchr", "Memmove", "Memmove", "Memset", "Strlen", "Strlen"]
    );
}

#[test]
fn libm_routines_bind_by_fingerprint() {
    // fpmath.c calls all ten; glibc's names for them (`__sin`, ...) are
    // not what binds them.
    if !host_libm_likely() {
        assert!(
            std::env::var("CI").is_err() || std::env::var_os(HOST_LIBM_ENV).is_some(),
            "CI machines have glibc 2.36 with FMA and AVX2"
        );
        eprintln!("skipping: libm routines are not bound on this host");
        return;
    }
    let mut found = bound_routines("fpmath");
    found.retain(|r| {
        ["Sin", "Cos", "Exp", "Log", "Pow"]
            .iter()
            .any(|m| r.starts_with(m))
    });
    assert_eq!(
        found,
        ["Cos", "Cosf", "Exp", "Expf", "Log", "Logf", "Pow", "Powf", "Sin", "Sinf"]
    );
    assert!(NAMES.iter().all(|(_, r)| !r.is_math()));
}

#[test]
fn canonical_masks_what_a_static_link_fills_in() {
    let words = [
        0x9000_02c0u32, // adrp x0, ...
        0x9400_1234,    // bl ...
        0x9100_4000,    // add x0, x0, #0x10
        0xf940_0c13,    // ldr x19, [x0, #24]
        0xd2a0_0000,    // movz x0, #0, lsl #16
        0xf280_0500,    // movk x0, #0x28
        0x1e60_1800,    // fdiv d0, d0, d0
        0x72a7_fd61,    // movk w1, #0x3feb, lsl #16
    ];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(
        canonical(&bytes),
        [
            0x9000_0000,
            0x9400_0000,
            0x9100_0000,
            0xf940_0013,
            0xd2a0_0000,
            0xf280_0000,
            0x1e60_1800,
            0x72a7_fd61
        ]
    );
}

#[test]
fn a_call_of_a_bound_libm_routine_tries_the_host_first() {
    let mut f = Function::new("caller".into(), 0x1000);
    let entry = f.create_block(0x1000);
    let cont = f.create_block(0x1008);
    f.entries.push((0x1000, entry));
    bl(&mut f, entry, 0x2000, cont);
    let target = f.builder(cont).get_reg(Type::I64, 30);
    f.builder(cont).terminate(Terminator::Return { target });
    let math = FxHashMap::from_iter([(0x2000, Routine::Sin)]);
    bind_calls(&mut f, &math, false);
    let Terminator::Branch {
        then_to, else_to, ..
    } = f.blocks[entry].term
    else {
        panic!("the call site branches on the routine's answer")
    };
    assert_eq!(else_to, cont, "an answer goes straight on");
    assert_eq!(
        f.blocks[then_to].term,
        Terminator::Call {
            target: 0x2000,
            ret: 0x1008,
            cont
        },
        "a declined call calls"
    );
    assert!(!writes_lr(&f, entry), "no return address unless declined");
    assert!(writes_lr(&f, then_to), "the guest call returns to X30");
    assert!(f.blocks[entry]
        .insts
        .iter()
        .any(|i| i.imm == crate::ir::Imm::Routine(Routine::Sin)));
    crate::ir::verify::verify(&f).expect("valid IR");
}

#[test]
fn a_call_of_a_bound_libc_routine_calls_the_host_in_place() {
    let mut f = Function::new("caller".into(), 0x1000);
    let entry = f.create_block(0x1000);
    let cont = f.create_block(0x1008);
    let tail = f.create_block(0x1010);
    f.entries.push((0x1000, entry));
    bl(&mut f, entry, 0x2000, cont);
    f.builder(cont)
        .terminate(Terminator::TailCall { target: 0x2000 });
    f.builder(tail)
        .terminate(Terminator::TailCall { target: 0x3000 });
    let bound = FxHashMap::from_iter([(0x2000, Routine::Strlen)]);
    let mut strict = f.clone();
    bind_calls(&mut strict, &bound, true);
    assert!(writes_lr(&strict, entry), "--strict-abi keeps X30's write");
    bind_calls(&mut f, &bound, false);
    assert!(
        !writes_lr(&f, entry),
        "X30 is undefined after a call (AAPCS64): not written"
    );
    assert_eq!(
        f.blocks[entry].term,
        Terminator::Jump(cont),
        "goes on in place"
    );
    assert!(
        matches!(f.blocks[cont].term, Terminator::Return { .. }),
        "a tail call returns to X30"
    );
    for b in [entry, cont] {
        let insts = &f.blocks[b].insts;
        assert!(insts
            .iter()
            .any(|i| i.imm == crate::ir::Imm::Routine(Routine::Strlen)));
        assert!(insts
            .iter()
            .any(|i| i.op == crate::ir::Opcode::SetReg && i.imm == crate::ir::Imm::Reg(0)));
    }
    assert_eq!(
        f.blocks[tail].term,
        Terminator::TailCall { target: 0x3000 },
        "other calls stay"
    );
    crate::ir::verify::verify(&f).expect("valid IR");
}

/// Ends `blk` with `BL target` as the lifter does: X30 gets the return
/// address, then the call.
fn bl(f: &mut Function, blk: crate::ir::Block, target: u64, cont: crate::ir::Block) {
    let ret = f.blocks[cont].pc;
    let mut b = f.builder(blk);
    let lr = b.iconst(Type::I64, ret);
    b.set_reg(lr, 30);
    b.terminate(Terminator::Call { target, ret, cont });
}

/// Whether `blk` writes X30.
fn writes_lr(f: &Function, blk: crate::ir::Block) -> bool {
    f.blocks[blk]
        .insts
        .iter()
        .any(|i| i.op == crate::ir::Opcode::SetReg && i.imm == crate::ir::Imm::Reg(30))
}
