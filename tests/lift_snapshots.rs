//! Snapshot tests of the IR lifted from short instruction sequences.
//!
//! Each snapshot was read against the Arm ARM pseudocode when it was
//! blessed; re-bless with `cargo insta review` (or `INSTA_UPDATE=always`)
//! only after checking the new text the same way.

use std::path::PathBuf;
use std::sync::OnceLock;

use vmxlate::elf::GuestImage;
use vmxlate::frontend::a64::words::lift_words;

fn image() -> &'static GuestImage {
    static IMG: OnceLock<GuestImage> = OnceLock::new();
    IMG.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bin/basic");
        GuestImage::parse(std::fs::read(p).expect("fixture")).expect("image")
    })
}

fn lift(words: &[u32]) -> String {
    let f = lift_words(image(), 0x40_0000, words);
    vmxlate::ir::verify::verify(&f).expect("lifted IR verifies");
    f.to_string()
}

#[test]
fn compare_and_branch() {
    // cmp w0, #0x1 ; b.ne +0x8
    insta::assert_snapshot!(lift(&[0x7100_041f, 0x5400_0041]));
}

#[test]
fn adds_sets_all_flags() {
    // adds x0, x1, x2
    insta::assert_snapshot!(lift(&[0xab02_0020]));
}

#[test]
fn add_extended_uxtw_64bit() {
    // add x24, x24, w0, uxtw (yaxpeax reports LSL; the decoder fix-up
    // restores UXTW, so the W register is zero-extended).
    insta::assert_snapshot!(lift(&[0x8b20_4318]));
}

#[test]
fn msr_tpidr_uses_all_rt_bits() {
    // msr tpidr_el0, x17 (yaxpeax keeps 4 bits of Rt: x1).
    insta::assert_snapshot!(lift(&[0xd51b_d051]));
}

#[test]
fn stp_ldp_pre_post_index() {
    // stp x29, x30, [sp, #-16]! ; ldp x29, x30, [sp], #16 ; ret
    insta::assert_snapshot!(lift(&[0xa9bf_7bfd, 0xa8c1_7bfd, 0xd65f_03c0]));
}

#[test]
fn bitfield_and_select() {
    // ubfx w0, w0, #8, #1 ; sbfiz x1, x0, #4, #32 ; csinc x22, x26, xzr, ne
    insta::assert_snapshot!(lift(&[0x5308_2000, 0x937c_7c01, 0x9a9f_1756]));
}

#[test]
fn divide_and_multiply_high() {
    // udiv x5, x5, x26 ; sdiv w0, w1, w2 ; umulh x2, x0, x1
    insta::assert_snapshot!(lift(&[0x9ada_08a5, 0x1ac2_0c20, 0x9bc1_7c02]));
}

#[test]
fn exclusive_pair() {
    // ldaxr w0, [x2] ; stlxr w17, w1, [x2]
    insta::assert_snapshot!(lift(&[0x885f_fc40, 0x8811_fc41]));
}

#[test]
fn bl_sets_link_register() {
    // bl +0x338
    insta::assert_snapshot!(lift(&[0x9400_00ce]));
}

#[test]
fn svc_ends_block() {
    // mov x8, #93 ; svc #0
    insta::assert_snapshot!(lift(&[0xd280_0ba8, 0xd400_0001]));
}
