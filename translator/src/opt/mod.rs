//! IR to IR passes over the lifted program, run by the driver after
//! binding (`bind`) and before the backend. The JIT runs the one pass
//! that needs no other function ([`share_dispatch`]) on the code it
//! compiles.
//!
//! Each pass keeps the guest's observable behaviour exactly, except where
//! it says AAPCS64 lets it differ (never under `strict_abi`).

mod copy;
mod dispatch;
mod guard;
mod inline;

use rayon::prelude::*;

use crate::ir::Function;

pub use dispatch::share_dispatch;

/// Runs the passes over every function of the program.
pub fn run(funcs: &mut [Function], strict_abi: bool) {
    let copyable = inline::Copyable::new(funcs);
    if !copyable.is_empty() {
        funcs
            .par_iter_mut()
            .for_each(|f| inline::inline_calls(f, &copyable, strict_abi));
    }
    let guards = guard::Guards::new(funcs);
    if !guards.is_empty() {
        funcs
            .par_iter_mut()
            .for_each(|f| guard::copy_guards(f, &guards));
    }
    funcs.par_iter_mut().for_each(dispatch::share_dispatch);
}
