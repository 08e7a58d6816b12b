//! Random initial state: general registers with edge values mixed in,
//! vector registers filled lane by lane with interesting floating-point
//! and integer values, random flags, and (for FP classes) a random FPCR.

use fastrand::Rng;

use crate::layout::{State, SCRATCH};

/// Integer values that break arithmetic: limits, sign boundaries, small
/// numbers.
const EDGES: [u64; 16] = [
    0,
    1,
    2,
    u64::MAX,
    u64::MAX - 1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_8000_0000,
    0xffff_ffff_7fff_ffff,
    0x8000_0000_7fff_ffff,
    0x80,
    0xff,
];

/// A random 64-bit value biased towards edge cases.
pub fn int_value(rng: &mut Rng) -> u64 {
    match rng.u8(0..10) {
        0..=3 => rng.u64(..),
        4 | 5 => EDGES[rng.usize(..EDGES.len())],
        6 => rng.i64(-16..=16) as u64,
        7 => u64::from(rng.u32(..)),
        8 => rng.i32(..) as i64 as u64,
        _ => EDGES[rng.usize(..EDGES.len())].wrapping_add(rng.i64(-2..=2) as u64),
    }
}

/// A floating-point bit pattern of `bits` (16, 32 or 64) width: zeros,
/// infinities, quiet and signalling NaNs with payloads, denormals, values
/// near 1 and near integer/half boundaries, limits of the format and of
/// integer conversion ranges, or plain random.
pub fn fp_value(rng: &mut Rng, bits: u32) -> u64 {
    let (ebits, mbits) = match bits {
        16 => (5, 10),
        32 => (8, 23),
        _ => (11, 52),
    };
    let emax = (1u64 << ebits) - 1;
    let bias = emax >> 1;
    let mmask = (1u64 << mbits) - 1;
    let sign = u64::from(rng.bool()) << (bits - 1);
    let exp = match rng.u8(0..10) {
        0 => 0,
        1 => emax,
        2 => 1,
        3 => emax - 1,
        4 => bias + rng.u64(0..=(mbits as u64 + 1).min(emax - 1 - bias)),
        // Around the limits of 32- and 64-bit integer conversions.
        5 => (bias + [15, 16, 31, 32, 63, 64][rng.usize(..6)]).min(emax - 1),
        6 => bias - rng.u64(0..=3),
        _ => rng.u64(0..=emax),
    };
    let mant = match rng.u8(0..6) {
        0 => 0,
        1 => 1,
        2 => 1 << (mbits - 1),
        3 => mmask,
        _ => rng.u64(..) & mmask,
    };
    sign | (exp << mbits) | mant
}

fn lanes(rng: &mut Rng, bits: u32, f: impl Fn(&mut Rng) -> u64) -> u128 {
    let mut v = 0u128;
    for k in 0..128 / bits {
        v |= u128::from(f(rng) & (u64::MAX >> (64 - bits))) << (k * bits);
    }
    v
}

/// A random vector register value.
pub fn vector_value(rng: &mut Rng) -> u128 {
    let bits = [16, 32, 64, 8][rng.usize(..4)];
    match rng.u8(0..4) {
        0 => rng.u128(..),
        1 if bits != 8 => lanes(rng, bits, |r| fp_value(r, bits)),
        _ => lanes(rng, bits, int_value),
    }
}

/// Random FPCR: rounding mode, FZ, DN, AHP, FZ16 (zero half the time).
pub fn fpcr_value(rng: &mut Rng) -> u64 {
    if rng.bool() {
        return 0;
    }
    let mut v = u64::from(rng.u8(0..4)) << 22;
    for bit in [24, 25, 26, 19] {
        if rng.u8(0..3) == 0 {
            v |= 1 << bit;
        }
    }
    v
}

/// A random state. `fp` selects a random FPCR (else 0).
pub fn random(rng: &mut Rng, fp: bool) -> State {
    let mut s = State::default();
    for x in s.x.iter_mut() {
        *x = int_value(rng);
    }
    s.sp = int_value(rng) & !15;
    s.nzcv = u64::from(rng.u8(0..16)) << 28;
    s.fpcr = if fp { fpcr_value(rng) } else { 0 };
    for v in s.v.iter_mut() {
        *v = vector_value(rng);
    }
    for k in (0..SCRATCH).step_by(8) {
        let v = match rng.u8(0..4) {
            0 => fp_value(rng, 64),
            1 => fp_value(rng, 32) | fp_value(rng, 32) << 32,
            _ => int_value(rng),
        };
        s.mem[k..k + 8].copy_from_slice(&v.to_le_bytes());
    }
    s
}
