#!/usr/bin/env bash
# unit.top.batch: rvmig-top -b against a sleeper and a busy loop.  The table
# must carry its columns and one line per domain; --json must parse and show
# the sleeper blocked and the busy loop on (or waiting for) a CPU; a
# backend that cannot work here is refused with its reason.
# Tolerances are wide: the build machine is shared and loaded.
set -euo pipefail
top=$1
. "$(dirname "$0")/../lib/scratch.sh"

sleep 60 & sleeper=$!; pids+=("$sleeper")
sh -c 'while :; do :; done' & busy=$!; pids+=("$busy")

echo "== table: rvmig-top -b -d 1 -i 2"
"$top" -b -d 1 -i 2 -p "$sleeper" -p "$busy" >"$tmp/table"
cat "$tmp/table"
[ "$(grep -c '^host: ' "$tmp/table")" -eq 2 ] || { echo "expected 2 iterations"; exit 1; }
for col in NAME KIND STATE 'CPU(sec)' 'CPU(%)' RUN% BLK% WAIT% EXECS/s THR 'MEM(k)' 'NETRX(k)' 'NETTX(k)' 'DISKRD(k)' 'DISKWR(k)'; do
	grep -qF "$col" "$tmp/table" || { echo "column $col missing"; exit 1; }
done
[ "$(grep -c ' sleep process ' "$tmp/table")" -eq 2 ] || { echo "sleeper line missing"; exit 1; }
[ "$(grep -c ' sh process ' "$tmp/table")" -eq 2 ] || { echo "busy line missing"; exit 1; }

echo "== json: rvmig-top -b -d 1 -i 3 --json"
"$top" -b -d 1 -i 3 --json -p "$sleeper" -p "$busy" >"$tmp/json"
cat "$tmp/json"
python3 - "$tmp/json" "$sleeper" "$busy" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
sleeper, busy = int(sys.argv[2]), int(sys.argv[3])
busy_run = []
assert len(lines) == 3, f"{len(lines)} JSON lines, expected 3"
for line in lines:
    it = json.loads(line)
    assert 0.8 < it["interval_s"] < 1.5, it["interval_s"]
    assert it["host"]["cpus"] >= 1 and it["host"]["mem_total_bytes"] > it["host"]["mem_free_bytes"] > 0
    d = {x["id"]: x for x in it["domains"]}
    s, b = d[sleeper], d[busy]
    for x in (s, b):
        total = x["run_pct"] + x["blocked_pct"] + x["wait_pct"]
        assert abs(total - 100) < 1, f"{x['name']}: shares add up to {total}"
        assert x["threads"] == 1 and x["mem_bytes"] > 0, x
    # sleeper: blocked nearly all the time
    assert s["run_pct"] < 5 and s["blocked_pct"] > 90 and s["cpu_pct"] < 5, s
    # busy loop: never blocked for long, on a CPU or waiting for one (at
    # load 50 on the shared 2-core host it ran 7.8 % of an interval and
    # waited 92 %)
    assert b["blocked_pct"] < 20 and b["run_pct"] + b["wait_pct"] > 80, b
    busy_run.append(b["run_pct"])
# and it did run: far more than the sleeper
assert sum(busy_run) / len(busy_run) > 3, busy_run
print("json: sleeper blocked, busy loop running, 3 iterations")
PY

echo "== csv: rvmig-top -b -d 0.5 -i 2 --csv"
"$top" -b -d 0.5 -i 2 --csv -p "$sleeper" >"$tmp/csv"
cat "$tmp/csv"
head -n1 "$tmp/csv" | grep -q '^time,interval_s,name,kind,id,state,cpu_s,cpu_pct,run_pct,blocked_pct,wait_pct,execs_per_s,threads,mem_bytes,transfer,peer,transport,mode,bytes_total,bytes_processed,bytes_remaining,rate_bytes_per_s,pages,zero_pages,started,elapsed_s,net_rx_bytes,net_tx_bytes,disk_read_bytes,disk_write_bytes$'
[ "$(grep -c ",\"sleep\",process,$sleeper," "$tmp/csv")" -eq 2 ] || { echo "csv rows missing"; exit 1; }

echo "== errors"
# without -b the live view needs a terminal: stdout here is a file
if "$top" -p "$sleeper" >"$tmp/out" 2>"$tmp/err"; then echo "no -b, no --listen, no terminal accepted"; exit 1; fi
grep -qE 'not a terminal|without curses' "$tmp/err"
if "$top" -b -i 1 -p 0 2>"$tmp/err"; then echo "-p 0 accepted"; exit 1; fi
if "$top" -b -i 1 -g /nonexistent-cgroup 2>"$tmp/err"; then echo "missing cgroup accepted"; exit 1; fi
cat "$tmp/err"
# --backend xen on this host (not dom0 of a Xen host): exit 1 and, at the
# default verbosity, one line naming xen and why (the file or library that
# failed), not just "Operation not supported".  RVMIG_HAVE_XENMON (from
# CMake): whether the build has the xen backend at all.
rc=0
"$top" --backend xen -b -i 1 -d 0.1 >"$tmp/out" 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" -eq 1 ] || { echo "--backend xen on a host without Xen: exit $rc, expected 1"; exit 1; }
if [ "${RVMIG_HAVE_XENMON:-0}" = 1 ]; then
	grep -E 'monitor backend xen cannot work on this host: .*(/sys/hypervisor/type|/proc/xen/capabilities|libxen|xc_)' "$tmp/err" ||
		{ echo "--backend xen: no line naming xen and the cause"; exit 1; }
else
	grep -F 'no monitor backend called "xen" in this build' "$tmp/err" ||
		{ echo "--backend xen: no line saying this build has no xen backend"; exit 1; }
fi
echo "batch test passed"
