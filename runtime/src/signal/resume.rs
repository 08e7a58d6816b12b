//! Resuming translated code exactly where a synchronous fault stopped it,
//! after the guest's handler returned (the "mprotect and retry" pattern).
//!
//! Guest registers live in host registers inside a translated function, so
//! the guest frame of a fault cannot hold them; the host context of the
//! fault does. When the fault is delivered, its host context (the kernel's
//! x86-64 `ucontext` and FPU state) is saved here, keyed by the guest frame.
//! When that frame's `rt_sigreturn` comes and the handler left the PC where
//! the fault was, the saved context is resumed through the host kernel's
//! own `rt_sigreturn`, so the faulting access runs again with the exact
//! host registers (register edits in `uc_mcontext` are then ignored; a PC
//! edit resumes at the new PC through the dispatcher instead).
//!
//! Invariants: a saved context is resumed at most once, on the thread that
//! saved it, and only while its host frames are still live (the guest
//! handler runs on the host stack below them); contexts whose FPU state does
//! not fit are not saved (the handler's return then cannot resume).

use crate::thread::Thread;

/// Offset of the kernel's `struct ucontext` in a [`Saved`] buffer (with room
/// below for the `pretcode` slot the kernel skips).
const UC_AT: usize = 64;
/// Size of the kernel's x86-64 `struct ucontext` (flags, link, stack,
/// 256-byte sigcontext, 8-byte sigmask).
const UC_SIZE: usize = 304;
/// Offset of `uc_mcontext.fpstate` in it.
const UC_FPSTATE: usize = 40 + 184;
/// Offset of `uc_sigmask` in it.
const UC_SIGMASK: usize = 40 + 256;
/// Offset of the FPU state in a [`Saved`] buffer (64-byte aligned).
const FP_AT: usize = 1024;
/// Bytes of a [`Saved`] buffer.
const BUF: usize = 16384;
/// `FP_XSTATE_MAGIC1` in `fpx_sw_bytes` (offset 464 of the FXSAVE area).
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// Most saved contexts per thread (nested faults).
const MAX_SAVED: usize = 8;

/// The host context of one fault.
#[repr(C, align(64))]
pub struct Buffer([u8; BUF]);

/// A saved fault context.
pub struct Saved {
    /// The guest signal frame it belongs to.
    pub frame: u64,
    /// The guest PC of the fault.
    pub guest_pc: u64,
    buf: Box<Buffer>,
}

/// Saves the host context `uc` of a fault delivered with guest frame
/// `frame` at guest PC `guest_pc` into `t`'s list.
///
/// # Safety
/// `uc` is the kernel's ucontext of the running host signal handler; `t` is
/// the calling thread's guest thread.
pub unsafe fn save(t: *mut Thread, uc: *const libc::ucontext_t, frame: u64, guest_pc: u64) {
    let mut buf = Box::new(Buffer([0; BUF]));
    // SAFETY: the kernel's ucontext is at least UC_SIZE bytes.
    let uc_bytes = unsafe { core::slice::from_raw_parts(uc.cast::<u8>(), UC_SIZE) };
    buf.0[UC_AT..UC_AT + UC_SIZE].copy_from_slice(uc_bytes);
    // SAFETY: as above.
    let fp = unsafe { (*uc).uc_mcontext.fpregs }.cast::<u8>();
    if !fp.is_null() {
        // SAFETY: the kernel's FXSAVE area is at least 512 bytes.
        let sw = unsafe { core::slice::from_raw_parts(fp.add(464), 8) };
        let magic = u32::from_le_bytes(sw[0..4].try_into().expect("4 bytes"));
        let size = if magic == FP_XSTATE_MAGIC1 {
            u32::from_le_bytes(sw[4..8].try_into().expect("4 bytes")) as usize
        } else {
            512
        };
        if FP_AT + size > BUF {
            return;
        }
        // SAFETY: the kernel's FPU state is `size` bytes.
        let fp_bytes = unsafe { core::slice::from_raw_parts(fp, size) };
        buf.0[FP_AT..FP_AT + size].copy_from_slice(fp_bytes);
    }
    // SAFETY: the caller's contract.
    let list = unsafe { &mut (*t).ext.sig.faults };
    if list.len() == MAX_SAVED {
        list.remove(0);
    }
    list.push(Saved {
        frame,
        guest_pc,
        buf,
    });
}

core::arch::global_asm!(
    ".pushsection .text.vmx_resume_host,\"ax\",@progbits",
    ".globl vmx_resume_host",
    ".type vmx_resume_host,@function",
    "vmx_resume_host:",
    "mov rsp, rdi",
    "mov eax, 15",
    "syscall",
    "ud2",
    ".size vmx_resume_host, . - vmx_resume_host",
    ".popsection",
);

extern "C" {
    /// Host `rt_sigreturn` with the `ucontext` at `uc`.
    fn vmx_resume_host(uc: *mut u8) -> !;
}

/// At `rt_sigreturn` of guest frame `frame`, now restored to `pc`: takes
/// the saved context of that frame (dropping any of deeper frames); if the
/// handler left the PC at the fault, resumes it with host mask `mask`
/// (never returns).
///
/// # Safety
/// `t` is the calling thread's guest thread, inside a syscall.
pub unsafe fn on_sigreturn(t: *mut Thread, frame: u64, pc: u64, mask: u64) {
    // SAFETY: the caller's contract.
    let list = unsafe { &mut (*t).ext.sig.faults };
    let Some(i) = list.iter().rposition(|s| s.frame == frame) else {
        return;
    };
    let mut saved = list.swap_remove(i);
    list.truncate(i);
    if saved.guest_pc != pc {
        return;
    }
    let base = saved.buf.0.as_mut_ptr();
    // SAFETY: offsets inside the buffer; the FPU pointer is patched to the
    // copy (or stays null).
    unsafe {
        let fp_slot = base.add(UC_AT + UC_FPSTATE).cast::<u64>();
        if fp_slot.read_unaligned() != 0 {
            fp_slot.write_unaligned(base.add(FP_AT) as u64);
        }
        base.add(UC_AT + UC_SIGMASK)
            .cast::<u64>()
            .write_unaligned(mask);
    }
    // The buffer must outlive the jump (the kernel reads it in the
    // syscall): it stays in the thread until the next resume replaces it.
    // SAFETY: the caller's contract.
    let slot = unsafe { &mut (*t).ext.sig.resume_buf };
    let buf = slot.insert(saved.buf);
    // SAFETY: the context is the kernel's own, saved on this thread, whose
    // host frames are still live; rt_sigreturn restores it exactly.
    unsafe { vmx_resume_host(buf.0.as_mut_ptr().add(UC_AT)) }
}
