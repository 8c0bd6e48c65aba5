#!/bin/bash
# xen.rvmig_{tcp,verbs,pipe}: a real PV guest's checkpoint moved with rvmig
# inside the Xen VM.  xl save (to dom0's tmpfs) -> rvmig-send FILE URI ->
# rvmig-recv --listen URI -o FILE -> xl restore FILE; the guest must continue
# ticking from where it was saved.  Several MODEs run one after the other on
# the same guest (restored, then saved again):
#   tcp    over tcp://127.0.0.1
#   verbs  over verbs://$RVMIG_RXE_ADDR (soft-RoCE; needs xen-vm --rxe)
#   pipe   over tcp, rvmig-recv -o - | xl restore /dev/stdin (no received
#          file: xl reads the stream from a pipe while it arrives)
#   top    (needs --top) an `xl save -c` checkpoint of the running guest moved
#          over tcp while rvmig-top watches the transfer and the guest; no
#          restore (tests/xen/xen_transfer_top.sh)
#
#   xen_rvmig_transfer.sh [--top RVMIG_TOP] RVMIG_SEND RVMIG_RECV MODE...
. "$(dirname "$0")/xenlib.sh" || exit 1
. "$(dirname "$0")/xen_transfer_top.sh" || exit 1
set -u
top=
if [[ ${1:-} == --top ]]; then top=${2:?--top RVMIG_TOP}; shift 2; fi
send=${1:?rvmig-send} recv=${2:?rvmig-recv}
shift 2
(($# > 0)) || { xen_err "usage: $0 [--top RVMIG_TOP] RVMIG_SEND RVMIG_RECV tcp|verbs|pipe|top..."; exit 1; }
t_start=$(xen_now)
RPID=
cleanup() {
  top_cleanup
  [[ -n $RPID ]] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1

# start_recv URI OUTPUT LOG [OPTION...]: rvmig-recv in the background; sets
# RPID, PORT.
start_recv() {
  local uri=$1 out=$2 log=$3
  shift 3
  xen_ready_open || return 1
  if [[ $out == - ]]; then
    # The pipe form: xl restore reads the stream as it arrives.
    ( "$recv" -v --listen "$uri" -o - --ready-file "$XEN_READY" --accept-timeout 120000 2>"$log" \
        | xl restore /dev/stdin >"$XEN_TMP/restore.log" 2>&1
      echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}" > "$XEN_TMP/pipe.status" ) &
  else
    "$recv" -v --listen "$uri" -o "$out" --ready-file "$XEN_READY" --accept-timeout 120000 "$@" 2>"$log" &
  fi
  RPID=$!
  xen_ready_wait "$RPID" "$log" "rvmig-recv on $uri" || return 1
  PORT=$XEN_PORT
}

name=rvmig-xfer-$$
start_guest "$name" pv || exit 1
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1

summary=()
for mode in "$@"; do
  if [[ $mode == top ]]; then
    [[ -n $top ]] || { xen_err "mode top needs --top RVMIG_TOP"; exit 1; }
    xen_note "=== mode top ==="
    t0=$(xen_now)
    top_mode "$name" "$top" || exit 1
    assert_running "$name" || exit 1
    summary+=("top: checkpoint, transfer and checks $(xen_elapsed "$t0")s")
    continue
  fi
  case $mode in
    tcp|pipe) scheme=tcp ;;
    verbs) scheme=verbs ;;
    *) xen_err "unknown mode $mode"; exit 1 ;;
  esac
  xen_transport_addr "$scheme" || exit 1
  addr=$XEN_ADDR uri=$scheme://$XEN_ADDR:0
  xen_note "=== mode $mode ==="
  save=$XEN_TMP/$name.$mode.save
  got=$XEN_TMP/$name.$mode.recv
  save_guest "$name" "$save" || exit 1
  save_s=$XEN_LAST_SECONDS
  sent_sha=$(sha256sum < "$save" | cut -d' ' -f1)
  rlog=$XEN_TMP/recv.$mode.log
  slog=$XEN_TMP/send.$mode.log
  if [[ $mode == pipe ]]; then
    start_recv "$uri" - "$rlog" || exit 1
  else
    start_recv "$uri" "$got" "$rlog" || exit 1
  fi
  t0=$(xen_now)
  "$send" -v --stats-json "$XEN_TMP/send.$mode.json" "$save" "$scheme://$addr:$PORT" 2>"$slog"
  src=$?
  xfer_s=$(xen_elapsed "$t0")
  wait "$RPID"
  rrc=$?
  RPID=
  # Recomputed after the pipe form, which includes xl restore.
  all_s=$(xen_elapsed "$t0")
  if ((src != 0)); then
    sed 's/^/  send| /' "$slog" >&2; sed 's/^/  recv| /' "$rlog" >&2
    xen_err "rvmig-send over $mode exited $src"; exit 1
  fi
  xen_time "transfer($mode)" "$xfer_s"
  if [[ $mode == pipe ]]; then
    read -r prc xrc < "$XEN_TMP/pipe.status"
    if ((prc != 0 || xrc != 0)); then
      sed 's/^/  recv| /' "$rlog" >&2; sed 's/^/  restore| /' "$XEN_TMP/restore.log" >&2
      xen_err "pipe form: rvmig-recv exited $prc, xl restore /dev/stdin exited $xrc"; exit 1
    fi
    xen_time "transfer+restore(pipe)" "$all_s"
    restore_s=$all_s
  else
    if ((rrc != 0)); then
      sed 's/^/  recv| /' "$rlog" >&2
      xen_err "rvmig-recv over $mode exited $rrc"; exit 1
    fi
    got_sha=$(sha256sum < "$got" | cut -d' ' -f1)
    [[ $got_sha == "$sent_sha" ]] || { xen_err "received file differs from the save file ($got_sha vs $sent_sha)"; exit 1; }
    check_save_file "$got" || exit 1
    rm -f "$save"   # dom0 has 1 GiB; the received copy is the one restored
    restore_guest "$got" || exit 1
    restore_s=$XEN_LAST_SECONDS
    rm -f "$got"
  fi
  grep -h -i -e 'complete' -e 'verified' -e 'MiB/s' -e 'MB/s' "$slog" "$rlog" | tail -n 4 | sed "s/^/  $mode| /" >&2
  assert_running "$name" || exit 1
  summary+=("$mode: save ${save_s}s transfer ${xfer_s}s restore ${restore_s}s size $(stat -c %s "$save" 2>/dev/null || echo "$XEN_SAVE_SIZE")")
  rm -f "$save"
done
destroy_guest "$name" || exit 1
for s in "${summary[@]}"; do xen_note "RESULT $s"; done
xen_note "PASS rvmig transfer of a PV guest checkpoint ($*): total $(xen_elapsed "$t_start") s"
