# shellcheck shell=bash
# tests/xen/xen_apply.sh - rvmig-policy --apply and its Xen actuator on a
# real Xen guest (issue 17), sourced by xen_monitor.sh, which has booted a
# guest that burns CPU: the one-domain loop and a policy file raising its
# credit2 cap, the actuator's weight, pinning and vCPU count.

# xen_cap_raise NAME DOMID DUMP TAG CMD...: the guest capped at 10 %
# (xl sched-credit2 -c 10) and the monitor (DUMP = monitor_dump) measuring
# it near that, CMD (an rvmig-policy that should raise the cap) runs, then:
#   1. it applied a credit-cap raise from 10 % to domain DOMID, logged old
#      -> new, verified it and kept it (no undo);
#   2. xl sched-credit2 -d shows the new cap;
#   3. the monitor sees the guest's CPU follow: above 15 % and above the
#      capped measurement (TCG on a shared host: a direction, not a figure).
# TAG names the check in messages and files.
xen_cap_raise() {
  local name=$1 domid=$2 dump=$3 tag=$4 line new cap before after
  shift 4
  xl sched-credit2 -d "$name" -c 10 || xen_err "$tag: xl sched-credit2 -c 10 failed" || return 1
  sleep 1
  "$dump" xen 3 2000 > "$XEN_TMP/$tag-before.txt" 2> "$XEN_TMP/$tag-before.err" \
    || { cat "$XEN_TMP/$tag-before.err" >&2; xen_err "$tag: monitor_dump failed"; return 1; }
  before=$(guest_field "$XEN_TMP/$tag-before.txt" cpu_pct)
  xen_note "$tag: guest capped at 10: cpu_pct $before"
  "$@" > "$XEN_TMP/$tag.log" 2>&1 \
    || { cat "$XEN_TMP/$tag.log" >&2; xen_err "$tag: rvmig-policy failed"; return 1; }
  sed 's/^/  | /' "$XEN_TMP/$tag.log" >&2
  line=$(grep -m1 " apply credit-cap xen:$domid " "$XEN_TMP/$tag.log") \
    || xen_err "$tag: rvmig-policy applied no credit-cap change" || return 1
  new=$(sed -n 's/.*: cap 10% -> cap \([0-9]*\)%$/\1/p' <<<"$line")
  [ -n "$new" ] && [ "$new" -gt 10 ] || xen_err "$tag: not a raise from cap 10: $line" || return 1
  grep -q " verify credit-cap xen:$domid: keep:" "$XEN_TMP/$tag.log" \
    || xen_err "$tag: the raise was not verified and kept" || return 1
  ! grep -q " undo " "$XEN_TMP/$tag.log" || xen_err "$tag: the raise was rolled back" || return 1
  xl sched-credit2 -d "$name" >&2
  cap=$(xl sched-credit2 -d "$name" | awk -v d="$domid" '$(NF-2) == d { print $NF }')
  [ "$cap" = "$new" ] || xen_err "$tag: xl sched-credit2 shows cap '$cap', not the $new applied" || return 1
  "$dump" xen 3 2000 > "$XEN_TMP/$tag-after.txt" 2> "$XEN_TMP/$tag-after.err" \
    || { cat "$XEN_TMP/$tag-after.err" >&2; xen_err "$tag: monitor_dump failed"; return 1; }
  after=$(guest_field "$XEN_TMP/$tag-after.txt" cpu_pct)
  xen_note "$tag: cap 10 -> $new by rvmig-policy; guest cpu_pct $before -> $after"
  awk -v a="$after" -v b="$before" 'BEGIN { exit !(a > 15 && a > b) }' \
    || xen_err "$tag: guest cpu_pct $after after the raise is not above 15 and $before" || return 1
}

# xen_apply_check NAME DOMID POLICY DUMP: the one-domain loop,
# rvmig-policy --apply --target xen:DOMID with a CPU-share floor SLA of 0.5
# CPU, raises the capped guest's credit2 cap (xen_cap_raise).  The loop
# stops once the action is judged (--once), at the latest after 240 s: each
# xl call takes 2-12 s in the emulated dom0 (an apply is four of them: 7-20 s
# measured), then 1 + 3 observations.  Returns 0 or 1 (xen_err said why).
xen_apply_check() {
  xen_cap_raise "$1" "$2" "$4" apply "$3" --apply --target "xen:$2" --sla floor:0.5 --interval 1 \
    --dwell 2 --cooldown 300 --verify 3 --settle 1 --once --duration 240
}

# xen_apply_policy_check NAME DOMID POLICY DUMP: the same raise from a
# policy file (issue 17): rvmig-policy --policy FILE --apply --backend xen,
# the monitor's xen backend giving the states, the file naming the guest by
# its id with a 0.5-CPU floor and a credit2 cap range of 10..100 %; the tool
# reads the cap from xl before deciding (xen_cap_raise).
xen_apply_policy_check() {
  printf '%s\n' "[decider]" "dwell = 2s" "domain_cooldown = 300s" "global_cooldown = 1s" \
    "[domain guest]" "match = id $2" "sla = cpu 0.5" "credit.cap = 10 100 10" \
    > "$XEN_TMP/guest.policy"
  xen_cap_raise "$1" "$2" "$4" policy "$3" --policy "$XEN_TMP/guest.policy" --apply --backend xen \
    --interval 1 --verify 3 --settle 1 --once --duration 240
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

# xen_vcpus_check ACT_RUN: the vCPU-count actuator on dom0 (the one domain
# here with two vCPUs): vcpus 1 through act_run, xl vcpu-list shows one
# online.  Then dom0 is given its second vCPU back by hand, as its udev
# would do (xl vcpu-set 0 2 makes it available, the kernel onlines it only
# when told: the actuator's read-back of a raise waits for the guest).
xen_vcpus_check() {
  local act=$1 line on
  online0() { xl vcpu-list 0 | awk '$2 == 0 && $4 != "-" && $3 ~ /^[0-9]+$/ { n++ } END { print n + 0 }'; }
  line=$("$act" xen:0 vcpus 1 2>&1) || { echo "$line" >&2; xen_err "vcpus: act_run vcpus 1 failed"; return 1; }
  xen_note "vcpus: $line"
  xl vcpu-list 0 >&2
  on=$(online0)
  xl vcpu-set 0 2 && echo 1 > /sys/devices/system/cpu/cpu1/online \
    || xen_err "vcpus: could not give dom0 its second vCPU back" || return 1
  [ "$on" = 1 ] || xen_err "vcpus: xl vcpu-list shows $on vCPUs of dom0 online after vcpus 1" || return 1
  for _ in $(seq 150); do [ "$(online0)" = 2 ] && break; sleep 0.2; done # 30 s at most
  [ "$(online0)" = 2 ] || xen_err "vcpus: dom0 has $(online0) vCPUs online 30 s after it was given 2" || return 1
}
