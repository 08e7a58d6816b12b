//! The rest of the Advanced SIMD integer set: halving adds and subtracts
//! (SHADD/URHADD/UHSUB...), absolute differences (SABD/UABA...), CLZ/CLS,
//! the pairwise minimum/maximum (SMAXP/SMINP), TRN1/TRN2, TBL/TBX with one
//! to four table registers, polynomial multiplies (PMUL, PMULL/PMULL2 of
//! bytes and of doublewords), SADDLV, the dot products SDOT/UDOT,
//! URECPE and URSQRTE.
//!
//! Invariants: halving forms use carry-free identities on the lanes
//! (`(a & b) + ((a ^ b) >> 1)` and friends) so no lane ever needs a wider
//! intermediate; polynomial products are shift-and-xor loops whose steps
//! are selected by masks, not branches.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SIMDSizeCode};

use super::crc::xor_tree;
use super::ctx::{unsupported, Ctx, Lift};
use super::simd_lanes::{assemble, get, k64, lanes, put, vx, Vx};
use super::simd_wide::{concat_low, widen};
use crate::ir::{Lanes, Type, VBinOp, VReduceOp, VShiftOp, Value};

fn vb(cx: &mut Ctx, op: VBinOp, l: Lanes, a: Value, b: Value) -> Value {
    cx.b.vbin(Type::V128, a, b, (op, l))
}

/// Lifts the instructions of this file.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    match i.opcode {
        SHADD | UHADD | SRHADD | URHADD | SHSUB | UHSUB => halving(cx, i),
        SABD | UABD | SABA | UABA => abd(cx, i),
        CLZ | CLS => count_leading(cx, i),
        SMAXP => pairwise(cx, i, VBinOp::Smax),
        SMINP => pairwise(cx, i, VBinOp::Smin),
        TRN1 => trn(cx, i, VBinOp::Trn1),
        TRN2 => trn(cx, i, VBinOp::Trn2),
        TBL | TBX => table(cx, i),
        PMUL => pmul(cx, i),
        SDOT | UDOT => dot(cx, i),
        URECPE => urecpe(cx, i),
        URSQRTE => ursqrte(cx, i),
        PMULL | PMULL2 => pmull(cx, i),
        SADDLV => {
            let Operand::SIMDRegister(size, d) = i.operands[0] else {
                return unsupported("saddlv destination");
            };
            let ty = match size {
                SIMDSizeCode::H => Type::I16,
                SIMDSizeCode::S => Type::I32,
                _ => Type::I64,
            };
            let n = vx(&i.operands[1])?;
            let mut a = get(cx, n.reg);
            if !n.full() {
                // The sum of the zeroed upper half must not count: sign
                // extension of a zero lane is zero.
                a = cx.b.vzero_high(Type::V128, a);
            }
            let s = cx.b.vreduce(ty, a, (VReduceOp::SAdd, n.lanes));
            let v = cx.b.vfrom_scalar(Type::V128, s);
            cx.b.set_v(v, d as u8);
            Ok(())
        }
        _ => unsupported(format!("{:?}", i.opcode)),
    }
}

fn operands3(cx: &mut Ctx, i: &Instruction) -> Result<(Vx, Value, Value), super::ctx::Unsupported> {
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let m = vx(&i.operands[2])?;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    Ok((d, a, b))
}

fn halving(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let (d, a, b) = operands3(cx, i)?;
    let l = d.lanes;
    let signed = matches!(i.opcode, SHADD | SRHADD | SHSUB);
    let right = if signed {
        VShiftOp::Sshr
    } else {
        VShiftOp::Ushr
    };
    let x = vb(cx, VBinOp::Xor, l, a, b);
    let half = cx.b.vshift(Type::V128, x, (right, l, 1));
    let r = match i.opcode {
        SHADD | UHADD => {
            let both = vb(cx, VBinOp::And, l, a, b);
            vb(cx, VBinOp::Add, l, both, half)
        }
        SRHADD | URHADD => {
            let any = vb(cx, VBinOp::Or, l, a, b);
            vb(cx, VBinOp::Sub, l, any, half)
        }
        _ => {
            // a - b = (a ^ b) - 2 * (!a & b).
            let borrow = vb(cx, VBinOp::AndNot, l, b, a);
            vb(cx, VBinOp::Sub, l, half, borrow)
        }
    };
    put(cx, d, r);
    Ok(())
}

fn abd(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let (d, a, b) = operands3(cx, i)?;
    let l = d.lanes;
    let (max, min) = if matches!(i.opcode, SABD | SABA) {
        (VBinOp::Smax, VBinOp::Smin)
    } else {
        (VBinOp::Umax, VBinOp::Umin)
    };
    let hi = vb(cx, max, l, a, b);
    let lo = vb(cx, min, l, a, b);
    let mut r = vb(cx, VBinOp::Sub, l, hi, lo);
    if matches!(i.opcode, SABA | UABA) {
        let old = get(cx, d.reg);
        r = vb(cx, VBinOp::Add, l, old, r);
    }
    put(cx, d, r);
    Ok(())
}

/// CLZ/CLS per lane, on the lane extended to 64 bits.
fn count_leading(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let signed = i.opcode == Opcode::CLS;
    let v = get(cx, n.reg);
    let xs = lanes(cx, v, d.lanes, 0, d.count, signed);
    let extra = k64(cx, 64 - d.bits() as i64);
    let out: Vec<Value> = xs
        .into_iter()
        .map(|x| {
            let c = if signed {
                cx.b.cls(Type::I64, x)
            } else {
                cx.b.clz(Type::I64, x)
            };
            cx.b.sub(Type::I64, c, extra)
        })
        .collect();
    let r = assemble(cx, d.lanes, &out);
    put(cx, d, r);
    Ok(())
}

/// Pairwise ops; the 64-bit form works on `m.lo : n.lo`, whose pairs are
/// exactly the low 64 bits of the 128-bit pairwise result.
fn pairwise(cx: &mut Ctx, i: &Instruction, op: VBinOp) -> Lift {
    let (d, a, b) = operands3(cx, i)?;
    let (x, y) = if d.full() {
        (a, b)
    } else {
        let c = concat_low(cx, a, b);
        (c, c)
    };
    let even = vb(cx, VBinOp::Uzp1, d.lanes, x, y);
    let odd = vb(cx, VBinOp::Uzp2, d.lanes, x, y);
    let r = vb(cx, op, d.lanes, even, odd);
    put(cx, d, r);
    Ok(())
}

/// TRN1/TRN2 only pair lanes `2k, 2k + 1`, so the 64-bit form is the low
/// half of the 128-bit one.
fn trn(cx: &mut Ctx, i: &Instruction, op: VBinOp) -> Lift {
    let (d, a, b) = operands3(cx, i)?;
    let r = vb(cx, op, d.lanes, a, b);
    put(cx, d, r);
    Ok(())
}

/// TBL/TBX: byte `k` is byte `idx[k]` of the table registers, or 0 (TBL)
/// or the old destination byte (TBX) when the index is past the table.
/// Each table register is looked up with the index minus its offset;
/// out-of-range lookups give 0, so the lookups can be ORed.
fn table(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vx(&i.operands[0])?;
    let Operand::SIMDRegisterGroup(_, first, _, count) = i.operands[1] else {
        return unsupported("tbl/tbx table");
    };
    let m = vx(&i.operands[2])?;
    let idx = get(cx, m.reg);
    let l = Lanes::I8x16;
    let mut r: Option<Value> = None;
    for k in 0..count as u16 {
        let t = get(cx, (first + k) % 32);
        let shifted = if k == 0 {
            idx
        } else {
            let off =
                cx.b.vconst(Type::V128, super::simd::replicate(16 * k as u64, 8));
            vb(cx, VBinOp::Sub, l, idx, off)
        };
        let part = cx.b.vtbl1(Type::V128, t, shifted);
        r = Some(match r {
            Some(acc) => vb(cx, VBinOp::Or, l, acc, part),
            None => part,
        });
    }
    let mut r = r.expect("at least one table register");
    if i.opcode == Opcode::TBX {
        let limit =
            cx.b.vconst(Type::V128, super::simd::replicate(16 * count as u64, 8));
        let inside = vb(cx, VBinOp::CmpHi, l, limit, idx);
        let old = get(cx, d.reg);
        let keep = vb(cx, VBinOp::AndNot, l, old, inside);
        r = vb(cx, VBinOp::Or, l, r, keep);
    }
    put(cx, d, r);
    Ok(())
}

/// SDOT/UDOT (FEAT_DotProd): each 32-bit lane accumulates the four
/// products of its bytes. Byte products are exact in 16 bits; adjacent
/// products are summed into 32 bits on the wide view (as SADDLP does),
/// then adjacent 32-bit sums pairwise.
fn dot(cx: &mut Ctx, i: &Instruction) -> Lift {
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    let signed = i.opcode == Opcode::SDOT;
    let a = get(cx, n.reg);
    let b = match i.operands[2] {
        Operand::SIMDRegisterElementsMultipleLane(_, r, _, idx, _) => {
            let v = get(cx, r);
            let x = cx.b.vextract(Type::I32, v, (Lanes::I32x4, idx));
            cx.b.vsplat(Type::V128, x, Lanes::I32x4)
        }
        ref op => get(cx, vx(op)?.reg),
    };
    let right = if signed {
        VShiftOp::Sshr
    } else {
        VShiftOp::Ushr
    };
    let mut sums = Vec::new();
    for high in [false, true] {
        let wa = widen(cx, a, Lanes::I8x16, high, signed);
        let wb = widen(cx, b, Lanes::I8x16, high, signed);
        let p = vb(cx, VBinOp::Mul, Lanes::I16x8, wa, wb);
        let up =
            cx.b.vshift(Type::V128, p, (VShiftOp::Shl, Lanes::I32x4, 16));
        let even = cx.b.vshift(Type::V128, up, (right, Lanes::I32x4, 16));
        let odd = cx.b.vshift(Type::V128, p, (right, Lanes::I32x4, 16));
        sums.push(vb(cx, VBinOp::Add, Lanes::I32x4, even, odd));
    }
    let r = vb(cx, VBinOp::AddPairwise, Lanes::I32x4, sums[0], sums[1]);
    let old = get(cx, d.reg);
    let r = vb(cx, VBinOp::Add, Lanes::I32x4, old, r);
    put(cx, d, r);
    Ok(())
}

/// URECPE: the Arm pseudocode's UnsignedRecipEstimate per 32-bit lane.
/// Lanes below 2^31 give all ones; otherwise the top 9 bits `a` give the
/// 9-bit estimate `((2^19 / (2a + 1)) + 1) / 2` in the top bits.
fn urecpe(cx: &mut Ctx, i: &Instruction) -> Lift {
    per_u32_lane(cx, i, "urecpe", |cx, x| {
        let s23 = k64(cx, 23);
        let a = cx.b.lshr(Type::I64, x, s23);
        let one = k64(cx, 1);
        let a2 = cx.b.shl(Type::I64, a, one);
        let a2 = cx.b.add(Type::I64, a2, one);
        let num = k64(cx, 1 << 19);
        let b = cx.b.udiv(Type::I64, num, a2);
        estimate_lane(cx, x, b, 1 << 31)
    })
}

/// The last step of URECPE and URSQRTE: `(b + 1) / 2` in the top 9 bits
/// of the lane, or all ones for lanes `x` below `min`.
fn estimate_lane(cx: &mut Ctx, x: Value, b: Value, min: i64) -> Value {
    let one = k64(cx, 1);
    let s23 = k64(cx, 23);
    let r = cx.b.add(Type::I64, b, one);
    let r = cx.b.lshr(Type::I64, r, one);
    let r = cx.b.shl(Type::I64, r, s23);
    let min = k64(cx, min);
    let small = cx.b.icmp(Type::I8, x, min, crate::ir::IntCC::Ult);
    let ones = k64(cx, 0xffff_ffff);
    cx.b.select(Type::I64, small, ones, r)
}

/// URSQRTE: the Arm pseudocode's UnsignedRSqrtEstimate per 32-bit lane.
/// Lanes below 2^30 give all ones; otherwise the top 9 bits give `a` in
/// units of 1/512 (below 256) or 1/1024 (bottom bit dropped), the
/// estimate `b` is the largest in 512..1023 with `a * b^2 < 2^28`
/// (found bit by bit: the pseudocode's counting loop, unrolled), and the
/// result is `(b + 1) / 2` in the top 9 bits.
fn ursqrte(cx: &mut Ctx, i: &Instruction) -> Lift {
    per_u32_lane(cx, i, "ursqrte", |cx, x| {
        let s23 = k64(cx, 23);
        let one = k64(cx, 1);
        let top = cx.b.lshr(Type::I64, x, s23);
        // Below 256: 2a + 1; else (a with bit 0 clear) * 2 + 2.
        let low = k64(cx, 256);
        let is_low = cx.b.icmp(Type::I8, top, low, crate::ir::IntCC::Ult);
        let twice = cx.b.shl(Type::I64, top, one);
        let a_low = cx.b.add(Type::I64, twice, one);
        let even = k64(cx, !3);
        let a_high = cx.b.and(Type::I64, twice, even);
        let two = k64(cx, 2);
        let a_high = cx.b.add(Type::I64, a_high, two);
        let a = cx.b.select(Type::I64, is_low, a_low, a_high);
        let limit = k64(cx, 1 << 28);
        let mut k = k64(cx, 512);
        for bit in (0..9).rev() {
            let step = k64(cx, 1 << bit);
            let cand = cx.b.or(Type::I64, k, step);
            let sq = cx.b.mul(Type::I64, cand, cand);
            let p = cx.b.mul(Type::I64, a, sq);
            let fits = cx.b.icmp(Type::I8, p, limit, crate::ir::IntCC::Ult);
            k = cx.b.select(Type::I64, fits, cand, k);
        }
        estimate_lane(cx, x, k, 1 << 30)
    })
}

/// Lifts a two-register-misc instruction on 32-bit lanes whose result lane
/// is `f` of the source lane (zero-extended to 64 bits).
fn per_u32_lane(
    cx: &mut Ctx,
    i: &Instruction,
    name: &str,
    f: impl Fn(&mut Ctx, Value) -> Value,
) -> Lift {
    let d = vx(&i.operands[0])?;
    let n = vx(&i.operands[1])?;
    if d.bits() != 32 {
        return unsupported(format!("{name} lane size"));
    }
    let v = get(cx, n.reg);
    let xs = lanes(cx, v, d.lanes, 0, d.count, false);
    let out: Vec<Value> = xs.into_iter().map(|x| f(cx, x)).collect();
    let r = assemble(cx, d.lanes, &out);
    put(cx, d, r);
    Ok(())
}

/// Carry-less product of two bytes (zero-extended): one masked, shifted
/// copy of `a` per bit of `b`, XORed as a balanced tree.
fn clmul8(cx: &mut Ctx, a: Value, b: Value) -> Value {
    let one = k64(cx, 1);
    let zero = k64(cx, 0);
    let mut terms = Vec::new();
    for s in 0..8 {
        let sv = k64(cx, s);
        let bit = cx.b.lshr(Type::I64, b, sv);
        let bit = cx.b.and(Type::I64, bit, one);
        let mask = cx.b.sub(Type::I64, zero, bit);
        let part = cx.b.shl(Type::I64, a, sv);
        terms.push(cx.b.and(Type::I64, part, mask));
    }
    xor_tree(cx, Type::I64, terms)
}

/// Positions `p` in 0..64 with `p % 5 == k`.
fn class_mask(k: u32) -> u64 {
    (0..64).filter(|p| p % 5 == k).fold(0, |m, p| m | 1 << p)
}

/// The 128-bit carry-less product of two doublewords with integer
/// multiplies: each operand is split into five classes of bit positions
/// (`p % 5`). In the integer product of two classes every result position
/// of class `(i + j) % 5` sums at most 13 one-bit products, which fits in
/// the 4 bits below the next position of that class, so its low bit is
/// the XOR the carry-less product needs. 25 products (50 multiplies)
/// instead of 64 shift-and-mask steps.
fn clmul64(cx: &mut Ctx, a: Value, b: Value) -> (Value, Value) {
    let split = |cx: &mut Ctx, v: Value| -> Vec<Value> {
        (0..5)
            .map(|k| {
                let m = k64(cx, class_mask(k) as i64);
                cx.b.and(Type::I64, v, m)
            })
            .collect()
    };
    let xs = split(cx, a);
    let ys = split(cx, b);
    let mut lo: Vec<Vec<Value>> = vec![Vec::new(); 5];
    let mut hi: Vec<Vec<Value>> = vec![Vec::new(); 5];
    for (i, &x) in xs.iter().enumerate() {
        for (j, &y) in ys.iter().enumerate() {
            let k = (i + j) % 5;
            lo[k].push(cx.b.mul(Type::I64, x, y));
            hi[k].push(cx.b.umulhi(Type::I64, x, y));
        }
    }
    let mut out = [Vec::new(), Vec::new()];
    for k in 0..5u32 {
        for (half, terms) in [(0, &lo), (1, &hi)] {
            let v = xor_tree(cx, Type::I64, terms[k as usize].clone());
            // Bit q of the high half is position q + 64, and 64 % 5 == 4.
            let class = if half == 0 { k } else { (k + 1) % 5 };
            let m = k64(cx, class_mask(class) as i64);
            out[half].push(cx.b.and(Type::I64, v, m));
        }
    }
    let [lo, hi] = out;
    let or_all = |cx: &mut Ctx, vs: Vec<Value>| {
        vs.into_iter()
            .reduce(|acc, v| cx.b.or(Type::I64, acc, v))
            .expect("five classes")
    };
    (or_all(cx, lo), or_all(cx, hi))
}

/// PMUL: bytewise polynomial product, low 8 bits.
fn pmul(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (d, a, b) = operands3(cx, i)?;
    let xs = lanes(cx, a, Lanes::I8x16, 0, d.count, false);
    let ys = lanes(cx, b, Lanes::I8x16, 0, d.count, false);
    let out: Vec<Value> = xs
        .into_iter()
        .zip(ys)
        .map(|(x, y)| clmul8(cx, x, y))
        .collect();
    let r = assemble(cx, Lanes::I8x16, &out);
    put(cx, d, r);
    Ok(())
}

/// PMULL/PMULL2: bytes to 16-bit products, or one doubleword to a 128-bit
/// product.
fn pmull(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::SIMDRegisterElements(_, d, desize) = i.operands[0] else {
        return unsupported("pmull destination");
    };
    let n = vx(&i.operands[1])?;
    let m = vx(&i.operands[2])?;
    let upper = i.opcode == Opcode::PMULL2;
    let a = get(cx, n.reg);
    let b = get(cx, m.reg);
    let r = if desize == SIMDSizeCode::Q {
        let idx = u32::from(upper);
        let x = lanes(cx, a, Lanes::I64x2, idx, 1, false)[0];
        let y = lanes(cx, b, Lanes::I64x2, idx, 1, false)[0];
        let (lo, hi) = clmul64(cx, x, y);
        assemble(cx, Lanes::I64x2, &[lo, hi])
    } else {
        let start = if upper { 8 } else { 0 };
        let xs = lanes(cx, a, Lanes::I8x16, start, 8, false);
        let ys = lanes(cx, b, Lanes::I8x16, start, 8, false);
        let out: Vec<Value> = xs
            .into_iter()
            .zip(ys)
            .map(|(x, y)| clmul8(cx, x, y))
            .collect();
        assemble(cx, Lanes::I16x8, &out)
    };
    cx.b.set_v(r, d as u8);
    Ok(())
}

/// Which of the opcodes this file lifts.
pub fn handles(i: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        i.opcode,
        SHADD
            | UHADD
            | SRHADD
            | URHADD
            | SHSUB
            | UHSUB
            | SABD
            | UABD
            | SABA
            | UABA
            | SMAXP
            | SMINP
            | TRN1
            | TRN2
            | TBL
            | TBX
            | PMUL
            | PMULL
            | PMULL2
            | SADDLV
            | SDOT
            | UDOT
            | URECPE
            | URSQRTE
    ) || (matches!(i.opcode, CLZ | CLS)
        && matches!(i.operands[0], Operand::SIMDRegisterElements(..)))
}

#[cfg(test)]
mod tests {
    use super::class_mask;

    fn clmul_naive(a: u64, b: u64) -> u128 {
        (0..64)
            .filter(|i| b >> i & 1 != 0)
            .fold(0, |r, i| r ^ (u128::from(a) << i))
    }

    /// `clmul64`'s arithmetic on host integers.
    fn clmul_classes(a: u64, b: u64) -> u128 {
        let mut acc = [0u128; 5];
        for i in 0..5 {
            for j in 0..5 {
                let p = u128::from(a & class_mask(i)) * u128::from(b & class_mask(j));
                acc[((i + j) % 5) as usize] ^= p;
            }
        }
        (0..5u32).fold(0, |r, k| {
            let m = u128::from(class_mask(k)) | u128::from(class_mask((k + 1) % 5)) << 64;
            r | (acc[k as usize] & m)
        })
    }

    #[test]
    fn class_split_product_is_carry_less() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut cases = vec![(u64::MAX, u64::MAX), (u64::MAX, 1), (1 << 63, 1 << 63)];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x, x.rotate_left(29) ^ 0x5555));
        }
        for (a, b) in cases {
            assert_eq!(clmul_classes(a, b), clmul_naive(a, b), "{a:#x} * {b:#x}");
        }
    }
}
