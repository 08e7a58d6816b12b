//! Linking: the translated object plus the runtime archive become a PIE
//! executable, written through a temporary file in the output's directory
//! and renamed into place, so a failure never leaves a partial output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Name of the runtime static library.
pub const RUNTIME_LIB: &str = "libvmxrt.a";

/// The output's link-time base address (32 TiB), far above every guest
/// range (non-PIE images at 4 MiB, `guest::PIE_BASE`, the guest stack
/// below `guest::STACK_TOP`). The kernel relocates a PIE wherever it likes
/// and ignores this; loaders that add their own base to it instead of
/// choosing one (valgrind puts a PIE at 0x108000 + base) then keep the host
/// image off the guest's fixed addresses, so callgrind and the other
/// valgrind tools can run translated programs.
const TEXT_SEGMENT: &str = "-Wl,-Ttext-segment=0x200000000000";

/// Finds the runtime archive: `$VMXLATE_RUNTIME`, else next to the running
/// executable (or one directory up, for test binaries in `deps/`).
pub fn find_runtime() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("VMXLATE_RUNTIME") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("VMXLATE_RUNTIME={} does not exist", p.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate vmxlate: {e}"))?;
    let mut dir = exe.parent();
    for _ in 0..2 {
        if let Some(d) = dir {
            let cand = d.join(RUNTIME_LIB);
            if cand.is_file() {
                return Ok(cand);
            }
            dir = d.parent();
        }
    }
    Err(format!(
        "runtime library {RUNTIME_LIB} not found next to {} (build it with `cargo build -p vmxlate-runtime`, or set VMXLATE_RUNTIME)",
        exe.display()
    ))
}

/// Links `object` with the runtime into `out`.
pub fn link(object: &[u8], out: &Path) -> Result<(), String> {
    let runtime = find_runtime()?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let work =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let obj_path = work.path().join("translated.o");
    std::fs::File::create(&obj_path)
        .and_then(|mut f| f.write_all(object))
        .map_err(|e| format!("cannot write {}: {e}", obj_path.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".vmxlate-")
        .tempfile_in(&dir)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    let status = Command::new(std::env::var_os("CC").unwrap_or_else(|| "cc".into()))
        .arg("-pie")
        .arg(TEXT_SEGMENT)
        .arg("-o")
        .arg(tmp.path())
        .arg(&obj_path)
        .arg(&runtime)
        .args([
            "-Wl,--gc-sections",
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .output()
        .map_err(|e| format!("cannot run the linker `cc`: {e}"))?;
    if !status.status.success() {
        let msg = String::from_utf8_lossy(&status.stderr);
        let first = msg
            .lines()
            .find(|l| l.contains("error") || l.contains("undefined"))
            .unwrap_or("");
        return Err(format!("linking failed: {}", first.trim()));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot set permissions: {e}"))?;
    tmp.persist(out)
        .map_err(|e| format!("cannot write {}: {}", out.display(), e.error))?;
    Ok(())
}
