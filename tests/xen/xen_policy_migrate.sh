#!/bin/bash
# xen.policy_migrate_tcp: a migration that rvmig-policy plans is executed
# with --apply through rvmig (issue 17), inside the Xen VM:
#   1. rvmigd listens on tcp://127.0.0.1 (the destination's daemon); a PVH
#      tick guest burns a CPU (RVMIG_XEN_GUEST_EXTRA=rvmig.burn);
#   2. two hosts as the planner sees them, recorded at the same time with
#      rvmig-top --record: "dom0", the Xen backend (every domain: dom0 and
#      the guest), overloaded by the burning guest (and a busy loop in dom0
#      while it records, so that the overload does not hang on how much CPU
#      TCG gives the guest); and "idle", the Linux backend watching one
#      sleeping process: the same machine standing for a second host with
#      nothing to do, mapped to 127.0.0.1 by the policy file's
#      `host = idle 127.0.0.1`.  Its trace is cut at dom0's first sample
#      with rates, so that the plan ends at dom0's next one, where the
#      migration is decided (due: overloaded at both, the dwell 1 s);
#   3. rvmig-policy --apply --policy P --trace dom0.tsv --host dom0
#      --trace idle.tsv --host idle plans the guest's migration to "idle"
#      (the link calibrated from the committed evaluation's parallel.csv) and
#      executes it: xl migrate -s "rvmig-tunnel ... tcp://%h:PORT" DOMID
#      127.0.0.1;
#   4. the log shows predicted vs measured time and downtime; the guest runs
#      on with a new domain id, its ticks continue from where the source
#      stopped (not a fresh boot), no --migratedaway / --incoming domain is
#      left, and rvmigd saw xl migrate-receive exit 0;
#   5. with MIG_RUN, RVMIG_SAVE and RVMIG_RECV: the executor's save and
#      restore (tests/policy/mig_run): a restore listens (rvmig-recv
#      --listen, ready once its socket listens), the migrated guest is saved
#      into it by rvmig-save and destroyed here, the checkpoint restored by
#      xl restore; the guest runs on from its last tick.
# Every figure printed.
#   xen_policy_migrate.sh RVMIG_POLICY RVMIG_TOP RVMIG_TUNNEL RVMIGD CALIB_CSV
#                         [MIG_RUN RVMIG_SAVE RVMIG_RECV]
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
policy=${1:?usage: xen_policy_migrate.sh RVMIG_POLICY RVMIG_TOP RVMIG_TUNNEL RVMIGD CALIB_CSV}
top=${2:?rvmig-top} tunnel=${3:?rvmig-tunnel} daemon=${4:?rvmigd} calib=${5:?parallel.csv}
mig_run=${6:-} save=${7:-} recv=${8:-}
transport=tcp
t_start=$(xen_now)
XEN_RVMIGD_PID='' IDLE='' BURN='' BPID='' RPID=''
cleanup() {
  local p
  for p in "$RPID" "$BPID" "$BURN" "$IDLE" "$XEN_RVMIGD_PID"; do
    [[ -n $p ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  xen_cleanup
}
trap cleanup EXIT
xen_tmpdir || exit 1
xen_rvmigd_start "$daemon" "$transport" || exit 1
addr=$XEN_ADDR port=$XEN_PORT key=$XEN_KEY

name=rvmig-pm-$$
RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$name" pvh || exit 1
grep -aq "rvmig-guest: burning CPU" "$(xen_console_log "$name")" \
  || xen_err "the guest did not start its busy loop" || exit 1
domid=$(xl domid "$name") || exit 1
xen_note "guest $name is domain $domid"

# The two hosts' traces, recorded at the same time.
sleep 3600 &
IDLE=$!
"$top" -b --backend linux -p "$IDLE" -d 2 -i 60 --record "$XEN_TMP/idle.tsv" > /dev/null 2>&1 &
BPID=$!
sh -c 'while :; do :; done' &
BURN=$!
sleep 3 # the idle host's first sample (rates start at its second)
"$top" -b --backend xen -d 2 -i 2 --record "$XEN_TMP/dom0.tsv" > "$XEN_TMP/dom0.txt" 2>&1 \
  || { cat "$XEN_TMP/dom0.txt" >&2; xen_err "rvmig-top --backend xen --record failed"; exit 1; }
kill "$BURN" "$BPID"
wait "$BURN" "$BPID" 2>/dev/null
BURN='' BPID=''
sed 's/^/  | /' "$XEN_TMP/dom0.txt" >&2
# dom0's samples: the first has no rates, the second starts the overload,
# the third (the dwell later) is where the migration is decided.  The idle
# trace is cut at the second, so that no state comes between them and the
# plan ends at the third (due).
first=$(awk -F'\t' '$1 == "H" && $3 > 0 { print $2; exit }' "$XEN_TMP/dom0.tsv")
end=$(awk -F'\t' '$1 == "H" { t = $2 } END { print t }' "$XEN_TMP/dom0.tsv")
[[ -n $first && $end != "$first" ]] || xen_err "fewer than two samples with rates in the dom0 trace" || exit 1
awk -F'\t' -v e="$first" '/^#/ || $2 <= e' "$XEN_TMP/idle.tsv" > "$XEN_TMP/idle-cut.tsv"
xen_note "traces: dom0 $(grep -c '^H' "$XEN_TMP/dom0.tsv") samples up to $end, idle $(grep -c '^H' "$XEN_TMP/idle-cut.tsv") up to $first"

mem=$(xl list "$name" | awk 'NR == 2 { print $3 * 1048576 }')
cat > "$XEN_TMP/migrate.policy" <<EOF
# dom0 with a burning guest (and a busy loop in dom0 while recording) is
# above 0.9 x its CPUs at both of its samples (the dwell); "idle" takes the
# guest (1.22 CPUs of demand seen: a busy vCPU that also waited) within
# 0.9 x its CPUs.  The guest is the only domain that may migrate.
[decider]
dwell = 1s
global_cooldown = 0s

[migration]
overload = 0.9
fill = 0.9
calibrate = $calib tcp
transport = $transport
port = $port
tunnel = $tunnel
key_file = $key
host = idle $addr
deadline_min = 300s
deadline_max = 900s

[domain guest]
host = dom0
match = name $name
sla = cpu 0.5
migrate = yes
memory = $mem
EOF
sed 's/^/  | /' "$XEN_TMP/migrate.policy" >&2

src_log=$(xen_console_log "$name")
t0=$(xen_now)
"$policy" --apply --policy "$XEN_TMP/migrate.policy" --trace "$XEN_TMP/dom0.tsv" --host dom0 \
  --trace "$XEN_TMP/idle-cut.tsv" --host idle > "$XEN_TMP/apply.log" 2>&1
rc=$?
xen_time "rvmig-policy --apply (plan + migration)" "$(xen_elapsed "$t0")"
sed 's/^/  | /' "$XEN_TMP/apply.log" >&2
((rc == 0)) || { sed 's/^/  | /' "$XEN_TMP/rvmigd.log" >&2; xen_err "rvmig-policy --apply exited $rc"; exit 1; }
grep -q "(due)  guest (domain $name id $domid on dom0): migrate to idle" "$XEN_TMP/apply.log" \
  || xen_err "the plan has no due migration of $name (domain $domid) to idle" || exit 1
done_line=$(grep -m1 " migrate guest (xen:$domid $name) -> idle ($addr): done in " "$XEN_TMP/apply.log") \
  || xen_err "rvmig-policy did not report the migration done" || exit 1
grep -q "^applied 1 migration of the plan" "$XEN_TMP/apply.log" \
  || xen_err "rvmig-policy did not apply exactly one migration" || exit 1
newid=$(sed -n 's/.*running on this host as domain \([0-9]*\)$/\1/p' <<<"$done_line")
[[ -n $newid && $newid != "$domid" ]] || xen_err "no new domain id in: $done_line" || exit 1
[[ $(xl domid "$name") == "$newid" ]] || xen_err "xl domid $name is not $newid" || exit 1
[[ $done_line != *"downtime not measured"* ]] \
  || xen_err "the downtime was not measured (no 'guest has suspended' / 'Domain started' from xl -vvv)" || exit 1
xen_migrated "$name" "$src_log"
if xl list | awk '{ print $1 }' | grep -q -e '--migratedaway$' -e '--incoming$'; then
  xl list >&2
  xen_err "a --migratedaway or --incoming domain is left after the migration"
  exit 1
fi
assert_running "$name" || exit 1
grep -q 'command exited with status 0' "$XEN_TMP/rvmigd.log" \
  || { sed 's/^/  | /' "$XEN_TMP/rvmigd.log" >&2; xen_err "rvmigd did not report xl migrate-receive exiting 0"; exit 1; }
xen_note "policy migration: ${done_line#*: }"

if [[ -n $mig_run ]]; then
  rport=7491 ckpt=$XEN_TMP/$name.ckpt
  listening() { ss -Hltn "sport = :$rport" | grep -q .; }
  ! listening || xen_err "port $rport is taken before the restore listens" || exit 1
  MIG_RUN_RECV=$recv "$mig_run" restore "$transport://$addr:$rport" "$ckpt" "$name" "$key" \
    > "$XEN_TMP/restore.log" 2>&1 &
  RPID=$!
  for ((i = 0; i < 600; i++)); do
    listening || ! kill -0 "$RPID" 2>/dev/null && break
    sleep 0.1
  done
  listening || { sed 's/^/  | /' "$XEN_TMP/restore.log" >&2; xen_err "the restore's rvmig-recv never listened on port $rport"; exit 1; }
  t0=$(xen_now)
  MIG_RUN_SAVE=$save "$mig_run" save "xen:$newid" "$transport://$addr:$rport" "$key" \
    > "$XEN_TMP/save.log" 2>&1
  rc=$?
  sed 's/^/  | /' "$XEN_TMP/save.log" >&2
  ((rc == 0)) || { sed 's/^/  | /' "$XEN_TMP/restore.log" >&2; xen_err "mig_run save exited $rc"; exit 1; }
  # the tick the saved guest stopped at; the restored one logs to the
  # console file of its name again
  XEN_LAST_TICK=$(last_tick "$name")
  XEN_LOG_FILE[$name]=$XEN_CONSOLE_DIR/guest-$name.log
  XEN_LOG_MARK[$name]=$(stat -c %s "${XEN_LOG_FILE[$name]}" 2>/dev/null || echo 0)
  wait "$RPID"
  rc=$?
  RPID=''
  xen_time "save + restore through the executor" "$(xen_elapsed "$t0")"
  sed 's/^/  | /' "$XEN_TMP/restore.log" >&2
  ((rc == 0)) || xen_err "mig_run restore exited $rc" || exit 1
  rid=$(sed -n 's/^restore .*: done in .* s, domain \([0-9]*\)$/\1/p' "$XEN_TMP/restore.log")
  [[ -n $rid && $rid == "$(xl domid "$name")" ]] || xen_err "the restore reported domain '$rid', xl domid says $(xl domid "$name")" || exit 1
  assert_running "$name" || exit 1
  xen_note "executor: $(grep -m1 '^save .*: done in' "$XEN_TMP/save.log"); $(grep -m1 '^restore .*done' "$XEN_TMP/restore.log")"
fi
destroy_guest "$name" || exit 1
xen_note "PASS rvmig-policy --apply migrated $name (domain $domid -> $newid) to idle ($addr) through rvmig-tunnel over $transport${mig_run:+, then saved and restored it through the executor}; total $(xen_elapsed "$t_start") s"
