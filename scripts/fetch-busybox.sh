#!/usr/bin/env bash
# Fetches Debian bookworm's busybox-static for arm64 and amd64 (the same
# version, checked against pinned SHA-256 sums) and extracts both binaries:
#   $DIR/busybox-arm64   the guest program tests and benchmarks translate
#   $DIR/busybox-amd64   the native build of the same version, for comparison
# DIR defaults to target/thirdparty/busybox. Nothing fetched is committed.
# Prints DIR on success; exits non-zero if a download or a checksum fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-target/thirdparty/busybox}
version=1.35.0-4+deb12u1+b1
pool=http://deb.debian.org/debian/pool/main/b/busybox
declare -A sha=(
    [arm64]=732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5
    [amd64]=3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
)
mkdir -p "$dir"
for arch in arm64 amd64; do
    out="$dir/busybox-$arch"
    [ -x "$out" ] && continue
    deb="$dir/busybox-static_${version}_$arch.deb"
    if ! echo "${sha[$arch]}  $deb" | sha256sum -c --status 2>/dev/null; then
        curl -fsSL --retry 3 -o "$deb.part" "$pool/busybox-static_${version}_$arch.deb"
        echo "${sha[$arch]}  $deb.part" | sha256sum -c --status ||
            { echo "error: checksum mismatch for $deb" >&2; exit 1; }
        mv "$deb.part" "$deb"
    fi
    tmp=$(mktemp -d "$dir/extract.XXXXXX")
    dpkg-deb -x "$deb" "$tmp"
    mv "$tmp/bin/busybox" "$out.part" && chmod 755 "$out.part" && mv "$out.part" "$out"
    rm -rf "$tmp"
done
echo "$dir"
