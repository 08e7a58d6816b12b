#!/usr/bin/env bash
# Builds every benchmark workload twice with the same flags: for AArch64
# with aarch64-linux-gnu-gcc/g++ -static (the guest program that vmxlate and
# qemu-aarch64 run) and for x86-64 with the host gcc/g++ -static (native,
# the limit). Output: $OUT/a64/NAME and $OUT/x64/NAME (OUT defaults to
# target/bench/bin). Third-party sources come from scripts/fetch-crates.sh;
# a workload whose sources are missing is skipped with a note.
#
# Usage: benches/build.sh [OUT]
# Environment: A64_CC, A64_CXX, X64_CC, X64_CXX override the compilers.
# Rebuilds a binary only when it is older than its sources or its compiler
# command differs from the one recorded in BIN.cmd.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/target/bench/bin}
crates=$root/target/thirdparty/crates
A64_CC=${A64_CC:-aarch64-linux-gnu-gcc}
A64_CXX=${A64_CXX:-aarch64-linux-gnu-g++}
X64_CC=${X64_CC:-gcc}
X64_CXX=${X64_CXX:-g++}
for c in "$A64_CC" "$X64_CC"; do
    command -v "$c" >/dev/null || { echo "error: $c not found (apt-get install gcc-aarch64-linux-gnu)" >&2; exit 2; }
done
mkdir -p "$out/a64" "$out/x64" "$out/obj"

# build NAME LANG(c|c++) "FLAGS" SOURCES... : both targets, same flags.
build() {
    local name=$1 lang=$2 flags=$3
    shift 3
    local srcs=("$@") stale=0
    for arch in a64 x64; do
        local bin=$out/$arch/$name cc
        case $arch/$lang in
            a64/c) cc=$A64_CC ;;
            a64/c++) cc=$A64_CXX ;;
            x64/c) cc=$X64_CC ;;
            x64/c++) cc=$X64_CXX ;;
        esac
        # Stale if missing, older than a source, or built with other flags.
        stale=0
        if [[ ! -x $bin || "$(cat "$bin.cmd" 2>/dev/null)" != "$cc $flags" ]]; then
            stale=1
        else
            for s in "${srcs[@]}"; do [[ $s -nt $bin ]] && stale=1 && break; done
        fi
        [[ $stale == 1 ]] || continue
        if ! command -v "$cc" >/dev/null; then
            echo "skip $name: $cc not found (apt-get install g++-aarch64-linux-gnu)" >&2
            return 0
        fi
        echo "build $arch/$name"
        # Compile each source to its own object so big libraries build in
        # one step per file, then link statically.
        local objdir=$out/obj/$arch/$name objs=()
        mkdir -p "$objdir"
        for s in "${srcs[@]}"; do
            local o
            o=$objdir/$(basename "${s%.*}").o
            # shellcheck disable=SC2086
            "$cc" $flags -c -o "$o" "$s"
            objs+=("$o")
        done
        "$cc" -static -o "$bin.part" "${objs[@]}" -lm -lpthread
        mv "$bin.part" "$bin"
        echo "$cc $flags" >"$bin.cmd"
    done
}

have() { [[ -d $crates/$1 ]] || { echo "skip: $1 not fetched (scripts/fetch-crates.sh)" >&2; return 1; }; }

b=$root/benches
base="-O2 -g0"

# Micro workloads of our own.
for src in "$b"/micro/*.c; do
    name=$(basename "$src" .c)
    flags=$base
    [[ $name == vector ]] && flags="-O3 -g0"
    build "$name" c "$flags" "$src"
done
for src in "$b"/micro/*.cc; do
    build "$(basename "$src" .cc)" c++ "$base" "$src"
done

# Start-up benchmark and the busybox workloads' input generator.
build hello c "$base" "$b/startup/hello.c"
build gencorpus c "$base" "$b/drivers/gencorpus.c"

# Debian's busybox-static (prebuilt by Debian with the same flags for both
# architectures), if scripts/fetch-busybox.sh fetched it.
bb=$root/target/thirdparty/busybox
if [[ -x $bb/busybox-arm64 && -x $bb/busybox-amd64 ]]; then
    ln -sf "$bb/busybox-arm64" "$out/a64/busybox"
    ln -sf "$bb/busybox-amd64" "$out/x64/busybox"
else
    echo "skip: busybox not fetched (scripts/fetch-busybox.sh)" >&2
fi

# Lua 5.4 interpreter, running benches/lua/bench.lua.
if have lua-src-551.1.0; then
    d=$crates/lua-src-551.1.0/lua-5.4.9
    build lua c "$base -I$d -DLUA_USE_POSIX" "$d"/*.c "$b/lua/main.c"
fi

# SQLite amalgamation with our driver.
if have libsqlite3-sys-0.39.1; then
    d=$crates/libsqlite3-sys-0.39.1/sqlite3
    build sqlite c "$base -I$d -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_MEMSTATUS=0" \
        "$d/sqlite3.c" "$b/drivers/sqlite.c"
fi

# Zstandard; ZSTD_DISABLE_ASM so both targets run the same C decoder.
if have zstd-sys-2.0.17+zstd.1.5.7; then
    d=$crates/zstd-sys-2.0.17+zstd.1.5.7/zstd/lib
    build zstd c "$base -I$d -I$d/common -DZSTD_DISABLE_ASM -DZSTD_MULTITHREAD=0 -DZSTD_LEGACY_SUPPORT=0" \
        "$d"/common/*.c "$d"/compress/*.c "$d"/decompress/*.c "$b/drivers/zstd.c"
fi

# bzip2 1.0.8.
if have bzip2-sys-0.1.13+1.0.8; then
    d=$crates/bzip2-sys-0.1.13+1.0.8/bzip2-1.0.8
    build bzip2 c "$base -I$d -D_FILE_OFFSET_BITS=64" \
        "$d"/{blocksort,huffman,crctable,randtable,compress,decompress,bzlib}.c "$b/drivers/bzip2.c"
fi

# liblzma from xz 5.2 (the configuration lzma-sys uses).
if have lzma-sys-0.1.20; then
    d=$crates/lzma-sys-0.1.20
    l=$d/xz-5.2/src/liblzma
    inc="-I$d -I$l/api -I$l/common -I$l/lzma -I$l/lz -I$l/check -I$l/simple -I$l/delta -I$l/rangecoder -I$d/xz-5.2/src/common"
    mapfile -t xsrc < <(ls "$l"/{common,lzma,lz,check,delta,rangecoder,simple}/*.c |
        grep -v -e '_small\.c$' -e 'tablegen\.c$')
    build xz c "$base -std=gnu99 -DHAVE_CONFIG_H $inc" "${xsrc[@]}" \
        "$d/xz-5.2/src/common/tuklib_cpucores.c" "$d/xz-5.2/src/common/tuklib_physmem.c" "$b/drivers/xz.c"
fi
