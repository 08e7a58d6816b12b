//! Landing pads from a GCC language-specific data area (`.gcc_except_table`
//! entry of an FDE): the addresses the unwinder resumes at for C++ catch
//! blocks and cleanups (glibc's cancellation cleanups too).
//!
//! Invariants: never panics on malformed bytes (a malformed table yields
//! the pads read so far); pads are biased.

use super::eh_frame::{Cursor, PE_OMIT};

/// The landing pads of the LSDA whose bytes start `bytes` (at unbiased
/// address `vaddr`), for the function that starts at biased `func_start`.
pub(crate) fn landing_pads(bytes: &[u8], vaddr: u64, func_start: u64, bias: u64) -> Vec<u64> {
    let mut pads = Vec::new();
    read(bytes, vaddr, func_start, bias, &mut pads);
    pads
}

fn read(bytes: &[u8], vaddr: u64, func_start: u64, bias: u64, pads: &mut Vec<u64>) -> Option<()> {
    let mut c = Cursor {
        data: bytes,
        pos: 0,
    };
    let lp_enc = c.u8()?;
    let lp_start = if lp_enc == PE_OMIT {
        func_start
    } else {
        let field = vaddr.checked_add(c.pos as u64)?;
        c.encoded(lp_enc, field, true)?.checked_add(bias)?
    };
    if c.u8()? != PE_OMIT {
        c.uleb()?; // type table offset
    }
    let cs_enc = c.u8()?;
    let table_len = usize::try_from(c.uleb()?).ok()?;
    let end = c.pos.checked_add(table_len)?;
    while c.pos < end {
        c.encoded(cs_enc, 0, false)?; // call-site start
        c.encoded(cs_enc, 0, false)?; // call-site length
        let pad = c.encoded(cs_enc, 0, false)?;
        c.uleb()?; // action
        if pad != 0 {
            pads.push(lp_start.checked_add(pad)?);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_uleb_call_sites() {
        // lpstart omitted, no type table, uleb128 call sites: two sites, the
        // second with a landing pad at +0x40.
        let lsda = [
            0xff, 0xff, 0x01, 8, 0x04, 0x08, 0x00, 0x00, 0x10, 0x08, 0x40, 0x00,
        ];
        assert_eq!(landing_pads(&lsda, 0x5000, 0x40_1000, 0), vec![0x40_1040]);
        for n in 0..lsda.len() {
            let _ = landing_pads(&lsda[..n], 0x5000, 0x40_1000, 0);
        }
    }
}
