//! The guest MMU in user mode: identity-mapped guest memory and its
//! bookkeeping.
//!
//! A guest address is a host address. This room owns every guest mapping
//! the runtime creates or forwards (image segments, stack, brk heap, guest
//! `mmap`) and records each one, with the permissions the guest asked for, in
//! the global [`vma::VMAS`] map. Host mappings never carry `PROT_EXEC`: guest
//! code is translated, never run natively.

pub mod brk;
pub mod mapping;
pub mod page;
pub mod vma;
