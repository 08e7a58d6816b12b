//! Conditions read straight from the compare that set the flags.
//!
//! A `B.cond`, `CSEL` or `CCMP` after `CMP`/`SUBS`/`TST`/`ANDS` in the same
//! block need not rebuild its condition from NZCV: it is one integer compare
//! of the original operands, which Cranelift fuses with the branch or select
//! into `cmp; jcc` or `cmov`, and the flags become dead where nothing else
//! reads them. [`fused`] recognises the flag values that `Ctx::set_nz`,
//! `set_flags_sub` and `set_flags_logic` produce, looking only at the last
//! write of each flag in the current block: a later write of any flag it
//! uses, or flags set in another block, makes it decline, and the caller
//! evaluates the flags generically. The flags themselves are still written.

use crate::ir::{Builder, Flag, Imm, InstData, IntCC, Opcode, Type, Value};

/// What defined the current flags, as far as a condition needs it.
#[derive(Clone, Copy)]
enum Source {
    /// `r = a - b` with all four flags from it.
    Sub { a: Value, b: Value },
    /// N and Z from `r`, C and V zero (a logical op).
    Logic { r: Value },
}

/// The block's instructions seen from its end.
struct View<'a>(&'a [InstData]);

impl View<'_> {
    fn def(&self, v: Value) -> Option<&InstData> {
        self.0.iter().rev().find(|i| i.result == Some(v))
    }

    fn last_write(&self, f: Flag) -> Option<Value> {
        self.0
            .iter()
            .rev()
            .find(|i| i.op == Opcode::SetFlag && i.imm == Imm::Flag(f))
            .map(|i| i.args[0])
    }

    fn is_const(&self, v: Value, c: u64) -> bool {
        self.def(v)
            .is_some_and(|i| i.op == Opcode::Iconst && i.imm == Imm::U64(c))
    }

    /// `x` when `v = icmp cc x, 0`.
    fn cmp_zero(&self, v: Value, cc: IntCC) -> Option<Value> {
        let i = self.def(v)?;
        (i.op == Opcode::Icmp && i.imm == Imm::IntCC(cc) && self.is_const(i.args[1], 0))
            .then_some(i.args[0])
    }

    /// `(a, b)` when `v = op a, b`.
    fn binary(&self, v: Value, op: Opcode) -> Option<(Value, Value)> {
        let i = self.def(v)?;
        (i.op == op).then_some((i.args[0], i.args[1]))
    }

    /// `x` when `v = icmp cc a, b`.
    fn is_icmp(&self, v: Value, cc: IntCC, a: Value, b: Value) -> bool {
        self.def(v).is_some_and(|i| {
            i.op == Opcode::Icmp && i.imm == Imm::IntCC(cc) && i.args[0] == a && i.args[1] == b
        })
    }

    /// The result N and Z were both computed from.
    fn nz_result(&self) -> Option<Value> {
        let r = self.cmp_zero(self.last_write(Flag::Z)?, IntCC::Eq)?;
        (self.cmp_zero(self.last_write(Flag::N)?, IntCC::Slt)? == r).then_some(r)
    }

    fn source(&self) -> Option<Source> {
        let r = self.nz_result()?;
        let (c, v) = (self.last_write(Flag::C)?, self.last_write(Flag::V)?);
        if self.is_const(c, 0) && self.is_const(v, 0) {
            return Some(Source::Logic { r });
        }
        let (a, b) = self.binary(r, Opcode::Sub)?;
        // V = ((a ^ b) & (a ^ r)) < 0, as `set_flags_sub` builds it.
        let both = self.cmp_zero(v, IntCC::Slt)?;
        let (x1, x2) = self.binary(both, Opcode::And)?;
        let sub_v = self.binary(x1, Opcode::Xor) == Some((a, b))
            && self.binary(x2, Opcode::Xor) == Some((a, r));
        (sub_v && self.is_icmp(c, IntCC::Uge, a, b)).then_some(Source::Sub { a, b })
    }
}

/// Condition code `cc` as one compare of the operands that set the flags,
/// or `None` when the flags' origin is not a recognised compare.
pub fn fused(b: &mut Builder, cc: u8) -> Option<Value> {
    let view = View(&b.func.blocks[b.block].insts);
    let inv = cc & 1 == 1;
    let pick = |t: IntCC, f: IntCC| if inv { f } else { t };
    // (lhs, rhs-or-zero, predicate) or a constant.
    let (lhs, rhs, pred) = match (cc >> 1, view.source()) {
        (0, Some(Source::Sub { a, b })) => (a, Some(b), pick(IntCC::Eq, IntCC::Ne)),
        (0, _) => {
            let r = view.cmp_zero(view.last_write(Flag::Z)?, IntCC::Eq)?;
            (r, None, pick(IntCC::Eq, IntCC::Ne))
        }
        (2, _) => {
            let r = view.cmp_zero(view.last_write(Flag::N)?, IntCC::Slt)?;
            (r, None, pick(IntCC::Slt, IntCC::Sge))
        }
        (1, Some(Source::Sub { a, b })) => (a, Some(b), pick(IntCC::Uge, IntCC::Ult)),
        (4, Some(Source::Sub { a, b })) => (a, Some(b), pick(IntCC::Ugt, IntCC::Ule)),
        (5, Some(Source::Sub { a, b })) => (a, Some(b), pick(IntCC::Sge, IntCC::Slt)),
        (6, Some(Source::Sub { a, b })) => (a, Some(b), pick(IntCC::Sgt, IntCC::Sle)),
        // Logical ops clear C and V: HS, VS and HI are false.
        (1 | 3 | 4, Some(Source::Logic { .. })) => {
            return Some(b.iconst(Type::I8, u64::from(inv)));
        }
        (5, Some(Source::Logic { r })) => (r, None, pick(IntCC::Sge, IntCC::Slt)),
        (6, Some(Source::Logic { r })) => (r, None, pick(IntCC::Sgt, IntCC::Sle)),
        _ => return None,
    };
    let rhs = match rhs {
        Some(v) => v,
        None => {
            let ty = b.ty(lhs);
            b.iconst(ty, 0)
        }
    };
    Some(b.icmp(Type::I8, lhs, rhs, pred))
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words as ir;

    #[test]
    fn compare_and_branch_is_one_compare_of_the_operands() {
        // cmp x1, x2; b.hi +8
        let text = ir(&[0xeb02_003f, 0x5400_0048]);
        assert!(text.contains("icmp ") && text.contains("Ugt"), "{text}");
        // No generic HI evaluation: it would read C and Z back.
        assert!(!text.contains("get_flag"), "{text}");
    }

    #[test]
    fn a_later_flag_write_declines_fusion() {
        // cmp x1, x2; adds x3, x3, #1; b.hi +8  (HI must see the ADDS's C)
        let text = ir(&[0xeb02_003f, 0xb100_0463, 0x5400_0048]);
        assert!(text.contains("get_flag") && !text.contains("Ugt"), "{text}");
    }

    #[test]
    fn test_then_greater_than_reads_only_the_result() {
        // tst x1, #1; b.gt +8
        let text = ir(&[0xf240_003f, 0x5400_004c]);
        assert!(text.contains("Sgt"), "{text}");
    }
}
