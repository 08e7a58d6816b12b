//! A tiny JIT for tests: compiles a Cranelift function with the project's
//! ISA settings, maps it executable and hands out its address; and an
//! [`FpHost`] whose helpers are test stubs.

use crate::backend::env::Helper;
use crate::ir::{Imm, InstData, Opcode, Type, Value};

use super::FpHost;
use cranelift_codegen::ir::{types, InstBuilder, Value as ClValue};
use std::sync::atomic::{AtomicUsize, Ordering};
use vmxlate_abi::CpuState;

/// A marker `stub_tiny` ORs into `CpuState::fpsr`.
pub const TINY_CALLED: u32 = 1 << 31;

extern "C" fn stub_tiny(cpu: *mut CpuState) {
    // SAFETY: tests pass a valid CpuState.
    unsafe {
        (*cpu).fpsr |= TINY_CALLED;
        (*cpu).fp_tmp[5] = (*cpu).fp_tmp[4];
    }
}

extern "C" fn stub_fma(cpu: *mut CpuState) {
    // SAFETY: tests pass a valid CpuState.
    let t = unsafe { &mut (*cpu).fp_tmp };
    let (a, b, c) = (
        f64::from_bits(t[1]),
        f64::from_bits(t[2]),
        f64::from_bits(t[3]),
    );
    let r = if t[0] != 0 {
        f64::from((a as f32).mul_add(b as f32, c as f32))
    } else {
        a.mul_add(b, c)
    };
    t[5] = r.to_bits();
}

/// Calls of the host-FMA test stubs (only tests that set
/// `CpuState::host_fma` reach them).
pub static HOST_FMA_CALLS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn stub_host_fma_f64(cpu: *mut CpuState, a: f64, b: f64, c: f64) {
    HOST_FMA_CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: tests pass a valid CpuState.
    unsafe { (*cpu).fp_tmp[4] = a.mul_add(b, c).to_bits() };
}

extern "C" fn stub_host_fma_f32(cpu: *mut CpuState, a: f32, b: f32, c: f32) {
    HOST_FMA_CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: tests pass a valid CpuState.
    unsafe { (*cpu).fp_tmp[4] = u64::from(a.mul_add(b, c).to_bits()) };
}

/// An [`FpHost`] for JIT tests: the `CpuState` pointer is a function
/// argument and helpers are test stubs called by address.
pub struct TestHost {
    /// The `CpuState` pointer.
    pub cpu: ClValue,
}

impl FpHost for TestHost {
    fn cpu(&self) -> ClValue {
        self.cpu
    }

    fn has_fma(&self) -> bool {
        false
    }

    fn call(
        &mut self,
        fb: &mut cranelift_frontend::FunctionBuilder,
        h: Helper,
        args: &[ClValue],
    ) -> Option<ClValue> {
        let addr = match h {
            Helper::FpTiny => stub_tiny as *const u8,
            Helper::Fma => stub_fma as *const u8,
            Helper::HostFmaF64 => stub_host_fma_f64 as *const u8,
            Helper::HostFmaF32 => stub_host_fma_f32 as *const u8,
            _ => panic!("no test stub for {h:?}"),
        };
        // The stubs are plain C functions, whatever the helper's
        // convention.
        let mut sig = h.decl().1;
        sig.call_conv = cranelift_codegen::isa::CallConv::SystemV;
        let sig = fb.import_signature(sig);
        let callee = fb.ins().iconst(types::I64, addr as i64);
        let call = fb.ins().call_indirect(sig, callee, args);
        fb.inst_results(call).first().copied()
    }
}

/// An instruction with no operands wired, for lowering tests.
pub fn inst(op: Opcode, ty: Type, imm: Imm) -> InstData {
    InstData {
        op,
        ty,
        args: [Value::from_u32(0); 3],
        imm,
        result: None,
        pc: 0,
    }
}

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{AbiParam, Function, Signature, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::backend::isa::{build, CpuLevel};

extern "C" {
    fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
}

/// Builds `fn(params) -> rets` with `body` (which must end the block
/// with a return) and returns its entry address. The code is leaked.
pub fn compile(
    params: &[cranelift_codegen::ir::Type],
    rets: &[cranelift_codegen::ir::Type],
    body: impl FnOnce(&mut FunctionBuilder, &[cranelift_codegen::ir::Value]),
) -> *const u8 {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns.extend(rets.iter().map(|t| AbiParam::new(*t)));
    let mut func = Function::with_name_signature(UserFuncName::testcase("t"), sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut fb = FunctionBuilder::new(&mut func, &mut fctx);
        let block = fb.create_block();
        fb.append_block_params_for_function_params(block);
        fb.switch_to_block(block);
        fb.seal_block(block);
        let args = fb.block_params(block).to_vec();
        body(&mut fb, &args);
        fb.seal_all_blocks();
        fb.finalize(crate::backend::isa::frontend_config());
    }
    let isa = build(CpuLevel::V2, true).expect("isa");
    let mut ctx = Context::for_function(func);
    let code = ctx
        .compile(&*isa, &mut ControlPlane::default())
        .expect("compiles");
    let bytes = code.code_buffer().to_vec();
    assert!(code.buffer.relocs().is_empty(), "code needs relocations");
    // SAFETY: a fresh private anonymous RWX mapping, filled once.
    unsafe {
        let p = mmap(std::ptr::null_mut(), bytes.len().max(1), 7, 0x22, -1, 0);
        assert!(p as isize != -1, "mmap");
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        p
    }
}
