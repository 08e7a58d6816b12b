//! The AArch64 `rt_sigframe` on the guest stack: building it when a handler
//! is entered and reading it back in `rt_sigreturn`.
//!
//! Layout (from the arm64 UAPI `asm/sigcontext.h`, `asm/ucontext.h` and the
//! kernel's `arch/arm64/kernel/signal.c`; offsets checked against the
//! headers with `aarch64-linux-gnu-gcc`): `siginfo` (128 bytes), then
//! `struct ucontext` (`uc_flags`, `uc_link`, `uc_stack`, `uc_sigmask`
//! padded to 128 bytes, then `uc_mcontext`: `fault_address`, `regs[31]`,
//! `sp`, `pc`, `pstate` and the 4096-byte `__reserved` area holding an
//! `fpsimd_context` record followed by a zero terminator). Above the frame
//! sits a `frame_record` {x29, x30} that the handler's x29 points at, as
//! the kernel builds it, so backtraces through handlers work.
//!
//! Invariants: the frame starts 16-byte aligned; `restore` accepts only a
//! frame whose first `__reserved` record is a well-formed `fpsimd_context`
//! (the kernel would kill the task otherwise) and never lets the guest set
//! anything but NZCV from `pstate`.

use vmxlate_abi::{CpuState, VReg};

use crate::host::Errno;
use crate::syscall::uaccess;

/// Size of `siginfo_t`.
pub const SIGINFO_SIZE: u64 = 128;
/// Offset of `uc` in `rt_sigframe`.
pub const OFF_UC: u64 = 128;
/// Offsets within `struct ucontext`.
pub const UC_FLAGS: u64 = 0;
/// `uc_link`.
pub const UC_LINK: u64 = 8;
/// `uc_stack` (a `stack_t`).
pub const UC_STACK: u64 = 16;
/// `uc_sigmask`.
pub const UC_SIGMASK: u64 = 40;
/// `uc_mcontext` (a `struct sigcontext`).
pub const UC_MCONTEXT: u64 = 176;
/// Offsets within `struct sigcontext`.
pub const SC_FAULT_ADDRESS: u64 = 0;
/// `regs[0]`.
pub const SC_REGS: u64 = 8;
/// `sp`.
pub const SC_SP: u64 = 256;
/// `pc`.
pub const SC_PC: u64 = 264;
/// `pstate`.
pub const SC_PSTATE: u64 = 272;
/// `__reserved`.
pub const SC_RESERVED: u64 = 288;
/// `FPSIMD_MAGIC`.
pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
/// `sizeof(struct fpsimd_context)`.
pub const FPSIMD_SIZE: u32 = 528;
/// `sizeof(struct rt_sigframe)`.
pub const FRAME_SIZE: u64 = 4688;
/// `sizeof(struct frame_record)`.
const RECORD_SIZE: u64 = 16;

/// The bytes of a frame, read in one access.
#[derive(Clone, Copy)]
#[repr(C)]
struct RawFrame([u8; FRAME_SIZE as usize]);

// SAFETY: bytes only.
unsafe impl uaccess::Plain for RawFrame {}

/// Offset of `uc_mcontext` from the frame start.
const MC: u64 = OFF_UC + UC_MCONTEXT;

/// What goes into a frame beside the registers.
pub struct FrameInput<'a> {
    /// The 128-byte `siginfo`.
    pub info: &'a [u8; 128],
    /// The mask to restore on return (`uc_sigmask`).
    pub mask: u64,
    /// `uc_stack`: the alternate stack `(sp, flags, size)` as `sigaltstack`
    /// would report it.
    pub stack: (u64, i32, u64),
    /// `fault_address` (0 unless a synchronous fault).
    pub fault_address: u64,
}

/// Where the frame went.
pub struct Placed {
    /// Address of the `rt_sigframe` (the handler's SP).
    pub frame: u64,
    /// Address of the frame record (the handler's x29).
    pub record: u64,
}

/// Where a frame goes below stack pointer `sp`, as the kernel's
/// `get_sigframe`.
pub fn place(sp: u64) -> Placed {
    let record = (sp.wrapping_sub(RECORD_SIZE)) & !15;
    let frame = record - FRAME_SIZE.next_multiple_of(16);
    Placed { frame, record }
}

fn put(buf: &mut [u8], off: u64, bytes: &[u8]) {
    buf[off as usize..off as usize + bytes.len()].copy_from_slice(bytes);
}

fn get_u64(buf: &[u8], off: u64) -> u64 {
    u64::from_le_bytes(
        buf[off as usize..off as usize + 8]
            .try_into()
            .expect("8 bytes"),
    )
}

fn get_u32(buf: &[u8], off: u64) -> u32 {
    u32::from_le_bytes(
        buf[off as usize..off as usize + 4]
            .try_into()
            .expect("4 bytes"),
    )
}

/// The frame bytes for `cpu` (whose `pc` is where the handler returns to).
pub fn encode(cpu: &CpuState, input: &FrameInput<'_>) -> Vec<u8> {
    let mut f = vec![0u8; FRAME_SIZE as usize];
    put(&mut f, 0, input.info);
    let uc = OFF_UC;
    put(&mut f, uc + UC_FLAGS, &0u64.to_le_bytes());
    put(&mut f, uc + UC_LINK, &0u64.to_le_bytes());
    let (ss_sp, ss_flags, ss_size) = input.stack;
    put(&mut f, uc + UC_STACK, &ss_sp.to_le_bytes());
    put(&mut f, uc + UC_STACK + 8, &ss_flags.to_le_bytes());
    put(&mut f, uc + UC_STACK + 16, &ss_size.to_le_bytes());
    put(&mut f, uc + UC_SIGMASK, &input.mask.to_le_bytes());
    put(
        &mut f,
        MC + SC_FAULT_ADDRESS,
        &input.fault_address.to_le_bytes(),
    );
    for (i, r) in cpu.x[..31].iter().enumerate() {
        put(&mut f, MC + SC_REGS + 8 * i as u64, &r.to_le_bytes());
    }
    put(&mut f, MC + SC_SP, &cpu.x[31].to_le_bytes());
    put(&mut f, MC + SC_PC, &cpu.pc.to_le_bytes());
    put(&mut f, MC + SC_PSTATE, &pstate(cpu).to_le_bytes());
    let fp = MC + SC_RESERVED;
    put(&mut f, fp, &FPSIMD_MAGIC.to_le_bytes());
    put(&mut f, fp + 4, &FPSIMD_SIZE.to_le_bytes());
    put(&mut f, fp + 8, &cpu.fpsr.to_le_bytes());
    put(&mut f, fp + 12, &cpu.fpcr.to_le_bytes());
    for (i, v) in cpu.v.iter().enumerate() {
        let at = fp + 16 + 16 * i as u64;
        put(&mut f, at, &v.lo.to_le_bytes());
        put(&mut f, at + 8, &v.hi.to_le_bytes());
    }
    // The terminator record after fpsimd is already zero.
    f
}

/// PSTATE as the frame shows it: NZCV in bits 31..28, EL0t.
fn pstate(cpu: &CpuState) -> u64 {
    let [n, z, c, v] = cpu.nzcv;
    (u64::from(n & 1) << 31)
        | (u64::from(z & 1) << 30)
        | (u64::from(c & 1) << 29)
        | (u64::from(v & 1) << 28)
}

/// Writes the frame for `cpu` below guest stack pointer `sp` and the frame
/// record above it; returns where they are.
pub fn write(cpu: &CpuState, sp: u64, input: &FrameInput<'_>) -> Result<Placed, Errno> {
    let placed = place(sp);
    let mut record = [0u8; 16];
    record[..8].copy_from_slice(&cpu.x[29].to_le_bytes());
    record[8..].copy_from_slice(&cpu.x[30].to_le_bytes());
    uaccess::write_bytes(placed.record, &record)?;
    uaccess::write_bytes(placed.frame, &encode(cpu, input))?;
    Ok(placed)
}

/// The state a frame restores.
pub struct Restored {
    /// The signal mask to install.
    pub mask: u64,
    /// `uc_stack` `(sp, flags, size)`, which `rt_sigreturn` re-installs as
    /// the alternate stack.
    pub stack: (u64, i32, u64),
}

/// Reads the frame at `frame` into `cpu` (registers, SP, PC, NZCV, FPSR,
/// FPCR, vectors); fails like a bad frame would.
pub fn restore(cpu: &mut CpuState, frame: u64) -> Result<Restored, Errno> {
    if frame & 15 != 0 {
        return Err(Errno(libc::EFAULT));
    }
    let f: Box<RawFrame> = Box::new(uaccess::read(frame)?);
    decode(cpu, &f.0)
}

/// Decodes frame bytes (see [`restore`]).
pub fn decode(cpu: &mut CpuState, f: &[u8]) -> Result<Restored, Errno> {
    let fp = MC + SC_RESERVED;
    if get_u32(f, fp) != FPSIMD_MAGIC || get_u32(f, fp + 4) != FPSIMD_SIZE {
        return Err(Errno(libc::EINVAL));
    }
    for i in 0..31 {
        cpu.x[i] = get_u64(f, MC + SC_REGS + 8 * i as u64);
    }
    cpu.x[31] = get_u64(f, MC + SC_SP);
    cpu.pc = get_u64(f, MC + SC_PC);
    let ps = get_u64(f, MC + SC_PSTATE);
    cpu.nzcv = [
        (ps >> 31) as u8 & 1,
        (ps >> 30) as u8 & 1,
        (ps >> 29) as u8 & 1,
        (ps >> 28) as u8 & 1,
    ];
    cpu.fpsr = get_u32(f, fp + 8);
    cpu.fpcr = get_u32(f, fp + 12);
    for (i, v) in cpu.v.iter_mut().enumerate() {
        let at = fp + 16 + 16 * i as u64;
        *v = VReg {
            lo: get_u64(f, at),
            hi: get_u64(f, at + 8),
        };
    }
    cpu.excl_addr = u64::MAX;
    let uc = OFF_UC;
    Ok(Restored {
        mask: get_u64(f, uc + UC_SIGMASK),
        stack: (
            get_u64(f, uc + UC_STACK),
            get_u32(f, uc + UC_STACK + 8) as i32,
            get_u64(f, uc + UC_STACK + 16),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_arm64_uapi_headers() {
        // sizeof(struct sigcontext) = 4384, sizeof(struct ucontext) = 4560,
        // sizeof(struct rt_sigframe) = 128 + 4560 (aarch64-linux-gnu-gcc).
        assert_eq!(SC_RESERVED + 4096, 4384);
        assert_eq!(UC_MCONTEXT + 4384, 4560);
        assert_eq!(OFF_UC + 4560, FRAME_SIZE);
        assert_eq!(SC_REGS + 31 * 8, SC_SP);
        assert_eq!(16 + 32 * 16, FPSIMD_SIZE);
        assert_eq!(UC_SIGMASK + 128 + 8, UC_MCONTEXT);
        // The handler's SP is 16-byte aligned and the record sits above
        // the frame, 16-byte aligned, below the old SP.
        let p = place(0x7fff_1238);
        assert_eq!(p.frame % 16, 0);
        assert_eq!(p.record, 0x7fff_1220);
        assert!(p.frame + FRAME_SIZE <= p.record);
    }

    #[test]
    fn frames_round_trip_registers_flags_and_vectors() {
        let mut cpu = CpuState::default();
        for i in 0..32 {
            cpu.x[i] = 0x1000 + i as u64;
            cpu.v[i] = VReg {
                lo: i as u64,
                hi: !(i as u64),
            };
        }
        cpu.pc = 0x40_1234;
        cpu.nzcv = [1, 0, 1, 1];
        cpu.fpcr = 0x0300_0000;
        cpu.fpsr = 0x10;
        let info = [7u8; 128];
        let input = FrameInput {
            info: &info,
            mask: 0x1234,
            stack: (0, libc::SS_DISABLE, 0),
            fault_address: 0xdead,
        };
        let bytes = encode(&cpu, &input);
        assert_eq!(get_u64(&bytes, MC + SC_PSTATE), 0xb000_0000);
        assert_eq!(get_u64(&bytes, MC + SC_FAULT_ADDRESS), 0xdead);
        assert_eq!(&bytes[..128], &info);
        let mut back = CpuState::default();
        let r = decode(&mut back, &bytes).unwrap();
        assert_eq!(r.mask, 0x1234);
        assert_eq!(back.x, cpu.x);
        assert_eq!(back.v, cpu.v);
        assert_eq!(
            (back.pc, back.nzcv, back.fpcr, back.fpsr),
            (cpu.pc, cpu.nzcv, cpu.fpcr, cpu.fpsr)
        );
        let mut bad = bytes.clone();
        bad[(MC + SC_RESERVED) as usize] ^= 1;
        assert!(decode(&mut back, &bad).is_err());
    }
}
