//! The lifting context: the block being built and the shared operand and
//! flag helpers every handler uses (register reads with the zero register,
//! W-register zero-extension, shifted and extended operands, NZCV, condition
//! codes, addressing modes).
//!
//! Invariants: a W write zero-extends into the X register; register 31
//! means XZR for `Register` operands and SP for `RegisterOrSP` operands;
//! flags are always 0/1 `i8` values.

use yaxpeax_arm::armv8::a64::{Operand, ShiftStyle, SizeCode};

use crate::elf::GuestImage;
use crate::ir::{Block, Builder, Flag, Function, IntCC, MemAccess, Type, Value};

/// Why an instruction could not be lifted.
#[derive(Debug)]
pub struct Unsupported(pub String);

/// Result of lifting one instruction.
pub type Lift = Result<(), Unsupported>;

/// Shorthand for an unsupported-operand error.
pub fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// A memory address computed from an addressing-mode operand, with the
/// base-register write-back to apply after the access.
pub struct Address {
    /// The effective address.
    pub addr: Value,
    /// `(base register, new value)` for pre/post-indexed forms.
    pub writeback: Option<(u16, Value)>,
}

/// Where control goes: within the function or out of it.
pub trait Targets {
    /// The IR block for an in-function guest address, or a stub block that
    /// leaves the function (tail call) when the address is outside it.
    fn block_for(&mut self, func: &mut Function, pc: u64) -> Block;

    /// For a BR at `br_pc` that is a recovered jump table: the guest
    /// address and block of each table entry.
    fn jump_table(&mut self, func: &mut Function, br_pc: u64) -> Option<Vec<(u64, Block)>>;
}

/// State while lifting one guest instruction.
pub struct Ctx<'a, 'f> {
    /// Appends to the current block.
    pub b: Builder<'f>,
    /// The guest image (for literal pools in read-only segments).
    pub image: &'a GuestImage,
    /// Guest address of the instruction.
    pub pc: u64,
    /// The raw instruction word.
    pub word: u32,
    /// Resolves branch targets.
    pub targets: &'a mut dyn Targets,
    /// The jump-table index, captured at the table load earlier in this
    /// block (the index register may be overwritten before the BR).
    pub table_index: Option<Value>,
}

/// Whether a size code is 64-bit.
pub fn is64(size: SizeCode) -> bool {
    matches!(size, SizeCode::X)
}

/// The IR type of a general register of this size.
pub fn int_ty(size: SizeCode) -> Type {
    if is64(size) {
        Type::I64
    } else {
        Type::I32
    }
}

impl Ctx<'_, '_> {
    /// An integer constant.
    pub fn iconst(&mut self, ty: Type, v: u64) -> Value {
        self.b.iconst(ty, v)
    }

    /// Reads `Rn` where 31 is the zero register.
    pub fn reg(&mut self, size: SizeCode, r: u16) -> Value {
        let ty = int_ty(size);
        if r == 31 {
            return self.iconst(ty, 0);
        }
        let x = self.b.get_reg(Type::I64, r as u8);
        if ty == Type::I32 {
            self.b.trunc(Type::I32, x)
        } else {
            x
        }
    }

    /// Reads `Rn` where 31 is SP.
    pub fn reg_sp(&mut self, size: SizeCode, r: u16) -> Value {
        let x = self.b.get_reg(Type::I64, r as u8);
        if is64(size) {
            x
        } else {
            self.b.trunc(Type::I32, x)
        }
    }

    /// Writes `Rd` where 31 is the zero register (the write is dropped).
    pub fn set_reg(&mut self, r: u16, v: Value) {
        if r == 31 {
            return;
        }
        let v = self.widen(v);
        self.b.set_reg(v, r as u8);
    }

    /// Writes `Rd` where 31 is SP.
    pub fn set_reg_sp(&mut self, r: u16, v: Value) {
        let v = self.widen(v);
        self.b.set_reg(v, r as u8);
    }

    /// Zero-extends an i32 to i64 (W writes clear the upper half).
    pub fn widen(&mut self, v: Value) -> Value {
        if self.b.ty(v) == Type::I64 {
            v
        } else {
            self.b.uext(Type::I64, v)
        }
    }

    /// Reads a destination-style operand (`Register`/`RegisterOrSP`).
    pub fn read_dst_operand(&mut self, op: &Operand) -> Result<Value, Unsupported> {
        match *op {
            Operand::Register(size, r) => Ok(self.reg(size, r)),
            Operand::RegisterOrSP(size, r) => Ok(self.reg_sp(size, r)),
            _ => unsupported(format!("operand {op:?}")),
        }
    }

    /// Writes a destination operand (`Register` or `RegisterOrSP`).
    pub fn write_dst(&mut self, op: &Operand, v: Value) -> Lift {
        match *op {
            Operand::Register(_, r) => self.set_reg(r, v),
            Operand::RegisterOrSP(_, r) => self.set_reg_sp(r, v),
            _ => return unsupported(format!("destination {op:?}")),
        }
        Ok(())
    }

    /// Evaluates a second-source operand of type `ty`: a register, a
    /// shifted or extended register, or an immediate.
    pub fn source(&mut self, op: &Operand, ty: Type) -> Result<Value, Unsupported> {
        match *op {
            Operand::Register(size, r) => {
                let v = self.reg(size, r);
                Ok(self.fit(v, ty, false))
            }
            Operand::RegisterOrSP(size, r) => {
                let v = self.reg_sp(size, r);
                Ok(self.fit(v, ty, false))
            }
            Operand::Immediate(i) => Ok(self.iconst(ty, i as u64)),
            Operand::Imm64(i) => Ok(self.iconst(ty, i)),
            Operand::Imm16(i) => Ok(self.iconst(ty, i as u64)),
            Operand::ImmShift(i, s) => Ok(self.iconst(ty, (i as u64) << s)),
            Operand::RegShift(style, amount, size, r) => {
                let v = self.reg(size, r);
                self.shift_or_extend(v, style, amount, ty)
            }
            _ => unsupported(format!("source operand {op:?}")),
        }
    }

    /// Zero- or sign-extends or truncates `v` to `ty`.
    pub fn fit(&mut self, v: Value, ty: Type, signed: bool) -> Value {
        let from = self.b.ty(v);
        if from == ty {
            v
        } else if from.bits() > ty.bits() {
            self.b.trunc(ty, v)
        } else if signed {
            self.b.sext(ty, v)
        } else {
            self.b.uext(ty, v)
        }
    }

    /// Applies a shift (LSL/LSR/ASR/ROR by `amount`) or an extend (UXTB..
    /// SXTX, then LSL by `amount`) to `v`, producing `ty`.
    pub fn shift_or_extend(
        &mut self,
        v: Value,
        style: ShiftStyle,
        amount: u8,
        ty: Type,
    ) -> Result<Value, Unsupported> {
        let ext = |bits: u32, signed: bool| Some((bits, signed));
        let extend = match style {
            ShiftStyle::UXTB => ext(8, false),
            ShiftStyle::UXTH => ext(16, false),
            ShiftStyle::UXTW => ext(32, false),
            ShiftStyle::UXTX => ext(64, false),
            ShiftStyle::SXTB => ext(8, true),
            ShiftStyle::SXTH => ext(16, true),
            ShiftStyle::SXTW => ext(32, true),
            ShiftStyle::SXTX => ext(64, true),
            _ => None,
        };
        if let Some((bits, signed)) = extend {
            let narrow = Type::int(bits);
            let part = self.fit(v, narrow, false);
            let wide = self.fit(part, ty, signed);
            return Ok(self.shl_imm(wide, amount as u64));
        }
        let v = self.fit(v, ty, false);
        if amount == 0 {
            return Ok(v);
        }
        let amt = self.iconst(ty, amount as u64);
        Ok(match style {
            ShiftStyle::LSL => self.b.shl(ty, v, amt),
            ShiftStyle::LSR => self.b.lshr(ty, v, amt),
            ShiftStyle::ASR => self.b.ashr(ty, v, amt),
            ShiftStyle::ROR => self.b.rotr(ty, v, amt),
            _ => return unsupported(format!("shift style {style:?}")),
        })
    }

    /// `v << n` for a constant `n` (no-op when 0).
    pub fn shl_imm(&mut self, v: Value, n: u64) -> Value {
        if n == 0 {
            return v;
        }
        let ty = self.b.ty(v);
        let c = self.iconst(ty, n);
        self.b.shl(ty, v, c)
    }

    /// Sets N and Z from a result.
    pub fn set_nz(&mut self, res: Value) {
        let ty = self.b.ty(res);
        let zero = self.iconst(ty, 0);
        let n = self.b.icmp(Type::I8, res, zero, IntCC::Slt);
        let z = self.b.icmp(Type::I8, res, zero, IntCC::Eq);
        self.b.set_flag(n, Flag::N);
        self.b.set_flag(z, Flag::Z);
    }

    /// Sets NZCV for `res = a + b + carry_in` (carry_in an optional i8).
    pub fn set_flags_add(&mut self, a: Value, b: Value, res: Value, carry_in: Option<Value>) {
        let ty = self.b.ty(res);
        self.set_nz(res);
        let c = match carry_in {
            None => self.b.icmp(Type::I8, res, a, IntCC::Ult),
            Some(cin) => {
                let lt = self.b.icmp(Type::I8, res, a, IntCC::Ult);
                let le = self.b.icmp(Type::I8, res, a, IntCC::Ule);
                self.b.select(Type::I8, cin, le, lt)
            }
        };
        let x1 = self.b.xor(ty, a, res);
        let x2 = self.b.xor(ty, b, res);
        let both = self.b.and(ty, x1, x2);
        let zero = self.iconst(ty, 0);
        let v = self.b.icmp(Type::I8, both, zero, IntCC::Slt);
        self.b.set_flag(c, Flag::C);
        self.b.set_flag(v, Flag::V);
    }

    /// Sets NZCV for `res = a - b` (no borrow-in).
    pub fn set_flags_sub(&mut self, a: Value, b: Value, res: Value) {
        let ty = self.b.ty(res);
        self.set_nz(res);
        let c = self.b.icmp(Type::I8, a, b, IntCC::Uge);
        let x1 = self.b.xor(ty, a, b);
        let x2 = self.b.xor(ty, a, res);
        let both = self.b.and(ty, x1, x2);
        let zero = self.iconst(ty, 0);
        let v = self.b.icmp(Type::I8, both, zero, IntCC::Slt);
        self.b.set_flag(c, Flag::C);
        self.b.set_flag(v, Flag::V);
    }

    /// Sets NZ from a logical result and clears C and V.
    pub fn set_flags_logic(&mut self, res: Value) {
        self.set_nz(res);
        let zero = self.iconst(Type::I8, 0);
        self.b.set_flag(zero, Flag::C);
        self.b.set_flag(zero, Flag::V);
    }

    /// Sets all four flags from a 4-bit `nzcv` immediate.
    pub fn set_flags_imm(&mut self, nzcv: u32) {
        for (i, f) in Flag::ALL.iter().enumerate() {
            let bit = (nzcv >> (3 - i)) & 1;
            let v = self.iconst(Type::I8, bit as u64);
            self.b.set_flag(v, *f);
        }
    }

    fn flag(&mut self, f: Flag) -> Value {
        self.b.get_flag(Type::I8, f)
    }

    fn not1(&mut self, v: Value) -> Value {
        let one = self.iconst(Type::I8, 1);
        self.b.xor(Type::I8, v, one)
    }

    /// Evaluates condition code `cc` (0..15) to a 0/1 i8: one compare of
    /// the operands when the flags come from a compare in this block
    /// (`cond::fused`), else from the flags.
    pub fn cond(&mut self, cc: u8) -> Value {
        if let Some(v) = super::cond::fused(&mut self.b, cc) {
            return v;
        }
        let base = match cc >> 1 {
            0 => self.flag(Flag::Z),
            1 => self.flag(Flag::C),
            2 => self.flag(Flag::N),
            3 => self.flag(Flag::V),
            4 => {
                let c = self.flag(Flag::C);
                let z = self.flag(Flag::Z);
                let nz = self.not1(z);
                self.b.and(Type::I8, c, nz)
            }
            5 => {
                let n = self.flag(Flag::N);
                let v = self.flag(Flag::V);
                self.b.icmp(Type::I8, n, v, IntCC::Eq)
            }
            6 => {
                let n = self.flag(Flag::N);
                let v = self.flag(Flag::V);
                let ge = self.b.icmp(Type::I8, n, v, IntCC::Eq);
                let z = self.flag(Flag::Z);
                let nz = self.not1(z);
                self.b.and(Type::I8, ge, nz)
            }
            _ => return self.iconst(Type::I8, 1),
        };
        if cc & 1 == 1 {
            self.not1(base)
        } else {
            base
        }
    }

    /// Computes the address of a memory operand.
    pub fn address(&mut self, op: &Operand) -> Result<Address, Unsupported> {
        match *op {
            Operand::RegPreIndex(rn, off, wb) => {
                let base = self.b.get_reg(Type::I64, rn as u8);
                let addr = self.add_imm(base, off as i64);
                Ok(Address {
                    addr,
                    writeback: wb.then_some((rn, addr)),
                })
            }
            Operand::RegPostIndex(rn, off) => {
                let base = self.b.get_reg(Type::I64, rn as u8);
                let next = self.add_imm(base, off as i64);
                Ok(Address {
                    addr: base,
                    writeback: Some((rn, next)),
                })
            }
            Operand::RegRegOffset(rn, rm, size, style, amount) => {
                let base = self.b.get_reg(Type::I64, rn as u8);
                let idx = self.reg(size, rm);
                let style = if style == ShiftStyle::LSL {
                    ShiftStyle::UXTX
                } else {
                    style
                };
                let off = self.shift_or_extend(idx, style, amount, Type::I64)?;
                let addr = self.b.add(Type::I64, base, off);
                Ok(Address {
                    addr,
                    writeback: None,
                })
            }
            Operand::PCOffset(off) => {
                let addr = self.iconst(Type::I64, self.pc.wrapping_add(off as u64));
                Ok(Address {
                    addr,
                    writeback: None,
                })
            }
            _ => unsupported(format!("address operand {op:?}")),
        }
    }

    /// Applies an address write-back, if any.
    pub fn writeback(&mut self, a: &Address) {
        if let Some((rn, v)) = a.writeback {
            self.b.set_reg(v, rn as u8);
        }
    }

    /// `v + imm` on i64 (no-op when 0).
    pub fn add_imm(&mut self, v: Value, imm: i64) -> Value {
        if imm == 0 {
            return v;
        }
        let c = self.iconst(Type::I64, imm as u64);
        self.b.add(Type::I64, v, c)
    }

    /// Loads `bytes` from `addr` into an integer of type `ty`.
    pub fn load(&mut self, ty: Type, addr: Value, bytes: u8, signed: bool) -> Value {
        self.b.load(
            ty,
            addr,
            MemAccess {
                bytes,
                signed,
                ordered: false,
            },
        )
    }

    /// Stores the low `bytes` of `v` at `addr`.
    pub fn store(&mut self, addr: Value, v: Value, bytes: u8) {
        self.b.store(
            addr,
            v,
            MemAccess {
                bytes,
                signed: false,
                ordered: false,
            },
        )
    }

    /// The guest address `pc + off`.
    pub fn target(&self, off: i64) -> u64 {
        self.pc.wrapping_add(off as u64)
    }
}
