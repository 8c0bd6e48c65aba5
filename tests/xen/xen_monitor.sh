#!/bin/bash
# xen.monitor: the monitor's Xen backend in dom0 (rvmig_monitor(3), "xen").
# A PV tick guest that also burns CPU (RVMIG_XEN_GUEST_EXTRA=rvmig.burn) is
# started; monitor_dump (tests/monitor) samples every domain:
#   1. dom0 (2 vCPUs) and the guest appear, with names, memory and vCPUs;
#   2. uncapped, the guest uses most of a CPU (cpu_pct > 50);
#   3. capped with xl sched-credit2 -c 20, its CPU drops near the cap
#      (cpu_pct 5..35) and its waiting share (runnable or parked by the cap,
#      from the scheduler trace) rises above 50 %;
#   4. the guest's run time from the trace records agrees with its CPU time
#      from libxenctrl (xc_vcpu_getinfo) within 2 % from the first sample to
#      the last (both are cumulative: only the two ends can differ, by the
#      running period not yet closed by a record when the trace was read);
#   5. what the trace costs: a CPU-bound dom0 command timed without and
#      with the monitor sampling every second (printed, not checked: TCG
#      on a shared host is too noisy for a bound).
#   6. rvmig-top -b --backend xen (and auto) prints dom0 and the guest,
#      capped, as domains with their run / blocked / wait shares.
#   7. with RVMIG_POLICY: rvmig-policy --apply raises the guest's credit2
#      cap under a CPU-share floor SLA, xl shows it, the monitor sees the
#      effect; with ACT_RUN the actuator's weight and vCPU pinning are
#      applied, seen by xl (and the pinning by the monitor) and undone
#      (xen_apply.sh).
# Every figure is printed.  Usage (in the VM):
#   xen_monitor.sh MONITOR_DUMP RVMIG_TOP [RVMIG_POLICY [ACT_RUN]]
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
dump=${1:?usage: xen_monitor.sh MONITOR_DUMP RVMIG_TOP}
top=${2:?usage: xen_monitor.sh MONITOR_DUMP RVMIG_TOP}
policy=${3:-}
act_run=${4:-}
. "$(dirname "$0")/xen_apply.sh" || exit 1
t_start=$(xen_now)
trap xen_cleanup EXIT
xen_tmpdir || exit 1
name=rvmig-mon-$$

RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$name" pv || exit 1
grep -aq "rvmig-guest: burning CPU" "$(xen_console_log "$name")" \
  || xen_err "the guest did not start its busy loop" || exit 1
domid=$(xl domid "$name") || exit 1
xl sched-credit2 >&2

# check_dump FILE WHAT MIN MAX: the guest's last cpu_pct within [MIN, MAX].
check_dump() {
  local f=$1 what=$2 min=$3 max=$4 pct
  sed 's/^/  | /' "$f" >&2
  awk -v d="$domid" '/ vcpu=/ { next } / dom=0 / && / name=Domain-0 / && / nvcpus=2 / { z = 1 }
       END { exit !z }' "$f" || xen_err "$what: dom0 (Domain-0, 2 vCPUs) not in the samples" || return 1
  awk -v d="$domid" -v n="$name" '/ vcpu=/ { next } $2 == "dom=" d && $3 == "name=" n && / nvcpus=1 / && !/ mem=0 / { g = 1 }
       END { exit !g }' "$f" || xen_err "$what: guest $name (domain $domid, 1 vCPU, memory) not in the samples" || return 1
  awk '/ vcpu=/ { next } / dom=/ && / flags=/ { for (i = 1; i <= NF; i++) if ($i ~ /^flags=/) { f = substr($i, 7) + 0; if (int(f / 16) % 2) bad = 1 } }
       END { exit bad }' "$f" || xen_err "$what: a domain says its waiting time is not measured (no scheduler trace)" || return 1
  pct=$(awk -v d="$domid" '/ vcpu=/ { next } $2 == "dom=" d { for (i = 1; i <= NF; i++) if ($i ~ /^cpu_pct=/) { sub(/cpu_pct=/, "", $i); p = $i } } END { print p }' "$f")
  xen_note "$what: guest cpu_pct $pct (expected $min..$max)"
  awk -v p="$pct" -v a="$min" -v b="$max" 'BEGIN { exit !(p >= a && p <= b) }' \
    || xen_err "$what: guest cpu_pct $pct outside $min..$max" || return 1
}

"$dump" xen 6 2000 > "$XEN_TMP/free.txt" 2> "$XEN_TMP/free.err" \
  || { cat "$XEN_TMP/free.err" >&2; xen_err "monitor_dump xen failed"; exit 1; }
fail=0
check_dump "$XEN_TMP/free.txt" uncapped 50 200 || fail=1
# field VALUE of the guest's domain line in the last sample of FILE
guest_field() {
  awk -v d="$domid" -v k="$2" '/ vcpu=/ { next } $2 == "dom=" d { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) } END { print v }' "$1"
}
# run time (trace) over samples 2..N against the growth of cpu_ns
# (libxenctrl) from sample 1 to N, guest vCPU 0; prints "run cpu ratio"
cross_check() {
  awk -v d="$domid" '$2 == "dom=" d && $3 == "vcpu=0" {
      split($1, a, "="); k = a[2] + 0
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (first == "") first = v["cpu_ns"]; else run += v["run_ns"]
      last = v["cpu_ns"] }
    END { cpu = last - first; if (cpu <= 0) { print "0 0 0"; exit 1 } printf "%.0f %.0f %.4f\n", run, cpu, run / cpu }' "$1"
}
xen_note "uncapped: guest run share $(guest_field "$XEN_TMP/free.txt" run), wait $(guest_field "$XEN_TMP/free.txt" wait), blocked $(guest_field "$XEN_TMP/free.txt" blocked)"
read -r run cpu ratio < <(cross_check "$XEN_TMP/free.txt")
xen_note "cross-check uncapped: trace run $run ns, xc_vcpu_getinfo cpu $cpu ns, ratio $ratio"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.98 && r <= 1.02) }' \
  || xen_err "trace run time and libxenctrl CPU time differ by more than 2 % (ratio $ratio)" || fail=1

xl sched-credit2 -d "$name" -c 20 || xen_err "xl sched-credit2 -c 20 failed" || exit 1
xl sched-credit2 -d "$name" >&2
sleep 1
"$dump" xen 5 2000 > "$XEN_TMP/cap.txt" 2> "$XEN_TMP/cap.err" \
  || { cat "$XEN_TMP/cap.err" >&2; xen_err "monitor_dump xen failed"; exit 1; }
check_dump "$XEN_TMP/cap.txt" "capped at 20" 5 35 || fail=1
w=$(guest_field "$XEN_TMP/cap.txt" wait)
xen_note "capped: guest run share $(guest_field "$XEN_TMP/cap.txt" run), wait $w, blocked $(guest_field "$XEN_TMP/cap.txt" blocked)"
awk -v w="$w" 'BEGIN { exit !(w > 0.5) }' || xen_err "capped guest's waiting share $w is not above 0.5" || fail=1
read -r run cpu ratio < <(cross_check "$XEN_TMP/cap.txt")
xen_note "cross-check capped: trace run $run ns, xc_vcpu_getinfo cpu $cpu ns, ratio $ratio"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.98 && r <= 1.02) }' \
  || xen_err "trace run time and libxenctrl CPU time differ by more than 2 % (ratio $ratio)" || fail=1

# rvmig-top on the Xen backend lists every domain itself: dom0 and the
# capped guest, kind "domain", in batch mode and as CSV with "auto".
"$top" -b -d 1 -i 3 --backend xen > "$XEN_TMP/top.txt" 2> "$XEN_TMP/top.err" \
  || { cat "$XEN_TMP/top.err" >&2; xen_err "rvmig-top -b --backend xen failed"; exit 1; }
sed 's/^/  | /' "$XEN_TMP/top.txt" >&2
grep -Eq "^ *$name +domain " "$XEN_TMP/top.txt" \
  || xen_err "rvmig-top -b --backend xen does not list the guest $name" || fail=1
grep -Eq "^ *Domain-0 +domain " "$XEN_TMP/top.txt" \
  || xen_err "rvmig-top -b --backend xen does not list Domain-0" || fail=1
"$top" -b -d 1 -i 2 --csv > "$XEN_TMP/top.csv" 2> "$XEN_TMP/top.err" \
  || { cat "$XEN_TMP/top.err" >&2; xen_err "rvmig-top -b --csv (auto) failed"; exit 1; }
grep -q ",domain,$domid," "$XEN_TMP/top.csv" \
  || { sed 's/^/  | /' "$XEN_TMP/top.csv" >&2; xen_err "rvmig-top --csv (auto backend) has no row for domain $domid"; fail=1; }

# The trace's cost, roughly: a CPU-bound command in dom0 without and with
# the monitor (trace on, a sample a second).
work() { local t0; t0=$(xen_now); head -c 30000000 /dev/zero | sha256sum > /dev/null; xen_elapsed "$t0"; }
xen_note "cost: without monitor $(work) s"
"$dump" xen 8 1000 > /dev/null 2> "$XEN_TMP/cost.err" & mp=$!
sleep 2
xen_note "cost: with monitor $(work) s"
wait "$mp" || { cat "$XEN_TMP/cost.err" >&2; xen_err "monitor_dump failed during the cost run"; exit 1; }
grep -h "scheduler trace" "$XEN_TMP"/*.err >&2 || true

if [ -n "$policy" ]; then
  xen_apply_check "$name" "$domid" "$policy" "$dump" || fail=1
fi
if [ -n "$act_run" ]; then
  xen_act_check "$name" "$domid" "$act_run" "$dump" || fail=1
fi

((fail == 0)) || exit 1
destroy_guest "$name" || exit 1
xen_note "PASS xen monitor: total $(xen_elapsed "$t_start") s"
