//! What lowering needs from the module: declared functions, helpers and
//! data, gathered before the parallel phase so each worker only reads it.
//!
//! Invariant: every `FuncId`/`DataId` here was declared in the module that
//! receives the compiled bytes; references are created with the same
//! (namespace, index) scheme cranelift-module uses.

use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, FuncRef, GlobalValue, GlobalValueData, Signature,
    UserExternalName,
};
use cranelift_codegen::isa::CallConv;
use cranelift_module::{DataId, FuncId};
use rustc_hash::{FxHashMap, FxHashSet};
use vmxlate_abi::Routine;

/// Runtime helper functions translated code calls; the discriminant
/// indexes [`HELPERS`] and the `FuncId` table in [`Env`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Helper {
    /// `vmx_syscall(cpu)`.
    Syscall,
    /// `vmx_dispatch(cpu)`.
    Dispatch,
    /// `vmx_undefined(cpu, pc, word, disasm)`.
    Undefined,
    /// `vmx_brk(cpu, pc, imm)`.
    Brk,
    /// `vmx_cntvct() -> u64`.
    Cntvct,
    /// `vmx_safepoint(cpu) -> (cpu, pc)`.
    Safepoint,
    /// `vmx_set_fpcr(cpu, v)`.
    SetFpcr,
    /// `vmx_get_fpsr(cpu) -> u64`.
    GetFpsr,
    /// `vmx_set_fpsr(cpu, v)`.
    SetFpsr,
    /// `vmx_fp_tiny(cpu)`, preserve-all; arguments and result in
    /// `CpuState::fp_tmp`.
    FpTiny,
    /// `vmx_fma(cpu)`, preserve-all; arguments and result in
    /// `CpuState::fp_tmp`.
    Fma,
    /// `vmx_f16_to_f64(cpu, h) -> f64`.
    F16ToF64,
    /// `vmx_f64_to_f16(cpu, x) -> u32`.
    F64ToF16,
    /// `vmx_fp_estimate(cpu, kind, bits) -> u64`.
    FpEstimate,
    /// `vmx_fjcvtzs(cpu, bits) -> u64`.
    Fjcvtzs,
    /// The host's fused multiply-add, preserve-all, `(cpu, a: f64, b: f64,
    /// c: f64)` with the result at `FMA_RESULT` in `CpuState`; only called
    /// when `CpuState::host_fma` is set.
    HostFmaF64,
    /// As [`Helper::HostFmaF64`] for `f32`.
    HostFmaF32,
    /// As [`Helper::HostFmaF64`] for `f64x2`.
    HostFmaF64x2,
    /// As [`Helper::HostFmaF64`] for `f32x4`.
    HostFmaF32x4,
}

/// Every helper, in discriminant order.
pub const HELPERS: [Helper; 19] = [
    Helper::Syscall,
    Helper::Dispatch,
    Helper::Undefined,
    Helper::Brk,
    Helper::Cntvct,
    Helper::Safepoint,
    Helper::SetFpcr,
    Helper::GetFpsr,
    Helper::SetFpsr,
    Helper::FpTiny,
    Helper::Fma,
    Helper::F16ToF64,
    Helper::F64ToF16,
    Helper::FpEstimate,
    Helper::Fjcvtzs,
    Helper::HostFmaF64,
    Helper::HostFmaF32,
    Helper::HostFmaF64x2,
    Helper::HostFmaF32x4,
];

impl Helper {
    /// The runtime symbol and its signature.
    pub fn decl(self) -> (&'static str, Signature) {
        use ir::types::{F32, F32X4, F64, F64X2, I32, I64};
        let preserve_all = |t: ir::Type| {
            let mut s = sig(&[I64, t, t, t], &[]);
            s.call_conv = CallConv::PreserveAll;
            s
        };
        use vmxlate_abi::sym;
        match self {
            Helper::Syscall => (sym::SYSCALL, sig(&[I64], &[])),
            Helper::Dispatch => (sym::DISPATCH, sig(&[I64], &[I64, I64])),
            Helper::Undefined => (sym::UNDEFINED, sig(&[I64, I64, I32, I64], &[])),
            Helper::Brk => (sym::BRK, sig(&[I64, I64, I32], &[])),
            Helper::Cntvct => (sym::CNTVCT, sig(&[], &[I64])),
            Helper::Safepoint => (sym::SAFEPOINT, sig(&[I64], &[I64, I64])),
            Helper::SetFpcr => (sym::SET_FPCR, sig(&[I64, I64], &[])),
            Helper::GetFpsr => (sym::GET_FPSR, sig(&[I64], &[I64])),
            Helper::SetFpsr => (sym::SET_FPSR, sig(&[I64, I64], &[])),
            Helper::FpTiny => {
                let mut s = sig(&[I64], &[]);
                s.call_conv = CallConv::PreserveAll;
                (sym::FP_TINY, s)
            }
            Helper::Fma => {
                let mut s = sig(&[I64], &[]);
                s.call_conv = CallConv::PreserveAll;
                (sym::FMA, s)
            }
            Helper::F16ToF64 => (sym::F16_TO_F64, sig(&[I64, I32], &[F64])),
            Helper::F64ToF16 => (sym::F64_TO_F16, sig(&[I64, F64], &[I32])),
            Helper::FpEstimate => (sym::FP_ESTIMATE, sig(&[I64, I32, I64], &[I64])),
            Helper::Fjcvtzs => (sym::FJCVTZS, sig(&[I64, I64], &[I64])),
            Helper::HostFmaF64 => (sym::FMA_F64, preserve_all(F64)),
            Helper::HostFmaF32 => (sym::FMA_F32, preserve_all(F32)),
            Helper::HostFmaF64x2 => (sym::FMA_F64X2, preserve_all(F64X2)),
            Helper::HostFmaF32x4 => (sym::FMA_F32X4, preserve_all(F32X4)),
        }
    }
}

/// Read-only context for lowering any function of the program.
pub struct Env<'a> {
    /// Translated guest functions by entry address.
    pub funcs: &'a FxHashMap<u64, FuncId>,
    /// Runtime helpers, indexed by [`Helper`].
    pub helpers: [FuncId; HELPERS.len()],
    /// Host implementations of bound libc routines, indexed by
    /// `Routine as usize`.
    pub routines: [FuncId; Routine::ALL.len()],
    /// All trap disassembly strings, NUL-terminated.
    pub trap_text: DataId,
    /// Offset of each trap's string in `trap_text`, by guest PC.
    pub trap_offsets: &'a FxHashMap<u64, u32>,
    /// Assume nothing of callees beyond the architecture (for hand-written
    /// assembly that breaks AAPCS64): keep NZCV across calls and returns.
    pub strict_abi: bool,
    /// Entries of functions only AAPCS64 calls reach
    /// ([`crate::ir::Function::aapcs_entry`]).
    pub aapcs_entries: &'a FxHashSet<u64>,
    /// Entries of functions that never return to their caller (no return,
    /// tail call or indirect jump: `abort`, `exit`), see [`noreturn_entries`].
    pub noreturn: &'a FxHashSet<u64>,
    /// Entries of functions that call but skip the check at their entry
    /// ([`super::entry_check::unchecked_entries`]).
    pub unchecked: &'a FxHashSet<u64>,
    /// The target CPU level has fused multiply-add (x86-64-v3, or an FMA
    /// clone), so lowering emits it inline; else it tests
    /// `CpuState::host_fma` at run time.
    pub host_fma: bool,
    /// Guest prefetches become host ones (the caller then runs
    /// [`super::prefetch::patch`] on the code); else they are left out.
    pub prefetch: bool,
}

/// Entries of the functions in `funcs` that cannot return to their caller:
/// none of their blocks returns, tail-calls or jumps indirectly.
pub fn noreturn_entries(funcs: &[crate::ir::Function]) -> FxHashSet<u64> {
    use crate::ir::Terminator;
    funcs
        .iter()
        .filter(|f| {
            f.blocks.values().all(|d| {
                !matches!(
                    d.term,
                    Terminator::Return { .. }
                        | Terminator::TailCall { .. }
                        | Terminator::JumpIndirect { .. }
                )
            })
        })
        .map(|f| f.entry_pc)
        .collect()
}

/// The signature of every translated function: `(cpu: i64, entry: i32)
/// -> (cpu, pc)` ([`vmxlate_abi::GuestFn`]).
pub fn guest_sig() -> Signature {
    use ir::types::{I32, I64};
    sig(&[I64, I32], &[I64, I64])
}

/// The signature of every bound libc routine: guest x0..x2 in, x0 out.
pub fn routine_sig() -> Signature {
    use ir::types::I64;
    sig(&[I64, I64, I64], &[I64])
}

/// A System V signature from parameter and return types.
pub fn sig(params: &[ir::Type], rets: &[ir::Type]) -> Signature {
    let mut s = Signature::new(CallConv::SystemV);
    s.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    s.returns.extend(rets.iter().map(|t| AbiParam::new(*t)));
    s
}

/// References `id` (with signature `sig`) from `func`.
pub fn func_ref(func: &mut ir::Function, id: FuncId, sig: Signature) -> FuncRef {
    let signature = func.import_signature(sig);
    let name = func.declare_imported_user_function(UserExternalName {
        namespace: 0,
        index: id.as_u32(),
    });
    func.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: true,
        patchable: false,
    })
}

/// References data object `id` from `func`.
pub fn data_ref(func: &mut ir::Function, id: DataId) -> GlobalValue {
    let name = func.declare_imported_user_function(UserExternalName {
        namespace: 1,
        index: id.as_u32(),
    });
    func.create_global_value(GlobalValueData::Symbol {
        name: ExternalName::user(name),
        offset: ir::immediates::Imm64::new(0),
        colocated: true,
        tls: false,
    })
}
