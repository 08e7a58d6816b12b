//! The initial guest stack, laid out exactly as Linux/AArch64 `execve`
//! leaves it.
//!
//! From the top down: an 8-byte zero, the `AT_EXECFN` string, the
//! environment strings, the argument strings (`argv[0]` lowest), then, 16-byte
//! aligned, the `AT_PLATFORM` string and the 16 `AT_RANDOM` bytes, and at the
//! 16-byte aligned stack pointer: `argc`, `argv[]`, NULL, `envp[]`, NULL and
//! the auxiliary vector in the kernel's order, ending with `AT_NULL`.
//!
//! Invariant: [`build`] is a pure function of its inputs over a byte buffer
//! that stands for the memory just below `top`; it never writes outside it.

use core::fmt;

/// Auxiliary vector keys (the generic values AArch64 uses).
pub mod at {
    /// End of the vector.
    pub const NULL: u64 = 0;
    /// Program headers of the program.
    pub const PHDR: u64 = 3;
    /// Size of one program header.
    pub const PHENT: u64 = 4;
    /// Number of program headers.
    pub const PHNUM: u64 = 5;
    /// Page size.
    pub const PAGESZ: u64 = 6;
    /// Interpreter base (0: none).
    pub const BASE: u64 = 7;
    /// Flags (0).
    pub const FLAGS: u64 = 8;
    /// Program entry point.
    pub const ENTRY: u64 = 9;
    /// Real user id.
    pub const UID: u64 = 11;
    /// Effective user id.
    pub const EUID: u64 = 12;
    /// Real group id.
    pub const GID: u64 = 13;
    /// Effective group id.
    pub const EGID: u64 = 14;
    /// Address of the platform string.
    pub const PLATFORM: u64 = 15;
    /// Hardware capabilities.
    pub const HWCAP: u64 = 16;
    /// Clock ticks per second for `times`.
    pub const CLKTCK: u64 = 17;
    /// Secure mode (setuid) flag.
    pub const SECURE: u64 = 23;
    /// Address of 16 random bytes.
    pub const RANDOM: u64 = 25;
    /// More hardware capabilities.
    pub const HWCAP2: u64 = 26;
    /// Address of the executed file name.
    pub const EXECFN: u64 = 31;
    /// Stack needed for signal delivery (AArch64).
    pub const MINSIGSTKSZ: u64 = 51;
}

/// The platform string AArch64 Linux reports.
pub const PLATFORM: &[u8] = b"aarch64";

/// `AT_MINSIGSTKSZ` of arm64 Linux 6.x without SVE/SME: `sizeof(struct
/// rt_sigframe)` (4688) + a frame record (16) + alignment padding (16).
pub const MINSIGSTKSZ: u64 = 4720;

/// Values of the auxiliary vector that do not point into the stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxValues {
    /// `AT_PHDR`: guest address of the program headers.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_ENTRY`: biased entry point.
    pub entry: u64,
    /// `AT_UID`.
    pub uid: u64,
    /// `AT_EUID`.
    pub euid: u64,
    /// `AT_GID`.
    pub gid: u64,
    /// `AT_EGID`.
    pub egid: u64,
    /// `AT_HWCAP`.
    pub hwcap: u64,
    /// `AT_HWCAP2`.
    pub hwcap2: u64,
}

/// Everything the initial stack holds.
#[derive(Clone, Copy, Debug)]
pub struct StackContents<'a> {
    /// Argument strings, without terminating NULs.
    pub argv: &'a [&'a [u8]],
    /// Environment strings (`NAME=value`), without terminating NULs.
    pub envp: &'a [&'a [u8]],
    /// The `AT_EXECFN` string, without its NUL.
    pub execfn: &'a [u8],
    /// The `AT_RANDOM` bytes.
    pub random: [u8; 16],
    /// The remaining auxiliary values.
    pub aux: AuxValues,
}

/// The buffer is too small for the strings and tables.
#[derive(Debug, PartialEq, Eq)]
pub struct StackTooSmall;

impl fmt::Display for StackTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("arguments and environment do not fit on the stack")
    }
}

/// A downward-growing cursor over `mem`, which stands for `[top - len, top)`.
struct Cursor<'m> {
    mem: &'m mut [u8],
    top: u64,
    sp: u64,
}

impl Cursor<'_> {
    fn base(&self) -> u64 {
        self.top - self.mem.len() as u64
    }

    /// Moves down by `n` bytes and returns the new position.
    fn down(&mut self, n: u64) -> Result<u64, StackTooSmall> {
        let sp = self.sp.checked_sub(n).ok_or(StackTooSmall)?;
        if sp < self.base() {
            return Err(StackTooSmall);
        }
        self.sp = sp;
        Ok(sp)
    }

    fn align_down(&mut self, align: u64) -> Result<(), StackTooSmall> {
        let sp = self.sp & !(align - 1);
        self.down(self.sp - sp).map(drop)
    }

    fn write(&mut self, at: u64, bytes: &[u8]) {
        let i = (at - self.base()) as usize;
        self.mem[i..i + bytes.len()].copy_from_slice(bytes);
    }

    /// Pushes `bytes` followed by a NUL; returns their address.
    fn push_str(&mut self, bytes: &[u8]) -> Result<u64, StackTooSmall> {
        let at = self.down(bytes.len() as u64 + 1)?;
        self.write(at, bytes);
        self.write(at + bytes.len() as u64, &[0]);
        Ok(at)
    }
}

/// Lays out the initial stack in `mem` (the memory just below `top`, which
/// must be 16-byte aligned) and returns the initial stack pointer.
pub fn build(mem: &mut [u8], top: u64, c: &StackContents<'_>) -> Result<u64, StackTooSmall> {
    let mut s = Cursor { mem, top, sp: top };
    s.down(8)?;
    s.write(s.sp, &[0; 8]);
    let execfn = s.push_str(c.execfn)?;
    let mut envp: Vec<u64> = c
        .envp
        .iter()
        .rev()
        .map(|e| s.push_str(e))
        .collect::<Result<_, _>>()?;
    envp.reverse();
    let mut argv: Vec<u64> = c
        .argv
        .iter()
        .rev()
        .map(|a| s.push_str(a))
        .collect::<Result<_, _>>()?;
    argv.reverse();
    s.align_down(16)?;
    let platform = s.push_str(PLATFORM)?;
    let random = s.down(16)?;
    s.write(random, &c.random);

    let a = &c.aux;
    let auxv = [
        (at::MINSIGSTKSZ, MINSIGSTKSZ),
        (at::HWCAP, a.hwcap),
        (at::PAGESZ, crate::memory::page::SIZE),
        (at::CLKTCK, 100),
        (at::PHDR, a.phdr),
        (at::PHENT, super::elf::PHDR_SIZE as u64),
        (at::PHNUM, a.phnum),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, a.entry),
        (at::UID, a.uid),
        (at::EUID, a.euid),
        (at::GID, a.gid),
        (at::EGID, a.egid),
        (at::SECURE, 0),
        (at::RANDOM, random),
        (at::HWCAP2, a.hwcap2),
        (at::EXECFN, execfn),
        (at::PLATFORM, platform),
        (at::NULL, 0),
    ];
    let mut words = vec![argv.len() as u64];
    words.extend(&argv);
    words.push(0);
    words.extend(&envp);
    words.push(0);
    words.extend(auxv.iter().flat_map(|&(k, v)| [k, v]));
    let bytes = words.len() as u64 * 8;
    s.down(bytes)?;
    s.align_down(16)?;
    let sp = s.sp;
    let table: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    s.write(sp, &table);
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a guest's start-up code reads back from the stack.
    struct Parsed {
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
        auxv: Vec<(u64, u64)>,
    }

    fn word(mem: &[u8], base: u64, at: u64) -> u64 {
        let i = (at - base) as usize;
        u64::from_le_bytes(mem[i..i + 8].try_into().unwrap())
    }

    fn string(mem: &[u8], base: u64, at: u64) -> Vec<u8> {
        let i = (at - base) as usize;
        let len = mem[i..].iter().position(|&b| b == 0).unwrap();
        mem[i..i + len].to_vec()
    }

    fn parse(mem: &[u8], base: u64, sp: u64) -> Parsed {
        let argc = word(mem, base, sp);
        let mut at = sp + 8;
        let strings = |at: &mut u64| {
            let mut v = Vec::new();
            loop {
                let p = word(mem, base, *at);
                *at += 8;
                if p == 0 {
                    return v;
                }
                v.push(string(mem, base, p));
            }
        };
        let argv = strings(&mut at);
        assert_eq!(argv.len() as u64, argc);
        let envp = strings(&mut at);
        let mut auxv = Vec::new();
        loop {
            let (k, v) = (word(mem, base, at), word(mem, base, at + 8));
            at += 16;
            auxv.push((k, v));
            if k == at::NULL {
                return Parsed { argv, envp, auxv };
            }
        }
    }

    fn aux(p: &Parsed, key: u64) -> u64 {
        p.auxv.iter().find(|(k, _)| *k == key).unwrap().1
    }

    #[test]
    fn round_trips_argv_envp_auxv() {
        let top = 0x7ff0_0000_0000u64;
        let mut mem = vec![0xaau8; 4096];
        let base = top - mem.len() as u64;
        let contents = StackContents {
            argv: &[b"./prog", b"hello", b""],
            envp: &[b"HOME=/root", b"PATH=/bin"],
            execfn: b"./prog",
            random: *b"0123456789abcdef",
            aux: AuxValues {
                phdr: 0x40_0040,
                phnum: 7,
                entry: 0x40_1000,
                uid: 1000,
                euid: 1001,
                gid: 100,
                egid: 101,
                hwcap: 3,
                hwcap2: 0,
            },
        };
        let sp = build(&mut mem, top, &contents).unwrap();
        assert_eq!(sp % 16, 0);
        let p = parse(&mem, base, sp);
        assert_eq!(p.argv, [&b"./prog"[..], b"hello", b""]);
        assert_eq!(p.envp, [&b"HOME=/root"[..], b"PATH=/bin"]);
        assert_eq!(p.auxv.last(), Some(&(at::NULL, 0)));
        assert_eq!(aux(&p, at::PHDR), 0x40_0040);
        assert_eq!(aux(&p, at::PHENT), 56);
        assert_eq!(aux(&p, at::PHNUM), 7);
        assert_eq!(aux(&p, at::PAGESZ), 4096);
        assert_eq!(aux(&p, at::ENTRY), 0x40_1000);
        assert_eq!(aux(&p, at::EUID), 1001);
        assert_eq!(aux(&p, at::EGID), 101);
        assert_eq!(aux(&p, at::HWCAP), 3);
        assert_eq!(aux(&p, at::CLKTCK), 100);
        assert_eq!(aux(&p, at::MINSIGSTKSZ), MINSIGSTKSZ);
        assert_eq!(string(&mem, base, aux(&p, at::PLATFORM)), b"aarch64");
        assert_eq!(string(&mem, base, aux(&p, at::EXECFN)), b"./prog");
        let random = aux(&p, at::RANDOM);
        let i = (random - base) as usize;
        assert_eq!(&mem[i..i + 16], b"0123456789abcdef");
        // Linux order: argv strings lowest, then envp strings, then execfn,
        // then the 8-byte zero at the very top.
        assert_eq!(word(&mem, base, top - 8), 0);
        assert_eq!(aux(&p, at::EXECFN), top - 8 - 7);
        let argv0 = word(&mem, base, sp + 8);
        let envp0 = word(&mem, base, sp + 8 * 5);
        assert!(argv0 < envp0 && envp0 < aux(&p, at::EXECFN));
        assert!(aux(&p, at::RANDOM) < argv0);
    }

    #[test]
    fn reports_overflow() {
        let mut mem = vec![0u8; 64];
        let big = [0x41u8; 100];
        let contents = StackContents {
            argv: &[&big],
            envp: &[],
            execfn: b"x",
            random: [0; 16],
            aux: AuxValues::default(),
        };
        assert_eq!(build(&mut mem, 0x10000, &contents), Err(StackTooSmall));
    }
}
