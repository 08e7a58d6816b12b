//! Host implementations of glibc's comparison routines (`strcmp`,
//! `memcmp`) that return exactly the values glibc 2.36's AArch64 code
//! returns, not only the same signs.
//!
//! The C standard fixes only the sign of a comparison, so these are bound
//! by fingerprint alone (`translator/src/bind/`): a guest function is
//! redirected here only when its bytes are that glibc build's, whose
//! results are, from its disassembly:
//! - `strcmp`: word-at-a-time. Where the first difference or terminator is
//!   found in a word, both words are shifted left by the leading zeros of
//!   (difference | NUL flags) in big-endian byte order and the top bytes
//!   subtracted (64-bit): the difference of the first differing bytes only
//!   when their top bits differ, otherwise a mix of that byte and the next
//!   one in the same word (strcmp("\x38", "") is 223, not 56). So
//!   [`vmx_libc_strcmp`] is a port of that code, with its word alignment.
//! - `memcmp` (also `bcmp`, `__memcmpeq`): 0, -1 or 1 in w0 (x0's upper
//!   half zero), except for n = 1 and n = 3 with equal first two bytes,
//!   which return the 32-bit difference of the last bytes.
//!
//! Invariants: both read only what glibc's code reads (aligned words up to
//! the one holding the terminator, or the `n` bytes), so they fault only
//! where the guest's own routine would.

use core::ffi::c_void;

/// `0x01` in every byte.
const REP01: u64 = 0x0101_0101_0101_0101;
/// `0x7f` in every byte.
const REP7F: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// glibc's NUL-byte flags of a word: bit 7 of the first zero byte and
/// possibly of later bytes (never of an earlier one).
fn has_nul(x: u64) -> u64 {
    x.wrapping_sub(REP01) & !(x | REP7F)
}

/// The word at `p` (AArch64 is little-endian, as x86).
///
/// # Safety
/// `p..p+8` is readable.
unsafe fn word(p: usize) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { (p as *const u64).read_unaligned() }
}

/// glibc's return sequence: the first flagged bit (in memory order) of
/// `stop` selects where both words are cut; the top bytes after the cut
/// are subtracted. Shifts are by the count mod 64, as AArch64's.
fn cut(stop: u64, a: u64, b: u64) -> u64 {
    let k = stop.swap_bytes().leading_zeros() & 63;
    let (a, b) = (a.swap_bytes() << k, b.swap_bytes() << k);
    (a >> 56).wrapping_sub(b >> 56)
}

/// `strcmp(a, b)` with glibc 2.36 AArch64's result: a port of its code.
///
/// # Safety
/// The guest arguments satisfy `strcmp`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_strcmp(a: u64, b: u64, _: u64) -> u64 {
    let (mut s1, mut s2) = (a as usize, b as usize);
    let off = s2.wrapping_sub(s1);
    // SAFETY (whole body): every word read is one glibc reads: aligned
    // words up to the one holding the terminator, and unaligned ones only
    // over two aligned words already known to be readable.
    unsafe {
        if off & 7 == 0 {
            let (mut d1, mut d2) = (word(s1 & !7), word((s1 & !7).wrapping_add(off)));
            if s1 & 7 != 0 {
                // The bytes before the strings compare equal and non-NUL.
                let before = u64::MAX >> (64 - 8 * (s1 & 7));
                d1 |= before;
                d2 |= before;
            }
            s1 = (s1 & !7) + 8;
            loop {
                let nul = has_nul(d1);
                if nul != 0 || d1 != d2 {
                    return cut((d1 ^ d2) | nul, d1, d2);
                }
                d1 = word(s1);
                d2 = word(s1.wrapping_add(off));
                s1 += 8;
            }
        }
        // Mutually misaligned: bytes until s1 is aligned...
        while s1 & 7 != 0 {
            let (x, y) = (*(s1 as *const u8), *(s2 as *const u8));
            if x == 0 || x != y {
                return u64::from(x).wrapping_sub(u64::from(y));
            }
            s1 += 1;
            s2 += 1;
        }
        // ...then s1's aligned words against s2's unaligned ones, with the
        // terminator searched in s2's aligned words (ahead of the window).
        let lag = 8 * (s2 & 7) as u32;
        let mut s2a = s2 & !7;
        let mut d7 = word(s2a) | (REP01 >> (64 - lag));
        s2a += 8;
        let mut nul = has_nul(d7);
        if nul == 0 {
            loop {
                d7 = word(s2a);
                let d2 = word(s2);
                nul = has_nul(d7);
                let d1 = word(s1);
                s1 += 8;
                s2 += 8;
                s2a += 8;
                if nul == 0 && d1 == d2 {
                    continue;
                }
                let stop = (nul << (64 - lag)) | (d1 ^ d2);
                if stop != 0 {
                    return cut(stop, d1, d2);
                }
                break;
            }
        }
        // The terminator is in d7 beyond the last window compared.
        let d1 = word(s1);
        let (d2, nul) = (d7 >> lag, nul >> lag);
        cut((d1 ^ d2) | nul, d1, d2)
    }
}

/// `memcmp(a, b, n)` with glibc 2.36 AArch64's result.
///
/// # Safety
/// The guest arguments satisfy `memcmp`'s contract.
#[no_mangle]
pub unsafe extern "C" fn vmx_libc_memcmp(a: u64, b: u64, n: u64) -> u64 {
    let (pa, pb, n) = (a as *const u8, b as *const u8, n as usize);
    // SAFETY: both ranges are readable for `n` bytes.
    unsafe {
        if n == 1 || (n == 3 && pa.cast::<[u8; 2]>().read() == pb.cast::<[u8; 2]>().read()) {
            let (x, y) = (*pa.add(n - 1), *pb.add(n - 1));
            return u64::from(u32::from(x).wrapping_sub(u32::from(y)));
        }
        let r = libc::memcmp(pa.cast::<c_void>(), pb.cast::<c_void>(), n);
        u64::from(r.signum() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value glibc 2.36's memcmp returns (module docs).
    fn glibc_memcmp(a: &[u8], b: &[u8], n: usize) -> u64 {
        if n == 1 || (n == 3 && a[..2] == b[..2]) {
            return u64::from(u32::from(a[n - 1]).wrapping_sub(u32::from(b[n - 1])));
        }
        u64::from(a[..n].cmp(&b[..n]) as i32 as u32)
    }

    #[test]
    fn strcmp_has_the_sign_of_the_first_stop_and_glibcs_magnitudes() {
        let mut buf = vec![0u8; 256];
        for len in 0..40usize {
            for (sa, sb) in [(0, 0), (3, 3), (1, 6), (7, 2), (0, 5)] {
                for d in 0..=len {
                    for delta in [0u8, 1, 0x38, 0x80, 0xff] {
                        buf.iter_mut()
                            .enumerate()
                            .for_each(|(i, v)| *v = (i * 29 + 3) as u8 | 1);
                        let (x, y) = (16 + sa, 128 + sb);
                        for i in 0..len {
                            buf[x + i] = 1 + (i % 200) as u8;
                            buf[y + i] = buf[x + i];
                        }
                        buf[x + len] = 0;
                        buf[y + len] = 0;
                        buf[x + d] = buf[x + d].wrapping_add(delta);
                        let stop = (0..)
                            .find(|&i| buf[x + i] == 0 || buf[x + i] != buf[y + i])
                            .unwrap();
                        let want = buf[x + stop].cmp(&buf[y + stop]);
                        let base = buf.as_ptr() as u64;
                        // SAFETY: both strings are NUL-terminated in `buf`.
                        let got = unsafe { vmx_libc_strcmp(base + x as u64, base + y as u64, 0) };
                        assert_eq!((got as i64).cmp(&0), want, "len={len} d={d} delta={delta}");
                        // The terminator flags come from the first string when
                        // the two are mutually aligned, else from the second:
                        // a cut at a flagged terminator is the byte difference.
                        let flagged = if sa == sb {
                            buf[x + stop]
                        } else {
                            buf[y + stop]
                        };
                        if want.is_eq() || flagged == 0 {
                            let diff =
                                u64::from(buf[x + stop]).wrapping_sub(u64::from(buf[y + stop]));
                            assert_eq!(got, diff, "len={len} d={d} delta={delta}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strcmp_mixes_the_next_byte_as_glibc_does() {
        // Recorded with qemu-aarch64 from glibc 2.36 (fixtures/src/strings.c
        // covers the rest): "\x38" against "" at 8-aligned addresses.
        let mut a = [0u64; 2];
        let mut b = [0u64; 2];
        a[0] = 0x0000_0000_0000_0138;
        b[0] = 0x0000_0000_0000_4000;
        // SAFETY: both are NUL-terminated inside their arrays.
        let got = unsafe { vmx_libc_strcmp(a.as_ptr() as u64, b.as_ptr() as u64, 0) };
        // Cut at bit 5 of byte 0: (0x38 << 2 | 0x01 >> 6) - (0x00 << 2 | 0x40 >> 6).
        assert_eq!(got, 0xe0u64.wrapping_sub(1));
    }

    #[test]
    fn memcmp_returns_glibcs_values_for_every_short_size() {
        for n in 0..40usize {
            for d in 0..n.max(1) {
                for delta in [0u8, 1, 0x80, 0xff] {
                    let a: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
                    let mut b = a.clone();
                    if d < n {
                        b[d] = b[d].wrapping_add(delta);
                    }
                    for (p, q) in [(&a, &b), (&b, &a)] {
                        // SAFETY: both hold `n` bytes.
                        let got = unsafe {
                            vmx_libc_memcmp(p.as_ptr() as u64, q.as_ptr() as u64, n as u64)
                        };
                        assert_eq!(got, glibc_memcmp(p, q, n), "n={n} d={d} delta={delta}");
                    }
                }
            }
        }
    }
}
