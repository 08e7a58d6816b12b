//! Stubs that call an IFUNC: in static glibc programs every call of
//! `memcpy`, `strlen`, ... goes through a PLT-style stub,
//!
//! ```text
//! adrp x16, slot_page ; ldr x17, [x16, #slot] ; add x16, x16, #slot ; br x17
//! ```
//!
//! whose GOT slot an `R_AARCH64_IRELATIVE` relocation fills at start-up
//! with what the slot's resolver returns (an implementation chosen by
//! HWCAP). When that resolver is the IFUNC symbol of a routine we bind,
//! every implementation it can return computes that routine, so the stub
//! itself is bound: a call runs the host routine at once instead of the
//! stub, an inline code-TLB probe and an indirect host call.
//!
//! Invariants: the resolver's symbol name decides; in a stripped program,
//! the implementations whose addresses the resolver builds, all of which
//! must be fingerprints of one routine (else the stub stays); only names
//! whose result the C standard defines uniquely are in
//! [`IFUNC_NAMES`]; the stub's x16/x17 writes are dropped, as AAPCS64
//! lets any callee clobber them (the same contract every bound routine
//! relies on for x3..x18).

use object::elf::{self, Rela64};
use object::read::elf::Rela as _;
use object::{pod, LittleEndian};
use vmxlate_abi::Routine;
use yaxpeax_arm::armv8::a64::{Opcode, Operand, SizeCode};

use crate::elf::{CodeMap, FuncInfo, GuestImage};
use crate::frontend::a64::decode::decode;

/// IFUNC names (glibc's resolver symbols) whose stubs are bound.
pub const IFUNC_NAMES: &[(&str, Routine)] = &[
    ("memcpy", Routine::Memmove),
    ("memmove", Routine::Memmove),
    ("memset", Routine::Memset),
    ("strlen", Routine::Strlen),
    ("strnlen", Routine::Strnlen),
    ("memchr", Routine::Memchr),
    ("rawmemchr", Routine::Rawmemchr),
    ("strchr", Routine::Strchr),
    ("strchrnul", Routine::Strchrnul),
    ("strrchr", Routine::Strrchr),
    ("strcpy", Routine::Strcpy),
    ("stpcpy", Routine::Stpcpy),
];

/// The routine the IFUNC stub at `info` calls, if it is one we bind
/// (`code` holds the resolvers discovery found).
pub fn recognise(image: &GuestImage, code: &CodeMap, info: &FuncInfo) -> Option<Routine> {
    let slot = stub_slot(image, info.entry)?;
    let resolver = irelative_resolver(image, slot)?;
    let named = image
        .symbols
        .iter()
        .filter(|s| s.addr == resolver)
        .find_map(|s| IFUNC_NAMES.iter().find(|(n, _)| *n == s.name))
        .map(|(_, r)| *r);
    named.or_else(|| by_candidates(image, code.functions.get(&resolver)?))
}

/// In a stripped program: the routine every implementation the resolver
/// can return is (by fingerprint), when it is one of [`IFUNC_NAMES`]'.
/// glibc's resolvers are C functions that build each candidate's address
/// in a register (`FuncInfo::built`) and return one by HWCAP; a code
/// address built there that is not an implementation of the same routine
/// (another routine, a variant we have no fingerprint of) declines.
fn by_candidates(image: &GuestImage, resolver: &FuncInfo) -> Option<Routine> {
    let mut routines = resolver
        .built
        .iter()
        .map(|&addr| super::by_fingerprint(image, addr));
    let first = routines.next()??;
    let one = routines.all(|r| r == Some(first));
    (one && IFUNC_NAMES.iter().any(|(_, named)| *named == first)).then_some(first)
}

/// The GOT slot a stub at `pc` branches through, if the four instructions
/// there are exactly the stub.
fn stub_slot(image: &GuestImage, pc: u64) -> Option<u64> {
    let inst = |i: u64| decode(image.read_u32(pc + 4 * i)?);
    let (adrp, ldr, add, br) = (inst(0)?, inst(1)?, inst(2)?, inst(3)?);
    let page = match (adrp.opcode, adrp.operands) {
        (Opcode::ADRP, [Operand::Register(SizeCode::X, 16), Operand::PCOffset(off), ..]) => {
            (pc & !0xfff).wrapping_add(off as u64)
        }
        _ => return None,
    };
    let offset = match (ldr.opcode, ldr.operands) {
        (
            Opcode::LDR,
            [Operand::Register(SizeCode::X, 17), Operand::RegPreIndex(16, off, false), ..],
        ) => u64::try_from(off).ok()?,
        _ => return None,
    };
    match (add.opcode, add.operands) {
        (
            Opcode::ADD,
            [Operand::RegisterOrSP(SizeCode::X, 16), Operand::RegisterOrSP(SizeCode::X, 16), Operand::Immediate(imm), Operand::Nothing],
        ) if u64::from(imm) == offset => {}
        _ => return None,
    }
    match (br.opcode, br.operands) {
        (Opcode::BR, [Operand::Register(SizeCode::X, 17), ..]) => Some(page.wrapping_add(offset)),
        _ => None,
    }
}

/// The resolver of the `R_AARCH64_IRELATIVE` relocation that fills `slot`
/// (biased), from the image's `.rela*` sections.
fn irelative_resolver(image: &GuestImage, slot: u64) -> Option<u64> {
    let bias = image.load_bias;
    image
        .sections
        .iter()
        .filter(|s| s.name.starts_with(".rela") && s.file_backed)
        .filter_map(|s| image.read(s.addr, usize::try_from(s.size).ok()?))
        .filter_map(|bytes| pod::slice_from_all_bytes::<Rela64<LittleEndian>>(bytes).ok())
        .flatten()
        .find_map(|r| {
            let irelative = r.r_type(LittleEndian, false) == elf::R_AARCH64_IRELATIVE;
            (irelative && r.r_offset(LittleEndian).wrapping_add(bias) == slot)
                .then(|| (r.r_addend(LittleEndian) as u64).wrapping_add(bias))
        })
}
