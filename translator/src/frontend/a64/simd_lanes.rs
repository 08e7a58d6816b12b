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
