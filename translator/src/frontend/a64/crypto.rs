//! The cryptographic extension: AESE/AESD/AESMC/AESIMC (FEAT_AES) and
//! SHA1C/SHA1P/SHA1M/SHA1H/SHA1SU0/SHA1SU1, SHA256H/SHA256H2/SHA256SU0/
//! SHA256SU1 (FEAT_SHA1, FEAT_SHA256), SHA512H/SHA512H2/SHA512SU0/
//! SHA512SU1 (FEAT_SHA512) and EOR3/BCAX/RAX1/XAR (FEAT_SHA3), following
//! the Arm pseudocode.
//!
//! AES runs on vector ops: SubBytes is sixteen 16-byte table lookups
//! (`vtbl1` gives 0 outside its 16 entries, so the lookups with the index
//! minus `16k` can be ORed), ShiftRows a constant byte permutation,
//! MixColumns byte rotations inside each column plus GF(2^8) doubling.
//! The S-boxes are computed here from their definition (multiplicative
//! inverse and affine map), not copied. SHA works on the 32-bit lanes with
//! scalar ops.
//!
//! Invariant: the AES state byte `i` is row `i % 4`, column `i / 4`.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::ctx::{unsupported, Ctx, Lift};
use crate::ir::{Lanes, Type, VBinOp, Value};

/// Lifts one AES or SHA instruction.
pub fn lift(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let d = reg_of(&i.operands[0])?;
    let n = reg_of(&i.operands[1]);
    let m = reg_of(&i.operands[2]);
    match i.opcode {
        AESE | AESD => {
            let n = n?;
            let a = get(cx, d);
            let b = get(cx, n);
            let x = vb(cx, VBinOp::Xor, a, b);
            let r = if i.opcode == AESE {
                let x = permute(cx, x, shift_rows(false));
                sub_bytes(cx, x, &sbox())
            } else {
                let x = permute(cx, x, shift_rows(true));
                sub_bytes(cx, x, &inv_sbox())
            };
            cx.b.set_v(r, d as u8);
        }
        AESMC | AESIMC => {
            let a = get(cx, n?);
            let r = if i.opcode == AESMC {
                mix_columns(cx, a)
            } else {
                // InvMixColumns = MixColumns after adding 4 * (a[r] ^ a[r + 2]).
                let r2 = permute(cx, a, column_rotation(2));
                let t = vb(cx, VBinOp::Xor, a, r2);
                let t = xtime(cx, t);
                let t = xtime(cx, t);
                let a = vb(cx, VBinOp::Xor, a, t);
                mix_columns(cx, a)
            };
            cx.b.set_v(r, d as u8);
        }
        SHA1H => {
            let x = lane32(cx, n?, 0);
            let r = rotl(cx, x, 30);
            put_words(cx, d, &[r]);
        }
        SHA1C | SHA1P | SHA1M => sha1_hash(cx, i.opcode, d, n?, m?),
        SHA1SU0 => {
            let (x, y, z) = (words(cx, d), words(cx, n?), words(cx, m?));
            // (y.lo : x.hi) ^ x ^ z
            let t = [x[2], x[3], y[0], y[1]];
            let r: Vec<Value> = (0..4)
                .map(|e| {
                    let v = cx.b.xor(Type::I32, t[e], x[e]);
                    cx.b.xor(Type::I32, v, z[e])
                })
                .collect();
            put_words(cx, d, &r);
        }
        SHA1SU1 => {
            let (x, y) = (words(cx, d), words(cx, n?));
            let zero = cx.iconst(Type::I32, 0);
            let ys = [y[1], y[2], y[3], zero];
            let t: Vec<Value> = (0..4).map(|e| cx.b.xor(Type::I32, x[e], ys[e])).collect();
            let mut r: Vec<Value> = t.iter().map(|&v| rotl(cx, v, 1)).collect();
            let extra = rotl(cx, t[0], 2);
            r[3] = cx.b.xor(Type::I32, r[3], extra);
            put_words(cx, d, &r);
        }
        SHA256H | SHA256H2 => {
            let (x, y, w) = (words(cx, d), words(cx, n?), words(cx, m?));
            let r = if i.opcode == SHA256H {
                sha256_hash(cx, x, y, &w, true)
            } else {
                sha256_hash(cx, y, x, &w, false)
            };
            put_words(cx, d, &r);
        }
        SHA256SU0 => {
            let (x, y) = (words(cx, d), words(cx, n?));
            let t = [x[1], x[2], x[3], y[0]];
            let r: Vec<Value> = (0..4)
                .map(|e| {
                    let s = small_sigma(cx, t[e], (7, 18, 3));
                    cx.b.add(Type::I32, s, x[e])
                })
                .collect();
            put_words(cx, d, &r);
        }
        SHA256SU1 => {
            let (x, y, z) = (words(cx, d), words(cx, n?), words(cx, m?));
            let t0 = [y[1], y[2], y[3], z[0]];
            let mut r: Vec<Value> = Vec::new();
            for e in 0..4 {
                let src = if e < 2 { z[2 + e] } else { r[e - 2] };
                let s = small_sigma(cx, src, (17, 19, 10));
                let s = cx.b.add(Type::I32, s, x[e]);
                r.push(cx.b.add(Type::I32, s, t0[e]));
            }
            put_words(cx, d, &r);
        }
        SHA512H | SHA512H2 | SHA512SU0 | SHA512SU1 => sha512(cx, i.opcode, d, n?, m)?,
        EOR3 | BCAX => {
            let Operand::SIMDRegisterElements(_, a, _) = i.operands[3] else {
                return unsupported("eor3/bcax operand");
            };
            let (x, y, z) = (get(cx, n?), get(cx, m?), get(cx, a));
            let t = if i.opcode == EOR3 {
                vb(cx, VBinOp::Xor, y, z)
            } else {
                vb(cx, VBinOp::AndNot, y, z)
            };
            let r = vb(cx, VBinOp::Xor, x, t);
            cx.b.set_v(r, d as u8);
        }
        RAX1 | XAR => {
            let (x, y) = (dwords(cx, n?), dwords(cx, m?));
            let r: Vec<Value> = (0..2)
                .map(|e| {
                    if i.opcode == RAX1 {
                        let r = rotr64(cx, y[e], 63);
                        cx.b.xor(Type::I64, x[e], r)
                    } else {
                        let amount = match i.operands[3] {
                            Operand::Imm16(v) => u32::from(v),
                            _ => 0,
                        };
                        let t = cx.b.xor(Type::I64, x[e], y[e]);
                        rotr64(cx, t, amount)
                    }
                })
                .collect();
            put_dwords(cx, d, &r);
        }
        _ => return unsupported(format!("{:?}", i.opcode)),
    }
    Ok(())
}

/// The 64-bit lanes of `Vr`.
fn dwords(cx: &mut Ctx, r: u16) -> Vec<Value> {
    let v = get(cx, r);
    (0..2)
        .map(|e| cx.b.vextract(Type::I64, v, (Lanes::I64x2, e)))
        .collect()
}

fn put_dwords(cx: &mut Ctx, d: u16, w: &[Value]) {
    let mut v = cx.b.vconst(Type::V128, 0);
    for (e, x) in w.iter().enumerate() {
        v = cx.b.vinsert(Type::V128, v, *x, (Lanes::I64x2, e as u8));
    }
    cx.b.set_v(v, d as u8);
}

fn rotr64(cx: &mut Ctx, x: Value, n: u32) -> Value {
    let k = cx.iconst(Type::I64, u64::from(n % 64));
    cx.b.rotr(Type::I64, x, k)
}

/// `ror(x, a) ^ ror(x, b) ^ ror(x, c)` on 64 bits; a `c` with `shr` set
/// is a logical shift instead of a rotation.
fn sigma64(cx: &mut Ctx, x: Value, (a, b, c): (u32, u32, u32), shr: bool) -> Value {
    let ra = rotr64(cx, x, a);
    let rb = rotr64(cx, x, b);
    let rc = if shr {
        let k = cx.iconst(Type::I64, u64::from(c));
        cx.b.lshr(Type::I64, x, k)
    } else {
        rotr64(cx, x, c)
    };
    let t = cx.b.xor(Type::I64, ra, rb);
    cx.b.xor(Type::I64, t, rc)
}

/// `(x & y) ^ (!x & z)` on 64 bits.
fn choose64(cx: &mut Ctx, x: Value, y: Value, z: Value) -> Value {
    let t = cx.b.xor(Type::I64, y, z);
    let t = cx.b.and(Type::I64, t, x);
    cx.b.xor(Type::I64, t, z)
}

/// `(x & y) ^ (x & z) ^ (y & z)` on 64 bits.
fn majority64(cx: &mut Ctx, x: Value, y: Value, z: Value) -> Value {
    let a = cx.b.and(Type::I64, x, y);
    let o = cx.b.or(Type::I64, x, y);
    let b = cx.b.and(Type::I64, o, z);
    cx.b.or(Type::I64, a, b)
}

fn add3(cx: &mut Ctx, a: Value, b: Value, c: Value) -> Value {
    let t = cx.b.add(Type::I64, a, b);
    cx.b.add(Type::I64, t, c)
}

/// SHA512H/SHA512H2/SHA512SU0/SHA512SU1 (FEAT_SHA512), per the Arm
/// pseudocode; lane 0 is the low doubleword.
fn sha512(
    cx: &mut Ctx,
    op: Opcode,
    d: u16,
    n: u16,
    m: Result<u16, super::ctx::Unsupported>,
) -> Lift {
    let w = dwords(cx, d);
    let x = dwords(cx, n);
    let r = match op {
        Opcode::SHA512H => {
            let y = dwords(cx, m?);
            let s1 = sigma64(cx, y[1], (14, 18, 41), false);
            let ch = choose64(cx, y[1], x[0], x[1]);
            let hi = add3(cx, ch, s1, w[1]);
            let tmp = cx.b.add(Type::I64, hi, y[0]);
            let s1 = sigma64(cx, tmp, (14, 18, 41), false);
            let ch = choose64(cx, tmp, y[1], x[0]);
            let lo = add3(cx, ch, s1, w[0]);
            vec![lo, hi]
        }
        Opcode::SHA512H2 => {
            let y = dwords(cx, m?);
            let s0 = sigma64(cx, y[0], (28, 34, 39), false);
            let maj = majority64(cx, x[0], y[1], y[0]);
            let hi = add3(cx, maj, s0, w[1]);
            let s0 = sigma64(cx, hi, (28, 34, 39), false);
            let maj = majority64(cx, hi, y[0], y[1]);
            let lo = add3(cx, maj, s0, w[0]);
            vec![lo, hi]
        }
        Opcode::SHA512SU0 => {
            let s = sigma64(cx, w[1], (1, 8, 7), true);
            let lo = cx.b.add(Type::I64, w[0], s);
            let s = sigma64(cx, x[0], (1, 8, 7), true);
            let hi = cx.b.add(Type::I64, w[1], s);
            vec![lo, hi]
        }
        _ => {
            let y = dwords(cx, m?);
            let s = sigma64(cx, x[1], (19, 61, 6), true);
            let hi = add3(cx, w[1], s, y[1]);
            let s = sigma64(cx, x[0], (19, 61, 6), true);
            let lo = add3(cx, w[0], s, y[0]);
            vec![lo, hi]
        }
    };
    put_dwords(cx, d, &r);
    Ok(())
}

/// Whether `i` is one of this file's instructions.
pub fn handles(i: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        i.opcode,
        AESE | AESD
            | AESMC
            | AESIMC
            | SHA1C
            | SHA1P
            | SHA1M
            | SHA1H
            | SHA1SU0
            | SHA1SU1
            | SHA256H
            | SHA256H2
            | SHA256SU0
            | SHA256SU1
            | SHA512H
            | SHA512H2
            | SHA512SU0
            | SHA512SU1
            | EOR3
            | BCAX
            | RAX1
            | XAR
    )
}

fn reg_of(op: &Operand) -> Result<u16, super::ctx::Unsupported> {
    match *op {
        Operand::SIMDRegister(_, r) | Operand::SIMDRegisterElements(_, r, _) => Ok(r),
        _ => unsupported(format!("crypto operand {op:?}")),
    }
}

fn get(cx: &mut Ctx, r: u16) -> Value {
    cx.b.get_v(Type::V128, r as u8)
}

fn vb(cx: &mut Ctx, op: VBinOp, a: Value, b: Value) -> Value {
    cx.b.vbin(Type::V128, a, b, (op, Lanes::I8x16))
}

fn bytes_const(cx: &mut Ctx, b: &[u8; 16]) -> Value {
    cx.b.vconst(Type::V128, u128::from_le_bytes(*b))
}

/// Byte `k` of the result is byte `idx[k]` of `v`.
fn permute(cx: &mut Ctx, v: Value, idx: [u8; 16]) -> Value {
    let k = bytes_const(cx, &idx);
    cx.b.vtbl1(Type::V128, v, k)
}

/// ShiftRows (row `r` rotates left by `r` columns) or its inverse.
fn shift_rows(inverse: bool) -> [u8; 16] {
    let mut idx = [0u8; 16];
    for (k, b) in idx.iter_mut().enumerate() {
        let (row, col) = (k % 4, k / 4);
        let src = if inverse {
            (col + 4 - row) % 4
        } else {
            (col + row) % 4
        };
        *b = (row + 4 * src) as u8;
    }
    idx
}

/// Byte `r` of each column takes byte `(r + by) % 4` of the same column.
fn column_rotation(by: usize) -> [u8; 16] {
    let mut idx = [0u8; 16];
    for (k, b) in idx.iter_mut().enumerate() {
        *b = (k - k % 4 + (k % 4 + by) % 4) as u8;
    }
    idx
}

/// Multiplication by x in GF(2^8) mod x^8 + x^4 + x^3 + x + 1, per byte.
fn xtime(cx: &mut Ctx, v: Value) -> Value {
    let zero = cx.b.vconst(Type::V128, 0);
    let top = vb(cx, VBinOp::CmpGt, zero, v);
    let poly = cx.b.vconst(Type::V128, super::simd::replicate(0x1b, 8));
    let fold = vb(cx, VBinOp::And, top, poly);
    let dbl = vb(cx, VBinOp::Add, v, v);
    vb(cx, VBinOp::Xor, dbl, fold)
}

/// MixColumns: `out[r] = 2a[r] ^ 3a[r+1] ^ a[r+2] ^ a[r+3]`.
fn mix_columns(cx: &mut Ctx, a: Value) -> Value {
    let r1 = permute(cx, a, column_rotation(1));
    let r2 = permute(cx, a, column_rotation(2));
    let r3 = permute(cx, a, column_rotation(3));
    let s = vb(cx, VBinOp::Xor, a, r1);
    let s2 = xtime(cx, s);
    let t = vb(cx, VBinOp::Xor, s2, r1);
    let t = vb(cx, VBinOp::Xor, t, r2);
    vb(cx, VBinOp::Xor, t, r3)
}

/// Substitutes every byte through a 256-entry table.
fn sub_bytes(cx: &mut Ctx, v: Value, table: &[u8; 256]) -> Value {
    let mut acc: Option<Value> = None;
    for k in 0..16 {
        let chunk: [u8; 16] = table[16 * k..16 * k + 16].try_into().expect("16 bytes");
        let t = bytes_const(cx, &chunk);
        let idx = if k == 0 {
            v
        } else {
            let off =
                cx.b.vconst(Type::V128, super::simd::replicate(16 * k as u64, 8));
            vb(cx, VBinOp::Sub, v, off)
        };
        let part = cx.b.vtbl1(Type::V128, t, idx);
        acc = Some(match acc {
            Some(a) => vb(cx, VBinOp::Or, a, part),
            None => part,
        });
    }
    acc.expect("sixteen chunks")
}

/// Product in GF(2^8) with the AES polynomial.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

/// The AES S-box: multiplicative inverse, then the affine map.
fn sbox() -> [u8; 256] {
    let mut s = [0u8; 256];
    for (x, out) in s.iter_mut().enumerate() {
        let inv = (1..=255u8).find(|&y| gf_mul(x as u8, y) == 1).unwrap_or(0);
        *out = inv
            ^ inv.rotate_left(1)
            ^ inv.rotate_left(2)
            ^ inv.rotate_left(3)
            ^ inv.rotate_left(4)
            ^ 0x63;
    }
    s
}

fn inv_sbox() -> [u8; 256] {
    let s = sbox();
    let mut inv = [0u8; 256];
    for (x, &y) in s.iter().enumerate() {
        inv[y as usize] = x as u8;
    }
    inv
}

fn lane32(cx: &mut Ctx, r: u16, e: u8) -> Value {
    let v = get(cx, r);
    cx.b.vextract(Type::I32, v, (Lanes::I32x4, e))
}

/// The four 32-bit lanes of `Vr`.
fn words(cx: &mut Ctx, r: u16) -> Vec<Value> {
    let v = get(cx, r);
    (0..4)
        .map(|e| cx.b.vextract(Type::I32, v, (Lanes::I32x4, e)))
        .collect()
}

/// Writes the 32-bit lanes `w` to `Vd`, all other bits zero.
fn put_words(cx: &mut Ctx, d: u16, w: &[Value]) {
    let mut v = cx.b.vconst(Type::V128, 0);
    for (e, x) in w.iter().enumerate() {
        v = cx.b.vinsert(Type::V128, v, *x, (Lanes::I32x4, e as u8));
    }
    cx.b.set_v(v, d as u8);
}

fn rotr(cx: &mut Ctx, x: Value, n: u32) -> Value {
    let k = cx.iconst(Type::I32, n as u64);
    cx.b.rotr(Type::I32, x, k)
}

fn rotl(cx: &mut Ctx, x: Value, n: u32) -> Value {
    rotr(cx, x, 32 - n)
}

/// `ror(x, a) ^ ror(x, b) ^ (x >> c)`.
fn small_sigma(cx: &mut Ctx, x: Value, (a, b, c): (u32, u32, u32)) -> Value {
    let ra = rotr(cx, x, a);
    let rb = rotr(cx, x, b);
    let k = cx.iconst(Type::I32, c as u64);
    let sc = cx.b.lshr(Type::I32, x, k);
    let t = cx.b.xor(Type::I32, ra, rb);
    cx.b.xor(Type::I32, t, sc)
}

/// `ror(x, a) ^ ror(x, b) ^ ror(x, c)`.
fn big_sigma(cx: &mut Ctx, x: Value, (a, b, c): (u32, u32, u32)) -> Value {
    let ra = rotr(cx, x, a);
    let rb = rotr(cx, x, b);
    let rc = rotr(cx, x, c);
    let t = cx.b.xor(Type::I32, ra, rb);
    cx.b.xor(Type::I32, t, rc)
}

/// `(x & y) | (!x & z)`, as `((y ^ z) & x) ^ z`.
fn choose(cx: &mut Ctx, x: Value, y: Value, z: Value) -> Value {
    let t = cx.b.xor(Type::I32, y, z);
    let t = cx.b.and(Type::I32, t, x);
    cx.b.xor(Type::I32, t, z)
}

/// `(x & y) | ((x | y) & z)`.
fn majority(cx: &mut Ctx, x: Value, y: Value, z: Value) -> Value {
    let a = cx.b.and(Type::I32, x, y);
    let o = cx.b.or(Type::I32, x, y);
    let b = cx.b.and(Type::I32, o, z);
    cx.b.or(Type::I32, a, b)
}

fn parity(cx: &mut Ctx, x: Value, y: Value, z: Value) -> Value {
    let t = cx.b.xor(Type::I32, x, y);
    cx.b.xor(Type::I32, t, z)
}

/// SHA1C/SHA1P/SHA1M: four rounds on the state `Qd` (a..d) and `Sn` (e).
fn sha1_hash(cx: &mut Ctx, op: Opcode, d: u16, n: u16, m: u16) {
    let mut x = words(cx, d);
    let mut y = lane32(cx, n, 0);
    let w = words(cx, m);
    for we in w {
        let t = match op {
            Opcode::SHA1C => choose(cx, x[1], x[2], x[3]),
            Opcode::SHA1P => parity(cx, x[1], x[2], x[3]),
            _ => majority(cx, x[1], x[2], x[3]),
        };
        let r5 = rotl(cx, x[0], 5);
        let s = cx.b.add(Type::I32, y, r5);
        let s = cx.b.add(Type::I32, s, t);
        y = cx.b.add(Type::I32, s, we);
        x[1] = rotl(cx, x[1], 30);
        // ROL(Y:X, 32) on the 160-bit concatenation.
        let top = x[3];
        x = vec![y, x[0], x[1], x[2]];
        y = top;
    }
    put_words(cx, d, &x);
}

/// The Arm pseudocode's SHA256hash: four rounds; `x` holds a..d, `y`
/// e..h; returns the new `x` (SHA256H) or `y` (SHA256H2).
fn sha256_hash(
    cx: &mut Ctx,
    mut x: Vec<Value>,
    mut y: Vec<Value>,
    w: &[Value],
    part1: bool,
) -> Vec<Value> {
    for &we in w {
        let chs = choose(cx, y[0], y[1], y[2]);
        let maj = majority(cx, x[0], x[1], x[2]);
        let s1 = big_sigma(cx, y[0], (6, 11, 25));
        let t = cx.b.add(Type::I32, y[3], s1);
        let t = cx.b.add(Type::I32, t, chs);
        let t = cx.b.add(Type::I32, t, we);
        x[3] = cx.b.add(Type::I32, t, x[3]);
        let s0 = big_sigma(cx, x[0], (2, 13, 22));
        let u = cx.b.add(Type::I32, t, s0);
        y[3] = cx.b.add(Type::I32, u, maj);
        // ROL(Y:X, 32) on the 256-bit concatenation.
        let (x3, y3) = (x[3], y[3]);
        x = vec![y3, x[0], x[1], x[2]];
        y = vec![x3, y[0], y[1], y[2]];
    }
    if part1 {
        x
    } else {
        y
    }
}
