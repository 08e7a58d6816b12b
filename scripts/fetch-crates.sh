#!/usr/bin/env bash
# Fetches the C sources that the benchmarks build, as the crates.io packages
# that bundle them, with cargo (pinned versions; each .crate file is checked
# against a pinned SHA-256, the `cksum` of the crates.io index), and unpacks
# each into $DIR/NAME-VERSION/:
#   lua-src         Lua 5.4 interpreter (lua-5.4.9/)
#   libsqlite3-sys  the SQLite amalgamation (sqlite3/sqlite3.c)
#   zstd-sys        Zstandard (zstd/lib/)
#   bzip2-sys       bzip2 1.0.8 (bzip2-1.0.8/)
#   lzma-sys        xz-utils' liblzma 5.2 (xz-5.2/, config.h)
# DIR defaults to target/thirdparty/crates. Nothing fetched is committed.
# Prints DIR on success; exits non-zero if a download or a checksum fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-target/thirdparty/crates}
crates=(
    "lua-src 551.1.0 41d22b201501a536c0f5a96c7589b268b559172b20fb029064434e38ddcecb1f"
    "libsqlite3-sys 0.39.1 14a5f01b87b92705d07b433c06f96cbc764637d81a0bffb5734ce17cf0f9a2b3"
    "zstd-sys 2.0.17+zstd.1.5.7 d23450267310b494a553bae911e29a985dafa36b55d2c2c06c02f325b88bec32"
    "bzip2-sys 0.1.13+1.0.8 225bff33b2141874fe80d71e07d6eec4f85c5c216453dd96388240f96e1acc14"
    "lzma-sys 0.1.20 5fda04ab3764e6cde78b9974eec4f779acaba7c4e84b36eca3cf77c581b85d27"
)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
missing=()
for line in "${crates[@]}"; do
    read -r name version _ <<<"$line"
    [ -f "$dir/$name-$version/.complete" ] || missing+=("$line")
done
[ ${#missing[@]} -eq 0 ] && { echo "$dir"; exit 0; }

# A throw-away package that depends on the pinned crates: `cargo fetch`
# downloads them (and their small build dependencies) into cargo's cache.
pkg=$(mktemp -d "$dir/fetch.XXXXXX")
trap 'rm -rf "$pkg"' EXIT
mkdir -p "$pkg/src"
touch "$pkg/src/lib.rs"
{
    printf '[package]\nname = "vmxlate-bench-sources"\nversion = "0.0.0"\nedition = "2021"\n\n'
    printf '[workspace]\n\n[dependencies]\n'
    for line in "${missing[@]}"; do
        read -r name version _ <<<"$line"
        printf '%s = "=%s"\n' "$name" "$version"
    done
} >"$pkg/Cargo.toml"
cargo fetch --quiet --manifest-path "$pkg/Cargo.toml"

cache=${CARGO_HOME:-$HOME/.cargo}/registry/cache
for line in "${missing[@]}"; do
    read -r name version sum <<<"$line"
    file=$(ls "$cache"/*/"$name-$version.crate" 2>/dev/null | head -1)
    [ -n "$file" ] || { echo "error: cargo fetched no $name-$version.crate" >&2; exit 1; }
    echo "$sum  $file" | sha256sum -c --status ||
        { echo "error: checksum mismatch for $file" >&2; exit 1; }
    rm -rf "${dir:?}/$name-$version"
    tar -xzf "$file" -C "$dir"
    touch "$dir/$name-$version/.complete"
done
echo "$dir"
