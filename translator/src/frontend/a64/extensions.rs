//! Which optional Arm extension a trapped instruction belongs to, when it
//! is one the runtime deliberately does not advertise in `AT_HWCAP` /
//! `AT_HWCAP2` (see `vmxlate_abi::HWCAP`). Programs probe HWCAP before
//! using such code (glibc's SVE and MTE string variants, for instance), so
//! a trap there is the behaviour of a CPU without the extension, not a
//! gap in the translator; `vmxlate inspect` lists them apart.
//!
//! Invariant: only extensions absent from `HWCAP`/`HWCAP2` are named;
//! classification is by encoding (SVE, SME, MOPS) or by the
//! mnemonic yaxpeax-arm gives (the rest).

/// The unadvertised extension `word` (disassembled as `mnemonic`) belongs
/// to, or `None`.
pub fn unadvertised(word: u32, mnemonic: &str) -> Option<&'static str> {
    // A64 top level (Arm ARM C4.1): op0 = bits 28:25; 0010 is SVE, and
    // op0 = 0000 with bit 31 set is SME.
    let op0 = (word >> 25) & 0xf;
    if op0 == 0b0010 {
        return Some("SVE");
    }
    if op0 == 0 && word >> 31 == 1 {
        return Some("SME");
    }
    // Memory copy and memory set (CPYF*, CPY*, SET*, SETG*): size 00, 011
    // o0 01 op1 0 Rs op2 01 Rn Rd (glibc's `__memcpy_mops`).
    if word & 0xfb20_0c00 == 0x1900_0400 {
        return Some("MOPS");
    }
    let ext = match mnemonic {
        "ldg" | "stg" | "st2g" | "stzg" | "stz2g" | "ldgm" | "stgm" | "stzgm" | "irg" | "gmi"
        | "addg" | "subg" | "subp" | "subps" => "MTE",
        "fcmla" | "fcadd" => "FCMA",
        "frint32x" | "frint32z" | "frint64x" | "frint64z" => "FRINTTS",
        "bfcvt" | "bfcvtn" | "bfcvtn2" | "bfdot" | "bfmmla" | "bfmlalb" | "bfmlalt" => "BF16",
        "smmla" | "ummla" | "usmmla" | "usdot" | "sudot" => "I8MM",
        "sm3ss1" | "sm3tt1a" | "sm3tt1b" | "sm3tt2a" | "sm3tt2b" | "sm3partw1" | "sm3partw2"
        | "sm4e" | "sm4ekey" => "SM3/SM4",
        "fmlal" | "fmlal2" | "fmlsl" | "fmlsl2" => "FHM",
        _ => return None,
    };
    Some(ext)
}

#[cfg(test)]
mod tests {
    use super::unadvertised;

    #[test]
    fn classifies_by_encoding_and_mnemonic() {
        // From busybox-static (glibc's SVE and MTE variants).
        assert_eq!(unadvertised(0x0420_e3e7, "<undecodable>"), Some("SVE"));
        assert_eq!(unadvertised(0xd960_0000, "ldg"), Some("MTE"));
        assert_eq!(unadvertised(0xd9a0_0800, "st2g"), Some("MTE"));
        // `mov za0h.s[w12, 0], p0/m, z0.s` (SME).
        assert_eq!(unadvertised(0xc080_0000, "<undecodable>"), Some("SME"));
        // cpyfp [x3]!, [x1]!, x2! and setp [x3]!, x2!, x1 (MOPS).
        assert_eq!(unadvertised(0x1901_0443, "<undecodable>"), Some("MOPS"));
        assert_eq!(unadvertised(0x19c1_0443, "<undecodable>"), Some("MOPS"));
        // An advertised or base instruction is a real gap.
        assert_eq!(unadvertised(0x8b02_0020, "add"), None);
        assert_eq!(unadvertised(0x0000_0000, "udf"), None);
    }
}
