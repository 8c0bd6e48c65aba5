#!/usr/bin/env bash
# sweep-vm.sh — rvmig-bench parameter sweep against the reference tools on
# the same soft-RoCE device in the same run, to choose the library defaults.
#
# Every contender runs between two runs of its reference (R c1 R c2 R ...;
# ib_write_bw for verbs push, ib_read_bw for pull, single-stream iperf3 for
# TCP), so each contender's ratio in a round is its Gbit/s over the mean of
# the reference runs right before and after it: slow drifts of the shared,
# emulated host cancel. Rounds repeat the whole list; the summary gives the
# median ratio per contender and each contender's median Gbit/s.
#
# Run inside the soft-RoCE VM (it needs RVMIG_RXE_ADDR and RVMIG_RXE_DEV):
#   tests/harness/rxe-vm --topology single -- bench/sweep-vm.sh SPEC_FILE
#
# SPEC_FILE: one contender a line, `#` comments:
#   LABEL GROUP BENCH_DIR [rvmig-bench options...]
# GROUP is push, pull or tcp; BENCH_DIR holds rvmig-bench (and, if it is a
# copy, its librvmig.so.0: the directory is put on LD_LIBRARY_PATH), so
# builds of different source can be compared in one run; `@` stands for
# --bench-dir. bench/sweep-defaults.txt is the sweep behind the defaults.
#
# usage: sweep-vm.sh [--size BYTES] [--iters N] [--rounds N] [--bench-dir DIR] SPEC_FILE
#   --size    message size (1048576); --iters messages per run (64);
#   --rounds  at least 3 (3); --bench-dir  what `@` means (BUILD_DIR/bench)
set -uo pipefail

size=1048576
iters=64
rounds=3
bench_dir=
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --size) size=${2:?}; shift 2 ;;
    --iters) iters=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --bench-dir) bench_dir=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "sweep-vm: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -eq 1 ]] || usage
spec=$1
die() { echo "sweep-vm: $*" >&2; exit 1; }
((rounds >= 3)) || die "--rounds must be at least 3"
addr=${RVMIG_RXE_ADDR:?run inside tests/harness/rxe-vm}
dev=${RVMIG_RXE_DEV:?run inside tests/harness/rxe-vm}
work=$(mktemp -d /tmp/rvmig-sweep.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$work"' EXIT

labels=() groups=() dirs=() opts=()
while read -r label group dir rest; do
  [[ -z $label || $label == \#* ]] && continue
  if [[ $dir == @ ]]; then
    [[ -n $bench_dir ]] || die "$label: \`@' needs --bench-dir"
    dir=$bench_dir
  fi
  [[ $group == push || $group == pull || $group == tcp ]] || die "$label: group $group"
  [[ -x $dir/rvmig-bench ]] || die "$label: no $dir/rvmig-bench"
  labels+=("$label") groups+=("$group") dirs+=("$dir") opts+=("$rest")
done <"$spec"

. "$(dirname "${BASH_SOURCE[0]}")/vm-lib.sh" # wait_listen PORT PID
port=18700
RESULT=
run_ref() { # GROUP
  local spid rc
  port=$((port + 1))
  RESULT=
  case $1 in
    push|pull)
      local tool=ib_write_bw; [[ $1 == pull ]] && tool=ib_read_bw
      local a=(-d "$dev" -x 1 -s "$size" -n "$iters" -F --report_gbits -p "$port")
      timeout 300 "$tool" "${a[@]}" >"$work/srv" 2>&1 & spid=$!
      wait_listen "$port" "$spid" || { wait "$spid"; return 1; }
      timeout 300 "$tool" "${a[@]}" "$addr" >"$work/cli" 2>&1; rc=$?
      wait "$spid" || rc=1
      RESULT=$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' "$work/cli" | tail -n 1) ;;
    tcp)
      timeout 300 iperf3 -s -1 -B "$addr" -p "$port" >"$work/srv" 2>&1 & spid=$!
      wait_listen "$port" "$spid" || { wait "$spid"; return 1; }
      timeout 300 iperf3 -c "$addr" -p "$port" -l "$size" -n $((size * iters)) -J >"$work/cli" 2>&1
      rc=$?
      wait "$spid" || rc=1
      RESULT=$(jq -r '.end.sum_received.bits_per_second / 1e9' "$work/cli" 2>/dev/null) ;;
  esac
  ((rc == 0)) && [[ $RESULT =~ ^[0-9.]+(e-?[0-9]+)?$ ]]
}
run_one() { # INDEX
  local i=$1 mode=push tp=verbs rc
  case ${groups[i]} in pull) mode=pull ;; tcp) tp=tcp ;; esac
  RESULT=
  # shellcheck disable=SC2086  # options are word-split on purpose
  LD_LIBRARY_PATH=${dirs[i]} timeout 300 "${dirs[i]}/rvmig-bench" --loopback "$addr" -t "$tp" \
    -m "$mode" -s "$size" -n "$iters" --json ${opts[i]} >"$work/rv.json" 2>"$work/rv.err"
  rc=$?
  ((rc == 0)) && [[ $(jq -r .complete "$work/rv.json") == true ]] || return 1
  RESULT=$(jq -r '.results[0].gbit_s' "$work/rv.json")
  EXTRA=$(jq -r '.results[0] | "cli \((.client.cpu.user_s + .client.cpu.sys_s)*1000|floor)ms srv \((.server.cpu.user_s + .server.cpu.sys_s)*1000|floor)ms ucopy \(.client.stats.user_copy_bytes) stalls \(.client.stats.credit_stalls)"' "$work/rv.json")
}

echo "# sweep-vm: $dev $addr, size $size, $iters messages per run, $rounds rounds," \
     "kernel $(uname -r), $(nproc) CPUs"
declare -A RAT VAL
for ((r = 1; r <= rounds; r++)); do
  for g in tcp push pull; do
    prev=
    for i in "${!labels[@]}"; do
      [[ ${groups[i]} == "$g" ]] || continue
      if [[ -z $prev ]]; then
        if ! run_ref "$g"; then
          echo "$r $g ref FAILED"
          continue
        fi
        prev=$RESULT
        echo "$r $g ref $prev"
      fi
      if run_one "$i"; then
        v=$RESULT; echo "$r $g ${labels[i]} $v $EXTRA"
      else
        v=; echo "$r $g ${labels[i]} FAILED: $(tail -n 3 "$work/rv.err" | tr '\n' ' ')"
      fi
      next=
      run_ref "$g" && next=$RESULT
      echo "$r $g ref ${next:-FAILED}"
      if [[ -n $v && -n $prev && -n $next ]]; then
        RAT[$i]+="$(awk -v a="$v" -v b="$prev" -v c="$next" 'BEGIN { printf "%.3f", 2 * a / (b + c) }') "
      fi
      [[ -n $v ]] && VAL[$i]+="$v "
      prev=$next
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
  END { if (!NR) { print "n/a"; exit } if (NR % 2) print v[(NR + 1) / 2];
        else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "# summary: contender, group, options, median ratio to the adjacent reference runs, per-round ratios, median Gbit/s"
for i in "${!labels[@]}"; do
  printf '%-14s %-5s %-34s ratio %-6s [%s] %s Gbit/s\n' "${labels[i]}" "${groups[i]}" \
    "'${opts[i]}'" "$(median <<<"${RAT[$i]:-}")" "${RAT[$i]:-}" "$(median <<<"${VAL[$i]:-}")"
done
