//! Loads and stores of general and SIMD&FP registers: single and pair, all
//! addressing modes (offset, pre/post-index, register offset, literal),
//! unscaled and unprivileged forms, LD1/ST1 of whole registers, LD2-4/ST2-4
//! (multiple structures, element by element), LD1-4/ST1-4 of one lane
//! (single structure) and LD1R-LD4R (load and replicate).
//!
//! Literal loads from read-only segments are folded to constants: the
//! translator treats non-writable guest bytes as immutable.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand, SIMDSizeCode, SizeCode};

use super::ctx::{int_ty, unsupported, Address, Ctx, Lift, Unsupported};
use crate::ir::Type;

/// Bytes moved by a SIMD&FP scalar register of this size.
pub fn simd_bytes(size: SIMDSizeCode) -> u8 {
    match size {
        SIMDSizeCode::B => 1,
        SIMDSizeCode::H => 2,
        SIMDSizeCode::S => 4,
        SIMDSizeCode::D => 8,
        SIMDSizeCode::Q => 16,
    }
}

/// How an integer load extends: (bytes, signed).
fn int_access(op: Opcode, dst: SizeCode) -> (u8, bool) {
    match op {
        Opcode::LDRB
        | Opcode::LDURB
        | Opcode::LDTRB
        | Opcode::STRB
        | Opcode::STURB
        | Opcode::STTRB => (1, false),
        Opcode::LDRSB | Opcode::LDURSB | Opcode::LDTRSB => (1, true),
        Opcode::LDRH
        | Opcode::LDURH
        | Opcode::LDTRH
        | Opcode::STRH
        | Opcode::STURH
        | Opcode::STTRH => (2, false),
        Opcode::LDRSH | Opcode::LDURSH | Opcode::LDTRSH => (2, true),
        Opcode::LDRSW | Opcode::LDURSW | Opcode::LDTRSW | Opcode::LDPSW => (4, true),
        _ => {
            if dst == SizeCode::X {
                (8, false)
            } else {
                (4, false)
            }
        }
    }
}

fn is_store(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::STR
            | Opcode::STRB
            | Opcode::STRH
            | Opcode::STUR
            | Opcode::STURB
            | Opcode::STURH
            | Opcode::STTR
            | Opcode::STTRB
            | Opcode::STTRH
            | Opcode::STP
            | Opcode::STNP
    )
}

/// Loads one register's worth from `addr` into register operand `reg`.
fn load_into(cx: &mut Ctx, op: Opcode, reg: &Operand, addr: crate::ir::Value) -> Lift {
    match *reg {
        Operand::Register(size, r) => {
            let (bytes, signed) = int_access(op, size);
            // An unsigned load into a W register zero-extends to 64 bits
            // in the load itself (x86's 32-bit loads do), so no separate
            // widening follows it when the 32-bit value has other uses.
            let ty = if op == Opcode::LDPSW || !signed {
                Type::I64
            } else {
                int_ty(size)
            };
            let v = cx.load(ty, addr, bytes, signed);
            cx.set_reg(r, v);
            Ok(())
        }
        Operand::SIMDRegister(size, r) => {
            let v = load_vreg(cx, size, addr);
            cx.b.set_v(v, r as u8);
            Ok(())
        }
        _ => unsupported(format!("load destination {reg:?}")),
    }
}

/// Loads a SIMD&FP scalar of `size` from `addr`, zero-extended to 128 bits.
pub fn load_vreg(cx: &mut Ctx, size: SIMDSizeCode, addr: crate::ir::Value) -> crate::ir::Value {
    let bytes = simd_bytes(size);
    if bytes == 16 {
        return cx.load(Type::V128, addr, 16, false);
    }
    let ty = Type::int((bytes as u32 * 8).max(32));
    let v = cx.load(ty, addr, bytes, false);
    cx.b.vfrom_scalar(Type::V128, v)
}

/// Stores the low `size` bytes of V register `r` at `addr`.
pub fn store_vreg(cx: &mut Ctx, size: SIMDSizeCode, r: u16, addr: crate::ir::Value) {
    let v = cx.b.get_v(Type::V128, r as u8);
    let bytes = simd_bytes(size);
    if bytes == 16 {
        cx.store(addr, v, 16);
        return;
    }
    let lanes = crate::ir::Lanes::I64x2;
    let lo = cx.b.vextract(Type::I64, v, (lanes, 0));
    cx.store(addr, lo, bytes);
}

fn store_from(cx: &mut Ctx, op: Opcode, reg: &Operand, addr: crate::ir::Value) -> Lift {
    match *reg {
        Operand::Register(size, r) => {
            let (bytes, _) = int_access(op, size);
            let v = cx.reg(size, r);
            cx.store(addr, v, bytes);
            Ok(())
        }
        Operand::SIMDRegister(size, r) => {
            store_vreg(cx, size, r, addr);
            Ok(())
        }
        _ => unsupported(format!("store source {reg:?}")),
    }
}

fn reg_bytes(reg: &Operand, op: Opcode) -> Result<u8, Unsupported> {
    match *reg {
        Operand::Register(size, _) => Ok(if op == Opcode::LDPSW {
            4
        } else if size == SizeCode::X {
            8
        } else {
            4
        }),
        Operand::SIMDRegister(size, _) => Ok(simd_bytes(size)),
        _ => unsupported(format!("pair register {reg:?}")),
    }
}

/// Tries to fold a literal load from immutable guest bytes.
fn literal(cx: &mut Ctx, i: &Instruction) -> Result<bool, Unsupported> {
    let Operand::PCOffset(off) = i.operands[1] else {
        return Ok(false);
    };
    let addr = cx.target(off);
    if cx.image.segment_at(addr).is_none_or(|s| s.write) {
        return Ok(false);
    }
    match i.operands[0] {
        Operand::Register(size, r) => {
            let (bytes, signed) = int_access(i.opcode, size);
            let Some(raw) = cx.image.read(addr, bytes as usize) else {
                return Ok(false);
            };
            let mut buf = [0u8; 8];
            buf[..raw.len()].copy_from_slice(raw);
            let mut v = u64::from_le_bytes(buf);
            if signed && bytes == 4 {
                v = v as u32 as i32 as i64 as u64;
            }
            let ty = if i.opcode == Opcode::LDRSW {
                Type::I64
            } else {
                int_ty(size)
            };
            let c = cx.iconst(ty, v);
            cx.set_reg(r, c);
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Single-register loads and stores.
pub fn single(cx: &mut Ctx, i: &Instruction) -> Lift {
    if matches!(i.opcode, Opcode::LDR | Opcode::LDRSW) && literal(cx, i)? {
        return Ok(());
    }
    let a: Address = cx.address(&i.operands[1])?;
    if is_store(i.opcode) {
        store_from(cx, i.opcode, &i.operands[0], a.addr)?;
    } else {
        load_into(cx, i.opcode, &i.operands[0], a.addr)?;
    }
    cx.writeback(&a);
    Ok(())
}

/// LDP, STP, LDPSW, LDNP, STNP.
pub fn pair(cx: &mut Ctx, i: &Instruction) -> Lift {
    let a = cx.address(&i.operands[2])?;
    let step = reg_bytes(&i.operands[0], i.opcode)?;
    let second = cx.add_imm(a.addr, step as i64);
    if is_store(i.opcode) {
        store_from(cx, i.opcode, &i.operands[0], a.addr)?;
        store_from(cx, i.opcode, &i.operands[1], second)?;
    } else {
        load_into(cx, i.opcode, &i.operands[0], a.addr)?;
        load_into(cx, i.opcode, &i.operands[1], second)?;
    }
    cx.writeback(&a);
    Ok(())
}

/// The address of a register-group access; the immediate post-index form
/// (`[xn], #imm`, encoded as register 31) advances by `total` bytes.
fn group_address(cx: &mut Ctx, op: &Operand, total: u64) -> Result<Address, Unsupported> {
    match *op {
        Operand::RegPostIndexReg(rn, rm) => {
            let base = cx.b.get_reg(Type::I64, rn as u8);
            let step = if rm == 31 {
                cx.iconst(Type::I64, total)
            } else {
                cx.b.get_reg(Type::I64, rm as u8)
            };
            let next = cx.b.add(Type::I64, base, step);
            Ok(Address {
                addr: base,
                writeback: Some((rn, next)),
            })
        }
        ref op => cx.address(op),
    }
}

/// LD1-LD4/ST1-ST4 (single structure): lane `lane` of `n` consecutive
/// registers, element `j` at `addr + j * esize`. Other lanes are kept.
fn ld_st_lane(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::SIMDRegisterGroupLane(first, esize, n, lane) = i.operands[0] else {
        return unsupported("single-structure form");
    };
    let ebytes = simd_bytes(esize);
    let lanes = crate::ir::Lanes::of_bits(ebytes as u32 * 8);
    let ety = Type::int((ebytes as u32 * 8).max(32));
    let a = group_address(cx, &i.operands[1], ebytes as u64 * n as u64)?;
    let store = matches!(
        i.opcode,
        Opcode::ST1 | Opcode::ST2 | Opcode::ST3 | Opcode::ST4
    );
    let regs: Vec<u16> = (0..n as u16).map(|j| (first + j) % 32).collect();
    let mut loaded = Vec::new();
    for (j, &r) in regs.iter().enumerate() {
        let addr = cx.add_imm(a.addr, j as i64 * ebytes as i64);
        let v = cx.b.get_v(Type::V128, r as u8);
        if store {
            let x = cx.b.vextract(ety, v, (lanes, lane));
            cx.store(addr, x, ebytes);
        } else {
            let x = cx.load(ety, addr, ebytes, false);
            loaded.push((r, x));
        }
    }
    for (r, x) in loaded {
        let v = cx.b.get_v(Type::V128, r as u8);
        let v = cx.b.vinsert(Type::V128, v, x, (lanes, lane));
        cx.b.set_v(v, r as u8);
    }
    cx.writeback(&a);
    Ok(())
}

/// LD1R-LD4R: element `j` at `addr + j * esize` replicated to every lane
/// of register `j`; a 64-bit arrangement clears the upper half.
pub fn ld_replicate(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::SIMDRegisterGroup(vsize, first, esize, n) = i.operands[0] else {
        return unsupported("ldNr form");
    };
    let ebytes = simd_bytes(esize);
    let lanes = crate::ir::Lanes::of_bits(ebytes as u32 * 8);
    let ety = Type::int((ebytes as u32 * 8).max(32));
    let a = group_address(cx, &i.operands[1], ebytes as u64 * n as u64)?;
    let mut vals = Vec::new();
    for j in 0..n as u16 {
        let addr = cx.add_imm(a.addr, j as i64 * ebytes as i64);
        let x = cx.load(ety, addr, ebytes, false);
        let mut v = cx.b.vsplat(Type::V128, x, lanes);
        if vsize != SIMDSizeCode::Q {
            v = cx.b.vzero_high(Type::V128, v);
        }
        vals.push(((first + j) % 32, v));
    }
    for (r, v) in vals {
        cx.b.set_v(v, r as u8);
    }
    cx.writeback(&a);
    Ok(())
}

/// LD1/ST1 (multiple structures) of 1-4 whole consecutive registers.
pub fn ld1_st1(cx: &mut Ctx, i: &Instruction) -> Lift {
    if matches!(i.operands[0], Operand::SIMDRegisterGroupLane(..)) {
        return ld_st_lane(cx, i);
    }
    let Operand::SIMDRegisterGroup(vsize, first, _, count) = i.operands[0] else {
        return unsupported("ld1/st1 form");
    };
    let bytes = if vsize == SIMDSizeCode::Q { 16 } else { 8 };
    let size = if bytes == 16 {
        SIMDSizeCode::Q
    } else {
        SIMDSizeCode::D
    };
    let a = group_address(cx, &i.operands[1], bytes as u64 * count as u64)?;
    for k in 0..count as u16 {
        let r = (first + k) % 32;
        let addr = cx.add_imm(a.addr, (k as i64) * bytes as i64);
        if i.opcode == Opcode::ST1 {
            store_vreg(cx, size, r, addr);
        } else {
            let v = load_vreg(cx, size, addr);
            cx.b.set_v(v, r as u8);
        }
    }
    cx.writeback(&a);
    Ok(())
}

/// LD2/LD3/LD4 and ST2/ST3/ST4 (multiple structures): element `e` of
/// register `j` lives at `(e * n + j) * esize`, moved one element at a
/// time. Loads read every element before writing any register, and a
/// 64-bit arrangement clears the upper half of its registers.
pub fn ld_st_n(cx: &mut Ctx, i: &Instruction) -> Lift {
    if matches!(i.operands[0], Operand::SIMDRegisterGroupLane(..)) {
        return ld_st_lane(cx, i);
    }
    let Operand::SIMDRegisterGroup(vsize, first, esize, n) = i.operands[0] else {
        return unsupported("ldN/stN form");
    };
    let bytes: u8 = if vsize == SIMDSizeCode::Q { 16 } else { 8 };
    let ebytes = simd_bytes(esize);
    if ebytes > 8 {
        return unsupported("ldN/stN element size");
    }
    let lanes = crate::ir::Lanes::of_bits(ebytes as u32 * 8);
    let ety = Type::int((ebytes as u32 * 8).max(32));
    let elems = bytes / ebytes;
    let a = group_address(cx, &i.operands[1], bytes as u64 * n as u64)?;
    let store = matches!(i.opcode, Opcode::ST2 | Opcode::ST3 | Opcode::ST4);
    let regs: Vec<u16> = (0..n as u16).map(|j| (first + j) % 32).collect();
    let mut vals: Vec<crate::ir::Value> = if store {
        regs.iter()
            .map(|&r| cx.b.get_v(Type::V128, r as u8))
            .collect()
    } else {
        regs.iter().map(|_| cx.b.vconst(Type::V128, 0)).collect()
    };
    for e in 0..elems {
        for (j, v) in vals.iter_mut().enumerate() {
            let off = (e as i64 * n as i64 + j as i64) * ebytes as i64;
            let addr = cx.add_imm(a.addr, off);
            if store {
                let x = cx.b.vextract(ety, *v, (lanes, e));
                cx.store(addr, x, ebytes);
            } else {
                let x = cx.load(ety, addr, ebytes, false);
                *v = cx.b.vinsert(Type::V128, *v, x, (lanes, e));
            }
        }
    }
    if !store {
        for (&r, v) in regs.iter().zip(vals) {
            cx.b.set_v(v, r as u8);
        }
    }
    cx.writeback(&a);
    Ok(())
}
