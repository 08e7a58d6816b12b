#!/usr/bin/env bash
# Runs every case in fixtures/cases.txt under qemu-aarch64 and compares
# stdout and exit status with fixtures/expected/NAME.{stdout,status}.
#
# Usage: scripts/check-fixtures.sh [--record] [NAME_PATTERN]
#
#   --record      write the expected files instead of comparing (used by
#                 build-fixtures.sh); also deletes expected files that no
#                 case refers to.
#   NAME_PATTERN  only cases whose name matches this shell glob.
#
# Environment: QEMU (default qemu-aarch64), TIMEOUT seconds per case
# (default 120). Needs bash, perl (for the exact wait status) and mktemp.
# Exits 1 if any case differs, naming each one.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fx=$root/fixtures
QEMU=${QEMU:-qemu-aarch64}
TIMEOUT=${TIMEOUT:-120}

record=0
pattern='*'
for arg in "$@"; do
    case $arg in
        --record) record=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option: $arg" >&2; exit 2 ;;
        *) pattern=$arg ;;
    esac
done

command -v "$QEMU" >/dev/null || { echo "error: $QEMU not found (apt-get install qemu-user)" >&2; exit 2; }
command -v perl >/dev/null || { echo "error: perl not found" >&2; exit 2; }

# Runs a command with a time limit and writes its wait status to a file as
# `N` (exit code) or `signal N`. qemu-user re-raises a guest's fatal signal
# on itself, so the host status is the guest status.
run_with_status() {
    perl -e '
        my ($statfile, $secs, @cmd) = @ARGV;
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) { exec { $cmd[0] } @cmd; exit 127; }
        local $SIG{ALRM} = sub { kill "KILL", $pid; print STDERR "TIMEOUT after ${secs}s\n"; };
        alarm $secs;
        waitpid($pid, 0);
        my $st = $?;
        alarm 0;
        open(my $f, ">", $statfile) or die "$statfile: $!";
        print $f (($st & 127) ? "signal " . ($st & 127) : ($st >> 8)), "\n";
    ' "$@"
}

ulimit -c 0 # qemu-user writes qemu_*.core files for guests killed by signals

mkdir -p "$fx/expected"
scratch=$(mktemp -d)
trap 'chmod -R u+rwx "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT

declare -A seen=()
total=0
failed=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    IFS='|' read -r name bin args flags <<<"$line"
    name=$(echo $name) bin=$(echo $bin) # trim
    if [[ -z $name || -z $bin ]]; then
        echo "cases.txt:$lineno: malformed line" >&2
        exit 2
    fi
    if [[ -n ${seen[$name]:-} ]]; then
        echo "cases.txt:$lineno: duplicate case $name" >&2
        exit 2
    fi
    seen[$name]=1
    # shellcheck disable=SC2053
    [[ $name == $pattern ]] || continue

    stdin=/dev/null
    qemu_wrong=0
    read -ra flag_items <<<"${flags:-}"
    for item in "${flag_items[@]}"; do
        case $item in
            stdin=*) stdin=$fx/${item#stdin=} ;;
            tags=*) [[ ,${item#tags=}, == *,qemu-wrong,* ]] && qemu_wrong=1 ;;
            *) echo "cases.txt:$lineno: unknown flag $item" >&2; exit 2 ;;
        esac
    done

    if [[ $qemu_wrong == 1 ]]; then
        echo "skip $name: qemu-aarch64 is wrong here (expected files from the native build)"
        continue
    fi

    tmp=$scratch/$name
    mkdir -p "$tmp/tmpdir" "$tmp/cwd"
    read -ra argv <<<"${args:-}"
    for i in "${!argv[@]}"; do
        argv[i]=${argv[i]//\{tmpdir\}/$tmp/tmpdir}
    done

    total=$((total + 1))
    (cd "$tmp/cwd" && run_with_status "$tmp/status" "$TIMEOUT" \
        env -i VMX_TEST_VAR=hello-from-test PATH=/usr/bin:/bin \
        "$QEMU" "$fx/bin/$bin" "${argv[@]}" \
        <"$stdin" >"$tmp/stdout" 2>"$tmp/stderr")

    exp=$fx/expected/$name
    if [[ $record == 1 ]]; then
        cp "$tmp/stdout" "$exp.stdout"
        cp "$tmp/status" "$exp.status"
        printf '%-22s status %-9s %6d bytes\n' "$name" "$(cat "$tmp/status")" "$(wc -c <"$tmp/stdout")"
    elif ! cmp -s "$tmp/stdout" "$exp.stdout" || ! cmp -s "$tmp/status" "$exp.status"; then
        failed+=("$name")
        echo "FAIL $name: $bin" ${args:-}
        if [[ -f $exp.status ]]; then
            cmp -s "$tmp/status" "$exp.status" ||
                echo "  status: expected '$(cat "$exp.status")', got '$(cat "$tmp/status")'"
            diff -u --label expected --label actual "$exp.stdout" "$tmp/stdout" | head -40 | sed 's/^/  /' || true
        else
            echo "  no expected files (run scripts/build-fixtures.sh)"
        fi
        if [[ -s $tmp/stderr ]]; then
            echo "  stderr:"
            head -20 "$tmp/stderr" | sed 's/^/    /'
        fi
    else
        echo "ok   $name"
    fi
done <"$fx/cases.txt"

if [[ $record == 1 && $pattern == '*' ]]; then
    for f in "$fx"/expected/*.stdout "$fx"/expected/*.status; do
        [[ -e $f ]] || continue
        base=$(basename "$f")
        base=${base%.*}
        if [[ -z ${seen[$base]:-} ]]; then
            echo "removing stale $(basename "$f")"
            rm -f "$f"
        fi
    done
fi

if [[ $total == 0 ]]; then
    echo "no case matches '$pattern'" >&2
    exit 2
fi
if [[ $record == 1 ]]; then
    echo "recorded $total cases"
elif [[ ${#failed[@]} -gt 0 ]]; then
    echo "${#failed[@]} of $total cases FAILED: ${failed[*]}"
    exit 1
else
    echo "all $total cases passed"
fi
