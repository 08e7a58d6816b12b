//! Conditions read straight from the compare that set the flags.
//!
//! A `B.cond`, `CSEL` or `CCMP` after `CMP`/`SUBS`/`TST`/`ANDS` in the same
//! block need not rebuild its condition from NZCV: it is one integer compare
//! of the original operands, which Cranelift fuses with the branch or select
//! into `cmp; jcc` or `cmov`, and the flags become dead where nothing else
//! reads them. After `FCMP`/`FCMPE` it is one FP compare (`ucomisd` and a
//! `setcc` or `jcc`) instead of a combination of the four flag compares.
//! [`fused`] recognises the flag values that `Ctx::set_nz`,
//! `set_flags_sub`, `set_flags_logic` and `fp::compare_flags` produce (and
//! `CCMP`'s selects between those and its immediate),
//! looking only at the last write of each flag in the current block: a
//! later write of any flag it uses, or flags set in another block, makes it
//! decline, and the caller evaluates the flags generically. The flags
//! themselves are still written.

use crate::ir::{Builder, Flag, FloatCC, Imm, InstData, IntCC, Opcode, Type, Value};

/// What defined the current flags, as far as a condition needs it.
#[derive(Clone, Copy)]
enum Source {
    /// `r = a - b` with all four flags from it.
    Sub { a: Value, b: Value },
    /// N and Z from `r`, C and V zero (a logical op).
    Logic { r: Value },
    /// An FP compare of `a` with `b`: less 1000, equal 0110, greater 0010,
    /// unordered 0011.
    Fcmp { a: Value, b: Value },
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

    /// `(a, b)` when `v = fcmp cc a, b`.
    fn fcmp(&self, v: Value, cc: FloatCC) -> Option<(Value, Value)> {
        let i = self.def(v)?;
        (i.op == Opcode::Fcmp && i.imm == Imm::FloatCC(cc)).then_some((i.args[0], i.args[1]))
    }

    /// The operands of the FP compare all four flags come from, as
    /// `fp::compare_flags` builds them: N = a < b, Z = a == b, C = !N,
    /// V = unordered.
    fn fp_source(&self) -> Option<Source> {
        let n = self.last_write(Flag::N)?;
        let ops = self.fcmp(n, FloatCC::Lt)?;
        let c_from_n = self
            .binary(self.last_write(Flag::C)?, Opcode::Xor)
            .is_some_and(|(x, one)| x == n && self.is_const(one, 1));
        (c_from_n
            && self.fcmp(self.last_write(Flag::Z)?, FloatCC::Eq) == Some(ops)
            && self.fcmp(self.last_write(Flag::V)?, FloatCC::Unordered) == Some(ops))
        .then_some(Source::Fcmp { a: ops.0, b: ops.1 })
    }

    /// `(s, at, nzcv)` when the last write of each flag is `select s,
    /// get_flag f, #k`, as `CCMP`/`CCMN` write them: the flags are those
    /// the instructions before `at` set when `s` holds, else `nzcv`.
    fn conditional(&self) -> Option<(Value, usize, u8)> {
        let mut sel = None;
        let mut nzcv = 0;
        let mut gets = [0; 4];
        for (k, f) in Flag::ALL.iter().enumerate() {
            let w = self.def(self.last_write(*f)?)?;
            if w.op != Opcode::Select || sel.is_some_and(|s| s != w.args[0]) {
                return None;
            }
            sel = Some(w.args[0]);
            let bit = match (self.is_const(w.args[2], 0), self.is_const(w.args[2], 1)) {
                (true, _) => 0,
                (_, true) => 1,
                _ => return None,
            };
            nzcv |= bit << (3 - k);
            let get = self.0.iter().position(|i| i.result == Some(w.args[1]))?;
            let g = &self.0[get];
            if g.op != Opcode::GetFlag || g.imm != Imm::Flag(*f) {
                return None;
            }
            gets[k] = get;
        }
        let at = *gets.iter().min()?;
        // Each read sees what the instructions before `at` left in its flag.
        let rewritten = Flag::ALL.iter().zip(gets).any(|(f, get)| {
            self.0[at..get]
                .iter()
                .any(|i| i.op == Opcode::SetFlag && i.imm == Imm::Flag(*f))
        });
        (!rewritten).then_some((sel?, at, nzcv))
    }

    fn source(&self) -> Option<Source> {
        if let Some(s) = self.fp_source() {
            return Some(s);
        }
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
/// or `None` when the flags' origin is not a recognised compare. After a
/// conditional compare it is `s ? compare : constant`, where `s` is the
/// condition the `CCMP` tested and the constant is `cc` on its immediate
/// NZCV (which the backend branches on twice).
pub fn fused(b: &mut Builder, cc: u8) -> Option<Value> {
    let end = b.func.blocks[b.block].insts.len();
    let Some((sel, at, nzcv)) = View(&b.func.blocks[b.block].insts).conditional() else {
        return fused_before(b, end, cc);
    };
    let compare = fused_before(b, at, cc)?;
    let constant = b.iconst(Type::I8, u64::from(holds(cc, nzcv)));
    Some(b.select(Type::I8, sel, compare, constant))
}

/// Whether condition code `cc` holds for the flags `nzcv` (N in bit 3).
fn holds(cc: u8, nzcv: u8) -> bool {
    let [n, z, c, v] = [8, 4, 2, 1].map(|bit| nzcv & bit != 0);
    let base = match cc >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => return true,
    };
    base != (cc & 1 == 1)
}

/// [`fused`] for the flags the block's first `end` instructions set.
fn fused_before(b: &mut Builder, end: usize, cc: u8) -> Option<Value> {
    let view = View(&b.func.blocks[b.block].insts[..end]);
    let inv = cc & 1 == 1;
    let source = view.source();
    if let Some(Source::Fcmp { a, b: rhs }) = source {
        let (t, f) = match cc >> 1 {
            0 => (FloatCC::Eq, FloatCC::Ne),
            1 => (FloatCC::Uge, FloatCC::Lt),
            2 => (FloatCC::Lt, FloatCC::Uge),
            3 => (FloatCC::Unordered, FloatCC::Ordered),
            4 => (FloatCC::Ugt, FloatCC::Le),
            5 => (FloatCC::Ge, FloatCC::Ult),
            6 => (FloatCC::Gt, FloatCC::Ule),
            _ => return None,
        };
        return Some(b.fcmp(Type::I8, a, rhs, if inv { f } else { t }));
    }
    let pick = |t: IntCC, f: IntCC| if inv { f } else { t };
    // (lhs, rhs-or-zero, predicate) or a constant.
    let (lhs, rhs, pred) = match (cc >> 1, source) {
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
    fn fp_compare_then_condition_is_one_fp_compare() {
        // CSET selects on the inverse condition. Arm ARM: after FCMP,
        // LE, LS and GE hold for these outcomes (less 1000, equal 0110,
        // greater 0010, unordered 0011).
        // fcmp d1, d2; cset w0, gt: LE = less, equal or unordered.
        let text = ir(&[0x1e62_2020, 0x1a9f_d7e0]);
        assert!(
            text.contains("FloatCC(Ule)") && !text.contains("get_flag"),
            "{text}"
        );
        // fcmp d1, d2; cset w0, hi: LS = less or equal (ordered).
        let text = ir(&[0x1e62_2020, 0x1a9f_97e0]);
        assert!(
            text.contains("FloatCC(Le)") && !text.contains("get_flag"),
            "{text}"
        );
        // fcmp d1, d2; cset w0, ge: LT = less or unordered.
        let text = ir(&[0x1e62_2020, 0x1a9f_b7e0]);
        assert!(
            text.contains("FloatCC(Ult)") && !text.contains("get_flag"),
            "{text}"
        );
    }

    #[test]
    fn a_later_flag_write_declines_fusion() {
        // cmp x1, x2; adds x3, x3, #1; b.hi +8  (HI must see the ADDS's C)
        let text = ir(&[0xeb02_003f, 0xb100_0463, 0x5400_0048]);
        assert!(text.contains("get_flag") && !text.contains("Ugt"), "{text}");
    }

    #[test]
    fn a_condition_after_ccmp_selects_between_its_compare_and_immediate() {
        // cmp x1, x2; ccmp x3, x4, #0, eq; b.gt +8: EQ ? (x3 > x4) : GT
        // on NZCV 0000 (true: Z clear, N == V).
        let text = ir(&[0xeb02_003f, 0xfa44_0060, 0x5400_004c]);
        assert!(text.contains("Sgt") && text.contains("select"), "{text}");
        assert!(super::holds(0xc, 0b0000) && !super::holds(0xc, 0b0100));
        // HI on 0010 (C set, Z clear) holds; LS on it does not.
        assert!(super::holds(0x8, 0b0010) && !super::holds(0x9, 0b0010));
        // AL and NV always hold.
        assert!(super::holds(0xe, 0) && super::holds(0xf, 0b1111));
    }

    #[test]
    fn test_then_greater_than_reads_only_the_result() {
        // tst x1, #1; b.gt +8
        let text = ir(&[0xf240_003f, 0x5400_004c]);
        assert!(text.contains("Sgt"), "{text}");
    }
}
