#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The fault matrix of rvmig-send / rvmig-recv: real faults injected into real
# transfers, on both transports (tcp and verbs), inside the soft-RoCE VM's
# `pair` topology (veth rvma 10.77.1.1 <-> rvmb 10.77.1.2, rxe_a/rxe_b on the
# two ends; TCP crosses the same veth, so link-down and netem hit both).
#
#   tests/fault/matrix.sh [--short|--full] [options]
#
# Run on the host it re-runs itself inside tests/harness/rxe-vm --topology
# pair (one VM for all cells); inside the VM (RVMIG_IN_VM=1) it runs the
# cells.  See tests/fault/README.md for the cells, the checks and a table.
#
# Options:
#   --short               2 kill points per side and transport, resume at the
#                         first point and after the link cut (default; CI)
#   --full                10 kill points per side and transport, every cell
#                         with its resume variant
#   --points N            kill points per side and transport
#   --seed N              seed of the kill points (default 1; printed)
#   --transports LIST     tcp,verbs (default both)
#   --only REGEX          run only the cells whose id (e.g. tcp/kill-sender#3,
#                         verbs/netem) matches REGEX (kill points stay those
#                         of the seed, so one cell can be re-run)
#   --results FILE        the Markdown table (default ./fault-matrix-FORM.md)
#   --timeout-ms MS       --timeout of the tools (default 5000)
#   --slack-ms MS         allowed time beyond the timeout from fault to exit
#                         (default 2000: process exit and TCG jitter)
#   --mib N               guest size of the generated Xen stream (default 8)
#   --tool-opts "OPTS"    more options for both tools (default "--window 512K
#                         --slots 4 --slot-size 256K": the wire runs at most
#                         ~1 MiB ahead of the receiver's writes, so a kill
#                         point chosen by those writes is mid-transfer on the
#                         wire too)
#   --vm-timeout SEC      rxe-vm --timeout when started on the host (default
#                         540 short, 2700 full)
#   --require-resume      a resume that is not available counts as FAIL
#   --keep                keep the work directory (in the VM: lost anyway)
#
# Environment: RVMIG_SEND, RVMIG_RECV, RVMIG_GEN_STREAM (or GEN_STREAM): the
# tools and tests/e2e/gen_stream; default: under RVMIG_BUILD_DIR (default
# <source>/build).
#
# Exit status: 0 if every cell passed, 1 if one FAILed, 2 usage, 125/124 as
# rxe-vm when the VM failed / timed out.
set -u
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd "$HERE/../.." && pwd -P)
ARGS=("$@")

FORM=short POINTS= SEED=1 TRANSPORTS=tcp,verbs ONLY= RESULTS= TMO=5000 SLACK=2000
MIB= VM_TIMEOUT= REQUIRE_RESUME=0 KEEP=0 TOOL_OPTS="--window 512K --slots 4 --slot-size 256K"
usage() { sed -n '/^#   tests/,/^# Exit/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
	case $1 in
	--short) FORM=short ;;
	--full) FORM=full ;;
	--points) POINTS=${2:?}; shift ;;
	--seed) SEED=${2:?}; shift ;;
	--transports) TRANSPORTS=${2:?}; shift ;;
	--only) ONLY=${2:?}; shift ;;
	--results) RESULTS=${2:?}; shift ;;
	--timeout-ms) TMO=${2:?}; shift ;;
	--slack-ms) SLACK=${2:?}; shift ;;
	--mib) MIB=${2:?}; shift ;;
	--tool-opts) TOOL_OPTS=$2; shift ;;
	--vm-timeout) VM_TIMEOUT=${2:?}; shift ;;
	--require-resume) REQUIRE_RESUME=1 ;;
	--keep) KEEP=1 ;;
	-h | --help) usage ;;
	*) echo "matrix.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[[ -n $POINTS ]] || { [[ $FORM == full ]] && POINTS=10 || POINTS=2; }
[[ -n $RESULTS ]] || RESULTS=$PWD/fault-matrix-$FORM.md
[[ -n $VM_TIMEOUT ]] || { [[ $FORM == full ]] && VM_TIMEOUT=2700 || VM_TIMEOUT=540; }
[[ -n $MIB ]] || MIB=8
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac

BUILD=${RVMIG_BUILD_DIR:-$SRC/build}
export RVMIG_SEND=${RVMIG_SEND:-$BUILD/tools/rvmig-send}
export RVMIG_RECV=${RVMIG_RECV:-$BUILD/tools/rvmig-recv}
export RVMIG_GEN_STREAM=${RVMIG_GEN_STREAM:-${GEN_STREAM:-$BUILD/tests/e2e/gen_stream}}
for t in "$RVMIG_SEND" "$RVMIG_RECV" "$RVMIG_GEN_STREAM"; do
	[[ -x $t ]] || { echo "matrix.sh: $t is missing (build first, or set RVMIG_SEND/RVMIG_RECV/RVMIG_GEN_STREAM)" >&2; exit 2; }
done

# ------------------------------------------------------------ host -> VM --
if [[ ${RVMIG_IN_VM:-} != 1 ]]; then
	echo "matrix.sh: starting the soft-RoCE VM (pair topology, timeout ${VM_TIMEOUT}s)" >&2
	exec "$SRC/tests/harness/rxe-vm" --topology pair --timeout "$VM_TIMEOUT" --mem 2048 \
		-- "$HERE/matrix.sh" "${ARGS[@]}" --results "$RESULTS"
fi

# ------------------------------------------------------------- in the VM --
A=${RVMIG_PAIR_A:?run inside tests/harness/rxe-vm --topology pair}
B=${RVMIG_PAIR_B:?}
NDA=${RVMIG_PAIR_NETDEV_A:-rvma} NDB=${RVMIG_PAIR_NETDEV_B:-rvmb}
DEVA=${RVMIG_RXE_DEV_A:-rxe_a} DEVB=${RVMIG_RXE_DEV_B:-rxe_b}

W=$(mktemp -d /tmp/rvmig-fault.XXXXXX)
FULLDIR=$W/full
mkfifo "$W/tick" && exec {TICK}<>"$W/tick"
nap() { read -r -t "$1" -u "$TICK" _; }  # sleep without starting a process
T0=$((${EPOCHREALTIME/./} / 1000))
log() { printf '[%6.1fs] %s\n' "$(( $((${EPOCHREALTIME/./} / 1000)) - T0 ))e-3" "$*" >&2; }

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	tc qdisc del dev "$NDA" root 2>/dev/null
	tc qdisc del dev "$NDB" root 2>/dev/null
	mountpoint -q "$FULLDIR" 2>/dev/null && umount "$FULLDIR"
	((KEEP)) || rm -rf "$W"
}
trap cleanup EXIT

# alive PID: the process exists and has not exited (a zombie has exited)
alive() {
	local st
	{ read -r _ _ st _ <"/proc/$1/stat"; } 2>/dev/null || return 1
	[[ $st != Z ]]
}
# wchar PID: sets WCH to the bytes the process wrote so far (its output
# file: pwrite), -1 if it is gone.  (Polling loops use no $(...): a fork
# costs milliseconds under TCG.)
wchar() {
	local k v
	WCH=-1
	while read -r k v; do
		[[ $k == wchar: ]] && { WCH=$v; return 0; }
	done 2>/dev/null <"/proc/$1/io"
}
# wait_exit PID LIMIT_MS: polls until PID exited; sets EXIT_MS (or "" if it
# still runs after LIMIT_MS); returns 1 then
wait_exit() {
	local pid=$1 end=$(( $((${EPOCHREALTIME/./} / 1000)) + $2 ))
	EXIT_MS=
	while alive "$pid"; do
		(($((${EPOCHREALTIME/./} / 1000)) >= end)) && return 1
		nap 0.02
	done
	EXIT_MS=$((${EPOCHREALTIME/./} / 1000))
}
# reap PID: its exit status in RC (the process must have exited)
reap() { wait "$1" 2>/dev/null; RC=$?; }
# stop PID: kill -9 and reap (for processes that overran their time)
stop() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# errline FILE TOOL: the tool's first own message that is not "listening"
errline() {
	local l
	while IFS= read -r l; do
		case $l in
		"$2: listening on"*) ;;
		"$2: "*) printf '%s' "${l:0:220}"; return 0 ;;
		esac
	done <"$1"
	return 1
}
# left DIR NAME: what is left under NAME* in DIR besides NAME itself
left() {
	local f out=
	for f in "$1/$2".*; do
		[[ -e $f ]] || continue
		out+="${out:+, }${f##*/} ($(stat -c %s "$f") B)"
	done
	printf '%s' "${out:-nothing}"
}

uri() { echo "$1://$B:$2"; }

# start_recv TRANSPORT OUT PORT [opts]: rvmig-recv on B; RPID, RPORT
start_recv() {
	local tr=$1 out=$2 port=$3 i
	shift 3
	rm -f "$W/ready"
	"$RVMIG_RECV" --listen "$(uri "$tr" "$port")" -o "$out" --ready-file "$W/ready" \
		--timeout "$TMO" --accept-timeout 60000 $TOOL_OPTS "$@" >/dev/null 2>>"$W/rx.err" &
	RPID=$!
	PIDS+=("$RPID")
	RPORT=
	for ((i = 0; i < 1200; i++)); do
		if [[ -s $W/ready ]]; then
			read -r RPORT <"$W/ready"
			return 0
		fi
		alive "$RPID" || break
		nap 0.05
	done
	return 1
}
# start_send TRANSPORT IN PORT [opts]: rvmig-send from A; SPID
start_send() {
	local tr=$1 in=$2 port=$3
	shift 3
	if [[ $in == pipe:* ]]; then  # from a pipe: the size is not known
		"$RVMIG_SEND" - "$(uri "$tr" "$port")" --timeout "$TMO" $TOOL_OPTS "$@" >/dev/null 2>>"$W/tx.err" < <(cat "${in#pipe:}") &
	else
		"$RVMIG_SEND" "$in" "$(uri "$tr" "$port")" --timeout "$TMO" $TOOL_OPTS "$@" >/dev/null 2>>"$W/tx.err" &
	fi
	SPID=$!
	PIDS+=("$SPID")
}
# wait_point RPID SPID TARGET LIMIT_MS: until the receiver wrote TARGET
# bytes; 0 reached, 1 a process exited first, 2 timed out
wait_point() {
	local end=$(( $((${EPOCHREALTIME/./} / 1000)) + $4 )) w
	while :; do
		alive "$1" && alive "$2" || return 1
		wchar "$1"; w=$WCH
		((w >= $3)) && { POINT_AT=$w; return 0; }
		(($((${EPOCHREALTIME/./} / 1000)) >= end)) && return 2
		nap 0.01
	done
}

# write_table [partial]: the Markdown table so far (rewritten after every
# cell, so a VM timeout still leaves the cells that ran)
write_table() {
	local r f x line tr
	{
		echo "Fault matrix ($FORM: $POINTS kill points per side and transport, seed $SEED), $(date -u '+%Y-%m-%d %H:%M UTC'),"
		echo "soft-RoCE VM pair topology (kernel $(uname -r)); input: Xen stream of $INSIZE bytes (gen_stream $MIB MiB);"
		echo "tools with --timeout $TMO $TOOL_OPTS (a fault-to-exit time up to $((TMO + SLACK)) ms passes). Resume: $( ((RESUME)) && echo available || echo "$NORESUME")."
		echo
		echo "| transport | fault | expected | outcome | error line seen | time to error | resume | left on disk |"
		echo "|---|---|---|---|---|---|---|---|"
		for tr in "${TRS[@]}"; do
			for r in "${ROWS[@]}"; do
				IFS=$'\x1f' read -r -a f <<<"$r"
				[[ ${f[0]} == "$tr" ]] || continue
				line="|"
				for x in "${f[@]}"; do line+=" ${x//|/\\|} |"; done
				echo "$line"
			done
		done
		echo
		echo "${1:+(partial: the run is not finished) }$NPASS passed, $NFAIL FAILed, $NSKIP not exercised, $NNA without resume ($(( ($((${EPOCHREALTIME/./} / 1000)) - T0) / 1000 )) s)."
		for f in "${FAILS[@]}"; do echo "- FAIL $f"; done
	} >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
}

# -------------------------------------------------------------- the rows --
ROWS=()      # "transport|fault|expected|outcome|error|time|resume"
NFAIL=0 NPASS=0 NNA=0 NSKIP=0
FAILS=()
# row: from the C_* variables of the cell
row() {
	local o=pass
	((${#C_WHY[@]})) && o=FAIL
	if [[ $o == pass && -n $C_SKIP ]]; then
		o="not exercised: $C_SKIP"
		NSKIP=$((NSKIP + 1))
	elif [[ $o == FAIL ]]; then
		NFAIL=$((NFAIL + 1))
		FAILS+=("$C_ID: $(IFS=';'; echo "${C_WHY[*]}")")
	else
		NPASS=$((NPASS + 1))
	fi
	[[ $C_RESUME == "not available"* ]] && NNA=$((NNA + 1))
	local why= S=$'\x1f'
	((${#C_WHY[@]})) && why=" — $(IFS=';'; echo "${C_WHY[*]}")"
	ROWS+=("$C_TR$S$C_FAULT$S$C_EXPECT$S$o$why$S${C_ERR:-—}$S${C_TTE:-—}$S${C_RESUME:-n/a}$S$C_LEFT")
	write_table partial
	log "== $C_ID: $o$why | error: ${C_ERR:-—} | time: ${C_TTE:-—} | resume: ${C_RESUME:-n/a} | left: $C_LEFT"
}
cell_begin() { # ID TRANSPORT FAULT EXPECTED
	C_ID=$1 C_TR=$2 C_FAULT=$3 C_EXPECT=$4 C_ERR='' C_TTE='' C_RESUME='' C_LEFT='' C_SKIP=
	C_WHY=()
	: >"$W/rx.err"
	: >"$W/tx.err"
	rm -rf "$W/o"
	mkdir -p "$W/o"
	log "-- $C_ID: $C_FAULT"
}
selected() { [[ -z $ONLY || $1 =~ $ONLY ]]; }
why() { C_WHY+=("$*"); log "   FAIL: $*"; }
dump() { # the stderr of both tools, to our stderr, for a failed cell
	((${#C_WHY[@]})) || return 0
	sed 's/^/     rx| /' "$W/rx.err" >&2
	sed 's/^/     tx| /' "$W/tx.err" >&2
}
# check_final OUT: nothing under OUT unless byte-identical to the input
check_final() {
	if [[ -e $1 ]]; then
		cmp -s "$IN" "$1" || why "$(basename "$1") exists and differs from the input"
		return 0
	fi
	return 1
}

# ----------------------------------------------------------- the network --
# Re-creates what `ip link set down` removed: the per-destination routes of
# the pair topology (tests/harness/rxe-vm) vanish with the link.
# CUT=down: ip link set rvmb down (the veth peer loses carrier too).  rxe on
# 6.1 accepts no new rdma_cm connection (not even from rping) after its
# netdev went down with RDMA traffic in flight, until the rxe device is
# re-created; so link_up re-creates rxe_a/rxe_b (no rvmig process uses them
# then).  CUT=cut: netem loss 100 % on both ends (a cut cable that the
# hosts do not notice); rxe survives that.
CUT=down RECREATE_RXE=1
link_down() {
	if [[ $CUT == cut ]]; then
		printf 'qdisc replace dev %s root netem loss 100%%\n' "$NDA" "$NDB" >"$W/cut.tc"
		tc -b "$W/cut.tc"
	else
		ip link set "$NDB" down
	fi
}
link_up() {
	local i st
	if [[ $CUT == cut ]]; then
		printf 'qdisc del dev %s root\n' "$NDA" "$NDB" >"$W/uncut.tc"
		tc -b "$W/uncut.tc" || return 1
		busybox ping -c 1 -W 5 -I "$A" "$B" >/dev/null 2>&1 || { log "ping $A -> $B fails after the cut"; return 1; }
		return 0
	fi
	ip link set "$NDB" up && ip link set "$NDA" up || return 1
	ip route replace "$B" dev "$NDA" src "$A" table 102 || return 1
	ip route replace "$A" dev "$NDB" src "$B" table 101 || return 1
	if ((RECREATE_RXE)); then
		rdma link delete "$DEVA" && rdma link delete "$DEVB" &&
			rdma link add "$DEVA" type rxe netdev "$NDA" && rdma link add "$DEVB" type rxe netdev "$NDB" ||
			{ log "re-creating the rxe devices failed"; return 1; }
	fi
	for d in "$DEVA" "$DEVB"; do
		for ((i = 0; i < 200; i++)); do
			read -r st _ <"/sys/class/infiniband/$d/ports/1/state" 2>/dev/null
			[[ $st == 4: ]] && break
			nap 0.05
		done
		[[ $st == 4: ]] || { log "rdma port of $d not ACTIVE after link up ($st)"; return 1; }
	done
	busybox ping -c 1 -W 5 -I "$A" "$B" >/dev/null 2>&1 || { log "ping $A -> $B fails after link up"; return 1; }
}

# ------------------------------------------------------------ the inputs --
# A private copy of the tools (and of the librvmig.so.0 they load): the
# shared build tree may be rebuilt while the matrix runs.
mkdir -p "$W/bin"
for t in "$RVMIG_SEND" "$RVMIG_RECV"; do cp "$t" "$W/bin/" || exit 1; done
lib=$(ldd "$RVMIG_SEND" | sed -n 's/^[[:space:]]*librvmig\.so[^ ]* => \([^ ]*\) .*/\1/p')
[[ -n $lib ]] && { cp "$lib" "$W/bin/" || exit 1; }
export LD_LIBRARY_PATH=$W/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
log "tools: $RVMIG_SEND, $RVMIG_RECV${lib:+, $lib} (copied to $W/bin)"
RVMIG_SEND=$W/bin/${RVMIG_SEND##*/} RVMIG_RECV=$W/bin/${RVMIG_RECV##*/}

IN=$W/in.bin
"$RVMIG_GEN_STREAM" "$IN" "$MIB" 4242 2>"$W/gen.log" || { cat "$W/gen.log" >&2; exit 1; }
INSIZE=$(stat -c %s "$IN")
log "input: $(cat "$W/gen.log")"

modprobe sch_netem || log "warning: modprobe sch_netem failed (netem and link-cut cells will fail)"
RESUME=0
if "$RVMIG_SEND" --help 2>&1 | grep -q -- '--resume' && "$RVMIG_RECV" --help 2>&1 | grep -q -- '--resume'; then
	RESUME=1
fi
NORESUME="not available (no --resume in the tools' --help)"
log "resume: $( ((RESUME)) && echo available || echo "$NORESUME")"

# Kill points: per mille of the bytes a clean transfer writes on the
# receiver, from the seed; printed so a cell can be re-run with --only.
RANDOM=$SEED
declare -A KP
for tr in tcp verbs; do
	for side in sender receiver; do
		for ((i = 1; i <= POINTS; i++)); do
			KP[$tr/$side/$i]=$((50 + RANDOM % 851))  # 5.0 % .. 90.0 %
		done
	done
done

# --------------------------------------------------------------- cells --
declare -A TOTAL_W  # transport -> bytes the receiver writes in a clean run

# baseline TRANSPORT: a clean transfer (also measures the receiver's writes)
cell_baseline() {
	local tr=$1 t0 w=0
	cell_begin "$tr/baseline" "$tr" "none (clean transfer)" "completes, byte-identical"
	start_recv "$tr" "$W/o/out.bin" 0 || { why "receiver did not listen"; dump; row; return; }
	t0=$((${EPOCHREALTIME/./} / 1000))
	start_send "$tr" "$IN" "$RPORT"
	local x
	while alive "$RPID"; do
		wchar "$RPID"; x=$WCH
		((x > w)) && w=$x
		(($((${EPOCHREALTIME/./} / 1000)) - t0 > 300000)) && break
		nap 0.02
	done
	wait_exit "$SPID" 60000 || stop "$SPID"
	reap "$SPID"; local src=$RC
	wait_exit "$RPID" 1000 || stop "$RPID"
	reap "$RPID"; local rrc=$RC
	C_TTE="transfer $(( $((${EPOCHREALTIME/./} / 1000)) - t0 )) ms"
	((src == 0 && rrc == 0)) || why "send exit $src, recv exit $rrc"
	check_final "$W/o/out.bin" || why "no output file"
	cmp -s "$IN" "$W/o/out.bin" && C_ERR="(none) cmp identical"
	TOTAL_W[$tr]=$w
	C_RESUME=n/a
	C_LEFT=$(left "$W/o" out.bin)
	[[ $C_LEFT == nothing ]] || why "left behind: $C_LEFT"
	log "   $tr: $INSIZE bytes in $(( $((${EPOCHREALTIME/./} / 1000)) - t0 )) ms; receiver wrote >= $w bytes"
	dump
	row
}

# kill_cell TRANSPORT SIDE N: kill -9 SIDE (sender|receiver) at point N
kill_cell() {
	local tr=$1 side=$2 n=$3 pm=${KP[$1/$2/$3]} target tk done=0
	local id="$tr/kill-$side#$n"
	selected "$id" || return 0
	target=$(( TOTAL_W[$tr] * pm / 1000 ))
	local surv=receiver stool=rvmig-recv sfile=$W/rx.err
	[[ $side == receiver ]] && surv=sender stool=rvmig-send sfile=$W/tx.err
	cell_begin "$id" "$tr" "kill -9 $side at $((pm / 10)).$((pm % 10)) % (${target} B written; seed $SEED)" \
		"$surv exits non-zero with an error within ${TMO} ms; no file under the final name"
	start_recv "$tr" "$W/o/out.bin" 0 || { why "receiver did not listen"; dump; row; return; }
	start_send "$tr" "$IN" "$RPORT"
	local victim=$SPID other=$RPID
	[[ $side == receiver ]] && victim=$RPID other=$SPID
	POINT_AT=
	wait_point "$RPID" "$SPID" "$target" 120000
	case $? in
	1)  # the transfer ended between two polls: check it, but it is no kill
		wait_exit "$SPID" 30000 || stop "$SPID"; reap "$SPID"; local a=$RC
		wait_exit "$RPID" 30000 || stop "$RPID"; reap "$RPID"; local b=$RC
		if ((a == 0 && b == 0)) && cmp -s "$IN" "$W/o/out.bin"; then
			C_SKIP="the transfer completed (byte-identical) before the kill point was seen"
		else
			why "a side exited before the kill point (send exit $a, recv exit $b)"
			dump
		fi
		C_LEFT=$(left "$W/o" out.bin)
		row
		return ;;
	2) why "the receiver did not reach ${target} B within 120 s" ;;
	esac
	tk=$((${EPOCHREALTIME/./} / 1000))
	kill -9 "$victim" 2>/dev/null
	reap "$victim"
	log "   killed $side at ${POINT_AT:-?} B written (target $target)"
	if wait_exit "$other" $((TMO + SLACK + 10000)); then
		C_TTE="$((EXIT_MS - tk)) ms"
		reap "$other"
		if ((RC == 0)); then
			# everything had been sent: a verified complete file is right
			if [[ -e $W/o/out.bin ]] && cmp -s "$IN" "$W/o/out.bin"; then
				done=1
			else
				why "$surv exited 0 after the $side was killed without a complete file"
			fi
		fi
		(( EXIT_MS - tk <= TMO + SLACK )) || why "$surv took $((EXIT_MS - tk)) ms (> ${TMO}+${SLACK})"
	else
		why "$surv still running $((TMO + SLACK + 10000)) ms after the kill"
		stop "$other"
	fi
	if ((done)); then
		C_ERR="(none: the $side was killed after the last byte; $surv exited 0, file complete and cmp identical)"
	else
		C_ERR=$(errline "$sfile" "$stool") || why "no error message from $stool"
	fi
	check_final "$W/o/out.bin"
	C_LEFT=$(left "$W/o" out.bin)
	# the surviving receiver removes its temporary file (rvmig-recv(1))
	[[ $side == sender && $C_LEFT != nothing ]] && why "the receiver left $C_LEFT"
	dump
	if ((RESUME)) && [[ $FORM == short ]] && ((n > 1)); then
		C_RESUME="not run (--short resumes at kill point #1 only)"
	elif ((RESUME)); then
		resume_kill "$tr" "$side" "$target"
	else
		C_RESUME=$NORESUME
		((REQUIRE_RESUME)) && why "resume not available"
	fi
	row
}

# resume_finish: waits for the resumed sender and receiver; appends to the
# caller's $r what went wrong (exit codes, output missing or different,
# files left) and sets the caller's $from ("resumed at N of M" or empty).
resume_finish() {
	wait_exit "$SPID" 180000 || { stop "$SPID"; r="${r:+$r; }sender still running after 180 s"; }
	reap "$SPID"; local src=$RC
	wait_exit "$RPID" 30000 || { stop "$RPID"; r="${r:+$r; }receiver still running"; }
	reap "$RPID"; local rrc=$RC
	((src == 0 && rrc == 0)) || r="${r:+$r; }send exit $src, recv exit $rrc"
	if [[ -e $W/o/out.bin ]] && cmp -s "$IN" "$W/o/out.bin"; then
		[[ $(left "$W/o" out.bin) == nothing ]] || r="${r:+$r; }left: $(left "$W/o" out.bin)"
	else
		r="${r:+$r; }output missing or differs"
	fi
	from=$(grep -o 'resuming at stream offset [0-9]* of [0-9]*' "$W/tx.err" | tail -1)
	from=${from:+resumed at ${from#resuming at stream offset }}
}

# resume_failed: records the caller's $r as the resume verdict, with both logs.
resume_failed() {
	C_RESUME="FAIL: $r"
	why "resume: $r"
	sed 's/^/     resume rx| /' "$W/rx.err" >&2
	sed 's/^/     resume tx| /' "$W/tx.err" >&2
}

# resume_start TRANSPORT RESUME_WAIT_S: a resuming receiver on a fresh
# output directory (port in RESUME_PORT) and a resuming sender; returns 1,
# with C_RESUME set, when the receiver did not listen
resume_start() {
	: >"$W/rx.err"; : >"$W/tx.err"
	rm -rf "$W/o"; mkdir -p "$W/o"
	RESUME_PORT=$((17000 + RANDOM % 20000))
	start_recv "$1" "$W/o/out.bin" "$RESUME_PORT" --resume --resume-wait "$2" ||
		{ C_RESUME="FAIL: resuming receiver did not listen"; why "$C_RESUME"; return 1; }
	start_send "$1" "$IN" "$RESUME_PORT" --resume --retries 10
	POINT_AT=
}

# resume_kill TRANSPORT SIDE TARGET: the same kill with --resume on both
# sides, then the killed side restarted with --resume: byte-identical?
resume_kill() {
	local tr=$1 side=$2 target=$3 port r= after= from
	resume_start "$tr" 30 || return
	port=$RESUME_PORT
	wait_point "$RPID" "$SPID" "$target" 120000 || { C_RESUME="FAIL: kill point not reached"; why "$C_RESUME"; }
	local t0=$((${EPOCHREALTIME/./} / 1000))
	local victim=$SPID
	[[ $side == receiver ]] && victim=$RPID
	kill -9 "$victim"; reap "$victim"
	if [[ -e $W/o/out.bin ]] && cmp -s "$IN" "$W/o/out.bin"; then
		# the kill landed after the receiver had committed: nothing to resume
		stop "$SPID"; stop "$RPID"
		C_RESUME="not exercised: the transfer had completed before the kill (file byte-identical)"
		return
	fi
	if [[ $side == sender ]]; then
		nap 1
		alive "$RPID" || r="receiver exited while waiting for the sender"
		check_final "$W/o/out.bin" && r="${r:+$r; }final name exists before the resume"
		start_send "$tr" "$IN" "$port" --resume --retries 10
	else
		after="after the kill: $(left "$W/o" out.bin); "
		[[ -e $W/o/out.bin.rvmig-partial ]] || r="no out.bin.rvmig-partial after kill -9 of the receiver"
		check_final "$W/o/out.bin" && r="${r:+$r; }final name exists before the resume"
		start_recv "$tr" "$W/o/out.bin" "$port" --resume --resume-wait 30 ||
			r="${r:+$r; }restarted receiver did not listen"
	fi
	resume_finish
	if [[ -z $r ]]; then
		C_RESUME="pass: byte-identical, $(( $((${EPOCHREALTIME/./} / 1000)) - t0 )) ms after the kill; ${after}${from:-started from 0 (nothing durable)}"
	else
		resume_failed
	fi
}

# full_disk TRANSPORT file|pipe: the output directory is a tmpfs smaller
# than the stream; from a file the receiver knows the size up front, from a
# pipe it finds out mid-way
cell_fulldisk() {
	local tr=$1 kind=$2 id="$1/full-disk-$2" size=$((INSIZE / 4 / 1048576)) src=$IN
	selected "$id" || return 0
	((size > 0)) || size=1
	[[ $kind == pipe ]] && src=pipe:$IN
	cell_begin "$id" "$tr" "output dir on a ${size} MiB tmpfs, $((INSIZE / 1048576)) MiB stream from a $kind" \
		"both exit non-zero, receiver says no space; no file under the final name, no temporary left"
	mkdir -p "$FULLDIR"
	mount -t tmpfs -o "size=${size}m" rvmig-fault-full "$FULLDIR" || { why "cannot mount the tmpfs"; row; return; }
	local t0 out=$FULLDIR/out.bin
	start_recv "$tr" "$out" 0 || { why "receiver did not listen"; }
	t0=$((${EPOCHREALTIME/./} / 1000))
	start_send "$tr" "$src" "$RPORT"
	local ts tr_ms
	wait_exit "$RPID" 120000 || { why "receiver still running after 120 s"; stop "$RPID"; }
	tr_ms=${EXIT_MS:-0}
	reap "$RPID"; local rrc=$RC
	wait_exit "$SPID" $((TMO + SLACK)) || { why "sender still running $((TMO + SLACK)) ms after the receiver exited"; stop "$SPID"; }
	ts=${EXIT_MS:-0}
	reap "$SPID"; local src=$RC
	C_TTE="recv exit $((tr_ms - t0)) ms after start, send $((ts - tr_ms)) ms after recv"
	((rrc != 0)) || why "receiver exited 0"
	((src != 0)) || why "sender exited 0"
	C_ERR=$(errline "$W/rx.err" rvmig-recv) || why "no error message from rvmig-recv"
	grep -Eq "No space left|not enough space" "$W/rx.err" || why "receiver does not say No space left / not enough space"
	local se
	se=$(errline "$W/tx.err" rvmig-send) || why "no error message from rvmig-send"
	C_ERR="recv: $C_ERR / send: $se"
	check_final "$out"
	C_LEFT=$(left "$FULLDIR" out.bin)
	[[ $C_LEFT == nothing ]] || why "left on the full disk: $C_LEFT"
	umount "$FULLDIR"
	C_RESUME=n/a
	dump
	row
}

# netem TRANSPORT: 1 % loss + 20 ms delay on both veth ends
cell_netem() {
	local tr=$1 id="$1/netem"
	selected "$id" || return 0
	cell_begin "$id" "$tr" "netem loss 1% delay 20ms (both ends)" \
		"completes byte-identical, or both fail cleanly (error, no file under the final name)"
	modprobe sch_netem 2>/dev/null
	tc qdisc replace dev "$NDA" root netem loss 1% delay 20ms &&
		tc qdisc replace dev "$NDB" root netem loss 1% delay 20ms || { why "tc netem failed"; row; return; }
	local t0 lim=120000
	start_recv "$tr" "$W/o/out.bin" 0 || why "receiver did not listen"
	t0=$((${EPOCHREALTIME/./} / 1000))
	start_send "$tr" "$IN" "$RPORT"
	wait_exit "$SPID" "$lim" || { why "sender still running after $((lim / 1000)) s"; stop "$SPID"; }
	reap "$SPID"; local src=$RC
	local nc=0
	grep -q "^rvmig-send: cannot connect" "$W/tx.err" && ! grep -q "^rvmig-recv: .* from " "$W/rx.err" && nc=1
	if ((nc)); then  # no connection was made: the listener keeps listening
		kill -TERM "$RPID" 2>/dev/null
		wait_exit "$RPID" $((TMO + SLACK)) || stop "$RPID"
	else
		wait_exit "$RPID" $((TMO + SLACK)) || { why "receiver still running after the sender exited"; stop "$RPID"; }
	fi
	reap "$RPID"; local rrc=$RC
	local el=$(( $((${EPOCHREALTIME/./} / 1000)) - t0 ))
	tc qdisc del dev "$NDA" root; tc qdisc del dev "$NDB" root
	if ((src == 0 && rrc == 0)); then
		cmp -s "$IN" "$W/o/out.bin" || why "both exited 0 but the output differs"
		C_ERR="(none) completed, cmp identical"
		C_TTE="transfer $el ms"
		C_EXPECT="completed byte-identical"
	else
		C_TTE="failed after $el ms"
		local a b
		a=$(errline "$W/tx.err" rvmig-send) || why "no error message from rvmig-send"
		if ((nc)); then
			b="(never connected; stopped with SIGTERM)"
		else
			b=$(errline "$W/rx.err" rvmig-recv) || why "no error message from rvmig-recv"
		fi
		C_ERR="send: $a / recv: $b"
		((src != 0 && rrc != 0)) || why "one side exited 0 (send $src, recv $rrc)"
		check_final "$W/o/out.bin"
		C_EXPECT="failed cleanly$( ((nc)) && echo " (connection set-up failed)")"
	fi
	C_LEFT=$(left "$W/o" out.bin)
	C_RESUME=n/a
	dump
	row
}

# linkdown TRANSPORT down|cut: the link goes away at ~30 % for TMO + 3 s
cell_linkdown() {
	local tr=$1 id="$1/link-$2" outage=$((TMO + 3000)) what
	selected "$id" || return 0
	CUT=$2 RECREATE_RXE=1
	what="ip link set $NDB down"
	[[ $CUT == cut ]] && what="link cut (netem loss 100% both ends)"
	# a 4x longer stream: the fault itself (one tc/ip process) takes ~1 s
	# under TCG, as long as a whole 8 MiB tcp transfer
	[[ -s $W/big.bin ]] || "$RVMIG_GEN_STREAM" "$W/big.bin" $((MIB * 4)) 4343 2>>"$W/gen.log" ||
		{ log "gen_stream of the big input failed"; return; }
	local IN=$W/big.bin bigsize
	bigsize=$(stat -c %s "$IN")
	local target=$(( TOTAL_W[$tr] * (bigsize / 1000) / (INSIZE / 1000) * 3 / 10 ))
	cell_begin "$id" "$tr" "$what at 30 % of a $bigsize B stream for $((outage / 1000)) s" \
		"both exit non-zero with an error within ${TMO} ms of the cut (or complete byte-identical); no file under the final name"
	start_recv "$tr" "$W/o/out.bin" 0 || { why "receiver did not listen"; dump; row; return; }
	start_send "$tr" "$IN" "$RPORT"
	wait_point "$RPID" "$SPID" "$target" 120000 || why "the transfer did not reach 30 %"
	local t1=$((${EPOCHREALTIME/./} / 1000)) tk es='' er='' up=0
	link_down || why "$what failed"
	tk=$((${EPOCHREALTIME/./} / 1000))  # the fault is in effect from here on
	log "   link $CUT at ${POINT_AT:-?} B written ($((tk - t1)) ms for the command)"
	local lw=-1 lwt=$tk  # the receiver's writes and when they last grew
	while (($((${EPOCHREALTIME/./} / 1000)) - tk < outage + TMO + SLACK + 10000)); do
		if [[ -z $er ]]; then
			wchar "$RPID"
			((WCH > lw)) && { lw=$WCH; lwt=$((${EPOCHREALTIME/./} / 1000)); }
		fi
		[[ -z $es ]] && ! alive "$SPID" && { es=$((${EPOCHREALTIME/./} / 1000)); log "   sender exited"; }
		[[ -z $er ]] && ! alive "$RPID" && { er=$((${EPOCHREALTIME/./} / 1000)); log "   receiver exited"; }
		if ((!up && $((${EPOCHREALTIME/./} / 1000)) - tk >= outage)); then
			link_up || why "the link did not come back"
			log "   link back"
			up=1
		fi
		[[ -n $es && -n $er ]] && ((up)) && break
		nap 0.02
	done
	((up)) || { link_up || why "the link did not come back"; }
	[[ -n $es ]] || { why "sender still running"; stop "$SPID"; es=$((${EPOCHREALTIME/./} / 1000)); }
	[[ -n $er ]] || { why "receiver still running"; stop "$RPID"; er=$((${EPOCHREALTIME/./} / 1000)); }
	reap "$SPID"; local src=$RC
	reap "$RPID"; local rrc=$RC
	# After the cut the receiver may still consume what its socket / ring
	# held, so the timeout counts from its last write() if that came later.
	# (wchar counts stderr too: see the TCP finding in README.md.)
	local ref=$(( lwt > tk ? lwt : tk ))
	C_TTE="send $((es - tk)) ms, recv $((er - tk)) ms after the cut ($((tk - t1)) ms $CUT command); receiver's last write $((lwt - tk)) ms after the cut"
	if ((src == 0 && rrc == 0)); then
		cmp -s "$IN" "$W/o/out.bin" || why "both exited 0 but the output differs"
		C_ERR="(none) completed, cmp identical"
		((es - tk < 500)) && C_SKIP="the transfer completed $((es - tk)) ms after the $CUT command returned"
	else
		local a b
		a=$(errline "$W/tx.err" rvmig-send) || why "no error message from rvmig-send"
		b=$(errline "$W/rx.err" rvmig-recv) || why "no error message from rvmig-recv"
		C_ERR="send: $a / recv: $b"
		((src != 0 && rrc != 0)) || why "one side exited 0 (send $src, recv $rrc)"
		((es - ref <= TMO + SLACK)) || why "sender exited $((es - ref)) ms after the cut / the receiver's last write"
		((er - ref <= TMO + SLACK)) || why "receiver exited $((er - ref)) ms after the cut / its last write"
		check_final "$W/o/out.bin"
		C_LEFT=$(left "$W/o" out.bin)
		[[ $C_LEFT == nothing ]] || why "the receiver left $C_LEFT"
	fi
	C_LEFT=$(left "$W/o" out.bin)
	dump
	if ((RESUME)) && [[ $FORM == short && $CUT == down ]]; then
		C_RESUME="not run (--short resumes after link-cut only)"
	elif ((RESUME)) && [[ $tr == verbs && $CUT == down ]]; then
		C_RESUME="not exercised: rxe must be re-created after its netdev went down (see verbs/link-cut for resume across an outage)"
	elif ((RESUME)); then
		RECREATE_RXE=0
		resume_linkdown "$tr" "$target" "$outage"
	else
		C_RESUME=$NORESUME
		((REQUIRE_RESUME)) && why "resume not available"
	fi
	row
}

resume_linkdown() {
	local tr=$1 target=$2 outage=$3 r=
	resume_start "$tr" 60 || return
	wait_point "$RPID" "$SPID" "$target" 120000 || r="kill point not reached"
	local tk=$((${EPOCHREALTIME/./} / 1000))
	link_down
	log "   resume: link $CUT at ${POINT_AT:-?} B written"
	nap "$((outage / 1000))"
	link_up || r="${r:+$r; }the link did not come back"
	log "   resume: link back"
	local from tries
	resume_finish
	tries=$(grep -c '; retry [0-9]* of ' "$W/tx.err")
	if [[ -z $r ]]; then
		C_RESUME="pass: byte-identical, $(( $((${EPOCHREALTIME/./} / 1000)) - tk )) ms after the cut; sender retried $tries times; ${from:-no \"resuming at\" line}"
	else
		resume_failed
	fi
}

IFS=, read -r -a TRS <<<"$TRANSPORTS"
log "fault matrix: form $FORM, $POINTS kill points per side, seed $SEED, transports ${TRS[*]}, tool --timeout $TMO ms (+${SLACK} ms slack)"
for tr in "${TRS[@]}"; do
	cell_baseline "$tr"
	[[ -n ${TOTAL_W[$tr]:-} && ${TOTAL_W[$tr]} -gt 0 ]] || { log "$tr: baseline failed, skipping its cells"; continue; }
	for side in sender receiver; do
		for ((i = 1; i <= POINTS; i++)); do kill_cell "$tr" "$side" "$i"; done
	done
	cell_fulldisk "$tr" file
	cell_fulldisk "$tr" pipe
done
for tr in "${TRS[@]}"; do
	[[ ${TOTAL_W[$tr]:-0} -gt 0 ]] && cell_netem "$tr"
done
for tr in "${TRS[@]}"; do
	[[ ${TOTAL_W[$tr]:-0} -gt 0 ]] && cell_linkdown "$tr" cut
done
for tr in "${TRS[@]}"; do
	# Known failure, kept in --full: after `ip link set down` the verbs
	# sender sometimes exits only when the rxe device is re-created (8-10 s
	# for a 5 s timeout), sometimes at 3.6 s (tests/fault/README.md).
	if [[ $FORM == short && $tr == verbs ]]; then
		log "verbs/link-down: not in --short (known failure, see tests/fault/README.md; run --full)"
		continue
	fi
	[[ ${TOTAL_W[$tr]:-0} -gt 0 ]] && cell_linkdown "$tr" down
done

# ------------------------------------------------------------- the table --
write_table
cat "$RESULTS"
((NFAIL == 0))
