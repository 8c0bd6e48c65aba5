#!/bin/bash
# xen.save_restore: xl create -> save -> restore of a real PV guest inside the
# Xen VM; the guest must keep ticking after the restore.
# Run inside tests/harness/xen-vm.  RVMIG_XEN_SAVE_KEEP=PATH keeps the save file
# at PATH (otherwise it lives in a temp dir and is removed).
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
t_start=$(xen_now)
trap xen_cleanup EXIT
xen_tmpdir || exit 1

name=rvmig-sr-$$
# On dom0's tmpfs: xl save into a file on the 9p-shared cwd fails with EFAULT
# (libxc writes straight from foreign-mapped guest pages, which 9p's
# zero-copy path cannot pin).
save=$XEN_TMP/$name.save

start_guest "$name" pv || exit 1
# Two more ticks: the guest's timer and console run, not only its boot.
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1
save_guest "$name" "$save" || exit 1
if [[ -n ${RVMIG_XEN_SAVE_KEEP:-} ]]; then
  cp "$save" "$RVMIG_XEN_SAVE_KEEP" || xen_err "cannot copy the save file to RVMIG_XEN_SAVE_KEEP=$RVMIG_XEN_SAVE_KEEP" || exit 1
  xen_note "save file kept as $RVMIG_XEN_SAVE_KEEP"
fi
restore_guest "$save" || exit 1
assert_running "$name" || exit 1
destroy_guest "$name" || exit 1
xen_note "PASS save/restore of PV guest: save file $XEN_SAVE_SIZE bytes, total $(xen_elapsed "$t_start") s"
