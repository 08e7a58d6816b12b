//! The JIT fallback: code that ahead-of-time discovery missed (jump tables
//! it could not read, code reached only through pointers computed at run
//! time) is compiled when the dispatcher first reaches it, with the same
//! lifter and Cranelift lowering as the translator, registered in the code
//! map, and recorded for the next, profile-guided translation.
//!
//! Linking: outputs call [`vmx_jit_init`] (or
//! [`vmx_jit_init_strict_abi`]) from `.init_array` when the translator
//! was not given `--no-jit`; that reference is the only one to this module,
//! so outputs without it contain neither the JIT nor Cranelift.
//!
//! Thread safety: all JIT state (the parsed guest image, the compiler, the
//! code memory, the profile file) is behind one [`Mutex`]; a compilation
//! runs with it held, so each PC is compiled at most once (a thread that
//! waited re-checks the code map first). Guest code never runs with the
//! lock held. Registration goes through the code map's own lock. The
//! compilation itself runs on a short-lived host thread with a 64 MiB
//! stack (the guest thread that missed waits for it), so a miss deep in
//! nested translated calls or on a small guest-thread stack cannot
//! overflow.
//!
//! Environment: `VMXLATE_PROFILE=FILE` appends each compiled PC to FILE in
//! the format of `vmxlate::profile` (for `vmxlate --profile FILE`);
//! `VMXLATE_LOG=jit` logs each compilation.
//!
//! Invariants: only PCs inside the guest image's executable segments are
//! compiled; a PC the JIT cannot compile stays fatal ("no translation"),
//! with one line saying why.

mod compile;
mod memory;

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rustc_hash::FxHashSet;
use vmxlate::elf::GuestImage;

use crate::dispatch::{self, code_map::Target};
use crate::log;
use compile::Compiler;
use memory::CodeMemory;

/// JIT state, created at the first miss.
struct Jit {
    image: GuestImage,
    /// Function entries translated ahead of time: the bounds of regions.
    known: FxHashSet<u64>,
    compiler: Compiler,
    mem: CodeMemory,
    profile: Option<File>,
    log: bool,
}

static STATE: Mutex<Option<Jit>> = Mutex::new(None);
static STRICT_ABI: AtomicBool = AtomicBool::new(false);

/// Stack of the compiler thread.
const COMPILE_STACK: usize = 64 << 20;

/// Installs the JIT as the dispatcher's miss handler.
#[no_mangle]
pub extern "C" fn vmx_jit_init() {
    dispatch::set_miss_handler(miss);
}

/// Installs the JIT for outputs translated with `--strict-abi`.
#[no_mangle]
pub extern "C" fn vmx_jit_init_strict_abi() {
    STRICT_ABI.store(true, Ordering::Relaxed);
    dispatch::set_miss_handler(miss);
}

/// The miss handler: compiles the region at `pc`, registers its entries,
/// returns the one for `pc`.
fn miss(pc: u64) -> Option<Target> {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = dispatch::lookup_code(pc) {
        return Some(t); // another thread compiled it while we waited
    }
    if state.is_none() {
        match Jit::new() {
            Ok(j) => *state = Some(j),
            Err(e) => {
                log::line(format_args!("JIT unavailable: {e}"));
                return None;
            }
        }
    }
    let jit = state.as_mut()?;
    if !jit.image.is_code(pc) {
        return None;
    }
    let started = std::time::Instant::now();
    // Compile on a helper thread with a known, large stack: a miss can come
    // deep inside nested translated calls, or on a small guest-thread stack.
    let Jit {
        image,
        known,
        compiler,
        mem,
        ..
    } = jit;
    let result = std::thread::scope(|s| {
        let job = std::thread::Builder::new()
            .name("vmxlate-jit".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(s, || compiler.compile(image, known, mem, pc));
        match job {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("the compiler panicked".into())),
            Err(e) => Err(format!("cannot start the compiler thread: {e}")),
        }
    });
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            log::line(format_args!("JIT cannot compile guest PC {pc:#x}: {e}"));
            return None;
        }
    };
    if jit.log {
        log::line(format_args!(
            "jit: {pc:#x}: {} instructions, {} bytes, {} entries, {} us",
            c.insts,
            c.code_bytes,
            c.entries.len(),
            started.elapsed().as_micros()
        ));
    }
    if let Some(f) = &mut jit.profile {
        // One write per record (see `vmxlate::profile`); a failed write
        // loses a hint, not correctness.
        let _ = f.write_all(vmxlate::profile::jit_record(pc).as_bytes());
    }
    let mut found = None;
    for (at, t) in c.entries {
        dispatch::register(at, t);
        if at == pc {
            found = Some(t);
        }
    }
    found
}

impl Jit {
    fn new() -> Result<Jit, String> {
        let (elf, pc_map) = image::embedded();
        let image = GuestImage::parse(elf.to_vec()).map_err(|e| e.to_string())?;
        let known = pc_map
            .iter()
            .filter(|e| e.entry == 0)
            .map(|e| e.guest_pc)
            .collect();
        // Any address in the executable: JIT code must reach it with rel32.
        let anchor = dispatch::vmx_dispatch as *const () as usize;
        Ok(Jit {
            image,
            known,
            compiler: Compiler::new(STRICT_ABI.load(Ordering::Relaxed))?,
            mem: CodeMemory::reserve(anchor)?,
            profile: open_profile(),
            log: std::env::var("VMXLATE_LOG")
                .is_ok_and(|v| v.split(',').any(|s| s.trim() == "jit")),
        })
    }
}

/// Opens `$VMXLATE_PROFILE` for appending, writing the header if the file
/// is empty. A file that cannot be opened is reported once and ignored.
fn open_profile() -> Option<File> {
    let path = std::env::var_os("VMXLATE_PROFILE")?;
    let opened = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| {
            if f.metadata()?.len() == 0 {
                f.write_all(format!("{}\n", vmxlate::profile::HEADER).as_bytes())?;
            }
            Ok(f)
        });
    match opened {
        Ok(f) => Some(f),
        Err(e) => {
            log::line(format_args!(
                "cannot write profile {}: {e}",
                std::path::Path::new(&path).display()
            ));
            None
        }
    }
}

/// The translator-emitted image descriptor (outputs only).
#[cfg(not(test))]
mod image {
    use vmxlate_abi::{ImageDesc, PcMapEntry};

    extern "C" {
        #[link_name = "vmx_image"]
        static IMAGE: ImageDesc;
    }

    /// The embedded guest ELF file and the PC map.
    pub fn embedded() -> (&'static [u8], &'static [PcMapEntry]) {
        // SAFETY: the translator emits `vmx_image` in every output, with
        // `elf_len` bytes at `elf` and `pc_map_len` entries at `pc_map`,
        // all immutable and alive for the whole process.
        unsafe {
            let d: &ImageDesc = &IMAGE;
            (
                core::slice::from_raw_parts(d.elf, d.elf_len as usize),
                core::slice::from_raw_parts(d.pc_map, d.pc_map_len as usize),
            )
        }
    }
}

/// Test builds have no translated image.
#[cfg(test)]
mod image {
    use vmxlate_abi::PcMapEntry;

    pub fn embedded() -> (&'static [u8], &'static [PcMapEntry]) {
        (&[], &[])
    }
}
