//! The vmxlate runtime, linked into every translated executable (as the
//! static library `libvmxrt.a`; the rlib exists for tests).
//!
//! It provides the process entry point ([`entry`], C `main`), maps the guest
//! image and stack ([`loader`]), keeps the guest memory bookkeeping
//! ([`memory`]), finds and runs translated code ([`dispatch`]), emulates
//! Linux/AArch64 system calls ([`syscall`]) and implements the other helper
//! symbols translated code calls ([`helpers`]). The contract with translated
//! code lives in the `vmxlate-abi` crate.
//!
//! Guest threads are host threads ([`thread`]); guest signals go through
//! host handlers the runtime installs only for signals the guest handles
//! ([`signal`]).
//!
//! Invariants: identity memory (a guest address is a host address); the
//! host never executes guest code; signals the guest does not handle keep
//! their host disposition, so fatal signals end the process with the
//! status the guest would have had.

pub mod dispatch;
#[cfg(not(test))]
pub mod entry;
pub mod exe_path;
pub mod fatal;
pub mod fpu;
pub mod helpers;
pub mod host;
#[cfg(feature = "jit")]
pub mod jit;
pub mod loader;
pub mod log;
pub mod memory;
pub mod signal;
pub mod string;
pub mod string_cmp;
pub mod syscall;
pub mod thread;
