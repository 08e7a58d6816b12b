//! Exclusive and atomic memory operations: LDXR/STXR and the pairs
//! LDXP/STXP (by compare-and-swap against the value the load observed; a
//! pair of X registers with a 128-bit compare-and-swap), load-acquire/
//! store-release, and the LSE atomics (CAS, SWP, LDADD and friends).
//!
//! Ordering on x86-64: loads already have acquire semantics and stores
//! release semantics; a store-release is followed by a full fence so that a
//! later load-acquire cannot pass it (Arm's RCsc guarantee).

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SizeCode};

use super::ctx::{int_ty, unsupported, Ctx, Lift};
use crate::ir::{IntCC, Lanes, MemAccess, RmwOp, SysReg, Type, Value};

fn access_bytes(op: Opcode, size: SizeCode) -> u8 {
    match op {
        Opcode::LDXRB
        | Opcode::LDAXRB
        | Opcode::STXRB
        | Opcode::STLXRB
        | Opcode::LDARB
        | Opcode::STLRB
        | Opcode::LDAPRB
        | Opcode::LDLARB
        | Opcode::STLLRB
        | Opcode::CASB(_)
        | Opcode::SWPB(_) => 1,
        Opcode::LDXRH
        | Opcode::LDAXRH
        | Opcode::STXRH
        | Opcode::STLXRH
        | Opcode::LDARH
        | Opcode::STLRH
        | Opcode::LDAPRH
        | Opcode::LDLARH
        | Opcode::STLLRH
        | Opcode::CASH(_)
        | Opcode::SWPH(_) => 2,
        _ => {
            if size == SizeCode::X {
                8
            } else {
                4
            }
        }
    }
}

fn reg(op: &Operand) -> Result<(SizeCode, u16), super::ctx::Unsupported> {
    match *op {
        Operand::Register(s, r) => Ok((s, r)),
        _ => unsupported(format!("atomic register {op:?}")),
    }
}

fn mem(bytes: u8) -> MemAccess {
    MemAccess {
        bytes,
        signed: false,
        ordered: true,
    }
}

/// LDXR, LDAXR (all sizes): load and arm the monitor.
pub fn load_exclusive(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (size, rt) = reg(&i.operands[0])?;
    let bytes = access_bytes(i.opcode, size);
    let a = cx.address(&i.operands[1])?;
    let v = cx.b.load(Type::I64, a.addr, mem(bytes));
    cx.b.set_sys(a.addr, SysReg::ExclAddr);
    cx.b.set_sys(v, SysReg::ExclVal);
    let out = cx.fit(v, int_ty(size), false);
    cx.set_reg(rt, out);
    Ok(())
}

/// STXR, STLXR (all sizes): succeed (status 0) only if the monitor covers
/// the address and memory still holds the value the load observed.
pub fn store_exclusive(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (_, rs) = reg(&i.operands[0])?;
    let (size, rt) = reg(&i.operands[1])?;
    let bytes = access_bytes(i.opcode, size);
    let a = cx.address(&i.operands[2])?;
    let armed = cx.b.get_sys(Type::I64, SysReg::ExclAddr);
    let expected = cx.b.get_sys(Type::I64, SysReg::ExclVal);
    let matches = cx.b.icmp(Type::I8, armed, a.addr, IntCC::Eq);
    let newv = cx.reg(SizeCode::X, rt);
    // On an address mismatch, write back the expected value: no change.
    let store = cx.b.select(Type::I64, matches, newv, expected);
    let old = cx.b.cas(Type::I64, a.addr, expected, store, mem(bytes));
    let same = cx.b.icmp(Type::I8, old, expected, IntCC::Eq);
    exclusive_status(cx, rs, same, matches)
}

/// LDXP, LDAXP: load a pair and arm the monitor with what was seen. A W
/// pair is one 64-bit access; an X pair is two 64-bit loads (a torn pair
/// only makes the STXP compare fail, as a lost reservation would).
pub fn load_exclusive_pair(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (size, rt) = reg(&i.operands[0])?;
    let (_, rt2) = reg(&i.operands[1])?;
    let a = cx.address(&i.operands[2])?;
    cx.b.set_sys(a.addr, SysReg::ExclAddr);
    let (lo, hi) = if size == SizeCode::X {
        let lo = cx.b.load(Type::I64, a.addr, mem(8));
        let eight = cx.iconst(Type::I64, 8);
        let a2 = cx.b.add(Type::I64, a.addr, eight);
        let hi = cx.b.load(Type::I64, a2, mem(8));
        cx.b.set_sys(lo, SysReg::ExclVal);
        cx.b.set_sys(hi, SysReg::ExclVal2);
        (lo, hi)
    } else {
        let v = cx.b.load(Type::I64, a.addr, mem(8));
        cx.b.set_sys(v, SysReg::ExclVal);
        let lo = cx.fit(v, Type::I32, false);
        let sh = cx.iconst(Type::I64, 32);
        let hi = cx.b.lshr(Type::I64, v, sh);
        let hi = cx.fit(hi, Type::I32, false);
        (lo, hi)
    };
    cx.set_reg(rt, lo);
    cx.set_reg(rt2, hi);
    Ok(())
}

/// STXP, STLXP: store a pair if the monitor covers the address and memory
/// still holds the pair the load observed (status 0), as one atomic
/// compare-and-swap of 64 (W) or 128 (X) bits.
pub fn store_exclusive_pair(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (_, rs) = reg(&i.operands[0])?;
    let (size, rt) = reg(&i.operands[1])?;
    let (_, rt2) = reg(&i.operands[2])?;
    let a = cx.address(&i.operands[3])?;
    let armed = cx.b.get_sys(Type::I64, SysReg::ExclAddr);
    let matches = cx.b.icmp(Type::I8, armed, a.addr, IntCC::Eq);
    let e_lo = cx.b.get_sys(Type::I64, SysReg::ExclVal);
    let same = if size == SizeCode::X {
        let e_hi = cx.b.get_sys(Type::I64, SysReg::ExclVal2);
        let n_lo = cx.reg(SizeCode::X, rt);
        let n_hi = cx.reg(SizeCode::X, rt2);
        let s_lo = cx.b.select(Type::I64, matches, n_lo, e_lo);
        let s_hi = cx.b.select(Type::I64, matches, n_hi, e_hi);
        let pair = |cx: &mut Ctx, lo, hi| {
            let v = cx.b.vfrom_scalar(Type::V128, lo);
            cx.b.vinsert(Type::V128, v, hi, (Lanes::I64x2, 1))
        };
        let expected = pair(cx, e_lo, e_hi);
        let store = pair(cx, s_lo, s_hi);
        let old = cx.b.cas(Type::V128, a.addr, expected, store, mem(16));
        let o_lo = cx.b.vextract(Type::I64, old, (Lanes::I64x2, 0));
        let o_hi = cx.b.vextract(Type::I64, old, (Lanes::I64x2, 1));
        let same_lo = cx.b.icmp(Type::I8, o_lo, e_lo, IntCC::Eq);
        let same_hi = cx.b.icmp(Type::I8, o_hi, e_hi, IntCC::Eq);
        cx.b.and(Type::I8, same_lo, same_hi)
    } else {
        let lo = cx.reg(SizeCode::W, rt);
        let lo = cx.fit(lo, Type::I64, false);
        let hi = cx.reg(SizeCode::W, rt2);
        let hi = cx.fit(hi, Type::I64, false);
        let sh = cx.iconst(Type::I64, 32);
        let hi = cx.b.shl(Type::I64, hi, sh);
        let n = cx.b.or(Type::I64, lo, hi);
        let store = cx.b.select(Type::I64, matches, n, e_lo);
        let old = cx.b.cas(Type::I64, a.addr, e_lo, store, mem(8));
        cx.b.icmp(Type::I8, old, e_lo, IntCC::Eq)
    };
    exclusive_status(cx, rs, same, matches)
}

/// LDAR, LDAPR, LDLAR (all sizes).
pub fn load_acquire(cx: &mut Ctx, i: &Instruction) -> Lift {
    // yaxpeax-arm 0.5 decodes LDAPR whatever Rs holds; Rs != 11111 is
    // unallocated (qemu-aarch64 raises SIGILL), so it must trap.
    let ldapr = matches!(i.opcode, Opcode::LDAPR | Opcode::LDAPRB | Opcode::LDAPRH);
    if ldapr && (cx.word >> 16) & 31 != 31 {
        return unsupported("unallocated encoding: LDAPR with Rs != 11111");
    }
    let (size, rt) = reg(&i.operands[0])?;
    let bytes = access_bytes(i.opcode, size);
    let a = cx.address(&i.operands[1])?;
    let v = cx.b.load(int_ty(size), a.addr, mem(bytes));
    cx.set_reg(rt, v);
    Ok(())
}

/// STLR, STLLR (all sizes).
pub fn store_release(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (size, rt) = reg(&i.operands[0])?;
    let bytes = access_bytes(i.opcode, size);
    let a = cx.address(&i.operands[1])?;
    let v = cx.reg(size, rt);
    cx.b.store(a.addr, v, mem(bytes));
    cx.b.fence();
    Ok(())
}

/// CAS, CASA, CASL, CASAL (B/H/W/X).
pub fn cas(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (size, rs) = reg(&i.operands[0])?;
    let (_, rt) = reg(&i.operands[1])?;
    let bytes = access_bytes(i.opcode, size);
    let a = cx.address(&i.operands[2])?;
    let ty = int_ty(size);
    let expected = cx.reg(size, rs);
    let newv = cx.reg(size, rt);
    let old = cx.b.cas(ty, a.addr, expected, newv, mem(bytes));
    cx.set_reg(rs, old);
    Ok(())
}

/// SWP and LDADD/LDCLR/LDEOR/LDSET/LD{S,U}{MAX,MIN} (all sizes and
/// orderings; ST* aliases write the old value to XZR).
pub fn rmw(cx: &mut Ctx, i: &Instruction) -> Lift {
    use Opcode::*;
    let op = match i.opcode {
        SWP(_) | SWPB(_) | SWPH(_) => RmwOp::Swp,
        LDADD(_) | LDADDB(_) | LDADDH(_) => RmwOp::Add,
        LDCLR(_) | LDCLRB(_) | LDCLRH(_) => RmwOp::Clr,
        LDEOR(_) | LDEORB(_) | LDEORH(_) => RmwOp::Eor,
        LDSET(_) | LDSETB(_) | LDSETH(_) => RmwOp::Set,
        LDSMAX(_) | LDSMAXB(_) | LDSMAXH(_) => RmwOp::Smax,
        LDSMIN(_) | LDSMINB(_) | LDSMINH(_) => RmwOp::Smin,
        LDUMAX(_) | LDUMAXB(_) | LDUMAXH(_) => RmwOp::Umax,
        _ => RmwOp::Umin,
    };
    let bytes = match i.opcode {
        SWPB(_) | LDADDB(_) | LDCLRB(_) | LDEORB(_) | LDSETB(_) | LDSMAXB(_) | LDSMINB(_)
        | LDUMAXB(_) | LDUMINB(_) => 1,
        SWPH(_) | LDADDH(_) | LDCLRH(_) | LDEORH(_) | LDSETH(_) | LDSMAXH(_) | LDSMINH(_)
        | LDUMAXH(_) | LDUMINH(_) => 2,
        _ => 0,
    };
    let (size, rs) = reg(&i.operands[0])?;
    let (_, rt) = reg(&i.operands[1])?;
    let bytes = if bytes == 0 {
        access_bytes(i.opcode, size)
    } else {
        bytes
    };
    let a = cx.address(&i.operands[2])?;
    let ty = int_ty(size);
    let v = cx.reg(size, rs);
    let old = cx.b.atomic_rmw(ty, a.addr, v, (op, mem(bytes)));
    cx.set_reg(rt, old);
    Ok(())
}

/// Ends a store-exclusive: Rs = 0 when the monitor matched and the memory
/// still held the value the load saw (`same`), else 1; the monitor clears.
fn exclusive_status(cx: &mut Ctx, rs: u16, same: Value, matches: Value) -> Lift {
    let ok = cx.b.and(Type::I8, same, matches);
    let one = cx.iconst(Type::I8, 1);
    let fail = cx.b.xor(Type::I8, ok, one);
    let status = cx.fit(fail, Type::I32, false);
    let clear = cx.iconst(Type::I64, u64::MAX);
    cx.b.set_sys(clear, SysReg::ExclAddr);
    cx.set_reg(rs, status);
    Ok(())
}
