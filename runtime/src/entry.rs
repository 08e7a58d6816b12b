//! The process entry point of every translated executable.
//!
//! The host C runtime calls [`main`]; it reads the translator's image
//! descriptor, maps the guest, builds its stack and runs the dispatcher
//! forever. It never returns: the guest leaves through `exit_group`.
//!
//! Invariant: this is the only module that touches the translator-emitted
//! `vmx_image` symbol besides the JIT, which reads the embedded ELF and PC
//! map from it (absent from the runtime's own test binaries, where neither
//! reference is compiled).

use core::ffi::{c_char, c_int, CStr};

use vmxlate_abi::{CpuState, FaultMapEntry, ImageDesc, PcMapEntry, IMAGE_VERSION};

use crate::signal::{self, SigState};
use crate::thread::{self, Thread};
use crate::{dispatch, exe_path, fatal, loader, log, syscall};

extern "C" {
    /// The translator's image descriptor (`vmxlate_abi::sym::IMAGE`).
    #[link_name = "vmx_image"]
    static IMAGE: ImageDesc;
}

/// Collects a NULL-terminated array of C strings.
///
/// # Safety
/// `list` is null or a NULL-terminated array of NUL-terminated strings that
/// live for the rest of the process.
unsafe fn strings(list: *const *const c_char) -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    let mut i = 0;
    loop {
        // SAFETY: the array is NULL-terminated, so every index up to the
        // terminator is readable.
        let p = unsafe { *list.add(i) };
        if p.is_null() {
            return out;
        }
        // SAFETY: each entry is a NUL-terminated string that lives forever.
        out.push(unsafe { CStr::from_ptr(p) }.to_bytes());
        i += 1;
    }
}

/// The file name the host kernel ran us by (`AT_EXECFN`), if it has one.
fn host_execfn() -> Option<&'static [u8]> {
    // SAFETY: getauxval has no preconditions.
    let p = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const c_char;
    // SAFETY: AT_EXECFN points to a NUL-terminated string on our initial
    // stack, which lives for the rest of the process.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Starts the guest program.
///
/// # Safety
/// Called once by the C runtime with the process's `argv` and `envp`.
#[no_mangle]
pub unsafe extern "C" fn main(
    _argc: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    log::init();
    // SAFETY: the C runtime passes the process's own argv and envp.
    let (argv, envp) = unsafe { (strings(argv), strings(envp)) };
    let (envp, exec_fn) = syscall::exec::take_env(&envp);
    let execfn = match exec_fn {
        // Started by a translated guest `execve`: the guest path it named.
        Some(f) => {
            exe_path::init_exec(f);
            f
        }
        None => {
            exe_path::init(argv.first().copied().unwrap_or(b""));
            host_execfn().unwrap_or(argv.first().copied().unwrap_or(b""))
        }
    };

    // SAFETY: the translator emits `vmx_image` as an initialised, immutable
    // ImageDesc in every output executable.
    let image: &ImageDesc = unsafe { &IMAGE };
    let pc_map: &'static [PcMapEntry] = match usize::try_from(image.pc_map_len) {
        Ok(0) => &[],
        // SAFETY: the translator emits `pc_map_len` entries at `pc_map`, in
        // read-only data that lives as long as the process.
        Ok(n) => unsafe { core::slice::from_raw_parts(image.pc_map, n) },
        Err(_) => fatal::startup_failure(format_args!("PC map too large")),
    };
    let faults: &'static [FaultMapEntry] = match usize::try_from(image.fault_map_len) {
        Ok(0) => &[],
        // SAFETY: as for the PC map.
        Ok(n) => unsafe { core::slice::from_raw_parts(image.fault_map, n) },
        Err(_) => fatal::startup_failure(format_args!("fault map too large")),
    };
    if image.version != IMAGE_VERSION {
        fatal::startup_failure(format_args!(
            "image format {} (this runtime reads {IMAGE_VERSION}): retranslate",
            image.version
        ));
    }
    if let Ok(len) = usize::try_from(image.elf_len) {
        // SAFETY: the translator embeds the guest file at `elf`, `elf_len`
        // bytes long, in read-only data that lives as long as the process.
        exe_path::set_guest_elf(unsafe { core::slice::from_raw_parts(image.elf, len) });
    }
    // SAFETY: the translator emits every code offset relative to
    // `code_base`, each naming one of the translated functions it links in.
    unsafe { dispatch::init(pc_map, image.code_base, image.code_len as usize, faults) };

    let exec = loader::Exec {
        argv: &argv,
        envp: &envp,
        execfn,
    };
    let start = match loader::load(image, &exec) {
        Ok(s) => s,
        Err(e) => fatal::startup_failure(format_args!("{e}")),
    };
    let mut cpu = CpuState {
        host_fma: u32::from(crate::fpu::host_fma::detect()),
        ..CpuState::default()
    };
    crate::fpu::enter(&cpu);
    cpu.x[31] = start.sp;
    cpu.pc = start.pc;
    let mask = signal::block_all_host();
    let t = Thread::new(cpu, thread::host_tid(), true, SigState::new(mask));
    thread::set_current(t);
    signal::sync_host_mask();
    // SAFETY: `t` is this thread's guest thread, not running yet.
    unsafe { dispatch::run(t) };
    // Only another thread returns from `run`; the first leaves by `exit`.
    fatal::startup_failure(format_args!("first thread left the dispatcher"))
}
