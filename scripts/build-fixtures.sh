#!/usr/bin/env bash
# Builds the AArch64 fixture binaries from fixtures/src/*.c and *.cc into
# fixtures/bin/ and records their expected outputs with qemu-aarch64
# (fixtures/expected/, via check-fixtures.sh --record).
#
# Usage: scripts/build-fixtures.sh [--no-record]
#
# Environment: CC (default aarch64-linux-gnu-gcc), CXX (default
# aarch64-linux-gnu-g++), QEMU (default qemu-aarch64). Needs: apt-get
# install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user.
#
# The binaries are committed so that tests run without a cross compiler.
# They are static, keep their symbol tables (the translator uses them) and
# have no build id, so rebuilding with the same toolchain gives the same
# bytes. Each fixtures/src/NAME.c (or NAME.cc, with
# the C++ cross compiler) becomes fixtures/bin/NAME, with extra
# compiler flags from a first line `// cflags: ...` if it has one; basic.c
# is also built as static-pie (fixtures/bin/basic-pie), and strings.c also
# stripped (fixtures/bin/strings-stripped: no symbol table, as distributions
# ship programs); vector.c is built at -O3 with the CRC32 and crypto
# extensions so gcc auto-vectorizes it and accepts the ACLE intrinsics,
# and fpmath.c at -O3 so that gcc vectorizes its float and double loops.
# Each directory fixtures/src/NAME/ (except bad/) is one multi-file program
# fixtures/bin/NAME: every .c/.cc file in it is compiled on its own at -O2
# plus the flags of its own `// cflags: ...` first line, and the objects
# are linked static (with the C++ driver if there is any .cc file).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fx=$root/fixtures
CC=${CC:-aarch64-linux-gnu-gcc}
CXX=${CXX:-aarch64-linux-gnu-g++}

record=1
for arg in "$@"; do
    case $arg in
        --no-record) record=0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

command -v "$CC" >/dev/null || { echo "error: $CC not found (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 2; }
command -v "$CXX" >/dev/null || { echo "error: $CXX not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 2; }

CFLAGS=(-O2 -Wall -Wextra -Werror)
LDFLAGS=(-Wl,--build-id=none)

mkdir -p "$fx/bin"
build() { # build OUT SRC MODE-FLAG [EXTRA-CFLAGS...]
    local out=$1 src=$2 mode=$3 extra
    shift 3
    read -ra extra <<<"$(sed -n '1s|^// cflags: ||p' "$src")"
    echo "cc $mode $* ${extra[*]} $(basename "$src") -> bin/$out"
    "$CC" "${CFLAGS[@]}" "$@" "${extra[@]}" "$mode" "${LDFLAGS[@]}" -o "$fx/bin/$out" "$src" -lm
}

for src in "$fx"/src/*.c; do
    name=$(basename "$src" .c)
    case $name in
        vector) build "$name" "$src" -static -O3 -march=armv8-a+crc+crypto ;;
        fpmath) build "$name" "$src" -static -O3 ;;
        *) build "$name" "$src" -static ;;
    esac
done
for src in "$fx"/src/*.cc; do
    name=$(basename "$src" .cc)
    echo "c++ -static $(basename "$src") -> bin/$name"
    "$CXX" "${CFLAGS[@]}" -static "${LDFLAGS[@]}" -o "$fx/bin/$name" "$src"
done
for dir in "$fx"/src/*/; do
    name=$(basename "$dir")
    [[ $name == bad ]] && continue
    objs=() linker=$CC
    obj_dir=$(mktemp -d)
    for src in "$dir"*.c "$dir"*.cc; do
        [[ -e $src ]] || continue
        read -ra extra <<<"$(sed -n '1s|^// cflags: ||p' "$src")"
        compiler=$CC
        [[ $src == *.cc ]] && compiler=$CXX linker=$CXX
        obj=$obj_dir/$(basename "$src").o
        "$compiler" "${CFLAGS[@]}" "${extra[@]}" -c -o "$obj" "$src"
        objs+=("$obj")
    done
    echo "$(basename "$linker") -static ${#objs[@]} files in src/$name/ -> bin/$name"
    "$linker" -static "${LDFLAGS[@]}" -o "$fx/bin/$name" "${objs[@]}" -lm -lpthread
    rm -rf "$obj_dir"
done
build basic-pie "$fx/src/basic.c" -static-pie
"${CC%gcc}strip" -o "$fx/bin/strings-stripped" "$fx/bin/strings"
# Bad input for tests/bad_input.rs: dynamically linked (PT_INTERP).
build dynamic-hello "$fx/src/bad/dynamic-hello.c" -O2

echo
for f in "$fx"/bin/*; do
    printf '%-12s %8d bytes  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" \
        "$(file -b "$f" 2>/dev/null | cut -d, -f1-2 || true)"
done
echo

if [[ $record == 1 ]]; then
    exec "$root/scripts/check-fixtures.sh" --record
fi
