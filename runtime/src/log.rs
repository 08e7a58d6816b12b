//! Diagnostics on the host's standard error and the `VMXLATE_LOG` switches.
//!
//! Invariants: every diagnostic is one line starting with `vmxlate: `,
//! written with a single `write` where possible so it does not interleave
//! with the guest's own output. `VMXLATE_LOG` is read once, by [`init`], at
//! start-up; afterwards the switches are plain atomic loads.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

static SYSCALLS: AtomicBool = AtomicBool::new(false);

/// Switches parsed from a `VMXLATE_LOG` value (comma-separated names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// `syscalls`: one line per guest syscall, and unsupported ones named.
    pub syscalls: bool,
}

impl Switches {
    /// Parses a `VMXLATE_LOG` value; unknown names are ignored.
    pub fn parse(value: &str) -> Switches {
        let mut s = Switches::default();
        for name in value.split(',').map(str::trim) {
            if name == "syscalls" {
                s.syscalls = true;
            }
        }
        s
    }
}

/// Reads `VMXLATE_LOG` from the environment and sets the switches.
pub fn init() {
    if let Some(v) = std::env::var_os("VMXLATE_LOG") {
        let s = Switches::parse(&v.to_string_lossy());
        SYSCALLS.store(s.syscalls, Ordering::Relaxed);
    }
}

/// Whether syscall logging is on.
pub fn syscalls() -> bool {
    SYSCALLS.load(Ordering::Relaxed)
}

/// Writes `vmxlate: <args>\n` to the host's standard error.
pub fn line(args: fmt::Arguments<'_>) {
    let text = format!("vmxlate: {args}\n");
    crate::host::write_all(2, text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::Switches;

    #[test]
    fn parses_comma_separated_switches() {
        assert!(Switches::parse("syscalls").syscalls);
        assert!(Switches::parse("foo, syscalls").syscalls);
        assert!(!Switches::parse("syscall").syscalls);
        assert!(!Switches::parse("").syscalls);
    }
}
