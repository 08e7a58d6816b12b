//! System instructions: MRS/MSR for the EL0-visible registers, barriers,
//! hints (NOP, YIELD, BTI and PAC hint-space NOPs), data prefetches, CLREX,
//! and SYS cache operations (DC ZVA zeroes; cache maintenance is a no-op
//! because translated code never executes guest bytes).

use vmxlate_abi as abi;
use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::ctx::{unsupported, Ctx, Lift};
use super::decode::sys_fields;
use crate::ir::{Flag, SysReg, Type};

/// `o0:op1:CRn:CRm:op2` (with `o0 = op0 - 2`) packed the way yaxpeax
/// reports `SystemReg`.
const fn sysreg(op0: u16, op1: u16, crn: u16, crm: u16, op2: u16) -> u16 {
    ((op0 - 2) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

const TPIDR_EL0: u16 = sysreg(3, 3, 13, 0, 2);
const TPIDRRO_EL0: u16 = sysreg(3, 3, 13, 0, 3);
const NZCV: u16 = sysreg(3, 3, 4, 2, 0);
const FPCR: u16 = sysreg(3, 3, 4, 4, 0);
const FPSR: u16 = sysreg(3, 3, 4, 4, 1);
const DCZID_EL0: u16 = sysreg(3, 3, 0, 0, 7);
const CTR_EL0: u16 = sysreg(3, 3, 0, 0, 1);
const MIDR_EL1: u16 = sysreg(3, 0, 0, 0, 0);
const CNTVCT_EL0: u16 = sysreg(3, 3, 14, 0, 2);
const CNTFRQ_EL0: u16 = sysreg(3, 3, 14, 0, 0);

fn sys_of(r: u16) -> Option<SysReg> {
    match r {
        TPIDR_EL0 => Some(SysReg::TpidrEl0),
        FPCR => Some(SysReg::Fpcr),
        FPSR => Some(SysReg::Fpsr),
        CNTVCT_EL0 => Some(SysReg::CntvctEl0),
        _ => None,
    }
}

/// MRS.
pub fn mrs(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (Operand::Register(_, rt), Operand::SystemReg(r)) = (i.operands[0], i.operands[1]) else {
        return unsupported("mrs operands");
    };
    let v = if let Some(s) = sys_of(r) {
        cx.b.get_sys(Type::I64, s)
    } else {
        match r {
            NZCV => {
                let mut acc = cx.iconst(Type::I64, 0);
                for (k, f) in Flag::ALL.iter().enumerate() {
                    let bit = cx.b.get_flag(Type::I8, *f);
                    let wide = cx.fit(bit, Type::I64, false);
                    let placed = cx.shl_imm(wide, 31 - k as u64);
                    acc = cx.b.or(Type::I64, acc, placed);
                }
                acc
            }
            DCZID_EL0 => cx.iconst(Type::I64, abi::DCZID_EL0),
            CTR_EL0 => cx.iconst(Type::I64, abi::CTR_EL0),
            MIDR_EL1 => cx.iconst(Type::I64, abi::MIDR_EL1),
            CNTFRQ_EL0 => cx.iconst(Type::I64, abi::CNTFRQ_EL0),
            TPIDRRO_EL0 => cx.iconst(Type::I64, 0),
            _ => return unsupported(format!("mrs of system register {r:#x}")),
        }
    };
    cx.set_reg(rt, v);
    Ok(())
}

/// MSR (register).
pub fn msr(cx: &mut Ctx, i: &Instruction) -> Lift {
    let (Operand::SystemReg(r), Operand::Register(size, rt)) = (i.operands[0], i.operands[1])
    else {
        return unsupported("msr form");
    };
    let v = cx.reg(size, rt);
    let v = cx.fit(v, Type::I64, false);
    match (r, sys_of(r)) {
        (_, Some(s)) if s != SysReg::CntvctEl0 => cx.b.set_sys(v, s),
        (NZCV, _) => {
            for (k, f) in Flag::ALL.iter().enumerate() {
                let sh = cx.iconst(Type::I64, 31 - k as u64);
                let moved = cx.b.lshr(Type::I64, v, sh);
                let bit = cx.b.trunc(Type::I8, moved);
                let one = cx.iconst(Type::I8, 1);
                let bit = cx.b.and(Type::I8, bit, one);
                cx.b.set_flag(bit, *f);
            }
        }
        _ => return unsupported(format!("msr to system register {r:#x}")),
    }
    Ok(())
}

/// DMB, DSB, ISB: only full barriers need a host fence on x86-64 (its
/// loads are not reordered with loads, nor stores with stores).
pub fn barrier(cx: &mut Ctx, i: &Instruction) -> Lift {
    let option = match i.opcode {
        Opcode::DMB(o) | Opcode::DSB(o) => o,
        _ => return Ok(()),
    };
    // Options ending in 0b01 are load-only, 0b10 store-only.
    if option & 3 == 3 || option & 3 == 0 {
        cx.b.fence();
    }
    Ok(())
}

/// PRFM and PRFUM: data prefetches (PLD, and PST, which x86-64-v2 has no
/// write hint for) become [`crate::ir::Opcode::Prefetch`] of the level
/// their `prfop` names, streaming ones non-temporal; instruction
/// prefetches (PLI) and the PC-relative form (literal pools, which are
/// cache-hot) do nothing. No form writes its base back.
pub fn prefetch(cx: &mut Ctx, i: &Instruction) -> Lift {
    if matches!(i.operands[1], Operand::PCOffset(_)) {
        return Ok(());
    }
    // prfop = type:target:policy (Arm ARM C6.2.248): type 0 PLD, 1 PLI,
    // 2 PST; target 0..2 for L1..L3; policy 1 streaming.
    let prfop = cx.word & 0x1f;
    let (kind, target, stream) = (prfop >> 3, (prfop >> 1) & 3, prfop & 1 == 1);
    if kind == 1 || kind == 3 || target == 3 {
        return Ok(());
    }
    let level = if stream { 0 } else { u64::from(target) + 1 };
    let a = cx.address(&i.operands[1])?;
    cx.b.prefetch(a.addr, level);
    Ok(())
}

/// CLREX: clear the exclusive monitor.
pub fn clrex(cx: &mut Ctx) -> Lift {
    let clear = cx.iconst(Type::I64, u64::MAX);
    cx.b.set_sys(clear, SysReg::ExclAddr);
    Ok(())
}

/// SYS: DC ZVA zeroes a block; other DC/IC maintenance ops are no-ops.
pub fn sys(cx: &mut Ctx) -> Lift {
    let (op1, crn, crm, op2, rt) = sys_fields(cx.word);
    match (op1, crn, crm, op2) {
        (3, 7, 4, 1) => {
            let addr = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::X, rt);
            cx.b.dc_zva(addr);
            Ok(())
        }
        (3, 7, _, _) | (0, 7, 5, 0) => Ok(()),
        _ => unsupported("sys operation"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::words::test_util::lift_words;

    #[test]
    fn pointer_authentication_hints_are_nops_without_pauth() {
        // paciasp, autiasp, pacia1716, autia1716, autib1716, paciaz,
        // autibsp, xpaclri (Arm ARM: HINT space, NOP without FEAT_PAuth).
        let words = [
            0xd503_233f,
            0xd503_23bf,
            0xd503_211f,
            0xd503_219f,
            0xd503_21df,
            0xd503_231f,
            0xd503_23ff,
            0xd503_20ff,
        ];
        let text = lift_words(&words);
        assert!(!text.contains("trap"), "{text}");
        assert!(!text.contains("set_reg"), "{text}");
    }

    #[test]
    fn data_prefetches_name_their_level_and_others_do_nothing() {
        // prfm pldl1keep, [x0]; prfm pldl2strm, [x0, #8];
        // prfm pstl3keep, [x1, x2, lsl #3]; prfum pldl1keep, [x0, #-7]
        // (Arm ARM C6.2.248-250: prfop = type:target:policy in Rt).
        let text = lift_words(&[0xf980_0000, 0xf980_0403, 0xf8a2_7824, 0xf89f_9000]);
        let levels: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("prefetch"))
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(levels, ["0x1", "0x0", "0x3", "0x1"], "{text}");
        // plil1keep, [x0]; prfm #0x1f, [x0]; prfm pldl1keep, <literal>
        let text = lift_words(&[0xf980_0008, 0xf980_001f, 0xd800_0040]);
        assert!(!text.contains("prefetch"), "{text}");
        assert!(!text.contains("trap"), "{text}");
    }
}
