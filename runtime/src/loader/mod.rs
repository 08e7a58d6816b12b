//! Starts a guest process: maps the embedded guest ELF and builds its stack,
//! as the Linux ELF loader would for `execve`.
//!
//! Invariants: the guest image is mapped at its own addresses plus the load
//! bias the translator chose (identity memory); the stack lies below
//! [`vmxlate_abi::guest::STACK_TOP`] when that range is free, with a guard
//! page under it; the brk heap begins at the page-aligned end of the image.
//! Every failure is a [`LoadError`] saying what and where.

pub mod elf;
pub mod segments;
pub mod self_exe;
pub mod stack;

use std::fmt;
use std::fs::File;
use std::os::fd::AsRawFd;

use libc::{PROT_NONE, PROT_READ, PROT_WRITE};
use vmxlate_abi::{guest, ImageDesc, IMAGE_VERSION};

use crate::host::{self, Errno};
use crate::memory::{brk, mapping, page};
use elf::GuestElf;
use stack::{AuxValues, StackContents};

/// Why the guest could not be started.
#[derive(Debug)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the guest begins to run.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    /// Guest PC of the first instruction (`AT_ENTRY`).
    pub pc: u64,
    /// Initial guest stack pointer.
    pub sp: u64,
}

/// The process arguments as the guest should see them.
#[derive(Clone, Copy, Debug)]
pub struct Exec<'a> {
    /// Argument strings (`argv[0]` is the program name as invoked).
    pub argv: &'a [&'a [u8]],
    /// Environment strings.
    pub envp: &'a [&'a [u8]],
    /// The program's file name as given to `execve` (`AT_EXECFN`).
    pub execfn: &'a [u8],
}

/// Maps the guest described by `image`, sets up its heap and stack, and
/// returns where it starts.
pub fn load(image: &ImageDesc, exec: &Exec<'_>) -> Result<Start, LoadError> {
    if image.version != IMAGE_VERSION {
        return Err(LoadError(format!(
            "image descriptor version {} (this runtime reads {IMAGE_VERSION})",
            image.version
        )));
    }
    let len = usize::try_from(image.elf_len).map_err(|_| LoadError("image too large".into()))?;
    // SAFETY: the translator embeds the guest file at `elf`, `elf_len` bytes
    // long, in read-only data that lives as long as the process.
    let bytes = unsafe { core::slice::from_raw_parts(image.elf, len) };
    let elf = GuestElf::parse(bytes).map_err(|e| LoadError(format!("guest ELF: {e}")))?;
    let bias = image.load_bias;
    if !elf.is_dyn && bias != 0 {
        return Err(LoadError("load bias given for an ET_EXEC image".into()));
    }

    let exe = self_exe::file_offset_of(image.elf as u64, image.elf_len)
        .and_then(|off| Some((File::open("/proc/self/exe").ok()?, off)));
    let source = segments::Source {
        bytes,
        exe: exe.as_ref().map(|(f, off)| (f.as_raw_fd(), *off)),
    };
    let image_end = segments::map_all(&elf, bias, &source)
        .map_err(|e| LoadError(format!("guest image: {e}")))?;
    drop(exe);
    brk::init(image_end);

    let phdr = elf.phdr_vaddr().map_or(0, |v| v.wrapping_add(bias));
    // SAFETY: these id queries cannot fail and take no pointers.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    let contents = StackContents {
        argv: exec.argv,
        envp: exec.envp,
        execfn: exec.execfn,
        random: random_bytes().map_err(|e| LoadError(format!("getrandom: errno {}", e.0)))?,
        aux: AuxValues {
            phdr,
            phnum: elf.phdrs.len() as u64,
            entry: elf.entry.wrapping_add(bias),
            uid: uid.into(),
            euid: euid.into(),
            gid: gid.into(),
            egid: egid.into(),
            hwcap: vmxlate_abi::HWCAP,
            hwcap2: vmxlate_abi::HWCAP2,
        },
    };
    let (base, top) = map_stack().map_err(|e| LoadError(format!("stack: errno {}", e.0)))?;
    // SAFETY: `[base, top)` is the fresh read-write stack mapping, used by
    // nothing else until the guest starts.
    let mem = unsafe { core::slice::from_raw_parts_mut(base as *mut u8, (top - base) as usize) };
    let sp = stack::build(mem, top, &contents).map_err(|e| LoadError(e.to_string()))?;
    Ok(Start {
        pc: elf.entry.wrapping_add(bias),
        sp,
    })
}

/// Maps the guest stack with a guard page below it; returns `(base, top)`.
fn map_stack() -> Result<(u64, u64), Errno> {
    let size = guest::STACK_SIZE;
    let top = guest::STACK_TOP;
    let base = top - size;
    if mapping::map_anon_exact(base, size, PROT_READ | PROT_WRITE).is_ok() {
        // The guard is best effort: the stack works without it.
        let _ = mapping::map_anon_exact(base - page::SIZE, page::SIZE, PROT_NONE);
        return Ok((base, top));
    }
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh mapping wherever the host has room.
    let at = unsafe { host::mmap(0, size + page::SIZE, PROT_READ | PROT_WRITE, flags, -1, 0)? };
    let guard = at as u64;
    // SAFETY: the lowest page of the mapping we just made.
    unsafe { host::mprotect(guard, page::SIZE, PROT_NONE)? };
    let base = guard + page::SIZE;
    let mut vmas = crate::memory::vma::lock();
    vmas.insert(guard, base, PROT_NONE);
    vmas.insert(base, base + size, PROT_READ | PROT_WRITE);
    Ok((base, base + size))
}

/// 16 bytes from the host's `getrandom` for `AT_RANDOM`.
fn random_bytes() -> Result<[u8; 16], Errno> {
    let mut buf = [0u8; 16];
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        let args = [rest.as_mut_ptr() as u64, rest.len() as u64, 0];
        // SAFETY: getrandom writes at most `rest.len()` bytes into `rest`.
        match unsafe { host::call(libc::SYS_getrandom, &args) } {
            Ok(n) => filled += n as usize,
            Err(Errno(libc::EINTR)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}
