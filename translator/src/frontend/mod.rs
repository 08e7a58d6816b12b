//! Guest-ISA front ends: decode guest instructions and lift them to the IR.

pub mod a64;
