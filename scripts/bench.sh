#!/usr/bin/env bash
# The benchmark: native x86-64 vs vmxlate-translated vs qemu-aarch64, side by
# side, on real third-party programs (Lua, SQLite, zstd, bzip2, xz, Debian's
# busybox) and our micro workloads (benches/micro/). Run by hand; it is not
# part of scripts/test.sh. See docs/performance.md.
#
# Usage: scripts/bench.sh [--runs N] [--filter REGEX] [--no-qemu]
#                         [--callgrind [--callgrind-qemu]] [--startup-runs M]
#
# Steps: builds vmxlate and the runtime (release), fetches the pinned
# third-party sources (scripts/fetch-crates.sh, scripts/fetch-busybox.sh;
# cached under target/thirdparty/), builds every workload for AArch64 and
# x86-64 with the same flags (benches/build.sh), generates the input files,
# then runs benches/harness.py, which translates, runs, checks outputs and
# writes target/bench/results/{results.md,results.tsv,translate.tsv,
# startup.tsv}. N (default 5, or BENCH_RUNS) runs per variant, interleaved.
#
# Needs: gcc, aarch64-linux-gnu-gcc, aarch64-linux-gnu-g++ (C++ workload),
# qemu-aarch64 (qemu-user), python3, curl, dpkg-deb; valgrind for
# --callgrind. Takes about 6 minutes with qemu and N=5 on a quiet machine,
# plus a one-time 5-7 minutes to build the workloads.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
for arg in "$@"; do
    case $arg in
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    esac
done
command -v python3 >/dev/null || { echo "error: python3 not found" >&2; exit 2; }

cargo build --release --workspace --quiet
# Without network the third-party workloads are skipped, not fatal.
scripts/fetch-crates.sh >/dev/null || echo "warning: third-party sources not fetched" >&2
scripts/fetch-busybox.sh >/dev/null || echo "warning: busybox not fetched" >&2
benches/build.sh

data=target/bench/data
mkdir -p "$data"
[[ -s $data/corpus.txt ]] || target/bench/bin/x64/gencorpus 4 >"$data/corpus.txt"
[[ -s $data/big.txt ]] || target/bench/bin/x64/gencorpus 24 >"$data/big.txt"

exec python3 benches/harness.py "$@"
