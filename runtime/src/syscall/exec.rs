//! `execve` and `execveat`: what the new program is decides how it runs.
//!
//! - An AArch64 ELF runs translated: the runtime executes the translator as
//!   `vmxlate run --argv0 ARGV0 -- PATH ARGS...`, which finds or makes the
//!   translation in its content-addressed cache and executes it with the
//!   guest's `argv[0]`, telling the new runtime the guest path in
//!   `VMXLATE_EXECFN` (its `AT_EXECFN` and `/proc/self/exe`).
//! - A `#!` script whose interpreter is an AArch64 ELF runs that interpreter
//!   translated, with the arguments Linux gives an interpreter.
//! - Anything else (a host executable, a script for a host interpreter, a
//!   file the kernel refuses) is a plain host `execve`, so the guest sees
//!   the kernel's own errors.
//!
//! The translator is `VMXLATE` from the environment the process started
//! with, else `vmxlate` in `PATH`. The runtime hides `VMXLATE` and
//! `VMXLATE_EXECFN` from the guest ([`take_env`]) and adds `VMXLATE` back to
//! the environment of every program the guest executes, so translated
//! descendants find the translator too.
//!
//! Invariants: the guest's argument and environment strings are passed to
//! the host by their guest addresses (identity memory), never copied; if the
//! translator is unknown, an AArch64 target fails with `ENOEXEC` and one
//! `vmxlate:` line naming the program and the fix.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{uaccess, Call};
use crate::host::{self, Errno, SysResult};
use crate::log;

/// Environment variable naming the translator binary.
pub const ENV_TRANSLATOR: &str = "VMXLATE";
/// Environment variable carrying the guest path of a translated `execve`.
pub const ENV_EXECFN: &str = "VMXLATE_EXECFN";

/// The translator named by `VMXLATE` at start-up.
static TRANSLATOR: OnceLock<Option<Vec<u8>>> = OnceLock::new();

/// Start-up: records and removes the runtime's own variables from the
/// environment the guest will see; returns the guest's environment and the
/// `VMXLATE_EXECFN` value if this process was started by a translated
/// `execve`.
pub fn take_env<'e>(envp: &[&'e [u8]]) -> (Vec<&'e [u8]>, Option<&'e [u8]>) {
    let mut translator = None;
    let mut execfn = None;
    let mut rest = Vec::with_capacity(envp.len());
    for &var in envp {
        if let Some(v) = strip_var(var, ENV_TRANSLATOR) {
            translator = Some(v.to_vec());
        } else if let Some(v) = strip_var(var, ENV_EXECFN) {
            execfn = Some(v);
        } else {
            rest.push(var);
        }
    }
    let _ = TRANSLATOR.set(translator.filter(|t| !t.is_empty()));
    (rest, execfn)
}

/// The value of `var` if it is `NAME=value`.
fn strip_var<'v>(var: &'v [u8], name: &str) -> Option<&'v [u8]> {
    var.strip_prefix(name.as_bytes())?.strip_prefix(b"=")
}

/// The translator to run AArch64 programs with, if known.
fn translator() -> Option<PathBuf> {
    if let Some(Some(t)) = TRANSLATOR.get() {
        return Some(PathBuf::from(OsStr::from_bytes(t)));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("vmxlate"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path.
    p.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

/// What a file to execute is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// An AArch64 ELF executable.
    Aarch64Elf,
    /// A `#!` script: the interpreter and its optional argument.
    Script(Vec<u8>, Option<Vec<u8>>),
    /// Anything else: left to the host kernel.
    Other,
}

const EM_AARCH64: u16 = 183;

/// Classifies a file by its first bytes.
fn classify(head: &[u8]) -> Kind {
    if head.len() >= 20 && head.starts_with(b"\x7fELF") {
        let machine = u16::from_le_bytes([head[18], head[19]]);
        // ELFCLASS64, little-endian.
        if head[4] == 2 && head[5] == 1 && machine == EM_AARCH64 {
            return Kind::Aarch64Elf;
        }
        return Kind::Other;
    }
    let Some(rest) = head.strip_prefix(b"#!") else {
        return Kind::Other;
    };
    // Linux reads the line up to the first newline (or the buffer's end),
    // skips blanks, then splits off one optional argument at the first
    // blank after the interpreter; the argument keeps inner blanks.
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let trimmed: &[u8] = {
        let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
        let end = line
            .iter()
            .rposition(|b| !blank(b))
            .map_or(start, |e| e + 1);
        &line[start..end.max(start)]
    };
    if trimmed.is_empty() {
        return Kind::Other;
    }
    match trimmed.iter().position(blank) {
        None => Kind::Script(trimmed.to_vec(), None),
        Some(i) => {
            let arg = &trimmed[i..];
            let arg = &arg[arg.iter().position(|b| !blank(b)).unwrap_or(0)..];
            Kind::Script(trimmed[..i].to_vec(), Some(arg.to_vec()))
        }
    }
}

/// The first bytes of the file at `path` (relative to `dirfd`), or `None`
/// if it cannot be read (the host `execve` then reports why).
fn head_of(dirfd: u64, path: u64, at_flags: i32) -> Option<Vec<u8>> {
    let mut flags = libc::O_RDONLY | libc::O_CLOEXEC;
    if at_flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        flags |= libc::O_NOFOLLOW;
    }
    let empty = at_flags & libc::AT_EMPTY_PATH != 0 && uaccess::read::<u8>(path).ok()? == 0;
    let fd = if empty {
        dirfd as i32
    } else {
        // SAFETY: the path is guest memory the kernel checks.
        unsafe { host::call(libc::SYS_openat, &[dirfd, path, flags as u64, 0]) }.ok()? as i32
    };
    let mut buf = vec![0u8; 256];
    let args = [fd as u64, buf.as_mut_ptr() as u64, buf.len() as u64, 0];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let n = unsafe { host::call(libc::SYS_pread64, &args) };
    if !empty {
        // SAFETY: our own descriptor.
        unsafe { libc::close(fd) };
    }
    buf.truncate(n.ok()? as usize);
    Some(buf)
}

/// Reads a NULL-terminated guest pointer array (argv or envp).
fn guest_array(addr: u64) -> Result<Vec<u64>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let p: u64 = uaccess::read(addr + 8 * out.len() as u64)?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= 0x7fff_ffff / 8 {
            return Err(Errno(libc::E2BIG));
        }
        out.push(p);
    }
}

/// Whether the guest string at `addr` starts with `NAME=` for a runtime
/// variable (which the guest never passes on, see [`take_env`]).
fn is_runtime_var(addr: u64) -> bool {
    [ENV_TRANSLATOR, ENV_EXECFN].iter().any(|name| {
        let want = format!("{name}=");
        want.bytes()
            .enumerate()
            .all(|(i, b)| uaccess::read::<u8>(addr + i as u64) == Ok(b))
    })
}

/// Pointer arrays for a host `execve`, owning the strings the runtime adds.
struct HostExec {
    owned: Vec<CString>,
    argv: Vec<u64>,
    envp: Vec<u64>,
}

impl HostExec {
    /// The guest environment plus `VMXLATE` (if known).
    fn new(guest_envp: &[u64]) -> HostExec {
        let mut e = HostExec {
            owned: Vec::new(),
            argv: Vec::new(),
            envp: guest_envp
                .iter()
                .copied()
                .filter(|&p| !is_runtime_var(p))
                .collect(),
        };
        if let Some(t) = translator() {
            let mut var = format!("{ENV_TRANSLATOR}=").into_bytes();
            var.extend_from_slice(t.as_os_str().as_bytes());
            let p = e.own(var);
            e.envp.push(p);
        }
        e
    }

    /// Keeps `bytes` as a C string and returns its address.
    fn own(&mut self, bytes: Vec<u8>) -> u64 {
        let c = CString::new(bytes).unwrap_or_default();
        let p = c.as_ptr() as u64;
        self.owned.push(c);
        p
    }

    /// Performs the host `execve` of `path`; returns only on failure.
    fn exec(mut self, path: u64) -> SysResult {
        self.argv.push(0);
        self.envp.push(0);
        let args = [path, self.argv.as_ptr() as u64, self.envp.as_ptr() as u64];
        // The new program inherits the guest's signal mask and pending set.
        crate::signal::prepare_exec();
        // SAFETY: `path` and every pointer in the arrays are NUL-terminated
        // strings in guest memory or in `self.owned`, both alive for the
        // call; the arrays are NULL-terminated.
        let r = unsafe { host::call(libc::SYS_execve, &args) };
        crate::signal::sync_host_mask();
        drop(self.owned);
        r
    }
}

/// A guest program to run translated: the file, the `argv[0]` it sees, and
/// the arguments after `argv[0]` (guest string addresses).
struct Translated<'a> {
    file: &'a CStr,
    argv0: u64,
    rest: Vec<u64>,
}

fn exec_translated(t: Translated<'_>, envp: &[u64]) -> SysResult {
    let Some(translator) = translator() else {
        log::line(format_args!(
            "cannot execute {}: it is an AArch64 program and the translator is unknown \
             (set {ENV_TRANSLATOR}=/path/to/vmxlate or put vmxlate in PATH)",
            t.file.to_string_lossy()
        ));
        return Err(Errno(libc::ENOEXEC));
    };
    let mut e = HostExec::new(envp);
    let tpath = e.own(translator.into_os_string().into_vec());
    let fixed = [b"run".as_slice(), b"--argv0"].map(|s| e.own(s.to_vec()));
    let dashes = e.own(b"--".to_vec());
    let file = e.own(t.file.to_bytes().to_vec());
    let argv0 = if t.argv0 == 0 {
        e.own(Vec::new())
    } else {
        t.argv0
    };
    e.argv = [tpath, fixed[0], fixed[1], argv0, dashes, file].to_vec();
    e.argv.extend_from_slice(&t.rest);
    e.exec(tpath)
}

fn exec_common(c: &Call<'_>, dirfd: u64, path: u64, argv: u64, envp: u64, flags: i32) -> SysResult {
    let argv = guest_array(argv)?;
    let envp = guest_array(envp)?;
    let name = uaccess::c_str(path)?;
    let kind = head_of(dirfd, path, flags).map_or(Kind::Other, |h| classify(&h));
    let file = if kind == Kind::Other || dirfd as i32 == libc::AT_FDCWD {
        CString::from(name)
    } else {
        resolve_at(dirfd as i32, name)?
    };
    match kind {
        Kind::Aarch64Elf => exec_translated(
            Translated {
                file: &file,
                argv0: argv.first().copied().unwrap_or(0),
                rest: argv.iter().skip(1).copied().collect(),
            },
            &envp,
        ),
        Kind::Script(interp, arg) if interp_is_aarch64(&interp) => {
            let interp = CString::new(interp).map_err(|_| Errno(libc::ENOEXEC))?;
            let mut e = HostExec::new(&[]);
            let mut rest = Vec::new();
            if let Some(a) = arg {
                rest.push(e.own(a));
            }
            rest.push(file.as_ptr() as u64);
            rest.extend(argv.iter().skip(1));
            let t = Translated {
                file: &interp,
                argv0: interp.as_ptr() as u64,
                rest,
            };
            let r = exec_translated(t, &envp);
            drop(e);
            r
        }
        _ => {
            let mut e = HostExec::new(&envp);
            e.argv = argv;
            if dirfd as i32 == libc::AT_FDCWD && flags == 0 {
                return e.exec(path);
            }
            e.argv.push(0);
            e.envp.push(0);
            let args = [
                dirfd,
                path,
                e.argv.as_ptr() as u64,
                e.envp.as_ptr() as u64,
                c.arg(4),
            ];
            crate::signal::prepare_exec();
            // SAFETY: as in `HostExec::exec`.
            let r = unsafe { host::call(libc::SYS_execveat, &args) };
            crate::signal::sync_host_mask();
            r
        }
    }
}

/// The path of `name` relative to directory descriptor `dirfd` (or of
/// `dirfd` itself when `name` is empty), for the translator to open.
fn resolve_at(dirfd: i32, name: &CStr) -> Result<CString, Errno> {
    if name.to_bytes().first() == Some(&b'/') {
        return Ok(name.into());
    }
    let dir =
        std::fs::read_link(format!("/proc/self/fd/{dirfd}")).map_err(|_| Errno(libc::EBADF))?;
    let full = if name.is_empty() {
        dir
    } else {
        dir.join(OsStr::from_bytes(name.to_bytes()))
    };
    CString::new(full.into_os_string().into_vec()).map_err(|_| Errno(libc::EINVAL))
}

fn interp_is_aarch64(interp: &[u8]) -> bool {
    std::fs::File::open(OsStr::from_bytes(interp))
        .and_then(|f| {
            let mut head = [0u8; 64];
            let n = std::os::unix::fs::FileExt::read_at(&f, &mut head, 0)?;
            Ok(classify(&head[..n]) == Kind::Aarch64Elf)
        })
        .unwrap_or(false)
}

/// `execve(path, argv, envp)`.
pub fn execve(c: &mut Call<'_>) -> SysResult {
    let at_fdcwd = libc::AT_FDCWD as u64;
    exec_common(c, at_fdcwd, c.arg(0), c.arg(1), c.arg(2), 0)
}

/// `execveat(dirfd, path, argv, envp, flags)`.
pub fn execveat(c: &mut Call<'_>) -> SysResult {
    exec_common(c, c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.int(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_elf_and_scripts() {
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18] = 183;
        assert_eq!(classify(&elf), Kind::Aarch64Elf);
        elf[18] = 62; // EM_X86_64
        assert_eq!(classify(&elf), Kind::Other);
        assert_eq!(
            classify(b"#!/bin/sh\necho"),
            Kind::Script(b"/bin/sh".to_vec(), None)
        );
        assert_eq!(
            classify(b"#! /usr/bin/env  python3 -u \nx"),
            Kind::Script(b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec()))
        );
        assert_eq!(classify(b"#!\n"), Kind::Other);
        assert_eq!(classify(b"plain text"), Kind::Other);
    }

    #[test]
    fn runtime_variables_are_hidden_from_the_guest() {
        let env: [&[u8]; 4] = [
            b"A=1",
            b"VMXLATE=/opt/vmxlate",
            b"VMXLATE_EXECFN=./prog",
            b"VMXLATE_LOG=syscalls",
        ];
        let (rest, execfn) = take_env(&env);
        assert_eq!(rest, [b"A=1".as_slice(), b"VMXLATE_LOG=syscalls"]);
        assert_eq!(execfn, Some(b"./prog".as_slice()));
        assert_eq!(strip_var(b"VMXLATEX=1", ENV_TRANSLATOR), None);
    }
}
