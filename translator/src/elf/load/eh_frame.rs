//! `.eh_frame` reader: the address range of every FDE.
//!
//! Only what discovery needs is decoded: CIE augmentations (to learn the
//! FDE pointer encodings) and each FDE's `pc_begin` / `pc_range` / LSDA
//! pointer. Call-frame instructions are skipped.
//!
//! Invariants: never panics on malformed bytes; a malformed record ends the
//! walk and keeps the FDEs read so far (the program may still run, only
//! discovery loses seeds). Returned FDE starts are biased and lengths
//! nonzero.

use rustc_hash::FxHashMap;

// DWARF EH pointer encodings (low nibble: format; bits 4..6: application).
const PE_ABSPTR: u8 = 0x00;
const PE_ULEB128: u8 = 0x01;
const PE_UDATA2: u8 = 0x02;
const PE_UDATA4: u8 = 0x03;
const PE_UDATA8: u8 = 0x04;
const PE_SLEB128: u8 = 0x09;
const PE_SDATA2: u8 = 0x0a;
/// `DW_EH_PE_SDATA4`.
pub(crate) const PE_SDATA4: u8 = 0x0b;
const PE_SDATA8: u8 = 0x0c;
/// `DW_EH_PE_PCREL`.
pub(crate) const PE_PCREL: u8 = 0x10;
/// `DW_EH_PE_omit`: no value present.
pub(super) const PE_OMIT: u8 = 0xff;

/// A little-endian byte cursor that reports running off the end as `None`.
pub(super) struct Cursor<'a> {
    /// The bytes read.
    pub data: &'a [u8],
    /// Position of the next byte.
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub(super) fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    pub(super) fn uleb(&mut self) -> Option<u64> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            if shift < 64 {
                value |= u64::from(byte & 0x7f) << shift;
            }
            shift = shift.saturating_add(7);
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            if shift < 64 {
                value |= i64::from(byte & 0x7f) << shift;
            }
            shift = shift.saturating_add(7);
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Some(value);
            }
        }
    }

    fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let len = rest.iter().position(|&b| b == 0)?;
        let s = self.bytes(len)?;
        self.pos = self.pos.checked_add(1)?;
        Some(s)
    }

    /// Reads a value in DWARF EH pointer encoding `enc`; `field_vaddr` is the
    /// unbiased address of the field (for `DW_EH_PE_PCREL`). Applications
    /// other than absolute and pc-relative are not supported (`None`).
    pub(super) fn encoded(&mut self, enc: u8, field_vaddr: u64, apply: bool) -> Option<u64> {
        let raw = match enc & 0x0f {
            PE_ABSPTR | PE_UDATA8 | PE_SDATA8 => self.u64()?,
            PE_ULEB128 => self.uleb()?,
            PE_UDATA2 => u64::from(self.u16()?),
            PE_UDATA4 => u64::from(self.u32()?),
            PE_SLEB128 => self.sleb()? as u64,
            PE_SDATA2 => self.u16()? as i16 as i64 as u64,
            PE_SDATA4 => self.u32()? as i32 as i64 as u64,
            _ => return None,
        };
        if !apply {
            return Some(raw);
        }
        match enc & 0x70 {
            PE_ABSPTR => Some(raw),
            PE_PCREL => Some(field_vaddr.wrapping_add(raw)),
            _ => None,
        }
    }
}

/// What an FDE needs from its CIE.
#[derive(Clone, Copy)]
struct Cie {
    /// Encoding of `pc_begin` / `pc_range`.
    fde_enc: u8,
    /// Encoding of the FDE's LSDA pointer ('L'), if any.
    lsda_enc: Option<u8>,
    /// Augmentation "z": FDEs carry augmentation data.
    augmented: bool,
}

/// One FDE: the code range it covers and its language-specific data area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fde {
    /// Biased start address.
    pub start: u64,
    /// Length in bytes (nonzero).
    pub len: u64,
    /// Unbiased address of the LSDA (`.gcc_except_table` entry), if any.
    pub lsda: Option<u64>,
}

/// Parses one CIE body (after the CIE id).
fn parse_cie(c: &mut Cursor<'_>, base: u64) -> Option<Cie> {
    let version = c.u8()?;
    let aug = c.cstr()?;
    if aug.contains(&b'e') {
        // "eh": obsolete GCC augmentation with an extra pointer.
        c.u64()?;
    }
    c.uleb()?; // code alignment
    c.sleb()?; // data alignment
    if version == 1 {
        c.u8()?;
    } else {
        c.uleb()?;
    }
    let mut fde_enc = PE_ABSPTR;
    let mut lsda_enc = None;
    let augmented = aug.first() == Some(&b'z');
    if augmented {
        c.uleb()?; // augmentation data length
        for &ch in aug.get(1..)? {
            match ch {
                b'R' => fde_enc = c.u8()?,
                b'L' => lsda_enc = Some(c.u8()?),
                b'P' => {
                    let enc = c.u8()?;
                    let vaddr = base.wrapping_add(c.pos as u64);
                    c.encoded(enc & 0x7f, vaddr, false)?;
                }
                b'S' | b'B' | b'G' => {}
                _ => break,
            }
        }
    }
    Some(Cie {
        fde_enc,
        lsda_enc,
        augmented,
    })
}

/// Every FDE in `data` (the bytes of `.eh_frame`, whose first byte is at
/// unbiased address `vaddr`), in file order.
pub(crate) fn fdes(data: &[u8], vaddr: u64, bias: u64) -> Vec<Fde> {
    let mut out = Vec::new();
    let mut cies: FxHashMap<usize, Option<Cie>> = FxHashMap::default();
    let mut c = Cursor { data, pos: 0 };
    while c.pos < data.len() {
        let Some(len32) = c.u32() else { break };
        if len32 == 0 {
            break; // terminator
        }
        let len = if len32 == u32::MAX {
            match c.u64() {
                Some(l) => l,
                None => break,
            }
        } else {
            u64::from(len32)
        };
        let body = c.pos;
        let Some(end) = usize::try_from(len).ok().and_then(|l| body.checked_add(l)) else {
            break;
        };
        let Some(body_bytes) = data.get(..end) else {
            break;
        };
        let mut r = Cursor {
            data: body_bytes,
            pos: body,
        };
        let Some(id) = r.u32() else { break };
        if id != 0 {
            // FDE: `id` is the distance back from the id field to its CIE.
            if let Some(fde) = cie_for(data, body, id, vaddr, &mut cies)
                .and_then(|cie| parse_fde(&mut r, cie, vaddr, bias))
            {
                out.push(fde);
            }
        }
        c.pos = end;
    }
    out
}

/// The CIE an FDE whose CIE-pointer field sits at `field` refers to
/// (parsed once and cached).
fn cie_for(
    data: &[u8],
    field: usize,
    id: u32,
    vaddr: u64,
    cies: &mut FxHashMap<usize, Option<Cie>>,
) -> Option<Cie> {
    let at = field.checked_sub(id as usize)?;
    *cies.entry(at).or_insert_with(|| {
        let mut c = Cursor { data, pos: at };
        let len = c.u32()?;
        if len == 0 || len == u32::MAX {
            return None;
        }
        let end = c.pos.checked_add(len as usize)?;
        let mut r = Cursor {
            data: data.get(..end)?,
            pos: c.pos,
        };
        if r.u32()? != 0 {
            return None;
        }
        parse_cie(&mut r, vaddr)
    })
}

/// Parses an FDE's address range and LSDA pointer (the cursor is just past
/// the CIE pointer).
fn parse_fde(r: &mut Cursor<'_>, cie: Cie, vaddr: u64, bias: u64) -> Option<Fde> {
    if cie.fde_enc == PE_OMIT || cie.fde_enc & 0x80 != 0 {
        return None;
    }
    let field = vaddr.checked_add(r.pos as u64)?;
    let start = r.encoded(cie.fde_enc, field, true)?;
    let len = r.encoded(cie.fde_enc & 0x0f, 0, false)?;
    if len == 0 || start == 0 {
        return None;
    }
    let mut lsda = None;
    if cie.augmented {
        r.uleb()?;
        if let Some(enc) = cie.lsda_enc.filter(|&e| e != PE_OMIT && e & 0x80 == 0) {
            let field = vaddr.checked_add(r.pos as u64)?;
            lsda = r.encoded(enc, field, true).filter(|&a| a != 0);
        }
    }
    Some(Fde {
        start: start.checked_add(bias)?,
        len,
        lsda,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CIE with augmentation "zR" (pcrel|sdata4) and one FDE covering
    /// 0x1000..0x1040 when `.eh_frame` sits at 0x2000.
    fn sample() -> Vec<u8> {
        let mut v = Vec::new();
        // CIE: length, id 0, version 1, "zR\0", code align 4, data align -8,
        // ra 30, aug len 1, enc 0x1b, padding.
        let cie_body = [
            0u8, 0, 0, 0, 1, b'z', b'R', 0, 4, 0x78, 30, 1, 0x1b, 0, 0, 0,
        ];
        v.extend_from_slice(&(cie_body.len() as u32).to_le_bytes());
        v.extend_from_slice(&cie_body);
        let fde_at = v.len();
        let mut fde = Vec::new();
        fde.extend_from_slice(&((fde_at + 4) as u32).to_le_bytes());
        let pc_field = 0x2000 + fde_at as i64 + 8;
        fde.extend_from_slice(&((0x1000 - pc_field) as i32).to_le_bytes());
        fde.extend_from_slice(&0x40u32.to_le_bytes());
        fde.push(0); // aug len
        fde.extend_from_slice(&[0, 0, 0]);
        v.extend_from_slice(&(fde.len() as u32).to_le_bytes());
        v.extend_from_slice(&fde);
        v.extend_from_slice(&0u32.to_le_bytes());
        v
    }

    #[test]
    fn reads_pcrel_sdata4_fde() {
        let fde = |start| Fde {
            start,
            len: 0x40,
            lsda: None,
        };
        assert_eq!(fdes(&sample(), 0x2000, 0), vec![fde(0x1000)]);
        assert_eq!(fdes(&sample(), 0x2000, 0x10_0000), vec![fde(0x10_1000)]);
    }

    #[test]
    fn truncated_input_never_panics() {
        let s = sample();
        for n in 0..s.len() {
            let _ = fdes(&s[..n], 0x2000, 0);
        }
        for i in 0..s.len() {
            let mut t = s.clone();
            t[i] ^= 0xa5;
            let _ = fdes(&t, 0x2000, 0);
        }
    }
}
