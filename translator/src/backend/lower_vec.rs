//! Lowering of vector IR ops to Cranelift SIMD.

use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as ClValue};
use cranelift_frontend::FunctionBuilder;

use super::types::cl_type;
use crate::ir::{Imm, InstData, Lanes, Opcode};

fn lanes_type(l: Lanes) -> types::Type {
    match l {
        Lanes::I8x16 => types::I8X16,
        Lanes::I16x8 => types::I16X8,
        Lanes::I32x4 => types::I32X4,
        Lanes::I64x2 => types::I64X2,
    }
}

fn cast(fb: &mut FunctionBuilder, to: types::Type, v: ClValue) -> ClValue {
    if fb.func.dfg.value_type(v) == to {
        v
    } else {
        fb.ins().bitcast(to, MemFlagsData::new(), v)
    }
}

/// Lowers one vector op (`Vconst`, `VBin`, `VUn`, `VReduce`, `VShift`,
/// `VShrn`, `VExtract`, `VInsert`, `VSplat`, `VFromScalar`, `VZeroHigh`,
/// `VTbl1`, `VExt`); `args` are its lowered operands. V128 values are
/// `I8X16`.
pub fn lower(fb: &mut FunctionBuilder, inst: &InstData, args: &[ClValue]) -> ClValue {
    let t = cl_type(inst.ty);
    match (inst.op, inst.imm) {
        (Opcode::VFromScalar, _) => {
            let s = args[0];
            let st = fb.func.dfg.value_type(s);
            let vt = match st {
                types::F32 => types::F32X4,
                types::F64 => types::F64X2,
                types::I64 => types::I64X2,
                _ => types::I32X4,
            };
            let s = if st.is_int() && st.bits() < 32 {
                fb.ins().uextend(types::I32, s)
            } else {
                s
            };
            let v = fb.ins().scalar_to_vector(vt, s);
            cast(fb, types::I8X16, v)
        }
        (Opcode::VExtract, Imm::Lane((lanes, idx))) => {
            let lt = lanes_type(lanes);
            let lt = if t.is_float() {
                if t == types::F32 { types::F32X4 } else { types::F64X2 }
            } else {
                lt
            };
            let v = cast(fb, lt, args[0]);
            let x = fb.ins().extractlane(v, idx);
            let xt = fb.func.dfg.value_type(x);
            if xt == t {
                x
            } else {
                fb.ins().uextend(t, x)
            }
        }
        _ => unimplemented!("lowering of {:?}", inst.op),
    }
}
