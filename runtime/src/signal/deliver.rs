//! Delivery: entering guest handlers (at safe points, around syscalls, for
//! synchronous faults the runtime raises itself), default actions, and
//! `rt_sigreturn`.
//!
//! Invariants: delivery runs only on the thread that owns the `Thread`,
//! outside translated code, with every guest register in `CpuState`; after
//! it the host mask is `mask | deferred` again.

use core::sync::atomic::Ordering;

use super::{
    action, bit, clear_pending, frame, guest_mask, host, is_pending, resume, set_action, set_mask,
    sync_host_mask, KernelSigaction, StackT, ARM64_MINSIGSTKSZ, DISABLED, SA_RESTORER,
    SS_AUTODISARM, UNBLOCKABLE,
};
use crate::fatal;
use crate::host as hostsys;
use crate::thread::{self, Thread};

/// Signals whose default action is to do nothing.
const DEFAULT_IGNORED: u64 =
    bit(libc::SIGCHLD) | bit(libc::SIGURG) | bit(libc::SIGWINCH) | bit(libc::SIGCONT);
/// Signals whose default action stops the process.
const DEFAULT_STOP: u64 =
    bit(libc::SIGSTOP) | bit(libc::SIGTSTP) | bit(libc::SIGTTIN) | bit(libc::SIGTTOU);

/// A syscall at which a signal is delivered.
#[derive(Clone, Copy, Debug)]
pub enum Interrupted {
    /// The signal was pending before the syscall ran: the handler returns
    /// to the SVC, which then runs.
    NotStarted {
        /// x0 as the guest set it for the syscall.
        orig_x0: u64,
    },
    /// The syscall failed with `EINTR` because of the signal.
    Eintr {
        /// x0 when the syscall started (restored if it is restarted).
        orig_x0: u64,
        /// Whether `SA_RESTART` may restart it (see [`NEVER_RESTARTED`]).
        restartable: bool,
    },
}

/// Delivers the first deliverable deferred signal of thread `t`: sets up
/// its handler's frame (returns true: `cpu.pc` is the handler), or carries
/// out its default action, or drops it when ignored (and goes on with the
/// next one). Returns false when no handler was entered.
///
/// # Safety
/// `t` is the calling host thread's live guest thread, not in translated
/// code (its registers are all in `cpu`).
pub unsafe fn deliver(t: *mut Thread, intr: Option<Interrupted>) -> bool {
    // SAFETY: the caller's contract.
    unsafe { clear_pending(t) };
    loop {
        // SAFETY: the caller's contract; short borrows.
        let (mask, deferred) = {
            let sig = unsafe { &(*t).ext.sig };
            (sig.mask, sig.deferred.load(Ordering::SeqCst))
        };
        let ready = deferred & !mask;
        if ready == 0 {
            sync_host_mask();
            return false;
        }
        let signo = ready.trailing_zeros() as i32 + 1;
        // SAFETY: as above.
        let info = unsafe { &(*t).ext.sig }.take(signo);
        let act = action(signo);
        match act.handler {
            h if h == libc::SIG_IGN as u64 => continue,
            h if h == libc::SIG_DFL as u64 => {
                if DEFAULT_IGNORED & bit(signo) != 0 {
                    continue;
                }
                if DEFAULT_STOP & bit(signo) != 0 {
                    // SAFETY: kill with our own pid and a valid signal.
                    unsafe {
                        hostsys::raw(
                            libc::SYS_kill,
                            &[std::process::id() as u64, libc::SIGSTOP as u64],
                        )
                    };
                    continue;
                }
                fatal::die_by_signal(signo)
            }
            _ => {
                // SAFETY: forwarded.
                unsafe { enter_handler(t, signo, &info, &act, intr, 0, None) };
                sync_host_mask();
                return true;
            }
        }
    }
}

/// Builds the frame for `signo` with `info` on `t`'s guest stack (below
/// `below` if given, else below SP, or on the alternate stack) and points
/// `t` at the handler of `act`; `fault_address` goes into the frame's
/// `sigcontext`. Returns the frame's address. A frame that cannot be
/// written kills the process with SIGSEGV, as the kernel's
/// `force_sigsegv`.
///
/// # Safety
/// As for [`deliver`]; the caller re-syncs the host mask.
pub unsafe fn enter_handler(
    t: *mut Thread,
    signo: i32,
    info: &[u8; 128],
    act: &KernelSigaction,
    intr: Option<Interrupted>,
    fault_address: u64,
    below: Option<u64>,
) -> u64 {
    // SAFETY: the caller's contract.
    let (cpu, ext) = unsafe { (&mut (*t).cpu, &mut (*t).ext) };
    let rewind = match intr {
        Some(Interrupted::NotStarted { orig_x0 }) => Some(orig_x0),
        Some(Interrupted::Eintr {
            orig_x0,
            restartable: true,
        }) if act.flags & libc::SA_RESTART as u64 != 0 => Some(orig_x0),
        _ => None,
    };
    if let Some(orig_x0) = rewind {
        // Back to the SVC: the dispatcher runs it after the handler.
        cpu.pc -= 4;
        cpu.x[0] = orig_x0;
    }
    let alt = ext.sig.altstack;
    let sp = cpu.x[31];
    let on_alt = alt.flags & libc::SS_DISABLE == 0 && sp > alt.sp && sp <= alt.sp + alt.size;
    let use_alt =
        act.flags & libc::SA_ONSTACK as u64 != 0 && alt.flags & libc::SS_DISABLE == 0 && !on_alt;
    let stack_flags = if alt.flags & libc::SS_DISABLE != 0 {
        libc::SS_DISABLE
    } else if on_alt {
        libc::SS_ONSTACK | (alt.flags & SS_AUTODISARM)
    } else {
        alt.flags & SS_AUTODISARM
    };
    let top = if use_alt {
        alt.sp + alt.size
    } else {
        below.unwrap_or(sp)
    };
    let old_mask = ext.sig.saved_mask.take().unwrap_or(ext.sig.mask);
    let input = frame::FrameInput {
        info,
        mask: old_mask,
        stack: (alt.sp, stack_flags, alt.size),
        fault_address,
    };
    // The live FPSR is partly in the host's flags (see `crate::fpu`).
    crate::fpu::save(cpu);
    let Ok(placed) = frame::write(cpu, top, &input) else {
        fatal::die_by_signal(libc::SIGSEGV)
    };
    if use_alt && alt.flags & SS_AUTODISARM != 0 {
        ext.sig.altstack = DISABLED;
    }
    cpu.x[0] = signo as u64;
    if act.flags & libc::SA_SIGINFO as u64 != 0 {
        cpu.x[1] = placed.frame;
        cpu.x[2] = placed.frame + frame::OFF_UC;
    }
    cpu.x[29] = placed.record;
    cpu.x[30] = if act.flags & SA_RESTORER != 0 {
        act.restorer
    } else {
        host::trampoline()
    };
    cpu.x[31] = placed.frame;
    cpu.pc = act.handler;
    cpu.excl_addr = u64::MAX;
    let mut mask = old_mask | act.mask;
    if act.flags & libc::SA_NODEFER as u64 == 0 {
        mask |= bit(signo);
    }
    ext.sig.mask = mask & !UNBLOCKABLE;
    if act.flags & libc::SA_RESETHAND as u64 != 0 {
        let _ = set_action(signo, Some(KernelSigaction::default()));
    }
    placed.frame
}

/// `rt_sigreturn`: restores the registers, mask and alternate stack saved
/// in the frame at the guest SP; a bad frame kills with SIGSEGV.
///
/// # Safety
/// As for [`deliver`].
pub unsafe fn sigreturn(t: *mut Thread) {
    // SAFETY: the caller's contract.
    let (cpu, ext) = unsafe { (&mut (*t).cpu, &mut (*t).ext) };
    let frame = cpu.x[31];
    let Ok(r) = frame::restore(cpu, frame) else {
        fatal::die_by_signal(libc::SIGSEGV)
    };
    crate::fpu::enter(cpu);
    ext.sig.mask = r.mask & !UNBLOCKABLE;
    let (sp, flags, size) = r.stack;
    let on_alt = {
        let a = ext.sig.altstack;
        a.flags & libc::SS_DISABLE == 0 && frame > a.sp && frame <= a.sp + a.size
    };
    if !on_alt {
        ext.sig.altstack = if flags & libc::SS_DISABLE != 0 || size < ARM64_MINSIGSTKSZ {
            DISABLED
        } else {
            StackT {
                sp,
                flags: flags & SS_AUTODISARM,
                pad: 0,
                size,
            }
        };
    }
    let host_mask = ext.sig.mask | ext.sig.deferred.load(Ordering::SeqCst);
    let pc = cpu.pc;
    // SAFETY: the caller's contract; resumes a fault if this frame was one.
    unsafe { resume::on_sigreturn(t, frame, pc, host_mask) };
    sync_host_mask();
}

/// Default-action check for a signal raised synchronously by the runtime
/// on behalf of an instruction (BRK, an untranslatable instruction): the
/// guest's action if it has a handler and the signal is not blocked.
pub fn sync_action(signo: i32) -> Option<KernelSigaction> {
    let act = action(signo);
    let blocked = guest_mask() & bit(signo) != 0;
    if act.handler == libc::SIG_DFL as u64 || act.handler == libc::SIG_IGN as u64 || blocked {
        return None;
    }
    Some(act)
}

/// A `siginfo` for a fault: signo, errno 0, code, then the address.
pub fn fault_info(signo: i32, code: i32, addr: u64) -> [u8; 128] {
    let mut info = [0u8; 128];
    info[0..4].copy_from_slice(&signo.to_le_bytes());
    info[8..12].copy_from_slice(&code.to_le_bytes());
    info[16..24].copy_from_slice(&addr.to_le_bytes());
    info
}

/// Enters the guest handler of `signo` for a fault the runtime detected at
/// `cpu.pc` (registers all in `cpu`), or dies by the signal when the guest
/// has no handler or blocks it.
///
/// # Safety
/// As for [`deliver`].
pub unsafe fn raise_sync(t: *mut Thread, signo: i32, code: i32, addr: u64) {
    let Some(act) = sync_action(signo) else {
        fatal::die_by_signal(signo)
    };
    let info = fault_info(signo, code, addr);
    // SAFETY: forwarded.
    unsafe { enter_handler(t, signo, &info, &act, None, addr, None) };
    sync_host_mask();
}

/// Syscalls Linux never restarts after a handler, even with `SA_RESTART`
/// (signal(7)): they fail with `EINTR`. AArch64 numbers.
const NEVER_RESTARTED: &[u64] = &[
    4,   // io_getevents
    22,  // epoll_pwait
    72,  // pselect6
    73,  // ppoll
    101, // nanosleep
    115, // clock_nanosleep
    133, // rt_sigsuspend
    137, // rt_sigtimedwait
    188, // msgrcv
    189, // msgsnd
    192, // semtimedop
    193, // semop
    441, // epoll_pwait2
];

/// `rt_sigreturn`, whose x0 is the restored register, not a result.
const NR_RT_SIGRETURN: u64 = 139;

/// After syscall `nr` (started with x0 = `orig_x0`) stored its result:
/// delivers pending signals. Returns true when the syscall must run again
/// (it was interrupted, and no handler ran, as Linux restarts it then).
///
/// # Safety
/// `cpu` is the live `CpuState` of the calling guest thread, inside its
/// `Thread`, with every register stored.
pub unsafe fn after_syscall(cpu: *mut vmxlate_abi::CpuState, nr: u64, orig_x0: u64) -> bool {
    // SAFETY: the caller's contract.
    let t = unsafe { thread::of_cpu(cpu) };
    // SAFETY: as above.
    if !unsafe { is_pending(t) } || unsafe { (*t).ext.exiting } {
        return false;
    }
    // SAFETY: as above.
    let eintr = nr != NR_RT_SIGRETURN && unsafe { (*cpu).x[0] } as i64 == -i64::from(libc::EINTR);
    let intr = eintr.then(|| Interrupted::Eintr {
        orig_x0,
        restartable: !NEVER_RESTARTED.contains(&nr),
    });
    // SAFETY: as above.
    let entered = unsafe { deliver(t, intr) };
    if !entered {
        // SAFETY: as above.
        if let Some(m) = unsafe { (*t).ext.sig.saved_mask.take() } {
            set_mask(m);
        }
    }
    !entered && eintr
}

/// Before syscall `nr` runs: delivers a pending signal first, as Linux
/// does for a signal that arrived before the SVC. Returns true when a
/// handler was entered (the syscall then runs when it returns).
///
/// # Safety
/// As for [`after_syscall`].
pub unsafe fn before_syscall(cpu: *mut vmxlate_abi::CpuState, nr: u64) -> bool {
    // SAFETY: the caller's contract.
    let t = unsafe { thread::of_cpu(cpu) };
    // SAFETY: as above.
    if nr == NR_RT_SIGRETURN || !unsafe { is_pending(t) } {
        return false;
    }
    // SAFETY: as above.
    let orig_x0 = unsafe { (*cpu).x[0] };
    // SAFETY: as above.
    unsafe { deliver(t, Some(Interrupted::NotStarted { orig_x0 })) }
}

/// Safe point in translated code with `CpuState::pending` set (see
/// `vmxlate_abi::sym::SAFEPOINT`). Returns `cpu` and the PC to go on at
/// (a handler's, when it delivered a signal), as a guest function does,
/// so the caller need not keep the pointer live across the call.
///
/// # Safety
/// `cpu` is the live `CpuState` of the calling guest thread with every
/// register stored and `pc` the guest address of the safe point.
#[no_mangle]
pub unsafe extern "C" fn vmx_safepoint(cpu: *mut vmxlate_abi::CpuState) -> vmxlate_abi::GuestRet {
    // SAFETY: the caller's contract.
    unsafe { deliver(thread::of_cpu(cpu), None) };
    // SAFETY: as above.
    let pc = unsafe { (*cpu).pc };
    vmxlate_abi::GuestRet { cpu, pc }
}
