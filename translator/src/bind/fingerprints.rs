//! Fingerprints of glibc's libc routine implementations, for binding them
//! in stripped programs: the length and FNV-1a hash of each function's
//! canonical bytes (`super::canonical`). Generated from the AArch64 glibc
//! (libc.a and libm.a) the cross toolchain ships
//! (`VMXLATE_BLESS=1 cargo test -p vmxlate bind::tests`); the test checks
//! the table against that library whenever it is installed.

use vmxlate_abi::Routine;

/// One fingerprinted implementation (its glibc symbol in the comment).
pub struct Fingerprint {
    /// Function length in bytes.
    pub len: u64,
    /// FNV-1a of the function's bytes.
    pub hash: u64,
    /// The routine it implements.
    pub routine: Routine,
}

/// Debian bookworm's glibc 2.36 (libc6-dev-arm64-cross).
pub const GLIBC: &[Fingerprint] = &[
    // __cos
    Fingerprint {
        len: 1852,
        hash: 0x727def34952d1a6c,
        routine: Routine::Cos,
    },
    // __cosf
    Fingerprint {
        len: 468,
        hash: 0xb50d65247183bf7c,
        routine: Routine::Cosf,
    },
    // __exp
    Fingerprint {
        len: 368,
        hash: 0x19ec425af38580e9,
        routine: Routine::Exp,
    },
    // __expf
    Fingerprint {
        len: 224,
        hash: 0xa7ba42610d2faea8,
        routine: Routine::Expf,
    },
    // __log
    Fingerprint {
        len: 444,
        hash: 0x77ac92673e1fcbed,
        routine: Routine::Log,
    },
    // __logf
    Fingerprint {
        len: 224,
        hash: 0x9087c71a1fd6332a,
        routine: Routine::Logf,
    },
    // __memchr_generic
    Fingerprint {
        len: 192,
        hash: 0x5e8a8e8b3ef18db3,
        routine: Routine::Memchr,
    },
    // __memchr_nosimd
    Fingerprint {
        len: 224,
        hash: 0x1e865800ad610a06,
        routine: Routine::Memchr,
    },
    // __memcpy_a64fx
    Fingerprint {
        len: 552,
        hash: 0x9530bf2d02ee5039,
        routine: Routine::Memmove,
    },
    // __memcpy_falkor
    Fingerprint {
        len: 364,
        hash: 0xbae1fa4eea8444ca,
        routine: Routine::Memmove,
    },
    // __memcpy_generic
    Fingerprint {
        len: 396,
        hash: 0xf514c486c0c9978d,
        routine: Routine::Memmove,
    },
    // __memcpy_simd
    Fingerprint {
        len: 316,
        hash: 0x145a04c90ead0a56,
        routine: Routine::Memmove,
    },
    // __memcpy_sve
    Fingerprint {
        len: 252,
        hash: 0x7f3533ee28aab6ea,
        routine: Routine::Memmove,
    },
    // __memcpy_thunderx
    Fingerprint {
        len: 636,
        hash: 0x61b23770fe2ea3d1,
        routine: Routine::Memmove,
    },
    // __memcpy_thunderx2
    Fingerprint {
        len: 1748,
        hash: 0xc2e688ed073414ac,
        routine: Routine::Memmove,
    },
    // __memmove_a64fx
    Fingerprint {
        len: 308,
        hash: 0xcdabfca84784e0c8,
        routine: Routine::Memmove,
    },
    // __memmove_falkor
    Fingerprint {
        len: 244,
        hash: 0xf3dd7e9fad8537c2,
        routine: Routine::Memmove,
    },
    // __memmove_generic
    Fingerprint {
        len: 220,
        hash: 0x258922bbd37a4379,
        routine: Routine::Memmove,
    },
    // __memmove_simd
    Fingerprint {
        len: 176,
        hash: 0x99e3a192c20a5d3a,
        routine: Routine::Memmove,
    },
    // __memmove_sve
    Fingerprint {
        len: 176,
        hash: 0x7a623d7f422585c6,
        routine: Routine::Memmove,
    },
    // __memmove_thunderx
    Fingerprint {
        len: 20,
        hash: 0xddd5324ba25e67b7,
        routine: Routine::Memmove,
    },
    // __memmove_thunderx2
    Fingerprint {
        len: 32,
        hash: 0x3de9fa1a164c4d1b,
        routine: Routine::Memmove,
    },
    // __memset_a64fx
    Fingerprint {
        len: 392,
        hash: 0x78303f910d3fbcf6,
        routine: Routine::Memset,
    },
    // __memset_emag
    Fingerprint {
        len: 224,
        hash: 0x23371393b2488144,
        routine: Routine::Memset,
    },
    // __memset_falkor
    Fingerprint {
        len: 292,
        hash: 0x4ccb4ca87fd571d5,
        routine: Routine::Memset,
    },
    // __memset_generic
    Fingerprint {
        len: 492,
        hash: 0xaa5d8eac0e389a89,
        routine: Routine::Memset,
    },
    // __memset_kunpeng
    Fingerprint {
        len: 256,
        hash: 0x5ec69bc205f3850a,
        routine: Routine::Memset,
    },
    // __pow
    Fingerprint {
        len: 1164,
        hash: 0x82b24b87536d5a28,
        routine: Routine::Pow,
    },
    // __powf
    Fingerprint {
        len: 832,
        hash: 0xbd9b25ae659c48c2,
        routine: Routine::Powf,
    },
    // __rawmemchr
    Fingerprint {
        len: 36,
        hash: 0x7810a59090b19dcc,
        routine: Routine::Rawmemchr,
    },
    // __sin
    Fingerprint {
        len: 1884,
        hash: 0xc7ae2f2cd176c1c2,
        routine: Routine::Sin,
    },
    // __sinf
    Fingerprint {
        len: 472,
        hash: 0xee8a6a72d1d1ded1,
        routine: Routine::Sinf,
    },
    // __stpcpy
    Fingerprint {
        len: 320,
        hash: 0x2c07b85fd4957f4f,
        routine: Routine::Stpcpy,
    },
    // __strchrnul
    Fingerprint {
        len: 112,
        hash: 0x796e90d55cbf7075,
        routine: Routine::Strchrnul,
    },
    // __strlen_asimd
    Fingerprint {
        len: 316,
        hash: 0x7b54e80bfa4f7023,
        routine: Routine::Strlen,
    },
    // __strlen_mte
    Fingerprint {
        len: 112,
        hash: 0x5eeece01b72f6165,
        routine: Routine::Strlen,
    },
    // __strnlen
    Fingerprint {
        len: 192,
        hash: 0xd5d6a4a1414f1f29,
        routine: Routine::Strnlen,
    },
    // index
    Fingerprint {
        len: 160,
        hash: 0xe9e9fa96b1b8bf0e,
        routine: Routine::Strchr,
    },
    // memcmp
    Fingerprint {
        len: 456,
        hash: 0x2e45a7087de08860,
        routine: Routine::Memcmp,
    },
    // rindex
    Fingerprint {
        len: 288,
        hash: 0x3d45aebd241baab7,
        routine: Routine::Strrchr,
    },
    // strcmp
    Fingerprint {
        len: 308,
        hash: 0x2d2ee6da54fbdefd,
        routine: Routine::Strcmp,
    },
    // strcpy
    Fingerprint {
        len: 284,
        hash: 0xd2343935943724a5,
        routine: Routine::Strcpy,
    },
    // strcspn
    Fingerprint {
        len: 332,
        hash: 0x078e31404c564985,
        routine: Routine::Strcspn,
    },
    // strpbrk
    Fingerprint {
        len: 48,
        hash: 0x31552a094b443d30,
        routine: Routine::Strpbrk,
    },
    // strspn
    Fingerprint {
        len: 336,
        hash: 0x4a2a5de07d964b40,
        routine: Routine::Strspn,
    },
];
