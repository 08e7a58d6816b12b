//! CRC32B/H/W/X and CRC32CB/H/W/X (FEAT_CRC32).
//!
//! x86-64 SSE4.2 `crc32` computes only CRC-32C, and neither it nor
//! PCLMULQDQ is reachable through Cranelift, so both polynomials use
//! Barrett reduction with the carry-less products by the two constants
//! unrolled into shifts and a balanced XOR tree (the constants are fixed,
//! so a product is one shifted copy of the operand per set bit). In the
//! bit-reflected domain the CRC registers use, for a 32-bit value `v`:
//!
//! ```text
//! q  = clmul(v, mu') mod 2^32          mu' = reflect33(floor(x^64 / P))
//! v * x^32 mod P = clmul(q, P') >> 32   P'  = reflect33(P)
//! ```
//!
//! A 64-bit datum is two such steps (low word first); an 8- or 16-bit
//! datum `d` gives `(acc >> n) ^ reduce(((acc ^ d) mod 2^n) << (32 - n))`.
//! Exact for every input (it is the same GF(2) arithmetic as the
//! bit-serial definition); the unit tests check it against that
//! definition and the `vector`/`compute` fixtures against qemu-aarch64.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SizeCode};

use super::ctx::{unsupported, Ctx, Lift};
use crate::ir::{Type, Value};

/// The reflected CRC-32 (ISO-HDLC) polynomial.
const POLY_CRC32: u32 = 0xedb8_8320;
/// The reflected CRC-32C (Castagnoli) polynomial.
const POLY_CRC32C: u32 = 0x82f6_3b78;

/// Barrett constants for a reflected polynomial: the low 32 bits of
/// `mu'` (the product is only needed modulo 2^32) and the 33-bit `P'`.
fn barrett(poly_reflected: u32) -> (u32, u64) {
    let p = (1u64 << 32) | u64::from(poly_reflected.reverse_bits());
    // mu = floor(x^64 / P) by polynomial long division.
    let mut rem: u128 = 1 << 64;
    let mut mu: u64 = 0;
    while 128 - rem.leading_zeros() >= 33 {
        let shift = 128 - rem.leading_zeros() - 33;
        mu |= 1 << shift;
        rem ^= u128::from(p) << shift;
    }
    let reflect33 = |x: u64| x.reverse_bits() >> 31;
    (reflect33(mu) as u32, reflect33(p))
}

/// XORs the `ty` values `terms` (at least one) as a balanced tree, for
/// short dependency chains.
pub fn xor_tree(cx: &mut Ctx, ty: Type, mut terms: Vec<Value>) -> Value {
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        for pair in terms.chunks(2) {
            next.push(match *pair {
                [a, b] => cx.b.xor(ty, a, b),
                [a] => a,
                _ => unreachable!("chunks of two"),
            });
        }
        terms = next;
    }
    terms[0]
}

/// `v * x^32 mod P` in the reflected domain, for a 32-bit `v`.
fn reduce(cx: &mut Ctx, v: Value, (mu, p): (u32, u64)) -> Value {
    let shifted = |cx: &mut Ctx, x: Value, by: u32, left: bool| {
        if by == 0 {
            return x;
        }
        let k = cx.iconst(Type::I32, u64::from(by));
        if left {
            cx.b.shl(Type::I32, x, k)
        } else {
            cx.b.lshr(Type::I32, x, k)
        }
    };
    // q = clmul(v, mu) mod 2^32: one v << b per set bit b.
    let terms = (0..32u32)
        .filter(|b| mu >> b & 1 != 0)
        .map(|b| shifted(cx, v, b, true))
        .collect();
    let q = xor_tree(cx, Type::I32, terms);
    // clmul(q, P) >> 32: (q << b) >> 32 = q >> (32 - b); b = 0 adds
    // nothing above bit 31.
    let terms = (1..=32u32)
        .filter(|b| p >> b & 1 != 0)
        .map(|b| shifted(cx, q, 32 - b, false))
        .collect();
    xor_tree(cx, Type::I32, terms)
}

/// Lifts one CRC32 or CRC32C instruction.
pub fn crc32(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let (bits, poly) = match i.opcode {
        CRC32B => (8u32, POLY_CRC32),
        CRC32H => (16, POLY_CRC32),
        CRC32W => (32, POLY_CRC32),
        CRC32X => (64, POLY_CRC32),
        CRC32CB => (8, POLY_CRC32C),
        CRC32CH => (16, POLY_CRC32C),
        CRC32CW => (32, POLY_CRC32C),
        CRC32CX => (64, POLY_CRC32C),
        _ => return unsupported("not a CRC32 instruction"),
    };
    let (Operand::Register(_, d), Operand::Register(_, n), Operand::Register(msize, m)) =
        (i.operands[0], i.operands[1], i.operands[2])
    else {
        return unsupported("crc32 operands");
    };
    let k = barrett(poly);
    let acc = cx.reg(SizeCode::W, n);
    let r = match bits {
        64 => {
            let data = cx.reg(msize, m);
            let acc64 = cx.b.uext(Type::I64, acc);
            let v = cx.b.xor(Type::I64, acc64, data);
            let lo = cx.b.trunc(Type::I32, v);
            let s = cx.iconst(Type::I64, 32);
            let hi = cx.b.lshr(Type::I64, v, s);
            let hi = cx.b.trunc(Type::I32, hi);
            let r1 = reduce(cx, lo, k);
            let v2 = cx.b.xor(Type::I32, r1, hi);
            reduce(cx, v2, k)
        }
        32 => {
            let data = cx.reg(SizeCode::W, m);
            let v = cx.b.xor(Type::I32, acc, data);
            reduce(cx, v, k)
        }
        _ => {
            let data = cx.reg(SizeCode::W, m);
            let v = cx.b.xor(Type::I32, acc, data);
            let up = cx.iconst(Type::I32, u64::from(32 - bits));
            // Shifting left by 32 - n also drops the bits above n.
            let v = cx.b.shl(Type::I32, v, up);
            let low = reduce(cx, v, k);
            let nv = cx.iconst(Type::I32, u64::from(bits));
            let high = cx.b.lshr(Type::I32, acc, nv);
            cx.b.xor(Type::I32, high, low)
        }
    };
    cx.set_reg(d, r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: one reflected shift-and-subtract per data bit.
    fn bit_serial(acc: u32, data: u64, bits: u32, poly: u32) -> u32 {
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1 << bits) - 1
        };
        let mut v = u64::from(acc) ^ (data & mask);
        for _ in 0..bits {
            v = (v >> 1) ^ if v & 1 != 0 { u64::from(poly) } else { 0 };
        }
        v as u32
    }

    fn clmul(a: u64, b: u64) -> u128 {
        (0..64)
            .filter(|i| b >> i & 1 != 0)
            .fold(0, |r, i| r ^ (u128::from(a) << i))
    }

    /// The lifted arithmetic, on host integers.
    fn barrett_crc(acc: u32, data: u64, bits: u32, poly: u32) -> u32 {
        let (mu, p) = barrett(poly);
        let reduce = |v: u32| {
            let q = clmul(u64::from(v), u64::from(mu)) as u32;
            (clmul(u64::from(q), p) >> 32) as u32
        };
        match bits {
            64 => {
                let v = u64::from(acc) ^ data;
                reduce(reduce(v as u32) ^ (v >> 32) as u32)
            }
            32 => reduce(acc ^ data as u32),
            n => (acc >> n) ^ reduce((acc ^ data as u32) << (32 - n)),
        }
    }

    #[test]
    fn constants_are_the_published_ones() {
        // Intel, "Fast CRC Computation for Generic Polynomials Using
        // PCLMULQDQ": mu' = 0x1F7011641, P' = 0x1DB710641 for CRC-32.
        assert_eq!(barrett(POLY_CRC32), (0xf701_1641, 0x1_db71_0641));
        assert_eq!(barrett(POLY_CRC32C).1, 0x1_05ec_76f1);
    }

    #[test]
    fn barrett_matches_the_bit_serial_definition() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let acc = (x >> 17) as u32;
            for bits in [8, 16, 32, 64] {
                for poly in [POLY_CRC32, POLY_CRC32C] {
                    let data = x.rotate_left(bits);
                    assert_eq!(
                        barrett_crc(acc, data, bits, poly),
                        bit_serial(acc, data, bits, poly),
                        "acc {acc:#x} data {data:#x} bits {bits} poly {poly:#x}"
                    );
                }
            }
        }
    }
}
