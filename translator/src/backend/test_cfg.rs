//! Control flow for the backend's unit tests: a function with a block per
//! address, blocks that branch on a guest register, or return through X30
//! (as guest code does), so tests spell out only the shape of the graph
//! they check.

use crate::ir::{Block, Function, Terminator, Type};

/// A function starting at `pcs[0]`, with an empty block at each of `pcs`
/// and its entry at the first.
pub fn function<const N: usize>(pcs: [u64; N]) -> (Function, [Block; N]) {
    let mut f = Function::new("t".into(), pcs[0]);
    let blocks = pcs.map(|pc| f.create_block(pc));
    f.entries.push((pcs[0], blocks[0]));
    (f, blocks)
}

/// Ends `block` with a branch on X`reg` to `then_to` or `else_to`.
pub fn branch_on(f: &mut Function, block: Block, reg: u8, then_to: Block, else_to: Block) {
    let mut b = f.builder(block);
    let cond = b.get_reg(Type::I64, reg);
    b.terminate(Terminator::Branch {
        cond,
        then_to,
        else_to,
    });
}

/// Ends `block` with a return to X30.
pub fn ret(f: &mut Function, block: Block) {
    let mut b = f.builder(block);
    let target = b.get_reg(Type::I64, 30);
    b.terminate(Terminator::Return { target });
}

/// A diamond: 0x1000 branches on X0 to 0x1004, which copies X1 to
/// X`reg`, or to 0x1008; both jump to 0x100c, left for the test to end.
/// Returns `[entry, write, skip, join]`.
pub fn diamond(reg: u8) -> (Function, [Block; 4]) {
    let (mut f, [entry, write, skip, join]) = function([0x1000, 0x1004, 0x1008, 0x100c]);
    branch_on(&mut f, entry, 0, write, skip);
    let mut b = f.builder(write);
    let v = b.get_reg(Type::I64, 1);
    b.set_reg(v, reg);
    b.terminate(Terminator::Jump(join));
    f.builder(skip).terminate(Terminator::Jump(join));
    (f, [entry, write, skip, join])
}
