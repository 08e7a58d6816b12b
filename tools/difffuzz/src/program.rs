//! The batch program: one static AArch64 ELF (ET_EXEC, see `elf.rs`) that
//! runs a list of cases and writes each case's final state record to
//! stdout. Every routine and case is a sized function symbol.
//!
//! Code (at `CODE`): a driver loop, a shared `load_state`, a shared `dump`,
//! then one small function per case:
//! prologue (FPCR, FPSR = 0, NZCV and X30 from constants), `[CLREX]`,
//! the words, epilogue (X0 to TPIDR_EL0, X1, NZCV, FPSR, FPCR stored),
//! `B dump`. The driver picks the next record and case address,
//! `load_state` loads SP, V0-V31 and X0-X29 from the record and returns
//! (RET) into the case, `dump` stores the other registers back over the
//! record, writes the record (registers and scratch area) with one
//! write(2) and loops. After the
//! last case the program calls exit_group(0).
//!
//! Data (at `DATA`): a control block `{i, n, -, table, cur, target}`, the
//! table of `(record, case address)` pairs to run, then the records
//! (16-byte aligned).
//! Writing one record per case lets the harness tell which case crashed.

use crate::asm::{self, Sys};
use crate::elf;
use crate::gen::Case;
use crate::layout::{State, OFF_FPCR, OFF_NZCV, OFF_SP, OFF_V, OFF_X, REC};

/// Address of the first ELF byte (the text segment). Above 4 GiB, so that
/// no random 32-bit register or memory value looks like a code pointer:
/// discovery would take it for a function entry and split a case there.
pub const TEXT: u64 = 0x2_0000_0000;
/// Address of the first instruction.
pub const CODE: u64 = TEXT + 0x1000;
/// Address of the data segment (control block first).
pub const DATA: u64 = 0x2_1000_0000;
const CTRL_CUR: i64 = 32;
const CTRL_TARGET: u32 = 40;
const CTRL_SIZE: u64 = 256;
/// Control-block word: install the signal handlers (oracle runs only).
const CTRL_HANDLERS: u32 = 16;
/// `stack_t` for sigaltstack, then `struct sigaction`, in the control block.
const CTRL_SS: u32 = 64;
const CTRL_ACT: u32 = 96;
/// Size of the alternate signal stack after the records.
const ALT_STACK: usize = 64 << 10;
/// Offset of `uc_mcontext.regs[0]` and `.pc` in the AArch64 `ucontext`.
const UC_X0: u32 = 184;
const UC_PC: u32 = 440;
/// The value a case's NZCV slot holds when a signal stopped the case
/// (`MARK | signal`): NZCV never has bits below 28 set.
pub const REJECTED_MARK: u64 = 0xbad0_0000;
/// Signals the oracle run survives: SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV.
const SIGNALS: [u32; 5] = [4, 5, 7, 8, 11];

/// A built batch.
pub struct Program {
    /// The ELF file.
    pub elf: Vec<u8>,
    /// Per case: the words as placed (literal offsets resolved) and the
    /// input state (scratch-relative registers resolved).
    pub cases: Vec<(Vec<u32>, State)>,
}

struct Code {
    words: Vec<u32>,
}

impl Code {
    fn pc(&self) -> u64 {
        CODE + 4 * self.words.len() as u64
    }
    fn push(&mut self, w: u32) {
        self.words.push(w);
    }
}

fn records_offset(n: usize) -> u64 {
    CTRL_SIZE + 16 * n as u64
}

/// The address of record `k` in a batch of `n`.
pub fn record_addr(n: usize, k: usize) -> u64 {
    DATA + records_offset(n) + (k * REC) as u64
}

fn driver(c: &mut Code, load_state: u64) {
    let top = c.pc();
    c.push(asm::adrp(0, c.pc(), DATA));
    c.push(asm::ldp_x(1, 2, 0, 0));
    c.push(asm::cmp(1, 2));
    let done = top + 4 * 12;
    c.push(asm::b_eq(c.pc(), done));
    c.push(asm::ldr_x(5, 0, 24));
    c.push(asm::add_lsl(5, 5, 1, 4));
    c.push(asm::ldp_x(3, 6, 5, 0));
    c.push(asm::add_imm(1, 1, 1));
    c.push(asm::str_x(1, 0, 0));
    c.push(asm::stp_x(3, 6, 0, CTRL_CUR));
    c.push(asm::b(c.pc(), load_state));
    c.push(asm::b(c.pc(), done));
    debug_assert_eq!(c.pc(), done);
    c.push(asm::movz(0, 0, 0));
    c.push(asm::movz(8, 94, 0)); // exit_group
    c.push(asm::SVC);
    c.push(asm::b(c.pc(), done));
}

fn load_state(c: &mut Code) {
    c.push(asm::adrp(0, c.pc(), DATA));
    c.push(asm::ldr_x(30, 0, CTRL_TARGET));
    c.push(asm::ldr_x(0, 0, CTRL_CUR as u32));
    c.push(asm::ldr_x(1, 0, OFF_SP as u32));
    c.push(asm::add_imm(31, 1, 0));
    for k in 0..16 {
        c.push(asm::ldp_q(
            2 * k,
            2 * k + 1,
            0,
            (OFF_V + 32 * k as usize) as i64,
        ));
    }
    for k in 0..14 {
        c.push(asm::ldp_x(
            2 * k + 1,
            2 * k + 2,
            0,
            (OFF_X + 8 + 16 * k as usize) as i64,
        ));
    }
    c.push(asm::ldr_x(29, 0, (OFF_X + 8 * 29) as u32));
    c.push(asm::ldr_x(0, 0, OFF_X as u32));
    c.push(asm::RET);
}

/// The start of a case: FPCR, FPSR = 0 and NZCV through X30, then X30.
/// (Translated code need not keep NZCV across calls and returns, as
/// AAPCS64 allows, so flags are set and read inside the case function.)
fn case_prologue(c: &mut Code, s: &State) {
    c.push(asm::movz(30, (s.fpcr >> 16) as u32, 1));
    c.push(asm::msr(Sys::Fpcr, 30));
    c.push(asm::msr(Sys::Fpsr, 31));
    c.push(asm::movz(30, (s.nzcv >> 16) as u32, 1));
    c.push(asm::msr(Sys::Nzcv, 30));
    for w in asm::mov64(30, s.x[30]) {
        c.push(w);
    }
}

/// The end of a case: X0 to TPIDR_EL0, X0 = record, X1, NZCV, FPSR and
/// FPCR stored, then `B dump`.
fn case_epilogue(c: &mut Code, dump_at: u64) {
    c.push(asm::msr(Sys::Tpidr, 0));
    c.push(asm::adrp(0, c.pc(), DATA));
    c.push(asm::ldr_x(0, 0, CTRL_CUR as u32));
    c.push(asm::str_x(1, 0, (OFF_X + 8) as u32));
    for (r, off) in [
        (Sys::Nzcv, OFF_NZCV),
        (Sys::Fpsr, crate::layout::OFF_FPSR),
        (Sys::Fpcr, OFF_FPCR),
    ] {
        c.push(asm::mrs(1, r));
        c.push(asm::str_x(1, 0, off as u32));
    }
    c.push(asm::b(c.pc(), dump_at));
}

/// Entered with X0 = the record (X0 itself in TPIDR_EL0, X1 stored).
fn dump(c: &mut Code, top: u64) {
    for k in 0..14 {
        c.push(asm::stp_x(
            2 * k + 2,
            2 * k + 3,
            0,
            (OFF_X + 16 + 16 * k as usize) as i64,
        ));
    }
    c.push(asm::str_x(30, 0, (OFF_X + 8 * 30) as u32));
    c.push(asm::mrs(1, Sys::Tpidr));
    c.push(asm::str_x(1, 0, OFF_X as u32));
    c.push(asm::add_imm(1, 31, 0));
    c.push(asm::str_x(1, 0, OFF_SP as u32));
    for k in 0..16 {
        c.push(asm::stp_q(
            2 * k,
            2 * k + 1,
            0,
            (OFF_V + 32 * k as usize) as i64,
        ));
    }
    c.push(asm::mov_reg(1, 0));
    c.push(asm::movz(0, 1, 0));
    c.push(asm::movz(2, REC as u32, 0));
    c.push(asm::movz(8, 64, 0)); // write
    c.push(asm::SVC);
    c.push(asm::b(c.pc(), top));
}

/// The entry: when the control block asks for it (oracle runs), installs
/// a handler for the signals a case may raise on an alternate stack, then
/// jumps to the driver.
fn start(c: &mut Code, top: u64, handler: u64) {
    c.push(asm::adrp(0, c.pc(), DATA));
    c.push(asm::ldr_x(1, 0, CTRL_HANDLERS));
    let skip = c.pc() + 4 * (5 + 7 * SIGNALS.len() as u64);
    c.push(asm::cbz(1, c.pc(), skip));
    c.push(asm::add_imm(0, 0, CTRL_SS));
    c.push(asm::movz(1, 0, 0));
    c.push(asm::movz(8, 132, 0)); // sigaltstack
    c.push(asm::SVC);
    for sig in SIGNALS {
        c.push(asm::movz(0, sig, 0));
        c.push(asm::adrp(1, c.pc(), DATA));
        c.push(asm::add_imm(1, 1, CTRL_ACT));
        c.push(asm::movz(2, 0, 0));
        c.push(asm::movz(3, 8, 0));
        c.push(asm::movz(8, 134, 0)); // rt_sigaction
        c.push(asm::SVC);
    }
    debug_assert_eq!(c.pc(), skip);
    c.push(asm::b(c.pc(), top));
    debug_assert_eq!(c.pc(), handler);
}

/// The signal handler (X0 = signal, X2 = ucontext): resume at `rejected`
/// with X0 = the signal; then the restorer (rt_sigreturn); then
/// `rejected`, which marks the case's record, writes it, and loops.
fn handler(c: &mut Code, top: u64) -> (u64, u64) {
    let rejected = c.pc() + 4 * 6;
    c.push(asm::adr(9, c.pc(), rejected));
    c.push(asm::str_x(9, 2, UC_PC));
    c.push(asm::str_x(0, 2, UC_X0));
    c.push(asm::RET);
    let restorer = c.pc();
    c.push(asm::movz(8, 139, 0)); // rt_sigreturn
    c.push(asm::SVC);
    debug_assert_eq!(c.pc(), rejected);
    c.push(asm::mov_reg(3, 0));
    c.push(asm::adrp(0, c.pc(), DATA));
    c.push(asm::ldr_x(1, 0, CTRL_CUR as u32));
    c.push(asm::movz(2, (REJECTED_MARK >> 16) as u32, 1));
    c.push(asm::add_lsl(2, 2, 3, 0));
    c.push(asm::str_x(2, 1, OFF_NZCV as u32));
    c.push(asm::movz(0, 1, 0));
    c.push(asm::movz(2, REC as u32, 0));
    c.push(asm::movz(8, 64, 0)); // write
    c.push(asm::SVC);
    c.push(asm::b(c.pc(), top));
    (restorer, rejected)
}

/// Points an LDR (literal) at `pc` backwards into the code, `1..=64`
/// words before it, keeping the generator's choice in the low imm19 bits.
fn resolve_literal(word: u32, pc: u64) -> u32 {
    let imm19 = (word >> 5) & 0x7ffff;
    let room = (pc - CODE) / 4;
    let back = (1 + u64::from(imm19 % 64)).min(room) as i64;
    (word & !(0x7ffff << 5)) | (((-back) as u32 & 0x7ffff) << 5)
}

/// Builds the program that holds `cases` and runs those whose indices are
/// in `active`, in that order. The layout (code and record addresses)
/// depends only on `cases`, so runs of different `active` subsets agree on
/// every address. `handlers` makes cases that raise a signal write a
/// record marked [`REJECTED_MARK`] instead of ending the program (for the
/// oracle; translated code does not deliver signals yet).
pub fn build(cases: &[Case], active: &[usize], handlers: bool) -> Program {
    let n = cases.len();
    let mut c = Code { words: Vec::new() };
    // Layout: driver (16 words), load_state, dump, start, handler, cases.
    let mut funcs: Vec<(String, u64, u64)> = Vec::with_capacity(n + 8);
    let mut func =
        |c: &Code, name: &str, from: u64| funcs.push((name.to_string(), from, c.pc() - from));
    let load_at = CODE + 4 * 16;
    driver(&mut c, load_at);
    debug_assert_eq!(c.pc(), load_at);
    func(&c, "driver", CODE);
    load_state(&mut c);
    func(&c, "load_state", load_at);
    let dump_at = c.pc();
    dump(&mut c, CODE);
    func(&c, "dump", dump_at);
    let entry = c.pc();
    let handler_at = entry + 4 * (8 + 7 * SIGNALS.len() as u64);
    start(&mut c, CODE, handler_at);
    func(&c, "_start", entry);
    let (restorer, rejected) = handler(&mut c, CODE);
    funcs.push(("on_signal".into(), handler_at, restorer - handler_at));
    funcs.push(("sigreturn".into(), restorer, rejected - restorer));
    funcs.push(("rejected".into(), rejected, c.pc() - rejected));
    let mut table = Vec::with_capacity(n);
    let mut placed = Vec::with_capacity(n);
    for (k, case) in cases.iter().enumerate() {
        let mut state = case.state.clone();
        let scratch = record_addr(n, k) + crate::layout::OFF_MEM as u64;
        for &(reg, delta) in &case.rel {
            let v = scratch.wrapping_add_signed(delta);
            if reg == 31 {
                state.sp = v;
            } else {
                state.x[reg as usize] = v;
            }
        }
        table.push(c.pc());
        case_prologue(&mut c, &state);
        if case.clrex {
            c.push(asm::CLREX);
        }
        let mut words = case.words.clone();
        for (j, w) in words.iter_mut().enumerate() {
            if case.literal == Some(j) {
                *w = resolve_literal(*w, c.pc());
            }
            c.push(*w);
        }
        case_epilogue(&mut c, dump_at);
        let at = table[k];
        funcs.push((format!("case_{k}"), at, c.pc() - at));
        placed.push((words, state));
    }
    let mut data = vec![0u8; records_offset(n) as usize];
    let alt = record_addr(n, n);
    let mut put = |off: u32, v: u64| data[off as usize..][..8].copy_from_slice(&v.to_le_bytes());
    put(8, active.len() as u64);
    put(CTRL_HANDLERS, u64::from(handlers));
    put(24, DATA + CTRL_SIZE);
    put(CTRL_SS, alt);
    put(CTRL_SS + 16, ALT_STACK as u64);
    // SA_SIGINFO | SA_ONSTACK | SA_RESTORER
    put(CTRL_ACT, handler_at);
    put(CTRL_ACT + 8, 0x4 | 0x0800_0000 | 0x0400_0000);
    put(CTRL_ACT + 16, restorer);
    for (j, &k) in active.iter().enumerate() {
        let at = (CTRL_SIZE + 16 * j as u64) as u32;
        put(at, record_addr(n, k));
        put(at + 8, table[k]);
    }
    for (_, s) in &placed {
        data.extend_from_slice(&s.to_bytes());
    }
    data.resize(data.len() + ALT_STACK, 0);
    let code: Vec<u8> = c.words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Program {
        elf: elf::write(&elf::Image {
            text_addr: TEXT,
            code_addr: CODE,
            code: &code,
            data_addr: DATA,
            data: &data,
            entry,
            funcs: &funcs,
        }),
        cases: placed,
    }
}
