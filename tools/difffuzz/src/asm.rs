//! Encoders for the few fixed A64 instructions the harness itself uses
//! (loading and dumping state, the driver loop). Register numbers are
//! 0..=31; offsets must be in range and aligned for their form (checked by
//! debug assertions, since the harness only passes constants).

/// MOVZ Xd, #imm16, LSL #(16 * hw).
pub fn movz(d: u32, imm16: u32, hw: u32) -> u32 {
    0xD280_0000 | (hw << 21) | ((imm16 & 0xffff) << 5) | d
}

/// MOVK Xd, #imm16, LSL #(16 * hw).
pub fn movk(d: u32, imm16: u32, hw: u32) -> u32 {
    0xF280_0000 | (hw << 21) | ((imm16 & 0xffff) << 5) | d
}

/// MOVZ + 3 MOVK: Xd = imm.
pub fn mov64(d: u32, imm: u64) -> [u32; 4] {
    let h = |k: u32| ((imm >> (16 * k)) & 0xffff) as u32;
    [
        movz(d, h(0), 0),
        movk(d, h(1), 1),
        movk(d, h(2), 2),
        movk(d, h(3), 3),
    ]
}

fn imm7(off: i64, scale: i64) -> u32 {
    debug_assert!(off % scale == 0 && (-64..64).contains(&(off / scale)));
    ((off / scale) as u32 & 0x7f) << 15
}

/// LDP Xt, Xt2, [Xn, #off].
pub fn ldp_x(t: u32, t2: u32, n: u32, off: i64) -> u32 {
    0xA940_0000 | imm7(off, 8) | (t2 << 10) | (n << 5) | t
}

/// STP Xt, Xt2, [Xn, #off].
pub fn stp_x(t: u32, t2: u32, n: u32, off: i64) -> u32 {
    0xA900_0000 | imm7(off, 8) | (t2 << 10) | (n << 5) | t
}

/// LDP Qt, Qt2, [Xn, #off].
pub fn ldp_q(t: u32, t2: u32, n: u32, off: i64) -> u32 {
    0xAD40_0000 | imm7(off, 16) | (t2 << 10) | (n << 5) | t
}

/// STP Qt, Qt2, [Xn, #off].
pub fn stp_q(t: u32, t2: u32, n: u32, off: i64) -> u32 {
    0xAD00_0000 | imm7(off, 16) | (t2 << 10) | (n << 5) | t
}

/// LDR Xt, [Xn, #off] (unsigned offset).
pub fn ldr_x(t: u32, n: u32, off: u32) -> u32 {
    debug_assert!(off.is_multiple_of(8) && off / 8 < 4096);
    0xF940_0000 | ((off / 8) << 10) | (n << 5) | t
}

/// STR Xt, [Xn, #off] (unsigned offset).
pub fn str_x(t: u32, n: u32, off: u32) -> u32 {
    debug_assert!(off.is_multiple_of(8) && off / 8 < 4096);
    0xF900_0000 | ((off / 8) << 10) | (n << 5) | t
}

/// A system register the harness reads or writes.
#[derive(Clone, Copy)]
pub enum Sys {
    /// NZCV.
    Nzcv,
    /// FPCR.
    Fpcr,
    /// FPSR.
    Fpsr,
    /// TPIDR_EL0 (the harness's spill slot for X0).
    Tpidr,
}

fn sys_bits(r: Sys) -> u32 {
    match r {
        Sys::Nzcv => 0xB4200,
        Sys::Fpcr => 0xB4400,
        Sys::Fpsr => 0xB4420,
        Sys::Tpidr => 0xBD040,
    }
}

/// MSR <r>, Xt.
pub fn msr(r: Sys, t: u32) -> u32 {
    0xD510_0000 | sys_bits(r) | t
}

/// MRS Xt, <r>.
pub fn mrs(t: u32, r: Sys) -> u32 {
    0xD530_0000 | sys_bits(r) | t
}

/// ADD Xd|SP, Xn|SP, #imm12.
pub fn add_imm(d: u32, n: u32, imm12: u32) -> u32 {
    debug_assert!(imm12 < 4096);
    0x9100_0000 | (imm12 << 10) | (n << 5) | d
}

/// ADD Xd, Xn, Xm, LSL #sh.
pub fn add_lsl(d: u32, n: u32, m: u32, sh: u32) -> u32 {
    0x8B00_0000 | (m << 16) | (sh << 10) | (n << 5) | d
}

/// ORR Xd, XZR, Xm (MOV Xd, Xm).
pub fn mov_reg(d: u32, m: u32) -> u32 {
    0xAA00_03E0 | (m << 16) | d
}

/// ADRP Xd of the page of `target`, for an instruction at `pc`.
pub fn adrp(d: u32, pc: u64, target: u64) -> u32 {
    let pages = ((target >> 12) as i64 - (pc >> 12) as i64) as u32;
    0x9000_0000 | ((pages & 3) << 29) | (((pages >> 2) & 0x7ffff) << 5) | d
}

/// B to `target` from `pc`.
pub fn b(pc: u64, target: u64) -> u32 {
    let off = (target.wrapping_sub(pc) as i64) / 4;
    0x1400_0000 | (off as u32 & 0x3ff_ffff)
}

/// CBZ Xt to `target` from `pc`.
pub fn cbz(t: u32, pc: u64, target: u64) -> u32 {
    let off = (target.wrapping_sub(pc) as i64) / 4;
    0xB400_0000 | ((off as u32 & 0x7ffff) << 5) | t
}

/// ADR Xd of `target`, for an instruction at `pc`.
pub fn adr(d: u32, pc: u64, target: u64) -> u32 {
    let off = target.wrapping_sub(pc) as u32;
    0x1000_0000 | ((off & 3) << 29) | (((off >> 2) & 0x7ffff) << 5) | d
}

/// B.EQ to `target` from `pc`.
pub fn b_eq(pc: u64, target: u64) -> u32 {
    let off = (target.wrapping_sub(pc) as i64) / 4;
    0x5400_0000 | ((off as u32 & 0x7ffff) << 5)
}

/// CMP Xn, Xm.
pub fn cmp(n: u32, m: u32) -> u32 {
    0xEB00_001F | (m << 16) | (n << 5)
}

/// SVC #0.
pub const SVC: u32 = 0xD400_0001;
/// RET.
pub const RET: u32 = 0xD65F_03C0;
/// CLREX.
pub const CLREX: u32 = 0xD503_3F5F;
/// ADD X16, X16, #1: the instruction a taken branch case skips.
pub const MARKER: u32 = 0x9100_0610;

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodings checked against `aarch64-linux-gnu-as`.
    #[test]
    fn encodings_match_the_assembler() {
        assert_eq!(ldp_x(1, 2, 0, 8), 0xA940_8801); // ldp x1, x2, [x0, #8]
        assert_eq!(stp_x(29, 30, 0, 232), 0xA90E_F81D); // stp x29, x30, [x0, #232]
        assert_eq!(ldp_q(0, 1, 0, 288), 0xAD49_0400); // ldp q0, q1, [x0, #288]
        assert_eq!(ldr_x(30, 0, 40), 0xF940_141E); // ldr x30, [x0, #40]
        assert_eq!(msr(Sys::Nzcv, 1), 0xD51B_4201); // msr nzcv, x1
        assert_eq!(mrs(1, Sys::Fpsr), 0xD53B_4421); // mrs x1, fpsr
        assert_eq!(msr(Sys::Tpidr, 0), 0xD51B_D040); // msr tpidr_el0, x0
        assert_eq!(add_imm(31, 1, 0), 0x9100_003F); // mov sp, x1
        assert_eq!(cmp(1, 2), 0xEB02_003F); // cmp x1, x2
        assert_eq!(mov_reg(1, 0), 0xAA00_03E1); // mov x1, x0
        assert_eq!(add_lsl(5, 5, 1, 4), 0x8B01_10A5); // add x5, x5, x1, lsl #4
        assert_eq!(cbz(1, 0x1000, 0x1040), 0xB400_0201); // cbz x1, .+0x40
        assert_eq!(adr(9, 0x1000, 0x1014), 0x1000_00A9); // adr x9, .+0x14
    }
}
