//! Guest page arithmetic (4 KiB pages, the same as the host's).
//!
//! Invariant: [`SIZE`] is a power of two; rounding up reports overflow
//! instead of wrapping.

/// The guest (and host) page size.
pub const SIZE: u64 = vmxlate_abi::guest::PAGE_SIZE;

const _: () = assert!(SIZE.is_power_of_two());

/// Rounds `addr` down to a page boundary.
pub const fn floor(addr: u64) -> u64 {
    addr & !(SIZE - 1)
}

/// Rounds `addr` up to a page boundary, or `None` on overflow.
pub const fn ceil(addr: u64) -> Option<u64> {
    match addr.checked_add(SIZE - 1) {
        Some(a) => Some(floor(a)),
        None => None,
    }
}

/// Whether `addr` is page-aligned.
pub const fn is_aligned(addr: u64) -> bool {
    addr & (SIZE - 1) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds() {
        assert_eq!(floor(0x1fff), 0x1000);
        assert_eq!(ceil(0x1001), Some(0x2000));
        assert_eq!(ceil(0x2000), Some(0x2000));
        assert_eq!(ceil(u64::MAX), None);
        assert!(is_aligned(0x3000) && !is_aligned(0x3001));
    }
}
