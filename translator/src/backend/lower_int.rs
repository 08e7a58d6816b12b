//! Lowering of integer, memory and atomic IR ops to Cranelift, with Arm
//! semantics where x86-64 differs (divide by zero gives 0, `MIN / -1`
//! gives `MIN`; shift amounts wrap, which Cranelift's shifts already do).

use cranelift_codegen::ir::{
    self, condcodes, types, AliasRegion, AliasRegionData, AtomicRmwOp, InstBuilder,
    InstructionData, MemFlagsData, Value as ClValue,
};
use cranelift_frontend::FunctionBuilder;

use super::types::cl_type;
use crate::ir::{Imm, InstData, IntCC, MemAccess, Opcode, RmwOp, Type};

/// Flags for guest memory accesses: may trap, little-endian, in alias
/// region [`guest_region`].
pub fn guest_mem() -> MemFlagsData {
    MemFlagsData::new().with_alias_region(Some(guest_region()))
}

/// The alias region of guest memory: disjoint from `CpuState` (the
/// runtime's memory, which no guest address reaches), so Cranelift may
/// reuse a `CpuState` load across guest stores. Every function that uses
/// [`guest_mem`] declares it first, with [`declare_regions`].
pub fn guest_region() -> AliasRegion {
    AliasRegion::from_u32(0)
}

/// The alias region of `CpuState` accesses.
pub fn cpu_region() -> AliasRegion {
    AliasRegion::from_u32(1)
}

/// Declares [`guest_region`] and [`cpu_region`] in `func`, which has no
/// alias regions yet.
pub fn declare_regions(func: &mut cranelift_codegen::ir::Function) {
    let regions = &mut func.dfg.alias_regions;
    let guest = regions.insert(AliasRegionData {
        user_id: 0,
        description: "guest memory".into(),
    });
    let cpu = regions.insert(AliasRegionData {
        user_id: 1,
        description: "CpuState".into(),
    });
    assert_eq!((guest, cpu), (guest_region(), cpu_region()));
}

fn cc(c: IntCC) -> condcodes::IntCC {
    use condcodes::IntCC as C;
    match c {
        IntCC::Eq => C::Equal,
        IntCC::Ne => C::NotEqual,
        IntCC::Slt => C::SignedLessThan,
        IntCC::Sge => C::SignedGreaterThanOrEqual,
        IntCC::Sgt => C::SignedGreaterThan,
        IntCC::Sle => C::SignedLessThanOrEqual,
        IntCC::Ult => C::UnsignedLessThan,
        IntCC::Uge => C::UnsignedGreaterThanOrEqual,
        IntCC::Ugt => C::UnsignedGreaterThan,
        IntCC::Ule => C::UnsignedLessThanOrEqual,
    }
}

/// Converts `v` to integer type `to` by zero-extension or truncation.
pub fn resize(fb: &mut FunctionBuilder, v: ClValue, to: types::Type, signed: bool) -> ClValue {
    let from = fb.func.dfg.value_type(v);
    if from == to {
        v
    } else if from.bits() > to.bits() {
        fb.ins().ireduce(to, v)
    } else if signed {
        fb.ins().sextend(to, v)
    } else {
        fb.ins().uextend(to, v)
    }
}

fn mask(ty: types::Type, v: u64) -> i64 {
    if ty.bits() >= 64 {
        v as i64
    } else {
        (v & ((1u64 << ty.bits()) - 1)) as i64
    }
}

fn narrow(m: &MemAccess) -> types::Type {
    match m.bytes {
        1 => types::I8,
        2 => types::I16,
        4 => types::I32,
        _ => types::I64,
    }
}

/// Lowers a load of `m.bytes` into type `ty`.
pub fn load(fb: &mut FunctionBuilder, ty: Type, m: &MemAccess, addr: ClValue) -> ClValue {
    let t = cl_type(ty);
    let f = guest_mem();
    if !ty.is_int() || m.bytes as u32 * 8 == ty.bits() {
        return fb.ins().load(t, f, addr, 0);
    }
    match (m.bytes, m.signed) {
        (1, false) => fb.ins().uload8(t, f, addr, 0),
        (1, true) => fb.ins().sload8(t, f, addr, 0),
        (2, false) => fb.ins().uload16(t, f, addr, 0),
        (2, true) => fb.ins().sload16(t, f, addr, 0),
        (4, false) => fb.ins().uload32(f, addr, 0),
        _ => fb.ins().sload32(f, addr, 0),
    }
}

/// Lowers a store of the low `m.bytes` of `v`.
pub fn store(fb: &mut FunctionBuilder, m: &MemAccess, addr: ClValue, v: ClValue) {
    let f = guest_mem();
    let t = fb.func.dfg.value_type(v);
    if !t.is_int() || m.bytes as u32 * 8 == t.bits() {
        fb.ins().store(f, v, addr, 0);
        return;
    }
    match m.bytes {
        1 => fb.ins().istore8(f, v, addr, 0),
        2 => fb.ins().istore16(f, v, addr, 0),
        _ => fb.ins().istore32(f, v, addr, 0),
    };
}

/// `x` when `v` is `bitrev(x)`. x86 has no bit reverse (Cranelift swaps
/// bits in six mask-and-shift stages), so `clz(bitrev(x))`, the A64
/// count-trailing-zeros idiom (`rbit; clz`), becomes one `ctz`; the
/// `bitrev` is then dead unless something else reads it.
fn bitrev_operand(fb: &FunctionBuilder, v: ClValue) -> Option<ClValue> {
    let dfg = &fb.func.dfg;
    let inst = dfg.value_def(v).inst()?;
    match dfg.insts[inst] {
        InstructionData::Unary {
            opcode: ir::Opcode::Bitrev,
            arg,
        } => Some(arg),
        _ => None,
    }
}

fn udiv(fb: &mut FunctionBuilder, a: ClValue, b: ClValue) -> ClValue {
    let t = fb.func.dfg.value_type(a);
    let zero = fb.ins().icmp_imm_s(condcodes::IntCC::Equal, b, 0);
    let one = fb.ins().iconst(t, 1);
    let safe = fb.ins().select(zero, one, b);
    let q = fb.ins().udiv(a, safe);
    let z = fb.ins().iconst(t, 0);
    fb.ins().select(zero, z, q)
}

fn sdiv(fb: &mut FunctionBuilder, a: ClValue, b: ClValue) -> ClValue {
    let t = fb.func.dfg.value_type(a);
    let zero = fb.ins().icmp_imm_s(condcodes::IntCC::Equal, b, 0);
    let minus1 = fb.ins().icmp_imm_s(condcodes::IntCC::Equal, b, -1);
    let special = fb.ins().bor(zero, minus1);
    let one = fb.ins().iconst(t, 1);
    let safe = fb.ins().select(special, one, b);
    let q = fb.ins().sdiv(a, safe);
    let neg = fb.ins().ineg(a);
    let q = fb.ins().select(minus1, neg, q);
    let z = fb.ins().iconst(t, 0);
    fb.ins().select(zero, z, q)
}

fn rmw_op(op: RmwOp) -> AtomicRmwOp {
    match op {
        RmwOp::Add => AtomicRmwOp::Add,
        RmwOp::Clr => AtomicRmwOp::And,
        RmwOp::Eor => AtomicRmwOp::Xor,
        RmwOp::Set => AtomicRmwOp::Or,
        RmwOp::Smax => AtomicRmwOp::Smax,
        RmwOp::Smin => AtomicRmwOp::Smin,
        RmwOp::Umax => AtomicRmwOp::Umax,
        RmwOp::Umin => AtomicRmwOp::Umin,
        RmwOp::Swp => AtomicRmwOp::Xchg,
    }
}

/// Lowers one integer, memory or atomic op; `None` for ops this file does
/// not own.
pub fn lower(fb: &mut FunctionBuilder, inst: &InstData, a: &[ClValue]) -> Option<ClValue> {
    let t = cl_type(inst.ty);
    let v = match (inst.op, &inst.imm) {
        (Opcode::Iconst, Imm::U64(v)) => fb.ins().iconst(t, mask(t, *v)),
        (Opcode::Add, _) => fb.ins().iadd(a[0], a[1]),
        (Opcode::Sub, _) => fb.ins().isub(a[0], a[1]),
        (Opcode::Mul, _) => fb.ins().imul(a[0], a[1]),
        (Opcode::UMulHi, _) => fb.ins().umulhi(a[0], a[1]),
        (Opcode::SMulHi, _) => fb.ins().smulhi(a[0], a[1]),
        (Opcode::UDiv, _) => udiv(fb, a[0], a[1]),
        (Opcode::SDiv, _) => sdiv(fb, a[0], a[1]),
        (Opcode::And, _) => fb.ins().band(a[0], a[1]),
        (Opcode::Or, _) => fb.ins().bor(a[0], a[1]),
        (Opcode::Xor, _) => fb.ins().bxor(a[0], a[1]),
        (Opcode::Shl, _) => fb.ins().ishl(a[0], a[1]),
        (Opcode::Lshr, _) => fb.ins().ushr(a[0], a[1]),
        (Opcode::Ashr, _) => fb.ins().sshr(a[0], a[1]),
        (Opcode::Rotr, _) => fb.ins().rotr(a[0], a[1]),
        (Opcode::Not, _) => fb.ins().bnot(a[0]),
        (Opcode::Neg, _) => fb.ins().ineg(a[0]),
        (Opcode::Clz, _) => match bitrev_operand(fb, a[0]) {
            // `rbit; clz`, the A64 count-trailing-zeros idiom.
            Some(x) => fb.ins().ctz(x),
            None => fb.ins().clz(a[0]),
        },
        (Opcode::Cls, _) => fb.ins().cls(a[0]),
        (Opcode::Bitrev, _) => fb.ins().bitrev(a[0]),
        (Opcode::Bswap, _) => fb.ins().bswap(a[0]),
        (Opcode::Icmp, Imm::IntCC(c)) => fb.ins().icmp(cc(*c), a[0], a[1]),
        (Opcode::Select, _) => fb.ins().select(a[0], a[1], a[2]),
        (Opcode::Uext | Opcode::Trunc, _) => resize(fb, a[0], t, false),
        (Opcode::Sext, _) => resize(fb, a[0], t, true),
        (Opcode::Bitcast, _) => {
            let from = fb.func.dfg.value_type(a[0]);
            if from == t {
                a[0]
            } else {
                fb.ins().bitcast(t, MemFlagsData::new(), a[0])
            }
        }
        (Opcode::Load, Imm::Mem(m)) => load(fb, inst.ty, m, a[0]),
        (Opcode::Cas, Imm::Mem(m)) if m.bytes == 16 => {
            // A 128-bit pair (STXP/STLXP of X registers): CMPXCHG16B.
            let le = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
            let e = fb.ins().bitcast(types::I128, le, a[1]);
            let x = fb.ins().bitcast(types::I128, le, a[2]);
            let old = fb.ins().atomic_cas(guest_mem(), a[0], e, x);
            fb.ins().bitcast(t, le, old)
        }
        (Opcode::Cas, Imm::Mem(m)) => {
            let n = narrow(m);
            let e = resize(fb, a[1], n, false);
            let x = resize(fb, a[2], n, false);
            let old = fb.ins().atomic_cas(guest_mem(), a[0], e, x);
            resize(fb, old, t, false)
        }
        (Opcode::AtomicRmw, Imm::Rmw((op, m))) => {
            let n = narrow(m);
            let mut x = resize(fb, a[1], n, false);
            if *op == RmwOp::Clr {
                x = fb.ins().bnot(x);
            }
            let old = fb.ins().atomic_rmw(n, guest_mem(), rmw_op(*op), a[0], x);
            resize(fb, old, t, false)
        }
        _ => return None,
    };
    Some(v)
}

/// Lowers the effect-only memory ops (`Store`, `Fence`, `DcZva`); returns
/// false for ops this file does not own.
pub fn lower_effect(fb: &mut FunctionBuilder, inst: &InstData, a: &[ClValue]) -> bool {
    match (inst.op, &inst.imm) {
        (Opcode::Store, Imm::Mem(m)) => store(fb, m, a[0], a[1]),
        (Opcode::Fence, _) => {
            fb.ins().fence();
        }
        (Opcode::DcZva, _) => {
            let base = fb
                .ins()
                .band_imm_s(a[0], !(vmxlate_abi::DCZ_BLOCK_BYTES as i64 - 1));
            let zero = fb.ins().iconst(types::I64, 0);
            for off in (0..vmxlate_abi::DCZ_BLOCK_BYTES as i32).step_by(8) {
                fb.ins().store(guest_mem(), zero, base, off);
            }
        }
        _ => return false,
    }
    true
}
