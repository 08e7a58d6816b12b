//! The instruction classes the fuzzer generates, each a list of encoding
//! patterns from the Arm ARM's A64 encoding index (`0`/`1` fixed bits, any
//! other character a random bit; spaces separate fields for reading).
//!
//! A random word that matches a pattern may still be unallocated; the
//! generator drops what the decoder rejects. Branch patterns fix the offset
//! to +8 (the case's landing pad).

/// How a class's cases are set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Registers and flags only; FPCR is 0.
    Int,
    /// Registers and flags; random FPCR (rounding mode, FZ, DN, AHP, FZ16).
    Fp,
    /// A branch to +8 followed by a marker instruction it may skip.
    Branch,
    /// Loads and stores: the base register points into the scratch area.
    Mem,
    /// Exclusives, ordered and LSE atomics: as `Mem`, 16-byte aligned, and
    /// store-exclusives often paired with a load-exclusive first.
    Atomic,
}

/// Which decoded instructions of a class's patterns belong to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// All of them.
    All,
    /// Floating-point mnemonics only (`f*`, `bf*`, `*cvtf`).
    Fp,
    /// All but floating-point mnemonics.
    NotFp,
}

/// One instruction class.
pub struct Class {
    /// Name used by `--class` and in reports.
    pub name: &'static str,
    /// Setup.
    pub kind: Kind,
    /// Mnemonic filter.
    pub select: Select,
    /// Encoding patterns, drawn uniformly.
    pub patterns: &'static [&'static str],
    /// Instructions per case (more than one tests flags and values flowing
    /// between translated instructions).
    pub seq: usize,
}

const INT_IMM: &[&str] = &[
    "xxx 100010 x xxxxxxxxxxxx xxxxx xxxxx",  // add/sub immediate
    "xxx 100100 x xxxxxx xxxxxx xxxxx xxxxx", // logical immediate
    "xxx 100101 xx xxxxxxxxxxxxxxxx xxxxx",   // move wide
    "xxx 100110 x xxxxxx xxxxxx xxxxx xxxxx", // bitfield
    "x00 100111 x 0 xxxxx xxxxxx xxxxx xxxxx", // extract
    "xxx 10000 xxxxxxxxxxxxxxxxxxx xxxxx",    // adr, adrp
];

const INT_REG: &[&str] = &[
    "xxx 01010 xx x xxxxx xxxxxx xxxxx xxxxx", // logical shifted
    "xxx 01011 xx 0 xxxxx xxxxxx xxxxx xxxxx", // add/sub shifted
    "xxx 01011 00 1 xxxxx xxx xxx xxxxx xxxxx", // add/sub extended
    "xxx 11010000 xxxxx 000000 xxxxx xxxxx",   // adc/sbc
    "xx1 11010010 xxxxx xxxx x 0 xxxxx 0 xxxx", // ccmp/ccmn
    "xx0 11010100 xxxxx xxxx 0 x xxxxx xxxxx", // csel family
    "x10 11010110 00000 000xxx xxxxx xxxxx",   // rbit, rev, clz, cls
    "x00 11010110 xxxxx 00xxxx xxxxx xxxxx",   // div, shifts
    "xxx 11011 xxx xxxxx x xxxxx xxxxx xxxxx", // madd ... umulh
];

/// Integer patterns for sequences (conditional forms consume the flags
/// earlier words set).
const INT_ALL: &[&str] = &[
    "xxx 100010 x xxxxxxxxxxxx xxxxx xxxxx",  // add/sub immediate
    "xxx 100100 x xxxxxx xxxxxx xxxxx xxxxx", // logical immediate
    "xxx 100110 x xxxxxx xxxxxx xxxxx xxxxx", // bitfield
    "xxx 01010 xx x xxxxx xxxxxx xxxxx xxxxx", // logical shifted
    "xxx 01011 xx 0 xxxxx xxxxxx xxxxx xxxxx", // add/sub shifted
    "xxx 11010000 xxxxx 000000 xxxxx xxxxx",  // adc/sbc
    "xx1 11010010 xxxxx xxxx x 0 xxxxx 0 xxxx", // ccmp/ccmn
    "xx0 11010100 xxxxx xxxx 0 x xxxxx xxxxx", // csel family
    "xxx 11011 xxx xxxxx x xxxxx xxxxx xxxxx", // madd ... umulh
];

const SIMD: &[&str] = &[
    "0xx 01110 xx 1 xxxxx xxxxx 1 xxxxx xxxxx",   // three same
    "0xx 01110 xx 1 xxxxx xxxx 00 xxxxx xxxxx",   // three different
    "0xx 01110 xx 10000 xxxxx 10 xxxxx xxxxx",    // two-register misc
    "0xx 01110 xx 11000 xxxxx 10 xxxxx xxxxx",    // across lanes
    "0xx 011110 xxxx xxx xxxxx 1 xxxxx xxxxx",    // shift by immediate
    "0xx 01111 xx x x xxxx xxxx x 0 xxxxx xxxxx", // by element
    "0xx 01110 x 10 xxxxx 00 xxx 1 xxxxx xxxxx",  // three same (half)
    "0xx 01110 x 1111 00 xxxxx 10 xxxxx xxxxx",   // two-register misc (half)
    "0xx 01110 xx 0 xxxxx 1 xxxx 1 xxxxx xxxxx",  // three same extra
    "01x 11110 xx 1 xxxxx xxxxx 1 xxxxx xxxxx",   // scalar three same
    "01x 11110 xx 1 xxxxx xxxx 00 xxxxx xxxxx",   // scalar three different
    "01x 11110 xx 10000 xxxxx 10 xxxxx xxxxx",    // scalar two-register misc
    "01x 11110 xx 11000 xxxxx 10 xxxxx xxxxx",    // scalar pairwise
    "01x 111110 xxxx xxx xxxxx 1 xxxxx xxxxx",    // scalar shift by immediate
    "01x 11111 xx x x xxxx xxxx x 0 xxxxx xxxxx", // scalar by element
];

/// Every class, in report order.
pub const CLASSES: &[Class] = &[
    Class {
        name: "int-imm",
        kind: Kind::Int,
        select: Select::All,
        patterns: INT_IMM,
        seq: 1,
    },
    Class {
        name: "int-reg",
        kind: Kind::Int,
        select: Select::All,
        patterns: INT_REG,
        seq: 1,
    },
    Class {
        name: "int-seq",
        kind: Kind::Int,
        select: Select::All,
        patterns: INT_ALL,
        seq: 4,
    },
    Class {
        name: "branch",
        kind: Kind::Branch,
        select: Select::All,
        patterns: &[
            "01010100 0000000000000000010 0 xxxx",   // b.cond
            "x 011010 x 0000000000000000010 xxxxx",  // cbz, cbnz
            "x 011011 x xxxxx 00000000000010 xxxxx", // tbz, tbnz
            "000101 00000000000000000000000010",     // b
            "100101 00000000000000000000000010",     // bl
        ],
        seq: 1,
    },
    Class {
        name: "crc",
        kind: Kind::Int,
        select: Select::All,
        patterns: &["x00 11010110 xxxxx 010xxx xxxxx xxxxx"],
        seq: 1,
    },
    Class {
        name: "ldst",
        kind: Kind::Mem,
        select: Select::All,
        patterns: &[
            "xx 111 x 01 xx xxxxxxxxxxxx xxxxx xxxxx", // unsigned offset
            "xx 111 x 00 xx 0 xxxxxxxxx xx xxxxx xxxxx", // imm9: unscaled, post, unpriv, pre
            "xx 111 x 00 xx 1 xxxxx xxx x 10 xxxxx xxxxx", // register offset
            "xx 101 x 0 xx x xxxxxxx xxxxx xxxxx xxxxx", // pairs
            "xx 011 x 00 xxxxxxxxxxxxxxxxxxx xxxxx",   // literal
        ],
        seq: 1,
    },
    Class {
        name: "ldst-simd",
        kind: Kind::Mem,
        select: Select::All,
        patterns: &[
            "0x 0011000 x 000000 xxxx xx xxxxx xxxxx", // multiple structures
            "0x 0011001 x 0 xxxxx xxxx xx xxxxx xxxxx", // multiple, post-index
            "0x 0011010 x x 00000 xxx x xx xxxxx xxxxx", // single structure
            "0x 0011011 x x xxxxx xxx x xx xxxxx xxxxx", // single, post-index
        ],
        seq: 1,
    },
    Class {
        name: "atomic",
        kind: Kind::Atomic,
        select: Select::All,
        patterns: &[
            "xx 001000 x x x xxxxx x xxxxx xxxxx xxxxx", // exclusive, ordered, CAS
            "xx 111 0 00 x x 1 xxxxx x xxx 00 xxxxx xxxxx", // LSE, LDAPR
        ],
        seq: 1,
    },
    Class {
        name: "fp",
        kind: Kind::Fp,
        select: Select::All,
        patterns: &[
            "000 11110 xx 1 xxxxxx 10000 xxxxx xxxxx",   // one source
            "000 11110 xx 1 xxxxx xx 1000 xxxxx xxxxx",  // compare
            "000 11110 xx 1 xxxxxxxx 100 00000 xxxxx",   // fmov immediate
            "000 11110 xx 1 xxxxx xxxx 01 xxxxx x xxxx", // conditional compare
            "000 11110 xx 1 xxxxx xxxx 10 xxxxx xxxxx",  // two source
            "000 11110 xx 1 xxxxx xxxx 11 xxxxx xxxxx",  // conditional select
            "000 11111 xx x xxxxx x xxxxx xxxxx xxxxx",  // three source
            "x00 11110 xx 1 xx xxx 000000 xxxxx xxxxx",  // fp <-> int
            "x00 11110 xx 0 xx xxx xxxxxx xxxxx xxxxx",  // fp <-> fixed
        ],
        seq: 1,
    },
    Class {
        name: "simd-int",
        kind: Kind::Fp,
        select: Select::NotFp,
        patterns: SIMD,
        seq: 1,
    },
    Class {
        name: "simd-fp",
        kind: Kind::Fp,
        select: Select::Fp,
        patterns: SIMD,
        seq: 1,
    },
    Class {
        name: "permute",
        kind: Kind::Int,
        select: Select::All,
        patterns: &[
            "0x 001110 xx 0 xxxxx 0 xxx 10 xxxxx xxxxx", // zip, uzp, trn
            "0x 101110 00 0 xxxxx 0 xxxx 0 xxxxx xxxxx", // ext
            "0x 001110 00 0 xxxxx 0 xx x 00 xxxxx xxxxx", // tbl, tbx
            "0xx 01110000 xxxxx 0 xxxx 1 xxxxx xxxxx",   // dup, ins, umov, smov
            "01 0 11110000 xxxxx 0 0000 1 xxxxx xxxxx",  // dup (scalar)
            "0xx 0111100000 xxx xxxx x 1 xxxxx xxxxx",   // movi, mvni, orr, bic
        ],
        seq: 1,
    },
    Class {
        name: "crypto",
        kind: Kind::Int,
        select: Select::All,
        patterns: &[
            "01001110 xx 10100 xxxxx 10 xxxxx xxxxx",   // aes
            "01011110 xx 0 xxxxx 0 xxx 00 xxxxx xxxxx", // sha 3-register
            "01011110 xx 10100 xxxxx 10 xxxxx xxxxx",   // sha 2-register
            "11001110011 xxxxx 1 0 00 xx xxxxx xxxxx",  // sha512 3-register
            "11001110110000001000 xx xxxxx xxxxx",      // sha512 2-register
            "110011100 xx xxxxx 0 xxxxx xxxxx xxxxx",   // eor3, bcax
            "0x0 01110 xx 1 xxxxx 1110 00 xxxxx xxxxx", // pmull
        ],
        seq: 1,
    },
];

/// The class named `name`.
pub fn by_name(name: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.name == name)
}

/// A parsed pattern: `(mask of fixed bits, their values)`.
pub fn parse_pattern(p: &str) -> (u32, u32) {
    let bits: Vec<char> = p.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(bits.len(), 32, "pattern {p:?} is not 32 bits");
    let (mut mask, mut value) = (0u32, 0u32);
    for (k, ch) in bits.iter().enumerate() {
        let bit = 31 - k;
        match ch {
            '0' => mask |= 1 << bit,
            '1' => {
                mask |= 1 << bit;
                value |= 1 << bit;
            }
            _ => {}
        }
    }
    (mask, value)
}

/// Whether a mnemonic is floating point (for [`Select`]).
pub fn is_fp_mnemonic(m: &str) -> bool {
    m.starts_with('f') || m.starts_with("bf") || m.ends_with("cvtf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_has_32_bits() {
        for c in CLASSES {
            for p in c.patterns {
                parse_pattern(p);
            }
        }
    }
}
