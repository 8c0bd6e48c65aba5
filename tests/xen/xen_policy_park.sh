#!/bin/bash
# xen.policy_park_tcp: a save and a restore that rvmig-policy plans are
# executed with --apply through the store on this host (issue 17), inside
# the Xen VM:
#   1. a PV tick guest burns a CPU (RVMIG_XEN_GUEST_EXTRA=rvmig.burn); the
#      host "dom0" recorded with rvmig-top --record (the Xen backend, every
#      domain) while two busy loops run in dom0: three busy CPUs' worth on 2,
#      overloaded, and no other host to migrate to;
#   2. rvmig-policy --apply --policy P --trace dom0.tsv --host dom0: the
#      plan ends where the save of the guest (save = yes) to the store
#      "disk" is decided (due: overloaded at two samples, the dwell 1 s);
#      Domain-0's cpu SLA gains what the guest gives back.  Executed:
#      rvmig-recv of the store on 127.0.0.1 (port 0) writing
#      store/NAME.ckpt, rvmig-save DOMID into it; checked: the guest is
#      gone, the checkpoint is an xl save file of its memory, the run is in
#      the runs file;
#   3. dom0 recorded again, the busy loops stopped, the guest gone; the
#      trace now ends at its first sample with rates after the save, where
#      the restore on dom0 (room for the guest) is decided;
#   4. rvmig-policy --apply on that trace: the save (decided earlier, not
#      due) is not redone, the restore is executed: xl restore of the
#      store's file; checked: the guest runs again with a new id, ticks on
#      from its last tick before the save (not a fresh boot), the
#      checkpoint removed, the restore in the runs file;
#   5. the same --apply again: refused (no checkpoint of the guest in the
#      store: it was restored), exit 1, the guest untouched.
# With --live (xen.policy_park_live_tcp), the live loop instead of traces:
# rvmig-policy --policy P --apply --backend xen --host dom0 runs while the
# two busy loops do and decides the save; the busy loops are stopped then,
# the loop carries the save out and, dom0 having room again, restores the
# guest; checked as in 2 and 4, then the loop is stopped (SIGTERM) and
# must say 2 actions applied.
# Every figure printed (predicted vs measured time of the save and the
# restore).
#   xen_policy_park.sh [--live] RVMIG_POLICY RVMIG_TOP RVMIG_SAVE RVMIG_RECV CALIB_CSV
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
live=0
[[ ${1:-} == --live ]] && { live=1; shift; }
policy=${1:?usage: xen_policy_park.sh [--live] RVMIG_POLICY RVMIG_TOP RVMIG_SAVE RVMIG_RECV CALIB_CSV}
top=${2:?rvmig-top} save=${3:?rvmig-save} recv=${4:?rvmig-recv} calib=${5:?parallel.csv}
t_start=$(xen_now)
BURN1='' BURN2='' LOOP=''
cleanup() {
  local p
  for p in "$BURN1" "$BURN2" "$LOOP"; do
    [[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1
key=$XEN_TMP/store.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key" && chmod 600 "$key" || exit 1
store=$XEN_TMP/store
mkdir "$store" || exit 1

name=rvmig-pp-$$
RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$name" pv || exit 1
grep -aq "rvmig-guest: burning CPU" "$(xen_console_log "$name")" \
  || xen_err "the guest did not start its busy loop" || exit 1
domid=$(xl domid "$name") || exit 1
mem=$(xl list "$name" | awk 'NR == 2 { print $3 * 1048576 }')
xen_note "guest $name is domain $domid ($mem bytes)"

# busy_start / busy_stop: two busy loops in dom0, niced: they keep dom0's
# two vCPUs busy (what the monitor sees) but yield to the tools under test
busy_start() {
  nice -n 19 sh -c 'while :; do :; done' &
  BURN1=$!
  nice -n 19 sh -c 'while :; do :; done' &
  BURN2=$!
}
busy_stop() {
  local i
  for i in "$BURN1" "$BURN2"; do
    [[ -n $i ]] && kill "$i" && wait "$i" 2>/dev/null
  done
  BURN1='' BURN2=''
}

# record FILE BUSY: dom0's samples (the first without rates, then two) into
# FILE, with the busy loops in dom0 meanwhile when BUSY is 1.
record() {
  local file=$1
  rm -f "$file"
  (($2)) && busy_start
  "$top" -b --backend xen -d 2 -i 2 --record "$file" > "$file.txt" 2>&1 \
    || { busy_stop; cat "$file.txt" >&2; xen_err "rvmig-top --backend xen --record failed"; return 1; }
  busy_stop
  sed 's/^/  | /' "$file.txt" >&2
}

# the live loop: a restore no sooner than 60 s after the save, and the
# restored guest not saved again within 60 s (its cool-down follows it
# to its new id); the traces: the restore at the first sample after it
dcool=1s
((live)) && dcool=60s
cat > "$XEN_TMP/park.policy" <<EOF
# dom0 with a burning guest and two busy loops in dom0 is above 0.9 x its
# 2 CPUs at both of its samples (the dwell); there is no other host, and
# the guest may not migrate: the only relief is to save it to the store.
# Domain-0 (cpu SLA 1.5) gets back what the guest gives; the guest's own
# utility (cpu SLA 2, far from met) is what the save costs it.
[decider]
dwell = 1s
global_cooldown = 0s
domain_cooldown = $dcool
cost_per_downtime = 0.0001
cost_per_duration = 0.0001

[migration]
overload = 0.9
fill = 0.9
calibrate = $calib tcp
store = disk
store_dir = $store
transport = tcp
rvmig_save = $save
rvmig_recv = $recv
key_file = $key
deadline_min = 300s
deadline_max = 900s
runs = $XEN_TMP/runs.csv

[domain dom0]
host = dom0
match = name Domain-0
sla = cpu 1.5

[domain guest]
host = dom0
match = name $name
sla = cpu 2
save = yes
memory = $mem
EOF
sed 's/^/  | /' "$XEN_TMP/park.policy" >&2
ckpt=$store/$name.ckpt

# check_saved LINE: after the save LINE reported: the guest gone, its
# checkpoint alone in the store, the run recorded; the tick it stopped at
# kept (the restored guest logs to the console file of its name again,
# after this mark).
check_saved() {
  ! xen_domain_exists "$name" || xen_err "guest $name is still here after the save" || return 1
  check_save_file "$ckpt" || return 1
  [[ $(ls -A "$store") == "$name.ckpt" ]] || { ls -la "$store" >&2; xen_err "the store holds more than the checkpoint"; return 1; }
  grep -q ",save,tcp,$name,.*,ok$" "$XEN_TMP/runs.csv" \
    || { cat "$XEN_TMP/runs.csv" >&2; xen_err "the runs file has no ok save of $name"; return 1; }
  XEN_LAST_TICK=$(last_tick "$name")
  XEN_LOG_MARK[$name]=$(stat -c %s "$(xen_console_log "$name")" 2>/dev/null || echo 0)
  xen_note "saved after tick $XEN_LAST_TICK: ${1#*: }"
}

# check_restored LINE: after the restore LINE reported: the guest runs
# with the new id LINE names, ticking on; the checkpoint gone; the run
# recorded.  Sets newid.
check_restored() {
  newid=$(sed -n 's/.*running on this host as domain \([0-9]*\): checked .*/\1/p' <<<"$1")
  [[ -n $newid && $newid != "$domid" && $(xl domid "$name") == "$newid" ]] \
    || xen_err "the restore reported domain '$newid'; xl domid $name says $(xl domid "$name" 2>&1)" || return 1
  assert_running "$name" || return 1
  [[ ! -e $ckpt ]] || xen_err "the checkpoint $ckpt is still there after a verified restore" || return 1
  grep -q ",restore,tcp,$name,.*,ok$" "$XEN_TMP/runs.csv" \
    || { cat "$XEN_TMP/runs.csv" >&2; xen_err "the runs file has no ok restore of $name"; return 1; }
  sed 's/^/  runs | /' "$XEN_TMP/runs.csv" >&2
}

# figures SAVE_LINE RESTORE_LINE
figures() {
  local l measured predicted
  for l in "$@"; do
    read -r measured predicted < <(sed -n 's/.*done in \([0-9.]*\) s (predicted \([0-9.]*\) s).*/\1 \2/p' <<<"$l")
    xen_note "FIGURE ${l#* } (measured/predicted $(awk -v m="$measured" -v p="$predicted" 'BEGIN { printf "%.1f", (p > 0 ? m / p : 0) }'))"
  done
}

# wait_line PATTERN SEC: the first line of the live loop's log matching
# PATTERN, within SEC s while the loop runs and nothing failed; sets line.
wait_line() {
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do
    line=$(grep -m1 -e "$1" "$XEN_TMP/live.log") && return 0
    grep -q -e ': failed' -e ': refused' "$XEN_TMP/live.log" && break
    kill -0 "$LOOP" 2>/dev/null || break
    sleep 2
  done
  sed 's/^/  | /' "$XEN_TMP/live.log" >&2
  xen_err "no line '$1' from the live loop within $2 s"
}

if ((live)); then
  busy_start
  t0=$(xen_now)
  "$policy" --policy "$XEN_TMP/park.policy" --apply --backend xen --host dom0 --interval 2 \
    --duration 1200 > "$XEN_TMP/live.log" 2>&1 &
  LOOP=$!
  wait_line "decide save guest (domain $name id $domid on dom0) to the store disk" 300 || exit 1
  xen_time "live loop: start to the save decided" "$(xen_elapsed "$t0")"
  # the load goes away: once the guest is saved, dom0 has room for it
  busy_stop
  wait_line " save guest (xen:$domid $name) -> store disk: done in " 600 || exit 1
  save_line=$line
  xen_time "live loop: start to saved" "$(xen_elapsed "$t0")"
  check_saved "$save_line" || exit 1
  wait_line " restore guest ($name) on dom0: done in " 600 || exit 1
  restore_line=$line
  xen_time "live loop: start to restored" "$(xen_elapsed "$t0")"
  # stopped at once (its next state): dom0 under TCG may be overloaded
  # again with the guest back (a run saw Domain-0 alone at 1.6 CPUs), and
  # the loop would save the guest again once its 60-s cool-down is over
  kill -TERM "$LOOP"
  wait "$LOOP"
  rc=$?
  LOOP=''
  sed 's/^/  | /' "$XEN_TMP/live.log" >&2
  ((rc == 0)) || xen_err "the live loop exited $rc after SIGTERM" || exit 1
  grep -q "stop: 2 applied" "$XEN_TMP/live.log" || xen_err "the live loop did not count 2 actions applied" || exit 1
  check_restored "$restore_line" || exit 1
  figures "$save_line" "$restore_line"
  destroy_guest "$name" || exit 1
  xen_note "PASS the live loop (rvmig-policy --policy --apply --backend xen) saved $name (domain $domid) to the store and restored it as domain $newid; total $(xen_elapsed "$t_start") s"
  exit 0
fi
record "$XEN_TMP/dom0.tsv" 1 || exit 1

# apply N TRACE: rvmig-policy --apply on TRACE, its log in apply$N.log;
# sets rc.
apply() {
  local t0
  t0=$(xen_now)
  "$policy" --apply --policy "$XEN_TMP/park.policy" --trace "$2" --host dom0 > "$XEN_TMP/apply$1.log" 2>&1
  rc=$?
  xen_time "rvmig-policy --apply $1" "$(xen_elapsed "$t0")"
  sed 's/^/  | /' "$XEN_TMP/apply$1.log" >&2
}

# 2: the save
apply 1 "$XEN_TMP/dom0.tsv"
((rc == 0)) || xen_err "rvmig-policy --apply (the save) exited $rc" || exit 1
grep -q "(due)  guest (domain $name id $domid on dom0): save to disk" "$XEN_TMP/apply1.log" \
  || xen_err "the plan has no due save of $name (domain $domid) to disk" || exit 1
save_line=$(grep -m1 " save guest (xen:$domid $name) -> store disk: done in " "$XEN_TMP/apply1.log") \
  || xen_err "rvmig-policy did not report the save done" || exit 1
grep -q "^applied 1 of the plan's saves and restores" "$XEN_TMP/apply1.log" \
  || xen_err "rvmig-policy did not apply exactly one save" || exit 1
check_saved "$save_line" || exit 1

# 3: dom0 again, quiet, the guest gone; the trace up to the first sample
# with rates after the save
record "$XEN_TMP/after.tsv" 0 || exit 1
first=$(awk -F'\t' '$1 == "H" && $3 > 0 { print $2; exit }' "$XEN_TMP/after.tsv")
[[ -n $first ]] || xen_err "no sample with rates after the save" || exit 1
{ cat "$XEN_TMP/dom0.tsv"; awk -F'\t' -v e="$first" '/^#/ || $2 <= e' "$XEN_TMP/after.tsv"; } > "$XEN_TMP/dom0-2.tsv"

# 4: the restore
apply 2 "$XEN_TMP/dom0-2.tsv"
((rc == 0)) || xen_err "rvmig-policy --apply (the restore) exited $rc" || exit 1
grep -q "(due)  guest (domain $name id $domid on dom0): restore on dom0" "$XEN_TMP/apply2.log" \
  || xen_err "the plan has no due restore of $name on dom0" || exit 1
! grep -q " save guest .*: done in " "$XEN_TMP/apply2.log" \
  || xen_err "the save, decided earlier in the trace, was carried out again" || exit 1
restore_line=$(grep -m1 " restore guest ($name) on dom0: done in " "$XEN_TMP/apply2.log") \
  || xen_err "rvmig-policy did not report the restore done" || exit 1
check_restored "$restore_line" || exit 1

# 5: the same plan again: the checkpoint is gone, refused
apply 3 "$XEN_TMP/dom0-2.tsv"
((rc == 1)) || xen_err "a second restore of the same plan exited $rc, not 1" || exit 1
grep -q "restore guest: failed after .*no checkpoint of $name in the store: $ckpt" "$XEN_TMP/apply3.log" \
  || xen_err "the second restore did not say that the store has no checkpoint" || exit 1
[[ $(xl domid "$name") == "$newid" ]] || xen_err "the guest changed under a refused restore" || exit 1

figures "$save_line" "$restore_line"
destroy_guest "$name" || exit 1
xen_note "PASS rvmig-policy --apply saved $name (domain $domid) to the store and restored it as domain $newid; total $(xen_elapsed "$t_start") s"
