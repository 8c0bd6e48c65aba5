#!/usr/bin/python3
"""native_report.py - the report of bench/eval/native-ckpt.

  native_report.py OUTDIR

Reads OUTDIR/host.txt and OUTDIR/raw.csv (one row per transfer); writes
OUTDIR/summary.csv, OUTDIR/summary.json and OUTDIR/REPORT.md and prints the
report. Rates: file -> file contenders bytes / wall seconds (sender started ->
both ends exited, start-up included); `bulk` is rvmig-bench's own figure
(its timed interval, memory -> memory). Every ratio is formed within a round
(contenders run back to back) and the median of those ratios is reported.
Exit status 0 unless raw.csv is missing or a run failed; a missed target is
reported as MISSED, not an error.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt, fnum, kv, med, rows  # noqa: E402 (the shared helpers)

GIB = float(1 << 30)
MIB = float(1 << 20)
# (numerator, denominator, target or None): per-round ratios reported
TARGETS = [("rvmig", "nc", 1.0), ("rvmig", "bulk", 0.8), ("rvmig", "socat", None),
           ("rvmig", "nc-sync", None)]
# the floors of the same run against the transport and the tools: where a
# floor is below 0.8 x bulk, no file -> file transfer can reach 0.8 x bulk
FLOORS = [("write", "bulk"), ("write-sync", "bulk"), ("cat", "bulk"), ("nc", "bulk"),
          ("rvmig", "write"), ("rvmig", "write-sync"), ("rvmig", "cat"), ("nc", "write")]


def rate(x):
    """MB/s of one run: the bulk figure is rvmig-bench's own."""
    if x["contender"] == "bulk":
        g = fnum(x["bulk_gbit_s"])
        return g * 125.0 if g is not None else None
    return fnum(x["mb_s"])


def per(x, key, unit):
    v, b = fnum(x[key]), fnum(x["bytes"])
    return v / (b / unit) if v is not None and b else None


def summarize(ok, inp, c):
    sel = [x for x in ok if x["input"] == inp and x["contender"] == c]
    if not sel:
        return None
    rates = [rate(x) for x in sel]
    s = {"input": inp, "contender": c, "rounds": len(sel),
         "mb_s": med(rates), "mb_s_min": min(r for r in rates if r is not None),
         "mb_s_max": max(r for r in rates if r is not None)}
    for end in ("snd", "rcv"):
        s["cpu_%s_s_per_gib" % end] = med([per(x, "cpu_%s_s" % end, GIB) for x in sel])
        s["syscalls_%s_per_mib" % end] = med([per(x, "syscalls_%s" % end, MIB) for x in sel])
        s["ctxsw_%s_per_mib" % end] = med([per(x, "ctxsw_%s" % end, MIB) for x in sel])
        s["faults_%s_per_mib" % end] = med([per(x, "faults_%s" % end, MIB) for x in sel])
    s["load1"] = med([fnum(x["load1"]) for x in sel])
    return s


def ratios(ok, inp, a, b):
    by = {}
    for x in ok:
        if x["input"] == inp and x["contender"] in (a, b):
            by.setdefault(x["round"], {})[x["contender"]] = rate(x)
    per_round = [(int(r), d[a] / d[b]) for r, d in by.items()
                 if d.get(a) and d.get(b)]
    per_round.sort()
    return [v for _, v in per_round]


def main():
    if len(sys.argv) != 2:
        print("usage: native_report.py OUTDIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    raw = rows(os.path.join(out, "raw.csv"))
    if not raw:
        print("native_report.py: no %s/raw.csv" % out, file=sys.stderr)
        return 1
    host = kv(os.path.join(out, "host.txt"))
    ok = [x for x in raw if x["status"] == "ok"]
    failed = [x for x in raw if x["status"] != "ok"]
    inputs, conts = [], []
    for x in raw:
        if x["input"] not in inputs:
            inputs.append(x["input"])
        if x["contender"] not in conts:
            conts.append(x["contender"])
    summ = [s for i in inputs for c in conts for s in [summarize(ok, i, c)] if s]
    pairs = list(TARGETS)
    pairs += [(a, b, None) for a, b in FLOORS if a in conts and b in conts]
    pairs += [(c, "rvmig", None) for c in conts if c.startswith("rvmig-")]
    pairs += [(c, "nc", None) for c in conts if c.startswith("rvmig-")]
    rat = []
    for i in inputs:
        for a, b, t in pairs:
            v = ratios(ok, i, a, b)
            if not v:
                continue
            m = med(v)
            verdict = "" if t is None else ("met" if m >= t else "MISSED")
            rat.append({"input": i, "ratio": "%s/%s" % (a, b), "median": m, "rounds": v,
                        "target": t, "verdict": verdict})

    keys = list(summ[0].keys()) if summ else []
    with open(os.path.join(out, "summary.csv"), "w") as f:
        f.write(",".join(keys) + "\n")
        for s in summ:
            f.write(",".join("" if s[k] is None else str(s[k]) for k in keys) + "\n")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"host": host, "summary": summ, "ratios": rat,
                   "failed": [dict(x) for x in failed]}, f, indent=1)

    L = ["# Checkpoint file -> file over TCP loopback, natively (bench/eval/native-ckpt)", ""]
    L.append("Commit %s (dirty files: %s), %s .. %s; %s CPUs (%s), kernel %s; pinning sender,receiver: %s; "
             "%s s settled before each run." % (
                 host.get("git_commit", "?"), host.get("git_dirty", "?"), host.get("started", "?"),
                 host.get("finished", "?"), host.get("nproc", "?"), host.get("cpu", "?"),
                 host.get("kernel", "?"), host.get("pinning", "?"), host.get("settle", "0")))
    L.append("Inputs of %s MiB, %s rounds, contenders in rotating order each round: %s. "
             "Host 1-min load: %s at the start, %s at the end; per run in `raw.csv`." % (
                 host.get("mib", "?"), host.get("rounds", "?"), host.get("contenders", "?"),
                 host.get("load_start", "?"), host.get("load_end", "?")))
    for k, v in host.items():
        if k.startswith("args_rvmig-"):
            L.append("%s: `%s`." % (k[5:], v))
    L += ["", "MB/s: file contenders bytes / wall (sender start -> both ends exited); `bulk` is "
          "`rvmig-bench` memory -> memory, 1 MiB requests, its own timed figure. CPU per end from "
          "`perf stat` task-clock (start-up included); syscalls, context switches, page faults per end. "
          "Floors (one process on the receiver's CPU, its figures in the receiver's column): `write` "
          "dd /dev/zero -> the output file (page-cache write alone), `write-sync` the same with fsync "
          "(durable, as rvmig-recv makes its output), `cat` input file -> output file; `nc-sync` is nc "
          "followed by `sync FILE`, a copy as durable as rvmig's.",
          "", "| input | contender | MB/s median (min..max) | CPU s/GiB snd / rcv | syscalls/MiB snd / rcv "
          "| ctx sw/MiB snd / rcv | faults/MiB snd / rcv | load |", "|---|---|---|---|---|---|---|---|"]
    for s in summ:
        L.append("| %s | %s | %s (%s..%s) | %s / %s | %s / %s | %s / %s | %s / %s | %s |" % (
            s["input"], s["contender"], fmt(s["mb_s"]), fmt(s["mb_s_min"]), fmt(s["mb_s_max"]),
            fmt(s["cpu_snd_s_per_gib"]), fmt(s["cpu_rcv_s_per_gib"]),
            fmt(s["syscalls_snd_per_mib"]), fmt(s["syscalls_rcv_per_mib"]),
            fmt(s["ctxsw_snd_per_mib"]), fmt(s["ctxsw_rcv_per_mib"]),
            fmt(s["faults_snd_per_mib"]), fmt(s["faults_rcv_per_mib"]), fmt(s["load1"])))
    L += ["", "| input | ratio (per round, same round) | median | rounds | target | verdict |",
          "|---|---|---|---|---|---|"]
    for x in rat:
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            x["input"], x["ratio"], fmt(x["median"]), " ".join(fmt(v) for v in x["rounds"]),
            "" if x["target"] is None else ">= %g" % x["target"], x["verdict"]))
    if failed:
        L += ["", "Failed runs (logs in `logs/`):"]
        L += ["- %s round %s %s" % (x["input"], x["round"], x["contender"]) for x in failed]
    text = "\n".join(L) + "\n"
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
