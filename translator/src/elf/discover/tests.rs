//! Discovery tests on programs cross-compiled at test time (hand-written
//! jump tables with labelled cases, gcc switches, function pointers) and on
//! a fixture (coverage of the symbolised code).

use super::decode::decode_at;
use super::*;
use crate::elf::load::{GuestImage, SymbolKind};
use crate::elf::test_util::{compile, fixture, some_static_binary};
use yaxpeax_arm::armv8::a64::Opcode;

/// Three jump tables in the shapes gcc emits, with a label on every case.
const ASM_TABLES: &str = r#"
int jt_byte(unsigned);
int jt_half(unsigned);
int jt_loop(unsigned *, unsigned);
asm(".text\n.p2align 2\n"
    ".globl jt_byte\n.type jt_byte, %function\njt_byte:\n"
    "  cmp w0, #3\n  b.hi 9f\n"
    "  adrp x1, jtb_tab\n  add x1, x1, :lo12:jtb_tab\n"
    "  ldrb w1, [x1, w0, uxtw]\n  adr x2, jtb_c0\n  add x1, x2, w1, sxtb #2\n  br x1\n"
    "jtb_c0: mov w0, #10\n  ret\n"
    "jtb_c1: mov w0, #11\n  ret\n"
    "jtb_c2: mov w0, #12\n  ret\n"
    "jtb_c3: mov w0, #13\n  ret\n"
    "9: mov w0, #-1\n  ret\n"
    ".size jt_byte, .-jt_byte\n"

    ".globl jt_half\n.type jt_half, %function\njt_half:\n"
    "  cmp w0, #2\n  b.ls 1f\n  mov w0, #-1\n  ret\n"
    "jth_c0: mov w0, #20\n  ret\n"
    "1: adrp x3, jth_tab\n  add x3, x3, :lo12:jth_tab\n"
    "  ldrh w4, [x3, w0, uxtw #1]\n  adr x5, jth_base\n  add x4, x5, w4, sxth #2\n  br x4\n"
    "jth_base:\n"
    "jth_c1: mov w0, #21\n  ret\n"
    "jth_c2: mov w0, #22\n  ret\n"
    ".size jt_half, .-jt_half\n"

    ".globl jt_loop\n.type jt_loop, %function\njt_loop:\n"
    "  stp x29, x30, [sp, #-32]!\n  str x19, [sp, #16]\n"
    "  adrp x19, jtl_tab\n  add x19, x19, :lo12:jtl_tab\n  mov w2, #0\n"
    "2: cbz w1, 8f\n  ldr w3, [x0], #4\n  sub w1, w1, #1\n  cmp w3, #1\n  b.hi 2b\n"
    "  ldr w4, [x19, w3, uxtw #2]\n  adr x5, jtl_base\n  add x4, x5, w4, sxtw #2\n  br x4\n"
    "jtl_base:\n"
    "jtl_c0: add w2, w2, #1\n  b 2b\n"
    "jtl_c1: add w2, w2, #2\n  b 2b\n"
    "8: mov w0, w2\n  ldr x19, [sp, #16]\n  ldp x29, x30, [sp], #32\n  ret\n"
    ".size jt_loop, .-jt_loop\n"

    ".section .rodata\n"
    "jtb_tab: .byte 0, (jtb_c1-jtb_c0)/4, (jtb_c3-jtb_c0)/4, (jtb_c2-jtb_c0)/4\n"
    ".p2align 1\njth_tab: .hword (jth_c0-jth_base)/4, (jth_c1-jth_base)/4, (jth_c2-jth_base)/4\n"
    ".p2align 2\njtl_tab: .word (jtl_c0-jtl_base)/4, (jtl_c1-jtl_base)/4\n"
    ".text\n");
int main(int argc, char **argv) {
  unsigned idx[2] = { 1, 0 };
  (void)argv;
  return jt_byte(argc) + jt_half(argc) + jt_loop(idx, 2);
}
"#;

/// gcc-lowered switches (byte and halfword tables) and function pointers.
const C_SWITCHES: &str = r#"
#include <stdio.h>
#include <stdlib.h>
volatile int sink;
__attribute__((noinline)) int sw1(int x) {
  switch (x) {
  case 0: sink = 11; return puts("zero");
  case 1: sink = 12; return puts("one") + 3;
  case 2: sink = 13; return printf("two %d\n", x);
  case 3: sink = 14; return x * 7 + 1;
  case 4: sink = 15; return getchar();
  case 5: sink = 16; return putchar(x);
  case 6: sink = 17; exit(3);
  case 7: sink = 18; return abs(x - 100);
  case 8: sink = 19; return 99;
  case 9: sink = 20; return 1234;
  case 10: sink = 21; return 4;
  case 12: sink = 22; return 7;
  default: return -1;
  }
}
__attribute__((noinline)) long sw3(unsigned x, long y) {
  switch (x & 0x3ff) {
#define C(n) case n: y = y * n + puts(#n); break;
#define C10(n) C(n##0) C(n##1) C(n##2) C(n##3) C(n##4) C(n##5) C(n##6) C(n##7) C(n##8) C(n##9)
  C10(1) C10(2) C10(3) C10(4) C10(5) C10(6) C10(7) C10(8) C10(9) C10(10) C10(11) C10(12)
  C10(13) C10(14) C10(15) C10(16) C10(17) C10(18) C10(19) C10(20) C10(21) C10(22) C10(23)
  C10(24) C10(25) C10(26) C10(27) C10(28) C10(29) C10(30)
  default: y = 0;
  }
  return y + 1;
}
static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
int (*ops[])(int, int) = { add, sub, mul };
int main(int argc, char **argv) {
  int s = 0;
  (void)argv;
  for (int i = 0; i < 3; i++) s += ops[i](argc, 3);
  s += sw1(argc) + (int)sw3(argc, s);
  printf("%d\n", s);
  return 0;
}
"#;

fn symbol(image: &GuestImage, name: &str) -> u64 {
    image
        .symbols
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("symbol {name}"))
        .addr
}

/// The jump table whose BR lies in `func`.
fn table_in<'m>(map: &'m CodeMap, image: &GuestImage, func: &str) -> &'m JumpTable {
    let start = symbol(image, func);
    let sym = image.func_containing(start).expect("sized function");
    let end = start + sym.size;
    let tables: Vec<&JumpTable> = map
        .jump_tables
        .values()
        .filter(|t| t.br_addr >= start && t.br_addr < end)
        .collect();
    assert_eq!(tables.len(), 1, "one jump table in {func}");
    tables[0]
}

/// Invariants every discovery result must satisfy.
fn check_invariants(image: &GuestImage, map: &CodeMap) {
    for f in map.functions.values() {
        assert!(!f.blocks.is_empty(), "function {:#x} has blocks", f.entry);
        assert!(f.blocks.iter().any(|b| b.start == f.entry));
        for w in f.blocks.windows(2) {
            assert!(
                w[0].end <= w[1].start,
                "blocks of {:#x} overlap at {:#x}",
                f.entry,
                w[1].start
            );
        }
        for b in &f.blocks {
            assert!(b.start < b.end && (b.end - b.start) % 4 == 0);
            for pc in (b.start..b.end).step_by(4) {
                let Some(inst) = decode_at(image, pc) else {
                    continue;
                };
                if inst.opcode == Opcode::BL {
                    if let yaxpeax_arm::armv8::a64::Operand::PCOffset(off) = inst.operands[0] {
                        let target = pc.wrapping_add(off as u64);
                        if image.is_code(target) {
                            assert!(
                                map.functions.contains_key(&target),
                                "BL target {target:#x} at {pc:#x} is a function"
                            );
                        }
                    }
                }
            }
        }
        for &x in &f.extra_entries {
            assert!(
                f.blocks.iter().any(|b| b.start == x),
                "extra entry {x:#x} starts a block"
            );
        }
    }
    for &(start, _) in &image.fdes {
        if image.is_code(start) {
            assert!(
                map.functions.contains_key(&start),
                "FDE start {start:#x} is a function"
            );
        }
    }
    assert!(map.functions.contains_key(&image.entry));
    for t in map.jump_tables.values() {
        let owner = map
            .functions
            .values()
            .find(|f| {
                f.blocks
                    .iter()
                    .any(|b| b.start <= t.br_addr && t.br_addr < b.end)
            })
            .expect("the BR is in a function");
        for target in &t.targets {
            assert!(
                owner.blocks.iter().any(|b| b.start == *target),
                "table target {target:#x} starts a block"
            );
        }
    }
}

#[test]
fn hand_written_tables_match_their_case_labels() {
    let Some(file) = compile(ASM_TABLES, &["-O2", "-static"]) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    check_invariants(&image, &map);
    let s = |n: &str| symbol(&image, n);
    let byte = table_in(&map, &image, "jt_byte");
    assert_eq!(
        byte.targets,
        [s("jtb_c0"), s("jtb_c1"), s("jtb_c3"), s("jtb_c2")]
    );
    assert_eq!(byte.index_reg, 0);
    let half = table_in(&map, &image, "jt_half");
    assert_eq!(half.targets, [s("jth_c0"), s("jth_c1"), s("jth_c2")]);
    let lp = table_in(&map, &image, "jt_loop");
    assert_eq!(lp.targets, [s("jtl_c0"), s("jtl_c1")]);
    assert_eq!(lp.index_reg, 3);
    assert_eq!(lp.target_reg, 4);
    // The ADR of a table base is not an entry point.
    for f in ["jt_byte", "jt_half", "jt_loop"] {
        assert!(
            map.functions[&s(f)].extra_entries.is_empty(),
            "{f} has no extra entries"
        );
    }
}

/// Jump tables in the shapes gcc emits under register pressure: the table
/// address spilled to a stack slot (after a prologue that saves registers
/// at the same offsets relative to the caller's SP) and reloaded before
/// the load; the index compared through the source of a copy.
const ASM_SPILLED: &str = r#"
int jt_spill(unsigned *, unsigned);
int jt_copy(unsigned);
asm(".text\n.p2align 2\n"
    ".globl jt_spill\n.type jt_spill, %function\njt_spill:\n"
    "  stp x19, x20, [sp, #-64]!\n  stp x21, x22, [sp, #16]\n"
    "  stp x25, x26, [sp, #48]\n  sub sp, sp, #0x40\n"
    "  adrp x3, jts_tab\n  add x3, x3, :lo12:jts_tab\n  str x3, [sp, #56]\n"
    "  mov w2, #0\n"
    "2: cbz w1, 8f\n  ldr w3, [x0], #4\n  sub w1, w1, #1\n  cmp w3, #2\n  b.hi 2b\n"
    "  ldr x4, [sp, #56]\n  ldrh w3, [x4, w3, uxtw #1]\n  adr x5, jts_base\n"
    "  add x3, x5, w3, sxth #2\n  br x3\n"
    "jts_base:\n"
    "jts_c0: add w2, w2, #1\n  b 2b\n"
    "jts_c1: add w2, w2, #2\n  b 2b\n"
    "jts_c2: add w2, w2, #4\n  b 2b\n"
    "8: mov w0, w2\n  add sp, sp, #0x40\n  ldp x21, x22, [sp, #16]\n"
    "  ldp x25, x26, [sp, #48]\n  ldp x19, x20, [sp], #64\n  ret\n"
    ".size jt_spill, .-jt_spill\n"

    ".globl jt_copy\n.type jt_copy, %function\njt_copy:\n"
    "  mov w1, w0\n  cmp w0, #2\n  b.hi 9f\n"
    "  adrp x2, jtc_tab\n  add x2, x2, :lo12:jtc_tab\n"
    "  ldrb w2, [x2, w1, uxtw]\n  adr x1, jtc_c0\n  add x2, x1, w2, sxtb #2\n  br x2\n"
    "jtc_c0: mov w0, #30\n  ret\n"
    "jtc_c1: mov w0, #31\n  ret\n"
    "jtc_c2: mov w0, #32\n  ret\n"
    "9: mov w0, #-1\n  ret\n"
    ".size jt_copy, .-jt_copy\n"

    ".section .rodata\n"
    ".p2align 1\njts_tab: .hword (jts_c2-jts_base)/4, (jts_c0-jts_base)/4, (jts_c1-jts_base)/4\n"
    "jtc_tab: .byte (jtc_c1-jtc_c0)/4, 0, (jtc_c2-jtc_c0)/4\n"
    ".text\n");
int main(int argc, char **argv) {
  unsigned idx[2] = { 1, 0 };
  (void)argv;
  return jt_spill(idx, 2) + jt_copy(argc);
}
"#;

#[test]
fn spilled_table_addresses_and_copied_indices() {
    let Some(file) = compile(ASM_SPILLED, &["-O2", "-static"]) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    check_invariants(&image, &map);
    let s = |n: &str| symbol(&image, n);
    let spill = table_in(&map, &image, "jt_spill");
    assert_eq!(spill.targets, [s("jts_c2"), s("jts_c0"), s("jts_c1")]);
    assert_eq!((spill.index_reg, spill.target_reg), (3, 3));
    let copy = table_in(&map, &image, "jt_copy");
    assert_eq!(copy.targets, [s("jtc_c1"), s("jtc_c0"), s("jtc_c2")]);
    assert_eq!(copy.index_reg, 1);
    for f in ["jt_spill", "jt_copy"] {
        let br = table_in(&map, &image, f).br_addr;
        assert!(!map.unresolved.contains(&br), "{f}: BR resolved");
    }
}

#[test]
fn gcc_switches_and_function_pointers() {
    let Some(file) = compile(C_SWITCHES, &["-O2", "-static"]) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    check_invariants(&image, &map);
    let main = symbol(&image, "main");
    assert_eq!(map.functions[&main].name.as_deref(), Some("main"));
    let sw1 = table_in(&map, &image, "sw1");
    assert_eq!(sw1.targets.len(), 13, "cases 0..=12");
    let sw3 = table_in(&map, &image, "sw3");
    assert_eq!(sw3.targets.len(), 300, "cases 10..=309");
    // Case 11 is missing in sw1: it shares the default's target, which is
    // different from every real case's.
    let default = sw1.targets[11];
    assert_eq!(sw1.targets.iter().filter(|&&t| t == default).count(), 1);
    for name in ["add", "sub", "mul"] {
        assert!(map.functions.contains_key(&symbol(&image, name)));
    }
}

#[test]
fn data_pointers_seed_functions_without_symbols_or_unwind_info() {
    let flags = [
        "-O2",
        "-static",
        "-fno-asynchronous-unwind-tables",
        "-fno-unwind-tables",
    ];
    let Some(file) = compile(C_SWITCHES, &flags) else {
        return;
    };
    let full = GuestImage::parse(file.clone()).expect("parse");
    let targets: Vec<u64> = ["add", "sub", "mul"]
        .iter()
        .map(|n| symbol(&full, n))
        .collect();
    // As if stripped: no symbols, and no FDEs for the program's own code.
    let mut stripped = GuestImage::parse(file).expect("parse");
    stripped.symbols.clear();
    let map = discover(&stripped);
    check_invariants(&stripped, &map);
    for &t in &targets {
        assert!(map.functions.contains_key(&t), "{t:#x} found through ops[]");
        // Only called through pointers: nothing marks it an AAPCS64 entry.
        assert!(!map.functions[&t].called, "{t:#x} has no BL");
    }
    let sw1 = symbol(&full, "sw1");
    assert!(map.functions[&sw1].called, "main calls sw1 with BL");
    let main = symbol(&full, "main");
    let covered = map
        .functions
        .values()
        .any(|f| f.blocks.iter().any(|b| b.start <= main && main < b.end));
    assert!(covered, "main is reached (through _start's pointer to it)");
}

#[test]
fn static_pie_discovery_is_biased() {
    let Some(file) = compile(C_SWITCHES, &["-O2", "-static-pie"]) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    check_invariants(&image, &map);
    assert!(map.functions.keys().all(|&e| e >= image.load_bias));
    assert_eq!(table_in(&map, &image, "sw1").targets.len(), 13);
    for name in ["add", "sub", "mul"] {
        assert!(map.functions.contains_key(&symbol(&image, name)));
    }
}

#[test]
fn covers_the_symbolised_text_of_a_fixture() {
    let Some(file) = fixture("basic").or_else(some_static_binary) else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    check_invariants(&image, &map);
    let text = image
        .sections
        .iter()
        .find(|s| s.name == ".text")
        .expect(".text");
    let mut in_func: Vec<u64> = image
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Func && s.size > 0)
        .flat_map(|s| (s.addr..s.addr + s.size).step_by(4))
        .filter(|&a| a >= text.addr && a < text.addr + text.size)
        .collect();
    in_func.sort_unstable();
    in_func.dedup();
    let mut covered: Vec<u64> = map
        .functions
        .values()
        .flat_map(|f| f.blocks.iter().flat_map(|b| (b.start..b.end).step_by(4)))
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let hit = in_func
        .iter()
        .filter(|a| covered.binary_search(a).is_ok())
        .count();
    let ratio = hit as f64 / in_func.len() as f64;
    assert!(
        ratio > 0.95,
        "discovery covers {:.1}% of symbolised .text",
        ratio * 100.0
    );
}

/// The routines of fixtures/src/jit.c that only computed pointers reach:
/// not found by discovery, found by `discover_region` from their entry
/// (as the runtime's JIT does), jump table included.
#[test]
fn regions_from_run_time_entries() {
    let Some(file) = fixture("jit") else {
        return;
    };
    let image = GuestImage::parse(file).expect("parse");
    let map = discover(&image);
    let anchor = symbol(&image, "jit_anchor");
    let offsets = image
        .read(symbol(&image, "jit_offsets"), 12)
        .expect("offsets");
    let entry = |i: usize| {
        let o = i32::from_le_bytes(offsets[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        anchor.wrapping_add_signed(i64::from(o))
    };
    let known: FxHashSet<u64> = map.functions.keys().copied().collect();
    for i in 0..3 {
        let pc = entry(i);
        assert!(
            map.functions
                .values()
                .all(|f| f.blocks.iter().all(|b| pc < b.start || pc >= b.end)),
            "discovery does not find hidden routine {i} at {pc:#x}"
        );
        let region = discover_region(&image, pc, &known).expect("a region");
        assert_eq!(region.functions.len(), 1);
        let f = &region.functions[&pc];
        assert_eq!(f.blocks[0].start, pc);
        assert_eq!(region.jump_tables.len(), usize::from(i == 1), "routine {i}");
    }
    let pick = &region_table(&image, entry(1), &known);
    assert_eq!(pick.targets.len(), 4);
    assert!(
        discover_region(&image, anchor + 2, &known).is_none(),
        "unaligned"
    );
    assert!(discover_region(&image, 0x10, &known).is_none(), "not code");
}

fn region_table(image: &GuestImage, pc: u64, known: &FxHashSet<u64>) -> JumpTable {
    let region = discover_region(image, pc, known).expect("a region");
    region.jump_tables.values().next().expect("a table").clone()
}
