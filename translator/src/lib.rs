//! vmxlate: ahead-of-time translation of AArch64 Linux programs to x86-64.
//!
//! Data flows one way: `elf` (load, discover) -> `frontend` (decode, lift to
//! `ir`) -> `opt` -> `backend` (Cranelift, object file) -> `link`.

pub mod backend;
pub mod bind;
pub mod driver;
pub mod elf;
pub mod frontend;
pub mod inspect;
pub mod ir;
pub mod link;
pub mod opt;
pub mod profile;
pub mod run;
