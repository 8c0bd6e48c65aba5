#!/usr/bin/env bash
# selftest.sh — checks the verbs environment itself with the distribution's
# tools, no rvmig code: if this fails, the VM (or host RDMA setup) is broken,
# not rvmig. Run under tests/harness/rxe-vm, either topology:
#   single: everything on $RVMIG_RXE_DEV / $RVMIG_RXE_ADDR (loopback);
#   pair:   servers on the B end, clients on the A end, across the veth.
#   1. ibv_devinfo: each device exists and its port 1 is PORT_ACTIVE;
#   2. rping: rdma_cm connection + RDMA READ/WRITE, data verified by rping (-V);
#   3. ibv_rc_pingpong: raw verbs RC send/recv (GID index 1, the IPv4 RoCEv2 GID).
# Servers are waited for on a real readiness signal (the listening cm_id in
# `rdma resource show cm_id`, the TCP listener in `ss`), never a fixed sleep.
set -uo pipefail
die() { echo "selftest: FAILED: $*" >&2; exit 1; }

if [[ -n ${RVMIG_PAIR_A:-} ]]; then
  srv_dev=${RVMIG_RXE_DEV_B:?} srv_addr=${RVMIG_PAIR_B:?}
  cli_dev=${RVMIG_RXE_DEV_A:?} cli_addr=${RVMIG_PAIR_A:?}
elif [[ -n ${RVMIG_RXE_ADDR:-} ]]; then
  srv_dev=${RVMIG_RXE_DEV:?} srv_addr=$RVMIG_RXE_ADDR
  cli_dev=$srv_dev cli_addr=$srv_addr
else
  die "no RVMIG_RXE_ADDR / RVMIG_PAIR_A: run under tests/harness/rxe-vm"
fi

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

for dev in $(printf '%s\n' "$srv_dev" "$cli_dev" | sort -u); do
  echo "== ibv_devinfo -d $dev"
  info=$(ibv_devinfo -d "$dev") || die "ibv_devinfo -d $dev failed"
  echo "$info"
  grep -q 'state:.*PORT_ACTIVE' <<<"$info" || die "$dev port is not PORT_ACTIVE"
done

echo "== rping $cli_addr -> $srv_addr"
port=7174
rping -s -a "$srv_addr" -p "$port" -C 10 -S 64 -V &
spid=$!
cm_listening() { rdma resource show cm_id | grep -q "state LISTEN .*comm rping src-addr $srv_addr:$port"; }
wait_for "the rping server to listen on $srv_addr:$port" cm_listening
src_opt=()
[[ $cli_addr != "$srv_addr" ]] && src_opt=(-I "$cli_addr")
out=$(timeout 60 rping -c -a "$srv_addr" "${src_opt[@]}" -p "$port" -C 10 -S 64 -V -v 2>&1)
crc=$?
echo "$out" | tail -n 2
[[ $crc -eq 0 ]] || { kill "$spid" 2>/dev/null; die "rping client failed (exit $crc): $out"; }
timeout 30 tail --pid="$spid" -f /dev/null || { kill "$spid"; die "rping server did not exit"; }
wait "$spid" || die "rping server failed (exit $?)"
[[ $(grep -c 'ping data' <<<"$out") -eq 10 ]] || die "rping client did not report 10 pings: $out"

echo "== ibv_rc_pingpong $cli_dev -> $srv_dev (GID index 1)"
timeout 60 ibv_rc_pingpong -d "$srv_dev" -g 1 -n 200 -s 4096 -p 18515 &
spid=$!
tcp_listening() { ss -Hltn 'sport = :18515' | grep -q LISTEN; }
wait_for "ibv_rc_pingpong to listen on TCP port 18515" tcp_listening
timeout 60 ibv_rc_pingpong -d "$cli_dev" -g 1 -n 200 -s 4096 -p 18515 "$srv_addr" || {
  kill "$spid" 2>/dev/null; die "ibv_rc_pingpong client failed"; }
wait "$spid" || die "ibv_rc_pingpong server failed (exit $?)"

echo "selftest: verbs environment ok ($cli_dev $cli_addr -> $srv_dev $srv_addr)"
