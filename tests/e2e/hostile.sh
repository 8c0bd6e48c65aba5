#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A hand-built sender (hostile_send: the tools' application messages over
# librvmig, in whatever order and with whatever counts it is told) against
# rvmig-recv and rvmigd.  Every count from the wire must be checked before
# any work, and long local work (writing a zero run) must leave room for
# the event loop, signals and timeouts (issue 15, item 3).
#
#   hostile.sh CASE
#     zero_past_size   ZERO n=2^60 after a HELLO announcing 1 MiB: refused at once
#     zero_over_cap    ZERO of 1 TiB and of 2^60 without an announced size:
#                      over APP_ZERO_MAX (1 GiB), refused at once
#     zero_steps       ZEROs of 64 and 200 MiB (many steps each) between
#                      control bytes, with the verifying digest: written right
#     zero_term        64 ZEROs of 1 GiB (legitimate, slow to digest with
#                      SHA-256): SIGTERM ends the receiver in the middle
#                      of the run (the offset it names is inside it)
#     rvmigd_zero      rvmigd: a session writing 64 GiB of zeros does not
#                      hold up another tunnel; ZERO n=2^60 ends its own
#                      session with the reason; SIGTERM acts in the
#                      middle of the zero run
#
# Nothing here waits on the clock: the steps wait for events (a file
# appearing, the transfer the receiver publishes having processed bytes, a
# process ending) under generous deadlines.  "At once" is proven by the
# work left undone (64 GiB of zeros take minutes to digest), and the
# times are only reported: a loaded host makes them long, never wrong.
#
# Environment: RVMIG_SEND, RVMIG_RECV, HOSTILE_SEND (CMake); rvmigd_zero
# also RVMIGD, RVMIG_TUNNEL.  RVMIG_E2E_TRANSPORT / RVMIG_E2E_HOST as in
# run.sh.
set -u
set -o pipefail

CASE=${1:?usage: hostile.sh CASE}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${HOSTILE_SEND:?}"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# lt A B: A < B (decimals)
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# wait_exit PID SECONDS: waits for a child to end within SECONDS (else
# fails); sets rc
wait_exit() {
	local pid=$1 limit=$2 t0
	t0=$(now)
	while kill -0 "$pid" 2>/dev/null; do
		lt "$(elapsed "$t0" "$(now)")" "$limit" || fail "pid $pid still runs after ${limit}s"
		sleep 0.02
	done
	wait_rc "$pid"
}

# processed PID: the transfer file PID publishes (RVMIG_RUN_DIR) says it
# has processed bytes
processed() { grep -qE '^data_processed [1-9]' "$RVMIG_RUN_DIR/$1.xfer" 2>/dev/null; }

# wait_until SECONDS WHAT CMD...: polls CMD until it succeeds, at most
# SECONDS; fails naming WHAT
wait_until() {
	local limit=$1 what=$2
	shift 2
	for _ in $(seq $((limit * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	fail "$what did not happen within $limit s"
}

# wait_file PATH SECONDS
wait_file() {
	for _ in $(seq $(($2 * 20))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 did not appear within $2 s"
}

# refused NAME STEP...: rvmig-recv -o FILE and a hostile sender doing STEP...
# then waiting for the verdict; the receiver must exit 1 (within 60 s of
# the sender's last message: the work it refuses would take hours), with
# nothing left in the work directory.  Sets VERDICT (what the sender was
# told).
refused() {
	local name=$1 t0
	shift
	rm -f "$W/$name.sent"
	start_recv "$name" "$W/$name.out" --no-verify-stream
	"$HOSTILE_SEND" "$(uri "$PORT")" "$@" mark "$W/$name.sent" wait 20000 \
		>"$W/$name.hostile" 2>"$W/$name.hostile.err" &
	local hp=$!
	PIDS+=("$hp")
	wait_file "$W/$name.sent" 20
	t0=$(now)
	wait_exit "$RPID" 60
	note "$name: the receiver exited $rc $(elapsed "$t0" "$(now)") s after the last message"
	[ "$rc" = 1 ] || fail "$name: the receiver exited $rc, not 1"
	wait_exit "$hp" 10
	VERDICT=$(cat "$W/$name.hostile")
	no_final_file "$W/$name.out"
	no_temp_file "$name: a temporary file was left behind"
}

case "$CASE" in
zero_past_size)
	refused rx hello 1048576 ctrl 100 zero $((1 << 60))
	want="ZERO of 1152921504606846976 bytes from 127.0.0.1:"
	want2="at stream offset 100 goes past the stream size the sender announced (1048576 bytes; 1048476 left): protocol error"
	grep -F "$want" "$W/rx.err" | grep -qF "$want2" || fail "the receiver's error does not name the ZERO, offset and size"
	[[ $VERDICT == *"$want2"* ]] || fail "the sender was not told why: $VERDICT"
	note "receiver said: $(grep -F "$want2" "$W/rx.err")"
	;;
zero_over_cap)
	for n in $((1 << 40)) $((1 << 60)); do
		refused "rx$n" hello - zero "$n"
		want="ZERO of $n bytes from 127.0.0.1:"
		want2="at stream offset 0: more than any zero run (at most 1073741824 bytes): protocol error"
		grep -F "$want" "$W/rx$n.err" | grep -qF "$want2" ||
			fail "the receiver's error does not name the ZERO of $n bytes and the limit"
		[[ $VERDICT == *"$want2"* ]] || fail "the sender was not told why: $VERDICT"
	done
	note "receiver said: $(grep -F "more than any zero run" "$W/rx$n.err")"
	;;
zero_steps)
	# Long zero runs are written step by step, in order, and verify; the
	# output is sparse (holes), its length the announced size.
	size=$((100 + (64 << 20) + 50 + (200 << 20) + 7))
	start_recv rx "$W/out.bin" --no-verify-stream
	"$HOSTILE_SEND" "$(uri "$PORT")" hello "$size" ctrl 100 zero $((64 << 20)) ctrl 50 \
		zero $((200 << 20)) ctrl 7 end wait 60000 >"$W/hostile.out" 2>"$W/hostile.err" ||
		fail "hostile_send failed"
	wait_exit "$RPID" 60
	[ "$rc" = 0 ] || fail "the receiver exited $rc"
	grep -q "^VERDICT 0 ok" "$W/hostile.out" || fail "verdict: $(cat "$W/hostile.out")"
	[ "$(stat -c %s "$W/out.bin")" = "$size" ] || fail "the output is not $size bytes"
	{ head -c 100 /dev/zero | tr '\0' x; head -c $((64 << 20)) /dev/zero
	  head -c 50 /dev/zero | tr '\0' x; head -c $((200 << 20)) /dev/zero
	  head -c 7 /dev/zero | tr '\0' x; } | cmp - "$W/out.bin" || fail "the output differs"
	blocks=$(stat -c %b "$W/out.bin")
	[ "$blocks" -lt 1024 ] || fail "the zero runs were written, not left as holes ($blocks blocks)"
	note "$(grep received "$W/rx.err")"
	;;
zero_term)
	# Runs that are each legitimate (1 GiB, at the limit): 64 GiB of zeros
	# take the receiver far longer than the test (SHA-256 of every zero).
	export RVMIG_RUN_DIR=$W/run
	start_recv rx "$W/out.bin" --no-verify-stream
	"$HOSTILE_SEND" "$(uri "$PORT")" hello-sha256 - zeros 64 $((1 << 30)) mark "$W/sent" \
		wait 60000 >"$W/hostile.out" 2>"$W/hostile.err" &
	hp=$!
	PIDS+=("$hp")
	wait_file "$W/sent" 30
	# the receiver is in the run once it has published processed bytes
	wait_until 60 "the receiver's zero run" processed "$RPID"
	kill -0 "$RPID" 2>/dev/null || fail "the receiver ended before SIGTERM"
	t0=$(now)
	kill -TERM "$RPID"
	# (a receiver that waited for the run to end would take minutes)
	wait_exit "$RPID" 60
	took=$(elapsed "$t0" "$(now)")
	note "the receiver exited $rc ${took} s after SIGTERM"
	[ "$rc" = 1 ] || fail "the receiver exited $rc after SIGTERM, not 1"
	at=$(sed -n 's/.*interrupted by signal 15 at stream offset \([0-9]*\).*/\1/p' "$W/rx.err" | head -1)
	[ -n "$at" ] || fail "the receiver does not say where the signal stopped it"
	[ "$at" -gt 0 ] && [ "$at" -lt $((64 << 30)) ] ||
		fail "the signal stopped the receiver at $at, not inside the 64 GiB zero run"
	no_final_file "$W/out.bin"
	no_temp_file "a temporary file was left behind after SIGTERM"
	wait_exit "$hp" 15
	note "receiver said: $(grep "interrupted" "$W/rx.err")"
	;;
rvmigd_zero)
	: "${RVMIGD:?}" "${RVMIG_TUNNEL:?}"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key" && chmod 600 "$W/key"
	"$RVMIGD" --listen "$(uri 0)" --key-file "$W/key" --ready-file "$W/d.ready" \
		--allow dd --allow cat --allow true 2>"$W/daemon.err" &
	DPID=$!
	PIDS+=("$DPID")
	wait_file "$W/d.ready" 30
	for _ in $(seq 100); do
		read -r DPORT <"$W/d.ready" && [ -n "$DPORT" ] && break
		sleep 0.05
	done
	dd="dd of=/dev/null bs=1M status=none"
	# session 1: 64 GiB of zeros into dd, for far longer than the test
	"$HOSTILE_SEND" --key-file "$W/key" "$(uri "$DPORT")" exec "$dd" zeros 64 $((1 << 30)) \
		mark "$W/s1.sent" wait 60000 >"$W/s1.out" 2>"$W/s1.err" &
	s1=$!
	PIDS+=("$s1")
	wait_file "$W/s1.sent" 30
	# another tunnel meanwhile is served
	t0=$(now)
	got=$(printf 'hello through the tunnel' |
		timeout 20 "$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$DPORT" --key-file "$W/key" \
			"$HOST" cat 2>"$W/tunnel.err") || fail "the tunnel failed next to the zero run"
	[ "$got" = "hello through the tunnel" ] || fail "the tunnel brought back '$got'"
	note "a tunnel next to the 64 GiB zero run took $(elapsed "$t0" "$(now)") s"
	# session 2: ZERO n=2^60 ends that session at once, with the reason
	t0=$(now)
	"$HOSTILE_SEND" --key-file "$W/key" "$(uri "$DPORT")" exec "$dd" zero $((1 << 60)) \
		wait 10000 >"$W/s2.out" 2>"$W/s2.err" || fail "hostile_send failed"
	took=$(elapsed "$t0" "$(now)")
	# (the EXIT came within hostile_send's 10 s wait: a run of 2^60 zeros
	# would not have ended)
	grep -q "^EXIT .*ZERO of 1152921504606846976 bytes from .* at stream offset 0: more than any zero run" \
		"$W/s2.out" || fail "the tunnel was not told why its session ended: $(cat "$W/s2.out")"
	grep -q "ZERO of 1152921504606846976 bytes" "$W/daemon.err" || fail "rvmigd does not log the reason"
	note "ZERO n=2^60: session ended in ${took} s: $(cat "$W/s2.out")"
	# session 3: the command exits in the middle of a zero run; the rest
	# of the run goes nowhere and the session ends with its status
	"$HOSTILE_SEND" --key-file "$W/key" "$(uri "$DPORT")" exec true zeros 4 $((1 << 30)) \
		wait 10000 >"$W/s3.out" 2>"$W/s3.err" || fail "hostile_send failed"
	grep -q "^EXIT 0" "$W/s3.out" || fail "no EXIT 0 for a command that exited: $(cat "$W/s3.out")"
	kill -0 "$s1" 2>/dev/null || fail "session 1 (the legitimate zero run) ended early: $(cat "$W/s1.out")"
	# SIGTERM acts in the middle of session 1's zero run (which would take
	# minutes): rvmigd ends, and session 1 is told it was stopped
	t0=$(now)
	kill -TERM "$DPID"
	wait_exit "$DPID" 60
	took=$(elapsed "$t0" "$(now)")
	note "rvmigd exited $rc ${took} s after SIGTERM"
	wait_exit "$s1" 60
	grep -q "^EXIT 0" "$W/s1.out" && fail "session 1's 64 GiB zero run completed: SIGTERM did not stop it"
	;;
*)
	echo "unknown case $CASE" >&2
	exit 2
	;;
esac
exit 0
