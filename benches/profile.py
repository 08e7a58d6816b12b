#!/usr/bin/env python3
"""Where translated code spends its instructions, by category.

Reads a callgrind profile of a translated program, recorded with
per-instruction counts:

    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=OUT ./prog ARGS
    python3 benches/profile.py ./prog OUT [--func PREFIX] [--top N]

and classifies the self cost (Ir) of every host instruction in translated
guest functions (symbols `g_<guest name>_<address>`, or those starting with
PREFIX) by its pattern in `objdump -d`:

- `state: x regs` / `v regs` / `nzcv` / `pc` / `stack limit` / `safepoint`:
  loads and stores of CpuState fields (guest registers spilled or
  reloaded at calls, entries and exits; the return-address check; the
  host stack limit test at entries; the pending-signal test of safe
  points). A base register counts as the CpuState pointer in a function
  when it is used with an offset only CpuState has (0x100, 0x138, 0x140)
  or holds a copy of the entry's %rdi; so the split is approximate. The
  code TLB that follows CpuState is probed with an index register, so
  its loads count as `guest memory / tables`;
- `stack spill slots`: %rsp-relative operands (Cranelift spills, including
  guest registers kept in stack slots across calls);
- `guest memory / tables`: other memory operands (guest loads and stores,
  jump tables, TLB entries);
- `call/frame`, `branch`, `compare`, `setcc/cmov` (materialised flags and
  selects), `simd/fp` (xmm operands), `constants` (%rip-relative), `alu`.

Standard library only. Used for docs/performance.md ("Where the time goes").
"""
import argparse
import collections
import re
import subprocess

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("binary")
ap.add_argument("profile")
ap.add_argument("--func", default="g_", help="symbol prefix of the functions counted")
ap.add_argument("--top", type=int, default=0, help="also list the N costliest instructions")
opts = ap.parse_args()
binary, cg, prefix = opts.binary, opts.profile, opts.func

# 1. per-instruction self cost
cost = collections.Counter()
fn_of = {}
names = {}
cur_fn = None
ipos = 0
skip_next = False
obj_ok = False
obnames = {}
for line in open(cg):
    line = line.rstrip("\n")
    if not line or line[0] == "#":
        continue
    m = re.match(r"^(c?ob|c?fn|c?fl|fi|fe)=\((\d+)\)(?: (.*))?$", line)
    if m:
        kind, idx, name = m.groups()
        if kind in ("ob", "cob") and name:
            obnames[idx] = name
        if kind == "ob":
            obj_ok = obnames.get(idx, "").endswith(binary.split("/")[-1])
        if kind == "fn":
            if name:
                names[idx] = name
            cur_fn = names.get(idx)
        if kind == "cfn" and name:
            names[idx] = name
        continue
    if line.startswith("calls="):
        skip_next = True
        continue
    if re.match(r"^[a-z]+:", line) or "=" in line.split(" ")[0]:
        continue
    parts = line.split()
    p = parts[0]
    if p.startswith("0x"):
        ipos = int(p, 16)
    elif p.startswith("+"):
        ipos += int(p[1:])
    elif p.startswith("-"):
        ipos -= int(p[1:])
    elif p == "*":
        pass
    else:
        continue
    if skip_next:
        skip_next = False
        continue
    if obj_ok and cur_fn and cur_fn.startswith(prefix) and len(parts) >= 3:
        cost[ipos] += int(parts[2])
        fn_of[ipos] = cur_fn

# 2. disassembly
dis = {}
order = []
out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True).stdout
func = None
for line in out.splitlines():
    m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
    if m:
        func = m.group(2)
        continue
    m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
    if m and func and func.startswith(prefix):
        a = int(m.group(1), 16)
        dis[a] = m.group(2).strip()
        order.append((func, a))

CALLER_SAVED = {"rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"}
REG64 = {"eax": "rax", "ecx": "rcx", "edx": "rdx", "ebx": "rbx", "esi": "rsi", "edi": "rdi",
         "ebp": "rbp", "esp": "rsp"}
def norm(r):
    r = r.lstrip("%")
    if r in REG64:
        return REG64[r]
    m = re.match(r"(r\d+)[dwb]?$", r)
    return m.group(1) if m else r

# 3a. per function, the registers used as a base with offsets only the
# CpuState has (pc 0x100, pending 0x138, stack limit 0x140)
fstate = collections.defaultdict(set)
for func, a in order:
    m = re.search(r"(0x1(?:00|38|40))\((%\w+)\)", dis[a])
    if m:
        if norm(m.group(2)) not in ("rsp", "rip", "rbp"):
            fstate[func].add(norm(m.group(2)))

# 3. classify, tracking which registers hold the CpuState pointer
state = set()
slots = set()
cat_of = {}
last_func = None
for func, a in order:
    if func != last_func:
        state, slots, last_func = {"rdi"}, set(), func
    ins = dis[a]
    op = ins.split()[0]
    args = ins[len(op):].strip()
    args = re.sub(r"\s+#.*$", "", args)
    ops = re.findall(r"(?:[^,()]*\([^)]*\)|[^,()]+)", args)
    ops = [o.strip() for o in ops if o.strip()]
    mem = re.search(r"(-?0x[0-9a-f]+|)\((%\w+)(?:,%\w+,?\d*)?\)", args)
    cat = "alu"
    if op in ("call", "ret", "push", "pop", "leave") or (op in ("sub", "add") and args.endswith("%rsp")) or ins == "mov    %rsp,%rbp" or op == "mov" and args == "%rsp,%rbp" or op == "mov" and args == "%rbp,%rsp":
        cat = "call/frame"
    elif mem:
        disp = int(mem.group(1), 16) if mem.group(1) else 0
        base = norm(mem.group(2))
        if (base in state or base in fstate[func]) and not re.search(r"\(%\w+,", args) and disp < 0x350:
            if disp < 0x100: cat = "state: x regs"
            elif disp == 0x100: cat = "state: pc"
            elif 0x108 <= disp < 0x10c: cat = "state: nzcv"
            elif disp == 0x140: cat = "state: stack limit"
            elif disp == 0x138: cat = "state: safepoint"
            elif disp >= 0x150: cat = "state: v regs"
            else: cat = "state: other"
        elif base == "rsp": cat = "stack spill slots"
        elif base == "rip": cat = "constants"
        elif op.startswith("lea"): cat = "alu"
        else: cat = "guest memory / tables"
    elif op.startswith("j"):
        cat = "branch"
    elif op.startswith("set") or op.startswith("cmov"):
        cat = "setcc/cmov"
    elif op.startswith("cmp") or op.startswith("test") or op.startswith("ucomis"):
        cat = "compare"
    elif "%xmm" in args:
        cat = "simd/fp"
    cat_of[a] = cat
    # update state-pointer registers
    dst = norm(ops[-1]) if ops else None
    if op == "call":
        state -= CALLER_SAVED
    elif op.startswith("mov") and len(ops) == 2:
        src = ops[0]
        if src.startswith("%") and norm(src) in state:
            if ops[1].startswith("%"):
                state.add(dst)
            elif re.match(r"^(0x[0-9a-f]+)?\(%rsp\)$", ops[1]):
                slots.add(ops[1])
        elif src in slots and ops[1].startswith("%"):
            state.add(dst)
        elif ops[1].startswith("%"):
            state.discard(dst)
    elif ops and ops[-1].startswith("%") and not op.startswith(("cmp", "test", "j", "push")):
        state.discard(dst)

tot = collections.Counter()
for a, c in cost.items():
    tot[cat_of.get(a, "unknown")] += c
all_ = sum(tot.values())
print(f"total Ir in {prefix}*: {all_:,}")
for k, v in tot.most_common():
    print(f"  {k:24s} {v:>14,}  {100*v/all_:5.1f}%")
if opts.top:
    for addr, c in cost.most_common(opts.top):
        print(f"{c:>12,} {cat_of.get(addr, '?'):22s} {addr:#x} {dis.get(addr, '?')}")
