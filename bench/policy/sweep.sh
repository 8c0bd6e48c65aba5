#!/usr/bin/env bash
# nginx + wrk under CPU caps: the measurements the policy's good/bad map is
# fitted from (issue 17). Starts its own nginx (one worker, its own config,
# prefix and port in a temporary directory, never the system service), puts it
# in its own CPU cgroup (v1 cpu.cfs_quota_us or v2 cpu.max, found at run time),
# and for each scenario x cap x offered rate runs wrk against a 20 KB file.
#
#   bench/policy/sweep.sh [--quick] [--out FILE] [--caps LIST] [--rates LIST]
#                         [--per-cpu-rates LIST] [--duration S]
#                         [--scenarios LIST] [--reps N] [--think MS]
#                         [--max-conns N] [--weight N]
#
#   --caps LIST       CPU caps in CPUs, comma-separated; "max" = uncapped
#                     (written as cpu_share = number of host CPUs)
#                     default 0.05,0.1,0.2,0.3,0.4,0.6,0.8,1.0,max
#   --rates LIST      offered request rates per second; "max" = closed loop
#                     with no think time (written as offered_rps = 0)
#                     default 500,1000,2000,4000,8000,16000,32000,max
#   --per-cpu-rates LIST  instead of --rates: offered rates per CPU of the
#                     cap, offered = round(rate x cap) ("max" caps: x 1, the
#                     one CPU nginx is pinned to), plus the closed loop; a
#                     grid in utilisation offered / (k x cap) when the
#                     rates bracket k, the server's req/s per CPU
#   --duration S      seconds per point (default 3)
#   --scenarios LIST  alone, shared-cpu, disjoint-cpu (default all three)
#                       alone        nothing else started
#                       shared-cpu   a busy loop pinned to nginx's CPU,
#                                    outside nginx's cgroup
#                       disjoint-cpu the same busy loop pinned to another CPU
#   --reps N          repetitions of the whole sweep, as more rows (default 2)
#   --think MS        think time per connection for paced rates (default 10);
#                     connections = max(1, round(rate * MS / 1000))
#   --max-conns N     connections of the closed-loop point (default 4)
#   --weight N        CPU weight of nginx's group and the second workload's,
#                     in multiples of the default (default 10); wrk's group
#                     gets 10 times that
#   --out FILE        CSV to write (default bench/policy/data/nginx-sweep-DATE.csv);
#                     beside it FILE without .csv + .points.csv: per point,
#                     in the same order, the host's state during it (below)
#   --quick           CI check: caps 0.05,0.2,max x rates 4000,max, alone,
#                     3 s, 1 rep (about 25 s); exits 1 unless the closed-loop
#                     rate does not fall as the cap grows (10 % noise allowed)
#                     and is 3x higher uncapped than at 0.05, and p99 at 0.05
#                     under 4000/s is >= 20 ms and its mean latency >= 2x the
#                     uncapped one (a mean, not p99: one host stall sets
#                     an uncapped p99 at 80 ms on a loaded host)
#
# CSV: '#' lines first (date, host, kernel, versions, cgroup, command, pinning,
# load average at start and end), then
#   app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s
# Points file (.points.csv), one row per CSV row in the same order:
#   row,rep,scenario,cpu_share,offered_rps,start_utc,loadavg_1m,psi_cpu_some,host_busy_cpus,throttled_ms
# row: the CSV row (1 = first); rep: its repetition; loadavg_1m at the end of
# the point; psi_cpu_some: the share of the point's wall time in which some
# task of the host waited for a CPU (/proc/pressure/cpu, empty without PSI);
# host_busy_cpus: CPUs busy on the whole host (/proc/stat, nginx and wrk
# included); throttled_ms: time nginx's group was throttled by its cap.
#
# Pinning: with 2 or more CPUs nginx runs on the last CPU and wrk on CPU 0.
# Groups: nginx (master and worker), the second workload and wrk each run in a
# CPU cgroup of their own. nginx and the second workload have the same weight
# (--weight times the default: v1 cpu.shares, v2 cpu.weight), so they share a
# CPU as at default weights, while unrelated work on a shared host takes less
# of it. wrk, the instrument, has 10 times that weight: on 2 CPUs the
# disjoint-cpu busy loop shares wrk's CPU and would otherwise slow the load
# generator instead of showing what a neighbour on another CPU does to nginx.
# Only nginx's group gets the cap.
# Needs root (cgroups), nginx, wrk and taskset. Exit 77 (skip) when one is
# missing or the cgroup cannot be written; 1 on a failed run or check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SKIP=77
die() { echo "sweep.sh: $*" >&2; exit 1; }
skip() { echo "sweep.sh: SKIP: $*" >&2; exit $SKIP; }

caps=0.05,0.1,0.2,0.3,0.4,0.6,0.8,1.0,max
rates=500,1000,2000,4000,8000,16000,32000,max
duration=3 scenarios=alone,shared-cpu,disjoint-cpu reps=2 think=10 maxconns=4
weight=10
quick=0 out= percpu=
cmdline="$0 $*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    --caps) caps=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --per-cpu-rates) percpu=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --think) think=$2; shift 2 ;;
    --max-conns) maxconns=$2; shift 2 ;;
    --weight) weight=$2; shift 2 ;;
    -h|--help) sed -n '2,53p' "$0"; exit 0 ;;
    *) echo "sweep.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  caps=0.05,0.2,max rates=4000,max scenarios=alone duration=3 reps=1 percpu=
fi

# --- option checks ---------------------------------------------------------
isnum() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
isint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
IFS=, read -ra CAPS <<<"$caps"
IFS=, read -ra RATES <<<"$rates"
IFS=, read -ra SCENS <<<"$scenarios"
if [ -n "$percpu" ]; then
  IFS=, read -ra PERCPU <<<"$percpu"
  for r in "${PERCPU[@]}"; do
    isint "$r" || die "--per-cpu-rates: '$r' is not a positive integer"
  done
  RATES=("${PERCPU[@]}" max)
fi
for c in "${CAPS[@]}"; do
  [ "$c" = max ] || { isnum "$c" && awk -v c="$c" 'BEGIN{exit !(c >= 0.01)}'; } ||
    die "--caps: '$c' is not a CPU count >= 0.01 or 'max'"
done
for r in "${RATES[@]}"; do
  [ "$r" = max ] || isint "$r" || die "--rates: '$r' is not a positive integer or 'max'"
done
for s in "${SCENS[@]}"; do
  case $s in alone|shared-cpu|disjoint-cpu) ;; *) die "--scenarios: unknown scenario '$s'" ;; esac
done
for v in duration reps think maxconns weight; do
  isint "${!v}" || die "--${v/maxconns/max-conns}: '${!v}' is not a positive integer"
done
[ -n "$out" ] || out="$here/data/nginx-sweep-$(date -u +%Y-%m-%d).csv"
points_out="${out%.csv}.points.csv"

# --- prerequisites -----------------------------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root to create a CPU cgroup"
for t in nginx wrk taskset; do
  command -v "$t" >/dev/null 2>&1 || skip "$t not installed (scripts/install-deps.sh)"
done
NGINX=$(command -v nginx) WRK=$(command -v wrk)
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
  srv_cpu=$((ncpu - 1)) gen_cpu=0
  pinning="nginx on CPU $srv_cpu, wrk on CPU $gen_cpu"
else
  srv_cpu=0 gen_cpu=0
  pinning="one CPU: nginx and wrk share CPU 0"
fi

# --- cleanup -----------------------------------------------------------------
tmp= nginx_pid= busy_pid= wrk_pid=
groups=()   # the cgroups made here, removed on exit
stop_pid() { # pid: TERM, wait
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_pid "$wrk_pid"; stop_pid "$busy_pid"; stop_pid "$nginx_pid"
  wrk_pid= busy_pid= nginx_pid=
  local g
  for g in "${groups[@]}"; do
    [ -d "$g" ] || continue
    rmdir "$g" 2>/dev/null || echo "sweep.sh: could not remove cgroup $g" >&2
  done
  [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

tmp=$(mktemp -d /tmp/rvmig-policy-sweep.XXXXXX)
# in_group, start_nginx (nginx in $cg on CPU $srv_cpu, serving $tmp/www), wrk_row
. "$here/nginx.sh"

# --- the CPU cgroups: v2 (cpu.max, cpu.weight) where the unified hierarchy
# has the cpu controller, else v1 (cpu.cfs_quota_us, cpu.shares) ------------
period=100000
v2root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
v1root=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ { print $2; exit }' /proc/mounts)
if [ -n "$v2root" ] && grep -qw cpu "$v2root/cgroup.controllers" 2>/dev/null; then
  cgver=2 cgroot=$v2root
  if ! grep -qw cpu "$v2root/cgroup.subtree_control"; then
    echo +cpu >"$v2root/cgroup.subtree_control" 2>/dev/null ||
      skip "cannot enable the cpu controller in $v2root/cgroup.subtree_control"
  fi
elif [ -n "$v1root" ] && [ -f "$v1root/cpu.cfs_quota_us" ]; then
  cgver=1 cgroot=$v1root
else
  skip "no cgroup with the cpu controller (neither cgroup2 cpu.max nor v1 cpu.cfs_quota_us)"
fi
# weight_of N: the group weight for N times the default, within the limits
weight_of() {
  if [ $cgver = 2 ]; then
    echo $(( 100 * $1 > 10000 ? 10000 : 100 * $1 ))
  else
    echo $(( 1024 * $1 > 262144 ? 262144 : 1024 * $1 ))
  fi
}
make_group() { # name, weight (x default); appends the new group to groups
  local g="$cgroot/rvmig-policy-sweep-$$-$1"
  mkdir "$g" 2>/dev/null || skip "cannot create cgroup $g"
  groups+=("$g")
  if [ $cgver = 2 ]; then
    weight_of "$2" >"$g/cpu.weight" 2>/dev/null || skip "cannot write $g/cpu.weight"
  else
    weight_of "$2" >"$g/cpu.shares" 2>/dev/null || skip "cannot write $g/cpu.shares"
  fi
}
make_group srv "$weight"; cg=${groups[-1]}
make_group busy "$weight"; cg_busy=${groups[-1]}
make_group gen $((10 * weight)); cg_gen=${groups[-1]}
if [ $cgver = 2 ]; then
  [ -w "$cg/cpu.max" ] || skip "$cg/cpu.max is not writable"
else
  echo $period >"$cg/cpu.cfs_period_us" 2>/dev/null || skip "cannot write $cg/cpu.cfs_period_us"
fi
set_cap() { # cap in CPUs or "max"
  local q
  if [ "$1" = max ]; then
    q=max
  else
    q=$(awk -v c="$1" -v p=$period 'BEGIN { printf "%d", c * p + 0.5 }')
  fi
  if [ $cgver = 2 ]; then
    echo "$q $period" >"$cg/cpu.max"
  else
    [ "$q" = max ] && q=-1
    echo "$q" >"$cg/cpu.cfs_quota_us"
  fi
}
set_cap max

# --- nginx: own prefix, config, 20 KB file, free port on 127.0.0.1 ----------
nginx_files
start_nginx
URL="http://127.0.0.1:$PORT/f20k.bin"
grep -qx "$worker" "$cg/cgroup.procs" || die "nginx worker $worker is not in $cg"

# --- the second workload -------------------------------------------------------
start_busy() { # cpu
  "${in_group[@]}" "$cg_busy" taskset -c "$1" sh -c 'while :; do :; done' &
  busy_pid=$!
}
stop_busy() { stop_pid "$busy_pid"; busy_pid=; }
other_cpu=$gen_cpu   # with 2 CPUs the only CPU that is not nginx's is wrk's

# --- one wrk run -> one CSV row ---------------------------------------------
rows="$tmp/rows.csv" points="$tmp/points.csv" nrow=0
: >"$rows"; : >"$points"
# host_probe: "idle_jiffies total_jiffies psi_cpu_some_us throttled_ns" now
# (all CPUs from /proc/stat: idle + iowait, and the sum of all fields;
# /proc/pressure/cpu's "some total"; nginx's group's throttled time)
host_probe() {
  local thr
  if [ $cgver = 2 ]; then
    thr=$(awk '$1 == "throttled_usec" { printf "%d", $2 * 1000 }' "$cg/cpu.stat")
  else
    thr=$(awk '$1 == "throttled_time" { print $2 }' "$cg/cpu.stat")
  fi
  local psi=/proc/pressure/cpu
  [ -r "$psi" ] || psi=
  # user .. steal (guest time is already in user)
  awk -v thr="${thr:-0}" 'BEGIN { psi = "-" }
    FILENAME == "/proc/stat" && $1 == "cpu" { for (i = 2; i <= 9; i++) tot += $i; idle = $5 + $6 }
    FILENAME != "/proc/stat" && $1 == "some" { for (i = 2; i <= NF; i++) if ($i ~ /^total=/) psi = substr($i, 7) }
    END { printf "%d %d %s %d\n", idle, tot, psi, thr }' /proc/stat $psi
}
run_point() { # scenario cap rate
  local scen=$1 cap=$2 rate=$3 conns delay share offered log line
  if [ "$rate" != max ] && [ -n "$percpu" ]; then
    rate=$(awk -v r="$rate" -v c="$cap" 'BEGIN { if (c == "max") c = 1; printf "%d", r * c + 0.5 }')
  fi
  if [ "$rate" = max ]; then
    conns=$maxconns delay=0 offered=0
  else
    conns=$(awk -v r="$rate" -v t="$think" 'BEGIN { c = int(r * t / 1000 + 0.5); print (c < 1 ? 1 : c) }')
    delay=$think offered=$rate
  fi
  share=$cap; [ "$cap" = max ] && share=$ncpu
  log="$tmp/wrk.out"
  local t0 h0 h1 start
  start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  t0=$(date +%s%N) h0=$(host_probe)
  PACE_DELAY_MS=$delay "${in_group[@]}" "$cg_gen" taskset -c "$gen_cpu" "$WRK" -t1 -c"$conns" -d"${duration}s" \
    --timeout 2s --latency -s "$here/pace.lua" "$URL" >"$log" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || { wrk_pid=; cat "$log" >&2; die "wrk failed ($scen, cap $cap, rate $rate)"; }
  wrk_pid=
  h1=$(host_probe)
  awk -v row=$((++nrow)) -v rep="$rep" -v s="$scen" -v sh="$share" -v off="$offered" -v st="$start" \
      -v t0="$t0" -v t1="$(date +%s%N)" -v a="$h0" -v b="$h1" -v la="$(cut -d' ' -f1 /proc/loadavg)" -v ncpu="$ncpu" 'BEGIN {
      split(a, x, " "); split(b, y, " "); wall = (t1 - t0) / 1e9
      busy = (y[2] - y[1]) - (x[2] - x[1]); tot = y[2] - x[2]
      psi = (x[3] == "-" || y[3] == "-") ? "" : sprintf("%.3f", (y[3] - x[3]) / 1e6 / wall)
      printf "%d,%d,%s,%s,%d,%s,%s,%s,%.2f,%.1f\n", row, rep, s, sh, off, st, la, psi,
        (tot > 0 ? busy / tot * ncpu : 0), (y[4] - x[4]) / 1e6
    }' >>"$points"
  line=$(grep '^RESULT ' "$log") || { cat "$log" >&2; die "wrk printed no RESULT line ($scen, cap $cap, rate $rate)"; }
  wrk_row nginx "$scen" "$share" "$offered" "$line" >>"$rows"
  tail -n1 "$rows"
}

# --- the sweep -----------------------------------------------------------------
echo "sweep.sh: nginx pid $nginx_pid (worker $worker) on 127.0.0.1:$PORT, cgroup v$cgver $cg; $pinning"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
date_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# warm-up, not recorded
PACE_DELAY_MS=0 "${in_group[@]}" "$cg_gen" taskset -c "$gen_cpu" "$WRK" -t1 -c4 -d1s "$URL" >/dev/null 2>&1 ||
  die "warm-up wrk run against $URL failed"
echo "app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
for ((rep = 1; rep <= reps; rep++)); do
  for scen in "${SCENS[@]}"; do
    case $scen in
      shared-cpu) start_busy "$srv_cpu" ;;
      disjoint-cpu) start_busy "$other_cpu" ;;
    esac
    for cap in "${CAPS[@]}"; do
      set_cap "$cap"
      for rate in "${RATES[@]}"; do
        run_point "$scen" "$cap" "$rate"
      done
    done
    stop_busy
    set_cap max
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the CSV: metadata, header, rows ----------------------------------------
mkdir -p "$(dirname "$out")"
{
  echo "# rvmig bench/policy/sweep.sh: nginx under CPU caps, wrk load (issue 17)"
  echo "# date: $date_start to $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# host: $(hostname), $ncpu CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "# kernel: $(uname -sr)"
  echo "# nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(dpkg-query -W -f='${Package} ${Version}' nginx-light 2>/dev/null || true); 1 worker, access log off, sendfile, 20480-byte file"
  echo "# wrk: $("$WRK" -v 2>&1 | awk 'NR == 1 { print $2 }'), 1 thread, --timeout 2s, bench/policy/pace.lua"
  echo "# cgroup: v$cgver, $( [ $cgver = 2 ] && echo cpu.max || echo cpu.cfs_quota_us), period ${period} us; cpu_share = quota/period, uncapped = $ncpu (host CPUs)"
  echo "# weights: nginx and the second workload each in a group at ${weight}x the default weight, wrk in one at $((10 * weight))x ($( [ $cgver = 2 ] && echo cpu.weight || echo cpu.shares) $(weight_of "$weight") and $(weight_of $((10 * weight))))"
  echo "# pinning: $pinning (taskset); second workload: sh busy loop, shared-cpu on CPU $srv_cpu, disjoint-cpu on CPU $other_cpu, outside nginx's cgroup"
  echo "# pacing: think time ${think} ms per connection (wrk delay()), connections = max(1, round(offered_rps * ${think} / 1000)); offered_rps 0 = closed loop, ${maxconns} connections, no think time"
  echo "# repetitions: $reps (as more rows), ${duration} s per point"
  echo "# loadavg (1/5/15 min): start $load_start, end $load_end"
  echo "# command: $cmdline"
  echo "app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
  cat "$rows"
} >"$out.tmp"
mv "$out.tmp" "$out"
{
  echo "# rvmig bench/policy/sweep.sh: the host during each point of $(basename "$out"), row for row"
  echo "# loadavg_1m at the point's end; psi_cpu_some: share of the point's wall time some task waited for a CPU (/proc/pressure/cpu); host_busy_cpus: from /proc/stat, nginx and wrk included; throttled_ms: nginx's group throttled by its cap"
  echo "row,rep,scenario,cpu_share,offered_rps,start_utc,loadavg_1m,psi_cpu_some,host_busy_cpus,throttled_ms"
  cat "$points"
} >"$points_out.tmp"
mv "$points_out.tmp" "$points_out"
echo "sweep.sh: wrote $out ($(wc -l <"$rows") rows) and $points_out"

[ "$quick" = 1 ] || exit 0

# --- the quick check's assertions --------------------------------------------
# Quiet, the closed-loop rate grows about in proportion to the cap.  p99 at a
# 5 % cap is not the whole throttled part of the period (95 ms): wrk's few
# connections are the requests caught by a throttle, uniformly 0-95 ms into
# it, about 1-2 % of the requests, so p99 lands at 35-90 ms (39 ms on a quiet
# host on 2026-12-06, 89 ms in the issue's run); 20 ms is the SLA the policy
# tests use, which the capped point must break.  The bounds leave room for a
# loaded host.
awk -F, -v small="${CAPS[0]}" -v big="$ncpu" '
  /^#/ || $1 == "app" { next }
  $4 == 0 { maxrate[$3] = $5; order[++n] = $3 }
  $4 == 4000 { p99[$3] = $7; mean[$3] = $8 }
  function check(ok, msg) { printf "check: %s: %s\n", msg, ok ? "ok" : "FAIL"; if (!ok) bad = 1 }
  END {
    for (i = 2; i <= n; i++) {
      a = order[i - 1]; b = order[i]
      check(maxrate[b] >= 0.9 * maxrate[a], sprintf("closed-loop rate %.0f/s at cap %s >= 0.9 x %.0f/s at cap %s", maxrate[b], b, maxrate[a], a))
    }
    check(maxrate[big] >= 3 * maxrate[small], sprintf("closed-loop rate %.0f/s uncapped >= 3 x %.0f/s at cap %s", maxrate[big], maxrate[small], small))
    check(p99[small] >= 20, sprintf("p99 at 4000/s %.2f ms at cap %s >= 20 ms", p99[small], small))
    check(mean[small] >= 2 * mean[big], sprintf("mean latency at 4000/s %.2f ms at cap %s >= 2 x %.2f ms uncapped", mean[small], small, mean[big]))
    exit bad
  }' "$rows" || die "quick check failed (rows in $out)"
echo "sweep.sh: quick check passed"
