//! Case generation: random words from a class's patterns, kept when the
//! decoder accepts them, the class's mnemonic filter selects them, the
//! memory planner can place them, and the lifter lifts them without a trap.
//! Words that lift to a trap are counted per mnemonic as unsupported and
//! not run.
//!
//! Determinism: a class's cases depend only on the seed and the class name,
//! so `--class C --case I` regenerates case I of a full run.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fastrand::Rng;
use vmxlate::elf::GuestImage;
use vmxlate::frontend::a64::unallocated::is_unallocated;
use vmxlate::frontend::a64::{decode, words::lift_words};
use vmxlate::ir::{Terminator, TrapKind};

use crate::classes::{is_fp_mnemonic, parse_pattern, Class, Kind, Select};
use crate::layout::State;
use crate::{asm, mem, program, state};

/// One generated case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its class.
    pub class: &'static str,
    /// Index within the class for this seed.
    pub index: usize,
    /// The instruction words (a store-exclusive may follow its load; a
    /// branch is followed by the marker it may skip).
    pub words: Vec<u32>,
    /// Input state (registers in `rel` are resolved at layout).
    pub state: State,
    /// Registers that must point into the scratch area (31 = SP).
    pub rel: Vec<(u8, i64)>,
    /// Index of an LDR (literal) word whose offset is set at layout.
    pub literal: Option<usize>,
    /// Clear the exclusive monitor before the words.
    pub clrex: bool,
    /// The main word is an encoding the decoder refuses as unallocated
    /// (`frontend::a64::unallocated`): qemu-aarch64 must reject it with
    /// SIGILL, and it is not run translated.
    pub undefined: bool,
}

impl Case {
    /// The instruction under test (the last word that is not the marker).
    pub fn main_word(&self) -> u32 {
        match self.words.as_slice() {
            [w, asm::MARKER] => *w,
            ws => *ws.last().expect("a case has words"),
        }
    }
}

/// The first token of a word's disassembly.
pub fn mnemonic(word: u32) -> String {
    decode::disassemble(word)
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

/// What lifting a word sequence gave.
pub enum Lifted {
    /// Lifted without a trap.
    Ok,
    /// Lifted into a trap (unsupported).
    Trap,
    /// The lifter panicked (a lifter bug): the message.
    Panic(String),
}

/// Lifts words the way translation does, to filter unsupported ones.
pub struct Filter {
    image: GuestImage,
}

impl Filter {
    /// A filter over an empty batch's image (literal loads read its code).
    pub fn new() -> Result<Filter, String> {
        let image = GuestImage::parse(program::build(&[], &[], false).elf)
            .map_err(|e| format!("internal error: the empty batch does not load: {e}"))?;
        Ok(Filter { image })
    }

    /// Lifts `words` at the first code address.
    pub fn check(&self, words: &[u32]) -> Lifted {
        let r = catch_unwind(AssertUnwindSafe(|| {
            lift_words(&self.image, program::CODE, words)
        }));
        match r {
            Ok(f) => {
                let trap = f.blocks.values().any(|b| {
                    matches!(
                        b.term,
                        Terminator::Trap {
                            kind: TrapKind::Undefined(_),
                            ..
                        }
                    )
                });
                if trap {
                    Lifted::Trap
                } else {
                    Lifted::Ok
                }
            }
            Err(e) => Lifted::Panic(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            ),
        }
    }
}

/// Generation figures for one class.
#[derive(Default, Debug, Clone)]
pub struct GenStats {
    /// Cases produced.
    pub produced: usize,
    /// Words that lifted to a trap, by mnemonic.
    pub unsupported: BTreeMap<String, usize>,
    /// Cases of unallocated encodings (expected to raise SIGILL).
    pub undefined: usize,
    /// Words the lifter panicked on: `word disassembly: message`.
    pub panics: Vec<String>,
}

/// Produces the cases of one class.
pub struct Generator<'a> {
    /// The class.
    pub class: &'static Class,
    patterns: Vec<(u32, u32)>,
    rng: Rng,
    filter: &'a Filter,
    attempts_left: usize,
    /// Figures so far.
    pub stats: GenStats,
}

fn class_seed(seed: u64, name: &str) -> u64 {
    name.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl<'a> Generator<'a> {
    /// A generator for `count` cases of `class` (it gives up after
    /// `20 * count + 2000` draws, for classes that are mostly unsupported).
    pub fn new(class: &'static Class, seed: u64, count: usize, filter: &'a Filter) -> Self {
        Generator {
            class,
            patterns: class.patterns.iter().map(|p| parse_pattern(p)).collect(),
            rng: Rng::with_seed(class_seed(seed, class.name)),
            filter,
            attempts_left: 20 * count + 2000,
            stats: GenStats::default(),
        }
    }

    /// The next case, or `None` when the draw budget is spent.
    pub fn next_case(&mut self) -> Option<Case> {
        while self.attempts_left > 0 {
            self.attempts_left -= 1;
            if let Some(case) = self.attempt() {
                self.stats.produced += 1;
                return Some(case);
            }
        }
        None
    }

    /// A random word of one of the class's patterns that decodes, or that
    /// yaxpeax-arm decodes but the Arm ARM leaves unallocated (words
    /// yaxpeax refuses itself are not drawn).
    fn draw(&mut self) -> Option<u32> {
        let (mask, value) = self.patterns[self.rng.usize(..self.patterns.len())];
        let word = value | (self.rng.u32(..) & !mask);
        let refused = || is_unallocated(word) && !decode::disassemble(word).starts_with('<');
        (decode::decode(word).is_some() || refused()).then_some(word)
    }

    fn attempt(&mut self) -> Option<Case> {
        let mut words = Vec::with_capacity(self.class.seq);
        for _ in 0..self.class.seq {
            words.push(self.draw()?);
        }
        let word = *words.last().expect("seq >= 1");
        let undefined = is_unallocated(word);
        if words[..words.len() - 1].iter().any(|w| is_unallocated(*w)) {
            return None;
        }
        let rng = &mut self.rng;
        let m = mnemonic(word);
        match self.class.select {
            Select::Fp if !is_fp_mnemonic(&m) => return None,
            Select::NotFp if is_fp_mnemonic(&m) => return None,
            _ => {}
        }
        let kind = self.class.kind;
        let mut state = state::random(rng, kind == Kind::Fp);
        let mut case = Case {
            class: self.class.name,
            index: self.stats.produced,
            words,
            state: State::default(),
            rel: Vec::new(),
            literal: None,
            clrex: kind == Kind::Atomic,
            undefined,
        };
        match kind {
            Kind::Branch => case.words.push(asm::MARKER),
            Kind::Mem | Kind::Atomic => {
                let plan = mem::plan(word, kind == Kind::Atomic, rng, &mut state)?;
                case.words = plan.prefix.into_iter().chain([plan.word]).collect();
                case.rel = plan.rel;
                if plan.literal {
                    case.literal = Some(case.words.len() - 1);
                }
            }
            Kind::Int | Kind::Fp => {}
        }
        case.state = state;
        if undefined {
            self.stats.undefined += 1;
            return Some(case);
        }
        let lifted = match kind {
            Kind::Branch => &case.words[..1],
            _ => &case.words[..],
        };
        match self.filter.check(lifted) {
            Lifted::Ok => Some(case),
            Lifted::Trap => {
                *self.stats.unsupported.entry(m).or_default() += 1;
                None
            }
            Lifted::Panic(msg) => {
                self.stats.panics.push(format!(
                    "{word:#010x} `{}`: {msg}",
                    decode::disassemble(word)
                ));
                None
            }
        }
    }
}
