#!/usr/bin/env bash
# selftest.sh — checks the verbs environment itself with the distribution's
# tools, no rvmig code: if this fails, the VM (or host RDMA setup) is broken,
# not rvmig. Run under tests/harness/rxe-vm (topology single).
#   1. ibv_devinfo: $RVMIG_RXE_DEV exists and its port 1 is PORT_ACTIVE;
#   2. rping: rdma_cm connection + RDMA READ/WRITE loopback on $RVMIG_RXE_ADDR,
#      data verified by rping (-V);
#   3. ibv_rc_pingpong: raw verbs RC send/recv (GID index 1, the IPv4 RoCEv2 GID).
# Servers are waited for on a real readiness signal (the listening cm_id in
# `rdma resource show cm_id`, the TCP listener in `ss`), never a fixed sleep.
set -uo pipefail
dev=${RVMIG_RXE_DEV:?run under tests/harness/rxe-vm}
addr=${RVMIG_RXE_ADDR:?run under tests/harness/rxe-vm}
die() { echo "selftest: FAILED: $*" >&2; exit 1; }

# wait_for DESC CMD...: retries CMD every 50 ms for up to 20 s.
wait_for() {
  local desc=$1 i
  shift
  for ((i = 0; i < 400; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "timed out waiting for $desc"
}

echo "== ibv_devinfo -d $dev"
info=$(ibv_devinfo -d "$dev") || die "ibv_devinfo -d $dev failed"
echo "$info"
grep -q 'state:.*PORT_ACTIVE' <<<"$info" || die "$dev port is not PORT_ACTIVE"

echo "== rping loopback on $addr"
port=7174
rping -s -a "$addr" -p "$port" -C 10 -S 64 -V &
spid=$!
cm_listening() { rdma resource show cm_id | grep -q "state LISTEN .*comm rping src-addr $addr:$port"; }
wait_for "the rping server to listen on $addr:$port" cm_listening
out=$(timeout 60 rping -c -a "$addr" -p "$port" -C 10 -S 64 -V -v 2>&1)
crc=$?
echo "$out" | tail -n 3
[[ $crc -eq 0 ]] || { kill "$spid" 2>/dev/null; die "rping client failed (exit $crc): $out"; }
timeout 30 tail --pid="$spid" -f /dev/null || { kill "$spid"; die "rping server did not exit"; }
wait "$spid" || die "rping server failed (exit $?)"
[[ $(grep -c 'ping data' <<<"$out") -eq 10 ]] || die "rping client did not report 10 pings"

echo "== ibv_rc_pingpong on $dev (GID index 1)"
timeout 60 ibv_rc_pingpong -d "$dev" -g 1 -n 200 -s 4096 -p 18515 &
spid=$!
tcp_listening() { ss -Hltn 'sport = :18515' | grep -q LISTEN; }
wait_for "ibv_rc_pingpong to listen on TCP port 18515" tcp_listening
timeout 60 ibv_rc_pingpong -d "$dev" -g 1 -n 200 -s 4096 -p 18515 "$addr" || {
  kill "$spid" 2>/dev/null; die "ibv_rc_pingpong client failed"; }
wait "$spid" || die "ibv_rc_pingpong server failed (exit $?)"

echo "selftest: verbs environment ok ($dev, $addr)"
