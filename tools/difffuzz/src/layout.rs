//! The per-case record: the guest state a case starts from and, after the
//! harness has run the case, the state it ended in (the harness overwrites
//! the record in place and writes it to stdout).
//!
//! Invariants: `REC` is a multiple of 16 and records are 16-byte aligned,
//! so the scratch area and the vector block are 16-byte aligned too; the
//! offsets here are the ones the harness code in `program.rs` uses.

/// Offset of X0 (X0..X30 follow, 8 bytes each).
pub const OFF_X: usize = 0;
/// Offset of SP.
pub const OFF_SP: usize = 248;
/// Offset of NZCV (as MRS NZCV reads it: flags in bits 31..28).
pub const OFF_NZCV: usize = 256;
/// Offset of FPCR.
pub const OFF_FPCR: usize = 264;
/// Offset of FPSR (input ignored: the harness clears FPSR).
pub const OFF_FPSR: usize = 272;
/// Offset of V0 (V0..V31 follow, 16 bytes each).
pub const OFF_V: usize = 288;
/// Offset of the scratch memory area that memory instructions access.
pub const OFF_MEM: usize = 800;
/// Size of the scratch area.
pub const SCRATCH: usize = 256;
/// Size of one record.
pub const REC: usize = OFF_MEM + SCRATCH;

/// Architectural state of one case, as stored in a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// X0..X30.
    pub x: [u64; 31],
    /// SP.
    pub sp: u64,
    /// NZCV in bits 31..28.
    pub nzcv: u64,
    /// FPCR.
    pub fpcr: u64,
    /// FPSR.
    pub fpsr: u64,
    /// V0..V31.
    pub v: [u128; 32],
    /// The scratch area.
    pub mem: [u8; SCRATCH],
}

impl Default for State {
    fn default() -> Self {
        State {
            x: [0; 31],
            sp: 0,
            nzcv: 0,
            fpcr: 0,
            fpsr: 0,
            v: [0; 32],
            mem: [0; SCRATCH],
        }
    }
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

impl State {
    /// The record bytes for this state.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; REC];
        for (k, x) in self.x.iter().enumerate() {
            b[OFF_X + 8 * k..][..8].copy_from_slice(&x.to_le_bytes());
        }
        b[OFF_SP..][..8].copy_from_slice(&self.sp.to_le_bytes());
        b[OFF_NZCV..][..8].copy_from_slice(&self.nzcv.to_le_bytes());
        b[OFF_FPCR..][..8].copy_from_slice(&self.fpcr.to_le_bytes());
        b[OFF_FPSR..][..8].copy_from_slice(&self.fpsr.to_le_bytes());
        for (k, v) in self.v.iter().enumerate() {
            b[OFF_V + 16 * k..][..16].copy_from_slice(&v.to_le_bytes());
        }
        b[OFF_MEM..].copy_from_slice(&self.mem);
        b
    }

    /// Parses one record (`b.len() >= REC`).
    pub fn from_bytes(b: &[u8]) -> State {
        let mut s = State::default();
        for k in 0..31 {
            s.x[k] = u64_at(b, OFF_X + 8 * k);
        }
        s.sp = u64_at(b, OFF_SP);
        s.nzcv = u64_at(b, OFF_NZCV);
        s.fpcr = u64_at(b, OFF_FPCR);
        s.fpsr = u64_at(b, OFF_FPSR);
        for k in 0..32 {
            s.v[k] = u128::from_le_bytes(b[OFF_V + 16 * k..][..16].try_into().expect("16 bytes"));
        }
        s.mem.copy_from_slice(&b[OFF_MEM..REC]);
        s
    }

    /// Every field that differs from `other`, as `(name, ours, theirs)`
    /// text, in register order; memory differences as one entry per run of
    /// differing bytes.
    pub fn diff(&self, other: &State) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let mut push = |name: String, a: String, b: String| out.push((name, a, b));
        for k in 0..31 {
            if self.x[k] != other.x[k] {
                push(
                    format!("x{k}"),
                    format!("{:#x}", self.x[k]),
                    format!("{:#x}", other.x[k]),
                );
            }
        }
        for (name, a, b) in [
            ("sp", self.sp, other.sp),
            ("nzcv", self.nzcv, other.nzcv),
            ("fpcr", self.fpcr, other.fpcr),
            ("fpsr", self.fpsr, other.fpsr),
        ] {
            if a != b {
                push(name.into(), format!("{a:#x}"), format!("{b:#x}"));
            }
        }
        for k in 0..32 {
            if self.v[k] != other.v[k] {
                push(
                    format!("v{k}"),
                    format!("{:#034x}", self.v[k]),
                    format!("{:#034x}", other.v[k]),
                );
            }
        }
        let mut k = 0;
        while k < SCRATCH {
            if self.mem[k] == other.mem[k] {
                k += 1;
                continue;
            }
            let start = k;
            while k < SCRATCH && self.mem[k] != other.mem[k] {
                k += 1;
            }
            let hex = |m: &[u8]| m.iter().map(|b| format!("{b:02x}")).collect::<String>();
            push(
                format!("mem[{start:#x}..{k:#x}]"),
                hex(&self.mem[start..k]),
                hex(&other.mem[start..k]),
            );
        }
        out
    }
}
