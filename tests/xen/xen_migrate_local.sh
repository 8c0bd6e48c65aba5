#!/bin/bash
# xen.migrate_local: live migration of a PVH guest to the same host with
# `xl migrate -s xl-local-ssh DOM localhost` inside the Xen VM; the migrated
# guest must continue ticking from where the source stopped.
# (PV guests cannot live-migrate on Debian's Xen: built without shadow paging.)
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
t_start=$(xen_now)
trap xen_cleanup EXIT
xen_tmpdir || exit 1

name=rvmig-mig-$$
start_guest "$name" pvh || exit 1
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1
migrate_guest "$name" || exit 1
if xl list | awk '{ print $1 }' | grep -q -e '--migratedaway$' -e '--incoming$'; then
  xl list >&2
  xen_err "a --migratedaway or --incoming domain is left after xl migrate"
  exit 1
fi
assert_running "$name" || exit 1
destroy_guest "$name" || exit 1
xen_note "PASS live migration of PVH guest to localhost, total $(xen_elapsed "$t_start") s"
