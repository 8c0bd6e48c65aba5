#!/usr/bin/env bash
# unit.policy.live_dryrun: rvmig-policy --live (without --apply) decides but
# writes nothing, and its samples input is followed and checked.  A fresh
# CPU cgroup capped at 0.05 CPU with nothing in it; a samples file whose
# rows say p99 90 ms at 2000 req/s (SLA 20 ms):
#   1. the dry run decides a cgroup-cpu-max raise, says it is not applied,
#      and the group's quota file still holds 0.05 CPU (no apply line);
#   2. a row without its newline yet is not read; once completed it is;
#   3. a malformed row stops the loop (status 1) with its line and column
#      named.
# A few seconds.  Needs root (a cgroup).  Usage: live_dryrun.sh RVMIG_POLICY
set -euo pipefail
policy=${1:?usage: live_dryrun.sh RVMIG_POLICY}
. "$(dirname "$0")/../lib/scratch.sh"
die() { echo "live_dryrun: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (a CPU cgroup)"

v1root=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ { print $2; exit }' /proc/mounts)
v2root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -n "$v1root" ] && [ -f "$v1root/cpu.cfs_quota_us" ]; then
  cg="$v1root/rvmig-test-dryrun-$$" qf=cpu.cfs_quota_us want=5000
  mkdir "$cg" && echo 100000 >"$cg/cpu.cfs_period_us" && echo 5000 >"$cg/$qf"
elif [ -n "$v2root" ] && grep -qw cpu "$v2root/cgroup.controllers"; then
  grep -qw cpu "$v2root/cgroup.subtree_control" || echo +cpu >"$v2root/cgroup.subtree_control"
  cg="$v2root/rvmig-test-dryrun-$$" qf=cpu.max want="5000 100000"
  mkdir "$cg" && echo "5000 100000" >"$cg/$qf"
else
  die "no cgroup with the cpu controller"
fi
cleanup_extra() { rmdir "$cg" 2>/dev/null || echo "live_dryrun: could not remove $cg" >&2; }

s="$tmp/samples.csv"
row='nginx,t,0.05,2000,1200.0,1.000,90.000,8.000,0,2.000'
{ echo "# made by live_dryrun.sh"
  echo "app,scenario,cpu_share,offered_rps,achieved_rps,p50_ms,p99_ms,mean_ms,errors,duration_s"
  echo "$row"; echo "$row"; printf '%s' "${row%,*}"; } >"$s"

"$policy" --live --target "cgroup:$cg" --sla p99:20 --samples "$s" --capacity 1664,8319 \
  --interval 0.2 --dwell 0.5 --duration 6 >"$tmp/log" 2>"$tmp/err" & p=$!
pids+=("$p")
observed() { [ "$(grep -c ' observe ' "$tmp/log")" = "$1" ]; }
wait_for 5 grep -q ' decide ' "$tmp/log" || { cat "$tmp/log" "$tmp/err" >&2; die "no decision"; }
n=$(grep -c ' observe ' "$tmp/log")
[ "$n" = 2 ] || { cat "$tmp/log" >&2; die "$n observations before the third row was complete, want 2"; }
printf ',2.000\n' >>"$s"
wait_for 3 observed 3 || { cat "$tmp/log" >&2; die "the completed row was not read"; }
echo 'nginx,t,0.05,2000,1200.0,1.000,1e999,8.000,0,2.000' >>"$s"
st=0; wait "$p" || st=$?
sed 's/^/  | /' "$tmp/log" "$tmp/err"
[ "$st" = 1 ] || die "a malformed row: exit status $st, want 1"
grep -q 'samples.csv line 6, column 7 (p99_ms)' "$tmp/err" || die "the malformed row is not named by line and column"
grep -q ' decide raise cgroup-cpu-max .*(dry run: not applied)' "$tmp/log" || die "no dry-run raise"
! grep -q ' apply ' "$tmp/log" || die "a dry run applied something"
[ "$(cat "$cg/$qf")" = "$want" ] || die "$qf changed in a dry run: $(cat "$cg/$qf")"
echo "live_dryrun: ok"
