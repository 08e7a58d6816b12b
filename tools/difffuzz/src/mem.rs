//! Address planning for memory instructions: from the encoding's addressing
//! mode, choose register values so that every access lands inside the
//! case's scratch area, and reject encodings whose result the Arm ARM
//! leaves CONSTRAINED UNPREDICTABLE (writeback into a transferred register,
//! pair loads into one register, store-exclusive status overlapping).
//!
//! Registers that must hold scratch addresses are returned as
//! `(register, offset from the scratch start)` (31 = SP), resolved when the
//! batch is laid out. An accessed window is at most 64 bytes (LD4 of four Q
//! registers) and starts at least 16 bytes into the 256-byte scratch area.

use fastrand::Rng;

use crate::layout::{State, SCRATCH};

/// What a memory instruction needs.
pub struct Plan {
    /// The word, with fields the instruction ignores set to their
    /// should-be values.
    pub word: u32,
    /// Registers that must point into the scratch area.
    pub rel: Vec<(u8, i64)>,
    /// An LDR (literal): its offset is chosen at layout.
    pub literal: bool,
    /// A load-exclusive to run first (for store-exclusives), if wanted.
    pub prefix: Option<u32>,
}

enum Addr {
    /// Base plus a constant.
    Offset(i64),
    /// Base plus an index register, extended and shifted.
    Index { rm: u8, option: u32, shift: u32 },
}

fn field(w: u32, lo: u32, len: u32) -> u32 {
    (w >> lo) & ((1 << len) - 1)
}

fn sext(v: u32, bits: u32) -> i64 {
    ((v << (32 - bits)) as i32 >> (32 - bits)) as i64
}

/// Plans `word` (any load/store/atomic encoding) on `state`; `None`
/// rejects it.
pub fn plan(word: u32, atomic: bool, rng: &mut Rng, state: &mut State) -> Option<Plan> {
    let rt = field(word, 0, 5) as u8;
    let rn = field(word, 5, 5) as u8;
    let rt2 = field(word, 10, 5) as u8;
    let rs = field(word, 16, 5) as u8;
    let v = field(word, 26, 1) == 1;
    let size = field(word, 30, 2);
    let mut word = word;
    let mut prefix = None;
    let mut wb = false;
    let mut pair = false;
    let addr;
    if field(word, 27, 3) == 0b011 && field(word, 24, 2) == 0 {
        return Some(Plan {
            word,
            rel: Vec::new(),
            literal: true,
            prefix: None,
        });
    } else if field(word, 24, 6) == 0b00_1000 {
        // Exclusive, ordered, compare-and-swap.
        let (o2, l, o1) = (field(word, 23, 1), field(word, 22, 1), field(word, 21, 1));
        addr = Addr::Offset(0);
        match (o2, o1) {
            (0, 0) | (0, 1) if o1 == 0 || size >= 2 => {
                pair = o1 == 1;
                if !pair {
                    word |= 0x1f << 10;
                }
                if l == 1 {
                    word |= 0x1f << 16;
                    if pair && rt == rt2 {
                        return None;
                    }
                } else {
                    let clash = rs == rt || (rs == rn && rn != 31) || (pair && rs == rt2);
                    if clash {
                        return None;
                    }
                    if rng.bool() {
                        prefix = Some(load_exclusive(word, rng, [rs, rt, rt2, rn]));
                    }
                }
            }
            (0, 1) => {
                // CASP: even register pairs.
                if rs % 2 == 1 || rt % 2 == 1 {
                    return None;
                }
                word |= 0x1f << 10;
            }
            (1, 0) => word |= (0x1f << 16) | (0x1f << 10),
            _ => word |= 0x1f << 10,
        }
    } else if field(word, 27, 3) == 0b111 && field(word, 24, 2) == 0 && field(word, 21, 1) == 1 {
        match field(word, 10, 2) {
            0b00 if !v => {
                // LSE atomics; LDAPR (o3=1, opc=100) has Rs = 11111.
                if field(word, 15, 1) == 1 && field(word, 12, 3) == 0b100 {
                    word |= 0x1f << 16;
                }
                addr = Addr::Offset(0);
            }
            0b10 => {
                let option = field(word, 13, 3);
                let scale = if v && size == 0 && field(word, 23, 1) == 1 {
                    4
                } else {
                    size
                };
                let rm = rs;
                if option & 2 == 0 || (rm == rn && rn != 31) {
                    return None;
                }
                let shift = if field(word, 12, 1) == 1 { scale } else { 0 };
                addr = Addr::Index { rm, option, shift };
            }
            _ => return None,
        }
    } else if field(word, 27, 3) == 0b111 && field(word, 24, 2) == 0 {
        let imm9 = sext(field(word, 12, 9), 9);
        match field(word, 10, 2) {
            0b01 => {
                wb = true;
                addr = Addr::Offset(0);
            }
            0b11 => {
                wb = true;
                addr = Addr::Offset(imm9);
            }
            _ => addr = Addr::Offset(imm9),
        }
    } else if field(word, 27, 3) == 0b111 && field(word, 24, 2) == 1 {
        let scale = if v && size == 0 && field(word, 23, 1) == 1 {
            4
        } else {
            size
        };
        addr = Addr::Offset(i64::from(field(word, 10, 12)) << scale);
    } else if field(word, 27, 3) == 0b101 && field(word, 25, 1) == 0 {
        let opc = size;
        let scale = match (v, opc) {
            (false, 0 | 1) | (true, 0) => 2,
            (false, 2) | (true, 1) => 3,
            (true, 2) => 4,
            _ => return None,
        };
        let l = field(word, 22, 1) == 1;
        if !v && opc == 1 && !l {
            return None; // STGP (MTE)
        }
        pair = true;
        if l && rt == rt2 {
            return None;
        }
        let imm = sext(field(word, 15, 7), 7) << scale;
        match field(word, 23, 2) {
            0b01 => {
                wb = true;
                addr = Addr::Offset(0);
            }
            0b11 => {
                wb = true;
                addr = Addr::Offset(imm);
            }
            _ => addr = Addr::Offset(imm),
        }
    } else if field(word, 31, 1) == 0 && field(word, 24, 6) == 0b00_1100 {
        // Structure loads/stores; the post-index forms write back.
        wb = field(word, 23, 1) == 1;
        addr = Addr::Offset(0);
    } else {
        return None;
    }
    let gpr_transfer = !v && field(word, 24, 6) != 0b00_1100;
    if wb && rn != 31 && gpr_transfer && (rn == rt || (pair && rn == rt2)) {
        return None;
    }
    let align = if atomic {
        16
    } else {
        [1, 2, 4, 8, 16][rng.usize(..5)]
    };
    let mut target = (rng.i64(16..(SCRATCH as i64 - 64 - 16)) / align) * align;
    let offset = match addr {
        Addr::Offset(o) => o,
        Addr::Index { rm, option, shift } => {
            let small = rng.i64(-8..=8);
            let (value, ext) = match option {
                0b010 => {
                    let low = small.unsigned_abs();
                    ((rng.u64(..) << 32) | low, low as i64)
                }
                0b110 => ((rng.u64(..) << 32) | u64::from(small as u32), small),
                _ => (small as u64, small),
            };
            if rm != 31 {
                state.x[rm as usize] = value;
                ext << shift
            } else {
                0
            }
        }
    };
    let mut base = target - offset;
    if rn == 31 {
        let fix = base.rem_euclid(16);
        target -= fix;
        base -= fix;
    }
    debug_assert!(target >= 0 && target as usize + 64 <= SCRATCH);
    Some(Plan {
        word,
        rel: vec![(rn, base)],
        literal: false,
        prefix,
    })
}

/// A load-exclusive (pair for pair stores) of the same size and base as the
/// store-exclusive `store`, into registers none of `avoid`.
fn load_exclusive(store: u32, rng: &mut Rng, avoid: [u8; 4]) -> u32 {
    let mut pick = |taken: &[u8]| loop {
        let r = rng.u8(0..31);
        if !taken.contains(&r) {
            return r;
        }
    };
    let t = pick(&avoid);
    let t2 = pick(&[avoid[0], avoid[1], avoid[2], avoid[3], t]);
    let size = store & 0xc000_0000;
    let rn = field(store, 5, 5);
    let pair = field(store, 21, 1) == 1;
    if pair {
        size | 0x087F_0000 | (u32::from(t2) << 10) | (rn << 5) | u32::from(t)
    } else {
        size | 0x085F_7C00 | (rn << 5) | u32::from(t)
    }
}
