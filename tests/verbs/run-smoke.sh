#!/usr/bin/env bash
# run-smoke.sh single|pair SMOKE_BINARY — runs rdma_cm_smoke under rxe-vm.
#
#   single: server on $RVMIG_RXE_ADDR, client connecting to it (two separate
#           processes; the server's "listening on" line is the readiness signal),
#           then the fork mode with a multi-chunk size that is not a page multiple.
#   pair:   server on $RVMIG_PAIR_B, client going out from $RVMIG_PAIR_A; checks
#           with the veth counters that the RDMA traffic really crossed the pair.
set -uo pipefail
topo=${1:?single|pair}
bin=${2:?path of rdma_cm_smoke}
size=$((1 << 20))
odd_size=$(((4 << 20) + 123))

die() { echo "run-smoke: $*" >&2; exit 1; }

# two_processes SERVER_ADDR CLIENT_DST [CLIENT_SRC]
two_processes() {
  local srv=$1 dst=$2 src=${3:-} line port rc src_opt=()
  [[ -n $src ]] && src_opt=(--src "$src")
  coproc SERVER { exec "$bin" --bind "$srv" --port 0 --size "$size" --timeout 60; }
  local spid=$SERVER_PID sfd
  # Own copy of the read end: bash drops SERVER[] when the coprocess exits.
  exec {sfd}<&"${SERVER[0]}"
  if ! read -r -t 60 line <&"$sfd"; then
    wait "$spid"
    die "server on $srv did not report that it listens (exit $?)"
  fi
  echo "$line"
  [[ $line =~ listening\ on\ [^\ ]+:([0-9]+) ]] || die "unexpected server output: $line"
  port=${BASH_REMATCH[1]}
  cat <&"$sfd" &
  local cat_pid=$!
  "$bin" --connect "$dst" "${src_opt[@]}" --port "$port" --size "$size" --timeout 60
  rc=$?
  [[ $rc -eq 0 ]] || kill "$spid" 2>/dev/null
  wait "$spid"
  local src_rc=$?
  wait "$cat_pid"
  exec {sfd}<&-
  [[ $rc -eq 0 ]] || die "client failed (exit $rc)"
  [[ $src_rc -eq 0 ]] || die "server failed (exit $src_rc)"
}

counter() { cat "/sys/class/net/$1/statistics/$2"; }

case $topo in
  single)
    [[ -n ${RVMIG_RXE_ADDR:-} ]] || die "RVMIG_RXE_ADDR not set (run under tests/harness/rxe-vm)"
    two_processes "$RVMIG_RXE_ADDR" "$RVMIG_RXE_ADDR"
    "$bin" --bind "$RVMIG_RXE_ADDR" --connect "$RVMIG_RXE_ADDR" --size "$odd_size" --timeout 60 \
      || die "fork mode with --size $odd_size failed"
    ;;
  pair)
    [[ -n ${RVMIG_PAIR_A:-} && -n ${RVMIG_PAIR_B:-} ]] || die "RVMIG_PAIR_A/B not set (run under rxe-vm --topology pair)"
    na=${RVMIG_PAIR_NETDEV_A:?} nb=${RVMIG_PAIR_NETDEV_B:?}
    a_tx0=$(counter "$na" tx_bytes) b_tx0=$(counter "$nb" tx_bytes)
    two_processes "$RVMIG_PAIR_B" "$RVMIG_PAIR_B" "$RVMIG_PAIR_A"
    a_tx=$(( $(counter "$na" tx_bytes) - a_tx0 ))
    b_tx=$(( $(counter "$nb" tx_bytes) - b_tx0 ))
    echo "run-smoke: veth $na sent $a_tx bytes, $nb sent $b_tx bytes (RDMA WRITE and READ of $size bytes each)"
    # WRITE payload goes A->B, READ response payload B->A.
    (( a_tx >= size )) || die "the RDMA WRITE did not cross the veth ($na sent only $a_tx bytes)"
    (( b_tx >= size )) || die "the RDMA READ response did not cross the veth ($nb sent only $b_tx bytes)"
    ;;
  *) die "unknown topology $topo" ;;
esac
echo "run-smoke: $topo ok"
