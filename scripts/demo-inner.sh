#!/usr/bin/env bash
# Runs where verbs work (inside the soft-RoCE VM or on an RDMA host):
# rvmig-recv in the background, rvmig-send, then a byte-for-byte comparison.
# The terminal shows rvmig-send's progress bar and summary; rvmig-recv's
# messages go to WORK/recv.log (shown if it fails), the full statistics of
# both to WORK/send-stats.json and WORK/recv-stats.json, and a short summary
# for a person to WORK/summary.txt, which demo.sh prints last.
set -euo pipefail
build=$1 ckpt=$2 transport=$3 mode=$4 work=$5
addr=${RVMIG_RXE_ADDR:?RVMIG_RXE_ADDR not set}
out="$work/received.xlsave"
ready="$work/recv.ready"
tx="$work/send-stats.json" rx="$work/recv-stats.json" rlog="$work/recv.log"
summary="$work/summary.txt"
rm -f "$out" "$ready" "$tx" "$rx" "$rlog" "$summary"

recv_failed() {
  echo "demo: rvmig-recv $1; its messages ($rlog):" >&2
  cat "$rlog" >&2
  exit 1
}

"$build/tools/rvmig-recv" --listen "$transport://$addr:0" --ready-file "$ready" \
  -o "$out" --stats-json "$rx" 2>"$rlog" &
rpid=$!
for _ in $(seq 1 300); do
  [ -s "$ready" ] && break
  kill -0 "$rpid" 2>/dev/null || { wait "$rpid" || true; recv_failed "exited early"; }
  sleep 0.1
done
port=$(cat "$ready")
"$build/tools/rvmig-send" --mode "$mode" --stats-json "$tx" "$ckpt" "$transport://$addr:$port"
wait "$rpid" || recv_failed "exited $?"
cmp "$ckpt" "$out"

# jval KEY FILE: a top-level value of the tools' --stats-json
jval() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$2"; }
bytes=$(jval bytes "$tx")
alg=$(jval digest_algorithm "$tx")
if [ "$(jval ok "$rx")" != true ] || [ "$(jval digest "$rx")" != "$(jval digest "$tx")" ]; then
  echo "demo: the receiver's statistics do not confirm the sender's digest ($rx, $tx)" >&2
  exit 1
fi
{
  echo "demo: summary: $transport, $mode"
  awk -v b="$bytes" -v s="$(jval seconds "$tx")" -v g="$(jval gbit_per_s "$tx")" \
    'BEGIN { d = g >= 100 ? 0 : g >= 10 ? 1 : g >= 1 ? 2 : 3  # as the tools print it
             printf "demo:   %s bytes (%.1f MiB) in %.2f s, %." d "f Gbit/s\n", b, b / 1048576, s, g }'
  echo "demo:   received file byte-identical (cmp); $alg digest match on both ends: $(jval digest "$tx")"
  if [ -n "${RVMIG_IN_VM:-}" ]; then
    echo "demo:   emulated soft-RoCE under qemu TCG: rates are not those of real RDMA hardware"
  fi
  echo "demo:   full statistics (JSON): $tx, $rx"
} >"$summary"
