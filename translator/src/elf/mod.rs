//! The guest program before lifting: loading the ELF file ([`load`]) and
//! finding its code ([`discover`]).
//!
//! Data flows one way: `GuestImage::parse` -> `discover` -> `CodeMap`, which
//! the lifter consumes. Neither room knows about the IR or the backend.

pub mod discover;
pub mod load;
#[cfg(test)]
mod test_util;

pub use discover::{
    discover, discover_region, discover_with, BlockInfo, CodeMap, FuncInfo, JumpTable,
};
pub use load::{GuestImage, ImageKind, LoadError, Section, Segment, Symbol, SymbolKind};
