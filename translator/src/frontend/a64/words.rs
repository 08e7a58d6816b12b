//! Lifting a bare sequence of instruction words into one IR block, outside
//! any discovered function: for snapshot tests, the differential fuzzer and
//! debugging tools.
//!
//! Branch targets become tail-call stub blocks; an instruction that does not
//! lift ends the block with a trap, as in a real function.

use super::ctx::Targets;
use super::lift_one;
use crate::elf::GuestImage;
use crate::ir::{Block, Function, Terminator};

struct StubTargets;

impl Targets for StubTargets {
    fn block_for(&mut self, func: &mut Function, pc: u64) -> Block {
        let b = func.create_block(pc);
        func.blocks[b].term = Terminator::TailCall { target: pc };
        b
    }

    fn jump_table(&mut self, _: &mut Function, _: u64) -> Option<Vec<(u64, Block)>> {
        None
    }
}

/// Lifts `words` as one block starting at guest address `base`; `image`
/// supplies read-only bytes for literal loads.
pub fn lift_words(image: &GuestImage, base: u64, words: &[u32]) -> Function {
    let mut func = Function::new("words".into(), base);
    let block = func.create_block(base);
    func.entries.push((base, block));
    let mut targets = StubTargets;
    for (k, &word) in words.iter().enumerate() {
        let pc = base + 4 * k as u64;
        lift_one(image, &mut func, block, &mut targets, (pc, word), None);
        if func.blocks[block].term != Terminator::Unset {
            return func;
        }
    }
    let next = targets.block_for(&mut func, base + 4 * words.len() as u64);
    func.blocks[block].term = Terminator::Jump(next);
    func
}

#[cfg(test)]
pub mod test_util {
    //! Shorthand for the lifter's unit tests.

    use crate::elf::GuestImage;

    /// Lifts `words` at 0x1000 against the `basic` fixture's image and
    /// returns the printed IR.
    pub fn lift_words(words: &[u32]) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bin/basic");
        let image = GuestImage::parse(std::fs::read(path).expect("fixture")).expect("image");
        super::lift_words(&image, 0x1000, words).to_string()
    }
}
