//! Why a guest ELF file was rejected.
//!
//! Invariant: every message is one line, names the offending value where
//! there is one, and never needs the file to be printed.

use std::fmt;

/// A guest file that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The file does not start with the ELF magic.
    NotElf,
    /// The file is an ELF file but is cut short or internally inconsistent;
    /// the string says which structure is broken.
    Malformed(String),
    /// The file is for another machine (the string names it).
    NotAarch64(String),
    /// The file is not ELFCLASS64 / ELFDATA2LSB (the string says what it is).
    NotLittleEndian64(String),
    /// The file is an ELF but not a program (relocatable object, core dump).
    NotExecutable(String),
    /// The program needs a dynamic loader (the string is its PT_INTERP).
    Dynamic(String),
    /// The program has no PT_LOAD segment.
    NoLoadableSegments,
    /// Two PT_LOAD segments cover the same address.
    SegmentOverlap {
        /// Start of the lower segment.
        first: u64,
        /// Start of the segment that overlaps it.
        second: u64,
    },
    /// The entry point is not inside an executable segment.
    BadEntry(u64),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotElf => write!(f, "not an ELF file"),
            LoadError::Malformed(what) => write!(f, "truncated or malformed ELF: {what}"),
            LoadError::NotAarch64(machine) => {
                write!(f, "not an AArch64 program (machine: {machine})")
            }
            LoadError::NotLittleEndian64(what) => {
                write!(f, "not a 64-bit little-endian ELF ({what})")
            }
            LoadError::NotExecutable(what) => write!(f, "not an executable ({what})"),
            LoadError::Dynamic(interp) => write!(
                f,
                "dynamically linked programs are not supported yet (PT_INTERP {interp})"
            ),
            LoadError::NoLoadableSegments => write!(f, "no loadable (PT_LOAD) segments"),
            LoadError::SegmentOverlap { first, second } => {
                write!(f, "PT_LOAD segments at {first:#x} and {second:#x} overlap")
            }
            LoadError::BadEntry(entry) => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Shorthand for a [`LoadError::Malformed`] with a formatted reason.
pub(crate) fn malformed(what: impl fmt::Display) -> LoadError {
    LoadError::Malformed(what.to_string())
}

/// Name of an ELF `e_machine` value for error messages.
pub(crate) fn machine_name(machine: u16) -> String {
    use object::elf;
    let name = match machine {
        elf::EM_X86_64 => "x86-64",
        elf::EM_386 => "x86 (i386)",
        elf::EM_ARM => "32-bit Arm",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC64 => "PowerPC64",
        elf::EM_PPC => "PowerPC",
        elf::EM_S390 => "s390",
        elf::EM_MIPS => "MIPS",
        elf::EM_SPARCV9 => "SPARC V9",
        elf::EM_LOONGARCH => "LoongArch",
        elf::EM_NONE => "none",
        _ => return format!("e_machine {machine}"),
    };
    name.to_string()
}
