//! Binds guest functions that are known libc routines to host
//! implementations (`vmxlate_abi::Routine`, the runtime's `string` module).
//!
//! A function is bound when its symbol is one of the implementation names
//! in [`NAMES`], or when its exact bytes (its `.eh_frame` extent) are one of
//! the glibc builds fingerprinted in `fingerprints.rs`, which finds them in
//! stripped programs, or when it is a PLT-style stub that calls the IFUNC
//! of such a routine (`ifunc.rs`). Binding only redirects entry 0 to a block that calls
//! the host routine and returns: the lifted body stays for every other
//! entry (glibc's memmove branches into memcpy's body, for one).
//!
//! Invariants: routines whose result the C standard defines uniquely are
//! bound by name or fingerprint ([`NAMES`]); comparison routines, whose
//! magnitudes are implementation-specific, only by fingerprint
//! ([`FINGERPRINT_ONLY`]), since the runtime reproduces that build's values
//! (see `Routine`); IFUNC resolvers (glibc's plain `memcpy`,
//! `strlen`, ... in static binaries) are never bound, since their names are
//! not in [`NAMES`] and their bytes are not fingerprinted.

mod fingerprints;
mod ifunc;
#[cfg(test)]
mod tests;

use vmxlate_abi::Routine;

use crate::elf::{FuncInfo, GuestImage};
use crate::ir::{Function, Terminator, Type};

/// Implementation symbol names bound by name. glibc's variant names, and
/// the plain names glibc never defines as IFUNCs.
pub const NAMES: &[(&str, Routine)] = &[
    ("__memcpy_generic", Routine::Memmove),
    ("__memcpy_simd", Routine::Memmove),
    ("__memcpy_thunderx", Routine::Memmove),
    ("__memcpy_thunderx2", Routine::Memmove),
    ("__memcpy_falkor", Routine::Memmove),
    ("__memmove_generic", Routine::Memmove),
    ("__memmove_simd", Routine::Memmove),
    ("__memmove_thunderx", Routine::Memmove),
    ("__memmove_thunderx2", Routine::Memmove),
    ("__memmove_falkor", Routine::Memmove),
    ("__memset_generic", Routine::Memset),
    ("__memset_emag", Routine::Memset),
    ("__memset_falkor", Routine::Memset),
    ("__memset_kunpeng", Routine::Memset),
    ("__strlen_asimd", Routine::Strlen),
    ("__strlen_mte", Routine::Strlen),
    ("__strlen_generic", Routine::Strlen),
    ("strnlen", Routine::Strnlen),
    ("__strnlen", Routine::Strnlen),
    ("__memchr_generic", Routine::Memchr),
    ("__memchr_nosimd", Routine::Memchr),
    ("rawmemchr", Routine::Rawmemchr),
    ("__rawmemchr", Routine::Rawmemchr),
    ("strchr", Routine::Strchr),
    ("index", Routine::Strchr),
    ("strchrnul", Routine::Strchrnul),
    ("__strchrnul", Routine::Strchrnul),
    ("strrchr", Routine::Strrchr),
    ("rindex", Routine::Strrchr),
    ("strcpy", Routine::Strcpy),
    ("stpcpy", Routine::Stpcpy),
    ("__stpcpy", Routine::Stpcpy),
];

/// Implementations bound only when their bytes are a fingerprinted build
/// (the runtime returns exactly that build's values), never by name.
pub const FINGERPRINT_ONLY: &[(&str, Routine)] =
    &[("memcmp", Routine::Memcmp), ("strcmp", Routine::Strcmp)];

/// FNV-1a (64-bit) of `bytes`: the fingerprint hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The routine `info` implements (or, for an IFUNC stub, calls), if it is
/// one we bind.
pub fn recognise(image: &GuestImage, info: &FuncInfo) -> Option<Routine> {
    if let Some(name) = &info.name {
        if let Some((_, r)) = NAMES.iter().find(|(n, _)| n == name) {
            return Some(*r);
        }
    }
    if let Some(r) = ifunc::recognise(image, info) {
        return Some(r);
    }
    let (_, len) = image.fdes.iter().find(|(start, _)| *start == info.entry)?;
    let bytes = image.read(info.entry, usize::try_from(*len).ok()?)?;
    let hash = fnv1a(bytes);
    fingerprints::GLIBC
        .iter()
        .find(|f| f.len == *len && f.hash == hash)
        .map(|f| f.routine)
}

/// Redirects `func`'s entry 0 to a call of the host `routine` on the
/// guest's x0..x2 that returns to x30 with the result in x0. A function
/// with no other entry loses its lifted body, so that entering it loads
/// and spills only the registers the call uses. Entry 0 is then an
/// AAPCS64 function entry whatever the symbols say (a C library routine,
/// or an IFUNC stub that only calls reach).
pub fn bind(func: &mut Function, routine: Routine) {
    let alone = func.entries.len() == 1;
    if alone {
        *func = Function::new(std::mem::take(&mut func.name), func.entry_pc);
    }
    func.aapcs_entry = true;
    let block = func.create_block(func.entry_pc);
    let mut b = func.builder(block);
    let args = [0, 1, 2].map(|r| b.get_reg(Type::I64, r));
    let result = b.libcall(Type::I64, args[0], args[1], args[2], routine);
    b.set_reg(result, 0);
    let target = b.get_reg(Type::I64, 30);
    b.terminate(Terminator::Return { target });
    if alone {
        func.entries.push((func.entry_pc, block));
    } else {
        func.entries[0].1 = block;
    }
}
