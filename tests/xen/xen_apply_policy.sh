#!/usr/bin/env bash
# tests/xen/xen_apply_policy.sh - rvmig-policy --policy FILE --apply on the
# Xen host (issue 17), in its own VM so that xen.monitor does not grow:
# a PV guest burning CPU, then
#   1. act_run sets dom0 (the one domain here with two vCPUs) to 1 vCPU:
#      xl vcpu-list shows one online; undone, two (xen_vcpus_check);
#   2. the guest capped at 10 %, rvmig-policy --policy FILE --apply
#      --backend xen (a 0.5-CPU floor, credit.cap 10..100) raises the cap
#      through xl, keeps it, xl sched-credit2 shows it, the monitor sees
#      the guest's CPU rise (xen_apply_policy_check).
# Every figure is printed.  Usage (in the VM):
#   xen_apply_policy.sh MONITOR_DUMP RVMIG_POLICY ACT_RUN
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
dump=${1:?usage: xen_apply_policy.sh MONITOR_DUMP RVMIG_POLICY ACT_RUN}
policy=${2:?usage: xen_apply_policy.sh MONITOR_DUMP RVMIG_POLICY ACT_RUN}
act_run=${3:?usage: xen_apply_policy.sh MONITOR_DUMP RVMIG_POLICY ACT_RUN}
. "$(dirname "$0")/xen_apply.sh" || exit 1
t_start=$(xen_now)
trap xen_cleanup EXIT
xen_tmpdir || exit 1
name=rvmig-pol-$$
# the guest's field k of monitor_dump output file $1
guest_field() {
  awk -v d="$domid" -v k="$2" '/ vcpu=/ { next } $2 == "dom=" d { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) } END { print v }' "$1"
}

RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$name" pv || exit 1
grep -aq "rvmig-guest: burning CPU" "$(xen_console_log "$name")" \
  || xen_err "the guest did not start its busy loop" || exit 1
domid=$(xl domid "$name") || exit 1
fail=0
xen_vcpus_check "$act_run" || fail=1
xen_apply_policy_check "$name" "$domid" "$policy" "$dump" || fail=1
((fail == 0)) || exit 1
destroy_guest "$name" || exit 1
xen_note "PASS xen apply_policy: total $(xen_elapsed "$t_start") s"
