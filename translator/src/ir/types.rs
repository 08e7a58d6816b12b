//! Scalar types, guest-state names and small enums shared by all IR ops.
//!
//! Invariants: guest general registers are numbered 0..=31 where 31 is SP
//! (the zero register never reaches the IR: the lifter folds it to a
//! constant or drops the write); flags are individual 0/1 bytes.

use std::fmt;

pub use vmxlate_abi::Routine;

/// The type of an IR value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// 0/1 truth values and bytes.
    I8,
    /// Half-words.
    I16,
    /// Words (AArch64 `W` registers).
    I32,
    /// Double-words (AArch64 `X` registers, addresses).
    I64,
    /// Single precision.
    F32,
    /// Double precision.
    F64,
    /// A 128-bit SIMD&FP register value, lane shape chosen by each op.
    V128,
}

impl Type {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Type::I8 => 8,
            Type::I16 => 16,
            Type::I32 | Type::F32 => 32,
            Type::I64 | Type::F64 => 64,
            Type::V128 => 128,
        }
    }

    /// The integer type of `bits` width.
    pub fn int(bits: u32) -> Type {
        match bits {
            8 => Type::I8,
            16 => Type::I16,
            32 => Type::I32,
            _ => Type::I64,
        }
    }

    /// Whether this is an integer type.
    pub fn is_int(self) -> bool {
        matches!(self, Type::I8 | Type::I16 | Type::I32 | Type::I64)
    }

    /// Whether this is a scalar float type.
    pub fn is_float(self) -> bool {
        matches!(self, Type::F32 | Type::F64)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::V128 => "v128",
        };
        f.write_str(s)
    }
}

/// One of the four condition flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Negative.
    N,
    /// Zero.
    Z,
    /// Carry.
    C,
    /// Overflow.
    V,
}

impl Flag {
    /// All flags in CpuState order.
    pub const ALL: [Flag; 4] = [Flag::N, Flag::Z, Flag::C, Flag::V];

    /// Index into `CpuState::nzcv`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Integer comparison predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntCC {
    /// ==
    Eq,
    /// !=
    Ne,
    /// signed <
    Slt,
    /// signed >=
    Sge,
    /// signed >
    Sgt,
    /// signed <=
    Sle,
    /// unsigned <
    Ult,
    /// unsigned >=
    Uge,
    /// unsigned >
    Ugt,
    /// unsigned <=
    Ule,
}

/// Floating-point comparison predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatCC {
    /// ordered and equal
    Eq,
    /// ordered and less than
    Lt,
    /// ordered and less than or equal
    Le,
    /// ordered and greater than
    Gt,
    /// ordered and greater than or equal
    Ge,
    /// either operand is NaN
    Unordered,
    /// neither operand is NaN
    Ordered,
    /// unordered or not equal
    Ne,
    /// unordered or less than
    Ult,
    /// unordered or less than or equal
    Ule,
    /// unordered or greater than
    Ugt,
    /// unordered or greater than or equal
    Uge,
}

/// A memory access: its width in bytes, how a narrow load extends, and its
/// ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemAccess {
    /// 1, 2, 4, 8 or 16 bytes.
    pub bytes: u8,
    /// Sign-extend a narrow load (instead of zero-extending).
    pub signed: bool,
    /// Acquire (loads) / release (stores) ordering.
    pub ordered: bool,
}

/// System registers the IR reads and writes by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SysReg {
    /// Thread pointer.
    TpidrEl0,
    /// Floating-point control.
    Fpcr,
    /// Floating-point status.
    Fpsr,
    /// Virtual counter (read through a runtime helper).
    CntvctEl0,
    /// Address held by the exclusive monitor (`u64::MAX` when clear).
    ExclAddr,
    /// Value observed by the last load-exclusive.
    ExclVal,
    /// Second value observed by the last load-exclusive pair (X form).
    ExclVal2,
}

/// Atomic read-modify-write operations (LSE and SWP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RmwOp {
    /// LDADD.
    Add,
    /// LDCLR: `mem & !v`.
    Clr,
    /// LDEOR.
    Eor,
    /// LDSET: `mem | v`.
    Set,
    /// LDSMAX.
    Smax,
    /// LDSMIN.
    Smin,
    /// LDUMAX.
    Umax,
    /// LDUMIN.
    Umin,
    /// SWP.
    Swp,
}

/// Floating-point rounding for FRINT* and conversions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Round {
    /// To nearest, ties to even.
    Nearest,
    /// Toward +inf.
    Ceil,
    /// Toward -inf.
    Floor,
    /// Toward zero.
    Trunc,
    /// To nearest, ties away from zero.
    TiesAway,
    /// FPCR's rounding mode, inexact not signalled (FRINTI).
    Current,
    /// FPCR's rounding mode, inexact signalled (FRINTX).
    CurrentExact,
}

/// Binary floating-point operations with Arm semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FBinOp {
    /// +
    Add,
    /// -
    Sub,
    /// *
    Mul,
    /// /
    Div,
    /// FMIN: NaN-propagating, -0 < +0.
    Min,
    /// FMAX: NaN-propagating, -0 < +0.
    Max,
    /// FMINNM: a quiet NaN loses to a number.
    MinNum,
    /// FMAXNM: a quiet NaN loses to a number.
    MaxNum,
    /// FMULX: as `Mul`, but infinity times zero is 2.0 (signed by the
    /// operands' signs) and not invalid.
    MulX,
    /// FRECPS: `2 - a * b` fused; infinity times zero gives 2.0.
    RecipStep,
    /// FRSQRTS: `(3 - a * b) / 2` fused; infinity times zero gives 1.5.
    RsqrtStep,
}

/// The FP estimates computed bit-exactly by a runtime helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FEst {
    /// FRECPE.
    RecipEst,
    /// FRSQRTE.
    RsqrtEst,
    /// FRECPX.
    Recpx,
}

/// Integer vector lane shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lanes {
    /// 16 x 8 bits.
    I8x16,
    /// 8 x 16 bits.
    I16x8,
    /// 4 x 32 bits.
    I32x4,
    /// 2 x 64 bits.
    I64x2,
}

impl Lanes {
    /// The shape with lanes of `bits` width.
    pub fn of_bits(bits: u32) -> Lanes {
        match bits {
            8 => Lanes::I8x16,
            16 => Lanes::I16x8,
            32 => Lanes::I32x4,
            _ => Lanes::I64x2,
        }
    }

    /// Lane width in bits.
    pub fn lane_bits(self) -> u32 {
        match self {
            Lanes::I8x16 => 8,
            Lanes::I16x8 => 16,
            Lanes::I32x4 => 32,
            Lanes::I64x2 => 64,
        }
    }

    /// Number of lanes.
    pub fn count(self) -> u32 {
        128 / self.lane_bits()
    }
}

/// Lane-wise binary vector operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VBinOp {
    /// Wrapping add.
    Add,
    /// Wrapping subtract.
    Sub,
    /// Wrapping multiply (not for 64-bit lanes).
    Mul,
    /// Bitwise and (shape-free).
    And,
    /// Bitwise or (shape-free).
    Or,
    /// Bitwise xor (shape-free).
    Xor,
    /// a & !b (shape-free).
    AndNot,
    /// Lanes equal: all-ones, else zero.
    CmpEq,
    /// Signed greater-than mask.
    CmpGt,
    /// Signed greater-or-equal mask.
    CmpGe,
    /// Unsigned higher mask.
    CmpHi,
    /// Unsigned higher-or-same mask.
    CmpHs,
    /// (a & b) != 0 mask.
    CmpTst,
    /// Unsigned minimum.
    Umin,
    /// Unsigned maximum.
    Umax,
    /// Signed minimum.
    Smin,
    /// Signed maximum.
    Smax,
    /// Pairwise add: lanes of a's pairs, then b's pairs.
    AddPairwise,
    /// Pairwise unsigned minimum.
    UminPairwise,
    /// Pairwise unsigned maximum.
    UmaxPairwise,
    /// Interleave low halves (ZIP1).
    Zip1,
    /// Interleave high halves (ZIP2).
    Zip2,
    /// Even lanes of a then b (UZP1).
    Uzp1,
    /// Odd lanes of a then b (UZP2).
    Uzp2,
    /// Signed saturating add (I8x16 and I16x8 only).
    SqAdd,
    /// Unsigned saturating add (I8x16 and I16x8 only).
    UqAdd,
    /// Signed saturating subtract (I8x16 and I16x8 only).
    SqSub,
    /// Unsigned saturating subtract (I8x16 and I16x8 only).
    UqSub,
    /// SQRDMULH: `(2ab + 2^15) >> 16` with saturation (I16x8 only).
    SqRdMulH,
    /// TRN1: even lanes of `a` interleaved with even lanes of `b`.
    Trn1,
    /// TRN2: odd lanes of `a` interleaved with odd lanes of `b`.
    Trn2,
}

/// Lane-wise unary vector operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VUnOp {
    /// Bitwise not (shape-free).
    Not,
    /// Lane negate.
    Neg,
    /// Lane absolute value.
    Abs,
    /// Population count per byte (I8x16 only).
    Cnt,
    /// Compare each lane with zero: all-ones when equal.
    CmpEqZ,
    /// Reverse bytes within each 16-bit lane (REV16) etc: reverse the byte
    /// order inside every lane of the given shape.
    RevBytes,
    /// Reverse bits in each byte (RBIT).
    Rbit,
    /// Narrow each lane (I16x8 or I32x4) to half width with signed
    /// saturation (SQXTN), into the low 64 bits; the high 64 bits are zero.
    NarrowSs,
    /// As `NarrowSs`, signed input to unsigned range (SQXTUN).
    NarrowSu,
    /// As `NarrowSs`, unsigned input to unsigned range (UQXTN).
    NarrowUu,
}

/// Across-lanes reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VReduceOp {
    /// Sum (ADDV).
    Add,
    /// Sum of sign-extended lanes (SADDLV), widened to the result type.
    SAdd,
    /// Unsigned max (UMAXV).
    Umax,
    /// Unsigned min (UMINV).
    Umin,
    /// Signed max (SMAXV).
    Smax,
    /// Signed min (SMINV).
    Smin,
}

/// Lane shifts by an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VShiftOp {
    /// Shift left.
    Shl,
    /// Logical shift right.
    Ushr,
    /// Arithmetic shift right.
    Sshr,
}
