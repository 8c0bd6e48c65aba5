# shellcheck shell=bash
# tests/xen/xen_apply.sh - rvmig-policy --apply on a real Xen guest (issue
# 17), sourced by xen_monitor.sh, which has booted a guest that burns CPU.
# xen_apply_check NAME DOMID POLICY DUMP:
#   1. the guest is capped at 10 % (xl sched-credit2 -c 10) and the monitor
#      (DUMP = monitor_dump) measures it near that;
#   2. rvmig-policy --apply --target xen:DOMID with a CPU-share floor SLA
#      of 0.5 CPU sees it violated, raises its credit2 cap through xl, logs
#      old -> new and verifies the effect (kept, no undo);
#   3. xl sched-credit2 -d shows the new cap (> 10);
#   4. the monitor sees the guest's CPU follow: above 15 % and above the
#      capped measurement (TCG on a shared host: a direction, not a figure).
# The loop runs 60 s: each xl call takes seconds in the emulated dom0 (an
# apply is four of them: about 20 s, measured), then 1 + 3 observations.
# Every figure printed.  Returns 0 or 1 (xen_err said why).
xen_apply_check() {
  local name=$1 domid=$2 policy=$3 dump=$4 low new cap before after
  xl sched-credit2 -d "$name" -c 10 || xen_err "apply: xl sched-credit2 -c 10 failed" || return 1
  sleep 1
  "$dump" xen 3 2000 > "$XEN_TMP/apply-before.txt" 2> "$XEN_TMP/apply-before.err" \
    || { cat "$XEN_TMP/apply-before.err" >&2; xen_err "apply: monitor_dump failed"; return 1; }
  before=$(guest_field "$XEN_TMP/apply-before.txt" cpu_pct)
  xen_note "apply: guest capped at 10: cpu_pct $before"
  "$policy" --apply --target "xen:$domid" --sla floor:0.5 --interval 1 --dwell 2 --cooldown 300 \
    --verify 3 --settle 1 --duration 60 > "$XEN_TMP/apply.log" 2>&1 \
    || { cat "$XEN_TMP/apply.log" >&2; xen_err "apply: rvmig-policy --apply failed"; return 1; }
  sed 's/^/  | /' "$XEN_TMP/apply.log" >&2
  low=$(grep -m1 " apply credit-cap xen:$domid " "$XEN_TMP/apply.log") \
    || xen_err "apply: rvmig-policy applied no credit-cap change" || return 1
  new=$(sed -n 's/.*: cap 10% -> cap \([0-9]*\)%$/\1/p' <<<"$low")
  [ -n "$new" ] && [ "$new" -gt 10 ] || xen_err "apply: not a raise from cap 10: $low" || return 1
  grep -q " verify credit-cap xen:$domid: keep:" "$XEN_TMP/apply.log" \
    || xen_err "apply: the raise was not verified and kept" || return 1
  ! grep -q " undo " "$XEN_TMP/apply.log" || xen_err "apply: the raise was rolled back" || return 1
  xl sched-credit2 -d "$name" >&2
  cap=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $NF }')
  [ "$cap" = "$new" ] || xen_err "apply: xl sched-credit2 shows cap '$cap', not the $new applied" || return 1
  "$dump" xen 3 2000 > "$XEN_TMP/apply-after.txt" 2> "$XEN_TMP/apply-after.err" \
    || { cat "$XEN_TMP/apply-after.err" >&2; xen_err "apply: monitor_dump failed"; return 1; }
  after=$(guest_field "$XEN_TMP/apply-after.txt" cpu_pct)
  xen_note "apply: cap 10 -> $new by rvmig-policy; guest cpu_pct $before -> $after"
  awk -v a="$after" -v b="$before" 'BEGIN { exit !(a > 15 && a > b) }' \
    || xen_err "apply: guest cpu_pct $after after the raise is not above 15 and $before" || return 1
}
