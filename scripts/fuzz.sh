#!/usr/bin/env bash
# A long differential-fuzzing run against qemu-aarch64 (release build):
#   scripts/fuzz.sh COUNT [SEED] [CLASS,...]
# runs COUNT random instructions per class (all classes by default) and
# prints one reproducer line per mismatch, then a table per class. The
# seed defaults to the time; rerun one case with the printed
#   target/release/difffuzz --seed S --class C --case I
# Exit status 1 when a mismatch is not on tools/difffuzz/pending.txt.
# FUZZ_BATCH sets the cases per batch program (default 5000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
count=${1:?usage: scripts/fuzz.sh COUNT [SEED] [CLASS,...]}
seed=${2:-$(date +%s)}
cargo build --release --quiet -p difffuzz -p vmxlate-runtime
args=(--count "$count" --seed "$seed" --batch "${FUZZ_BATCH:-5000}" --pending tools/difffuzz/pending.txt)
if [ -n "${3:-}" ]; then
    args+=(--class "$3")
fi
exec target/release/difffuzz "${args[@]}"
