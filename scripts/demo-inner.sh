#!/usr/bin/env bash
# Runs where verbs work (inside the soft-RoCE VM or on an RDMA host):
# rvmig-recv in the background, rvmig-send, then a byte-for-byte comparison.
set -euo pipefail
build=$1 ckpt=$2 transport=$3 mode=$4 work=$5
addr=${RVMIG_RXE_ADDR:?RVMIG_RXE_ADDR not set}
out="$work/received.xlsave"
ready="$work/recv.ready"
rm -f "$out" "$ready"

"$build/tools/rvmig-recv" --listen "$transport://$addr:0" --ready-file "$ready" \
  -o "$out" --stats-json "$work/recv-stats.json" &
rpid=$!
for _ in $(seq 1 300); do
  [ -s "$ready" ] && break
  kill -0 "$rpid" 2>/dev/null || { wait "$rpid"; echo "demo: rvmig-recv exited early" >&2; exit 1; }
  sleep 0.1
done
port=$(cat "$ready")
"$build/tools/rvmig-send" --mode "$mode" --stats-json "$work/send-stats.json" "$ckpt" "$transport://$addr:$port"
wait "$rpid"
cmp "$ckpt" "$out"
echo "demo: received file is byte-identical ($(stat -c %s "$out") bytes) over $transport ($mode)"
echo "demo: sender stats:   $(cat "$work/send-stats.json")"
echo "demo: receiver stats: $(cat "$work/recv-stats.json")"
