#!/bin/bash
# xen.policy_migrate_full_tcp (extended) and, with --short,
# xen.policy_migrate_tcp (CI's Xen tier): a migration that rvmig-policy
# plans is executed with --apply through rvmig (issue 17), inside the Xen
# VM:
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
#   2b. the executor's retry (act_migrate.h): --apply with a key rvmigd
#      does not know; the first try, refused before the guest is suspended,
#      is tried again, the second fails the migration, the guest runs on;
#   3. rvmig-policy --apply --policy P --trace dom0.tsv --host dom0
#      --trace idle.tsv --host idle plans the guest's migration to "idle"
#      (the link calibrated from the committed evaluation's parallel.csv) and
#      executes it: xl migrate -s "rvmig-tunnel ... tcp://%h:PORT" DOMID
#      127.0.0.1;
#   4. the log shows predicted vs measured time and downtime (a try that
#      failed and was tried again is accepted only when xl said the guest
#      did not suspend in time); the guest runs
#      on with a new domain id, its ticks continue from where the source
#      stopped (not a fresh boot), no --migratedaway / --incoming domain is
#      left, and rvmigd saw xl migrate-receive exit 0; the run is appended
#      to the policy's runs file;
#   4b. the traces recorded again and the same migration planned and
#      executed a second time, its toolstack cost now fitted to the first
#      run in this VM (rvmig_xfer_fit(3)): predicted vs measured time and
#      downtime printed, the time within 2x (the downtime not bounded:
#      see below why);
#   5. with MIG_RUN, RVMIG_SAVE and RVMIG_RECV: the executor's save and
#      restore (tests/policy/mig_run): a restore listens (rvmig-recv
#      --listen, ready once its socket listens), the migrated guest is saved
#      into it by rvmig-save and destroyed here, the checkpoint restored by
#      xl restore; the guest runs on from its last tick.
# With --verbs (xen.policy_migrate_verbs), all of it over RDMA verbs (rxe0
# in dom0), the link calibrated on the evaluation's verbs runs.
# With --k2 (xen.policy_migrate_k2_tcp), after 4 instead: a second
# burning guest, two idle hosts, and both guests migrated by one --apply
# at the planner's k = 2 (its toolstack cost known from step 4), the
# queue running them at once.
# With --short (xen.policy_migrate_tcp, the CI form): steps 1-4 only, 2b
# left out, and the guest burns only until the traces are recorded:
# rvmig.burn=SECONDS (tests/harness/xen/guest-init; RVMIG_XEN_POLICY_BURN,
# default 600, a bound should the test not stop it) and, once recorded, dom0
# stops the burn with `xl sysrq DOMAIN e`; the guest's "burn stopped" line
# must come after the recording and before the migration.  Why: a PVH guest
# that burns CPU under TCG Xen failed the full form in ways that are TCG's,
# not rvmig's -- it missed libxl 4.17's 60-s suspend timeout (CI stop 25),
# and its kernel panicked in its interrupt entry before any migration (the
# lead's run at 10:27 on 2026-12-07).  The plan is still rvmig-policy's,
# made from the recorded overload, and executed with --apply through
# rvmig-tunnel -> rvmigd over TCP; only what the guest does at migration
# time differs.  The second migration's 2x bound (it broke when the host's
# load changed between the two) and the save + restore (xen.policy_park_tcp
# covers save and restore in CI) stay in the full form.
# Every figure printed.
#   xen_policy_migrate.sh [--short | --k2] [--verbs] RVMIG_POLICY RVMIG_TOP RVMIG_TUNNEL RVMIGD CALIB_CSV
#                         [MIG_RUN RVMIG_SAVE RVMIG_RECV]
. "$(dirname "$0")/xenlib.sh" || exit 1
set -u
k2=0 short=0 transport=tcp
while [[ ${1:-} == --* ]]; do
  case $1 in
    --k2) k2=1 ;;
    --short) short=1 ;;
    --verbs) transport=verbs ;; # the VM started with --rxe: rxe0 in dom0
    *) xen_err "unknown option $1"; exit 2 ;;
  esac
  shift
done
((!(k2 && short))) || { xen_err "--short and --k2 exclude each other"; exit 2; }
policy=${1:?usage: xen_policy_migrate.sh RVMIG_POLICY RVMIG_TOP RVMIG_TUNNEL RVMIGD CALIB_CSV}
top=${2:?rvmig-top} tunnel=${3:?rvmig-tunnel} daemon=${4:?rvmigd} calib=${5:?parallel.csv}
mig_run=${6:-} save=${7:-} recv=${8:-}
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
burn=rvmig.burn
if ((short)); then
  burn_s=${RVMIG_XEN_POLICY_BURN:-600}
  [[ $burn_s =~ ^[1-9][0-9]*$ ]] || { xen_err "RVMIG_XEN_POLICY_BURN '$burn_s' is not a number of seconds"; exit 2; }
  burn=rvmig.burn=$burn_s
fi
RVMIG_XEN_GUEST_EXTRA=$burn start_guest "$name" pvh || exit 1
t_burn=$(xen_now)
grep -aq "rvmig-guest: burning CPU" "$(xen_console_log "$name")" \
  || xen_err "the guest did not start its busy loop" || exit 1
domid=$(xl domid "$name") || exit 1
xen_note "guest $name is domain $domid"

# The two hosts' traces, recorded at the same time (record_traces, run
# before each migration the policy plans).
record_traces() {
  # rvmig-top --record appends to a file that exists: fresh ones each time
  rm -f "$XEN_TMP/idle.tsv" "$XEN_TMP/dom0.tsv" "$XEN_TMP/idle-cut.tsv"
  sleep 3600 &
  IDLE=$!
  "$top" -b --backend linux -p "$IDLE" -d 2 -i 60 --record "$XEN_TMP/idle.tsv" > /dev/null 2>&1 &
  BPID=$!
  sh -c 'while :; do :; done' &
  BURN=$!
  sleep 3 # the idle host's first sample (rates start at its second)
  "$top" -b --backend xen -d 2 -i 2 --record "$XEN_TMP/dom0.tsv" > "$XEN_TMP/dom0.txt" 2>&1 \
    || { cat "$XEN_TMP/dom0.txt" >&2; xen_err "rvmig-top --backend xen --record failed"; return 1; }
  kill "$BURN" "$BPID" "$IDLE"
  wait "$BURN" "$BPID" "$IDLE" 2>/dev/null
  BURN='' BPID='' IDLE=''
  sed 's/^/  | /' "$XEN_TMP/dom0.txt" >&2
  # dom0's samples: the first has no rates, the second starts the
  # overload, the third (the dwell later) is where the migration is
  # decided.  The idle trace is cut at the second, so that no state comes
  # between them and the plan ends at the third (due).
  local first end
  first=$(awk -F'\t' '$1 == "H" && $3 > 0 { print $2; exit }' "$XEN_TMP/dom0.tsv")
  end=$(awk -F'\t' '$1 == "H" { t = $2 } END { print t }' "$XEN_TMP/dom0.tsv")
  [[ -n $first && $end != "$first" ]] || xen_err "fewer than two samples with rates in the dom0 trace" || return 1
  awk -F'\t' -v e="$first" '/^#/ || $2 <= e' "$XEN_TMP/idle.tsv" > "$XEN_TMP/idle-cut.tsv"
  xen_note "traces: dom0 $(grep -c '^H' "$XEN_TMP/dom0.tsv") samples up to $end, idle $(grep -c '^H' "$XEN_TMP/idle-cut.tsv") up to $first"
}
record_traces || exit 1

# --short: the guest's burn must have lasted the whole recording (the
# overload in the traces is the guest's); then dom0 stops it (xl sysrq e:
# SIGTERM to the guest's processes but init) before it is migrated.
stop_burn() {
  local log t0 deadline c0 c1 w0
  log=$(xen_console_log "$name")
  ! grep -aq 'rvmig-guest: burn stopped' "$log" \
    || xen_err "the guest's burn ($burn_s s at most) ended before its traces were recorded (they were done $(xen_elapsed "$t_burn") s after its first tick)" || return 1
  xen_note "traces recorded $(xen_elapsed "$t_burn") s after the guest's first tick, inside its burn"
  t0=$(xen_now)
  xl sysrq "$name" e || xen_err "xl sysrq $name e failed" || return 1
  deadline=$((SECONDS + 60))
  until grep -aq 'rvmig-guest: burn stopped' "$log"; do
    ((SECONDS < deadline)) || { xen_show_diag "$name"; xen_err "the guest's burn did not stop within 60 s of xl sysrq $name e"; return 1; }
    sleep 0.5
  done
  xen_time "the guest's burn stopped (xl sysrq e)" "$(xen_elapsed "$t0")"
  # what the quiet guest uses, for the log (its "burn stopped" line is the
  # check: the burning loop printed it as SIGTERM ended it)
  c0=$(xl list "$name" | awk 'NR == 2 { print $6 }') w0=$(xen_now)
  sleep 2
  c1=$(xl list "$name" | awk 'NR == 2 { print $6 }')
  xen_note "guest $name after its burn: $(awk -v a="$c0" -v b="$c1" -v w="$w0" -v n="$(xen_now)" 'BEGIN { printf "%.2f", (b - a) / (n - w) }') of a CPU over $(xen_elapsed "$w0") s"
}
((!short)) || stop_burn || exit 1

mem=$(xl list "$name" | awk 'NR == 2 { print $3 * 1048576 }')
# write_policy MATCH MAX_CONCURRENT [HOST_LINE...]
write_policy() {
  local match=$1 kmax=$2 h
  shift 2
  {
    cat <<EOF
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
calibrate = $calib $transport
max_concurrent = $kmax
transport = $transport
port = $port
tunnel = $tunnel
key_file = $key
host = idle $addr
deadline_min = 300s
deadline_max = 900s
# every migration --apply carries out is appended here, measured against
# predicted, and read back: the toolstack's fixed cost fitted in this VM
runs = $XEN_TMP/runs.csv
EOF
    for h in "$@"; do echo "host = $h"; done
    cat <<EOF

[domain guest]
host = dom0
match = name $match
sla = cpu 0.5
migrate = yes
memory = $mem
EOF
  } > "$XEN_TMP/migrate.policy"
  sed 's/^/  | /' "$XEN_TMP/migrate.policy" >&2
}
write_policy "$name" 1

# policy_migrate N: rvmig-policy --apply plans the guest's migration to
# "idle" and executes it; checks it as below, sets newid and done_line.
policy_migrate() {
  local n=$1 src_log t0 rc
  src_log=$(xen_console_log "$name")
  t0=$(xen_now)
  "$policy" --apply --policy "$XEN_TMP/migrate.policy" --trace "$XEN_TMP/dom0.tsv" --host dom0 \
    --trace "$XEN_TMP/idle-cut.tsv" --host idle > "$XEN_TMP/apply$n.log" 2>&1
  rc=$?
  xen_time "rvmig-policy --apply $n (plan + migration)" "$(xen_elapsed "$t0")"
  sed 's/^/  | /' "$XEN_TMP/apply$n.log" >&2
  if ((rc != 0)); then
    # rvmigd -v logs each stderr line of xl migrate-receive, and why it exited
    sed 's/^/  rvmigd | /' "$XEN_TMP/rvmigd.log" >&2
    xen_show_diag "$name"
    xen_err "rvmig-policy --apply exited $rc"
    return 1
  fi
  # A try that failed and was tried again (the executor's retry of a
  # migration that left the source intact): accepted here only when xl said
  # the guest did not suspend in time (libxl's 60-s waits, which a busy
  # guest under TCG missed: CI stop 25); any other reason fails the test.
  local retry
  while IFS= read -r retry; do
    xen_note "RETRY $retry"
    [[ $retry == *suspend* ]] \
      || xen_err "migration $n: a try failed for another reason than the guest's suspend" || return 1
  done < <(grep -o 'try [0-9]* of [0-9]* failed: .*' "$XEN_TMP/apply$n.log")
  grep -q "(due)  guest (domain $name id $domid on dom0): migrate to idle" "$XEN_TMP/apply$n.log" \
    || xen_err "the plan has no due migration of $name (domain $domid) to idle" || return 1
  done_line=$(grep -m1 " migrate guest (xen:$domid $name) -> idle ($addr): done in " "$XEN_TMP/apply$n.log") \
    || xen_err "rvmig-policy did not report the migration done" || return 1
  grep -q "^applied 1 migration of the plan" "$XEN_TMP/apply$n.log" \
    || xen_err "rvmig-policy did not apply exactly one migration" || return 1
  grep -q "queue: batch 1, started guest (position 0): 1 of k=1 running" "$XEN_TMP/apply$n.log" \
    || xen_err "no queue line for the migration at k=1" || return 1
  newid=$(sed -n 's/.*running on this host as domain \([0-9]*\): checked .*/\1/p' <<<"$done_line")
  [[ -n $newid && $newid != "$domid" ]] || xen_err "no new domain id in: $done_line" || return 1
  [[ $(xl domid "$name") == "$newid" ]] || xen_err "xl domid $name is not $newid" || return 1
  [[ $done_line != *"downtime not measured"* ]] \
    || xen_err "the downtime was not measured (no 'guest has suspended' / 'Domain started' from xl -vvv)" || return 1
  xen_migrated "$name" "$src_log"
  if xl list | awk '{ print $1 }' | grep -q -e '--migratedaway$' -e '--incoming$'; then
    xl list >&2
    xen_err "a --migratedaway or --incoming domain is left after the migration"
    return 1
  fi
  assert_running "$name" || return 1
  grep -q 'command exited with status 0' "$XEN_TMP/rvmigd.log" \
    || { sed 's/^/  | /' "$XEN_TMP/rvmigd.log" >&2; xen_err "rvmigd did not report xl migrate-receive exiting 0"; return 1; }
  xen_note "policy migration $n: ${done_line#*: }"
}

# 2b: the executor's retry, made to happen: with a key rvmigd does not
# know, every try is refused before the guest is suspended, so the first
# one leaves the source intact and is tried again, and the second fails
# for good; the guest runs on here under its id (the failure goes to a
# runs file of its own: migration 1 must find none).  Not in --short.
wrong_key_retry() {
  local t0 rc
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$XEN_TMP/wrong.key" && chmod 600 "$XEN_TMP/wrong.key"
  sed "s|^key_file = .*|key_file = $XEN_TMP/wrong.key|; s|^runs = .*|runs = $XEN_TMP/runs0.csv|" \
    "$XEN_TMP/migrate.policy" > "$XEN_TMP/wrong-key.policy"
  t0=$(xen_now)
  "$policy" --apply --policy "$XEN_TMP/wrong-key.policy" --trace "$XEN_TMP/dom0.tsv" --host dom0 \
    --trace "$XEN_TMP/idle-cut.tsv" --host idle > "$XEN_TMP/apply0.log" 2>&1
  rc=$?
  xen_time "rvmig-policy --apply with a wrong key (two tries refused)" "$(xen_elapsed "$t0")"
  grep ' migrate \| try \| failed' "$XEN_TMP/apply0.log" | sed 's/^/  | /' >&2
  ((rc != 0)) || xen_err "a migration through a tunnel with a wrong key succeeded" || return 1
  grep -q 'try 1 of 2 failed: .*exit status' "$XEN_TMP/apply0.log" \
    && grep -q "the domain still runs here as domain $domid, no copy left: trying again in 5 s" "$XEN_TMP/apply0.log" \
    || xen_err "the refused first try was not tried again" || return 1
  ! grep -q 'try 2 of' "$XEN_TMP/apply0.log" || xen_err "more than two tries" || return 1
  grep -q "migrate guest: failed after .*exit status" "$XEN_TMP/apply0.log" \
    || xen_err "the second refused try did not fail the migration" || return 1
  [[ $(xl domid "$name") == "$domid" ]] || xen_err "after the refused tries $name is not domain $domid" || return 1
  XEN_LAST_TICK=$(last_tick "$name")
  assert_running "$name" || return 1
}
((short)) || wrong_key_retry || exit 1

# 1: predicted from the evaluation's link alone (another VM): no runs yet.
policy_migrate 1 || exit 1
! grep -q '^TOOLSTACK' "$XEN_TMP/apply1.log" || xen_err "a toolstack cost before any run" || exit 1
[[ $(grep -c ",migrate,$transport," "$XEN_TMP/runs.csv" 2>/dev/null) == 1 ]] \
  || { cat "$XEN_TMP/runs.csv" >&2; xen_err "the runs file does not hold the one migration"; exit 1; }
sed 's/^/  runs | /' "$XEN_TMP/runs.csv" >&2
first_line=$done_line
if ((short)); then
  destroy_guest "$name" || exit 1
  xen_note "FIGURE migration: ${first_line#*done in }"
  xen_note "PASS rvmig-policy --apply migrated $name (domain $domid -> $newid) to idle ($addr) through rvmig-tunnel over $transport, planned from traces of its burn, migrated once quiet; total $(xen_elapsed "$t_start") s"
  exit 0
fi

if ((k2)); then
  # k = 2: a second burning guest; two idle hosts (the same machine again,
  # 127.0.0.1, the idle trace given twice); the planner, knowing the
  # toolstack's fixed cost from run 1, overlaps two migrations (k = 2 under
  # max_concurrent = 2) and the queue runs both at once.
  name2=$name-b
  xl info | awk '$1 == "free_memory" || $1 == "total_memory"' >&2
  free=$(xl info | awk '$1 == "free_memory" { print $3 }')
  ((free >= 4 * ${RVMIG_XEN_GUEST_MEMORY:-96} + 64)) \
    || xen_err "free memory $free MiB: two guests migrating to this host need 4 x ${RVMIG_XEN_GUEST_MEMORY:-96} MiB" || exit 1
  RVMIG_XEN_GUEST_EXTRA=rvmig.burn start_guest "$name2" pvh || exit 1
  id1=$newid id2=$(xl domid "$name2")
  record_traces || exit 1
  write_policy "$name*" 2 "idle2 $addr"
  t0=$(xen_now)
  "$policy" --apply --policy "$XEN_TMP/migrate.policy" --trace "$XEN_TMP/dom0.tsv" --host dom0 \
    --trace "$XEN_TMP/idle-cut.tsv" --host idle --trace "$XEN_TMP/idle-cut.tsv" --host idle2 \
    > "$XEN_TMP/apply-k2.log" 2>&1
  rc=$?
  wall=$(xen_elapsed "$t0")
  xen_time "rvmig-policy --apply, two guests at k=2" "$wall"
  sed 's/^/  | /' "$XEN_TMP/apply-k2.log" >&2
  ((rc == 0)) || xen_err "rvmig-policy --apply (k=2) exited $rc" || exit 1
  batch=$(grep -m1 '^MIGRATION BATCH 1 .*: 2 migrations, k=2' "$XEN_TMP/apply-k2.log") \
    || xen_err "the plan has no batch of 2 migrations at k=2" || exit 1
  grep -q 'queue: batch 1, started guest (position 1): 2 of k=2 running' "$XEN_TMP/apply-k2.log" \
    || xen_err "the second migration did not start beside the first" || exit 1
  grep -q "^applied 2 migrations of the plan" "$XEN_TMP/apply-k2.log" \
    || xen_err "rvmig-policy did not apply both migrations" || exit 1
  for g in "$name" "$name2"; do
    grep " migrate guest (xen:[0-9]* $g) -> idle2\\? ($addr): done in " "$XEN_TMP/apply-k2.log" >&2 \
      || xen_err "no done line for $g" || exit 1
    XEN_LAST_TICK=0 assert_running "$g" || exit 1
  done
  [[ $(xl domid "$name") != "$id1" && $(xl domid "$name2") != "$id2" ]] \
    || xen_err "a guest kept its domain id: not migrated" || exit 1
  xen_note "FIGURE k=2: ${batch#MIGRATION }; measured $wall s for plan + both migrations"
  destroy_guest "$name2" || exit 1
  destroy_guest "$name" || exit 1
  xen_note "PASS two guests migrated at k=2 by rvmig-policy --apply; total $(xen_elapsed "$t_start") s"
  exit 0
fi

# 2: the same guest (now domain $newid) again, its cost fitted to run 1
# here.  The bound is 2x, not the 15 % of the link model: one run under
# TCG on a shared 2-core host is all the fit has, and two runs of the same
# migration here took 165 s and 179 s (run to run, the host's load moves
# it); 2x says the prediction is of the right kind (it was 55x off), not
# that it is precise.
domid=$newid
record_traces || exit 1
policy_migrate 2 || exit 1
grep '^TOOLSTACK migrate: ' "$XEN_TMP/apply2.log" >&2 \
  || xen_err "the plan shows no toolstack cost fitted to run 1" || exit 1
read -r measured predicted < <(sed -n 's/.*done in \([0-9.]*\) s (predicted \([0-9.]*\) s).*/\1 \2/p' <<<"$done_line")
read -r dmeas dpred < <(sed -n 's/.*downtime \([0-9.]*\) s (predicted \([0-9.]*\) s).*/\1 \2/p' <<<"$done_line")
[[ -n $measured && -n $predicted && -n $dmeas && -n $dpred ]] || xen_err "no figures in: $done_line" || exit 1
xen_note "FIGURE migration 1: ${first_line#*done in }"
xen_note "FIGURE migration 2 (calibrated on 1 here): measured $measured s, predicted $predicted s (ratio $(awk -v m="$measured" -v p="$predicted" 'BEGIN { printf "%.2f", p / m }')); downtime measured $dmeas s, predicted $dpred s (an upper bound: libxl's 'guest has suspended' to the destination's 'Domain started' as the lines arrive)"
awk -v m="$measured" -v p="$predicted" 'BEGIN { exit !(p >= m / 2 && p <= 2 * m) }' \
  || xen_err "migration 2 predicted $predicted s, measured $measured s: more than 2x apart" || exit 1
# Downtime is printed, not bounded: on quiet local reruns (2026-12-07) it
# came out 2.5 then 7.9 s, and 12.8 then 1.1 s, for the same migration: it
# is an upper bound read from xl's log lines as they arrive under TCG, and
# one run's figure cannot predict the next within any useful bound.

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
