#!/usr/bin/env bash
# run-vm-compare.sh — rvmig-bench against the reference tools on the same
# RDMA device in the same run:
#   rvmig-bench verbs push  vs  ib_write_bw   (perftest)
#   rvmig-bench verbs pull  vs  ib_read_bw    (perftest)
#   rvmig-bench tcp         vs  iperf3        (single stream)
# Each pair runs A B, A B, ... for --rounds rounds (at least 3); the script
# prints every raw figure, the per-round ratios rvmig / reference, their
# median and the verdict against the targets (verbs >= 0.9x perftest,
# tcp >= 0.9x iperf3). A missed target is printed as MISSED; it changes the
# exit status only with --enforce. A run that fails (rvmig-bench or a
# reference tool) makes the script exit 1.
#
# Run it where RDMA works, i.e. inside the soft-RoCE VM:
#   tests/harness/rxe-vm --topology single -- bench/run-vm-compare.sh BUILD_DIR
# which exports RVMIG_RXE_ADDR (an IPv4 address on the rxe netdev) and
# RVMIG_RXE_DEV (the rxe device). Both client and server run on that host.
#
# usage: run-vm-compare.sh [--size BYTES] [--iters N] [--rounds N] [--qps N]
#                          [--pairs push,pull,tcp] [--enforce] BUILD_DIR
#   --size    message size in bytes (1048576)
#   --iters   messages per run (100); iperf3 moves size x iters bytes too
#   --rounds  rounds, at least 3 (3)
#   --qps     rvmig links (QPs / TCP connections); default: the library's
#   --pairs   which comparisons to run (push,pull,tcp)
#   --enforce exit 3 when a target is missed
set -uo pipefail

size=1048576
iters=100
rounds=3
qps=
pairs=push,pull,tcp
enforce=0
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --size) size=${2:?}; shift 2 ;;
    --iters) iters=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --qps) qps=${2:?}; shift 2 ;;
    --pairs) pairs=${2:?}; shift 2 ;;
    --enforce) enforce=1; shift ;;
    -h|--help) usage ;;
    -*) echo "run-vm-compare: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -eq 1 ]] || usage
build=$1
bench=$build/bench/rvmig-bench
die() { echo "run-vm-compare: $*" >&2; exit 1; }
[[ -x $bench ]] || die "no $bench (build the rvmig-bench target first)"
[[ $size =~ ^[0-9]+$ && $iters =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ ]] ||
  die "--size, --iters and --rounds take plain numbers"
((rounds >= 3)) || die "--rounds must be at least 3"
[[ -z $qps || $qps =~ ^[0-9]+$ ]] || die "--qps takes a number"
addr=${RVMIG_RXE_ADDR:?run inside tests/harness/rxe-vm (RVMIG_RXE_ADDR is not set)}
dev=${RVMIG_RXE_DEV:?run inside tests/harness/rxe-vm (RVMIG_RXE_DEV is not set)}
for t in ib_write_bw ib_read_bw iperf3 jq ss; do
  command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done

work=$(mktemp -d /tmp/rvmig-compare.XXXXXX) || die "mktemp failed"
bg_pids=()
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- helpers -------------------------------------------------------------

# Host CPU busy seconds so far (all CPUs, /proc/stat: everything but idle and
# iowait), printed with 2 decimals.
host_busy() {
  local _ user nice sys irq softirq steal
  read -r _ user nice sys _ _ irq softirq steal _ </proc/stat
  echo $(( (user + nice + sys + irq + softirq + steal) * 100 / $(getconf CLK_TCK) ))
}

# wait_listen PORT PID
. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh"

port=18600
next_port() { port=$((port + 1)); }

# Every runner sets RESULT (Gbit/s, 1e9 bit/s) and CPU (host busy seconds)
# and returns non-zero when the run failed (its output then is in $work/last).

run_rvmig() { # MODE(push|pull) TRANSPORT(verbs|tcp)
  local mode=$1 tp=$2 c0 c1 out=$work/rvmig.json
  RVMIG_EXTRA='' UCOPY=''
  local args=(--loopback "$addr" -t "$tp" -m "$mode" -s "$size" -n "$iters" --json)
  [[ -n $qps ]] && args+=(-q "$qps")
  c0=$(host_busy)
  timeout 600 "$bench" "${args[@]}" >"$out" 2>"$work/last"
  local rc=$?
  c1=$(host_busy)
  CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 100 }')
  if ((rc != 0)) || [[ $(jq -r '.complete' "$out" 2>/dev/null) != true ]]; then
    echo "rvmig-bench ${args[*]}: exit $rc" >>"$work/last"
    return 1
  fi
  RESULT=$(jq -r '.results[0].gbit_s' "$out")
  RVMIG_EXTRA=$(jq -r '.results[0] | "p50 \(.lat_p50_us|floor) us, p99 \(.lat_p99_us|floor) us, cpu client \((.client.cpu.user_s + .client.cpu.sys_s)*1000|floor) ms server \((.server.cpu.user_s + .server.cpu.sys_s)*1000|floor) ms, ucopy \(.client.stats.user_copy_bytes)"' "$out")
  UCOPY=$(jq -r '.results[0].client.stats.user_copy_bytes' "$out")
  [[ $RESULT =~ ^[0-9.]+$ ]] || return 1
}

run_perftest() { # TOOL(ib_write_bw|ib_read_bw)
  local tool=$1 spid c0 c1 rc
  local args=(-d "$dev" -x 1 -s "$size" -n "$iters" -F --report_gbits)
  next_port
  c0=$(host_busy)
  timeout 600 "$tool" "${args[@]}" -p "$port" >"$work/srv" 2>&1 &
  spid=$!
  bg_pids+=("$spid")
  if ! wait_listen "$port" "$spid"; then
    wait "$spid"
    { echo "$tool server did not come up (exit $?):"; cat "$work/srv"; } >"$work/last"
    return 1
  fi
  timeout 600 "$tool" "${args[@]}" -p "$port" "$addr" >"$work/cli" 2>&1
  rc=$?
  wait "$spid"
  local src=$?
  c1=$(host_busy)
  CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 100 }')
  { echo "--- $tool client (exit $rc):"; cat "$work/cli";
    echo "--- $tool server (exit $src):"; cat "$work/srv"; } >"$work/last"
  ((rc == 0 && src == 0)) || return 1
  # Result line: #bytes #iterations BW-peak BW-average MsgRate (Gb/s with --report_gbits)
  RESULT=$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' "$work/cli" | tail -n 1)
  [[ $RESULT =~ ^[0-9.]+$ ]] || return 1
}

run_iperf3() {
  local spid c0 c1 rc
  next_port
  c0=$(host_busy)
  timeout 600 iperf3 -s -1 -B "$addr" -p "$port" >"$work/srv" 2>&1 &
  spid=$!
  bg_pids+=("$spid")
  if ! wait_listen "$port" "$spid"; then
    wait "$spid"
    { echo "iperf3 server did not come up (exit $?):"; cat "$work/srv"; } >"$work/last"
    return 1
  fi
  timeout 600 iperf3 -c "$addr" -p "$port" -l "$size" -n $((size * iters)) -J >"$work/cli" 2>&1
  rc=$?
  wait "$spid"
  local src=$?
  c1=$(host_busy)
  CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 100 }')
  { echo "--- iperf3 client (exit $rc):"; cat "$work/cli";
    echo "--- iperf3 server (exit $src):"; cat "$work/srv"; } >"$work/last"
  ((rc == 0 && src == 0)) || return 1
  RESULT=$(jq -r '.end.sum_received.bits_per_second / 1e9' "$work/cli" 2>/dev/null)
  [[ $RESULT =~ ^[0-9.]+(e-?[0-9]+)?$ ]] || return 1
}

# ---- the rounds ----------------------------------------------------------

declare -A A_NAME B_NAME TARGET
A_NAME[push]="rvmig verbs push"; B_NAME[push]="ib_write_bw"
A_NAME[pull]="rvmig verbs pull"; B_NAME[pull]="ib_read_bw"
A_NAME[tcp]="rvmig tcp push";    B_NAME[tcp]="iperf3 (1 stream)"
TARGET[push]=0.90; TARGET[pull]=0.90; TARGET[tcp]=0.90

run_a() {
  case $1 in
    push) run_rvmig push verbs ;;
    pull) run_rvmig pull verbs ;;
    tcp) run_rvmig push tcp ;;
  esac
}
run_b() {
  case $1 in
    push) run_perftest ib_write_bw ;;
    pull) run_perftest ib_read_bw ;;
    tcp) run_iperf3 ;;
  esac
}

IFS=, read -r -a plist <<<"$pairs"
for p in "${plist[@]}"; do
  [[ -n ${A_NAME[$p]:-} ]] || die "--pairs: unknown comparison '$p' (push, pull, tcp)"
done

echo "# run-vm-compare: device $dev, address $addr, size $size bytes, $iters messages per run," \
     "$rounds rounds (A B alternated), kernel $(uname -r), $(nproc) CPUs"
echo "# rvmig-bench $bench: qps ${qps:-library default (4)}, other parameters default;" \
     "perftest: 1 QP, -x 1 -F --report_gbits; iperf3: 1 stream, -l $size"
echo "# Gbit/s = 1e9 bit/s as each tool reports it (rvmig: client, post -> last SEND_DONE;" \
     "perftest: client average; iperf3: receiver); cpu = host busy CPU seconds over the run"
printf '%-6s %-5s %-18s %10s %8s   %s\n' round pair side Gbit/s cpu_s notes

declare -A RATIOS A_VALS B_VALS FAILED
failures=0
for ((r = 1; r <= rounds; r++)); do
  for p in "${plist[@]}"; do
    a='' b=''
    if run_a "$p"; then
      a=$RESULT
      printf '%-6s %-5s %-18s %10.4f %8s   %s\n' "$r" "$p" "${A_NAME[$p]}" "$a" "$CPU" "$RVMIG_EXTRA"
      if [[ $p != tcp && $UCOPY != 0 ]]; then
        echo "run-vm-compare: ${A_NAME[$p]}: user_copy_bytes $UCOPY on the verbs sender (must be 0)" >&2
        FAILED[$p]=1; failures=$((failures + 1))
      fi
    else
      printf '%-6s %-5s %-18s %10s %8s   %s\n' "$r" "$p" "${A_NAME[$p]}" FAILED "$CPU" "details:"
      sed 's/^/    | /' "$work/last" | tail -n 40
      FAILED[$p]=1; failures=$((failures + 1))
    fi
    if run_b "$p"; then
      b=$RESULT
      printf '%-6s %-5s %-18s %10.4f %8s\n' "$r" "$p" "${B_NAME[$p]}" "$b" "$CPU"
    else
      printf '%-6s %-5s %-18s %10s %8s   %s\n' "$r" "$p" "${B_NAME[$p]}" FAILED "$CPU" "details:"
      sed 's/^/    | /' "$work/last" | tail -n 40
      FAILED[$p]=1; failures=$((failures + 1))
    fi
    A_VALS[$p]+="${a:-FAILED} "
    B_VALS[$p]+="${b:-FAILED} "
    if [[ -n $a && -n $b ]]; then
      RATIOS[$p]+="$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "inf" }') "
    fi
  done
done

# ---- summary -------------------------------------------------------------

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
  END { if (!NR) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "# summary: median of per-round ratios rvmig / reference (target: ratio >= target)"
missed=0
for p in "${plist[@]}"; do
  ratios=${RATIOS[$p]:-}
  med=$(median <<<"$ratios") || med=
  verdict=
  if [[ -n ${FAILED[$p]:-} ]]; then
    verdict="FAILED (a run did not complete; see above)"
  elif [[ -z $med ]]; then
    verdict="FAILED (no ratio)"
  elif awk -v m="$med" -v t="${TARGET[$p]}" 'BEGIN { exit !(m >= t) }'; then
    verdict="met"
  else
    verdict="MISSED"
    missed=$((missed + 1))
  fi
  echo "ratio $p: ${A_NAME[$p]} / ${B_NAME[$p]} = ${med:-n/a} (target >= ${TARGET[$p]}x): $verdict"
  echo "    rounds ratios: ${ratios:-none}"
  # Spread of each side across rounds: max/min of its Gbit/s. On a shared or
  # emulated host this is the noise floor the ratio has to be read against.
  spread() { tr ' ' '\n' | grep -E '^[0-9.e+-]+$' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR > 1 && v[1] > 0) printf "%.2f", v[NR] / v[1]; else print "n/a" }'; }
  sa=$(spread <<<"${A_VALS[$p]}") sb=$(spread <<<"${B_VALS[$p]}")
  note=
  if awk -v a="$sa" -v b="$sb" 'BEGIN { exit !((a + 0 > 1.5) || (b + 0 > 1.5)) }'; then
    note=" (noisy: a side varied more than 1.5x across rounds; more rounds/iters on a quiet host)"
  fi
  echo "    spread max/min across rounds: ${A_NAME[$p]} ${sa}x, ${B_NAME[$p]} ${sb}x$note"
  echo "    ${A_NAME[$p]} Gbit/s: ${A_VALS[$p]}"
  echo "    ${B_NAME[$p]} Gbit/s: ${B_VALS[$p]}"
done
if ((failures)); then
  echo "run-vm-compare: $failures run(s) failed" >&2
  exit 1
fi
if ((missed && enforce)); then
  echo "run-vm-compare: $missed target(s) missed (--enforce)" >&2
  exit 3
fi
exit 0
