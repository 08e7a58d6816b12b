//! FMA clones for x86-64-v2 output.
//!
//! x86-64-v2 has no fused multiply-add, so v2 code runs each guest FMA
//! (FMADD and the like, FMLA, FRECPS, FRSQRTS) through a stub that calls
//! the host's VFMADD, or through an emulation where the host lacks it
//! (`fp_fma`). v2 output therefore carries each function that uses FMA
//! ([`uses_fma`]) three times, as glibc carries `*_fma` variants of its
//! libm functions and picks them by IFUNC:
//! - `g_<name>_<pc>`, a [`trampoline`] under the function's own symbol,
//!   which every caller and the PC map use;
//! - `g_<name>_<pc>_v2`, the function for plain v2;
//! - `g_<name>_<pc>_fma`, the function for v2 plus AVX and FMA
//!   ([`super::CpuLevel::V2Fma`]), with FMA inline.
//!
//! The trampoline runs the clone when `CpuState::host_fma` is set (the
//! runtime sets it once, before any guest code, where CPUID reports FMA and
//! AVX usable) and the v2 function otherwise, passing the entry index on.
//! A clone calls the clones of other such functions directly. Both bodies
//! are in the fault map.

use cranelift_codegen::ir::{self, InstBuilder};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::FuncId;

use super::env::{func_ref, guest_sig};
use super::{fp_fma, isa};
use crate::ir::{FBinOp, Function, Imm, Opcode};

/// Whether `f` has fused multiply-adds, which v2 code cannot run inline.
pub fn uses_fma(f: &Function) -> bool {
    use FBinOp::{RecipStep, RsqrtStep};
    f.blocks.values().flat_map(|d| &d.insts).any(|i| {
        matches!(i.op, Opcode::Fma | Opcode::VFma)
            || matches!(
                i.imm,
                Imm::FBin(RecipStep | RsqrtStep) | Imm::VFBin((RecipStep | RsqrtStep, _))
            )
    })
}

/// Builds into `func` the trampoline that calls `fma` when the host has
/// FMA and `v2` otherwise, with the same `CpuState` and entry index.
pub fn trampoline(
    func: &mut ir::Function,
    fctx: &mut FunctionBuilderContext,
    v2: FuncId,
    fma: FuncId,
) {
    func.signature = guest_sig();
    let v2 = func_ref(func, v2, guest_sig());
    let fma = func_ref(func, fma, guest_sig());
    let mut fb = FunctionBuilder::new(func, fctx);
    let entry = fb.create_block();
    fb.append_block_params_for_function_params(entry);
    fb.switch_to_block(entry);
    let (cpu, idx) = (fb.block_params(entry)[0], fb.block_params(entry)[1]);
    let set = fp_fma::host_fma_set(&mut fb, cpu);
    let (with, without) = (fb.create_block(), fb.create_block());
    fb.ins().brif(set, with, &[], without, &[]);
    for (block, callee) in [(with, fma), (without, v2)] {
        fb.switch_to_block(block);
        let call = fb.ins().call(callee, &[cpu, idx]);
        let rets = fb.inst_results(call).to_vec();
        fb.ins().return_(&rets);
    }
    fb.seal_all_blocks();
    fb.finalize(isa::frontend_config());
}
