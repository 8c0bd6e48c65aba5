#!/usr/bin/env bash
# unit.policy.apply_policy: rvmig-policy --policy FILE --apply carries a
# plan out on this host's real cgroups, with real busy loops (issue 17).
# Each case makes a fresh CPU cgroup (v1 cpu hierarchy, or v2 with the cpu
# controller) capped at 0.1 CPU with a busy loop in it, promised a 0.5-CPU
# floor by a policy file (cpu.max range 0.1..1.5 CPU), and runs
# `rvmig-policy --policy F --apply --watch cgroup:DIR`:
#   raise     the cap is raised (apply ... 0.100 CPU -> X), the group's quota
#             file holds X, and the next observations keep it (verify: keep);
#   rollback  the loop is pinned to one CPU at weight 300 (v2 units); when the
#             tool has applied its raise, two loops pinned to the same CPU at
#             the highest weight start beside it: the group gets less CPU
#             after the raise than before, the verification says undo and
#             the quota file holds 0.1 CPU again;
#   no ping-pong  the loop runs 2 s and sleeps 2 s over and over; dwell 3 s
#             and a 60-s cool-down: one action in 20 s, kept or undone, and
#             no second.
# Checked as directions (more / less CPU), not figures: the host is shared.
# About 60 s.  Needs root and taskset.  Usage: apply_policy.sh RVMIG_POLICY
set -euo pipefail
policy=${1:?usage: apply_policy.sh RVMIG_POLICY}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/scratch.sh"
die() { echo "apply_policy: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (CPU cgroups)"
command -v taskset >/dev/null 2>&1 || die "taskset not installed (util-linux)"

v2root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
v1root=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ { print $2; exit }' /proc/mounts)
# mkgroup NAME WEIGHT(1..10000, v2 units) QUOTA_US|max: prints the directory
# (called in $(...): the groups are found again by their names on exit)
mkgroup() {
  local g
  if [ -n "$v1root" ] && [ -f "$v1root/cpu.cfs_quota_us" ]; then
    g="$v1root/rvmig-test-$1-$$"
    mkdir "$g"
    echo $(($2 * 1024 / 100 > 2 ? $2 * 1024 / 100 : 2)) >"$g/cpu.shares"
    echo 100000 >"$g/cpu.cfs_period_us"
    [ "$3" = max ] && echo -1 >"$g/cpu.cfs_quota_us" || echo "$3" >"$g/cpu.cfs_quota_us"
  elif [ -n "$v2root" ] && grep -qw cpu "$v2root/cgroup.controllers"; then
    grep -qw cpu "$v2root/cgroup.subtree_control" || echo +cpu >"$v2root/cgroup.subtree_control"
    g="$v2root/rvmig-test-$1-$$"
    mkdir "$g"
    echo "$2" >"$g/cpu.weight"
    echo "$3 100000" >"$g/cpu.max"
  else
    die "no cgroup with the cpu controller"
  fi
  echo "$g"
}
quota_us() { # the group's quota in microseconds per 100-ms period, or max
  if [ -f "$1/cpu.cfs_quota_us" ]; then
    local q; q=$(cat "$1/cpu.cfs_quota_us"); [ "$q" = -1 ] && echo max || echo "$q"
  else
    awk '{ print $1 }' "$1/cpu.max"
  fi
}
group_empty() { ! grep -q . "$1/cgroup.procs"; }
cleanup_extra() {
  local g
  for g in "${v1root:-/nonexistent}"/rvmig-test-*-$$ "${v2root:-/nonexistent}"/rvmig-test-*-$$; do
    [ -d "$g" ] || continue
    xargs -r kill <"$g/cgroup.procs" 2>/dev/null || true
    wait_for 5 group_empty "$g" || echo "apply_policy: processes left in $g" >&2
    rmdir "$g" || echo "apply_policy: could not remove $g" >&2
  done
}
# burn GROUP [CPU] [PATTERN]: a loop in GROUP (pinned to CPU), busy all the
# time or, with PATTERN "osc", 2 s busy and 2 s asleep
burn() {
  local pin=() prog='while :; do :; done'
  [ -n "${2:-}" ] && pin=(taskset -c "$2")
  [ "${3:-}" = osc ] &&
    prog='while :; do e=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $e ]; do :; done; sleep 2; done'
  sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' burn "$1" "${pin[@]}" sh -c "$prog" &
  pids+=($!)
}
write_policy() { # FILE GROUP
  cat >"$1" <<EOF
[decider]
dwell = 3s
domain_cooldown = 60s
global_cooldown = 1s

[domain loop]
match = name $2
sla = cpu 0.5
cpu.max = 0.1 1.5 0.1
EOF
}
count() { grep -c "$1" "$2" || true; }
has_apply() { grep -q '^t=[0-9.]* apply cgroup-cpu-max' "$1"; }

# --- raise ---------------------------------------------------------------------
g=$(mkgroup raise 1000 10000)
burn "$g"
write_policy "$tmp/raise.policy" "$g"
"$policy" --policy "$tmp/raise.policy" --apply --watch "cgroup:$g" --interval 1 --duration 40 \
  --once >"$tmp/raise.log" 2>&1 || { cat "$tmp/raise.log"; die "raise: rvmig-policy failed"; }
cat "$tmp/raise.log"
line=$(grep '^t=[0-9.]* apply cgroup-cpu-max' "$tmp/raise.log") || die "raise: nothing applied"
new=$(sed -n 's/.* -> \([0-9.]*\) CPU$/\1/p' <<<"$line")
[ -n "$new" ] || die "raise: no new value in: $line"
q=$(quota_us "$g")
[ "$q" != max ] && [ "$q" -gt 10000 ] || die "raise: quota $q us, not above 0.1 CPU"
awk -v q="$q" -v n="$new" 'BEGIN { exit !(q / 100000 > n - 0.002 && q / 100000 < n + 0.002) }' ||
  die "raise: the log says $new CPU, the quota file $q us per 100 ms"
grep -q "^t=[0-9.]* verify cgroup-cpu-max cgroup:$g: keep:" "$tmp/raise.log" ||
  die "raise: the raise was not kept"
echo "apply_policy: raise: quota 0.1 -> $new CPU, read back $q us, kept"

# --- rollback --------------------------------------------------------------------
g=$(mkgroup undo 300 10000)
rival=$(mkgroup rival 10000 max)
burn "$g" 0
write_policy "$tmp/undo.policy" "$g"
"$policy" --policy "$tmp/undo.policy" --apply --watch "cgroup:$g" --interval 1 --duration 40 \
  --once >"$tmp/undo.log" 2>&1 &
tool=$!
pids+=("$tool")
wait_for 30 has_apply "$tmp/undo.log" || { cat "$tmp/undo.log"; die "rollback: nothing applied in 30 s"; }
burn "$rival" 0
burn "$rival" 0
wait "$tool" || { cat "$tmp/undo.log"; die "rollback: rvmig-policy failed"; }
cat "$tmp/undo.log"
grep -q "^t=[0-9.]* verify cgroup-cpu-max cgroup:$g: undo:" "$tmp/undo.log" ||
  die "rollback: the verification did not say undo"
grep -q "^t=[0-9.]* undo cgroup-cpu-max cgroup:$g .* -> 0.100 CPU$" "$tmp/undo.log" ||
  die "rollback: no undo line back to 0.100 CPU"
q=$(quota_us "$g")
[ "$q" = 10000 ] || die "rollback: quota $q us after the undo, not 10000"
echo "apply_policy: rollback: raised, starved by the rivals, undone; quota read back $q us"
xargs -r kill <"$rival/cgroup.procs"

# --- no ping-pong ---------------------------------------------------------------
g=$(mkgroup osc 1000 10000)
burn "$g" "" osc
write_policy "$tmp/osc.policy" "$g"
"$policy" --policy "$tmp/osc.policy" --apply --watch "cgroup:$g" --interval 1 --duration 20 \
  >"$tmp/osc.log" 2>&1 || { cat "$tmp/osc.log"; die "oscillating: rvmig-policy failed"; }
cat "$tmp/osc.log"
n=$(count '^t=[0-9.]* apply ' "$tmp/osc.log")
[ "$n" = 1 ] || die "oscillating: $n actions applied in 20 s, expected 1 (dwell, cool-down)"
grep -q '^t=[0-9.]* stop: 1 applied' "$tmp/osc.log" || die "oscillating: no stop summary"
echo "apply_policy: oscillating load: 1 action in 20 s"
echo "apply_policy: PASS"
