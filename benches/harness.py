#!/usr/bin/env python3
"""Benchmark harness: native vs translated (vmxlate) vs qemu-aarch64.

Run through scripts/bench.sh, which builds the translator and the
workloads first. For every workload in benches/workloads.txt it runs the
native x86-64 build, the vmxlate translation of the AArch64 build and the
AArch64 build under qemu-aarch64, interleaved, N times each; checks that
the three print the same stdout and exit status; and reports medians,
ratios and geometric means as a Markdown table (results.md) and TSV files
(results.tsv, translate.tsv, startup.tsv) in the output directory.

It also reports, per translated binary, translation wall and CPU time, peak
RSS of the translator and output size, and the start-up time of a
translated hello world against a native one. With --callgrind it adds
instruction counts from `valgrind --tool=callgrind` (noise-free, unlike
wall time on a shared machine).

Standard library only; Linux only (os.wait4 for rusage).
"""

import argparse
import hashlib
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BENCH = os.path.join(ROOT, "benches")
VARIANTS = ("native", "translated", "qemu")
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": "/nonexistent"}


class Workload:
    """One line of workloads.txt."""

    def __init__(self, name, binary, args, kind):
        self.name, self.binary, self.args, self.kind = name, binary, args, kind


class Run:
    """One finished process: wall seconds, CPU seconds (user + sys,
    including reaped children), peak RSS in KiB, wait status text, stdout
    digest and the first stderr line."""

    def __init__(self, wall, cpu, rss_kib, status, digest, stderr):
        self.wall, self.cpu, self.rss_kib = wall, cpu, rss_kib
        self.status, self.digest, self.stderr = status, digest, stderr


def parse_workloads(path, data_dir):
    out = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split("|")]
            if len(cols) != 4:
                sys.exit(f"{path}:{lineno}: expected NAME | BINARY | ARGS | KIND")
            name, binary, args, kind = cols
            args = [a.replace("{bench}", BENCH).replace("{data}", data_dir) for a in args.split()]
            out.append(Workload(name, binary, args, kind))
    return out


def run(cmd, workdir, timeout, stdout_path=None):
    """Runs cmd with stdin from /dev/null and the fixed environment; returns
    a Run. stdout goes to stdout_path (or a scratch file) and is digested."""
    out_path = stdout_path or os.path.join(workdir, "stdout")
    with open(out_path, "wb") as out, open(os.path.join(workdir, "stderr"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=ENV, cwd=workdir)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    code = proc.returncode
    text = f"signal {-code}" if code < 0 else str(code)
    h = hashlib.sha256()
    with open(out_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    with open(os.path.join(workdir, "stderr"), "rb") as f:
        # The first line that is not valgrind's (`==PID== ...`).
        first = [ln for ln in f.read(8192).decode("utf-8", "replace").splitlines()
                 if ln.strip() and not ln.startswith("==")]
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, text, h.hexdigest(),
               first[0] if first else "")


def translate(vmxlate, elf, out, workdir, timeout):
    """Translates elf with `vmxlate -v`; returns a dict of what it cost."""
    r = run([vmxlate, elf, "-o", out, "-v"], workdir, timeout)
    with open(os.path.join(workdir, "stderr"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    info = {"wall": r.wall, "cpu": r.cpu, "rss_mib": r.rss_kib / 1024.0, "status": r.status,
            "error": "", "insts": "", "functions": "", "traps": "", "size_mib": "",
            "guest_mib": os.path.getsize(elf) / 2**20, "code_mib": ""}
    m = re.search(r"(\d+) functions(?: \([^)]*\))?, (\d+) instructions \((\d+) untranslatable\), "
                  r"(\d+) bytes", log)
    if m:
        info["functions"], info["insts"], info["traps"] = m.group(1), m.group(2), m.group(3)
        info["code_mib"] = int(m.group(4)) / 2**20
    for phase, ms in re.findall(r"vmxlate: ([\w+]+): ([\d.]+) ms", log):
        info["phase_" + phase] = float(ms) / 1e3
    if r.status != "0" or not os.path.exists(out):
        info["error"] = (log.strip().splitlines() or ["exit " + r.status])[-1]
    else:
        info["size_mib"] = os.path.getsize(out) / 2**20
    return info


def callgrind(cmd, workdir, timeout):
    """Instruction count of cmd under callgrind, or an explanation."""
    out = os.path.join(workdir, "callgrind.out")
    if os.path.exists(out):
        os.unlink(out)
    r = run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
            workdir, timeout)
    total = None
    if os.path.exists(out):
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
    return total, r


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x, digits=3):
    if x is None or x == "":
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def ratio(a, b):
    return a / b if a and b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 5)))
    ap.add_argument("--filter", default="", help="regex over workload names")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count instructions with callgrind (native, translated)")
    ap.add_argument("--callgrind-qemu", action="store_true",
                    help="with --callgrind, count qemu-aarch64 too (slow)")
    ap.add_argument("--startup-runs", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--vmxlate", default=os.path.join(ROOT, "target/release/vmxlate"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/bench/bin"))
    ap.add_argument("--data", default=os.path.join(ROOT, "target/bench/data"))
    ap.add_argument("--out", default=os.path.join(ROOT, "target/bench/results"))
    a = ap.parse_args()

    workloads = [w for w in parse_workloads(os.path.join(BENCH, "workloads.txt"), a.data)
                 if re.search(a.filter, w.name)]
    os.makedirs(a.out, exist_ok=True)
    tdir = os.path.join(a.out, "translated")
    os.makedirs(tdir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="vmxbench.")
    qemu = shutil.which("qemu-aarch64")
    variants = [v for v in VARIANTS if v != "qemu" or (qemu and not a.no_qemu)]
    log = lambda *x: print(*x, file=sys.stderr, flush=True)  # noqa: E731

    # 1. Translate every guest binary once (hello world included).
    binaries = sorted({w.binary for w in workloads} | {"hello"})
    trans = {}
    for b in binaries:
        elf = os.path.join(a.bin, "a64", b)
        if not os.path.exists(elf):
            log(f"skip {b}: {elf} not built")
            continue
        log(f"translate {b}")
        trans[b] = translate(a.vmxlate, os.path.realpath(elf), os.path.join(tdir, b), scratch,
                             a.timeout)
        if trans[b]["error"]:
            log(f"  FAILED: {trans[b]['error']}")

    def command(w, variant):
        if variant == "native":
            return [os.path.join(a.bin, "x64", w.binary)] + w.args
        if variant == "translated":
            return [os.path.join(tdir, w.binary)] + w.args
        return [qemu, os.path.join(a.bin, "a64", w.binary)] + w.args

    # 2. Workloads, interleaved: run i of every variant before run i+1.
    results = {}
    for w in workloads:
        if w.binary not in trans or not os.path.exists(os.path.join(a.bin, "x64", w.binary)):
            continue
        runs = {v: [] for v in variants}
        if trans[w.binary]["error"]:
            runs.pop("translated")
        log(f"run {w.name} x{a.runs}: {' '.join(runs)}")
        for i in range(a.runs):
            for v in runs:
                keep = os.path.join(scratch, f"{w.name}.{v}.stdout") if i == 0 else None
                runs[v].append(run(command(w, v), scratch, a.timeout, keep))
        results[w.name] = (w, runs)

    # 3. Output check: translated vs qemu is the translator's correctness
    # (same guest binary); native vs qemu only says whether the two builds
    # of the source agree (libm last bits may differ).
    def check(runs, w):
        first = {v: r[0] for v, r in runs.items()}
        notes = []
        ref = first.get("qemu") or first.get("native")
        if "translated" not in first:
            return "translation failed: " + trans[w.binary]["error"]
        t = first["translated"]
        if (t.digest, t.status) != (ref.digest, ref.status):
            what = "qemu" if "qemu" in first else "native"
            notes.append(f"MISMATCH translated vs {what}: status {t.status} vs {ref.status}"
                         + (", stdout differs" if t.digest != ref.digest else "")
                         + (f" ({t.stderr})" if t.stderr else ""))
        if "qemu" in first and (first["native"].digest, first["native"].status) != \
                (first["qemu"].digest, first["qemu"].status):
            notes.append("native output differs from guest")
        for v, rs in runs.items():
            if len({(r.digest, r.status) for r in rs}) > 1:
                notes.append(f"{v} output varies between runs")
        return "; ".join(notes) or "same"

    # 4. Callgrind instruction counts (first run only; deterministic).
    counts = {}
    if a.callgrind and shutil.which("valgrind"):
        for name, (w, runs) in results.items():
            cv = [v for v in runs if v != "qemu" or a.callgrind_qemu]
            for v in cv:
                log(f"callgrind {name} {v}")
                total, r = callgrind(command(w, v), scratch, a.timeout * 20)
                ok = r.digest == runs[v][0].digest and r.status == runs[v][0].status
                counts[(name, v)] = total if ok else None
                if not ok:
                    counts[(name, v, "why")] = r.stderr or f"status {r.status}"

    # 5. Start-up: hello world, native vs translated, many interleaved runs.
    startup = None
    if "hello" in trans and not trans["hello"]["error"]:
        log(f"start-up x{a.startup_runs}")
        hn, ht = [], []
        for _ in range(a.startup_runs):
            hn.append(run([os.path.join(a.bin, "x64", "hello")], scratch, 30).wall)
            ht.append(run([os.path.join(tdir, "hello")], scratch, 30).wall)
        startup = (statistics.median(hn), statistics.median(ht))

    write_reports(a, results, trans, counts, startup, check)
    shutil.rmtree(scratch, ignore_errors=True)


def machine_line():
    """The host CPU and load, so that runs on different days compare."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"Machine: {model}, {os.cpu_count()} CPUs; load average at the end {load}.\n"


def write_reports(a, results, trans, counts, startup, check):
    md, tsv = [], ["workload\tkind\tvariant\tmedian_wall_s\tmedian_cpu_s\tmin_wall_s\t"
                   "max_wall_s\truns\tstatus\tcallgrind_ir\toutput"]
    md.append(machine_line())
    md.append(f"Median of {a.runs} interleaved runs. Times are wall seconds; ratios are given "
              "for wall time and for CPU time (user + sys, all threads), which a loaded "
              "machine disturbs less. tr/nat = translated / native (lower is better, 1.0 = "
              "native speed); qemu/tr = qemu-aarch64 / translated (higher is better).\n")
    md += ["| workload | kind | native s | translated s | qemu s | tr/nat wall | qemu/tr wall "
           "| tr/nat CPU | qemu/tr CPU | output |", "|" + "---|" * 10]
    acc = {}  # (kind, basis, which) -> ratios
    for name, (w, runs) in results.items():
        med = {v: statistics.median(r.wall for r in rs) for v, rs in runs.items()}
        cpu = {v: statistics.median(r.cpu for r in rs) for v, rs in runs.items()}
        out = check(runs, w)
        ok = out in ("same", "native output differs from guest")
        cells = []
        for basis, m in (("wall", med), ("cpu", cpu)):
            tn = ratio(m.get("translated"), m.get("native")) if ok else None
            qt = ratio(m.get("qemu"), m.get("translated")) if ok else None
            for which, r in (("tn", tn), ("qt", qt)):
                if r:
                    acc.setdefault((w.kind, basis, which), []).append(r)
                    acc.setdefault(("all", basis, which), []).append(r)
                cells.append(fmt(r, 2))
        md.append(f"| {name} | {w.kind} | {fmt(med.get('native'))} | "
                  f"{fmt(med.get('translated'))} | {fmt(med.get('qemu'))} | "
                  + " | ".join(cells) + f" | {out} |")
        for v, rs in runs.items():
            walls = [r.wall for r in rs]
            tsv.append("\t".join([name, w.kind, v, f"{med[v]:.4f}", f"{cpu[v]:.4f}",
                                  f"{min(walls):.4f}", f"{max(walls):.4f}", str(len(rs)),
                                  rs[0].status, str(counts.get((name, v), "")), out]))
    for kind in ("third-party", "micro", "all"):
        g = [f"**{fmt(geomean(acc.get((kind, b, x), [])), 2)}**"
             for b in ("wall", "cpu") for x in ("tn", "qt")]
        n = len(acc.get((kind, "cpu", "tn"), []))
        md.append(f"| **geomean {kind}** | | | | | " + " | ".join(g) + f" | {n} workloads |")
    if not acc:
        md.append("\nNo workload ran correctly translated.")

    if counts:
        md += ["", "Instruction counts (callgrind Ir, first run; deterministic):", "",
               "| workload | native Ir | translated Ir | tr/nat | qemu Ir |", "|---|---|---|---|---|"]
        for name in results:
            n, t, q = (counts.get((name, v)) for v in VARIANTS)
            why = counts.get((name, "translated", "why"), "")
            md.append(f"| {name} | {fmt(n)} | {fmt(t) if t else 'n/a ' + why} | "
                      f"{fmt(ratio(t, n), 2)} | {fmt(q)} |")

    md += ["", "Translation (one run each): wall and CPU seconds (CPU includes the "
           "linker), peak RSS of the translator, sizes in MiB.", "",
           "| binary | guest MiB | guest insns | functions | untranslatable | wall s | CPU s | "
           "peak RSS MiB | host code MiB | output MiB | error |",
           "|" + "---|" * 11]
    ttsv = ["binary\tguest_mib\tinsns\tfunctions\tuntranslatable\twall_s\tcpu_s\trss_mib\t"
            "code_mib\toutput_mib\tphases\terror"]
    for b, t in trans.items():
        phases = " ".join(f"{k[6:]}={v:.2f}s" for k, v in t.items() if k.startswith("phase_"))
        md.append(f"| {b} | {fmt(t['guest_mib'], 2)} | {t['insts']} | {t['functions']} | "
                  f"{t['traps']} | {fmt(t['wall'], 2)} | {fmt(t['cpu'], 2)} | "
                  f"{fmt(t['rss_mib'], 0)} | {fmt(t['code_mib'], 2)} | "
                  f"{fmt(t['size_mib'], 2)} | {t['error']} |")
        ttsv.append("\t".join(str(x) for x in [
            b, f"{t['guest_mib']:.3f}", t["insts"], t["functions"], t["traps"],
            f"{t['wall']:.3f}", f"{t['cpu']:.3f}", f"{t['rss_mib']:.1f}",
            fmt(t["code_mib"]), fmt(t["size_mib"]), phases, t["error"]]))

    stsv = ["native_ms\ttranslated_ms\tdelta_ms\truns"]
    if startup:
        n, t = startup
        md += ["", f"Start-up, hello world, median of {a.startup_runs} interleaved runs "
               f"(includes the harness's fork+exec): native {n * 1e3:.2f} ms, translated "
               f"{t * 1e3:.2f} ms, difference {(t - n) * 1e3:+.2f} ms."]
        stsv.append(f"{n * 1e3:.3f}\t{t * 1e3:.3f}\t{(t - n) * 1e3:.3f}\t{a.startup_runs}")

    text = "\n".join(md) + "\n"
    for fname, content in [("results.md", text), ("results.tsv", "\n".join(tsv) + "\n"),
                           ("translate.tsv", "\n".join(ttsv) + "\n"),
                           ("startup.tsv", "\n".join(stsv) + "\n")]:
        with open(os.path.join(a.out, fname), "w") as f:
            f.write(content)
    print(text)
    print(f"(written to {a.out}/results.md, results.tsv, translate.tsv, startup.tsv)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
