#!/usr/bin/env bash
# Builds vmxlate (release), translates the bundled AArch64 fixture
# fixtures/bin/basic to an x86-64 executable, and runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --workspace --quiet
out=$(mktemp -d)/basic
target/release/vmxlate fixtures/bin/basic -o "$out" --verbose
echo "--- $out hello"
"$out" hello
echo "--- $out printf-int"
"$out" printf-int | head -5
echo "--- $out switch"
"$out" switch | head -5
