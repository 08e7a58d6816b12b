//! Lowering of vector IR ops to Cranelift SIMD (SSE4.1 level).
//!
//! Invariants: every V128 value is an `I8X16`; ops bitcast (little-endian
//! lane order, as on Arm) to the lane shape they need and back. Fixed
//! permutations are byte `shuffle`s with constant masks; `vtbl1` is
//! `swizzle`, whose out-of-range-gives-zero rule is Arm's TBL rule.
//! Scalars are zero-extended to at least 32 bits before `scalar_to_vector`
//! (x86 MOVD copies 32 bits of the source register). Casting looks
//! through earlier bitcasts, and a ZIP with the lanes' sign fill or zero
//! (how the lifter widens) becomes `swiden`/`uwiden`, so that Cranelift's
//! patterns over those (`pmovsx`, `pmuldq` for SMULL...) apply.

use cranelift_codegen::ir::{
    self, condcodes::IntCC as ClCC, types, ConstantData, Endianness, InstBuilder, InstructionData,
    MemFlagsData, Type as ClType, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;

use crate::ir::{Imm, InstData, Lanes, Opcode, VBinOp, VReduceOp, VShiftOp, VUnOp};

/// Flags for vector bitcasts between lane shapes.
fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The Cranelift vector type of a lane shape.
fn vty(l: Lanes) -> ClType {
    match l {
        Lanes::I8x16 => types::I8X16,
        Lanes::I16x8 => types::I16X8,
        Lanes::I32x4 => types::I32X4,
        Lanes::I64x2 => types::I64X2,
    }
}

/// `v` with the bitcasts that produced it stripped, stopping early at a
/// value of type `to` if the chain has one.
fn uncast(fb: &FunctionBuilder, mut v: ClValue, to: Option<ClType>) -> ClValue {
    let dfg = &fb.func.dfg;
    while Some(dfg.value_type(v)) != to {
        match dfg.value_def(v).inst() {
            Some(inst) if dfg.insts[inst].opcode() == ir::Opcode::Bitcast => {
                v = dfg.inst_args(inst)[0];
            }
            _ => break,
        }
    }
    v
}

/// Reinterprets `v` as type `to` (no-op when it already is, or was before
/// an earlier bitcast: all of them are lane reinterpretations).
fn cast(fb: &mut FunctionBuilder, to: ClType, v: ClValue) -> ClValue {
    let u = uncast(fb, v, Some(to));
    if fb.func.dfg.value_type(u) == to {
        u
    } else {
        fb.ins().bitcast(to, le(), v)
    }
}

/// Whether `v` is the all-zero vector constant.
fn is_zero(fb: &FunctionBuilder, v: ClValue) -> bool {
    let dfg = &fb.func.dfg;
    let v = uncast(fb, v, None);
    match dfg.value_def(v).inst().map(|i| &dfg.insts[i]) {
        Some(InstructionData::UnaryConst {
            opcode: ir::Opcode::Vconst,
            constant_handle,
        }) => dfg.constants.get(*constant_handle).iter().all(|b| *b == 0),
        _ => false,
    }
}

/// Whether `fill` extends `v`'s lanes of shape `l` when zipped with it:
/// `Some(true)` for the sign fill `0 > v` (signed lanes), `Some(false)`
/// for zero.
fn extension_fill(fb: &FunctionBuilder, l: Lanes, v: ClValue, fill: ClValue) -> Option<bool> {
    if is_zero(fb, fill) {
        return Some(false);
    }
    let dfg = &fb.func.dfg;
    let fill = uncast(fb, fill, None);
    let inst = dfg.value_def(fill).inst()?;
    match dfg.insts[inst] {
        InstructionData::IntCompare {
            opcode: ir::Opcode::Icmp,
            cond: ClCC::SignedGreaterThan,
            args: [z, x],
        } if dfg.value_type(fill) == vty(l)
            && is_zero(fb, z)
            && uncast(fb, x, None) == uncast(fb, v, None) =>
        {
            Some(true)
        }
        _ => None,
    }
}

fn bytes(fb: &mut FunctionBuilder, v: ClValue) -> ClValue {
    cast(fb, types::I8X16, v)
}

fn vconst(fb: &mut FunctionBuilder, c: u128) -> ClValue {
    let h = fb
        .func
        .dfg
        .constants
        .insert(ConstantData::from(&c.to_le_bytes()[..]));
    fb.ins().vconst(types::I8X16, h)
}

/// `shuffle(a, b, mask)` on bytes: indices 0..16 pick from `a`, 16..32
/// from `b`.
fn shuffle(fb: &mut FunctionBuilder, a: ClValue, b: ClValue, mask: [u8; 16]) -> ClValue {
    let a = bytes(fb, a);
    let b = bytes(fb, b);
    let m = fb.func.dfg.immediates.push(ConstantData::from(&mask[..]));
    fb.ins().shuffle(a, b, m)
}

/// Byte mask of a lane permutation: result lane `k` is lane `src(k)` of
/// the 32-lane concatenation `a, b`.
fn lane_mask(l: Lanes, src: impl Fn(u32) -> u32) -> [u8; 16] {
    let w = l.lane_bits() / 8;
    let mut m = [0u8; 16];
    for (i, byte) in m.iter_mut().enumerate() {
        let i = i as u32;
        *byte = (src(i / w) * w + i % w) as u8;
    }
    m
}

/// ZIP1/ZIP2/UZP1/UZP2 as a byte shuffle.
fn permute(fb: &mut FunctionBuilder, op: VBinOp, l: Lanes, a: ClValue, b: ClValue) -> ClValue {
    let n = l.count();
    let mask = match op {
        VBinOp::Zip1 => lane_mask(l, |k| (k / 2) + (k % 2) * n),
        VBinOp::Zip2 => lane_mask(l, |k| n / 2 + (k / 2) + (k % 2) * n),
        VBinOp::Uzp1 => lane_mask(l, |k| 2 * k),
        VBinOp::Trn1 => lane_mask(l, |k| if k % 2 == 0 { k } else { n + k - 1 }),
        VBinOp::Trn2 => lane_mask(l, |k| if k % 2 == 0 { k + 1 } else { n + k }),
        _ => lane_mask(l, |k| 2 * k + 1),
    };
    shuffle(fb, a, b, mask)
}

/// Lowers one vector op (`Vconst`, `VBin`, `VUn`, `VReduce`, `VShift`,
/// `VShrn`, `VExtract`, `VInsert`, `VSplat`, `VFromScalar`, `VZeroHigh`,
/// `VTbl1`, `VExt`); `args` are its lowered operands. V128 values are
/// `I8X16`.
pub fn lower(fb: &mut FunctionBuilder, inst: &InstData, args: &[ClValue]) -> ClValue {
    let ty = super::types::cl_type(inst.ty);
    match (inst.op, inst.imm) {
        (Opcode::Vconst, Imm::U128(c)) => vconst(fb, c),
        (Opcode::VBin, Imm::VBin((op, l))) => binary(fb, op, l, args[0], args[1]),
        (Opcode::VUn, Imm::VUn((op, l))) => unary(fb, op, l, args[0]),
        (Opcode::VReduce, Imm::VReduce((op, l))) => reduce(fb, op, l, ty, args[0]),
        (Opcode::VShift, Imm::VShift((op, l, n))) => {
            let v = cast(fb, vty(l), args[0]);
            let n = i64::from(n);
            let r = match op {
                VShiftOp::Shl => fb.ins().ishl_imm_u(v, n),
                VShiftOp::Ushr => fb.ins().ushr_imm_u(v, n),
                VShiftOp::Sshr => fb.ins().sshr_imm_u(v, n),
            };
            bytes(fb, r)
        }
        (Opcode::VShrn, Imm::Lane((l, n))) => {
            let v = cast(fb, vty(l), args[0]);
            let v = fb.ins().ushr_imm_u(v, i64::from(n));
            let z = vconst(fb, 0);
            let w = l.lane_bits() / 8;
            let mut mask = [16u8; 16];
            for (k, byte) in mask.iter_mut().take(8).enumerate() {
                let k = k as u32;
                *byte = ((k / (w / 2)) * w + k % (w / 2)) as u8;
            }
            shuffle(fb, v, z, mask)
        }
        (Opcode::VExtract, Imm::Lane((l, idx))) => extract(fb, ty, l, idx, args[0]),
        (Opcode::VInsert, Imm::Lane((l, idx))) => {
            let s = lane_scalar(fb, l, args[1]);
            let v = cast(fb, vty(l), args[0]);
            let r = fb.ins().insertlane(v, s, idx);
            bytes(fb, r)
        }
        (Opcode::VSplat, Imm::Lanes(l)) => {
            let s = lane_scalar(fb, l, args[0]);
            let r = fb.ins().splat(vty(l), s);
            bytes(fb, r)
        }
        (Opcode::VFromScalar, _) => from_scalar(fb, args[0]),
        (Opcode::VZeroHigh, _) => {
            let m = vconst(fb, u64::MAX as u128);
            fb.ins().band(args[0], m)
        }
        (Opcode::VTbl1, _) => fb.ins().swizzle(args[0], args[1]),
        (Opcode::VExt, Imm::U64(pos)) => {
            let mut mask = [0u8; 16];
            for (k, byte) in mask.iter_mut().enumerate() {
                *byte = (pos as usize + k) as u8;
            }
            shuffle(fb, args[0], args[1], mask)
        }
        (op, imm) => unreachable!("not a vector op: {op:?} {imm:?}"),
    }
}

/// A scalar as the integer type of one lane of `l`.
fn lane_scalar(fb: &mut FunctionBuilder, l: Lanes, s: ClValue) -> ClValue {
    let lane = vty(l).lane_type();
    let mut s = s;
    let t = fb.func.dfg.value_type(s);
    if t.is_float() {
        let it = if t == types::F32 {
            types::I32
        } else {
            types::I64
        };
        s = fb.ins().bitcast(it, le(), s);
    }
    let t = fb.func.dfg.value_type(s);
    if t.bits() > lane.bits() {
        fb.ins().ireduce(lane, s)
    } else if t.bits() < lane.bits() {
        fb.ins().uextend(lane, s)
    } else {
        s
    }
}

fn extract(fb: &mut FunctionBuilder, ty: ClType, l: Lanes, idx: u8, v: ClValue) -> ClValue {
    // A constant stays behind the extraction, which Cranelift does not
    // fold: `lower_fp::unfoldable` guards FP ops on constants it can see,
    // but a register's constant may reach an op through a block parameter
    // that only becomes the constant when the blocks are sealed.
    let s = (idx == 0).then(|| lane0_scalar(fb, v)).flatten();
    if let Some(s) = s.filter(|&s| !super::lower_fp::is_constant(fb, s, 8)) {
        let st = fb.func.dfg.value_type(s);
        if st.bits() == ty.bits() && (ty.is_float() || ty.bits() == l.lane_bits()) {
            return if st == ty {
                s
            } else {
                fb.ins().bitcast(ty, le(), s)
            };
        }
    }
    if ty.is_float() {
        let fv = if ty == types::F32 {
            types::F32X4
        } else {
            types::F64X2
        };
        let v = cast(fb, fv, v);
        return fb.ins().extractlane(v, idx);
    }
    let v = cast(fb, vty(l), v);
    let x = fb.ins().extractlane(v, idx);
    if ty.bits() > l.lane_bits() {
        fb.ins().uextend(ty, x)
    } else {
        x
    }
}

/// The scalar that [`from_scalar`] put in lane 0 of `v`, if it built `v`.
/// Cranelift does not fold `extractlane` of `scalar_to_vector`: without
/// this, a scalar FP result written to a register and read by the next op
/// would be zero-extended (two instructions) on the way, and a register
/// loaded by `LDR Dt` would pass through a general register.
fn lane0_scalar(fb: &FunctionBuilder, v: ClValue) -> Option<ClValue> {
    let dfg = &fb.func.dfg;
    let inst = dfg.value_def(uncast(fb, v, None)).inst()?;
    (dfg.insts[inst].opcode() == ir::Opcode::ScalarToVector).then(|| dfg.inst_args(inst)[0])
}

fn from_scalar(fb: &mut FunctionBuilder, s: ClValue) -> ClValue {
    let t = fb.func.dfg.value_type(s);
    let (vt, s) = match t {
        types::F32 => (types::F32X4, s),
        types::F64 => (types::F64X2, s),
        types::I64 => (types::I64X2, s),
        types::I32 => (types::I32X4, s),
        _ => (types::I32X4, fb.ins().uextend(types::I32, s)),
    };
    let r = fb.ins().scalar_to_vector(vt, s);
    bytes(fb, r)
}

fn binary(fb: &mut FunctionBuilder, op: VBinOp, l: Lanes, a: ClValue, b: ClValue) -> ClValue {
    match op {
        VBinOp::And => return fb.ins().band(a, b),
        VBinOp::Or => return fb.ins().bor(a, b),
        VBinOp::Xor => return fb.ins().bxor(a, b),
        VBinOp::AndNot => return fb.ins().band_not(a, b),
        VBinOp::Zip1 | VBinOp::Zip2 if l != Lanes::I64x2 => {
            let Some(signed) = extension_fill(fb, l, a, b) else {
                return permute(fb, op, l, a, b);
            };
            let x = cast(fb, vty(l), a);
            let r = match (op, signed) {
                (VBinOp::Zip1, true) => fb.ins().swiden_low(x),
                (VBinOp::Zip1, false) => fb.ins().uwiden_low(x),
                (_, true) => fb.ins().swiden_high(x),
                (_, false) => fb.ins().uwiden_high(x),
            };
            return bytes(fb, r);
        }
        VBinOp::Zip1 | VBinOp::Zip2 | VBinOp::Uzp1 | VBinOp::Uzp2 | VBinOp::Trn1 | VBinOp::Trn2 => {
            return permute(fb, op, l, a, b)
        }
        VBinOp::AddPairwise | VBinOp::UminPairwise | VBinOp::UmaxPairwise => {
            let even = permute(fb, VBinOp::Uzp1, l, a, b);
            let odd = permute(fb, VBinOp::Uzp2, l, a, b);
            let inner = match op {
                VBinOp::AddPairwise => VBinOp::Add,
                VBinOp::UminPairwise => VBinOp::Umin,
                _ => VBinOp::Umax,
            };
            return binary(fb, inner, l, even, odd);
        }
        VBinOp::Mul if l == Lanes::I8x16 => {
            // x86 has no byte multiply: multiply 16-bit halves, keep the
            // low bytes.
            let (alo, ahi) = (fb.ins().uwiden_low(a), fb.ins().uwiden_high(a));
            let (blo, bhi) = (fb.ins().uwiden_low(b), fb.ins().uwiden_high(b));
            let lo = fb.ins().imul(alo, blo);
            let hi = fb.ins().imul(ahi, bhi);
            return permute(fb, VBinOp::Uzp1, l, lo, hi);
        }
        _ => {}
    }
    let t = vty(l);
    let a = cast(fb, t, a);
    let b = cast(fb, t, b);
    let r = match op {
        VBinOp::Add => fb.ins().iadd(a, b),
        VBinOp::Sub => fb.ins().isub(a, b),
        VBinOp::Mul => fb.ins().imul(a, b),
        VBinOp::CmpEq => fb.ins().icmp(ClCC::Equal, a, b),
        VBinOp::CmpGt => fb.ins().icmp(ClCC::SignedGreaterThan, a, b),
        VBinOp::CmpGe => fb.ins().icmp(ClCC::SignedGreaterThanOrEqual, a, b),
        VBinOp::CmpHi => fb.ins().icmp(ClCC::UnsignedGreaterThan, a, b),
        VBinOp::CmpHs => fb.ins().icmp(ClCC::UnsignedGreaterThanOrEqual, a, b),
        VBinOp::CmpTst => {
            let x = fb.ins().band(a, b);
            let z = vconst(fb, 0);
            let z = cast(fb, t, z);
            fb.ins().icmp(ClCC::NotEqual, x, z)
        }
        VBinOp::SqAdd => fb.ins().sadd_sat(a, b),
        VBinOp::UqAdd => fb.ins().uadd_sat(a, b),
        VBinOp::SqSub => fb.ins().ssub_sat(a, b),
        VBinOp::UqSub => fb.ins().usub_sat(a, b),
        VBinOp::SqRdMulH => fb.ins().sqmul_round_sat(a, b),
        VBinOp::Umin => fb.ins().umin(a, b),
        VBinOp::Umax => fb.ins().umax(a, b),
        VBinOp::Smin => fb.ins().smin(a, b),
        VBinOp::Smax => fb.ins().smax(a, b),
        _ => unreachable!("handled above: {op:?}"),
    };
    bytes(fb, r)
}

fn unary(fb: &mut FunctionBuilder, op: VUnOp, l: Lanes, a: ClValue) -> ClValue {
    let t = vty(l);
    let r = match op {
        VUnOp::Not => fb.ins().bnot(a),
        VUnOp::Neg => {
            let v = cast(fb, t, a);
            fb.ins().ineg(v)
        }
        VUnOp::Abs => {
            let v = cast(fb, t, a);
            fb.ins().iabs(v)
        }
        VUnOp::Cnt => fb.ins().popcnt(a),
        VUnOp::CmpEqZ => {
            let v = cast(fb, t, a);
            let z = vconst(fb, 0);
            let z = cast(fb, t, z);
            fb.ins().icmp(ClCC::Equal, v, z)
        }
        VUnOp::RevBytes => {
            let w = l.lane_bits() / 8;
            let mut mask = [0u8; 16];
            for (i, byte) in mask.iter_mut().enumerate() {
                let i = i as u32;
                *byte = (i - i % w + (w - 1 - i % w)) as u8;
            }
            shuffle(fb, a, a, mask)
        }
        VUnOp::Rbit => {
            // Reverse each nibble by table lookup, then swap nibbles.
            let table = vconst(fb, 0x0f07_0b03_0d05_0901_0e06_0a02_0c04_0800);
            let low_mask = vconst(fb, 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f);
            let lo = fb.ins().band(a, low_mask);
            let hi = fb.ins().ushr_imm_u(a, 4);
            let hi = fb.ins().band(hi, low_mask);
            let rlo = fb.ins().swizzle(table, lo);
            let rhi = fb.ins().swizzle(table, hi);
            let rlo = fb.ins().ishl_imm_u(rlo, 4);
            fb.ins().bor(rlo, rhi)
        }
        VUnOp::NarrowSs | VUnOp::NarrowSu | VUnOp::NarrowUu => {
            let mut v = cast(fb, t, a);
            if op == VUnOp::NarrowUu {
                // Clamp to the narrow unsigned range first; the values are
                // then non-negative, which the signed-input pack needs.
                let bits = l.lane_bits() / 2;
                let max = vconst(fb, replicate((1u64 << bits) - 1, l.lane_bits()));
                let max = cast(fb, t, max);
                v = fb.ins().umin(v, max);
            }
            let z = vconst(fb, 0);
            let z = cast(fb, t, z);
            if op == VUnOp::NarrowSs {
                fb.ins().snarrow(v, z)
            } else {
                fb.ins().unarrow(v, z)
            }
        }
    };
    bytes(fb, r)
}

/// Repeats a `bits`-wide pattern over 128 bits.
fn replicate(pattern: u64, bits: u32) -> u128 {
    (0..128 / bits).fold(0u128, |acc, k| acc | (u128::from(pattern) << (k * bits)))
}

/// Across-lanes reduction. A sum into a wider result first widens the
/// lanes (zero-extending) until they have the result's width.
fn reduce(fb: &mut FunctionBuilder, op: VReduceOp, l: Lanes, ty: ClType, a: ClValue) -> ClValue {
    let mut l = l;
    let mut v = cast(fb, vty(l), a);
    let sum = matches!(op, VReduceOp::Add | VReduceOp::SAdd);
    while sum && l.lane_bits() < ty.bits() {
        let (lo, hi) = if op == VReduceOp::SAdd {
            (fb.ins().swiden_low(v), fb.ins().swiden_high(v))
        } else {
            (fb.ins().uwiden_low(v), fb.ins().uwiden_high(v))
        };
        v = fb.ins().iadd(lo, hi);
        l = Lanes::of_bits(l.lane_bits() * 2);
    }
    let inner = match op {
        VReduceOp::Add | VReduceOp::SAdd => VBinOp::Add,
        VReduceOp::Umax => VBinOp::Umax,
        VReduceOp::Umin => VBinOp::Umin,
        VReduceOp::Smax => VBinOp::Smax,
        VReduceOp::Smin => VBinOp::Smin,
    };
    let mut live = l.count();
    let mut v = bytes(fb, v);
    while live > 1 {
        live /= 2;
        let half = live;
        let upper = shuffle(fb, v, v, lane_mask(l, |k| (k + half) % l.count()));
        v = binary(fb, inner, l, v, upper);
    }
    let v = cast(fb, vty(l), v);
    let x = fb.ins().extractlane(v, 0);
    if ty.bits() > l.lane_bits() {
        fb.ins().uextend(ty, x)
    } else if ty.bits() < l.lane_bits() {
        fb.ins().ireduce(ty, x)
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData};

    use super::super::lower_fp::jit::{compile, inst};
    use super::*;
    use crate::ir::Type;

    /// Runs a two-vector-in, vector-out op.
    fn run2(op: Opcode, imm: Imm, a: u128, b: u128) -> u128 {
        let p = types::I64;
        let code = compile(&[p, p, p], &[], |fb, args| {
            let fl = MemFlagsData::trusted();
            let x = fb.ins().load(types::I8X16, fl, args[0], 0);
            let y = fb.ins().load(types::I8X16, fl, args[1], 0);
            let r = lower(fb, &inst(op, Type::V128, imm), &[x, y]);
            fb.ins().store(fl, r, args[2], 0);
            fb.ins().return_(&[]);
        });
        // SAFETY: compiled with exactly this signature.
        let f = unsafe {
            std::mem::transmute::<*const u8, extern "C" fn(&u128, &u128, &mut u128)>(code)
        };
        let mut out = 0u128;
        f(&a, &b, &mut out);
        out
    }

    /// Runs a vector-in, scalar-out op of type `ty`.
    fn run_to_scalar(op: Opcode, ty: Type, imm: Imm, a: u128) -> u64 {
        let p = types::I64;
        let code = compile(&[p], &[types::I64], |fb, args| {
            let fl = MemFlagsData::trusted();
            let x = fb.ins().load(types::I8X16, fl, args[0], 0);
            let r = lower(fb, &inst(op, ty, imm), &[x]);
            let r = if ty.bits() < 64 {
                fb.ins().uextend(types::I64, r)
            } else {
                r
            };
            fb.ins().return_(&[r]);
        });
        // SAFETY: compiled with exactly this signature.
        let f = unsafe { std::mem::transmute::<*const u8, extern "C" fn(&u128) -> u64>(code) };
        f(&a)
    }

    const A: u128 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
    const B: u128 = 0x1f1e_1d1c_1b1a_1918_1716_1514_1312_1110;

    #[test]
    fn permutes() {
        let vb = |op, l| Imm::VBin((op, l));
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Zip1, Lanes::I8x16), A, B),
            0x1707_1606_1505_1404_1303_1202_1101_1000
        );
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Uzp2, Lanes::I16x8), A, B),
            0x1f1e_1b1a_1716_1312_0f0e_0b0a_0706_0302
        );
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Zip2, Lanes::I64x2), A, B),
            0x1f1e_1d1c_1b1a_1918_0f0e_0d0c_0b0a_0908
        );
        assert_eq!(
            run2(Opcode::VExt, Imm::U64(3), A, B),
            0x1211_100f_0e0d_0c0b_0a09_0807_0605_0403
        );
        assert_eq!(run2(Opcode::VTbl1, Imm::None, A, 0x10ff_0f00), 0x0f00);
        // TRN1: a0 b0 a2 b2 ...; TRN2: a1 b1 a3 b3 ... (Arm ARM C7.2).
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Trn1, Lanes::I8x16), A, B),
            0x1e0e_1c0c_1a0a_1808_1606_1404_1202_1000
        );
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Trn2, Lanes::I16x8), A, B),
            0x1f1e_0f0e_1b1a_0b0a_1716_0706_1312_0302
        );
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::Trn1, Lanes::I64x2), A, B),
            0x1716_1514_1312_1110_0706_0504_0302_0100
        );
    }

    #[test]
    fn pairwise_and_compares() {
        let vb = |op, l| Imm::VBin((op, l));
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::AddPairwise, Lanes::I8x16), A, B),
            0x3d39_3531_2d29_2521_1d19_1511_0d09_0501
        );
        assert_eq!(
            run2(Opcode::VBin, vb(VBinOp::UmaxPairwise, Lanes::I8x16), A, 0),
            0x0f0d_0b09_0705_0301
        );
        let hi = run2(Opcode::VBin, vb(VBinOp::CmpHi, Lanes::I8x16), 0x80, 0x7f);
        assert_eq!(hi, 0xff);
        let gt = run2(Opcode::VBin, vb(VBinOp::CmpGt, Lanes::I8x16), 0x80, 0x7f);
        assert_eq!(gt, 0);
        let gt = run2(Opcode::VBin, vb(VBinOp::CmpGt, Lanes::I8x16), 0x7f, 0x80);
        assert_eq!(gt, 0xff);
        let tst = run2(
            Opcode::VBin,
            vb(VBinOp::CmpTst, Lanes::I16x8),
            0x0100,
            0x0300,
        );
        assert_eq!(tst, 0xffff);
    }

    #[test]
    fn reductions_and_shrn() {
        let r = |op, l| Imm::VReduce((op, l));
        let sum = run_to_scalar(
            Opcode::VReduce,
            Type::I16,
            r(VReduceOp::Add, Lanes::I8x16),
            !0,
        );
        assert_eq!(sum, 16 * 255);
        let sum8 = run_to_scalar(
            Opcode::VReduce,
            Type::I8,
            r(VReduceOp::Add, Lanes::I8x16),
            A,
        );
        assert_eq!(sum8, 120);
        let max = run_to_scalar(
            Opcode::VReduce,
            Type::I8,
            r(VReduceOp::Umax, Lanes::I8x16),
            A,
        );
        assert_eq!(max, 15);
        let min = run_to_scalar(
            Opcode::VReduce,
            Type::I16,
            r(VReduceOp::Umin, Lanes::I16x8),
            B,
        );
        assert_eq!(min, 0x1110);
        // SADDLV sign-extends: sixteen -1 bytes sum to -16.
        let ssum = run_to_scalar(
            Opcode::VReduce,
            Type::I16,
            r(VReduceOp::SAdd, Lanes::I8x16),
            !0,
        );
        assert_eq!(ssum, 0xfff0);
        let ssum = run_to_scalar(
            Opcode::VReduce,
            Type::I64,
            r(VReduceOp::SAdd, Lanes::I32x4),
            0x8000_0000_8000_0000_7fff_ffff_0000_0001,
        );
        assert_eq!(ssum as i64, 1 + 0x7fff_ffff - 2 * 0x8000_0000);
        let d = run_to_scalar(
            Opcode::VReduce,
            Type::I64,
            r(VReduceOp::Add, Lanes::I64x2),
            A,
        );
        assert_eq!(d, 0x0f0e_0d0c_0b0a_0908 + 0x0706_0504_0302_0100);
        let shrn = run2(
            Opcode::VShrn,
            Imm::Lane((Lanes::I16x8, 4)),
            0xf0f0_0ff0_1234,
            0,
        );
        assert_eq!(shrn, 0x000f_ff23);
        let lane = run_to_scalar(Opcode::VExtract, Type::I32, Imm::Lane((Lanes::I8x16, 9)), A);
        assert_eq!(lane, 9);
    }

    #[test]
    fn saturating_and_narrowing() {
        let vb = |op, l| Imm::VBin((op, l));
        // Lanes (low first): 0x7f + 1, -128 + -1, 0 + 0, 0xff + 0xff.
        let a = 0xff_00_80_7f;
        let b = 0xff_00_ff_01;
        let sq = run2(Opcode::VBin, vb(VBinOp::SqAdd, Lanes::I8x16), a, b);
        assert_eq!(sq, 0xfe_00_80_7f);
        let uq = run2(Opcode::VBin, vb(VBinOp::UqAdd, Lanes::I8x16), a, b);
        assert_eq!(uq, 0xff_00_ff_80);
        let us = run2(
            Opcode::VBin,
            vb(VBinOp::UqSub, Lanes::I16x8),
            0x0001_8000,
            0x0002_7fff,
        );
        assert_eq!(us, 0x0000_0001);
        let ss = run2(
            Opcode::VBin,
            vb(VBinOp::SqSub, Lanes::I16x8),
            0x8000,
            0x0001,
        );
        assert_eq!(ss, 0x8000);
        // Halfword lanes 256, -128, 5, -32768, 0xffff (-1 or 65535).
        let h = 0xffff_8000_0005_ff80_0100;
        let u = |op| Imm::VUn((op, Lanes::I16x8));
        assert_eq!(
            run2(Opcode::VUn, u(VUnOp::NarrowSs), h, 0),
            0xff_80_05_80_7f
        );
        assert_eq!(
            run2(Opcode::VUn, u(VUnOp::NarrowSu), h, 0),
            0x00_00_05_00_ff
        );
        assert_eq!(
            run2(Opcode::VUn, u(VUnOp::NarrowUu), h, 0),
            0xff_ff_05_ff_ff
        );
        let w = Imm::VUn((VUnOp::NarrowUu, Lanes::I32x4));
        assert_eq!(run2(Opcode::VUn, w, 0x0001_0000_0000_fffe, 0), 0xffff_fffe);
    }

    #[test]
    fn unary_ops() {
        let u = |op, l| Imm::VUn((op, l));
        let cnt = run2(Opcode::VUn, u(VUnOp::Cnt, Lanes::I8x16), 0xff07_0100, 0);
        assert_eq!(cnt, 0x0803_0100);
        let rbit = run2(Opcode::VUn, u(VUnOp::Rbit, Lanes::I8x16), 0x0180_f001, 0);
        assert_eq!(rbit, 0x8001_0f80);
        let rev = run2(Opcode::VUn, u(VUnOp::RevBytes, Lanes::I32x4), A, 0);
        assert_eq!(rev, 0x0c0d_0e0f_0809_0a0b_0405_0607_0001_0203);
        let z = run2(Opcode::VUn, u(VUnOp::CmpEqZ, Lanes::I8x16), A, 0);
        assert_eq!(z, 0xff);
        let zh = run2(Opcode::VZeroHigh, Imm::None, A, 0);
        assert_eq!(zh, A & u64::MAX as u128);
    }

    #[test]
    fn every_shape_compiles() {
        use VBinOp::*;
        let all = [Lanes::I8x16, Lanes::I16x8, Lanes::I32x4, Lanes::I64x2];
        let bins = [
            Add,
            Sub,
            CmpEq,
            CmpGt,
            CmpGe,
            CmpHi,
            CmpHs,
            CmpTst,
            Umin,
            Umax,
            Smin,
            Smax,
            AddPairwise,
            UminPairwise,
            UmaxPairwise,
            Zip1,
            Zip2,
            Uzp1,
            Uzp2,
            Trn1,
            Trn2,
        ];
        for l in all {
            for op in bins {
                run2(Opcode::VBin, Imm::VBin((op, l)), A, B);
            }
            for op in [VUnOp::Neg, VUnOp::Abs, VUnOp::CmpEqZ] {
                run2(Opcode::VUn, Imm::VUn((op, l)), A, B);
            }
            for op in [VShiftOp::Shl, VShiftOp::Ushr, VShiftOp::Sshr] {
                run2(Opcode::VShift, Imm::VShift((op, l, 3)), A, B);
            }
            for op in [
                VReduceOp::Umax,
                VReduceOp::Umin,
                VReduceOp::Smax,
                VReduceOp::Smin,
            ] {
                let ty = Type::int(l.lane_bits());
                run_to_scalar(Opcode::VReduce, ty, Imm::VReduce((op, l)), A);
            }
        }
        for l in all {
            run2(Opcode::VBin, Imm::VBin((Mul, l)), A, B);
        }
        let sq = run2(
            Opcode::VBin,
            Imm::VBin((Mul, Lanes::I8x16)),
            0x0010_03ff,
            0x0010_03ff,
        );
        assert_eq!(sq, 0x0901);
    }
}
