#!/usr/bin/env bash
# The test command (README, .ci/run): builds the workspace (the runtime
# archive libvmxrt.a must exist before the end-to-end tests translate
# anything), then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --workspace --quiet
cargo test --workspace "$@"
