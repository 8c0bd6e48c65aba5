#!/usr/bin/env bash
# unit.top.record: rvmig-top --record against a sleeper and a busy loop, in
# batch mode: the file's header and rows parse (format 1, rvmig-top(1)),
# the busy loop runs (or waits for a CPU) and the sleeper is blocked; a
# second run appends; the file is 0600 and never reached through a
# symbolic link, and a file that is not a record of this format is refused
# untouched.  A transfer published for the sleeper (a file in
# RVMIG_RUN_DIR, as rvmig processes write them, its tool name holding a
# quote, a backslash and an escape byte) is recorded as T rows.  Then
# rvmig-top-plot draws it: a PNG of the size asked for, with a transfers
# panel; a damaged record is refused with its line.
set -euo pipefail
top=$1
plot=$2
. "$(dirname "$0")/../lib/scratch.sh"

sleep 60 & sleeper=$!; pids+=("$sleeper")
sh -c 'while :; do :; done' & busy=$!; pids+=("$busy")
rec=$tmp/rec.tsv

# a transfer of the sleeper's, as the monitor reads them (rvmig_publisher(3))
mkdir -m 0755 "$tmp/run"
start=$(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[20] }' "/proc/$sleeper/stat")
printf 'rvmig-transfers 1\npid %d\npid_start %s\ntool a"b\\\\c\\x1b[31m\ntransfer 1\nstate active\npeer 10.0.0.9:1\ntransport tcp\nmode push\ndata_processed 5000\nbytes_per_s 100000000\nend\n' \
	"$sleeper" "$start" >"$tmp/run/$sleeper.xfer"

echo "== rvmig-top -b -d 0.5 -i 3 --record"
RVMIG_RUN_DIR=$tmp/run "$top" -b -d 0.5 -i 3 --record "$rec" -p "$sleeper" -p "$busy" >"$tmp/table"
cat "$rec"
[ "$(stat -c %a "$rec")" = 600 ] || { echo "record mode $(stat -c %a "$rec"), expected 600"; exit 1; }

check() { # record, runs expected, samples expected
	/usr/bin/python3 - "$@" "$sleeper" "$busy" <<'PY'
import sys
path, runs, samples, sleeper, busy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
lines = open(path).read().split("\n")
assert lines[-1] == "", "the file does not end with a newline"
lines = lines[:-1]
assert lines[0].startswith("#rvmig-top-record\t1\t"), lines[0]
magic = [l for l in lines if l.startswith("#rvmig-top-record\t")]
assert len(magic) == runs, f"{len(magic)} runs, expected {runs}"
for m in magic:
    kv = dict(f.split("=", 1) for f in m.split("\t")[2:])
    for k in ("host", "backend", "cpus", "mem_total", "delay_s", "start", "rvmig"):
        assert k in kv, f"header without {k}: {m}"
    assert kv["backend"] == "linux" and int(kv["cpus"]) >= 1 and float(kv["delay_s"]) == 0.5, kv
cols, rows = {}, {"H": [], "D": [], "V": [], "T": []}
for n, l in enumerate(lines, 1):
    f = l.split("\t")
    if l.startswith("#rvmig-top-record"):
        continue
    if l.startswith("#"):
        cols[f[0][1:]] = f[1:]
        continue
    assert f[0] in cols, f"line {n}: row type {f[0]} before its column line"
    assert len(f) - 1 == len(cols[f[0]]), f"line {n}: {len(f) - 1} fields, #{f[0]} names {len(cols[f[0]])}"
    rows[f[0]].append(dict(zip(cols[f[0]], f[1:])))
assert len(rows["H"]) == samples, f"{len(rows['H'])} H rows, expected {samples}"
assert len(rows["D"]) == 2 * samples and len(rows["V"]) == 2 * samples, (len(rows["D"]), len(rows["V"]))
for h in rows["H"]:
    ncpus = int(h["ncpus"])
    assert ncpus >= 1 and all(0 <= float(h[f"idle_pct_{i}"]) <= 100 for i in range(ncpus)), h
shares = {sleeper: [], busy: []}
last = {}
for d in rows["D"]:
    assert d["kind"] == "process" and d["id"] in shares, d
    prev, last[d["id"]] = last.get(d["id"]), d
    if float(d["interval_s"]) == 0:
        continue                       # the priming sample of a run
    # the time since the row before (samples keep to a 0.5 s grid: one
    # that came late, at load 15, left 0.27 s to the next)
    assert prev and abs(float(d["time"]) - float(prev["time"]) - float(d["interval_s"])) < 0.005, (prev, d)
    total = sum(float(d[k]) for k in ("run_pct", "blocked_pct", "wait_pct"))
    assert abs(total - 100) < 1, f"shares add up to {total}: {d}"
    shares[d["id"]].append(d)
for d in shares[sleeper]:
    assert d["name"] == "sleep" and float(d["blocked_pct"]) > 90 and float(d["run_pct"]) < 5, d
# The busy loop never blocks: it is on a CPU or waiting for one (on this
# shared 2-core host at load 15 it ran 8 % of an interval and waited 89 %).
# The kernel adds a wait to a task's counters when the wait ends, so a row
# that ends while it waits shows that wait as blocked (22.7 % of a 0.6 s
# row at load 11) and a later row has it as wait beyond its interval.  So
# its time is checked over each run of rvmig-top, from the rows' exact
# figures: run = the growth of cpu_s, wait = wait_pct of the row's sum
# (run / run_pct; the interval where it did not run); what a run leaves
# unaccounted is the wait it is in at the last sample less the one at the
# first, not the load of the host.
def busy_runs():
    run_rows, cur = [], None
    for n, l in enumerate(lines):
        if l.startswith("#rvmig-top-record\t"):
            cur = []
            run_rows.append(cur)
        elif l.startswith("D\t"):
            d = dict(zip(cols["D"], l.split("\t")[1:]))
            if d["id"] == busy:
                cur.append(d)
    return run_rows
for rows_of_run in busy_runs():
    assert float(rows_of_run[0]["interval_s"]) == 0, rows_of_run[0]   # the priming sample
    wall = accounted = ran = 0.0
    for p, d in zip(rows_of_run, rows_of_run[1:]):
        assert d["name"] == "sh", d
        run_s = float(d["cpu_s"]) - float(p["cpu_s"])
        total_s = run_s / (float(d["run_pct"]) / 100) if float(d["run_pct"]) > 0 else float(d["interval_s"])
        wall += float(d["interval_s"])
        accounted += run_s + float(d["wait_pct"]) / 100 * total_s
        ran += run_s
    assert ran > 0, f"the busy loop did not run: {rows_of_run}"
    assert accounted > 0.8 * wall, f"busy loop: run + wait {accounted:.3f} s of {wall:.3f} s: {rows_of_run}"
runs_busy = [float(d["run_pct"]) for d in shares[busy]]
runs_sleeper = [float(d["run_pct"]) for d in shares[sleeper]]
# and over the runs, it ran far more than the sleeper
assert sum(runs_busy) > 10 * sum(runs_sleeper) + 1, (runs_busy, runs_sleeper)
ours = [t for t in rows["T"] if t["pid"] == sleeper]
if runs == 1:   # the first run saw the published transfer in every sample
    assert len(ours) == samples, f"{len(ours)} T rows of pid {sleeper}, expected {samples}"
for t in ours:
    # the tool's name as published, escaped by the monitor: no raw control byte
    assert t["name"].startswith('a"b') and "\\x1b[31m" in t["name"], t["name"]
    assert t["name"].endswith(" %s/1" % sleeper) and t["name"].isprintable(), t["name"]
    assert (t["state"], t["transport"], t["mode"], t["peer"]) == ("active", "tcp", "push", "10.0.0.9:1"), t
    assert t["bytes_per_s"] == "100000000" and t["processed"] == "5000" and t["total"] == "-", t
print(f"record: {runs} run(s), {samples} samples, {len(ours)} transfer rows, busy loop run% {runs_busy}, "
      f"sleeper blocked% {[float(d['blocked_pct']) for d in shares[sleeper]]}")
PY
}
check "$rec" 1 4

echo "== a second run appends"
"$top" -b -d 0.5 -i 3 --record "$rec" -p "$sleeper" -p "$busy" >/dev/null
check "$rec" 2 8

echo "== refused: a symbolic link, a file that is not a record, another format"
echo "precious" >"$tmp/target"
ln -s "$tmp/target" "$tmp/link"
if "$top" -b -d 0.2 -i 1 --record "$tmp/link" -p "$sleeper" >/dev/null 2>"$tmp/err"; then
	echo "a symbolic link was followed"; exit 1
fi
cat "$tmp/err"; grep -q 'symbolic link' "$tmp/err"
[ "$(cat "$tmp/target")" = precious ] || { echo "the link's target changed"; exit 1; }
cp "$tmp/target" "$tmp/notrec"; chmod 600 "$tmp/notrec"
rc=0; "$top" -b -d 0.2 -i 1 --record "$tmp/notrec" -p "$sleeper" >/dev/null 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 2 ] && grep -q 'not an rvmig-top record' "$tmp/err" || { echo "a foreign file: exit $rc"; exit 1; }
[ "$(cat "$tmp/notrec")" = precious ] || { echo "the foreign file changed"; exit 1; }
printf '#rvmig-top-record\t2\thost=x\n' >"$tmp/v2"
rc=0; "$top" -b -d 0.2 -i 1 --record "$tmp/v2" -p "$sleeper" >/dev/null 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 2 ] && grep -q 'format 2' "$tmp/err" || { echo "another format: exit $rc"; exit 1; }

echo "== rvmig-top-plot"
png_size() { # prints WIDTHxHEIGHT of a PNG, or fails
	/usr/bin/python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
assert b[12:16] == b"IHDR", "no IHDR chunk first"
w, h = struct.unpack(">II", b[16:24])
assert len(b) > 2000, f"only {len(b)} bytes"
print(f"{w}x{h}")
PY
}
"$plot" "$rec" -o "$tmp/out.png" --size 900x500 | tee "$tmp/plot.out"
grep -q '2 domain panels' "$tmp/plot.out"
[ "$(png_size "$tmp/out.png")" = 900x500 ] || { echo "PNG size $(png_size "$tmp/out.png")"; exit 1; }
echo "png: $(stat -c %s "$tmp/out.png") bytes, 900x500"

grep -q ', transfers, ' "$tmp/plot.out" || { echo "no transfers panel"; exit 1; }

head -n 3 "$rec" >"$tmp/bad.tsv"
printf 'D\t1.0\t0.5\tprocess\t1\n' >>"$tmp/bad.tsv"
rc=0; "$plot" "$tmp/bad.tsv" -o "$tmp/bad.png" 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 2 ] && grep -q 'bad.tsv:4: a D row of 4 fields' "$tmp/err" || { echo "a damaged record: exit $rc"; exit 1; }
[ ! -e "$tmp/bad.png" ] || { echo "a PNG from a damaged record"; exit 1; }
echo "record test passed"
