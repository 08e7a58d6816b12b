//! IR -> Cranelift -> object file.
//!
//! Functions are lowered and compiled in parallel (rayon), each worker with
//! its own Cranelift context; the machine code is then defined in one
//! `ObjectModule` serially, and `object.rs` adds the guest image, the PC map
//! and the image descriptor.
//! In x86-64-v2 output, functions that use fused multiply-add get FMA
//! clones (`fma_clone.rs`).

mod entry_check;
mod entry_loads;
pub mod env;
pub mod fma_clone;
pub mod fp_fma;
pub mod isa;
mod loop_promote;
mod loop_stores;
pub mod lower;
pub mod lower_fp;
pub mod lower_int;
pub mod lower_vec;
pub mod lower_vfp;
mod mem_live;
pub mod object;
mod prefetch;
pub mod state_flow;
#[cfg(test)]
mod test_cfg;
pub mod types;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module, ModuleReloc};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::elf::GuestImage;
use crate::ir::{Function, Terminator, TrapKind};
use env::{guest_sig, routine_sig, Env, HELPERS};
pub use isa::CpuLevel;
use vmxlate_abi::Routine;

/// Code-generation options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Target CPU level.
    pub cpu: CpuLevel,
    /// Assume nothing of callees beyond the architecture: keep NZCV and
    /// every register across calls, tail calls and returns.
    pub strict_abi: bool,
    /// Run the Cranelift verifier on every function.
    pub verify: bool,
    /// Link the run-time JIT (`vmx_jit_init` in `.init_array`), so code
    /// discovery missed is compiled when reached instead of being fatal.
    pub jit: bool,
}

/// What compilation produced.
pub struct Compiled {
    /// The relocatable object file.
    pub object: Vec<u8>,
    /// Bytes of host machine code.
    pub code_bytes: usize,
}

/// One function body to compile.
struct Job<'f> {
    f: &'f Function,
    /// The body's own symbol.
    id: FuncId,
    /// An FMA clone (compiled for [`CpuLevel::V2Fma`]), not in the PC map.
    clone: bool,
    /// The symbol callers and the PC map use: `id`, or the trampoline of a
    /// function with FMA clones.
    public: FuncId,
}

struct Machine {
    id: FuncId,
    /// The PC-map rows of a body callers reach through `public`: its entry
    /// addresses in entry-index order; none for an FMA clone.
    entries: Option<(FuncId, Vec<u64>)>,
    bytes: Vec<u8>,
    align: u64,
    relocs: Vec<ModuleReloc>,
    faults: Vec<(u32, u64)>,
}

/// The function's fault ranges from its source locations: `(offset in the
/// function, guest PC)` where a memory access's code starts, and
/// `(offset, 0)` where code of no memory access resumes.
fn fault_ranges(f: &Function, code: &cranelift_codegen::CompiledCode) -> Vec<(u32, u64)> {
    let mut out: Vec<(u32, u64)> = Vec::new();
    for loc in code.buffer.get_srclocs_sorted() {
        let Some(pc) = lower::srcloc_pc(f.entry_pc, loc.loc) else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.0 == loc.start && last.1 == 0 => *last = (loc.start, pc),
            _ => out.push((loc.start, pc)),
        }
        out.push((loc.end, 0));
    }
    out
}

fn symbol_name(f: &Function) -> String {
    let clean: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("g_{}_{:x}", clean, f.entry_pc)
}

/// The disassembly of every untranslatable instruction in `funcs`, as one
/// blob of NUL-terminated strings (ending with an empty one), and each
/// string's offset by guest PC (the `trap_text` data of [`Env`]).
pub fn trap_texts(funcs: &[Function]) -> (Vec<u8>, FxHashMap<u64, u32>) {
    let mut text = Vec::new();
    let mut trap_offsets = FxHashMap::default();
    for f in funcs {
        for (_, b) in f.blocks.iter() {
            if let Terminator::Trap {
                pc,
                kind: TrapKind::Undefined(t),
                ..
            } = &b.term
            {
                trap_offsets.entry(*pc).or_insert_with(|| {
                    let off = text.len() as u32;
                    text.extend_from_slice(t.as_bytes());
                    text.push(0);
                    off
                });
            }
        }
    }
    text.push(0);
    (text, trap_offsets)
}

/// Compiles lifted functions and the guest image into one object file.
pub fn compile(image: &GuestImage, funcs: &[Function], opts: Options) -> Result<Compiled, String> {
    let isa = isa::build(opts.cpu, opts.verify)?;
    let clone_isa = match opts.cpu {
        CpuLevel::V2 => Some(isa::build(CpuLevel::V2Fma, opts.verify)?),
        _ => None,
    };
    let builder = ObjectBuilder::new(isa.clone(), "vmxlate", default_libcall_names())
        .map_err(|e| e.to_string())?;
    let mut module = ObjectModule::new(builder);
    let err = |e: cranelift_module::ModuleError| e.to_string();

    // `ids`: what callers and the PC map use (for a function with FMA
    // clones, its trampoline); `clone_ids`: what FMA clones call.
    let mut ids: FxHashMap<u64, FuncId> = FxHashMap::default();
    let mut clone_ids: FxHashMap<u64, FuncId> = FxHashMap::default();
    let mut jobs = Vec::with_capacity(funcs.len());
    let mut trampolines = Vec::new();
    let mut declare = |name: &str| {
        module
            .declare_function(name, Linkage::Local, &guest_sig())
            .map_err(err)
    };
    for f in funcs {
        let public = declare(&symbol_name(f))?;
        ids.insert(f.entry_pc, public);
        let job = |id, clone| Job {
            f,
            id,
            clone,
            public,
        };
        if clone_isa.is_some() && fma_clone::uses_fma(f) {
            let v2 = declare(&format!("{}_v2", symbol_name(f)))?;
            let fma = declare(&format!("{}_fma", symbol_name(f)))?;
            jobs.push(job(v2, false));
            jobs.push(job(fma, true));
            trampolines.push((public, v2, fma));
            clone_ids.insert(f.entry_pc, fma);
        } else {
            jobs.push(job(public, false));
            clone_ids.insert(f.entry_pc, public);
        }
    }
    let mut helpers = [FuncId::from_u32(0); HELPERS.len()];
    for (slot, h) in helpers.iter_mut().zip(HELPERS) {
        let (name, sig) = h.decl();
        *slot = module
            .declare_function(name, Linkage::Import, &sig)
            .map_err(err)?;
    }
    let mut routines = [FuncId::from_u32(0); Routine::ALL.len()];
    for (slot, r) in routines.iter_mut().zip(Routine::ALL) {
        *slot = module
            .declare_function(r.symbol(), Linkage::Import, &routine_sig())
            .map_err(err)?;
    }

    let (text, trap_offsets) = trap_texts(funcs);
    let trap_text = module
        .declare_data("vmx_trap_text", Linkage::Local, false, false)
        .map_err(err)?;
    let mut desc = cranelift_module::DataDescription::new();
    desc.define(text.into_boxed_slice());
    module.define_data(trap_text, &desc).map_err(err)?;

    let aapcs_entries = funcs
        .iter()
        .filter(|f| f.aapcs_entry)
        .map(|f| f.entry_pc)
        .collect();
    let noreturn = env::noreturn_entries(funcs);
    let unchecked = entry_check::unchecked_entries(funcs);
    let env = Env {
        funcs: &ids,
        helpers,
        routines,
        trap_text,
        trap_offsets: &trap_offsets,
        strict_abi: opts.strict_abi,
        aapcs_entries: &aapcs_entries,
        noreturn: &noreturn,
        unchecked: &unchecked,
        host_fma: opts.cpu != CpuLevel::V2,
        prefetch: true,
    };
    let clone_env = Env {
        funcs: &clone_ids,
        host_fma: true,
        ..env
    };
    let machines: Vec<Result<Machine, String>> = jobs
        .par_iter()
        .map_init(
            || (Context::new(), FunctionBuilderContext::new()),
            |(ctx, fctx), job| {
                let (f, id) = (job.f, job.id);
                let (env, isa) = match (job.clone, &clone_isa) {
                    (true, Some(c)) => (&clone_env, c),
                    _ => (&env, &isa),
                };
                let mut compile = |env: &Env| {
                    ctx.clear();
                    ctx.func.name = UserFuncName::user(0, id.as_u32());
                    let entries = lower::lower_function(f, env, &mut ctx.func, fctx);
                    ctx.compile(&**isa, &mut ControlPlane::default())
                        .map_err(|e| {
                            format!("compiling {} ({:#x}): {:?}", f.name, f.entry_pc, e.inner)
                        })?;
                    let code = ctx
                        .compiled_code()
                        .ok_or_else(|| format!("no code for {}", f.name))?;
                    let mut bytes = code.code_buffer().to_vec();
                    let patched = prefetch::patch(code, &mut bytes);
                    Ok::<_, String>((entries, bytes, patched))
                };
                let (mut entries, mut bytes, patched) = compile(env)?;
                if !patched {
                    // A prefetch Cranelift emitted other than as one plain
                    // load: compile the function again without them.
                    (entries, bytes, _) = compile(&Env {
                        prefetch: false,
                        ..*env
                    })?;
                }
                let code = ctx.compiled_code().expect("compiled above");
                let align = code.buffer.alignment as u64;
                let relocs = code
                    .buffer
                    .relocs()
                    .iter()
                    .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
                    .collect();
                let faults = fault_ranges(f, code);
                Ok(Machine {
                    id,
                    entries: (!job.clone).then_some((job.public, entries)),
                    bytes,
                    align,
                    relocs,
                    faults,
                })
            },
        )
        .collect();
    let mut code_bytes = 0;
    let mut faults = Vec::with_capacity(jobs.len());
    let mut pc_rows = Vec::with_capacity(funcs.len());
    let mut ctx = Context::new();
    let mut fctx = FunctionBuilderContext::new();
    for (id, v2, fma) in trampolines {
        ctx.clear();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        fma_clone::trampoline(&mut ctx.func, &mut fctx, v2, fma);
        module.define_function(id, &mut ctx).map_err(err)?;
        code_bytes += ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
    }
    for m in machines {
        let m = m?;
        code_bytes += m.bytes.len();
        faults.push((m.id, m.faults));
        pc_rows.extend(m.entries);
        module
            .define_function_bytes(m.id, m.align, &m.bytes, &m.relocs)
            .map_err(err)?;
    }
    let product = module.finish();
    let object = object::finish(product, image, &pc_rows, &faults, opts)?;
    Ok(Compiled { object, code_bytes })
}
