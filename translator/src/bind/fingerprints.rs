//! Fingerprints of glibc's libc routine implementations, for binding them
//! in stripped programs: the length and FNV-1a hash of each function's
//! bytes. Generated from the AArch64 glibc the cross toolchain ships
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
    // __memchr_generic
    Fingerprint {
        len: 192,
        hash: 0x712169fd7bc8bbd7,
        routine: Routine::Memchr,
    },
    // __memchr_nosimd
    Fingerprint {
        len: 224,
        hash: 0x73d386077ea0ee8d,
        routine: Routine::Memchr,
    },
    // __memcpy_falkor
    Fingerprint {
        len: 364,
        hash: 0x102cc644dedbd65a,
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
        hash: 0x52fe5e3df6aa6a1a,
        routine: Routine::Memmove,
    },
    // __memcpy_thunderx
    Fingerprint {
        len: 636,
        hash: 0x9d2abc7d3e2d0753,
        routine: Routine::Memmove,
    },
    // __memmove_falkor
    Fingerprint {
        len: 244,
        hash: 0xed60bec9a67c49d2,
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
    // __memset_emag
    Fingerprint {
        len: 224,
        hash: 0x23371393b2488144,
        routine: Routine::Memset,
    },
    // __memset_falkor
    Fingerprint {
        len: 292,
        hash: 0x4d9e42e189752bee,
        routine: Routine::Memset,
    },
    // __memset_generic
    Fingerprint {
        len: 492,
        hash: 0xf8f28a99d02c9322,
        routine: Routine::Memset,
    },
    // __memset_kunpeng
    Fingerprint {
        len: 256,
        hash: 0xd4c063d268c1e52a,
        routine: Routine::Memset,
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
        hash: 0xefe2352f7f03df63,
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
        hash: 0x3360510820479d25,
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
        hash: 0xdba90ade40e301cf,
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
        hash: 0xf4ed328805ddcb3c,
        routine: Routine::Strcmp,
    },
    // strcpy
    Fingerprint {
        len: 284,
        hash: 0xd2343935943724a5,
        routine: Routine::Strcpy,
    },
];
