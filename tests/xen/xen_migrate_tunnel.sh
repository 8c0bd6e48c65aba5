#!/bin/bash
# xen.migrate_tunnel_{tcp,verbs}: live migration of a PVH guest to the same
# host with `xl migrate -s "rvmig-tunnel ..." DOM localhost` inside the Xen
# VM, the stream carried by rvmig-tunnel -> rvmigd over TCP on 127.0.0.1 or
# over verbs on soft-RoCE (rxe0, $RVMIG_RXE_ADDR; needs xen-vm --rxe).
# The migrated guest must continue ticking from where the source stopped;
# the tunnel must have parsed its input as a Xen stream (pages zero-copy)
# and rvmigd must have rebuilt all of it with a matching digest.
#
#   xen_migrate_tunnel.sh tcp|verbs RVMIG_TUNNEL RVMIGD
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
transport=${1:?tcp|verbs} tunnel=${2:?rvmig-tunnel} daemon=${3:?rvmigd}
t_start=$(xen_now)
XEN_RVMIGD_PID=
cleanup() {
  [[ -n $XEN_RVMIGD_PID ]] && kill "$XEN_RVMIGD_PID" 2>/dev/null && wait "$XEN_RVMIGD_PID" 2>/dev/null
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1
xen_rvmigd_start "$daemon" "$transport" || exit 1
DPID=$XEN_RVMIGD_PID addr=$XEN_ADDR port=$XEN_PORT key=$XEN_KEY

# xenlib's migrate_guest runs `xl migrate -s <its ssh stand-in> NAME localhost`
# and keeps the console-log bookkeeping that assert_running needs; route its
# -s command through rvmig-tunnel (HOST localhost -> the template's address).
TUNNEL_CMD="$tunnel -v --uri-template $transport://$addr:$port --key-file $key"
xl() {
  if [[ ${1:-} == migrate && ${2:-} == -s ]]; then
    command xl migrate -s "$TUNNEL_CMD" "${@:4}"
  else
    command xl "$@"
  fi
}

name=rvmig-tun-$$
start_guest "$name" pvh || exit 1
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1
migrate_guest "$name" || { sed 's/^/  | /' "$XEN_TMP/rvmigd.log" >&2; exit 1; }
mig_s=$XEN_LAST_SECONDS
mlog=$XEN_TMP/$name.migrate.log
if command xl list | awk '{ print $1 }' | grep -q -e '--migratedaway$' -e '--incoming$'; then
  command xl list >&2
  xen_err "a --migratedaway or --incoming domain is left after xl migrate"
  exit 1
fi
assert_running "$name" || exit 1
# xl's receiver exits after the permission message while xl still holds the
# pipe open, so the check is the EXIT path: rvmigd rebuilt every byte the
# tunnel handed on, with the same digest.
info=$(grep -o '[0-9]* bytes of stdin (Xen stream;.*' "$mlog" | head -1)
[[ $info == *"xxh128 digest verified"* ]] || {
  sed 's/^/  | /' "$mlog" "$XEN_TMP/rvmigd.log" >&2
  xen_err "rvmig-tunnel did not report a parsed Xen stream received whole with a matching digest"
  exit 1
}
grep -q 'command exited with status 0' "$XEN_TMP/rvmigd.log" || {
  sed 's/^/  | /' "$XEN_TMP/rvmigd.log" >&2
  xen_err "rvmigd did not report xl migrate-receive exiting with status 0"
  exit 1
}
xen_note "tunnel: $info"
xen_note "rvmigd: $(grep -o 'command exited.*' "$XEN_TMP/rvmigd.log" | head -1)"
kill -0 "$DPID" 2>/dev/null || { xen_err "rvmigd is gone after the migration"; exit 1; }
destroy_guest "$name" || exit 1
xen_note "PASS live migration of PVH guest to localhost through rvmig-tunnel over $transport: migrate $mig_s s, total $(xen_elapsed "$t_start") s"
