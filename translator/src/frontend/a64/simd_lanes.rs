//! Lane-by-lane lifting for the Advanced SIMD integer instructions that
//! have no single vector op (saturating, rounding and register-controlled
//! shifts, scalar B/H/S forms): each lane is extracted as an `i64`
//! (sign- or zero-extended), computed with scalar IR ops and inserted back.
//!
//! Invariants: lanes of up to 32 bits are computed exactly in `i64` (no
//! intermediate overflows: products of two 32-bit lanes and shifts by less
//! than 32 fit); 64-bit lanes take the explicit overflow paths in the
//! callers. A result has exactly `count` lanes, all other bits zero.
//! Saturation sets FPSR.QC (bit 27), accumulated per instruction by [`Qc`].

use yaxpeax_arm::armv8::a64::{Operand, SIMDSizeCode};

use super::ctx::{unsupported, Ctx, Unsupported};
use crate::ir::{IntCC, Lanes, SysReg, Type, Value};

/// A vector or scalar SIMD operand: register, lane shape and the number of
/// lanes the instruction uses (1 for a scalar `B/H/S/D` register).
#[derive(Clone, Copy, Debug)]
pub struct Vx {
    /// Register number.
    pub reg: u16,
    /// Lane shape.
    pub lanes: Lanes,
    /// Lanes in use.
    pub count: u32,
}

impl Vx {
    /// Bits of one lane.
    pub fn bits(&self) -> u32 {
        self.lanes.lane_bits()
    }

    /// Whether all 128 bits are used.
    pub fn full(&self) -> bool {
        self.count * self.bits() == 128
    }
}

/// The lane shape of an element size code.
pub fn lanes_of(esize: SIMDSizeCode) -> Result<Lanes, Unsupported> {
    match esize {
        SIMDSizeCode::B => Ok(Lanes::I8x16),
        SIMDSizeCode::H => Ok(Lanes::I16x8),
        SIMDSizeCode::S => Ok(Lanes::I32x4),
        SIMDSizeCode::D => Ok(Lanes::I64x2),
        SIMDSizeCode::Q => unsupported("128-bit lanes"),
    }
}

/// Decodes `Vn.T` (64 or 128 bits) or a scalar `Bn/Hn/Sn/Dn`.
pub fn vx(op: &Operand) -> Result<Vx, Unsupported> {
    match *op {
        Operand::SIMDRegisterElements(size, reg, esize) => {
            let lanes = lanes_of(esize)?;
            let total = if size == SIMDSizeCode::Q { 128 } else { 64 };
            Ok(Vx {
                reg,
                lanes,
                count: total / lanes.lane_bits(),
            })
        }
        Operand::SIMDRegister(size, reg) => Ok(Vx {
            reg,
            lanes: lanes_of(size)?,
            count: 1,
        }),
        _ => unsupported(format!("vector operand {op:?}")),
    }
}

/// Reads all 128 bits of `Vr`.
pub fn get(cx: &mut Ctx, r: u16) -> Value {
    cx.b.get_v(Type::V128, r as u8)
}

/// The second source operand: a register, or the lane `Vm.T[i]` of a
/// by-element form broadcast to every lane of shape `l`.
pub fn operand_or_element(cx: &mut Ctx, op: &Operand, l: Lanes) -> Result<Value, Unsupported> {
    match *op {
        Operand::SIMDRegisterElementsLane(_, r, _, idx) => {
            let v = get(cx, r);
            let x = cx.b.vextract(Type::int(l.lane_bits()), v, (l, idx));
            Ok(cx.b.vsplat(Type::V128, x, l))
        }
        ref op => Ok(get(cx, vx(op)?.reg)),
    }
}

/// Writes `v` to `d`, clearing every bit above its `count` lanes.
pub fn put(cx: &mut Ctx, d: Vx, v: Value) {
    let used = d.count * d.bits();
    let v = match used {
        128 => v,
        64 => cx.b.vzero_high(Type::V128, v),
        _ => {
            let m = cx.b.vconst(Type::V128, (1u128 << used) - 1);
            cx.b.vbin(Type::V128, v, m, (crate::ir::VBinOp::And, Lanes::I8x16))
        }
    };
    cx.b.set_v(v, d.reg as u8);
}

/// Lane `idx` of `v` (shape `l`) as an `i64`, sign- or zero-extended.
pub fn lane(cx: &mut Ctx, v: Value, l: Lanes, idx: u32, signed: bool) -> Value {
    if signed && l.lane_bits() < 64 {
        let x = cx.b.vextract(Type::int(l.lane_bits()), v, (l, idx as u8));
        cx.b.sext(Type::I64, x)
    } else {
        cx.b.vextract(Type::I64, v, (l, idx as u8))
    }
}

/// Lanes `start..start + count` of `v` as `i64`s.
pub fn lanes(cx: &mut Ctx, v: Value, l: Lanes, start: u32, count: u32, signed: bool) -> Vec<Value> {
    (start..start + count)
        .map(|k| lane(cx, v, l, k, signed))
        .collect()
}

/// A vector whose lanes `0..vals.len()` of shape `l` are the low bits of
/// `vals`, all other bits zero.
pub fn assemble(cx: &mut Ctx, l: Lanes, vals: &[Value]) -> Value {
    let mut v = cx.b.vconst(Type::V128, 0);
    for (k, x) in vals.iter().enumerate() {
        v = cx.b.vinsert(Type::V128, v, *x, (l, k as u8));
    }
    v
}

/// An `i64` constant.
pub fn k64(cx: &mut Ctx, v: i64) -> Value {
    cx.iconst(Type::I64, v as u64)
}

/// `c ? a : b` for `i64` values.
pub fn sel(cx: &mut Ctx, c: Value, a: Value, b: Value) -> Value {
    cx.b.select(Type::I64, c, a, b)
}

/// `a cc b` on `i64` values (an `i8` 0/1).
pub fn cmp(cx: &mut Ctx, cc: IntCC, a: Value, b: Value) -> Value {
    cx.b.icmp(Type::I8, a, b, cc)
}

/// The range of a `bits`-wide lane, signed or unsigned, as `i64`s
/// (unsigned 64-bit is not representable and never asked for).
pub fn range(bits: u32, signed: bool) -> (i64, i64) {
    if signed {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, ((1u64 << bits) - 1) as i64)
    }
}

/// The saturation flags of one instruction, ORed into FPSR.QC at the end.
#[derive(Default)]
pub struct Qc(Option<Value>);

impl Qc {
    /// Records an `i8` 0/1 "this lane saturated".
    pub fn add(&mut self, cx: &mut Ctx, sat: Value) {
        self.0 = Some(match self.0 {
            Some(acc) => cx.b.or(Type::I8, acc, sat),
            None => sat,
        });
    }

    /// Sets FPSR.QC if any lane saturated.
    pub fn finish(self, cx: &mut Ctx) {
        let Some(any) = self.0 else { return };
        let fpsr = cx.b.get_sys(Type::I64, SysReg::Fpsr);
        let bit = cx.b.uext(Type::I64, any);
        let s = k64(cx, 27);
        let bit = cx.b.shl(Type::I64, bit, s);
        let fpsr = cx.b.or(Type::I64, fpsr, bit);
        cx.b.set_sys(fpsr, SysReg::Fpsr);
    }
}

/// Clamps the exact `i64` result `x` into `[lo, hi]`, comparing signed
/// (`x` is a signed quantity) or unsigned (`x` is an unsigned quantity,
/// `lo` must be 0), and records saturation.
pub fn clamp(cx: &mut Ctx, qc: &mut Qc, x: Value, (lo, hi): (i64, i64), signed: bool) -> Value {
    let hi_v = k64(cx, hi);
    let r = if signed {
        let lo_v = k64(cx, lo);
        let below = cmp(cx, IntCC::Slt, x, lo_v);
        let r = sel(cx, below, lo_v, x);
        let above = cmp(cx, IntCC::Sgt, r, hi_v);
        sel(cx, above, hi_v, r)
    } else {
        let above = cmp(cx, IntCC::Ugt, x, hi_v);
        sel(cx, above, hi_v, x)
    };
    let sat = cmp(cx, IntCC::Ne, r, x);
    qc.add(cx, sat);
    r
}

/// The saturated value for an overflow in the direction of `neg_side`
/// (`i8` 0/1, 1 = below the range): the signed 64-bit limits.
pub fn signed_limit64(cx: &mut Ctx, neg_side: Value) -> Value {
    let min = k64(cx, i64::MIN);
    let max = k64(cx, i64::MAX);
    sel(cx, neg_side, min, max)
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    /// One encoding of every Advanced SIMD integer, structure load/store,
    /// crypto and CRC form this lifter covers (assembled with
    /// `aarch64-linux-gnu-as -march=armv8.2-a+crypto+crc+dotprod+rdm+sha3`).
    /// Their results are checked against qemu-aarch64 by the `vector`
    /// fixture; here each must lift without a trap.
    const FORMS: &[(u32, &str)] = &[
        (0x4e22_0c20, "sqadd v0.16b, v1.16b, v2.16b"),
        (0x5e22_0c20, "sqadd b0, b1, b2"),
        (0x5ee2_0c20, "sqadd d0, d1, d2"),
        (0x6e65_2c83, "uqsub v3.8h, v4.8h, v5.8h"),
        (0x4ea0_3820, "suqadd v0.4s, v1.4s"),
        (0x7ee0_3820, "usqadd d0, d1"),
        (0x5e60_7820, "sqabs h0, h1"),
        (0x6ee0_7820, "sqneg v0.2d, v1.2d"),
        (0x5fa2_c020, "sqdmulh s0, s1, v2.s[1]"),
        (0x4f62_d020, "sqrdmulh v0.8h, v1.8h, v2.h[2]"),
        (0x6e42_8420, "sqrdmlah v0.8h, v1.8h, v2.8h"),
        (0x7fa2_f820, "sqrdmlsh s0, s1, v2.s[3]"),
        (0x4ea2_4420, "sshl v0.4s, v1.4s, v2.4s"),
        (0x7ee2_4420, "ushl d0, d1, d2"),
        (0x0e22_5420, "srshl v0.8b, v1.8b, v2.8b"),
        (0x6ee2_5c20, "uqrshl v0.2d, v1.2d, v2.2d"),
        (0x4f23_7420, "sqshl v0.4s, v1.4s, #3"),
        (0x5f23_7420, "sqshl s0, s1, #3"),
        (0x6f0f_7420, "uqshl v0.16b, v1.16b, #7"),
        (0x6f23_6420, "sqshlu v0.4s, v1.4s, #3"),
        (0x5f7d_2420, "srshr d0, d1, #3"),
        (0x6f40_3420, "ursra v0.2d, v1.2d, #64"),
        (0x4f21_1420, "ssra v0.4s, v1.4s, #31"),
        (0x6f40_4420, "sri v0.2d, v1.2d, #64"),
        (0x6f7f_5420, "sli v0.2d, v1.2d, #63"),
        (0x0e62_c020, "smull v0.4s, v1.4h, v2.4h"),
        (0x4e62_c020, "smull2 v0.4s, v1.8h, v2.8h"),
        (0x2f72_a020, "umull v0.4s, v1.4h, v2.h[3]"),
        (0x6fa2_2020, "umlal2 v0.2d, v1.4s, v2.s[1]"),
        (0x0e22_a020, "smlsl v0.8h, v1.8b, v2.8b"),
        (0x4ea2_0020, "saddl2 v0.2d, v1.4s, v2.4s"),
        (0x2e22_3020, "usubw v0.8h, v1.8h, v2.8b"),
        (0x0e62_7020, "sabdl v0.4s, v1.4h, v2.4h"),
        (0x6e22_5020, "uabal2 v0.8h, v1.16b, v2.16b"),
        (0x6e21_3820, "shll2 v0.8h, v1.16b, #8"),
        (0x5ea2_d020, "sqdmull d0, s1, s2"),
        (0x4fa2_b820, "sqdmull2 v0.2d, v1.4s, v2.s[3]"),
        (0x0e62_9020, "sqdmlal v0.4s, v1.4h, v2.4h"),
        (0x4ea2_b020, "sqdmlsl2 v0.2d, v1.4s, v2.4s"),
        (0x4e20_2820, "saddlp v0.8h, v1.16b"),
        (0x2ea0_6820, "uadalp v0.1d, v1.2s"),
        (0x5e21_4820, "sqxtn b0, h1"),
        (0x4e21_4820, "sqxtn2 v0.16b, v1.8h"),
        (0x7ea1_4820, "uqxtn s0, d1"),
        (0x6ea1_2820, "sqxtun2 v0.4s, v1.2d"),
        (0x4f0d_8420, "shrn2 v0.16b, v1.8h, #3"),
        (0x0f0d_8c20, "rshrn v0.8b, v1.8h, #3"),
        (0x4f0d_9420, "sqshrn2 v0.16b, v1.8h, #3"),
        (0x7f1c_9c20, "uqrshrn h0, s1, #4"),
        (0x2f2c_8c20, "sqrshrun v0.2s, v1.2d, #20"),
        (0x4e22_4020, "addhn2 v0.16b, v1.8h, v2.8h"),
        (0x2e62_6020, "rsubhn v0.4h, v1.4s, v2.4s"),
        (0x4e22_0420, "shadd v0.16b, v1.16b, v2.16b"),
        (0x6e62_1420, "urhadd v0.8h, v1.8h, v2.8h"),
        (0x6ea2_2420, "uhsub v0.4s, v1.4s, v2.4s"),
        (0x4e22_7420, "sabd v0.16b, v1.16b, v2.16b"),
        (0x2ea2_7c20, "uaba v0.2s, v1.2s, v2.2s"),
        (0x6ea0_4820, "clz v0.4s, v1.4s"),
        (0x0e20_4820, "cls v0.8b, v1.8b"),
        (0x0e22_a420, "smaxp v0.8b, v1.8b, v2.8b"),
        (0x4ea2_ac20, "sminp v0.4s, v1.4s, v2.4s"),
        (0x4e02_2820, "trn1 v0.16b, v1.16b, v2.16b"),
        (0x0e42_6820, "trn2 v0.4h, v1.4h, v2.4h"),
        (0x4e04_4020, "tbl v0.16b, {v1.16b-v3.16b}, v4.16b"),
        (0x0e04_1020, "tbx v0.8b, {v1.16b}, v4.8b"),
        (
            0x4e04_63c0,
            "tbl v0.16b, {v30.16b, v31.16b, v0.16b, v1.16b}, v4.16b",
        ),
        (0x6e22_9c20, "pmul v0.16b, v1.16b, v2.16b"),
        (0x0e22_e020, "pmull v0.8h, v1.8b, v2.8b"),
        (0x4ee2_e020, "pmull2 v0.1q, v1.2d, v2.2d"),
        (0x4e70_3820, "saddlv s0, v1.8h"),
        (0x4f72_8820, "mul v0.8h, v1.8h, v2.h[7]"),
        (0x6f82_0020, "mla v0.4s, v1.4s, v2.s[0]"),
        (0x4fa2_e820, "sdot v0.4s, v1.16b, v2.4b[3]"),
        (0x2e82_9420, "udot v0.2s, v1.8b, v2.8b"),
        (0x0d40_9000, "ld1 {v0.s}[1], [x0]"),
        (0x0ddf_9000, "ld1 {v0.s}[1], [x0], #4"),
        (0x0dc2_9000, "ld1 {v0.s}[1], [x0], x2"),
        (0x4ddf_6800, "ld3 {v0.h-v2.h}[5], [x0], #6"),
        (0x4d20_8400, "st2 {v0.d, v1.d}[1], [x0]"),
        (0x4da5_3c00, "st4 {v0.b-v3.b}[15], [x0], x5"),
        (0x4ddf_c420, "ld1r {v0.8h}, [x1], #2"),
        (0x4dff_e820, "ld4r {v0.4s-v3.4s}, [x1], #16"),
        (0x0de3_c020, "ld2r {v0.8b, v1.8b}, [x1], x3"),
        (0x4e28_4820, "aese v0.16b, v1.16b"),
        (0x4e28_5820, "aesd v0.16b, v1.16b"),
        (0x4e28_6820, "aesmc v0.16b, v1.16b"),
        (0x4e28_7820, "aesimc v0.16b, v1.16b"),
        (0x5e02_0020, "sha1c q0, s1, v2.4s"),
        (0x5e02_1020, "sha1p q0, s1, v2.4s"),
        (0x5e02_2020, "sha1m q0, s1, v2.4s"),
        (0x5e28_0820, "sha1h s0, s1"),
        (0x5e02_3020, "sha1su0 v0.4s, v1.4s, v2.4s"),
        (0x5e28_1820, "sha1su1 v0.4s, v1.4s"),
        (0x5e02_4020, "sha256h q0, q1, v2.4s"),
        (0x5e02_5020, "sha256h2 q0, q1, v2.4s"),
        (0x5e28_2820, "sha256su0 v0.4s, v1.4s"),
        (0x5e02_6020, "sha256su1 v0.4s, v1.4s, v2.4s"),
        (0x1ac2_4020, "crc32b w0, w1, w2"),
        (0x1ac2_5420, "crc32ch w0, w1, w2"),
        (0x9ac2_4c20, "crc32x w0, w1, x2"),
        (0x4ea1_c820, "urecpe v0.4s, v1.4s"),
        (0xce62_8020, "sha512h q0, q1, v2.2d"),
        (0xce62_8420, "sha512h2 q0, q1, v2.2d"),
        (0xcec0_8020, "sha512su0 v0.2d, v1.2d"),
        (0xce62_8820, "sha512su1 v0.2d, v1.2d, v2.2d"),
        (0xce02_0c20, "eor3 v0.16b, v1.16b, v2.16b, v3.16b"),
        (0xce22_0c20, "bcax v0.16b, v1.16b, v2.16b, v3.16b"),
        (0xce62_8c20, "rax1 v0.2d, v1.2d, v2.2d"),
        (0xce82_2820, "xar v0.2d, v1.2d, v2.2d, #10"),
        (0x9ac2_5c20, "crc32cx w0, w1, x2"),
    ];

    #[test]
    fn every_form_lifts() {
        for &(word, text) in FORMS {
            let ir = lift_words(&[word]);
            assert!(
                !ir.contains("trap"),
                "{text} ({word:08x}) did not lift:\n{ir}"
            );
        }
    }

    #[test]
    fn saturation_sets_qc() {
        // sqadd v0.16b, v1.16b, v2.16b ORs FPSR bit 27; uqxtn s0, d1 too.
        for word in [0x4e22_0c20, 0x7ea1_4820] {
            let ir = lift_words(&[word]);
            assert!(ir.contains("get_sys") && ir.contains("set_sys"), "{ir}");
        }
        // Plain shifts and widening ops never touch FPSR.
        for word in [0x7ee2_4420, 0x0e62_c020] {
            let ir = lift_words(&[word]);
            assert!(!ir.contains("set_sys"), "{ir}");
        }
    }
}
