//! Control flow: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR (jump tables or
//! indirect), BLR, RET, SVC, and BRK/HLT/UDF traps. Every handler here ends
//! the block.

use yaxpeax_arm::armv8::a64::{Instruction, Opcode, Operand};

use super::ctx::{unsupported, Ctx, Lift};
use crate::ir::{IntCC, Terminator, TrapKind, Type};

fn offset(op: &Operand) -> Result<i64, super::ctx::Unsupported> {
    match *op {
        Operand::PCOffset(o) => Ok(o),
        _ => unsupported(format!("branch offset {op:?}")),
    }
}

fn reg_num(op: &Operand) -> Result<u16, super::ctx::Unsupported> {
    match *op {
        Operand::Register(_, r) => Ok(r),
        _ => unsupported(format!("branch register {op:?}")),
    }
}

/// B: a jump within the function or a tail call.
pub fn b(cx: &mut Ctx, i: &Instruction) -> Lift {
    let t = cx.target(offset(&i.operands[0])?);
    let blk = cx.targets.block_for(cx.b.func, t);
    cx.b.terminate(Terminator::Jump(blk));
    Ok(())
}

/// BL: set X30 and call.
pub fn bl(cx: &mut Ctx, i: &Instruction) -> Lift {
    let t = cx.target(offset(&i.operands[0])?);
    let ret = cx.pc + 4;
    let r = cx.iconst(Type::I64, ret);
    cx.b.set_reg(r, 30);
    let cont = cx.targets.block_for(cx.b.func, ret);
    cx.b.terminate(Terminator::Call {
        target: t,
        ret,
        cont,
    });
    Ok(())
}

fn branch_on(cx: &mut Ctx, cond: crate::ir::Value, taken: u64) {
    let then_to = cx.targets.block_for(cx.b.func, taken);
    let else_to = cx.targets.block_for(cx.b.func, cx.pc + 4);
    cx.b.terminate(Terminator::Branch {
        cond,
        then_to,
        else_to,
    });
}

/// B.cond.
pub fn b_cond(cx: &mut Ctx, i: &Instruction, cc: u8) -> Lift {
    let t = cx.target(offset(&i.operands[0])?);
    let c = cx.cond(cc);
    branch_on(cx, c, t);
    Ok(())
}

/// CBZ, CBNZ.
pub fn cbz(cx: &mut Ctx, i: &Instruction) -> Lift {
    let v = cx.read_dst_operand(&i.operands[0])?;
    let ty = cx.b.ty(v);
    let zero = cx.iconst(ty, 0);
    let cc = if i.opcode == Opcode::CBZ {
        IntCC::Eq
    } else {
        IntCC::Ne
    };
    let c = cx.b.icmp(Type::I8, v, zero, cc);
    let t = cx.target(offset(&i.operands[1])?);
    branch_on(cx, c, t);
    Ok(())
}

/// TBZ, TBNZ.
pub fn tbz(cx: &mut Ctx, i: &Instruction) -> Lift {
    let Operand::Imm16(bit) = i.operands[1] else {
        return unsupported("tbz bit");
    };
    let r = reg_num(&i.operands[0])?;
    let v = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::X, r);
    let m = cx.iconst(Type::I64, 1u64 << (bit & 63));
    let bitv = cx.b.and(Type::I64, v, m);
    let zero = cx.iconst(Type::I64, 0);
    let cc = if i.opcode == Opcode::TBZ {
        IntCC::Eq
    } else {
        IntCC::Ne
    };
    let c = cx.b.icmp(Type::I8, bitv, zero, cc);
    let t = cx.target(offset(&i.operands[2])?);
    branch_on(cx, c, t);
    Ok(())
}

/// BR: a recovered jump table, else an indirect jump. Table recognition is
/// optimistic, so each table entry is taken only when the BR target equals
/// it; any other target goes through the code lookup table.
pub fn br(cx: &mut Ctx, i: &Instruction) -> Lift {
    let r = reg_num(&i.operands[0])?;
    let target = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::X, r);
    let table = match cx.table_index {
        Some(idx) => cx.targets.jump_table(cx.b.func, cx.pc).map(|t| (idx, t)),
        None => None,
    };
    let Some((idx, entries)) = table else {
        cx.b.terminate(Terminator::JumpIndirect { target });
        return Ok(());
    };
    let mask = cx.iconst(Type::I64, 0xffff_ffff);
    let index = cx.b.and(Type::I64, idx, mask);
    let func = &mut *cx.b.func;
    let default = func.create_block(0);
    {
        let mut db = func.builder(default);
        db.pc = cx.pc;
        let t = db.get_reg(Type::I64, r as u8);
        db.terminate(Terminator::JumpIndirect { target: t });
    }
    let mut checks = Vec::with_capacity(entries.len());
    for (pc, blk) in entries {
        let check = func.create_block(0);
        let mut cb = func.builder(check);
        cb.pc = cx.pc;
        let t = cb.get_reg(Type::I64, r as u8);
        let want = cb.iconst(Type::I64, pc);
        let same = cb.icmp(Type::I8, t, want, IntCC::Eq);
        cb.terminate(Terminator::Branch {
            cond: same,
            then_to: blk,
            else_to: default,
        });
        checks.push(check);
    }
    cx.b.terminate(Terminator::JumpTable {
        index,
        targets: checks,
        default,
    });
    Ok(())
}

/// BLR.
pub fn blr(cx: &mut Ctx, i: &Instruction) -> Lift {
    let r = reg_num(&i.operands[0])?;
    let target = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::X, r);
    let ret = cx.pc + 4;
    let rv = cx.iconst(Type::I64, ret);
    cx.b.set_reg(rv, 30);
    let cont = cx.targets.block_for(cx.b.func, ret);
    cx.b.terminate(Terminator::CallIndirect { target, ret, cont });
    Ok(())
}

/// RET.
pub fn ret(cx: &mut Ctx, i: &Instruction) -> Lift {
    let r = reg_num(&i.operands[0])?;
    let target = cx.reg(yaxpeax_arm::armv8::a64::SizeCode::X, r);
    cx.b.terminate(Terminator::Return { target });
    Ok(())
}

/// SVC #0.
pub fn svc(cx: &mut Ctx) -> Lift {
    let next = cx.pc + 4;
    let cont = cx.targets.block_for(cx.b.func, next);
    cx.b.terminate(Terminator::Syscall { next, cont });
    Ok(())
}

/// BRK, HLT, UDF: stop with a trap.
pub fn trap(cx: &mut Ctx, i: &Instruction) -> Lift {
    let kind = match (i.opcode, i.operands[0]) {
        (Opcode::BRK, Operand::Imm16(imm)) => TrapKind::Brk(imm),
        _ => TrapKind::Undefined(i.to_string()),
    };
    cx.b.terminate(Terminator::Trap {
        pc: cx.pc,
        word: cx.word,
        kind,
    });
    Ok(())
}
