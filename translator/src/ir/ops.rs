//! The op table: the single list of IR operations.
//!
//! `define_ops!` turns each row into an `Opcode` variant, its text name, its
//! arity, its immediate kind, whether it produces a value, its effect class
//! and a builder method on [`Builder`]. The printer and the verifier read the
//! generated properties, so a property lives in exactly one place: the row.

use super::function::{Builder, Imm, ImmKind};
use super::types::*;
use super::Value;

/// What an op may touch besides its operands, for passes and the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A pure function of its operands.
    Pure,
    /// Reads guest state (registers, flags, system registers).
    ReadState,
    /// Writes guest state.
    WriteState,
    /// Reads guest memory.
    ReadMem,
    /// Writes guest memory or orders memory accesses.
    WriteMem,
}

macro_rules! define_ops {
    ($(
        $(#[$doc:meta])*
        $name:ident $text:literal fn $builder:ident ( $($arg:ident),* ) imm $kind:ident $( ( $immty:ty ) )? => $res:ident, $eff:ident;
    )*) => {
        /// Every IR operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Opcode {
            $( $(#[$doc])* $name, )*
        }

        impl Opcode {
            /// Text name used by the printer.
            pub fn name(self) -> &'static str {
                match self { $( Opcode::$name => $text, )* }
            }

            /// Number of value operands.
            pub fn arity(self) -> usize {
                match self { $( Opcode::$name => <[&str]>::len(&[$(stringify!($arg)),*]), )* }
            }

            /// Which immediate payload the op carries.
            pub fn imm_kind(self) -> ImmKind {
                match self { $( Opcode::$name => ImmKind::$kind, )* }
            }

            /// Whether the op defines a value.
            pub fn has_result(self) -> bool {
                match self { $( Opcode::$name => define_ops!(@has $res), )* }
            }

            /// The op's effect class.
            pub fn effect(self) -> Effect {
                match self { $( Opcode::$name => Effect::$eff, )* }
            }
        }

        impl Builder<'_> {
            $( define_ops!(@builder $res $builder $name ($($arg),*) $kind $( ($immty) )?); )*
        }
    };
    (@has value) => { true };
    (@has none) => { false };
    (@builder value $builder:ident $name:ident ($($arg:ident),*) $kind:ident ($immty:ty)) => {
        #[doc = concat!("Appends `", stringify!($name), "`.")]
        pub fn $builder(&mut self, ty: Type, $($arg: Value,)* imm: $immty) -> Value {
            self.push_value(Opcode::$name, ty, &[$($arg),*], Imm::$kind(imm))
        }
    };
    (@builder value $builder:ident $name:ident ($($arg:ident),*) $kind:ident) => {
        #[doc = concat!("Appends `", stringify!($name), "`.")]
        pub fn $builder(&mut self, ty: Type, $($arg: Value),*) -> Value {
            self.push_value(Opcode::$name, ty, &[$($arg),*], Imm::$kind)
        }
    };
    (@builder none $builder:ident $name:ident ($($arg:ident),*) $kind:ident ($immty:ty)) => {
        #[doc = concat!("Appends `", stringify!($name), "`.")]
        pub fn $builder(&mut self, $($arg: Value,)* imm: $immty) {
            self.push_effect(Opcode::$name, &[$($arg),*], Imm::$kind(imm))
        }
    };
    (@builder none $builder:ident $name:ident ($($arg:ident),*) $kind:ident) => {
        #[doc = concat!("Appends `", stringify!($name), "`.")]
        pub fn $builder(&mut self, $($arg: Value),*) {
            self.push_effect(Opcode::$name, &[$($arg),*], Imm::$kind)
        }
    };
}

define_ops! {
    // ---- guest state ----
    /// Read general register 0..=31 (31 is SP).
    GetReg "get_reg" fn get_reg() imm Reg(u8) => value, ReadState;
    /// Write general register 0..=31 (31 is SP).
    SetReg "set_reg" fn set_reg(v) imm Reg(u8) => none, WriteState;
    /// Read one condition flag (0 or 1).
    GetFlag "get_flag" fn get_flag() imm Flag(Flag) => value, ReadState;
    /// Write one condition flag (0 or 1).
    SetFlag "set_flag" fn set_flag(v) imm Flag(Flag) => none, WriteState;
    /// Read SIMD&FP register V0..V31.
    GetV "get_v" fn get_v() imm Reg(u8) => value, ReadState;
    /// Write SIMD&FP register V0..V31 (all 128 bits).
    SetV "set_v" fn set_v(v) imm Reg(u8) => none, WriteState;
    /// Read a system register.
    GetSys "get_sys" fn get_sys() imm Sys(SysReg) => value, ReadState;
    /// Write a system register.
    SetSys "set_sys" fn set_sys(v) imm Sys(SysReg) => none, WriteState;
    /// A sync point: every register is in `CpuState` here, so what is live
    /// after it is loaded here rather than carried in from before (the
    /// guest code a declining libm routine falls back to).
    Resync "resync" fn resync() imm None => none, WriteState;

    // ---- constants and integer arithmetic ----
    /// Integer constant (truncated to the type).
    Iconst "iconst" fn iconst() imm U64(u64) => value, Pure;
    /// 128-bit vector constant.
    Vconst "vconst" fn vconst() imm U128(u128) => value, Pure;
    /// Wrapping add.
    Add "add" fn add(a, b) imm None => value, Pure;
    /// Wrapping subtract.
    Sub "sub" fn sub(a, b) imm None => value, Pure;
    /// Wrapping multiply.
    Mul "mul" fn mul(a, b) imm None => value, Pure;
    /// High half of the unsigned product.
    UMulHi "umulhi" fn umulhi(a, b) imm None => value, Pure;
    /// High half of the signed product.
    SMulHi "smulhi" fn smulhi(a, b) imm None => value, Pure;
    /// Unsigned divide; x / 0 = 0.
    UDiv "udiv" fn udiv(a, b) imm None => value, Pure;
    /// Signed divide; x / 0 = 0 and MIN / -1 = MIN.
    SDiv "sdiv" fn sdiv(a, b) imm None => value, Pure;
    /// Bitwise and.
    And "and" fn and(a, b) imm None => value, Pure;
    /// Bitwise or.
    Or "or" fn or(a, b) imm None => value, Pure;
    /// Bitwise xor.
    Xor "xor" fn xor(a, b) imm None => value, Pure;
    /// Shift left; the amount is taken modulo the width.
    Shl "shl" fn shl(a, b) imm None => value, Pure;
    /// Logical shift right; the amount is taken modulo the width.
    Lshr "lshr" fn lshr(a, b) imm None => value, Pure;
    /// Arithmetic shift right; the amount is taken modulo the width.
    Ashr "ashr" fn ashr(a, b) imm None => value, Pure;
    /// Rotate right; the amount is taken modulo the width.
    Rotr "rotr" fn rotr(a, b) imm None => value, Pure;
    /// Bitwise not.
    Not "not" fn not(a) imm None => value, Pure;
    /// Two's complement negate.
    Neg "neg" fn neg(a) imm None => value, Pure;
    /// Count leading zeros.
    Clz "clz" fn clz(a) imm None => value, Pure;
    /// Count leading sign bits (excluding the sign bit).
    Cls "cls" fn cls(a) imm None => value, Pure;
    /// Reverse bit order.
    Bitrev "bitrev" fn bitrev(a) imm None => value, Pure;
    /// Reverse byte order.
    Bswap "bswap" fn bswap(a) imm None => value, Pure;
    /// Integer compare, result 0 or 1 (i8).
    Icmp "icmp" fn icmp(a, b) imm IntCC(IntCC) => value, Pure;
    /// `c != 0 ? a : b`.
    Select "select" fn select(c, a, b) imm None => value, Pure;
    /// Zero-extend to the result type.
    Uext "uext" fn uext(a) imm None => value, Pure;
    /// Sign-extend to the result type.
    Sext "sext" fn sext(a) imm None => value, Pure;
    /// Truncate to the result type.
    Trunc "trunc" fn trunc(a) imm None => value, Pure;
    /// Reinterpret bits as the result type (same width).
    Bitcast "bitcast" fn bitcast(a) imm None => value, Pure;

    // ---- memory ----
    /// Load `bytes` from the address, extended to the result type.
    Load "load" fn load(addr) imm Mem(MemAccess) => value, ReadMem;
    /// Store the low `bytes` of the value.
    Store "store" fn store(addr, v) imm Mem(MemAccess) => none, WriteMem;
    /// Full memory barrier.
    Fence "fence" fn fence() imm None => none, WriteMem;
    /// Compare-and-swap; yields the old value.
    Cas "cas" fn cas(addr, expected, new) imm Mem(MemAccess) => value, WriteMem;
    /// Atomic read-modify-write; yields the old value.
    AtomicRmw "atomic_rmw" fn atomic_rmw(addr, v) imm Rmw((RmwOp, MemAccess)) => value, WriteMem;
    /// A hint that the address will be accessed soon: fetch its cache line
    /// into the cache level `imm` (1 to 3), or close to the core without
    /// polluting the caches (0, streaming). Never faults.
    Prefetch "prefetch" fn prefetch(addr) imm U64(u64) => none, ReadMem;
    /// DC ZVA: zero the 64-byte block containing the address.
    DcZva "dc_zva" fn dc_zva(addr) imm None => none, WriteMem;

    // ---- scalar floating point ----
    /// Binary FP arithmetic with Arm NaN and signed-zero rules.
    FBin "fbin" fn fbin(a, b) imm FBin(FBinOp) => value, Pure;
    /// Square root.
    Fsqrt "fsqrt" fn fsqrt(a) imm None => value, Pure;
    /// Negate.
    Fneg "fneg" fn fneg(a) imm None => value, Pure;
    /// Absolute value.
    Fabs "fabs" fn fabs(a) imm None => value, Pure;
    /// Fused multiply-add `a * b + c`.
    Fma "fma" fn fma(a, b, c) imm None => value, Pure;
    /// Round to an integral value.
    Fround "fround" fn fround(a) imm Round(Round) => value, Pure;
    /// FP compare, result 0 or 1 (i8).
    Fcmp "fcmp" fn fcmp(a, b) imm FloatCC(FloatCC) => value, Pure;
    /// Convert between FP precisions.
    Fconvert "fconvert" fn fconvert(a) imm None => value, Pure;
    /// FP to integer with Arm saturation (NaN gives 0); imm: signed, rounding.
    FcvtToInt "fcvt_to_int" fn fcvt_to_int(a) imm FcvtInt((bool, Round)) => value, Pure;
    /// Integer to FP; imm: signed.
    IntToF "int_to_f" fn int_to_f(a) imm Signed(bool) => value, Pure;
    /// FRECPE/FRSQRTE/FRECPX, bit-exact per the Arm pseudocode.
    FEstimate "festimate" fn festimate(a) imm FEst(FEst) => value, Pure;
    /// Half precision (the bits, an i16) to f32/f64: exact.
    HalfToF "half_to_f" fn half_to_f(a) imm None => value, Pure;
    /// f32/f64 to half precision (the bits, an i16), rounded per FPCR.
    FToHalf "f_to_half" fn f_to_half(a) imm None => value, Pure;
    /// FJCVTZS of an f64: the W result in bits 31:0 of the i64 result, Z
    /// in bit 32.
    Fjcvt "fjcvt" fn fjcvt(a) imm None => value, Pure;
    /// Sets the FPSR cumulative bits `imm` when `c` (i8) is non-zero.
    FpRaise "fp_raise" fn fp_raise(c) imm U64(u64) => none, WriteState;
    /// `FBin` Add/Sub/Mul/Div on every lane of a float vector (`I32x4`
    /// lanes are f32, `I64x2` f64), lane by lane exactly as the scalar op.
    VFBin "vfbin" fn vfbin(a, b) imm VFBin((FBinOp, Lanes)) => value, Pure;
    /// Square root of every lane of a float vector.
    VFsqrt "vfsqrt" fn vfsqrt(a) imm Lanes(Lanes) => value, Pure;
    /// Fused `a * b + c` on every lane of a float vector (as `Fma`).
    VFma "vfma" fn vfma(a, b, c) imm Lanes(Lanes) => value, Pure;
    /// Compare every lane of two float vectors: all-ones or zero lanes.
    /// `Eq` signals invalid for signalling NaNs only, the others for any
    /// NaN (FCMEQ vs FCMGE/FCMGT...).
    VFCmp "vfcmp" fn vfcmp(a, b) imm VFCmp((FloatCC, Lanes)) => value, Pure;
    /// SCVTF of every signed integer lane (`I32x4` only).
    VIntToF "vint_to_f" fn vint_to_f(a) imm Lanes(Lanes) => value, Pure;
    /// FCVTZS of every float lane (`I32x4` only): truncating, saturating,
    /// NaN gives 0; IOC and IXC as Arm signals them.
    VFcvtToInt "vfcvt_to_int" fn vfcvt_to_int(a) imm Lanes(Lanes) => value, Pure;

    // ---- vectors ----
    /// Lane-wise binary operation.
    VBin "vbin" fn vbin(a, b) imm VBin((VBinOp, Lanes)) => value, Pure;
    /// Lane-wise unary operation.
    VUn "vun" fn vun(a) imm VUn((VUnOp, Lanes)) => value, Pure;
    /// Across-lanes reduction to a scalar of the result type.
    VReduce "vreduce" fn vreduce(a) imm VReduce((VReduceOp, Lanes)) => value, Pure;
    /// Lane shift by an immediate.
    VShift "vshift" fn vshift(a) imm VShift((VShiftOp, Lanes, u8)) => value, Pure;
    /// SHRN: shift each lane of the given (wide) shape right and narrow to
    /// half width into the low 64 bits; the high 64 bits are zero.
    VShrn "vshrn" fn vshrn(a) imm Lane((Lanes, u8)) => value, Pure;
    /// Extract lane (zero-extended to an integer result, or bitcast to a
    /// float result of the lane width).
    VExtract "vextract" fn vextract(a) imm Lane((Lanes, u8)) => value, Pure;
    /// Replace one lane with the low bits of a scalar.
    VInsert "vinsert" fn vinsert(vec, s) imm Lane((Lanes, u8)) => value, Pure;
    /// Broadcast a scalar to all lanes.
    VSplat "vsplat" fn vsplat(s) imm Lanes(Lanes) => value, Pure;
    /// A scalar (int or float) in the low bits, all other bits zero.
    VFromScalar "vfrom_scalar" fn vfrom_scalar(s) imm None => value, Pure;
    /// Clear the high 64 bits.
    VZeroHigh "vzero_high" fn vzero_high(a) imm None => value, Pure;
    /// TBL with one table register: bytes of `table` selected by `idx`, 0
    /// for out-of-range indices.
    VTbl1 "vtbl1" fn vtbl1(table, idx) imm None => value, Pure;
    /// EXT: bytes `imm..imm+16` of the concatenation `b:a`.
    VExt "vext" fn vext(a, b) imm U64(u64) => value, Pure;

    // ---- bound library routines ----
    /// Runs the host implementation of a guest libc routine on the guest's
    /// x0..x2 (guest memory is read and written) and yields the guest's x0.
    LibCall "libcall" fn libcall(a, b, c) imm Routine(Routine) => value, WriteMem;
}
