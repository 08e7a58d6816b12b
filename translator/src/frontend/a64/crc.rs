//! CRC32B/H/W/X and CRC32CB/H/W/X (FEAT_CRC32).
//!
//! x86-64 SSE4.2 `crc32` computes only CRC-32C and Cranelift does not
//! expose it, so both polynomials are computed bit-serially in the IR: the
//! data is XORed into the accumulator (in a 64-bit register, so the bits
//! above 32 enter as they shift down), then one reflected step per data
//! bit, `r = (r >> 1) ^ (r & 1 ? poly : 0)`. Exact for every input; no
//! branches and no tables, but about two cycles per data bit: a
//! table-driven or carry-less-multiply form needs a read-only table or
//! PCLMULQDQ, which the backend does not offer yet.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::ctx::{unsupported, Ctx, Lift};
use crate::ir::Type;

/// The reflected CRC-32 (ISO-HDLC) polynomial.
const POLY_CRC32: u64 = 0xedb8_8320;
/// The reflected CRC-32C (Castagnoli) polynomial.
const POLY_CRC32C: u64 = 0x82f6_3b78;

/// Lifts one CRC32 or CRC32C instruction.
pub fn crc32(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let (bits, poly) = match i.opcode {
        CRC32B => (8, POLY_CRC32),
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
    let acc = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::W, n);
    let acc = cx.b.uext(Type::I64, acc);
    let val = cx.reg(msize, m);
    let val = cx.widen(val);
    let val = if bits < 64 {
        let mask = cx.iconst(Type::I64, (1u64 << bits) - 1);
        cx.b.and(Type::I64, val, mask)
    } else {
        val
    };
    let mut r = cx.b.xor(Type::I64, acc, val);
    let one = cx.iconst(Type::I64, 1);
    let p = cx.iconst(Type::I64, poly);
    for _ in 0..bits {
        // A select (x86 `cmov`) keeps the loop-carried chain to two
        // instructions per bit.
        let down = cx.b.lshr(Type::I64, r, one);
        let folded = cx.b.xor(Type::I64, down, p);
        let low = cx.b.and(Type::I64, r, one);
        r = cx.b.select(Type::I64, low, folded, down);
    }
    let r = cx.b.trunc(Type::I32, r);
    cx.set_reg(d, r);
    Ok(())
}
