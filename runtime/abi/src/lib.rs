//! The contract between translated code and the vmxlate runtime.
//!
//! Both the translator (which emits code that reads and writes these
//! structures at fixed offsets) and the runtime (which implements the helper
//! symbols) depend on this crate; nothing else is shared between them.
//!
//! Invariants:
//! - Every type here is `#[repr(C)]` and its layout is fixed: translated code
//!   addresses fields through the `OFF_*` constants, which are checked against
//!   `core::mem::offset_of!` at compile time.
//! - Helper symbols use the C calling convention (System V on x86-64).
//! - Translated guest functions have the signature [`GuestFn`]; they return
//!   when the guest leaves them (RET, an unresolved indirect branch, a call
//!   that did not return to its return address) with the next guest PC
//!   in [`GuestRet::pc`] (not in `CpuState::pc`) and every guest
//!   register stored back that the guest may read after (unless
//!   translated with `--strict-abi`, a return or call leaves out those
//!   AAPCS64 says nobody reads there).

#![no_std]

use core::mem::offset_of;

/// One 128-bit SIMD&FP register, stored as two little-endian 64-bit halves.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct VReg {
    /// Bits 0..63.
    pub lo: u64,
    /// Bits 64..127.
    pub hi: u64,
}

/// The architectural state of one guest thread.
///
/// `x[31]` is SP (the zero register never lives in memory). NZCV is kept as
/// four bytes, each 0 or 1, so translated code can load one flag at a time.
#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct CpuState {
    /// X0..X30 and SP at index 31.
    pub x: [u64; 32],
    /// The guest program counter of the next instruction to run whenever
    /// control is outside translated code: a translated function returns
    /// it in [`GuestRet::pc`] and the dispatcher stores it here.
    pub pc: u64,
    /// N, Z, C, V flags, each 0 or 1.
    pub nzcv: [u8; 4],
    /// FPCR (rounding mode, FZ, DN).
    pub fpcr: u32,
    /// FPSR (cumulative exception flags, QC).
    pub fpsr: u32,
    /// TPIDR_EL0, the thread pointer.
    pub tpidr: u64,
    /// Address of the active exclusive monitor, or `u64::MAX` when clear.
    pub excl_addr: u64,
    /// Value loaded by the last load-exclusive (first register).
    pub excl_val: u64,
    /// Value loaded by the last load-exclusive pair (second register).
    pub excl_val2: u64,
    /// Non-zero when an asynchronous event (signal) waits for a safe point.
    /// Written by the runtime's host signal handler on the thread that owns
    /// this state, which also raises [`CpuState::stack_limit`] to
    /// `u64::MAX` until the runtime clears it. Translated code tests it at
    /// loop headers and computed gotos and then calls [`sym::SAFEPOINT`];
    /// function entries test the limit alone.
    pub pending: u32,
    /// Non-zero when translated code may run the host's fused multiply-add
    /// (the [`sym::FMA_F64`] family of stubs): the host CPU has FMA and
    /// `VMXLATE_HOST_FMA=0` did not turn it off. Set once at start-up and
    /// copied to every thread. Non-zero also makes a function with FMA
    /// clones run its clone (FMA inline); zero selects its plain x86-64-v2
    /// body and, there, the inline emulation.
    pub host_fma: u32,
    /// The lowest host stack pointer at which a translated function that
    /// makes calls may start: below it, its entry leaves for the dispatcher
    /// instead (with `pc` at the entry), which runs it again at the bottom
    /// of the host stack. Set by the runtime for each host thread, with room
    /// left for the runtime's own frames (see [`HOST_STACK_RESERVE`]).
    ///
    /// `u64::MAX` while [`CpuState::pending`] is set, so the one compare
    /// with the host stack pointer at function entries also catches
    /// pending signals: its slow path calls [`sym::SAFEPOINT`].
    pub stack_limit: u64,
    /// V0..V31.
    pub v: [VReg; 32],
    /// Arguments and result of the preserve-all helpers [`sym::FP_TINY`]
    /// and [`sym::FMA`] (that convention has no return registers).
    pub fp_tmp: [u64; 6],
}

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            x: [0; 32],
            pc: 0,
            nzcv: [0; 4],
            fpcr: 0,
            fpsr: 0,
            tpidr: 0,
            excl_addr: u64::MAX,
            excl_val: 0,
            excl_val2: 0,
            pending: 0,
            host_fma: 0,
            stack_limit: 0,
            v: [VReg::default(); 32],
            fp_tmp: [0; 6],
        }
    }
}

/// Byte offset of `x[0]`; `x[n]` is at `OFF_X + 8 * n`.
pub const OFF_X: i32 = offset_of!(CpuState, x) as i32;
/// Byte offset of `pc`.
pub const OFF_PC: i32 = offset_of!(CpuState, pc) as i32;
/// Byte offset of `nzcv[0]` (N); Z, C, V follow.
pub const OFF_NZCV: i32 = offset_of!(CpuState, nzcv) as i32;
/// Byte offset of `fpcr`.
pub const OFF_FPCR: i32 = offset_of!(CpuState, fpcr) as i32;
/// Byte offset of `fpsr`.
pub const OFF_FPSR: i32 = offset_of!(CpuState, fpsr) as i32;
/// Byte offset of `tpidr`.
pub const OFF_TPIDR: i32 = offset_of!(CpuState, tpidr) as i32;
/// Byte offset of `excl_addr`.
pub const OFF_EXCL_ADDR: i32 = offset_of!(CpuState, excl_addr) as i32;
/// Byte offset of `excl_val`.
pub const OFF_EXCL_VAL: i32 = offset_of!(CpuState, excl_val) as i32;
/// Byte offset of `excl_val2`.
pub const OFF_EXCL_VAL2: i32 = offset_of!(CpuState, excl_val2) as i32;
/// Byte offset of `pending`.
pub const OFF_PENDING: i32 = offset_of!(CpuState, pending) as i32;
/// Byte offset of `host_fma`.
pub const OFF_HOST_FMA: i32 = offset_of!(CpuState, host_fma) as i32;
/// Byte offset, from a thread's `CpuState`, of its code TLB
/// (`[TlbEntry; TLB_ENTRIES]`), which translated code probes inline for
/// indirect branches: the runtime keeps the table right after the
/// registers (and checks that it does). Each guest thread has its own, so
/// only its own thread ever writes it.
pub const OFF_TLB: i32 = core::mem::size_of::<CpuState>() as i32;
/// Byte offset of `stack_limit`.
pub const OFF_STACK_LIMIT: i32 = offset_of!(CpuState, stack_limit) as i32;
/// Byte offset of `v[0]`; `v[n]` is at `OFF_V + 16 * n`.
pub const OFF_V: i32 = offset_of!(CpuState, v) as i32;
/// Byte offset of `fp_tmp[0]`; `fp_tmp[n]` is at `OFF_FP_TMP + 8 * n`.
pub const OFF_FP_TMP: i32 = offset_of!(CpuState, fp_tmp) as i32;
/// Byte offset of the result of the host FMA stubs ([`sym::FMA_F64`]...):
/// `fp_tmp[4..6]`, 16 bytes (the low 4 or 8 for scalars).
pub const FMA_RESULT: i32 = OFF_FP_TMP + 32;

const _: () = assert!(OFF_V % 16 == 0);

/// Host stack kept free below [`CpuState::stack_limit`] for the runtime:
/// helpers and syscalls called from the deepest translated frame, and host
/// signal handlers.
pub const HOST_STACK_RESERVE: u64 = 1 << 20;

/// A translated guest function: `entry` selects where to start (0 is the
/// function's first instruction; other indices are resume points listed in
/// the PC map).
pub type GuestFn = unsafe extern "C" fn(cpu: *mut CpuState, entry: u32) -> GuestRet;

/// What a [`GuestFn`] returns, in two registers (RAX, RDX).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GuestRet {
    /// The `CpuState` it was given, so that callers in translated code need
    /// not keep the pointer live across the call.
    pub cpu: *mut CpuState,
    /// The guest PC to go on at: a returning caller compares it with its
    /// return address. `CpuState::pc` is not updated.
    pub pc: u64,
}

/// One row of the PC map: a guest address at which translated code can be
/// entered. The map is sorted by `guest_pc` and has no duplicates. Host code
/// is named by its offset from `ImageDesc::code_base`, so the map needs no
/// load-time relocations (start-up cost does not grow with program size).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PcMapEntry {
    /// The guest address.
    pub guest_pc: u64,
    /// Offset of the host function from `ImageDesc::code_base`.
    pub code_offset: u32,
    /// The entry index to pass to the host function.
    pub entry: u32,
}

/// Number of entries in the inline-probed code TLB (a power of two).
pub const TLB_ENTRIES: usize = 4096;

/// One slot of the direct-mapped code TLB that translated code probes inline
/// for indirect branches. Slot index is `(pc >> 2) & (TLB_ENTRIES - 1)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TlbEntry {
    /// Guest PC cached in this slot. An empty slot holds 0, except slot 0,
    /// which the runtime sets to 1 at start-up (no instruction is at an odd
    /// address), so a probe never matches an empty slot.
    pub guest_pc: u64,
    /// Host function for it (valid only when `guest_pc` matches).
    pub host_fn: Option<GuestFn>,
    /// Entry index to pass.
    pub entry: u32,
    /// Reserved, zero.
    pub _pad: u32,
}

/// Byte size of a [`TlbEntry`].
pub const TLB_ENTRY_SIZE: i32 = core::mem::size_of::<TlbEntry>() as i32;
/// Offset of `host_fn` in a [`TlbEntry`].
pub const TLB_OFF_FN: i32 = offset_of!(TlbEntry, host_fn) as i32;
/// Offset of `entry` in a [`TlbEntry`].
pub const TLB_OFF_ENTRY: i32 = offset_of!(TlbEntry, entry) as i32;

/// Describes the translated program; emitted by the translator as the data
/// symbol [`sym::IMAGE`] and read by the runtime at start-up.
#[repr(C)]
#[derive(Debug)]
pub struct ImageDesc {
    /// Format version; must equal [`IMAGE_VERSION`].
    pub version: u32,
    /// Reserved, zero.
    pub _pad: u32,
    /// The original guest ELF file, embedded page-aligned.
    pub elf: *const u8,
    /// Length of the guest ELF file in bytes.
    pub elf_len: u64,
    /// Load bias applied to the guest image (0 for ET_EXEC).
    pub load_bias: u64,
    /// Base address that `PcMapEntry::code_offset` is relative to.
    pub code_base: *const u8,
    /// The PC map, sorted by guest PC.
    pub pc_map: *const PcMapEntry,
    /// Number of PC map entries.
    pub pc_map_len: u64,
    /// Bytes of translated code from `code_base` (host PCs in
    /// `code_base..code_base + code_len` are translated code).
    pub code_len: u64,
    /// The fault map, sorted by code offset.
    pub fault_map: *const FaultMapEntry,
    /// Number of fault map entries.
    pub fault_map_len: u64,
}

/// One row of the fault map: the host code from `code_offset` (relative to
/// `ImageDesc::code_base`) up to the next row's offset belongs to the guest
/// memory-access instruction at `guest_pc`, or to no memory access when
/// `guest_pc` is 0. Lets the runtime report the exact guest PC of a
/// synchronous fault (SIGSEGV, SIGBUS) raised by translated code.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultMapEntry {
    /// Offset of the first host instruction of the range.
    pub code_offset: u32,
    /// Reserved, zero.
    pub _pad: u32,
    /// The guest instruction, or 0.
    pub guest_pc: u64,
}

/// Current [`ImageDesc`] format version.
pub const IMAGE_VERSION: u32 = 2;

/// Byte offsets of the pointer fields of [`ImageDesc`] (for the translator's
/// relocations).
pub const IMAGE_OFF_ELF: usize = offset_of!(ImageDesc, elf);
/// See [`IMAGE_OFF_ELF`].
pub const IMAGE_OFF_CODE_BASE: usize = offset_of!(ImageDesc, code_base);
/// See [`IMAGE_OFF_ELF`].
pub const IMAGE_OFF_PC_MAP: usize = offset_of!(ImageDesc, pc_map);
/// See [`IMAGE_OFF_ELF`].
pub const IMAGE_OFF_FAULT_MAP: usize = offset_of!(ImageDesc, fault_map);

/// Symbol names shared by translated code and the runtime.
pub mod sym {
    /// `ImageDesc` data symbol emitted by the translator.
    pub const IMAGE: &str = "vmx_image";
    /// `extern "C" fn(cpu: *mut CpuState)`: performs the syscall in x8.
    pub const SYSCALL: &str = "vmx_syscall";
    /// `extern "C" fn(cpu: *mut CpuState) -> GuestRet`: calls the
    /// translation of `cpu.pc` once (filling its TLB slot) and returns what
    /// it returns (slow path of indirect calls and jumps).
    pub const DISPATCH: &str = "vmx_dispatch";
    /// `extern "C" fn(cpu: *mut CpuState, pc: u64, word: u32, disasm: *const c_char)`:
    /// reached an instruction that was not translated (every register
    /// stored); `disasm` is a NUL-terminated disassembly emitted by the
    /// translator. Raises SIGILL: returns only with `cpu.pc` at the guest's
    /// handler, after which translated code returns.
    pub const UNDEFINED: &str = "vmx_undefined";
    /// `extern "C" fn(cpu: *mut CpuState, pc: u64, imm: u32)`: BRK; raises
    /// SIGTRAP like [`UNDEFINED`] raises SIGILL.
    pub const BRK: &str = "vmx_brk";
    /// `extern "C" fn() -> u64`: CNTVCT_EL0.
    pub const CNTVCT: &str = "vmx_cntvct";
    /// `extern "C" fn(cpu: *mut CpuState) -> GuestRet`: a safe point with
    /// `CpuState::pending` set; `cpu.pc` is the guest PC of the point and
    /// every guest register is stored. Delivers pending signals; if that
    /// changed `cpu.pc`, translated code returns to its caller.
    pub const SAFEPOINT: &str = "vmx_safepoint";

    // ---- floating point (runtime/src/fpu.rs) ----
    /// `extern "C" fn(cpu: *mut CpuState, v: u64)`: MSR FPCR (also sets
    /// the host MXCSR's rounding and flush-to-zero controls).
    pub const SET_FPCR: &str = "vmx_set_fpcr";
    /// `extern "C" fn(cpu: *mut CpuState) -> u64`: MRS FPSR (the host's
    /// sticky flags merged with `CpuState::fpsr`).
    pub const GET_FPSR: &str = "vmx_get_fpsr";
    /// `extern "C" fn(cpu: *mut CpuState, v: u64)`: MSR FPSR.
    pub const SET_FPSR: &str = "vmx_set_fpsr";
    /// `fn(cpu: *mut CpuState)` with the preserve-all convention (every
    /// register preserved), arguments in `CpuState::fp_tmp[0..5]`: `r`,
    /// the host result of the operation `kind` ([`super::FP_TINY_MUL`]...)
    /// on `a, b, c`, is the smallest normal number in magnitude; records
    /// Arm's underflow (tininess before rounding) and stores the result
    /// Arm gives in `fp_tmp[5]`. Passing everything in memory and
    /// preserving every register keeps this rare call from costing
    /// register moves or spills on the hot path around it.
    pub const FP_TINY: &str = "vmx_fp_tiny";
    /// `fn(cpu: *mut CpuState)`, preserve-all like [`FP_TINY`], with
    /// `CpuState::fp_tmp` = [single, a, b, c, -, result]: `a * b + c`
    /// with one rounding in the guest's rounding mode, in single precision
    /// when `single` is non-zero (the operands are then exact promotions
    /// of floats).
    pub const FMA: &str = "vmx_fma";
    /// The host's fused multiply-add (`VFMADD213SD`), only called when
    /// `CpuState::host_fma` is set: `(cpu: *mut CpuState, a: f64, b: f64,
    /// c: f64)` (rdi, xmm0..xmm2), preserve-all like [`FP_TINY`], storing
    /// `a * b + c` at [`super::FMA_RESULT`] bytes into the `CpuState` (that
    /// convention has no return registers). Rounds and raises flags per
    /// MXCSR like any translated SSE op.
    pub const FMA_F64: &str = "vmx_host_fma_f64";
    /// As [`FMA_F64`] for `f32` (`VFMADD213SS`).
    pub const FMA_F32: &str = "vmx_host_fma_f32";
    /// As [`FMA_F64`] for two `f64` lanes (`VFMADD213PD`, 128-bit).
    pub const FMA_F64X2: &str = "vmx_host_fma_f64x2";
    /// As [`FMA_F64`] for four `f32` lanes (`VFMADD213PS`, 128-bit).
    pub const FMA_F32X4: &str = "vmx_host_fma_f32x4";
    /// `extern "C" fn(cpu: *mut CpuState, h: u32) -> f64`: FCVT from half
    /// precision (IEEE format, low 16 bits of `h`).
    pub const F16_TO_F64: &str = "vmx_f16_to_f64";
    /// `extern "C" fn(cpu: *mut CpuState, x: f64) -> u32`: FCVT to half
    /// precision, rounded per FPCR.
    pub const F64_TO_F16: &str = "vmx_f64_to_f16";
    /// `extern "C" fn(cpu: *mut CpuState, kind: u32, bits: u64) -> u64`:
    /// FRECPE, FRSQRTE or FRECPX ([`super::FP_EST_RECPE`]...) of the
    /// single (`kind | FP_KIND_SINGLE`) or double held in `bits`.
    pub const FP_ESTIMATE: &str = "vmx_fp_estimate";
    /// `extern "C" fn()`: installs the run-time JIT (the translator puts it
    /// in `.init_array` of outputs that may JIT-compile code discovery
    /// missed).
    pub const JIT_INIT: &str = "vmx_jit_init";
    /// As [`JIT_INIT`], for outputs translated with `--strict-abi`: the
    /// JIT keeps NZCV across calls and returns too.
    pub const JIT_INIT_STRICT_ABI: &str = "vmx_jit_init_strict_abi";
    /// `extern "C" fn(cpu: *mut CpuState, bits: u64) -> u64`: FJCVTZS of
    /// the double `bits`: the W result in bits 31:0, the Z flag in bit 32.
    pub const FJCVTZS: &str = "vmx_fjcvtzs";
}

/// Guest libc routines the translator may bind to host implementations.
///
/// Each is the runtime symbol [`Routine::symbol`], an
/// `extern "C" fn(x0: u64, x1: u64, x2: u64) -> u64` that takes the guest's
/// argument registers and returns the guest's x0. Routines whose result the
/// C standard defines uniquely are bound by name or fingerprint; comparison
/// routines return implementation-specific magnitudes, so [`Routine::Strcmp`]
/// and [`Routine::Memcmp`] reproduce one glibc build's values and are bound
/// only to that build's bytes (by fingerprint).
///
/// The libm routines ([`Routine::is_math`]) take the bits of the guest's
/// d0/d1 (s0/s1) in x0/x1 and return the bits of d0 (s0), or
/// [`ROUTINE_DECLINED`] when the host cannot produce exactly the guest's
/// result and flags for these inputs: the guest's own code then runs. They
/// are bound only by fingerprint, to glibc 2.36's AArch64 build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Routine {
    /// `memmove(dst, src, n) -> dst` (also bound for `memcpy`: a superset).
    Memmove,
    /// `memset(dst, c, n) -> dst`.
    Memset,
    /// `strlen(s) -> n`.
    Strlen,
    /// `strnlen(s, max) -> n`.
    Strnlen,
    /// `memchr(s, c, n) -> p or 0`.
    Memchr,
    /// `rawmemchr(s, c) -> p`.
    Rawmemchr,
    /// `strchr(s, c) -> p or 0`.
    Strchr,
    /// `strchrnul(s, c) -> p`.
    Strchrnul,
    /// `strrchr(s, c) -> p or 0`.
    Strrchr,
    /// `strcpy(dst, src) -> dst`.
    Strcpy,
    /// `stpcpy(dst, src) -> end of dst`.
    Stpcpy,
    /// `strspn(s, accept) -> n`.
    Strspn,
    /// `strcspn(s, reject) -> n`.
    Strcspn,
    /// `strpbrk(s, accept) -> p or 0`.
    Strpbrk,
    /// `strcmp(a, b)`, glibc 2.36 AArch64's values (fingerprint only).
    Strcmp,
    /// `memcmp(a, b, n)`, glibc 2.36 AArch64's values (fingerprint only).
    Memcmp,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `exp(x)`.
    Exp,
    /// `log(x)`.
    Log,
    /// `pow(x, y)`.
    Pow,
    /// `sinf(x)`.
    Sinf,
    /// `cosf(x)`.
    Cosf,
    /// `expf(x)`.
    Expf,
    /// `logf(x)`.
    Logf,
    /// `powf(x, y)`.
    Powf,
}

/// Environment variable that, set to `0` when translating or running,
/// keeps the guest's own libm code (no host libm routines).
pub const HOST_LIBM_ENV: &str = "VMXLATE_HOST_LIBM";

/// The host glibc version whose x86-64 FMA libm builds compute what the
/// fingerprinted AArch64 ones do (`gnu_get_libc_version()`).
pub const HOST_LIBM_GLIBC: &str = "2.36";

/// What a libm [`Routine`] returns when the guest's code must compute the
/// result instead (no float result has these bits: a NaN, and not a
/// single-precision value zero-extended).
pub const ROUTINE_DECLINED: u64 = u64::MAX;

impl Routine {
    /// Every routine.
    pub const ALL: [Routine; 26] = [
        Routine::Memmove,
        Routine::Memset,
        Routine::Strlen,
        Routine::Strnlen,
        Routine::Memchr,
        Routine::Rawmemchr,
        Routine::Strchr,
        Routine::Strchrnul,
        Routine::Strrchr,
        Routine::Strcpy,
        Routine::Stpcpy,
        Routine::Strspn,
        Routine::Strcspn,
        Routine::Strpbrk,
        Routine::Strcmp,
        Routine::Memcmp,
        Routine::Sin,
        Routine::Cos,
        Routine::Exp,
        Routine::Log,
        Routine::Pow,
        Routine::Sinf,
        Routine::Cosf,
        Routine::Expf,
        Routine::Logf,
        Routine::Powf,
    ];

    /// Whether this is a libm routine: FP arguments and result, and it may
    /// return [`ROUTINE_DECLINED`].
    pub fn is_math(self) -> bool {
        matches!(
            self,
            Routine::Sin
                | Routine::Cos
                | Routine::Exp
                | Routine::Log
                | Routine::Pow
                | Routine::Sinf
                | Routine::Cosf
                | Routine::Expf
                | Routine::Logf
                | Routine::Powf
        )
    }

    /// The runtime symbol implementing the routine.
    pub fn symbol(self) -> &'static str {
        match self {
            Routine::Memmove => "vmx_libc_memmove",
            Routine::Memset => "vmx_libc_memset",
            Routine::Strlen => "vmx_libc_strlen",
            Routine::Strnlen => "vmx_libc_strnlen",
            Routine::Memchr => "vmx_libc_memchr",
            Routine::Rawmemchr => "vmx_libc_rawmemchr",
            Routine::Strchr => "vmx_libc_strchr",
            Routine::Strchrnul => "vmx_libc_strchrnul",
            Routine::Strrchr => "vmx_libc_strrchr",
            Routine::Strcpy => "vmx_libc_strcpy",
            Routine::Stpcpy => "vmx_libc_stpcpy",
            Routine::Strspn => "vmx_libc_strspn",
            Routine::Strcspn => "vmx_libc_strcspn",
            Routine::Strpbrk => "vmx_libc_strpbrk",
            Routine::Strcmp => "vmx_libc_strcmp",
            Routine::Memcmp => "vmx_libc_memcmp",
            Routine::Sin => "vmx_libm_sin",
            Routine::Cos => "vmx_libm_cos",
            Routine::Exp => "vmx_libm_exp",
            Routine::Log => "vmx_libm_log",
            Routine::Pow => "vmx_libm_pow",
            Routine::Sinf => "vmx_libm_sinf",
            Routine::Cosf => "vmx_libm_cosf",
            Routine::Expf => "vmx_libm_expf",
            Routine::Logf => "vmx_libm_logf",
            Routine::Powf => "vmx_libm_powf",
        }
    }
}

/// FPCR.RMode: bits 23:22 (0 nearest, 1 towards +inf, 2 towards -inf,
/// 3 towards zero).
pub const FPCR_RMODE_SHIFT: u32 = 22;
/// FPCR.FZ: flush denormal inputs and outputs to zero.
pub const FPCR_FZ: u32 = 1 << 24;
/// FPCR.DN: every NaN result is the default NaN.
pub const FPCR_DN: u32 = 1 << 25;
/// FPCR.AHP: half-precision conversions use the alternative format (no
/// infinities or NaNs; exponent 31 is normal).
pub const FPCR_AHP: u32 = 1 << 26;
/// The FPCR bits the guest can set (AHP, DN, FZ, RMode, FZ16); the
/// trap enables read as zero (no trapped FP exceptions).
pub const FPCR_MASK: u32 = 0x07c8_0000;
/// FPSR.IOC: invalid operation.
pub const FPSR_IOC: u32 = 1 << 0;
/// FPSR.DZC: division by zero.
pub const FPSR_DZC: u32 = 1 << 1;
/// FPSR.OFC: overflow.
pub const FPSR_OFC: u32 = 1 << 2;
/// FPSR.UFC: underflow.
pub const FPSR_UFC: u32 = 1 << 3;
/// FPSR.IXC: inexact.
pub const FPSR_IXC: u32 = 1 << 4;
/// FPSR.IDC: input denormal.
pub const FPSR_IDC: u32 = 1 << 7;
/// FPSR.QC: cumulative saturation (Advanced SIMD).
pub const FPSR_QC: u32 = 1 << 27;
/// The FPSR bits that exist in AArch64.
pub const FPSR_MASK: u32 = FPSR_QC | FPSR_IDC | 0x1f;

/// `kind` of [`sym::FP_TINY`]: multiplication.
pub const FP_TINY_MUL: u32 = 0;
/// `kind` of [`sym::FP_TINY`]: division.
pub const FP_TINY_DIV: u32 = 1;
/// `kind` of [`sym::FP_TINY`]: fused multiply-add `a * b + c`.
pub const FP_TINY_FMA: u32 = 2;
/// `kind` of [`sym::FP_TINY`]: double to single conversion of `a`.
pub const FP_TINY_NARROW: u32 = 3;
/// Added to a `kind` when the operation is in single precision.
pub const FP_KIND_SINGLE: u32 = 0x100;
/// Added to an `FP_FZ_*` `kind` of [`sym::FP_TINY`]: instead of a tininess
/// fix-up, compute the operation under FPCR.FZ as Arm does (inputs
/// flushed with IDC, outputs flushed by tininess before rounding with UFC
/// alone, NaN rules, FPSR flags). `CpuState::fp_tmp` = [kind, a, b, c, -,
/// result], operands and result as raw bits of the format (a single in
/// the low 32 bits; FP_FZ_NARROW takes a double and gives a single).
pub const FP_KIND_FZ: u32 = 0x200;
/// FP_KIND_FZ operation: `a + b`.
pub const FP_FZ_ADD: u32 = 0;
/// FP_KIND_FZ operation: `a - b`.
pub const FP_FZ_SUB: u32 = 1;
/// FP_KIND_FZ operation: `a * b`.
pub const FP_FZ_MUL: u32 = 2;
/// FP_KIND_FZ operation: `a / b`.
pub const FP_FZ_DIV: u32 = 3;
/// FP_KIND_FZ operation: FMIN.
pub const FP_FZ_MIN: u32 = 4;
/// FP_KIND_FZ operation: FMAX.
pub const FP_FZ_MAX: u32 = 5;
/// FP_KIND_FZ operation: FMINNM.
pub const FP_FZ_MINNM: u32 = 6;
/// FP_KIND_FZ operation: FMAXNM.
pub const FP_FZ_MAXNM: u32 = 7;
/// FP_KIND_FZ operation: FMULX.
pub const FP_FZ_MULX: u32 = 8;
/// FP_KIND_FZ operation: FRECPS.
pub const FP_FZ_RECPS: u32 = 9;
/// FP_KIND_FZ operation: FRSQRTS.
pub const FP_FZ_RSQRTS: u32 = 10;
/// FP_KIND_FZ operation: square root of `a`.
pub const FP_FZ_SQRT: u32 = 11;
/// FP_KIND_FZ operation: `a * b + c`, fused.
pub const FP_FZ_FMA: u32 = 12;
/// FP_KIND_FZ operation: double `a` to single.
pub const FP_FZ_NARROW: u32 = 13;
/// `kind` of [`sym::FP_ESTIMATE`]: FRECPE.
pub const FP_EST_RECPE: u32 = 0;
/// `kind` of [`sym::FP_ESTIMATE`]: FRSQRTE.
pub const FP_EST_RSQRTE: u32 = 1;
/// `kind` of [`sym::FP_ESTIMATE`]: FRECPX.
pub const FP_EST_RECPX: u32 = 2;

/// Block size DC ZVA clears, as advertised in DCZID_EL0 (log2 words = 4).
pub const DCZ_BLOCK_BYTES: u64 = 64;
/// DCZID_EL0 value: BS = 4 (64 bytes), DZP = 0.
pub const DCZID_EL0: u64 = 4;
/// CTR_EL0 value: 64-byte lines, IDC/DIC set (no cache maintenance needed).
pub const CTR_EL0: u64 = 0x3003_4444 | (1 << 28) | (1 << 29);
/// MIDR_EL1 value we report (an Arm Neoverse-N1-like part).
pub const MIDR_EL1: u64 = 0x410f_d0c0;
/// CNTFRQ_EL0 value: the counter runs at 1 GHz (CNTVCT is nanoseconds).
pub const CNTFRQ_EL0: u64 = 1_000_000_000;

/// `AT_HWCAP` the runtime advertises to the guest: exactly the features the
/// translator implements and the differential fuzzer and fixtures check
/// against qemu-aarch64 (bit numbers from the arm64 `asm/hwcap.h`). Widen
/// it only together with the lifter. Not advertised: EVTSTRM, FPHP and
/// ASIMDHP (half-precision arithmetic), CPUID (ID register emulation),
/// FCMA, DCPOP, SM3/SM4, SVE, ASIMDFHM, PAC and the rest.
pub const HWCAP: u64 = hwcap::FP
    | hwcap::ASIMD
    | hwcap::AES
    | hwcap::PMULL
    | hwcap::SHA1
    | hwcap::SHA2
    | hwcap::CRC32
    | hwcap::ATOMICS
    | hwcap::ASIMDRDM
    | hwcap::JSCVT
    | hwcap::LRCPC
    | hwcap::SHA3
    | hwcap::ASIMDDP
    | hwcap::SHA512;

/// `AT_HWCAP` bits (arm64 `asm/hwcap.h`) of the features in [`HWCAP`].
pub mod hwcap {
    /// Scalar FP.
    pub const FP: u64 = 1 << 0;
    /// Advanced SIMD.
    pub const ASIMD: u64 = 1 << 1;
    /// AESE/AESD/AESMC/AESIMC.
    pub const AES: u64 = 1 << 3;
    /// PMULL/PMULL2 of 64-bit lanes.
    pub const PMULL: u64 = 1 << 4;
    /// SHA1 instructions.
    pub const SHA1: u64 = 1 << 5;
    /// SHA256 instructions.
    pub const SHA2: u64 = 1 << 6;
    /// CRC32/CRC32C.
    pub const CRC32: u64 = 1 << 7;
    /// LSE atomics (CAS, LDADD, SWP...).
    pub const ATOMICS: u64 = 1 << 8;
    /// SQRDMLAH/SQRDMLSH.
    pub const ASIMDRDM: u64 = 1 << 12;
    /// FJCVTZS.
    pub const JSCVT: u64 = 1 << 13;
    /// LDAPR.
    pub const LRCPC: u64 = 1 << 15;
    /// EOR3/BCAX/RAX1/XAR.
    pub const SHA3: u64 = 1 << 17;
    /// SDOT/UDOT.
    pub const ASIMDDP: u64 = 1 << 20;
    /// SHA512 instructions.
    pub const SHA512: u64 = 1 << 21;
}
/// `AT_HWCAP2` the runtime advertises to the guest (none yet).
pub const HWCAP2: u64 = 0;

/// Guest ELF constants the runtime and translator both need.
pub mod guest {
    /// Guest page size.
    pub const PAGE_SIZE: u64 = 4096;
    /// Where static-pie (ET_DYN) images are placed.
    pub const PIE_BASE: u64 = 0x0000_0040_0000_0000;
    /// Top of the guest stack mapping.
    pub const STACK_TOP: u64 = 0x0000_7ff0_0000_0000;
    /// Guest stack size.
    pub const STACK_SIZE: u64 = 8 << 20;
}
