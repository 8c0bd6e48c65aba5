#!/bin/bash
# xen.save_restore_{tcp,verbs}: rvmig-save -> rvmig-restore, no checkpoint
# file on either side.  A running PV guest is saved by rvmig-save (libxl's
# save into a pipe read by the library's sender, in-process) and restored by
# rvmig-restore (the library's receiver into a pipe read by
# libxl_domain_create_restore).  Both "hosts" are this one dom0, over
# loopback (tcp) or rxe0 (verbs): the restored domain is built as
# NAME--incoming while the saved one still exists, and takes its name once
# rvmig-save destroyed it.  Checked: rvmig-save exits 0 and the source
# domain is gone; rvmig-restore exits 0; the guest is in xl list as NAME, not
# paused, and prints ticks beyond the last one before the save (its counter
# lives in guest memory) without booting afresh; and no file of checkpoint
# size was written: the peak of dom0's tmpfs use (Shmem, sampled every
# 0.2 s while the tools run; the overlay root's upper layer and /tmp are
# tmpfs) stays within 16 MiB of where it started, and no file over 16 MiB
# appeared in the tools' working directory (the shared build directory, the
# only writable place that is not tmpfs).
# First, rvmig-restore must refuse a stream that is no xl save stream
# (rvmig-send --raw of random bytes) and leave no domain behind.  Then the
# verdict's hold: rvmig-restore --name Domain-0 gets the whole stream
# verified and libxl builds the domain, but libxl refuses to give it dom0's
# name (a name clash met after the stream is in); the receiver's verdict
# must fail with that reason, rvmig-save must exit non-zero naming it and
# resume the guest under its own name (it runs on, from before the save),
# and no restored domain may be left.  The same guest is then moved for
# real.
#
#   xen_rvmig_restore.sh RVMIG_SAVE RVMIG_RESTORE RVMIG_SEND tcp|verbs
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
save_tool=${1:?rvmig-save} restore_tool=${2:?rvmig-restore} send=${3:?rvmig-send}
transport=${4:?tcp|verbs}
t_start=$(xen_now)
RPID= SPID=
cleanup() {
  [[ -n $RPID ]] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
  [[ -n $SPID ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1
xen_transport_addr "$transport" || exit 1
addr=$XEN_ADDR
shmem_kib() { awk '/^Shmem:/ { print $2 }' /proc/meminfo; }

# restore_start LOG [ARGS...]: rvmig-restore listening; sets RPID, XEN_PORT.
restore_start() {
  local log=$1
  shift
  xen_ready_open || return 1
  "$restore_tool" -v --listen "$transport://$addr:0" --ready-file "$XEN_READY" \
    --accept-timeout 120000 "$@" 2>"$log" &
  RPID=$!
  xen_ready_wait "$RPID" "$log" "rvmig-restore on $transport://$addr"
}

# 1. Not an xl save stream: refused, nothing restored.
xen_note "rvmig-restore given random bytes (must fail, no domain left)"
head -c 1048576 /dev/urandom >"$XEN_TMP/junk"
restore_start "$XEN_TMP/junk-restore.log" || exit 1
"$send" --raw "$XEN_TMP/junk" "$transport://$addr:$XEN_PORT" >"$XEN_TMP/junk-send.log" 2>&1
jsrc=$?
wait "$RPID"
jrrc=$?
RPID=
sed 's/^/  junk-restore| /' "$XEN_TMP/junk-restore.log" >&2
if ((jsrc == 0 || jrrc == 0)); then
  sed 's/^/  junk-send| /' "$XEN_TMP/junk-send.log" >&2
  xen_err "random bytes: rvmig-send exited $jsrc, rvmig-restore $jrrc (both must fail)"; exit 1
fi
grep -q 'not an xl save stream: .*bad magic' "$XEN_TMP/junk-restore.log" \
  || { xen_err "rvmig-restore did not say the stream has no xl magic"; exit 1; }
if [[ $(xl list | wc -l) -ne 2 ]]; then
  xl list >&2; xen_err "a domain was left after the refused stream"; exit 1
fi

# 2. The restore fails after the stream arrived verified: the source runs on.
name=rvmig-sr-$$
start_guest "$name" pv || exit 1
xen_note "rvmig-save -> rvmig-restore --name Domain-0 (libxl refuses the name after the stream is in: the source must run on)"
restore_start "$XEN_TMP/clash-restore.log" --name Domain-0 || exit 1
t0=$(xen_now)
"$save_tool" -v "$name" "$transport://$addr:$XEN_PORT" >"$XEN_TMP/clash-save.log" 2>&1
csrc=$?
wait "$RPID"
crrc=$?
RPID=
sed 's/^/  clash-save| /' "$XEN_TMP/clash-save.log" >&2
sed 's/^/  clash-restore| /' "$XEN_TMP/clash-restore.log" >&2
if ((csrc == 0 || crrc == 0)); then
  xen_err "restore refused after the stream: rvmig-save exited $csrc, rvmig-restore $crrc (both must fail)"; exit 1
fi
grep -q 'receiver failed: .*refused to rename it to Domain-0: domain 0 has that name' "$XEN_TMP/clash-save.log" \
  || { xen_err "rvmig-save did not name the receiver's reason (libxl refused the name Domain-0)"; exit 1; }
grep -q "domain [0-9]* ($name) resumed" "$XEN_TMP/clash-save.log" \
  || { xen_err "rvmig-save did not resume the source domain"; exit 1; }
grep -q 'stream arrived verified\|was restored, but' "$XEN_TMP/clash-restore.log" \
  || { xen_err "rvmig-restore did not fail after the stream was in (the case this step tests)"; exit 1; }
xl list >&2
if xen_domain_exists "Domain-0--incoming" || xen_domain_exists "$name--migratedaway" || [[ $(xl list | wc -l) -ne 3 ]]; then
  xen_err "after the refused restore: a restored or renamed domain was left (only Domain-0 and $name may exist)"; exit 1
fi
state=$(xl list "$name" | awk 'NR == 2 { print $5 }')
[[ $state != *p* ]] || { xen_err "source guest $name is paused after the refused restore (state $state)"; exit 1; }
assert_running "$name" || exit 1
xen_note "PASS refused restore after a verified stream: source $name runs on ($(xen_elapsed "$t0") s)"

# 3. The real thing, the same guest.
wait_ticks "$name" $((XEN_LAST_TICK + 1)) 30 || exit 1
src_log=$(xen_console_log "$name")
marker=$XEN_TMP/marker
touch "$marker"
base=$(shmem_kib)
( peak=$base
  while :; do
    v=$(shmem_kib); ((v > peak)) && { peak=$v; echo "$peak" >"$XEN_TMP/shmem.peak"; }
    sleep 0.2
  done ) &
SPID=$!
restore_start "$XEN_TMP/restore.log" || exit 1
t0=$(xen_now)
"$save_tool" -v "$name" "$transport://$addr:$XEN_PORT" >"$XEN_TMP/save.log" 2>&1
src=$?
save_s=$(xen_elapsed "$t0")
wait "$RPID"
rrc=$?
RPID=
total_s=$(xen_elapsed "$t0")
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
SPID=
sed 's/^/  save| /' "$XEN_TMP/save.log" >&2
sed 's/^/  restore| /' "$XEN_TMP/restore.log" >&2
((src == 0 && rrc == 0)) || { xen_err "rvmig-save exited $src, rvmig-restore exited $rrc"; exit 1; }
xen_time "rvmig-save($name,$transport)" "$save_s"
xen_time "rvmig-save+rvmig-restore($name,$transport)" "$total_s"

peak=$(cat "$XEN_TMP/shmem.peak" 2>/dev/null || echo "$base")
xen_note "dom0 tmpfs use (Shmem): $base KiB before, peak $peak KiB during save and restore"
if ((peak - base > 16384)); then
  xen_err "dom0's tmpfs use grew by $((peak - base)) KiB during save and restore: a checkpoint file was written"; exit 1
fi
# The only other writable place is the shared build directory, the tools'
# working directory (the rest of the host root is read-only in the VM).
big=$(find "$PWD" -maxdepth 1 -type f -newer "$marker" -size +16M 2>/dev/null)
[[ -z $big ]] || { xen_err "files over 16 MiB written in $PWD during save and restore: $big"; exit 1; }

# The saved domain's last tick, and the console log the restored one
# writes (xenconsoled names it after the domain's first name, NAME--incoming).
xen_migrated "$name" "$src_log"
xl list >&2
state=$(xl list "$name" | awk 'NR == 2 { print $5 }')
[[ $state != *p* ]] || { xen_err "restored guest $name is paused (state $state)"; exit 1; }
assert_running "$name" || exit 1
destroy_guest "$name" || exit 1
xen_note "RESULT rvmig-save -> rvmig-restore $transport: save+transfer ${save_s}s, until restored ${total_s}s"
xen_note "PASS rvmig-save -> rvmig-restore of a PV guest over $transport (loopback in one dom0), no checkpoint file: total $(xen_elapsed "$t_start") s"
