#!/bin/bash
# xen.rvmig_save_{tcp,verbs}: rvmig-save saves a running PV guest straight
# into an rvmig transfer (libxl_domain_suspend into a pipe read by rvmig-send,
# no file on the sending side) to rvmig-recv -o FILE in dom0; then
# xl restore FILE and the guest must continue ticking from where it stopped.
# First, rvmig-save towards a port nobody listens on must fail and leave the
# guest running (resumed), not destroyed.
#
#   xen_rvmig_save.sh RVMIG_SAVE RVMIG_RECV tcp|verbs
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
save_tool=${1:?rvmig-save} recv=${2:?rvmig-recv} transport=${3:?tcp|verbs}
t_start=$(xen_now)
RPID=
cleanup() {
  [[ -n $RPID ]] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1

xen_transport_addr "$transport" || exit 1
addr=$XEN_ADDR

name=rvmig-save-$$
start_guest "$name" pv || exit 1
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1

# 1. Nobody listens: rvmig-send fails, the save must fail and the guest must
# be resumed and keep ticking.
xen_note "rvmig-save to a closed port (must fail, guest resumed)"
t0=$(xen_now)
if "$save_tool" -v "$name" "$transport://$addr:9" >"$XEN_TMP/fail.log" 2>&1; then
  sed 's/^/  | /' "$XEN_TMP/fail.log" >&2
  xen_err "rvmig-save to a closed port exited 0"; exit 1
fi
xen_time "failed-save($name)" "$(xen_elapsed "$t0")"
grep -E 'rvmig-save:' "$XEN_TMP/fail.log" | sed 's/^/  fail| /' >&2
before=$(last_tick "$name")
XEN_LAST_TICK=$before
assert_running "$name" || { sed 's/^/  | /' "$XEN_TMP/fail.log" >&2; exit 1; }

# 2. The real transfer.
got=$XEN_TMP/$name.recv
xen_ready_open || exit 1
"$recv" -v --listen "$transport://$addr:0" -o "$got" --ready-file "$XEN_READY" --accept-timeout 120000 \
  2>"$XEN_TMP/recv.log" &
RPID=$!
xen_ready_wait "$RPID" "$XEN_TMP/recv.log" "rvmig-recv on $transport://$addr" || exit 1
port=$XEN_PORT

t0=$(xen_now)
"$save_tool" -v "$name" "$transport://$addr:$port" >"$XEN_TMP/save.log" 2>&1
src=$?
save_s=$(xen_elapsed "$t0")
wait "$RPID"
rrc=$?
RPID=
if ((src != 0 || rrc != 0)); then
  sed 's/^/  save| /' "$XEN_TMP/save.log" >&2; sed 's/^/  recv| /' "$XEN_TMP/recv.log" >&2
  xen_err "rvmig-save exited $src, rvmig-recv exited $rrc"; exit 1
fi
xen_time "rvmig-save($name,$transport)" "$save_s"
grep -E 'rvmig-save:|complete|verified' "$XEN_TMP/save.log" | sed 's/^/  save| /' >&2
if xen_domain_exists "$name"; then
  xen_err "guest $name still exists after rvmig-save"; exit 1
fi
# As save_guest does: the last tick printed before the save, and the console
# log position where the restored run begins.
XEN_LAST_TICK=$(last_tick "$name")
XEN_LOG_MARK[$name]=$(stat -c %s "$(xen_console_log "$name")" 2>/dev/null || echo 0)
xen_note "guest $name saved by rvmig-save after tick $XEN_LAST_TICK"
check_save_file "$got" || exit 1
restore_guest "$got" || exit 1
restore_s=$XEN_LAST_SECONDS
assert_running "$name" || exit 1
destroy_guest "$name" || exit 1
xen_note "RESULT rvmig-save $transport: save+transfer ${save_s}s restore ${restore_s}s size $XEN_SAVE_SIZE"
xen_note "PASS rvmig-save of a PV guest over $transport: total $(xen_elapsed "$t_start") s"
