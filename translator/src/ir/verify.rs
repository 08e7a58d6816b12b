//! The IR verifier: structural checks run between passes in debug builds
//! and by the tests.
//!
//! It checks what the op table declares (arity, immediate kind, result
//! presence) and the function invariants stated in `function.rs`.

use cranelift_entity::EntitySet;

use super::function::{Function, Terminator};
use super::Value;

/// Checks `func`; returns every problem found, one line each.
pub fn verify(func: &Function) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut defined: EntitySet<Value> = EntitySet::new();
    if func.entries.is_empty() {
        errors.push("function has no entries".to_string());
    }
    for (_, b) in &func.entries {
        if !func.blocks.is_valid(*b) {
            errors.push(format!("entry names missing {b}"));
        }
    }
    for (b, data) in func.blocks.iter() {
        let mut local: EntitySet<Value> = EntitySet::new();
        for inst in &data.insts {
            let op = inst.op;
            if inst.imm.kind() != op.imm_kind() {
                errors.push(format!("{b}: {} has immediate {:?}", op.name(), inst.imm));
            }
            for a in inst.operands() {
                if !local.contains(*a) {
                    errors.push(format!(
                        "{b}: {} uses {a} not defined earlier in the block",
                        op.name()
                    ));
                }
            }
            match (op.has_result(), inst.result) {
                (true, Some(r)) => {
                    if defined.contains(r) {
                        errors.push(format!("{b}: {r} defined twice"));
                    }
                    defined.insert(r);
                    local.insert(r);
                    if func.values[r] != inst.ty {
                        errors.push(format!("{b}: {r} type disagrees"));
                    }
                }
                (false, None) => {}
                _ => errors.push(format!("{b}: {} result mismatch", op.name())),
            }
        }
        if data.term == Terminator::Unset {
            errors.push(format!("{b} has no terminator"));
        }
        for a in data.term.operands() {
            if !local.contains(a) {
                errors.push(format!("{b}: terminator uses {a} not defined in the block"));
            }
        }
        for s in data.term.successors() {
            if !func.blocks.is_valid(s) {
                errors.push(format!("{b}: successor {s} does not exist"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
