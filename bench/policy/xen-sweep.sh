#!/usr/bin/env bash
# A Xen guest under credit2 caps and weights: busybox httpd in a PV guest,
# wrk in dom0 over a bridge (issue 17's "guest in the Xen tier"), written as
# sweep.sh's CSV (app xen-busybox-httpd) so that summarize.sh, plot-map.sh
# and the library's map fit read it.  Everything runs in the real-Xen VM of
# the test tier (tests/harness/xen-vm --net: Xen 4.17 under qemu TCG, no
# KVM), so the capacities are the emulator's: tens of requests per second.
#
#   bench/policy/xen-sweep.sh [--quick] [--out FILE] [--caps LIST] [--weights LIST]
#                             [--fractions LIST | --utilisations LIST | --rates LIST]
#                             [--duration S] [--scenarios LIST] [--reps N]
#                             [--think MS] [--max-conns N] [--vm-timeout S]
#
# On the host it boots the VM (xen-vm --net) and runs itself in dom0, with a
# probe of the host beside it (load average, CPU busy, CPU pressure, once a
# second into a file in the working directory, read by dom0 at the start and
# end of each point).  Run it from a directory the VM can share (not under
# /tmp); --out must be under it.  In dom0 (RVMIG_IN_XEN_DOM0=1: the CI check
# tests/xen/xen_policy_guest_map.sh) it runs the sweep directly.
#
#   --caps LIST       credit2 caps in % of a CPU (xl sched-credit2 -c), "max"
#                     = no cap; default 10,20,35,50,75,max.  cpu_share in the
#                     CSV = cap / 100, uncapped = 1 (the guest's one vCPU)
#   --weights LIST    credit2 weights of the web guest for the "weight"
#                     scenario, against a burning guest at weight 256 on the
#                     same pCPU; cpu_share = w / (w + 256); default
#                     64,256,1024
#   --fractions LIST  offered rates as fractions of k, the closed-loop rate of
#                     the uncapped guest measured first in the run (same
#                     absolute rate at every cap)
#   --utilisations LIST  offered = u x k x cpu_share (a grid in utilisation;
#                     the default: 0.3,0.6,0.9,1.3,2)
#   --rates LIST      offered rates in req/s
#   Offered rates are rounded to 3 significant digits, at least 0.05 req/s.
#   --duration S      seconds per point (default 20)
#   --scenarios LIST  alone (caps), shared-cpu (caps, a burning guest on the
#                     same pCPU), disjoint-cpu (caps, the burner on dom0's
#                     pCPU), weight (weights, the burner on the same pCPU);
#                     default alone,weight
#   --reps N          repetitions of the whole sweep, as more rows (default 1)
#   --think MS        think time per connection for paced rates (default 4000,
#                     long beside a response time of 0.4-1 s at light load):
#                     connections = max(1, round(rate x MS / 1000)), then each
#                     waits connections x 1000 / rate ms before a request
#   --max-conns N     connections of the closed-loop point (default 4)
#   --vm-timeout S    on the host: the VM's timeout (default 5400)
#   --quick           the CI check: alone, caps 10,max, fractions 0.05,0.3,
#                     15 s, 1 rep; exits 1 unless the closed-loop rate does not
#                     fall as the cap grows (15 % noise allowed) and is >= 3x
#                     higher uncapped than at 10 %, and at the 0.3 x k rate the
#                     10 % cap's mean latency is >= 2x the uncapped one
#
# Pinning: dom0's vCPUs on pCPU 0 (wrk, netback), the web guest on pCPU 1,
# the burner on pCPU 1 (shared-cpu, weight) or 0 (disjoint-cpu); it is paused
# outside its scenarios.  The web guest: Debian's kernel, PV, 96 MiB, 1 vCPU,
# tests/harness/xen/guest-net-init (xen-netfront, busybox httpd serving a
# 20480-byte file, a fork per connection); wrk: 1 thread, pace.lua,
# --timeout 30s; busybox httpd closes every connection, so every request
# opens one (wrk's latency clock starts after the connect).
# Points file (FILE without .csv + .points.csv), row for row:
#   row,rep,scenario,cpu_share,offered_rps,start_utc,loadavg_1m,psi_cpu_some,host_busy_cpus,guest_cpu,cap_pct,weight,conns,think_ms
# loadavg_1m, psi_cpu_some, host_busy_cpus: the host's (as in sweep.sh; empty
# without the host probe); guest_cpu: CPUs the web guest used during the
# point (xl list's CPU time); cap_pct 0 = no cap.
# Exit 77 (skip) without wrk or xen-vm's prerequisites, 1 on a failed run
# or check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SKIP=77
APP=xen-busybox-httpd
die() { echo "xen-sweep.sh: $*" >&2; exit 1; }
skip() { echo "xen-sweep.sh: SKIP: $*" >&2; exit $SKIP; }
note() { echo "xen-sweep.sh: $*" >&2; }

caps=10,20,35,50,75,max weights=64,256,1024
loads=0.3,0.6,0.9,1.3,2 loadkind=util
duration=20 scenarios=alone,weight reps=1 think=4000 maxconns=4 vmtimeout=5400
burn_weight=256
quick=0 out=
args=("$@")
cmdline="$0 $*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    --caps) caps=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;
    --fractions) loads=$2 loadkind=frac; shift 2 ;;
    --utilisations) loads=$2 loadkind=util; shift 2 ;;
    --rates) loads=$2 loadkind=abs; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --think) think=$2; shift 2 ;;
    --max-conns) maxconns=$2; shift 2 ;;
    --vm-timeout) vmtimeout=$2; shift 2 ;;
    -h|--help) sed -n '2,66p' "$0"; exit 0 ;;
    *) echo "xen-sweep.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  caps=10,max scenarios=alone loads=0.05,0.3 loadkind=frac duration=15 reps=1
fi

# --- option checks ---------------------------------------------------------
isnum() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
isint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
IFS=, read -ra CAPS <<<"$caps"
IFS=, read -ra WEIGHTS <<<"$weights"
IFS=, read -ra LOADS <<<"$loads"
IFS=, read -ra SCENS <<<"$scenarios"
for c in "${CAPS[@]}"; do
  [ "$c" = max ] || { isint "$c" && [ "$c" -le 100 ]; } || die "--caps: '$c' is not a cap of 1..100 % or 'max'"
done
for w in "${WEIGHTS[@]}"; do
  { isint "$w" && [ "$w" -le 65535 ]; } || die "--weights: '$w' is not a credit2 weight of 1..65535"
done
for l in "${LOADS[@]}"; do
  { isnum "$l" && awk -v l="$l" 'BEGIN { exit !(l > 0) }'; } || die "offered load '$l' is not a positive number"
done
for s in "${SCENS[@]}"; do
  case $s in alone|shared-cpu|disjoint-cpu|weight) ;; *) die "--scenarios: unknown scenario '$s'" ;; esac
done
for v in duration reps think maxconns vmtimeout; do
  isint "${!v}" || die "--${v}: '${!v}' is not a positive integer"
done
[ -n "$out" ] || out="$here/data/xen-sweep-$(date -u +%Y-%m-%d).csv"
out=$(realpath -m "$out")
points_out="${out%.csv}.points.csv"

# --- on the host: boot the VM and run this script in its dom0 -------------
if [ "${RVMIG_IN_XEN_DOM0:-}" != 1 ]; then
  command -v wrk >/dev/null 2>&1 || skip "wrk not installed (scripts/install-deps.sh)"
  cwd=$(pwd -P)
  case $out in "$cwd"/*) ;; *) die "--out $out is not under the working directory $cwd (the VM shares only that)" ;; esac
  case $cwd in /tmp|/tmp/*) die "run it from a directory outside /tmp (the VM mounts a tmpfs on /tmp)" ;; esac
  probe=$(mktemp "$cwd/.xen-sweep-probe.XXXXXX")
  probe_pid=
  # The loop runs while $probe.run exists: a kill could leave its last mv
  # to recreate the file after the cleanup.
  : >"$probe.run"
  trap 'rm -f "$probe.run"; [ -z "$probe_pid" ] || wait "$probe_pid" 2>/dev/null; rm -f "$probe" "$probe".*' EXIT
  # "epoch idle_jiffies total_jiffies psi_cpu_some_total_us loadavg_1m", renewed every second
  psi=/proc/pressure/cpu
  [ -r $psi ] || psi=
  (
    while [ -e "$probe.run" ]; do
      # shellcheck disable=SC2086  # $psi: one path or none
      awk -v now="$(date +%s)" 'BEGIN { psi = "-" }
        FILENAME == "/proc/stat" && $1 == "cpu" { for (i = 2; i <= 9; i++) tot += $i; idle = $5 + $6 }
        FILENAME == "/proc/pressure/cpu" && $1 == "some" { for (i = 2; i <= NF; i++) if ($i ~ /^total=/) psi = substr($i, 7) }
        FILENAME == "/proc/loadavg" { la = $1 }
        END { printf "%d %d %d %s %s\n", now, idle, tot, psi, la }' \
        /proc/stat $psi /proc/loadavg >"$probe.new" &&
        mv -f "$probe.new" "$probe"
      sleep 1
    done
  ) &
  probe_pid=$!
  note "booting the Xen VM (--net); the sweep runs in its dom0, host probe in $probe"
  RVMIG_XEN_HOSTPROBE=$probe RVMIG_XEN_HOST_CPUS=$(nproc) "$repo/tests/harness/xen-vm" --net --timeout "$vmtimeout" -- "$0" "${args[@]}" --out "$out"
  exit $?
fi

# --- in dom0 -------------------------------------------------------------------
for t in wrk curl; do
  command -v $t >/dev/null 2>&1 || skip "$t not installed (scripts/install-deps.sh)"
done
{ [ -n "${RVMIG_XEN_GUEST_NET_INITRD:-}" ] && [ -n "${RVMIG_XEN_BRIDGE:-}" ] && [ -n "${RVMIG_XEN_VIF_SCRIPT:-}" ]; } ||
  die "no network guest in this dom0 (run under tests/harness/xen-vm --net)"
WRK=$(command -v wrk)
# shellcheck source=tests/xen/xenlib.sh
. "$repo/tests/xen/xenlib.sh"
# shellcheck source=bench/policy/nginx.sh
. "$here/nginx.sh"   # wrk_row
web=rvmig-web burner=rvmig-burn
GUEST_IP=10.78.0.2
URL="http://$GUEST_IP/f20k.bin"
wrk_pid=
stop_wrk() { [ -z "$wrk_pid" ] || { kill "$wrk_pid" 2>/dev/null; wait "$wrk_pid" 2>/dev/null; }; wrk_pid=; }
trap 'stop_wrk; xen_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
xen_tmpdir || exit 1
tmp=$XEN_TMP

# The web guest, its httpd answering from dom0.
RVMIG_XEN_GUEST_INITRD=$RVMIG_XEN_GUEST_NET_INITRD RVMIG_XEN_GUEST_VIF="bridge=$RVMIG_XEN_BRIDGE,script=$RVMIG_XEN_VIF_SCRIPT,mac=00:16:3e:72:76:02" \
  RVMIG_XEN_GUEST_EXTRA="rvmig.ip=$GUEST_IP/24" start_guest "$web" pv || die "the web guest did not start"
log=$(xen_console_log "$web")
for ((i = 0; i < 240; i++)); do
  grep -aq 'rvmig-guest: \(httpd on\|net failed\)' "$log" && break
  sleep 0.5
done
grep -a 'rvmig-guest: \(httpd on\|net failed\)' "$log" >&2 || true
grep -aq 'rvmig-guest: httpd on' "$log" || { xen_show_console "$web"; die "the web guest's httpd did not start"; }
t0=$(xen_now)
for ((i = 0; i < 60; i++)); do
  curl -s -m 5 -o "$tmp/probe.bin" "$URL" && [ "$(stat -c %s "$tmp/probe.bin")" = 20480 ] && break
  sleep 1
done
[ "$(stat -c %s "$tmp/probe.bin" 2>/dev/null)" = 20480 ] ||
  { ip addr show "$RVMIG_XEN_BRIDGE" >&2; xen_show_console "$web"; die "$URL did not answer 20480 bytes within 60 s"; }
note "$URL answers from dom0 ($(xen_elapsed "$t0") s after the guest's httpd line)"
xl vcpu-pin Domain-0 all 0 >/dev/null || die "xl vcpu-pin Domain-0 all 0 failed"
xl vcpu-pin "$web" 0 1 >/dev/null || die "xl vcpu-pin $web 0 1 failed"

need_burner=0
for s in "${SCENS[@]}"; do [ "$s" = alone ] || need_burner=1; done
if [ $need_burner = 1 ]; then
  RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$burner" pv || die "the burning guest did not start"
  xl sched-credit2 -d "$burner" -w "$burn_weight" || die "xl sched-credit2 -d $burner -w $burn_weight failed"
  xl pause "$burner" || die "xl pause $burner failed"
fi
burner_on() { # pcpu
  { xl vcpu-pin "$burner" 0 "$1" >/dev/null && xl unpause "$burner"; } || die "cannot run the burner on pCPU $1"
}
burner_off() { xl pause "$burner" || die "xl pause $burner failed"; }
set_sched() { # cap (0 = none) weight
  xl sched-credit2 -d "$web" -c "$1" -w "$2" || die "xl sched-credit2 -d $web -c $1 -w $2 failed"
}

# The guest's CPU seconds (xl list's Time(s), 0.1 s resolution).
guest_cpu_s() { xl list "$web" | awk 'NR == 2 { print $6 }'; }
# The host's probe line ("epoch idle total psi loadavg"), or "" without one.
host_line() { if [ -r "${RVMIG_XEN_HOSTPROBE:-}" ]; then cat "$RVMIG_XEN_HOSTPROBE" 2>/dev/null || true; fi; }
host_cpus=${RVMIG_XEN_HOST_CPUS:-}   # the host's CPUs, for host_busy_cpus

rows="$tmp/rows.csv" points="$tmp/points.csv" nrow=0
: >"$rows"; : >"$points"
run_point() { # scenario share offered(0 = closed loop) cap weight
  local scen=$1 share=$2 offered=$3 cap=$4 w=$5 conns delay line start g0 g1 h0 h1 t0 t1
  if [ "$offered" = 0 ]; then
    conns=$maxconns delay=0
  else
    conns=$(awk -v r="$offered" -v t="$think" 'BEGIN { c = int(r * t / 1000 + 0.5); print (c < 1 ? 1 : c) }')
    delay=$(awk -v r="$offered" -v c="$conns" 'BEGIN { printf "%d", c * 1000 / r + 0.5 }')
  fi
  start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  t0=$(date +%s%N) g0=$(guest_cpu_s) h0=$(host_line)
  PACE_DELAY_MS=$delay "$WRK" -t1 -c"$conns" -d"${duration}s" --timeout 30s --latency \
    -s "$here/pace.lua" "$URL" >"$tmp/wrk.out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || { wrk_pid=; cat "$tmp/wrk.out" >&2; die "wrk failed ($scen, share $share, offered $offered)"; }
  wrk_pid=
  t1=$(date +%s%N) g1=$(guest_cpu_s) h1=$(host_line)
  line=$(grep '^RESULT ' "$tmp/wrk.out") || { cat "$tmp/wrk.out" >&2; die "wrk printed no RESULT line ($scen, share $share)"; }
  wrk_row "$APP" "$scen" "$share" "$offered" "$line" >>"$rows"
  awk -v row=$((++nrow)) -v rep="$rep" -v s="$scen" -v sh="$share" -v off="$offered" -v st="$start" \
      -v t0="$t0" -v t1="$t1" -v g0="$g0" -v g1="$g1" -v a="$h0" -v b="$h1" -v cap="$cap" -v w="$w" \
      -v conns="$conns" -v delay="$delay" -v ncpu="$host_cpus" 'BEGIN {
      wall = (t1 - t0) / 1e9
      la = psi = busy = ""
      if (split(a, x, " ") == 5 && split(b, y, " ") == 5 && y[1] > x[1]) {
        hw = y[1] - x[1]; la = y[5]
        if (y[3] > x[3] && ncpu > 0) busy = sprintf("%.2f", ((y[3] - x[3]) - (y[2] - x[2])) / (y[3] - x[3]) * ncpu)
        if (x[4] != "-" && y[4] != "-") psi = sprintf("%.3f", (y[4] - x[4]) / 1e6 / hw)
      }
      printf "%d,%d,%s,%s,%s,%s,%s,%s,%s,%.3f,%d,%d,%d,%d\n", row, rep, s, sh, off, st, la, psi, busy,
        (g1 - g0) / wall, cap, w, conns, delay
    }' >>"$points"
  tail -n1 "$rows"
}

# --- calibration: k, the closed-loop rate of the uncapped guest alone ------
set_sched 0 256
PACE_DELAY_MS=0 "$WRK" -t1 -c"$maxconns" -d3s "$URL" >/dev/null 2>&1 || die "warm-up wrk run against $URL failed"
echo "app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
rep=0
run_point alone 1 0 0 256 >/dev/null
k=$(tail -n1 "$rows" | cut -d, -f5)
awk -v k="$k" 'BEGIN { exit !(k > 0) }' || die "the uncapped guest answered no request in the calibration point"
note "k = $k req/s (closed loop, $maxconns connections, uncapped, alone)"
: >"$rows"; : >"$points"; nrow=0
offered_for() { # share -> offered rates of the sweep, one a line
  local l
  for l in "${LOADS[@]}"; do
    case $loadkind in
      abs) echo "$l" ;;
      frac) awk -v l="$l" -v k="$k" 'BEGIN { r = l * k; printf "%.3g\n", (r < 0.05 ? 0.05 : r) }' ;;
      util) awk -v l="$l" -v k="$k" -v s="$1" 'BEGIN { r = l * k * s; printf "%.3g\n", (r < 0.05 ? 0.05 : r) }' ;;
    esac
  done
  echo 0
}

load_start=$(host_line)
date_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for ((rep = 1; rep <= reps; rep++)); do
  for scen in "${SCENS[@]}"; do
    case $scen in
      shared-cpu|weight) burner_on 1 ;;
      disjoint-cpu) burner_on 0 ;;
    esac
    if [ "$scen" = weight ]; then
      for w in "${WEIGHTS[@]}"; do
        set_sched 0 "$w"
        share=$(awk -v w="$w" -v b="$burn_weight" 'BEGIN { printf "%.4g", w / (w + b) }')
        for off in $(offered_for "$share"); do run_point "$scen" "$share" "$off" 0 "$w"; done
      done
    else
      for cap in "${CAPS[@]}"; do
        c=$cap share=1
        if [ "$cap" = max ]; then c=0; else share=$(awk -v c="$cap" 'BEGIN { printf "%.4g", c / 100 }'); fi
        set_sched "$c" 256
        for off in $(offered_for "$share"); do run_point "$scen" "$share" "$off" "$c" 256; done
      done
    fi
    [ "$scen" = alone ] || burner_off
    set_sched 0 256
  done
done
load_end=$(host_line)

# --- the CSV: metadata, header, rows ----------------------------------------
mkdir -p "$(dirname "$out")"
{
  echo "# rvmig bench/policy/xen-sweep.sh: busybox httpd in a Xen PV guest under credit2 caps and weights, wrk in dom0 (issue 17)"
  echo "# date: $date_start to $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# system: Xen $(xl info | awk -F': ' '$1 ~ /^xen_version/ { print $2 }') ($(xl info | awk -F': ' '$1 ~ /^xen_scheduler/ { print $2 }')) under qemu TCG (tests/harness/xen-vm --net, no KVM), $(xl info | awk -F': ' '$1 ~ /^nr_cpus/ { print $2 }') pCPUs; dom0 $(uname -r); host load at start / end (epoch idle total psi loadavg): ${load_start:-no probe} / ${load_end:-no probe}"
  echo "# guest: PV, 96 MiB, 1 vCPU, Debian kernel $(basename "$RVMIG_XEN_GUEST_KERNEL"), xen-netfront on bridge $RVMIG_XEN_BRIDGE, busybox $(busybox 2>&1 | awk 'NR == 1 { print $2 }') httpd (a fork per connection, no keep-alive), 20480-byte file"
  echo "# cap: credit2 cap on the web guest (xl sched-credit2 -c); cpu_share = cap / 100, uncapped = 1 (its one vCPU); weight scenario: cpu_share = w / (w + $burn_weight), the burner's weight $burn_weight"
  echo "# pinning: dom0 vCPUs on pCPU 0 (wrk, netback), web guest on pCPU 1; burner guest (busy loop) on pCPU 1 (shared-cpu, weight) or 0 (disjoint-cpu), paused otherwise"
  echo "# wrk: $("$WRK" -v 2>&1 | awk 'NR == 1 { print $2 }'), 1 thread in dom0, --timeout 30s, bench/policy/pace.lua; k = $k req/s (closed loop, uncapped, measured first)"
  echo "# pacing: connections = max(1, round(offered_rps * $think / 1000)), think time connections * 1000 / offered_rps ms each; offered ($loadkind): ${LOADS[*]}; offered_rps 0 = closed loop, $maxconns connections, no think time"
  echo "# repetitions: $reps (as more rows), ${duration} s per point"
  echo "# command: $cmdline"
  echo "app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
  cat "$rows"
} >"$out.tmp"
mv "$out.tmp" "$out"
{
  echo "# rvmig bench/policy/xen-sweep.sh: the host during each point of $(basename "$out"), row for row"
  echo "# loadavg_1m, psi_cpu_some, host_busy_cpus: the host's (outside the VM; empty without the probe); guest_cpu: CPUs the web guest used (xl list); cap_pct 0 = none; conns and think_ms: wrk's"
  echo "row,rep,scenario,cpu_share,offered_rps,start_utc,loadavg_1m,psi_cpu_some,host_busy_cpus,guest_cpu,cap_pct,weight,conns,think_ms"
  cat "$points"
} >"$points_out.tmp"
mv "$points_out.tmp" "$points_out"
note "wrote $out ($(wc -l <"$rows") rows) and $points_out"

[ "$quick" = 1 ] || exit 0

# --- the quick check ---------------------------------------------------------
# What must hold whatever the host's load: a 10 % cap lets through less than
# the uncapped guest (closed loop), and at a rate the uncapped guest serves
# with ease (0.3 k) the 10 % guest is slower.  A point in which no request
# completed (wrk writes latencies of 0) counts as infinitely slow: at load 19
# the 10 % guest's closed-loop point completed none in 15 s.
awk -F, -v small="${CAPS[0]}" '
  $4 == 0 { maxrate[$3] = $5; order[++n] = $3 }
  $4 > 0 && $4 >= off[$3] { off[$3] = $4; hi[$3] = ($5 > 0 ? $8 : 1e30) }
  function check(ok, msg) { printf "check: %s: %s\n", msg, ok ? "ok" : "FAIL"; if (!ok) bad = 1 }
  END {
    s = small / 100
    for (i = 2; i <= n; i++) {
      a = order[i - 1]; b = order[i]
      check(maxrate[b] >= 0.85 * maxrate[a], sprintf("closed-loop rate %.1f/s at share %s >= 0.85 x %.1f/s at share %s", maxrate[b], b, maxrate[a], a))
    }
    check(maxrate[1] >= 3 * maxrate[s], sprintf("closed-loop rate %.1f/s uncapped >= 3 x %.1f/s at share %s", maxrate[1], maxrate[s], s))
    lat = hi[s] >= 1e30 ? "none completed" : sprintf("%.1f ms", hi[s])
    check(hi[s] >= 2 * hi[1], sprintf("mean latency at %s/s at share %s (%s) >= 2 x %.1f ms uncapped", off[1], s, lat, hi[1]))
    exit bad
  }' "$rows" || die "quick check failed (rows in $out)"
note "quick check passed"
