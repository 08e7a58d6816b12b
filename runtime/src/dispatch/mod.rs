//! The dispatcher: from a guest PC to the translated code for it, and the
//! loop that runs a guest thread.
//!
//! Lookup order: the thread's inline-probed code TLB ([`tlb`]), then the
//! code map ([`code_map`]: the translator's sorted PC map, then code
//! registered at run time). A hit in the code map refills the TLB slot. A
//! PC found in neither goes to the miss handler (the JIT, when linked in).
//!
//! The loop is also a safe point: pending signals are delivered before each
//! entry. A PC with no translation that holds `svc #0`, or `mov x8, #n;
//! svc #0` (the signal return trampoline), is carried out here: that is how
//! a syscall restarted after a signal handler (PC back at the SVC) and a
//! handler returning to a restorer that was never translated go on.
//!
//! Invariants: any other guest PC with no translation is fatal (reported
//! through [`crate::fatal`]); the dispatcher loop sets the thread's host
//! stack limit ([`stack`]) before it enters translated code.

pub mod code_map;
mod stack;
pub mod tlb;

use std::sync::OnceLock;

use vmxlate_abi::{CpuState, FaultMapEntry, GuestRet, PcMapEntry};

use crate::syscall::{uaccess, vmx_syscall};
use crate::thread::{self, Thread};
use crate::{fatal, signal};
use code_map::{CodeMap, Target};

static CODE: OnceLock<CodeMap> = OnceLock::new();

/// Installs the translator's PC map and fault map; called once before the
/// guest starts. Later calls are ignored.
///
/// # Safety
/// As for [`CodeMap::new`]: every entry's `code_base + code_offset` is a
/// translated function that lives as long as the process.
pub unsafe fn init(
    aot: &'static [PcMapEntry],
    code_base: *const u8,
    code_len: usize,
    faults: &'static [FaultMapEntry],
) {
    // SAFETY: forwarded to the caller.
    let _ = CODE.set(unsafe { CodeMap::new(aot, code_base, code_len, faults) });
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

/// The translation that starts at guest address `pc` in the code map, if
/// any (no TLB: for callers outside a guest thread's dispatch).
pub fn lookup_code(pc: u64) -> Option<Target> {
    CODE.get()?.lookup(pc)
}

/// The translation that starts at guest address `pc`, if any, cached in
/// thread `t`'s TLB.
fn lookup(t: *mut Thread, pc: u64) -> Option<Target> {
    // SAFETY: the TLB of the calling thread's live guest thread; translated
    // code only reads it, and not while the runtime runs on this thread.
    let table = unsafe { &mut (*t).tlb };
    if let Some(hit) = tlb::probe(table, pc) {
        return Some(hit);
    }
    let target = CODE.get()?.lookup(pc)?;
    tlb::fill(table, pc, target);
    Some(target)
}

/// The guest PC of a fault at host address `host`, if that is translated
/// code (see [`CodeMap::fault_pc`]).
pub fn fault_pc(host: u64) -> Option<u64> {
    CODE.get()?.fault_pc(host)
}

/// Runs guest thread `t` from its `cpu.pc` until it calls `exit` (which
/// only a thread other than the first can return from; the process ends
/// through `exit_group` or a fatal signal).
///
/// # Safety
/// `t` is the calling host thread's live guest thread, and no translated
/// code of it is running.
pub unsafe fn run(t: *mut Thread) {
    // SAFETY: the caller's contract.
    unsafe { signal::set_stack_limit(t, stack::limit()) };
    loop {
        // SAFETY: the caller's contract.
        if unsafe { (*t).ext.exiting } {
            return;
        }
        // SAFETY: as above.
        if unsafe { signal::is_pending(t) } {
            // SAFETY: as above.
            unsafe { signal::deliver(t, None) };
        }
        // SAFETY: as above.
        let cpu = unsafe { &mut (*t).cpu };
        enter(t, cpu);
    }
}

/// `svc #0`.
const SVC0: u32 = 0xd400_0001;

/// Carries out an untranslated `svc #0` or `movz x8, #n; svc #0` at
/// `cpu.pc`; false if that is not what is there.
fn interpret_svc(cpu: &mut CpuState) -> bool {
    let pc = cpu.pc;
    let word = |at: u64| uaccess::read::<u32>(at).ok();
    let skip = match word(pc) {
        Some(SVC0) => 4,
        // MOVZ X8, #imm16 (hw = 0).
        Some(w) if w & 0xffe0_001f == 0xd280_0008 && word(pc + 4) == Some(SVC0) => {
            cpu.x[8] = u64::from((w >> 5) & 0xffff);
            8
        }
        _ => return false,
    };
    cpu.pc = pc + skip;
    // SAFETY: `cpu` is the live CpuState of the calling guest thread.
    unsafe { vmx_syscall(cpu) };
    true
}

/// Looks up `cpu.pc` and runs its translation once.
fn enter(t: *mut Thread, cpu: &mut CpuState) {
    let pc = cpu.pc;
    let Some(target) = lookup(t, pc).or_else(|| {
        let target = MISS.get()?(pc)?;
        // SAFETY: as in `lookup`.
        tlb::fill(unsafe { &mut (*t).tlb }, pc, target);
        Some(target)
    }) else {
        if interpret_svc(cpu) {
            return;
        }
        fatal::no_translation(pc)
    };
    // SAFETY: `target` comes from the translator's PC map (or a registered
    // translation) for exactly this guest PC; translated code expects a
    // live, exclusively borrowed CpuState inside a `Thread`.
    let ret = unsafe { (target.host_fn)(cpu, target.entry) };
    cpu.pc = ret.pc;
}

/// Slow path of indirect calls and jumps in translated code: runs the
/// translation of `cpu.pc` once, then returns `cpu` and the next PC (as a
/// [`vmxlate_abi::GuestFn`] does) to the caller, which checks the PC
/// against the return address it expects.
///
/// # Safety
/// `cpu` must point to the live `CpuState` of the calling guest thread.
#[no_mangle]
pub unsafe extern "C" fn vmx_dispatch(cpu: *mut CpuState) -> GuestRet {
    // SAFETY: the caller passes its own live CpuState, inside its Thread.
    let pc = unsafe {
        enter(thread::of_cpu(cpu), &mut *cpu);
        (*cpu).pc
    };
    GuestRet { cpu, pc }
}
