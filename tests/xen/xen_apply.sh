# shellcheck shell=bash
# tests/xen/xen_apply.sh - rvmig-policy --apply and its Xen actuator on a
# real Xen guest (issue 17), sourced by xen_monitor.sh, which has booted a
# guest that burns CPU.
# xen_apply_check NAME DOMID POLICY DUMP:
#   1. the guest is capped at 10 % (xl sched-credit2 -c 10) and the monitor
#      (DUMP = monitor_dump) measures it near that;
#   2. rvmig-policy --apply --target xen:DOMID with a CPU-share floor SLA
#      of 0.5 CPU sees it violated, raises its credit2 cap through xl, logs
#      old -> new and verifies the effect (kept, no undo);
#   3. xl sched-credit2 -d shows the new cap (> 10);
#   4. the monitor sees the guest's CPU follow: above 15 % and above the
#      capped measurement (TCG on a shared host: a direction, not a figure).
# The loop stops once the action is judged (--once), at the latest after
# 240 s: each xl call takes 2-12 s in the emulated dom0 (an apply is four of
# them: 7-20 s measured), then 1 + 3 observations.
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
    --verify 3 --settle 1 --once --duration 240 > "$XEN_TMP/apply.log" 2>&1 \
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

# xen_act_check NAME DOMID ACT_RUN DUMP: the Xen actuator's other settings
# through act_run (tests/policy), each applied, seen by xl and undone:
#   1. credit-weight 512: xl sched-credit2 shows 512, then the old weight;
#   2. pin 1 (all vCPUs on pCPU 1): xl vcpu-list shows hard affinity 1, and
#      the monitor sees the guest's vCPU on pCPU 1 in every sample; undone,
#      the affinity is the old one ("all") again.
xen_act_check() {
  local name=$1 domid=$2 act=$3 dump=$4 line w0 w aff pc
  w0=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $(NF-1) }')
  coproc ACT { "$act" "xen:$domid" credit-weight 512 --undo 2>&1; }
  read -r -t 120 line <&"${ACT[0]}" || xen_err "act: act_run credit-weight printed nothing" || return 1
  xen_note "act: $line"
  w=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $(NF-1) }')
  echo >&"${ACT[1]}"
  read -r -t 120 line <&"${ACT[0]}" || xen_err "act: no undo line from act_run" || return 1
  xen_note "act: $line"
  wait "$ACT_PID" || xen_err "act: act_run credit-weight failed" || return 1
  [ "$w" = 512 ] || xen_err "act: xl shows weight '$w' after credit-weight 512" || return 1
  w=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $(NF-1) }')
  [ "$w" = "$w0" ] || xen_err "act: weight '$w' after the undo, was $w0" || return 1

  coproc ACT { "$act" "xen:$domid" pin 1 --undo 2>&1; }
  read -r -t 120 line <&"${ACT[0]}" || xen_err "act: act_run pin printed nothing" || return 1
  xen_note "act: $line"
  xl vcpu-list "$name" >&2
  aff=$(xl vcpu-list "$name" | awk -v d="$domid" '$(NF-7) == d && $(NF-6) == 0 { print $(NF-2) }')
  "$dump" xen 3 2000 > "$XEN_TMP/pin.txt" 2> "$XEN_TMP/pin.err" || cat "$XEN_TMP/pin.err" >&2
  echo >&"${ACT[1]}"
  read -r -t 120 line <&"${ACT[0]}" || xen_err "act: no undo line from act_run" || return 1
  xen_note "act: $line"
  wait "$ACT_PID" || xen_err "act: act_run pin failed" || return 1
  [ "$aff" = 1 ] || xen_err "act: xl vcpu-list shows hard affinity '$aff' after pin 1" || return 1
  pc=$(awk -v d="$domid" '$2 == "dom=" d && $3 ~ /^vcpu=/ { for (i = 4; i <= NF; i++) if ($i ~ /^pcpu=/) print substr($i, 6) }' "$XEN_TMP/pin.txt" | sort -u | tr '\n' ' ')
  xen_note "act: pinned to pCPU 1: the monitor saw the guest's vCPU on pCPU(s) $pc"
  [ "$pc" = "1 " ] || xen_err "act: the monitor saw the pinned vCPU on pCPU(s) '$pc', not 1" || return 1
  aff=$(xl vcpu-list "$name" | awk -v d="$domid" '$(NF-7) == d && $(NF-6) == 0 { print $(NF-2) }')
  [ "$aff" = all ] || xen_err "act: hard affinity '$aff' after the undo, not all" || return 1
}
