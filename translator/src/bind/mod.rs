//! Binds guest functions that are known libc routines to host
//! implementations (`vmxlate_abi::Routine`, the runtime's `string` module).
//!
//! A function is bound when its symbol is one of the implementation names
//! in [`NAMES`], or when its bytes (its `.eh_frame` extent, with the fields
//! a static link fills in masked: [`fingerprint`]) are one of the glibc
//! builds fingerprinted in `fingerprints.rs`, which finds them in stripped
//! programs, or when it is a PLT-style stub that calls the IFUNC of such a
//! routine (`ifunc.rs`). Binding only redirects entry 0 to a block that
//! calls the host routine and returns: the lifted body stays for every
//! other entry (glibc's memmove branches into memcpy's body, for one). A
//! libm routine may decline ([`vmxlate_abi::ROUTINE_DECLINED`]); the guest's
//! own body then runs from its entry.
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

use rustc_hash::FxHashMap;
use vmxlate_abi::{Routine, HOST_LIBM_ENV, HOST_LIBM_GLIBC, ROUTINE_DECLINED};

use crate::elf::{CodeMap, FuncInfo, GuestImage};
use crate::ir::{Builder, Function, IntCC, Lanes, Terminator, Type, Value};

/// Implementation symbol names bound by name. glibc's variant names, and
/// the plain names glibc never defines as IFUNCs.
pub const NAMES: &[(&str, Routine)] = &[
    ("__memcpy_generic", Routine::Memmove),
    ("__memcpy_simd", Routine::Memmove),
    ("__memcpy_thunderx", Routine::Memmove),
    ("__memcpy_thunderx2", Routine::Memmove),
    ("__memcpy_falkor", Routine::Memmove),
    ("__memcpy_a64fx", Routine::Memmove),
    ("__memcpy_sve", Routine::Memmove),
    ("__memmove_generic", Routine::Memmove),
    ("__memmove_simd", Routine::Memmove),
    ("__memmove_thunderx", Routine::Memmove),
    ("__memmove_thunderx2", Routine::Memmove),
    ("__memmove_falkor", Routine::Memmove),
    ("__memmove_a64fx", Routine::Memmove),
    ("__memmove_sve", Routine::Memmove),
    ("__memset_generic", Routine::Memset),
    ("__memset_emag", Routine::Memset),
    ("__memset_falkor", Routine::Memset),
    ("__memset_kunpeng", Routine::Memset),
    ("__memset_a64fx", Routine::Memset),
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
    ("strspn", Routine::Strspn),
    ("strcspn", Routine::Strcspn),
    ("strpbrk", Routine::Strpbrk),
];

/// Implementations bound only when their bytes are a fingerprinted build
/// (the runtime returns exactly that build's values), never by name.
pub const FINGERPRINT_ONLY: &[(&str, Routine)] = &[
    ("memcmp", Routine::Memcmp),
    ("strcmp", Routine::Strcmp),
    ("__sin", Routine::Sin),
    ("__cos", Routine::Cos),
    ("__exp", Routine::Exp),
    ("__log", Routine::Log),
    ("__pow", Routine::Pow),
    ("__sinf", Routine::Sinf),
    ("__cosf", Routine::Cosf),
    ("__expf", Routine::Expf),
    ("__logf", Routine::Logf),
    ("__powf", Routine::Powf),
];

/// FNV-1a (64-bit) of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The instruction words of `code` with the fields a static link fills in
/// cleared, so that one build of a function reads the same wherever it is
/// linked:
/// - ADRP's page offset, and the branch offset of B and BL (calls and tail
///   calls of other functions);
/// - the 12-bit immediate of ADD (immediate, 64-bit) and of loads and
///   stores with an unsigned offset (the low bits of an ADRP address, or a
///   GOT slot);
/// - both immediates of a `MOVZ Xd, #hi, LSL #16; MOVK Xd, #lo` pair: a
///   thread-pointer offset (`errno`), as the linker relaxes an initial-exec
///   TLS access in a static program.
///
/// Other words, opcodes and registers stay, and so does the length.
pub fn canonical(code: &[u8]) -> Vec<u32> {
    let words: Vec<u32> = code
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let movz_hi = |w: u32| w & 0xffe0_0000 == 0xd2a0_0000;
    let movk_lo = |w: u32| w & 0xffe0_0000 == 0xf280_0000;
    let pair = |hi: u32, lo: u32| movz_hi(hi) && movk_lo(lo) && hi & 31 == lo & 31;
    (0..words.len())
        .map(|i| {
            let w = words[i];
            let next = words.get(i + 1).copied().unwrap_or(0);
            let prev = if i > 0 { words[i - 1] } else { 0 };
            if w & 0x9f00_0000 == 0x9000_0000 {
                w & 0x9f00_001f
            } else if w & 0x7c00_0000 == 0x1400_0000 {
                w & 0xfc00_0000
            } else if w & 0xff80_0000 == 0x9100_0000 || w & 0x3b00_0000 == 0x3900_0000 {
                w & !(0xfff << 10)
            } else if pair(w, next) || pair(prev, w) {
                w & 0xffe0_001f
            } else {
                w
            }
        })
        .collect()
}

/// The fingerprint of a function's bytes: FNV-1a of its [`canonical`]
/// words (little-endian).
pub fn fingerprint(code: &[u8]) -> u64 {
    let bytes: Vec<u8> = canonical(code)
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    fnv1a(&bytes)
}

/// The routine `info` implements (or, for an IFUNC stub, calls), if it is
/// one we bind.
pub fn recognise(image: &GuestImage, code: &CodeMap, info: &FuncInfo) -> Option<Routine> {
    if let Some(name) = &info.name {
        if let Some((_, r)) = NAMES.iter().find(|(n, _)| n == name) {
            return Some(*r);
        }
    }
    if let Some(r) = ifunc::recognise(image, code, info) {
        return Some(r);
    }
    by_fingerprint(image, info.entry).filter(|r| !r.is_math() || host_libm_likely())
}

/// The routine whose glibc code (as its `.eh_frame` FDE spans it) starts at
/// `entry`, by fingerprint.
fn by_fingerprint(image: &GuestImage, entry: u64) -> Option<Routine> {
    let (_, len) = image.fdes.iter().find(|(start, _)| *start == entry)?;
    let bytes = image.read(entry, usize::try_from(*len).ok()?)?;
    let hash = fingerprint(bytes);
    fingerprints::GLIBC
        .iter()
        .find(|f| f.len == *len && f.hash == hash)
        .map(|f| f.routine)
}

extern "C" {
    fn gnu_get_libc_version() -> *const core::ffi::c_char;
}

/// Whether translated programs are likely to run libm routines on the host
/// (the runtime's `host_libm` decides where they run): this machine has
/// glibc 2.36 and FMA and AVX2, and [`HOST_LIBM_ENV`] is not `0`. libm
/// routines are bound only then: where the runtime declines every call,
/// binding costs a host call per call (libm 744M instructions against
/// 552M unbound).
pub fn host_libm_likely() -> bool {
    static LIKELY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LIKELY.get_or_init(|| {
        // SAFETY: glibc returns a static NUL-terminated string.
        let version = unsafe { core::ffi::CStr::from_ptr(gnu_get_libc_version()) };
        std::env::var_os(HOST_LIBM_ENV).is_none_or(|v| v != "0")
            && version.to_bytes() == HOST_LIBM_GLIBC.as_bytes()
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("avx2")
    })
}

/// Redirects `func`'s entry 0 to a call of the host `routine` on the
/// guest's x0..x2 that returns to x30 with the result in x0. A function
/// with no other entry loses its lifted body, so that entering it loads
/// and spills only the registers the call uses. Entry 0 is then an
/// AAPCS64 function entry whatever the symbols say (a C library routine,
/// or an IFUNC stub that only calls reach).
pub fn bind(func: &mut Function, routine: Routine) {
    if routine.is_math() {
        return bind_math(func, routine);
    }
    let alone = func.entries.len() == 1;
    if alone {
        *func = Function::new(std::mem::take(&mut func.name), func.entry_pc);
    }
    func.aapcs_entry = true;
    let block = func.create_block(func.entry_pc);
    let mut b = func.builder(block);
    libc_call(&mut b, routine);
    let target = b.get_reg(Type::I64, 30);
    b.terminate(Terminator::Return { target });
    if alone {
        func.entries.push((func.entry_pc, block));
    } else {
        func.entries[0].1 = block;
    }
}

/// Appends a call of the host libc `routine` on the guest's x0..x2 that puts
/// its result in x0.
fn libc_call(b: &mut Builder, routine: Routine) {
    let args = [0, 1, 2].map(|r| b.get_reg(Type::I64, r));
    let result = b.libcall(Type::I64, args[0], args[1], args[2], routine);
    b.set_reg(result, 0);
}

/// Redirects `func`'s entry 0 to a call of the host libm `routine` on the
/// bits of the guest's d0 (and d1) that, unless the routine declines, returns
/// to x30 with the result in v0 (upper bits clear, as a scalar FP write
/// leaves them); when it declines, the guest's own body runs from its
/// entry, as if nothing had happened.
fn bind_math(func: &mut Function, routine: Routine) {
    func.aapcs_entry = true;
    let body = func.entries[0].1;
    let call = func.create_block(func.entry_pc);
    let done = func.create_block(func.entry_pc);
    // The guest's code loads what it uses when it starts, so that the
    // routine's path loads only its arguments and x30.
    let fallback = func.create_block(func.entry_pc);
    let mut b = func.builder(fallback);
    b.resync();
    b.terminate(Terminator::Jump(body));
    let pc = func.entry_pc;
    let mut b = func.builder(call);
    b.pc = pc;
    let declined = math_call(&mut b, routine);
    b.terminate(Terminator::Branch {
        cond: declined,
        then_to: fallback,
        else_to: done,
    });
    let mut b = func.builder(done);
    let target = b.get_reg(Type::I64, 30);
    b.terminate(Terminator::Return { target });
    func.entries[0].1 = call;
}

/// Appends a call of the host libm `routine` on the bits of d0 (and d1 for
/// `pow`) that puts its result in v0 unless it declines (v0 then holds d0
/// with its upper half zero, all the guest routine reads of it: IR values
/// stay in their block, so v0 carries the result out). Returns whether it
/// declined (an i8).
fn math_call(b: &mut Builder, routine: Routine) -> Value {
    let v0 = b.get_v(Type::V128, 0);
    let x = b.vextract(Type::I64, v0, (Lanes::I64x2, 0));
    let unused = b.iconst(Type::I64, 0);
    // Reading d1 only where it is an argument keeps v1 dead elsewhere.
    let y = if matches!(routine, Routine::Pow | Routine::Powf) {
        let v1 = b.get_v(Type::V128, 1);
        b.vextract(Type::I64, v1, (Lanes::I64x2, 0))
    } else {
        unused
    };
    let result = b.libcall(Type::I64, x, y, unused, routine);
    let declined = b.iconst(Type::I64, ROUTINE_DECLINED);
    let cond = b.icmp(Type::I8, result, declined, IntCC::Eq);
    let bits = b.select(Type::I64, cond, x, result);
    let v0 = b.vfrom_scalar(Type::V128, bits);
    b.set_v(v0, 0);
    cond
}

/// Calls of bound routines in `func` (`BL`, or `B` as a tail call, to an
/// entry in `bound`) call the host routine in place, as the bound
/// function's entry 0 would after a guest call. Nothing is stored or loaded
/// for them: no return-address check, no callee frame, and the host routine
/// touches no guest register but its result (AAPCS64 lets a callee leave
/// the others as they were).
/// - A libc routine's result goes to x0 and the call site goes on to the
///   return address (a tail call returns to x30).
/// - A libm routine that does not decline leaves its result in v0 and the
///   call site goes straight on; when it declines, the guest call happens
///   (a tail call stays as it was).
///
/// Unless `keep_lr`, a `BL` bound in place does not write X30: AAPCS64
/// leaves X30 undefined after a call, and the write would make X30 dirty
/// on every path from the call site, so stored at safe points and on edges
/// into merges, and loaded after every later call (Lua's `match` kept X30
/// in a spill slot across its calls for one `__memcmpeq`). A declined libm
/// call writes it on its way to the guest function, which returns to it.
pub fn bind_calls(func: &mut Function, bound: &FxHashMap<u64, Routine>, keep_lr: bool) {
    let sites: Vec<_> = func
        .blocks
        .iter()
        .filter_map(|(blk, data)| {
            match data.term {
                Terminator::Call { target, .. } => bound.get(&target),
                Terminator::TailCall { target } => bound.get(&target).filter(|r| !r.is_math()),
                _ => None,
            }
            .map(|r| (blk, *r, data.term.clone()))
        })
        .collect();
    for (blk, routine, term) in sites {
        let lr_taken =
            matches!(term, Terminator::Call { .. }) && !keep_lr && func.take_reg_write(blk, 30);
        match (routine.is_math(), term) {
            (false, term) => {
                let mut b = func.builder(blk);
                if let Terminator::Call { ret, .. } = term {
                    b.pc = ret - 4;
                }
                libc_call(&mut b, routine);
                let next = match term {
                    Terminator::Call { cont, .. } => Terminator::Jump(cont),
                    _ => Terminator::Return {
                        target: b.get_reg(Type::I64, 30),
                    },
                };
                b.terminate(next);
            }
            (true, Terminator::Call { target, ret, cont }) => {
                let call = func.create_block(ret - 4);
                let mut b = func.builder(call);
                if lr_taken {
                    let v = b.iconst(Type::I64, ret);
                    b.set_reg(v, 30);
                }
                b.terminate(Terminator::Call { target, ret, cont });
                let mut b = func.builder(blk);
                b.pc = ret - 4;
                let declined = math_call(&mut b, routine);
                b.terminate(Terminator::Branch {
                    cond: declined,
                    then_to: call,
                    else_to: cont,
                });
            }
            (true, _) => unreachable!("a libm tail call is not a site"),
        }
    }
}
