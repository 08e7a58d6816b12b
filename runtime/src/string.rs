//! Host implementations of the guest libc routines the translator binds
//! (`vmxlate_abi::Routine`): each takes the guest's x0..x2 and returns the
//! guest's x0.
//!
//! Most call the host C library, whose string functions are SIMD code
//! chosen for this CPU at load time (SSE2 to AVX-512). `memmove` is our
//! own SSE2 loop up to [`LIBC_MOVE_FROM`] bytes: glibc's `rep movsb` path
//! for mid-sized copies is several times slower on some x86 parts (AMD
//! EPYC here) than the guest's own NEON loop it replaces. Invariants:
//! guest memory is identity-mapped,
//! so guest pointers are host pointers; every routine returns exactly what
//! the C standard defines (no implementation-specific value reaches the
//! guest); `memcpy` is bound as `memmove`, which is defined for every input
//! `memcpy` is.

use core::ffi::{c_char, c_int, c_void};

extern "C" {
    fn rawmemchr(s: *const c_void, c: c_int) -> *mut c_void;
    fn strchrnul(s: *const c_char, c: c_int) -> *mut c_char;
    fn stpcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char;
}

/// The guest's `int` argument in a 64-bit register (upper bits are junk).
fn int(x: u64) -> c_int {
    x as u32 as c_int
}

/// Copies of at least this many bytes go to the host C library (whose
/// non-temporal large-copy path wins there).
const LIBC_MOVE_FROM: usize = 1 << 20;

/// `memmove(dst, src, n)`.
///
/// # Safety
/// The guest arguments satisfy `memmove`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_memmove(dst: u64, src: u64, n: u64) -> u64 {
    let (d, s, n) = (dst as *mut u8, src as *const u8, n as usize);
    // SAFETY: the caller's contract: both ranges are valid for `n` bytes.
    unsafe {
        if n >= LIBC_MOVE_FROM {
            libc::memmove(d.cast(), s.cast(), n);
        } else {
            simd_move(d, s, n);
        }
    }
    dst
}

/// memmove in SSE2 (every x86-64 has it): small sizes load everything
/// before storing; larger ones copy 64-byte chunks in the direction that
/// never overwrites unread source, with the far end loaded up front.
///
/// # Safety
/// `s..s+n` is readable and `d..d+n` writable.
unsafe fn simd_move(d: *mut u8, s: *const u8, n: usize) {
    use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};
    // SAFETY (whole body): every access is inside `s..s+n` or `d..d+n`.
    unsafe {
        let ld = |p: *const u8| _mm_loadu_si128(p.cast::<__m128i>());
        let st = |p: *mut u8, v| _mm_storeu_si128(p.cast::<__m128i>(), v);
        match n {
            0 => {}
            1..=3 => {
                let (a, b, c) = (*s, *s.add(n / 2), *s.add(n - 1));
                *d = a;
                *d.add(n / 2) = b;
                *d.add(n - 1) = c;
            }
            4..=7 => {
                let (a, b) = (
                    s.cast::<u32>().read_unaligned(),
                    s.add(n - 4).cast::<u32>().read_unaligned(),
                );
                d.cast::<u32>().write_unaligned(a);
                d.add(n - 4).cast::<u32>().write_unaligned(b);
            }
            8..=16 => {
                let (a, b) = (
                    s.cast::<u64>().read_unaligned(),
                    s.add(n - 8).cast::<u64>().read_unaligned(),
                );
                d.cast::<u64>().write_unaligned(a);
                d.add(n - 8).cast::<u64>().write_unaligned(b);
            }
            17..=32 => {
                let (a, b) = (ld(s), ld(s.add(n - 16)));
                st(d, a);
                st(d.add(n - 16), b);
            }
            33..=64 => {
                let (a, b, c, e) = (ld(s), ld(s.add(16)), ld(s.add(n - 32)), ld(s.add(n - 16)));
                st(d, a);
                st(d.add(16), b);
                st(d.add(n - 32), c);
                st(d.add(n - 16), e);
            }
            _ if (d as usize).wrapping_sub(s as usize) >= n => {
                // Forward: `d` is below `s` or the ranges are disjoint.
                let t = s.add(n - 64);
                let tail = [ld(t), ld(t.add(16)), ld(t.add(32)), ld(t.add(48))];
                let mut i = 0;
                while i + 64 < n {
                    let v = [
                        ld(s.add(i)),
                        ld(s.add(i + 16)),
                        ld(s.add(i + 32)),
                        ld(s.add(i + 48)),
                    ];
                    for (k, x) in v.into_iter().enumerate() {
                        st(d.add(i + 16 * k), x);
                    }
                    i += 64;
                }
                for (k, x) in tail.into_iter().enumerate() {
                    st(d.add(n - 64 + 16 * k), x);
                }
            }
            _ => {
                // Backward: `d` overlaps the source from above.
                let head = [ld(s), ld(s.add(16)), ld(s.add(32)), ld(s.add(48))];
                let mut i = n;
                while i > 64 {
                    let b = i - 64;
                    let v = [
                        ld(s.add(b)),
                        ld(s.add(b + 16)),
                        ld(s.add(b + 32)),
                        ld(s.add(b + 48)),
                    ];
                    for (k, x) in v.into_iter().enumerate() {
                        st(d.add(b + 16 * k), x);
                    }
                    i = b;
                }
                for (k, x) in head.into_iter().enumerate() {
                    st(d.add(16 * k), x);
                }
            }
        }
    }
}

/// `memset(dst, c, n)`.
///
/// # Safety
/// The guest arguments satisfy `memset`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_memset(dst: u64, c: u64, n: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::memset(dst as *mut c_void, int(c), n as usize) };
    dst
}

/// `strlen(s)`.
///
/// # Safety
/// The guest arguments satisfy `strlen`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strlen(s: u64, _: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strlen(s as *const c_char) as u64 }
}

/// `strnlen(s, max)`.
///
/// # Safety
/// The guest arguments satisfy `strnlen`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strnlen(s: u64, max: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strnlen(s as *const c_char, max as usize) as u64 }
}

/// `strspn(s, accept)`.
///
/// # Safety
/// The guest arguments satisfy `strspn`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strspn(s: u64, accept: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strspn(s as *const c_char, accept as *const c_char) as u64 }
}

/// `strcspn(s, reject)`.
///
/// # Safety
/// The guest arguments satisfy `strcspn`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strcspn(s: u64, reject: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strcspn(s as *const c_char, reject as *const c_char) as u64 }
}

/// `strpbrk(s, accept)`.
///
/// # Safety
/// The guest arguments satisfy `strpbrk`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strpbrk(s: u64, accept: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strpbrk(s as *const c_char, accept as *const c_char) as u64 }
}

/// `memchr(s, c, n)`.
///
/// # Safety
/// The guest arguments satisfy `memchr`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_memchr(s: u64, c: u64, n: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::memchr(s as *const c_void, int(c), n as usize) as u64 }
}

/// `rawmemchr(s, c)`.
///
/// # Safety
/// The guest arguments satisfy `rawmemchr`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_rawmemchr(s: u64, c: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { rawmemchr(s as *const c_void, int(c)) as u64 }
}

/// `strchr(s, c)`.
///
/// # Safety
/// The guest arguments satisfy `strchr`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strchr(s: u64, c: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strchr(s as *const c_char, int(c)) as u64 }
}

/// `strchrnul(s, c)`.
///
/// # Safety
/// The guest arguments satisfy `strchrnul`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strchrnul(s: u64, c: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { strchrnul(s as *const c_char, int(c)) as u64 }
}

/// `strrchr(s, c)`.
///
/// # Safety
/// The guest arguments satisfy `strrchr`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strrchr(s: u64, c: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strrchr(s as *const c_char, int(c)) as u64 }
}

/// `strcpy(dst, src)`.
///
/// # Safety
/// The guest arguments satisfy `strcpy`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strcpy(dst: u64, src: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { libc::strcpy(dst as *mut c_char, src as *const c_char) };
    dst
}

/// `stpcpy(dst, src)`.
///
/// # Safety
/// The guest arguments satisfy `stpcpy`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_stpcpy(dst: u64, src: u64, _: u64) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { stpcpy(dst as *mut c_char, src as *const c_char) as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr<T>(p: *const T) -> u64 {
        p as u64
    }

    #[test]
    fn search_routines_return_guest_pointers_or_zero() {
        let s = b"hello, world\0tail\0";
        let p = addr(s.as_ptr());
        // SAFETY: `s` is NUL-terminated and outlives the calls.
        unsafe {
            assert_eq!(vmx_libc_strlen(p, 0, 0), 12);
            assert_eq!(vmx_libc_strnlen(p, 5, 0), 5);
            assert_eq!(
                vmx_libc_strchr(p, u64::from(b'o') | 0xdead_0000_0000, 0),
                p + 4
            );
            assert_eq!(vmx_libc_strrchr(p, u64::from(b'o'), 0), p + 8);
            let set = c"leh".as_ptr() as u64;
            assert_eq!(vmx_libc_strspn(p, set, 0), 4);
            assert_eq!(vmx_libc_strcspn(p, set, 0), 0);
            assert_eq!(vmx_libc_strcspn(p + 4, set, 0), 6);
            let punct = c",;".as_ptr() as u64;
            assert_eq!(vmx_libc_strpbrk(p, punct, 0), p + 5);
            assert_eq!(vmx_libc_strpbrk(p, set + 3, 0), 0);
            assert_eq!(vmx_libc_strchr(p, u64::from(b'z'), 0), 0);
            assert_eq!(vmx_libc_strchr(p, 0, 0), p + 12);
            assert_eq!(vmx_libc_strchrnul(p, u64::from(b'z'), 0), p + 12);
            assert_eq!(vmx_libc_memchr(p, u64::from(b't'), 18), p + 13);
            assert_eq!(vmx_libc_memchr(p, u64::from(b't'), 13), 0);
            assert_eq!(vmx_libc_rawmemchr(p, u64::from(b'l'), 0), p + 2);
        }
    }

    #[test]
    fn memmove_matches_a_reference_for_every_size_and_overlap() {
        let pattern: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in 0..300usize {
            for shift in [-70isize, -17, -1, 0, 1, 5, 16, 64, 65, 300] {
                let mut got = pattern.clone();
                let mut want = pattern.clone();
                let (src, dst) = (150usize, (150 + shift) as usize);
                want.copy_within(src..src + n, dst);
                let base = got.as_mut_ptr() as u64;
                // SAFETY: both ranges lie inside `got`.
                let r = unsafe { vmx_libc_memmove(base + dst as u64, base + src as u64, n as u64) };
                assert_eq!(r, base + dst as u64);
                assert!(got == want, "n={n} shift={shift}");
            }
        }
    }

    #[test]
    fn copy_routines_return_what_c_defines() {
        let mut buf = *b"abcdefgh\0\0\0\0\0\0\0\0";
        let d = addr(buf.as_mut_ptr());
        // SAFETY: every access stays inside `buf`.
        unsafe {
            assert_eq!(vmx_libc_memmove(d + 2, d, 6), d + 2);
            assert_eq!(&buf[..8], b"ababcdef");
            assert_eq!(vmx_libc_memset(d, 0x1_0000_007a, 3), d);
            assert_eq!(&buf[..4], b"zzzb");
            let src = b"xy\0";
            assert_eq!(vmx_libc_strcpy(d + 8, addr(src.as_ptr()), 0), d + 8);
            assert_eq!(vmx_libc_stpcpy(d + 8, addr(src.as_ptr()), 0), d + 10);
            assert_eq!(&buf[8..11], b"xy\0");
        }
    }
}
