//! The host side of guest signals: installing host dispositions, the host
//! signal handler, synchronous faults in translated code, and the guest
//! return trampoline.
//!
//! Asynchronous signals are only recorded here (see the module above).
//! Synchronous faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP raised by
//! an instruction of translated code) are delivered at once:
//! - the guest PC is exact at guest memory accesses (the translator's fault
//!   map) and otherwise the start of the guest function;
//! - `si_signo`, `si_code` and `si_addr` are the host kernel's (guest
//!   addresses are host addresses);
//! - the other registers in the frame are the last ones translated code
//!   stored (exact at function entries, calls and syscalls, possibly stale
//!   inside a function: guest registers live in host registers there), and
//!   the frame goes 16 KiB below that SP (or on the alternate stack) so it
//!   does not overlap the live frame of the faulting function.
//!
//! So a handler that reports and exits, or leaves with `siglongjmp`, works;
//! one that returns (after `mprotect`, say) resumes the faulting access
//! with the exact registers ([`super::resume`]); one that moves
//! `uc_mcontext.pc` resumes there through the dispatcher when that PC is an
//! entry point (a function, a return address), else the dispatcher reports
//! the PC it cannot resume and the process dies by SIGSEGV.
//!
//! The handler runs on a fresh dispatcher loop started (by editing the host
//! context) on the host stack below the faulting frames.
//!
//! Invariants: the host handler takes no lock and does not allocate while
//! recording; the fault path does both, which is safe because a fault in
//! translated code never interrupts the runtime (translated code holds no
//! runtime lock and never runs inside the allocator).

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicU64, Ordering};

use super::{bit, enter_handler, KernelSigaction, SA_RESTORER};
use crate::host::{self as hostsys, Errno};
use crate::thread::{self, release_tid_word};
use crate::{dispatch, fatal};

const SIGSET_SIZE: u64 = 8;

/// Signals raised synchronously by an instruction.
const SYNC: u64 = bit(libc::SIGSEGV)
    | bit(libc::SIGBUS)
    | bit(libc::SIGILL)
    | bit(libc::SIGFPE)
    | bit(libc::SIGTRAP);

/// Flags of the guest's `sigaction` that change what the kernel does on
/// the host side too (child stop/zombie reporting).
const HOST_KEPT_FLAGS: u64 = (libc::SA_NOCLDSTOP | libc::SA_NOCLDWAIT) as u64;

core::arch::global_asm!(
    ".pushsection .text.vmx_host_restorer,\"ax\",@progbits",
    ".globl vmx_host_restorer",
    ".type vmx_host_restorer,@function",
    "vmx_host_restorer:",
    "mov rax, 15",
    "syscall",
    "ud2",
    ".size vmx_host_restorer, . - vmx_host_restorer",
    ".popsection",
);

// A host syscall that a guest signal can interrupt without a race:
// `vmx_syscall_cp(args)` with `args` = [nr, a0..a5, &pending]. If pending
// is set at `vmx_cp_begin`, or a signal arrives between there and the
// `syscall` instruction (the host handler moves the PC to
// `vmx_cp_cancel`), it returns -EINTR without making the syscall.
core::arch::global_asm!(
    ".pushsection .text.vmx_syscall_cp,\"ax\",@progbits",
    ".globl vmx_syscall_cp",
    ".globl vmx_cp_begin",
    ".globl vmx_cp_end",
    ".globl vmx_cp_cancel",
    ".type vmx_syscall_cp,@function",
    "vmx_syscall_cp:",
    "mov r11, rdi",
    "mov rax, [r11]",
    "mov rdi, [r11 + 8]",
    "mov rsi, [r11 + 16]",
    "mov rdx, [r11 + 24]",
    "mov r10, [r11 + 32]",
    "mov r8, [r11 + 40]",
    "mov r9, [r11 + 48]",
    "mov r11, [r11 + 56]",
    "vmx_cp_begin:",
    "cmp dword ptr [r11], 0",
    "jne vmx_cp_cancel",
    "syscall",
    "vmx_cp_end:",
    "ret",
    "vmx_cp_cancel:",
    "mov rax, -4",
    "ret",
    ".size vmx_syscall_cp, . - vmx_syscall_cp",
    ".popsection",
);

extern "C" {
    /// Host `rt_sigreturn` trampoline (x86-64 needs `SA_RESTORER`).
    fn vmx_host_restorer();
    fn vmx_syscall_cp(args: *const [u64; 8]) -> i64;
    fn vmx_cp_begin();
    fn vmx_cp_end();
    fn vmx_cp_cancel();
}

/// Performs host syscall `nr` for the guest so that a guest signal arriving
/// before it enters the kernel makes it fail with `EINTR` instead of being
/// held up until it returns (`pending` is the thread's
/// `CpuState::pending`). Blocking syscalls should go through here.
///
/// # Safety
/// As for [`crate::host::raw`]; `pending` points to the calling thread's
/// pending word.
pub unsafe fn raw_interruptible(nr: libc::c_long, args: &[u64], pending: *const u32) -> i64 {
    let mut a = [0u64; 8];
    a[0] = nr as u64;
    a[1..1 + args.len()].copy_from_slice(args);
    a[7] = pending as u64;
    // SAFETY: the caller's contract; the stub clobbers only caller-saved
    // registers.
    unsafe { vmx_syscall_cp(&a) }
}

fn raw_sigaction(sig: i32, new: Option<&KernelSigaction>) -> Result<KernelSigaction, Errno> {
    let mut old = KernelSigaction::default();
    let new = new.map_or(0, |n| n as *const KernelSigaction as u64);
    let args = [sig as u64, new, &raw mut old as u64, SIGSET_SIZE];
    // SAFETY: both pointers are null or point to live KernelSigactions.
    unsafe { hostsys::call(libc::SYS_rt_sigaction, &args)? };
    Ok(old)
}

/// The host's current disposition of `sig` as a guest action (an inherited
/// `SIG_IGN` shows; a runtime handler never does, since it is installed
/// only after the guest set its own action).
pub fn query(sig: i32) -> Result<KernelSigaction, Errno> {
    let mut a = raw_sigaction(sig, None)?;
    a.flags &= !SA_RESTORER;
    a.restorer = 0;
    Ok(a)
}

/// Installs the host disposition for guest action `act` on `sig`: the
/// runtime's handler for a guest handler, the same disposition otherwise.
pub fn install(sig: i32, act: &KernelSigaction) -> Result<(), Errno> {
    let is_fn = act.handler != libc::SIG_DFL as u64 && act.handler != libc::SIG_IGN as u64;
    let host = if is_fn {
        KernelSigaction {
            handler: on_host_signal as *const () as u64,
            flags: (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64
                | SA_RESTORER
                | (act.flags & HOST_KEPT_FLAGS),
            restorer: vmx_host_restorer as *const () as u64,
            mask: !0,
        }
    } else {
        KernelSigaction {
            handler: act.handler,
            flags: act.flags & !SA_RESTORER & !(libc::SA_SIGINFO as u64),
            restorer: 0,
            mask: act.mask,
        }
    };
    raw_sigaction(sig, Some(&host)).map(|_| ())
}

static TRAMPOLINE: AtomicU64 = AtomicU64::new(0);

/// Guest address of the signal return trampoline (`mov x8, #139; svc #0`,
/// the code the arm64 vDSO's `__kernel_rt_sigreturn` has, so unwinders
/// recognise signal frames) that handlers installed without `SA_RESTORER`
/// return to. Mapped on first use.
pub fn trampoline() -> u64 {
    let at = TRAMPOLINE.load(Ordering::Acquire);
    if at != 0 {
        return at;
    }
    let page = vmxlate_abi::guest::PAGE_SIZE;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let Ok(addr) =
        crate::memory::mapping::map(0, page, rw, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    else {
        fatal::die_by_signal(libc::SIGSEGV)
    };
    let addr = addr as u64;
    let code: [u32; 2] = [0xd280_1168, 0xd400_0001];
    // SAFETY: the page was just mapped writable.
    unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), addr as *mut u32, 2) };
    let _ = crate::memory::mapping::protect(addr, page, libc::PROT_READ | libc::PROT_EXEC);
    match TRAMPOLINE.compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => addr,
        Err(other) => {
            let _ = crate::memory::mapping::unmap(addr, page);
            other
        }
    }
}

/// The runtime's host handler for every signal the guest handles.
extern "C" fn on_host_signal(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
    let uc = uc.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid siginfo and ucontext.
    let (code, bytes) = unsafe { ((*info).si_code, *info.cast::<[u8; 128]>()) };
    if code > 0 && SYNC & bit(sig) != 0 {
        // SAFETY: as above.
        unsafe { on_fault(sig, &bytes, uc) };
        return;
    }
    let t = thread::current_raw();
    if t.is_null() {
        return;
    }
    // SAFETY: `t` is this thread's guest thread; only `ext.sig`'s atomic
    // and the slot of `sig` are touched.
    unsafe {
        (*t).ext.sig.record(sig, &bytes);
        super::set_pending(t);
    }
    // SAFETY: the kernel's ucontext; the first 8 bytes of `uc_sigmask` are
    // the kernel's sigset.
    unsafe {
        // Keep it blocked until it is delivered.
        let mask = core::ptr::addr_of_mut!((*uc).uc_sigmask).cast::<u64>();
        *mask |= bit(sig);
        // A guest syscall about to enter the kernel fails with EINTR.
        let rip = &mut (*uc).uc_mcontext.gregs[libc::REG_RIP as usize];
        let (begin, end) = (
            vmx_cp_begin as *const () as i64,
            vmx_cp_end as *const () as i64,
        );
        if (begin..end).contains(rip) {
            *rip = vmx_cp_cancel as *const () as i64;
        }
    }
}

/// Host stack kept free between the faulting frames and the dispatcher
/// loop that runs the guest handler.
const HOST_GAP: u64 = 512;
/// Guest stack left untouched below the last stored SP (see module docs).
const GUEST_GAP: u64 = 16 << 10;

/// A synchronous fault.
///
/// # Safety
/// Called from the host signal handler with its `ucontext`.
unsafe fn on_fault(sig: i32, info: &[u8; 128], uc: *mut libc::ucontext_t) {
    // SAFETY: the kernel's ucontext.
    let gregs = unsafe { &mut (*uc).uc_mcontext.gregs };
    let rip = gregs[libc::REG_RIP as usize] as u64;
    let t = thread::current_raw();
    let Some(guest_pc) = dispatch::fault_pc(rip) else {
        fatal::die_by_signal(sig)
    };
    if t.is_null() {
        fatal::die_by_signal(sig)
    }
    let Some(act) = super::sync_action(sig) else {
        fatal::die_by_signal(sig)
    };
    let code = i32::from_le_bytes(info[8..12].try_into().expect("4 bytes"));
    let addr = if sig == libc::SIGSEGV || sig == libc::SIGBUS {
        u64::from_le_bytes(info[16..24].try_into().expect("8 bytes"))
    } else {
        guest_pc
    };
    let finfo = super::fault_info(sig, code, addr);
    // SAFETY: `t` is this thread's guest thread, interrupted in translated
    // code, so no runtime borrow of it is live.
    unsafe {
        let cpu = &mut (*t).cpu;
        cpu.pc = guest_pc;
        let below = cpu.x[31].saturating_sub(GUEST_GAP) & !15;
        let frame = enter_handler(t, sig, &finfo, &act, None, addr, Some(below));
        super::resume::save(t, uc, frame, guest_pc);
        let sig_state = &(*t).ext.sig;
        let host_mask = sig_state.mask | sig_state.deferred.load(Ordering::SeqCst);
        *core::ptr::addr_of_mut!((*uc).uc_sigmask).cast::<u64>() = host_mask;
    }
    let rsp = gregs[libc::REG_RSP as usize] as u64;
    let new_rsp = ((rsp - HOST_GAP) & !15) - 8;
    gregs[libc::REG_RSP as usize] = new_rsp as i64;
    gregs[libc::REG_RIP as usize] = fault_entry as *const () as i64;
    gregs[libc::REG_RDI as usize] = t as i64;
}

/// Where a fault handler's dispatcher loop starts (entered by the host
/// signal return, with the stack set below the faulting frames).
extern "C" fn fault_entry(t: *mut thread::Thread) -> ! {
    // SAFETY: `t` is this thread's live guest thread, now at the handler.
    unsafe { dispatch::run(t) };
    // The guest thread called `exit` inside this loop.
    // SAFETY: guest code no longer runs on this thread.
    release_tid_word(unsafe { &mut (*t).ext });
    hostsys::exit_thread(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interruptible_syscalls_fail_fast_when_a_signal_is_pending() {
        let pending = 1u32;
        // SAFETY: getpid takes no arguments.
        let r = unsafe { raw_interruptible(libc::SYS_getpid, &[], &pending) };
        assert_eq!(r, -i64::from(libc::EINTR));
        let clear = 0u32;
        // SAFETY: as above.
        let pid = unsafe { raw_interruptible(libc::SYS_getpid, &[], &clear) };
        assert_eq!(pid, i64::from(std::process::id()));
        let buf = [7u8; 3];
        let args = [libc::STDERR_FILENO as u64, buf.as_ptr() as u64, 0, 0, 0, 0];
        // SAFETY: a zero-length write of a live buffer: six arguments pass.
        assert_eq!(
            unsafe { raw_interruptible(libc::SYS_write, &args, &clear) },
            0
        );
    }
}
