//! The dispatcher: from a guest PC to the translated code for it, and the
//! loop that runs the guest.
//!
//! Lookup order: the inline-probed code TLB ([`tlb`]), then the code map
//! ([`code_map`]: the translator's sorted PC map, then code registered at
//! run time). A hit in the code map refills the TLB slot. A PC found in
//! neither goes to the miss handler (the JIT, when linked in).
//!
//! Invariants: a guest PC with no translation is fatal (reported through
//! [`crate::fatal`]); the dispatcher loop resets `depth` to 0 before every
//! entry, because it is the bottom of the host call stack.

pub mod code_map;
pub mod tlb;

use std::sync::OnceLock;

use vmxlate_abi::{CpuState, PcMapEntry};

use crate::fatal;
use code_map::{CodeMap, Target};

static CODE: OnceLock<CodeMap> = OnceLock::new();

/// Installs the translator's PC map; called once before the guest starts.
/// Later calls are ignored.
///
/// # Safety
/// As for [`CodeMap::new`]: every entry's `code_base + code_offset` is a
/// translated function that lives as long as the process.
pub unsafe fn init(aot: &'static [PcMapEntry], code_base: *const u8) {
    // SAFETY: forwarded to the caller.
    let _ = CODE.set(unsafe { CodeMap::new(aot, code_base) });
}

/// Translates code found only at run time (the JIT): given a guest PC with
/// no translation, compiles and registers code for it and returns it.
pub type MissHandler = fn(u64) -> Option<Target>;

static MISS: OnceLock<MissHandler> = OnceLock::new();

/// Installs the handler for PCs with no translation (once; later calls are
/// ignored). Without one, such a PC is fatal.
pub fn set_miss_handler(h: MissHandler) {
    let _ = MISS.set(h);
}

/// Registers code translated at run time for `pc` (see
/// [`CodeMap::register`]); ignored before [`init`].
pub fn register(pc: u64, target: Target) {
    if let Some(code) = CODE.get() {
        code.register(pc, target);
    }
}

/// The translation that starts at guest address `pc`, if any.
pub fn lookup(pc: u64) -> Option<Target> {
    if let Some(t) = tlb::probe(pc) {
        return Some(t);
    }
    let t = CODE.get()?.lookup(pc)?;
    tlb::fill(pc, t);
    Some(t)
}

/// Runs the guest from `cpu.pc` forever; the guest leaves only through the
/// `exit`/`exit_group` syscalls or a fatal signal.
pub fn run(cpu: &mut CpuState) -> ! {
    loop {
        cpu.depth = 0;
        enter(cpu);
    }
}

/// Looks up `cpu.pc` and runs its translation once.
fn enter(cpu: &mut CpuState) {
    let pc = cpu.pc;
    let Some(t) = lookup(pc).or_else(|| {
        let t = MISS.get()?(pc)?;
        tlb::fill(pc, t);
        Some(t)
    }) else {
        fatal::no_translation(pc)
    };
    // SAFETY: `t` comes from the translator's PC map (or a registered
    // translation) for exactly this guest PC; translated code expects a
    // live, exclusively borrowed CpuState.
    unsafe { (t.host_fn)(cpu, t.entry) };
}

/// Slow path of indirect calls and jumps in translated code: runs the
/// translation of `cpu.pc` once, then returns to the caller, which checks
/// `cpu.pc` against the return address it expects.
///
/// # Safety
/// `cpu` must point to the live `CpuState` of the calling guest thread.
#[no_mangle]
pub unsafe extern "C" fn vmx_dispatch(cpu: *mut CpuState) {
    // SAFETY: the caller passes its own live CpuState.
    enter(unsafe { &mut *cpu });
}
