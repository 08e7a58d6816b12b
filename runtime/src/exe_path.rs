//! The path the guest sees as its own executable (`/proc/self/exe`).
//!
//! It is the host's own `/proc/self/exe` (the translated executable is the
//! guest program), which stays right when `argv[0]` is not a path to it (a
//! multi-call program re-executed through `/proc/self/exe` with
//! `argv[0]` = `sort`); if that cannot be read, `argv[0]` resolved the way
//! the kernel found the program: made absolute and canonical if it names a
//! path, else searched in `PATH`.
//!
//! A program started by a translated guest `execve` (see
//! [`crate::syscall::exec`]) is the guest file that `execve` named instead.
//!
//! Opening `/proc/self/exe` reads the guest ELF itself ([`guest_elf`]), as
//! it would on AArch64 Linux.
//!
//! Invariant: set once at start-up by [`init`] or [`init_exec`] (and
//! [`set_guest_elf`]); read-only afterwards.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static EXE: OnceLock<PathBuf> = OnceLock::new();
static GUEST_ELF: OnceLock<&'static [u8]> = OnceLock::new();

/// Records the bytes of the guest ELF file (embedded in the executable),
/// which reads of `/proc/self/exe` return.
pub fn set_guest_elf(bytes: &'static [u8]) {
    let _ = GUEST_ELF.set(bytes);
}

/// The guest ELF file's bytes, once recorded.
pub fn guest_elf() -> Option<&'static [u8]> {
    GUEST_ELF.get().copied()
}

/// Records the guest executable path: ours, else resolved from `argv0`.
pub fn init(argv0: &[u8]) {
    let path = std::fs::read_link("/proc/self/exe")
        .ok()
        .or_else(|| resolve(argv0, std::env::var_os("PATH").as_deref()))
        .unwrap_or_else(|| PathBuf::from(OsStr::from_bytes(argv0)));
    let _ = EXE.set(path);
}

/// Records the guest executable of a translated `execve`: `execfn`, the
/// path the guest gave (relative to the unchanged working directory), made
/// absolute and canonical.
pub fn init_exec(execfn: &[u8]) {
    let name = Path::new(OsStr::from_bytes(execfn));
    let path = std::fs::canonicalize(name).unwrap_or_else(|_| name.to_path_buf());
    let _ = EXE.set(path);
}

/// The recorded guest executable path (empty before [`init`]).
pub fn get() -> &'static [u8] {
    EXE.get().map_or(&[], |p| p.as_os_str().as_bytes())
}

/// Resolves `argv0` against the current directory or `path_var`.
fn resolve(argv0: &[u8], path_var: Option<&OsStr>) -> Option<PathBuf> {
    if argv0.is_empty() {
        return None;
    }
    let name = Path::new(OsStr::from_bytes(argv0));
    if argv0.contains(&b'/') {
        return std::fs::canonicalize(name).ok();
    }
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_and_path_search() {
        let here = std::env::current_dir().unwrap();
        let p = resolve(b"./Cargo.toml", None).unwrap();
        assert_eq!(p, std::fs::canonicalize(here.join("Cargo.toml")).unwrap());
        let sh = resolve(b"sh", Some(OsStr::new("/nonexistent:/bin"))).unwrap();
        assert!(sh.is_absolute());
        assert!(resolve(b"no-such-program-vmx", Some(OsStr::new("/bin"))).is_none());
        assert!(resolve(b"", None).is_none());
    }
}
