//! Text form of the IR, used by snapshot tests and `--dump-ir`.
//!
//! One line per instruction: `v3:i64 = add v1, v2` or `set_reg x0, v3`;
//! immediates print after the operands. Terminators print last in a block.

use std::fmt::{self, Write};

use super::function::{Function, Imm, Terminator};
use super::Block;

fn reg_name(r: u8) -> String {
    if r == 31 {
        "sp".to_string()
    } else {
        format!("x{r}")
    }
}

fn write_imm(out: &mut String, imm: &Imm) -> fmt::Result {
    match imm {
        Imm::None => Ok(()),
        Imm::Reg(r) => write!(out, "{}", reg_name(*r)),
        Imm::U64(v) => write!(out, "{v:#x}"),
        Imm::U128(v) => write!(out, "{v:#x}"),
        Imm::Mem(m) => write!(
            out,
            "{}{}{}",
            m.bytes,
            if m.signed { "s" } else { "" },
            if m.ordered { " ordered" } else { "" }
        ),
        other => write!(out, "{other:?}"),
    }
}

fn block_ref(f: &Function, b: Block) -> String {
    format!("{b}@{:#x}", f.blocks[b].pc)
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        writeln!(out, "function {} @ {:#x}", self.name, self.entry_pc)?;
        for (i, (pc, b)) in self.entries.iter().enumerate() {
            writeln!(out, "  entry {i}: {pc:#x} -> {b}")?;
        }
        for (b, data) in self.blocks.iter() {
            writeln!(out, "{}:", block_ref(self, b))?;
            for inst in &data.insts {
                out.push_str("    ");
                if let Some(r) = inst.result {
                    write!(out, "{r}:{} = ", inst.ty)?;
                }
                out.push_str(inst.op.name());
                let mut sep = " ";
                for a in inst.operands() {
                    write!(out, "{sep}{a}")?;
                    sep = ", ";
                }
                if inst.imm != Imm::None {
                    out.push_str(sep);
                    write_imm(&mut out, &inst.imm)?;
                }
                out.push('\n');
            }
            out.push_str("    ");
            match &data.term {
                Terminator::Unset => out.push_str("<unterminated>"),
                Terminator::Jump(t) => write!(out, "jump {}", block_ref(self, *t))?,
                Terminator::Branch {
                    cond,
                    then_to,
                    else_to,
                } => write!(
                    out,
                    "branch {cond}, {}, {}",
                    block_ref(self, *then_to),
                    block_ref(self, *else_to)
                )?,
                Terminator::Call { target, ret, cont } => write!(
                    out,
                    "call {target:#x} ret {ret:#x} -> {}",
                    block_ref(self, *cont)
                )?,
                Terminator::CallIndirect { target, ret, cont } => write!(
                    out,
                    "call_indirect {target} ret {ret:#x} -> {}",
                    block_ref(self, *cont)
                )?,
                Terminator::TailCall { target } => write!(out, "tail_call {target:#x}")?,
                Terminator::JumpIndirect { target } => write!(out, "jump_indirect {target}")?,
                Terminator::JumpTable {
                    index,
                    targets,
                    default,
                } => {
                    write!(out, "jump_table {index}, [")?;
                    for (i, t) in targets.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(&block_ref(self, *t));
                    }
                    write!(out, "], default {}", block_ref(self, *default))?;
                }
                Terminator::Return { target } => write!(out, "return {target}")?,
                Terminator::Syscall { next, cont } => {
                    write!(out, "syscall next {next:#x} -> {}", block_ref(self, *cont))?
                }
                Terminator::Trap { pc, word, kind } => {
                    write!(out, "trap {pc:#x} {word:08x} {kind:?}")?
                }
            }
            out.push('\n');
        }
        f.write_str(&out)
    }
}
