//! Compiling one guest region at run time: discover it from the missed PC
//! ([`vmxlate::elf::discover_region`]), lift it with the translator's
//! lifter, lower it with the translator's backend, compile it with
//! Cranelift, and place it in JIT memory with its relocations resolved
//! against this process's runtime and translated functions.
//!
//! Invariants: the code is exactly what the translator would emit for a
//! function entered at the PC (same lifter, lowering and target); direct
//! calls bind only to translations of function entries (entry index 0),
//! everything else goes through the dispatcher; nothing is registered
//! unless every relocation was resolved.

use std::sync::Arc;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{ExternalName, LibCall, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{DataId, FuncId};
use rustc_hash::{FxHashMap, FxHashSet};
use vmxlate::backend::env::{Env, Helper, HELPERS};
use vmxlate::backend::{lower::lower_function, trap_texts};
use vmxlate::elf::{discover_region, GuestImage};
use vmxlate::frontend::a64::{lift_function, table_loads};
use vmxlate::ir::Terminator;
use vmxlate_abi::Routine;

use super::memory::CodeMemory;
use crate::dispatch::{self, code_map::Target};

/// `DataId` of the one data object translated code refers to.
const DATA_TRAP_TEXT: u32 = 0;

/// What compiling one region produced.
pub struct Compiled {
    /// Every guest PC the code can be entered at, with its entry.
    pub entries: Vec<(u64, Target)>,
    /// Guest instructions lifted.
    pub insts: usize,
    /// Bytes of host code.
    pub code_bytes: usize,
}

/// A Cranelift compiler for guest regions, reused across compilations.
pub struct Compiler {
    isa: Arc<dyn TargetIsa>,
    ctx: Context,
    fctx: FunctionBuilderContext,
    strict_abi: bool,
}

impl Compiler {
    /// A compiler for the translator's default target.
    pub fn new(strict_abi: bool) -> Result<Compiler, String> {
        Ok(Compiler {
            isa: vmxlate::backend::isa::build(vmxlate::backend::CpuLevel::V2, false)?,
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            strict_abi,
        })
    }

    /// Compiles the region entered at `pc` into `mem`.
    pub fn compile(
        &mut self,
        image: &GuestImage,
        known: &FxHashSet<u64>,
        mem: &mut CodeMemory,
        pc: u64,
    ) -> Result<Compiled, String> {
        let code = discover_region(image, pc, known).ok_or("not code")?;
        let info = code.functions.get(&pc).ok_or("not code")?;
        let (mut func, stats) = lift_function(image, &code, &table_loads(&code), info);
        vmxlate::opt::share_dispatch(&mut func);

        // FuncIds: the helpers, the libc routines, then this function, then
        // direct callees.
        let helpers: [FuncId; HELPERS.len()] = std::array::from_fn(|i| FuncId::from_u32(i as u32));
        let routines: [FuncId; Routine::ALL.len()] =
            std::array::from_fn(|i| FuncId::from_u32((HELPERS.len() + i) as u32));
        let mut addrs: Vec<Option<usize>> = HELPERS
            .iter()
            .map(|h| Some(helper(*h)))
            .chain(Routine::ALL.iter().map(|r| Some(routine(*r))))
            .collect();
        let mut funcs: FxHashMap<u64, FuncId> = FxHashMap::default();
        funcs.insert(pc, FuncId::from_u32(addrs.len() as u32));
        addrs.push(None);
        for (_, b) in func.blocks.iter() {
            if let Terminator::Call { target, .. } | Terminator::TailCall { target } = b.term {
                if funcs.contains_key(&target) {
                    continue;
                }
                if let Some(t) = dispatch::lookup_code(target).filter(|t| t.entry == 0) {
                    funcs.insert(target, FuncId::from_u32(addrs.len() as u32));
                    addrs.push(Some(t.host_fn as usize));
                }
            }
        }
        let (text, trap_offsets) = trap_texts(std::slice::from_ref(&func));
        let env = Env {
            funcs: &funcs,
            helpers,
            routines,
            trap_text: DataId::from_u32(DATA_TRAP_TEXT),
            trap_offsets: &trap_offsets,
            strict_abi: self.strict_abi,
            // Unknown here: every direct `B` passes the flags on.
            aapcs_entries: &FxHashSet::default(),
            noreturn: &FxHashSet::default(),
            // Every function that calls checks at its entry.
            unchecked: &FxHashSet::default(),
            host_fma: false,
            // Code found at run time leaves guest prefetches out.
            prefetch: false,
        };
        self.ctx.clear();
        self.ctx.func.name = UserFuncName::user(0, funcs[&pc].as_u32());
        let entries = lower_function(&func, &env, &mut self.ctx.func, &mut self.fctx);
        self.ctx
            .compile(&*self.isa, &mut ControlPlane::default())
            .map_err(|e| format!("Cranelift: {:?}", e.inner))?;
        let compiled = self.ctx.compiled_code().ok_or("no code")?;
        let bytes = compiled.code_buffer();
        let relocs = compiled.buffer.relocs();

        // Layout: code, trap texts, then one GOT slot per GOT relocation.
        let text_off = bytes.len().next_multiple_of(16);
        let got_off = (text_off + text.len()).next_multiple_of(8);
        let got_len = 8 * relocs
            .iter()
            .filter(|r| r.kind == Reloc::X86GOTPCRel4)
            .count();
        let pages = mem.alloc(got_off + got_len)?;
        let base = pages.addr;
        // SAFETY: `pages` is fresh read-write memory of at least
        // got_off + got_len bytes, owned by this compilation.
        let out = unsafe { std::slice::from_raw_parts_mut(base as *mut u8, pages.len) };
        out[..bytes.len()].copy_from_slice(bytes);
        out[text_off..text_off + text.len()].copy_from_slice(&text);
        let mut got = got_off;
        let names = self.ctx.func.params.user_named_funcs();
        for r in relocs {
            let target = match &r.target {
                FinalizedRelocTarget::Func(off) => base + *off as usize,
                FinalizedRelocTarget::ExternalName(ExternalName::User(n)) => {
                    let name = &names[*n];
                    match (name.namespace, name.index) {
                        (0, i) => addrs
                            .get(i as usize)
                            .ok_or("relocation to an undeclared function")?
                            .unwrap_or(base),
                        (1, DATA_TRAP_TEXT) => base + text_off,
                        _ => return Err("relocation to an undeclared symbol".into()),
                    }
                }
                FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => libcall(*lc)?,
                other => return Err(format!("unsupported relocation target {other:?}")),
            };
            let at = r.offset as usize;
            let value = target.wrapping_add_signed(r.addend as isize);
            match r.kind {
                Reloc::Abs8 => out[at..at + 8].copy_from_slice(&(value as u64).to_le_bytes()),
                Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 => {
                    put_rel32(out, at, value, base + at)?
                }
                Reloc::X86GOTPCRel4 => {
                    out[got..got + 8].copy_from_slice(&(target as u64).to_le_bytes());
                    let slot = (base + got).wrapping_add_signed(r.addend as isize);
                    put_rel32(out, at, slot, base + at)?;
                    got += 8;
                }
                k => return Err(format!("unsupported relocation {k:?}")),
            }
        }
        mem.seal(&pages)?;
        // SAFETY: `base` is the start of the sealed code Cranelift compiled
        // with the guest signature.
        let host_fn = unsafe { core::mem::transmute::<usize, vmxlate_abi::GuestFn>(base) };
        Ok(Compiled {
            entries: entries
                .into_iter()
                .enumerate()
                .map(|(i, pc)| {
                    let entry = i as u32;
                    (pc, Target { host_fn, entry })
                })
                .collect(),
            insts: stats.insts,
            code_bytes: bytes.len(),
        })
    }
}

/// Writes the 32-bit displacement from `at` to `value`.
fn put_rel32(out: &mut [u8], off: usize, value: usize, at: usize) -> Result<(), String> {
    let d = i32::try_from((value as i64).wrapping_sub(at as i64))
        .map_err(|_| format!("relocation target {value:#x} out of reach of JIT code"))?;
    out[off..off + 4].copy_from_slice(&d.to_le_bytes());
    Ok(())
}

extern "C" {
    // The preserve-all trampolines of `crate::fpu` (global_asm).
    fn vmx_fp_tiny();
    fn vmx_fma();
    // The FMA stubs of `crate::fpu::host_fma` (global_asm).
    fn vmx_host_fma_f64(cpu: *mut vmxlate_abi::CpuState, a: f64, b: f64, c: f64);
    fn vmx_host_fma_f32();
    fn vmx_host_fma_f64x2();
    fn vmx_host_fma_f32x4();
}

/// The runtime's implementation of a helper.
fn helper(h: Helper) -> usize {
    use crate::fpu;
    match h {
        Helper::Syscall => crate::syscall::vmx_syscall as *const () as usize,
        Helper::Dispatch => crate::dispatch::vmx_dispatch as *const () as usize,
        Helper::Undefined => crate::helpers::vmx_undefined as *const () as usize,
        Helper::Brk => crate::helpers::vmx_brk as *const () as usize,
        Helper::Cntvct => crate::helpers::vmx_cntvct as *const () as usize,
        Helper::Safepoint => crate::signal::vmx_safepoint as *const () as usize,
        Helper::SetFpcr => fpu::vmx_set_fpcr as *const () as usize,
        Helper::GetFpsr => fpu::vmx_get_fpsr as *const () as usize,
        Helper::SetFpsr => fpu::vmx_set_fpsr as *const () as usize,
        Helper::FpTiny => vmx_fp_tiny as *const () as usize,
        Helper::Fma => vmx_fma as *const () as usize,
        Helper::F16ToF64 => fpu::vmx_f16_to_f64 as *const () as usize,
        Helper::F64ToF16 => fpu::vmx_f64_to_f16 as *const () as usize,
        Helper::FpEstimate => fpu::vmx_fp_estimate as *const () as usize,
        Helper::Fjcvtzs => fpu::vmx_fjcvtzs as *const () as usize,
        Helper::HostFmaF64 => vmx_host_fma_f64 as *const () as usize,
        Helper::HostFmaF32 => vmx_host_fma_f32 as *const () as usize,
        Helper::HostFmaF64x2 => vmx_host_fma_f64x2 as *const () as usize,
        Helper::HostFmaF32x4 => vmx_host_fma_f32x4 as *const () as usize,
    }
}

/// The runtime's implementation of a bound libc routine.
fn routine(r: Routine) -> usize {
    use crate::fpu::host_libm::*;
    use crate::string::*;
    use crate::string_cmp::{vmx_libc_memcmp, vmx_libc_strcmp};
    match r {
        Routine::Memmove => vmx_libc_memmove as *const () as usize,
        Routine::Memset => vmx_libc_memset as *const () as usize,
        Routine::Strlen => vmx_libc_strlen as *const () as usize,
        Routine::Strnlen => vmx_libc_strnlen as *const () as usize,
        Routine::Memchr => vmx_libc_memchr as *const () as usize,
        Routine::Rawmemchr => vmx_libc_rawmemchr as *const () as usize,
        Routine::Strchr => vmx_libc_strchr as *const () as usize,
        Routine::Strchrnul => vmx_libc_strchrnul as *const () as usize,
        Routine::Strrchr => vmx_libc_strrchr as *const () as usize,
        Routine::Strcpy => vmx_libc_strcpy as *const () as usize,
        Routine::Stpcpy => vmx_libc_stpcpy as *const () as usize,
        Routine::Strspn => vmx_libc_strspn as *const () as usize,
        Routine::Strcspn => vmx_libc_strcspn as *const () as usize,
        Routine::Strpbrk => vmx_libc_strpbrk as *const () as usize,
        Routine::Strcmp => vmx_libc_strcmp as *const () as usize,
        Routine::Memcmp => vmx_libc_memcmp as *const () as usize,
        Routine::Sin => vmx_libm_sin as *const () as usize,
        Routine::Cos => vmx_libm_cos as *const () as usize,
        Routine::Exp => vmx_libm_exp as *const () as usize,
        Routine::Log => vmx_libm_log as *const () as usize,
        Routine::Pow => vmx_libm_pow as *const () as usize,
        Routine::Sinf => vmx_libm_sinf as *const () as usize,
        Routine::Cosf => vmx_libm_cosf as *const () as usize,
        Routine::Expf => vmx_libm_expf as *const () as usize,
        Routine::Logf => vmx_libm_logf as *const () as usize,
        Routine::Powf => vmx_libm_powf as *const () as usize,
    }
}

extern "C" {
    fn ceil(x: f64) -> f64;
    fn ceilf(x: f32) -> f32;
    fn floor(x: f64) -> f64;
    fn floorf(x: f32) -> f32;
    fn trunc(x: f64) -> f64;
    fn truncf(x: f32) -> f32;
    fn nearbyint(x: f64) -> f64;
    fn nearbyintf(x: f32) -> f32;
    fn fma(a: f64, b: f64, c: f64) -> f64;
    fn fmaf(a: f32, b: f32, c: f32) -> f32;
}

/// The C library function behind a Cranelift libcall (the same symbols the
/// system linker binds for ahead-of-time code).
fn libcall(lc: LibCall) -> Result<usize, String> {
    Ok(match lc {
        LibCall::CeilF64 => ceil as *const () as usize,
        LibCall::CeilF32 => ceilf as *const () as usize,
        LibCall::FloorF64 => floor as *const () as usize,
        LibCall::FloorF32 => floorf as *const () as usize,
        LibCall::TruncF64 => trunc as *const () as usize,
        LibCall::TruncF32 => truncf as *const () as usize,
        LibCall::NearestF64 => nearbyint as *const () as usize,
        LibCall::NearestF32 => nearbyintf as *const () as usize,
        LibCall::FmaF64 => fma as *const () as usize,
        LibCall::FmaF32 => fmaf as *const () as usize,
        LibCall::Memcpy => libc::memcpy as *const () as usize,
        LibCall::Memset => libc::memset as *const () as usize,
        LibCall::Memmove => libc::memmove as *const () as usize,
        LibCall::Memcmp => libc::memcmp as *const () as usize,
        other => return Err(format!("unsupported libcall {other:?}")),
    })
}
