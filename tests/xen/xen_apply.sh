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

# xen_apply_policy_check NAME DOMID POLICY DUMP: rvmig-policy --policy FILE
# --apply on the Xen host (issue 17): the monitor's xen backend gives the
# states, a policy file names the guest by its id with a 0.5-CPU floor and
# a credit2 cap range of 10..100 %:
#   1. the guest is capped at 10 % again;
#   2. the tool reads the cap from xl (cap 10 %), decides a raise after the
#      dwell, applies it through xl, logs old -> new and keeps it on the next
#      observations;
#   3. xl sched-credit2 -d shows the new cap;
#   4. the monitor sees the guest's CPU follow (above 15 % and above the
#      capped measurement).
xen_apply_policy_check() {
  local name=$1 domid=$2 policy=$3 dump=$4 line new cap before after
  xl sched-credit2 -d "$name" -c 10 || xen_err "policy: xl sched-credit2 -c 10 failed" || return 1
  sleep 1
  "$dump" xen 3 2000 > "$XEN_TMP/policy-before.txt" 2> "$XEN_TMP/policy-before.err" \
    || { cat "$XEN_TMP/policy-before.err" >&2; xen_err "policy: monitor_dump failed"; return 1; }
  before=$(guest_field "$XEN_TMP/policy-before.txt" cpu_pct)
  cat > "$XEN_TMP/guest.policy" <<POL
[decider]
dwell = 2s
domain_cooldown = 300s
global_cooldown = 1s

[domain guest]
match = id $domid
sla = cpu 0.5
credit.cap = 10 100 10
POL
  "$policy" --policy "$XEN_TMP/guest.policy" --apply --backend xen --interval 1 --verify 3 \
    --settle 1 --once --duration 240 > "$XEN_TMP/policy.log" 2>&1 \
    || { cat "$XEN_TMP/policy.log" >&2; xen_err "policy: rvmig-policy --policy --apply failed"; return 1; }
  sed 's/^/  | /' "$XEN_TMP/policy.log" >&2
  line=$(grep -m1 " apply credit-cap xen:$domid " "$XEN_TMP/policy.log") \
    || xen_err "policy: rvmig-policy --policy applied no credit-cap change" || return 1
  new=$(sed -n 's/.*: cap 10% -> cap \([0-9]*\)%$/\1/p' <<<"$line")
  [ -n "$new" ] && [ "$new" -gt 10 ] || xen_err "policy: not a raise from cap 10: $line" || return 1
  grep -q " verify credit-cap xen:$domid: keep:" "$XEN_TMP/policy.log" \
    || xen_err "policy: the raise was not verified and kept" || return 1
  xl sched-credit2 -d "$name" >&2
  cap=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $NF }')
  [ "$cap" = "$new" ] || xen_err "policy: xl sched-credit2 shows cap '$cap', not the $new applied" || return 1
  "$dump" xen 3 2000 > "$XEN_TMP/policy-after.txt" 2> "$XEN_TMP/policy-after.err" \
    || { cat "$XEN_TMP/policy-after.err" >&2; xen_err "policy: monitor_dump failed"; return 1; }
  after=$(guest_field "$XEN_TMP/policy-after.txt" cpu_pct)
  xen_note "policy: cap 10 -> $new by rvmig-policy --policy --apply; guest cpu_pct $before -> $after"
  awk -v a="$after" -v b="$before" 'BEGIN { exit !(a > 15 && a > b) }' \
    || xen_err "policy: guest cpu_pct $after after the raise is not above 15 and $before" || return 1
}

# xen_vcpus_check ACT_RUN: the vCPU-count actuator on dom0 (the one domain
# here with two vCPUs): vcpus 1 through act_run, xl vcpu-list shows one
# online; undone, two again.
xen_vcpus_check() {
  local act=$1 line on
  online0() { xl vcpu-list 0 | awk '$2 == 0 && $4 != "-" && $3 ~ /^[0-9]+$/ { n++ } END { print n + 0 }'; }
  coproc VC { "$act" xen:0 vcpus 1 --undo 2>&1; }
  read -r -t 120 line <&"${VC[0]}" || xen_err "vcpus: act_run vcpus printed nothing" || return 1
  xen_note "vcpus: $line"
  xl vcpu-list 0 >&2
  on=$(online0)
  echo >&"${VC[1]}"
  read -r -t 120 line <&"${VC[0]}" || xen_err "vcpus: no undo line from act_run" || return 1
  xen_note "vcpus: $line"
  wait "$VC_PID" || xen_err "vcpus: act_run vcpus failed" || return 1
  [ "$on" = 1 ] || xen_err "vcpus: xl vcpu-list shows $on vCPUs of dom0 online after vcpus 1" || return 1
  on=$(online0)
  [ "$on" = 2 ] || xen_err "vcpus: $on vCPUs of dom0 online after the undo, not 2" || return 1
}
