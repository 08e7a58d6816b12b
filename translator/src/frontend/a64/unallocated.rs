//! Encodings the Arm ARM leaves unallocated (UNDEFINED) although
//! yaxpeax-arm 0.5 decodes them, from the A64 encoding tables
//! (C4.1, "Data Processing -- Scalar Floating-Point and Advanced SIMD").
//! The decoder refuses them, so they lift to the undefined-instruction
//! trap (SIGILL), as on hardware and under qemu-aarch64.
//!
//! Invariant: a rule only ever matches encodings the tables mark
//! unallocated or reserved; an allocated encoding of a feature we do not
//! implement is left to the lifter (which traps it too, naming it).

/// Whether `word` is an unallocated encoding that yaxpeax-arm accepts.
pub fn is_unallocated(word: u32) -> bool {
    let bit = |n: u32| (word >> n) & 1 == 1;
    let field = |lo: u32, len: u32| (word >> lo) & ((1 << len) - 1);
    // Floating-point compare: M 0 S 11110 ftype 1 Rm op 1000 Rn opcode2.
    if word & 0x5f20_3c00 == 0x1e20_2000 {
        return bit(31) || bit(29) || field(14, 2) != 0 || field(0, 3) != 0 || field(22, 2) == 2;
    }
    // Conversion between floating-point and fixed-point:
    // sf 0 S 11110 ftype 0 rmode opcode scale Rn Rd.
    if word & 0x5f20_0000 == 0x1e00_0000 {
        let (rmode, opcode) = (field(19, 2), field(16, 3));
        let allocated = matches!((rmode, opcode), (0, 2) | (0, 3) | (3, 0) | (3, 1));
        let w_scale = !bit(31) && !bit(15);
        return bit(29) || field(22, 2) == 2 || !allocated || w_scale;
    }
    // Advanced SIMD three same, FP forms (opcode 11xxx; FP16 has its own
    // class): `.1d` (sz = 1, Q = 0) is reserved, except where sz = 1 is
    // FMLAL/FMLSL (U = 0, opcode 11101) or FMLAL2/FMLSL2 (U = 1, 11001).
    if word & 0x9f20_c400 == 0x0e20_c400 {
        let fhm = matches!((bit(29), field(11, 5)), (false, 0b11101) | (true, 0b11001));
        return bit(22) && !bit(30) && !fhm;
    }
    // Advanced SIMD three same, integer forms (opcode below 11000).
    if word & 0x9f20_0400 == 0x0e20_0400 {
        return three_same_int(word);
    }
    // Cryptographic three-register SHA512/SHA3/SM3/SM4: 11001110 011 Rm
    // 1 O 00 opcode Rn Rd, and O:opcode = 111 is unallocated.
    if word & 0xffe0_0000 == 0xce60_0000 {
        return !bit(15) || field(12, 2) != 0 || (bit(14) && field(10, 2) == 3);
    }
    // Advanced SIMD load/store multiple structures (offset or
    // post-index): LD2/LD3/LD4 and ST2/ST3/ST4 have no `.1d` form.
    if word & 0xbfbf_0000 == 0x0c00_0000 || word & 0xbfa0_0000 == 0x0c80_0000 {
        let opcode = field(12, 4);
        let allocated = matches!(
            opcode,
            0b0000 | 0b0010 | 0b0100 | 0b0110 | 0b0111 | 0b1000 | 0b1010
        );
        let structs = matches!(opcode, 0b0000 | 0b0100 | 0b1000);
        return !allocated || (structs && field(10, 2) == 3 && !bit(30));
    }
    // Advanced SIMD three same extra: 0 Q U 01110 size 0 Rm 1 opcode 1.
    if word & 0x9f20_8400 == 0x0e00_8400 {
        let size = field(22, 2);
        return match field(11, 4) {
            // SDOT/UDOT: bytes into words only.
            0b0010 => size != 2,
            // SQRDMLAH/SQRDMLSH: U = 1, halfwords and words.
            0b0000 | 0b0001 => !bit(29) || size == 0 || size == 3,
            _ => false,
        };
    }
    // Advanced SIMD scalar three same, integer forms.
    if word & 0xdf20_0400 == 0x5e20_0400 && field(11, 5) < 0b11000 {
        return scalar_three_same_int(field(11, 5), field(22, 2));
    }
    // Advanced SIMD two-register miscellaneous, vector and scalar.
    if word & 0x9f3e_0c00 == 0x0e20_0800 {
        return two_reg_misc(word, true);
    }
    if word & 0xdf3e_0c00 == 0x5e20_0800 {
        return two_reg_misc(word, false);
    }
    // Advanced SIMD three different (C4.1.95 table "Advanced SIMD three
    // different"): 0 Q U 01110 size 1 Rm opcode 00 Rn Rd.
    if word & 0x9f20_0c00 == 0x0e20_0000 {
        return three_different(bit(29), field(22, 2), field(12, 4));
    }
    // Advanced SIMD scalar three different: 01 U 11110 size 1 Rm opcode 00
    // Rn Rd; only SQDMLAL/SQDMLSL/SQDMULL (U = 0) of halfwords and words.
    if word & 0xdf20_0c00 == 0x5e20_0000 {
        let sized = matches!(field(22, 2), 1 | 2);
        return bit(29) || !sized || !matches!(field(12, 4), 0b1001 | 0b1011 | 0b1101);
    }
    // Advanced SIMD shift by immediate: 0 Q U 011110 immh immb opcode 1 Rn
    // Rd, immh != 0 (immh = 0 is modified immediate).
    if word & 0x9f80_0400 == 0x0f00_0400 && field(19, 4) != 0 {
        return shift_imm(bit(29), bit(30), field(19, 4), field(11, 5));
    }
    // Advanced SIMD copy: 0 Q op 01110000 imm5 0 imm4 1 Rn Rd.
    if word & 0x9fe0_8400 == 0x0e00_0400 {
        return copy(bit(30), bit(29), field(16, 5), field(11, 4));
    }
    // Advanced SIMD scalar copy: 01 op 11110000 imm5 0 imm4 1 Rn Rd; only
    // DUP (element), op = 0 and imm4 = 0000.
    if word & 0xdfe0_8400 == 0x5e00_0400 {
        return bit(29) || field(11, 4) != 0 || field(16, 4) == 0;
    }
    // Advanced SIMD (scalar) x indexed element: 0 Q U 01111 size L M Rm
    // opcode H 0 Rn Rd (01 U 11111 for scalar).
    if word & 0x9f00_0400 == 0x0f00_0000 {
        return by_element(word, true);
    }
    if word & 0xdf00_0400 == 0x5f00_0000 {
        return by_element(word, false);
    }
    // Advanced SIMD modified immediate: 0 Q op 0111100000 abc cmode o2 1
    // defgh Rd. o2 = 1 is FMOV (half precision) alone; FMOV `.2d` needs
    // Q = 1.
    if word & 0x9ff8_0400 == 0x0f00_0400 {
        let (op, cmode) = (bit(29), field(12, 4));
        if bit(11) {
            return op || cmode != 0b1111;
        }
        return op && cmode == 0b1111 && !bit(30);
    }
    false
}

/// Advanced SIMD three different (`0 Q U 01110 size 1 Rm opcode 00 Rn
/// Rd`): reserved sizes and unallocated opcodes.
fn three_different(u: bool, size: u32, opcode: u32) -> bool {
    match opcode {
        0b1111 => true,
        // SQDMLAL/SQDMLSL/SQDMULL: U = 0, halfwords and words only.
        0b1001 | 0b1011 | 0b1101 => u || size == 0 || size == 3,
        // PMULL: U = 0, bytes or (FEAT_PMULL) doublewords.
        0b1110 => u || size == 1 || size == 2,
        _ => size == 3,
    }
}

/// Advanced SIMD shift by immediate (`0 Q U 011110 immh immb opcode 1 Rn
/// Rd`, immh != 0): unallocated opcodes and reserved immh values.
fn shift_imm(u: bool, q: bool, immh: u32, opcode: u32) -> bool {
    let wide = immh & 8 != 0;
    match (opcode, u) {
        // SSHR/USHR, SSRA/USRA, SRSHR/URSHR, SRSRA/URSRA, SHL/SLI,
        // SQSHL/UQSHL, SRI and SQSHLU: 64-bit lanes only as `.2d`.
        (0b00000 | 0b00010 | 0b00100 | 0b00110 | 0b01010 | 0b01110, _)
        | (0b01000 | 0b01100, true) => wide && !q,
        // The narrowing shifts and SSHLL/USHLL: no 64-bit narrow lanes.
        (0b10000..=0b10100, _) => wide,
        // SCVTF/UCVTF, FCVTZS/FCVTZU (fixed-point): immh 0001 reserved,
        // 001x half precision (FEAT_FP16, left to the lifter), `.2d` only.
        (0b11100 | 0b11111, _) => immh == 1 || (wide && !q),
        _ => true,
    }
}

/// Advanced SIMD copy (`0 Q op 01110000 imm5 0 imm4 1 Rn Rd`): DUP, SMOV,
/// UMOV, INS; the element size is the lowest set bit of imm5.
fn copy(q: bool, op: bool, imm5: u32, imm4: u32) -> bool {
    if imm5 & 0xf == 0 {
        return true;
    }
    let size = imm5.trailing_zeros();
    if op {
        // INS (element): Q = 1 only.
        return !q;
    }
    match imm4 {
        // DUP (element), DUP (general): `.2d` only for 64-bit lanes.
        0b0000 | 0b0001 => size == 3 && !q,
        // INS (general): Q = 1 only.
        0b0011 => !q,
        // SMOV: bytes and halfwords to W, and words to X as well.
        0b0101 => size == 3 || (size == 2 && !q),
        // UMOV: up to words to W, doublewords to X only.
        0b0111 => (size == 3) != q,
        _ => true,
    }
}

/// Advanced SIMD (scalar when `!vector`) x indexed element: reserved
/// sizes of the FP and integer forms whose table entries give them.
fn by_element(word: u32, vector: bool) -> bool {
    let (q, u) = ((word >> 30) & 1 == 1, (word >> 29) & 1 == 1);
    let (size, l) = ((word >> 22) & 3, (word >> 21) & 1 == 1);
    let opcode = (word >> 12) & 15;
    let fp = matches!(
        (u, opcode),
        (false, 0b0001 | 0b0101 | 0b1001) | (true, 0b1001)
    );
    if fp {
        // FMLA/FMLS/FMUL/FMULX: size 00 is half precision (FEAT_FP16),
        // 01 is unallocated; doubles take no L bit, and only `.2d`.
        return size == 1 || (size == 3 && (l || (vector && !q)));
    }
    // Halfword and word elements only for the integer forms.
    let sized = size == 1 || size == 2;
    if !vector {
        // Scalar: the saturating doubling forms are the only integer ones;
        // every other opcode is unallocated (yaxpeax-arm takes U = 0,
        // opcode 1111 for SQRDMLSH).
        let saturating = matches!(
            (u, opcode),
            (false, 0b0011 | 0b0111 | 0b1011 | 0b1100 | 0b1101) | (true, 0b1101 | 0b1111)
        );
        return !saturating || !sized;
    }
    let integer = matches!(
        (u, opcode),
        (
            false,
            0b0010 | 0b0011 | 0b0110 | 0b0111 | 0b1000 | 0b1010 | 0b1011 | 0b1100 | 0b1101
        ) | (
            true,
            0b0000 | 0b0010 | 0b0100 | 0b0110 | 0b1010 | 0b1101 | 0b1111
        )
    );
    integer && !sized
}

/// Advanced SIMD three same, integer: `0 Q U 01110 size 1 Rm opcode 1 Rn
/// Rd` with opcode < 11000.
fn three_same_int(word: u32) -> bool {
    let opcode = (word >> 11) & 31;
    let size = (word >> 22) & 3;
    let (q, u) = ((word >> 30) & 1 == 1, (word >> 29) & 1 == 1);
    match opcode {
        // AND/BIC/ORR/ORN, EOR/BSL/BIT/BIF: size is part of the opcode.
        0b00011 => false,
        // PMUL: bytes only.
        0b10011 if u => size != 0,
        // ADDP has no U = 1 form.
        0b10111 if u => true,
        // SQDMULH/SQRDMULH: halfwords and words only.
        0b10110 => size == 0 || size == 3,
        // No 64-bit lanes at all.
        0b00000 | 0b00010 | 0b00100 | 0b01100 | 0b01101 | 0b01110 | 0b01111 | 0b10010 | 0b10011
        | 0b10100 | 0b10101 => size == 3,
        // 64-bit lanes only as `.2d`.
        _ => size == 3 && !q,
    }
}

/// Advanced SIMD scalar three same, integer: `01 U 11110 size 1 Rm opcode
/// 1 Rn Rd` with opcode below 11000.
fn scalar_three_same_int(opcode: u32, size: u32) -> bool {
    match opcode {
        // SQADD/SQSUB/SQSHL/SQRSHL (UQ...): every size.
        0b00001 | 0b00101 | 0b01001 | 0b01011 => false,
        // CMGT/CMGE (CMHI/CMHS), SSHL/SRSHL (USHL/URSHL), ADD/CMTST
        // (SUB/CMEQ): doublewords only.
        0b00110 | 0b00111 | 0b01000 | 0b01010 | 0b10000 | 0b10001 => size != 3,
        // SQDMULH/SQRDMULH: halfwords and words only.
        0b10110 => size == 0 || size == 3,
        _ => true,
    }
}

/// Advanced SIMD integer two-register miscellaneous (opcode below 10110;
/// `u` is bit 29): reserved sizes.
fn two_reg_misc_int(opcode: u32, u: bool, size: u32, q: bool, vector: bool) -> bool {
    if !vector {
        return match opcode {
            // SUQADD/USQADD, SQABS/SQNEG: every size.
            0b00011 | 0b00111 => false,
            // Compares against zero, ABS/NEG: doublewords only.
            0b01000 | 0b01001 | 0b01011 => size != 3,
            0b01010 => u || size != 3,
            // SQXTUN, SQXTN/UQXTN: to bytes, halfwords or words.
            0b10010 => !u || size == 3,
            0b10100 => size == 3,
            _ => true,
        };
    }
    match (opcode, u) {
        // REV64, SADDLP, CLS/CLZ, SADALP, XTN and the saturating
        // narrows, SHLL: no 64-bit lanes.
        (0b00000, false)
        | (0b00010, _)
        | (0b00100, _)
        | (0b00110, _)
        | (0b10010, _)
        | (0b10100, _) => size == 3,
        (0b10011, true) => size == 3,
        (0b10011, false) => true,
        // REV32: bytes and halfwords; REV16 and CNT: bytes; NOT/RBIT:
        // bytes (size selects the operation).
        (0b00000, true) | (0b00101, true) => size >= 2,
        (0b00001, false) | (0b00101, false) => size != 0,
        (0b00001, true) => true,
        // CMLT has no U = 1 form.
        (0b01010, true) => true,
        // SUQADD/USQADD, SQABS/SQNEG, compares against zero, ABS/NEG:
        // `.1d` is reserved.
        (0b00011 | 0b00111 | 0b01000 | 0b01001 | 0b01010 | 0b01011, _) => size == 3 && !q,
        _ => false,
    }
}

/// Advanced SIMD (scalar when `!vector`) two-register miscellaneous:
/// `0 Q U 01110 size 10000 opcode 10 Rn Rd` (`01 U 11110` for scalar).
fn two_reg_misc(word: u32, vector: bool) -> bool {
    let opcode = (word >> 12) & 31;
    let (hi, sz) = ((word >> 23) & 1 == 1, (word >> 22) & 1 == 1);
    let q = (word >> 30) & 1 == 1;
    // Opcodes 01100-01111 exist only with size<1> = 1 (the FP compares
    // against zero, FABS, FNEG).
    if (0b01100..=0b01111).contains(&opcode) && !hi {
        return true;
    }
    if opcode < 0b10110 && !(0b01100..=0b01111).contains(&opcode) {
        let u = (word >> 29) & 1 == 1;
        return two_reg_misc_int(opcode, u, (word >> 22) & 3, q, vector);
    }
    // URECPE/URSQRTE: 32-bit lanes only (vector forms).
    if hi && opcode == 0b11100 {
        return vector && sz;
    }
    let fp_lanes = (hi && (0b01100..=0b01111).contains(&opcode)) || opcode >= 0b11000;
    vector && fp_lanes && sz && !q
}

#[cfg(test)]
mod tests {
    use super::is_unallocated;

    #[test]
    fn reserved_encodings_are_refused() {
        // From qemu-aarch64 SIGILLs the fuzzer found (and the Arm ARM).
        for w in [
            0x1e24_2124u32, // fcmp s9, s4 with opcode2<2:0> != 0
            0x9e51_9533,    // fcvtzu x19, d9, #27 with rmode 10
            0x1e18_2f27,    // fcvtzs w7, s25 with scale < 32
            0x0ef4_f5fe,    // fmin v30.1d
            0x2e65_f791,    // fmaxp v17.1d
            0x0e20_d8d3,    // fcmeq v19.2s, #0.0 with size<1> = 0
            0x6e20_d901,    // fcmle v1.4s, #0.0 with size<1> = 0
            // FMOV (vector, immediate) with op = 1 and o2 = 1: only op = 0
            // is the half-precision form. qemu-aarch64 7.2 runs it as that
            // form (see tools/difffuzz/README.md).
            0x6f02_fd15,
            0x0ee0_b820, // abs v0.1d, v1.1d
            0x5e20_b820, // abs b0, b1
            0x5e22_8420, // add b0, b1, b2
            0x0c40_0c36, // ld4 {v22.1d-v25.1d}, [x1]
            0x4e07_95d0, // sdot v16.4s with size 00
            0xce78_2e3c, // rax1 with bit 15 clear
            // From qemu-aarch64 SIGILLs of the fuzzer (session 4).
            0x0e20_9020, // sqdmlal with size 00
            0x2e60_d020, // sqdmull with U = 1
            0x4f48_a420, // sshll2 with immh 1xxx
            0x2f48_a420, // ushll with immh 1xxx
            0x4e00_1c20, // ins with imm5 x0000
            0x0e08_0420, // dup v0.1d (Q = 0, 64-bit lanes)
            0x2fd2_99a7, // fmulx v7.1d, v13.1d, v18.d[1]
            0x6fc0_f020, // sqrdmlsh by element with size 11
            0x5e20_9020, // sqdmlal scalar with size 00
            0x5f61_f10c, // "sqrdmlsh s12, h8, v1.h[2]" with U = 0
        ] {
            assert!(is_unallocated(w), "{w:#010x}");
        }
    }

    /// Writes random words of every rule's space that the rules refuse
    /// to `$VMX_UNALLOC_DUMP` (little-endian), for checking against
    /// `objdump -D -b binary -m aarch64` by hand.
    #[test]
    fn dump_refused_words() {
        let Ok(path) = std::env::var("VMX_UNALLOC_DUMP") else {
            return;
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        let spaces = [
            (0x5f20_3c00u32, 0x1e20_2000u32),
            (0x5f20_0000, 0x1e00_0000),
            (0x9f20_0400, 0x0e20_0400),
            (0x9f3e_0c00, 0x0e20_0800),
            (0xdf20_0400, 0x5e20_0400),
            (0xffe0_0000, 0xce60_0000),
            (0xbfbf_0000, 0x0c00_0000),
            (0xbfa0_0000, 0x0c80_0000),
            (0x9f20_8400, 0x0e00_8400),
            (0xdf3e_0c00, 0x5e20_0800),
            (0x9ff8_0400, 0x0f00_0400),
            (0x9f20_0c00, 0x0e20_0000),
            (0xdf20_0c00, 0x5e20_0000),
            (0x9f80_0400, 0x0f00_0400),
            (0x9fe0_8400, 0x0e00_0400),
            (0xdfe0_8400, 0x5e00_0400),
            (0x9f00_0400, 0x0f00_0000),
            (0xdf00_0400, 0x5f00_0000),
        ];
        for (mask, bits) in spaces {
            for _ in 0..20000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let w = (x as u32 & !mask) | bits;
                if is_unallocated(w) {
                    out.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
        std::fs::write(path, out).expect("write");
    }

    #[test]
    fn allocated_encodings_pass() {
        for w in [
            0x1e61_2000u32, // fcmp d0, d1
            0x1e60_2008,    // fcmp d0, #0.0
            0x9e42_c020,    // scvtf d0, x1, #16
            0x1e58_fc20,    // fcvtzs w0, d1, #1
            0x4e62_d420,    // fadd v0.2d, v1.2d, v2.2d
            0x0e22_d420,    // fadd v0.2s, v1.2s, v2.2s
            0x4ee2_8420,    // add v0.2d, v1.2d, v2.2d
            0x0e22_1c20,    // and v0.8b, v1.8b, v2.8b
            0x4ea0_f820,    // fabs v0.4s, v1.4s
            0x4ee0_d820,    // fcmeq v0.2d, v1.2d, #0.0
            0x0e61_6820,    // fcvtn v0.2s, v1.2d
            0x4ea1_c820,    // urecpe v0.4s, v1.4s
            0x6f00_e400,    // movi v0.2d, #0
            0x4f03_f600,    // fmov v0.4s, #1.0
            0x5ee0_b820,    // fcvtzs d0, d1
            0x5ee2_8420,    // add d0, d1, d2
            0x5e62_0c20,    // sqadd h0, h1, h2
            0x4ee0_b820,    // abs v0.2d, v1.2d
            0x5ee0_b820,    // fcvtzs d0, d1
            0x2e20_5820,    // mvn v0.8b, v1.8b
            0x2e60_5820,    // rbit v0.8b, v1.8b
            0x0e20_5820,    // cnt v0.8b, v1.8b
            0x5e21_4820,    // sqxtn b0, h1
            0x4ea1_2820,    // xtn2 v0.4s, v1.2d
            0x0c40_7c20,    // ld1 {v0.1d}, [x1]
            0x4c40_0c20,    // ld4 {v0.2d-v3.2d}, [x1]
            0x4e82_9420,    // sdot v0.4s, v1.16b, v2.16b
            0xce62_8020,    // sha512h q0, q1, v2.2d
            0xce62_8c20,    // rax1 v0.2d, v1.2d, v2.2d
            0x0e61_9020,    // sqdmlal v0.4s, v1.4h, v1.4h
            0x0ee2_e020,    // pmull v0.1q, v1.1d, v2.1d
            0x2e22_0020,    // uaddl v0.8h, v1.8b, v2.8b
            0x5e62_d020,    // sqdmull s0, h1, h2
            0x4f20_a420,    // sshll2 v0.2d, v1.4s, #0
            0x4f41_0420,    // sshr v0.2d, v1.2d, #63
            0x4e08_0420,    // dup v0.2d, v1.d[0]
            0x4e18_1c20,    // mov v0.d[1], x1
            0x0e0c_3c20,    // mov w0, v1.s[1]
            0x4e08_3c20,    // mov x0, v1.d[0]
            0x4e04_2c20,    // smov x0, v1.s[0]
            0x6e18_0420,    // mov v0.d[1], v1.d[0]
            0x5e08_0420,    // mov d0, v1.d[0]
            0x4fc1_9020,    // fmul v0.2d, v1.2d, v1.d[0]
            0x2f81_9020,    // fmulx v0.2s, v1.2s, v1.s[0]
            0x6f41_f020,    // sqrdmlsh v0.8h, v1.8h, v1.h[0]
            0x5f41_c020,    // sqdmulh h0, h1, v1.h[0]
        ] {
            assert!(!is_unallocated(w), "{w:#010x}");
        }
    }
}
