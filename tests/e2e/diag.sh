#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What the tools tell their user (issue 15, items 8 and 10): the real reason
# of a failure at the default log level, a peer's words never printed raw,
# usage errors as exit 2, refused peers summarised instead of logged one by
# one.  Peers: raw_peer.py (a TCP client that breaks the transport's rules)
# and diag_peer (the tools' messages with whatever text it is given).
#
#   diag.sh CASE
#     violation      a WRITE outside the ring, a READ outside any region, an
#                    oversized SEND, a READ_RESP that answers nothing, SENDs
#                    past the credits: rvmig-recv's own last line names each
#     peer_text      a peer's ERROR, a receiver's VERDICT, a sender's ABORT,
#                    rvmigd's EXIT and a tunnel's EXEC, each with a newline
#                    and terminal escapes forging a "verified" line: printed
#                    escaped on one line, no ESC byte anywhere
#     relay          the receiver times out while the sender is stopped: a
#                    file sender and a pipe sender both print the receiver's
#                    reason in their own last line
#     usage          values the library would refuse, a bad URI, --resume-wait
#                    without --resume: exit 2 at once, for each tool;
#                    --slot-size 8M works (reg_chunk follows it)
#     key_file       a key over 256 bytes is refused, not cut; a FIFO as the
#                    key file is refused at once instead of blocking open()
#     refusals       300 peers without the key: a few warnings and one
#                    summary, not a line each
#     stdout_stall   rvmig-recv -o - into a reader that never reads: once
#                    that FIFO is full, SIGTERM ends it from inside its wait
#                    for the reader (not its own stall limit), and so does
#                    --timeout (it was stuck in write()), and so does the
#                    sender leaving (killed), named, long before a 60 s
#                    --timeout
#
# Environment: RVMIG_SEND, RVMIG_RECV, DIAG_PEER, RVMIGD, RVMIG_TUNNEL
# (CMake).  TCP only: the hand-built peers speak the TCP transport.
set -u
set -o pipefail

CASE=${1:?usage: diag.sh CASE}
# shellcheck disable=SC2034  # read by lib.sh
RVMIG_E2E_TRANSPORT=tcp
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${DIAG_PEER:?}"
RAW_PEER="$(dirname "$0")/raw_peer.py"

key() { # key FILE [BYTES]: a key of BYTES (default 32) printable bytes, mode 0600
	head -c "${2:-32}" /dev/urandom | od -An -tx1 -v | tr -d ' \n' | head -c "${2:-32}" >"$1"
	chmod 600 "$1"
}

# clean FILE WHAT: FILE (a tool's stderr) has no ESC nor other control
# character but newlines, and no line that starts as WHAT's own summary would
clean() {
	local f=$1 forged=$2
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$f"; then
		fail "$f carries control characters: $(LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]' "$f" | cat -v)"
	fi
	if grep -q "^$forged" "$f"; then
		fail "$f has a forged line: $(grep "^$forged" "$f")"
	fi
	grep -qF '\x1b[1;32m' "$f" || fail "$f does not show the peer's escape as \\x1b"
}

# A text that would forge a tool's success line if printed raw.
forge() { # forge TOOL-LINE
	printf 'it failed\n\033[1;32m%s\033[0m\033[2K' "$1"
}

# wait_gone PID SECONDS: the child ends within SECONDS; sets rc
wait_gone() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still runs after $2 s"
	wait_rc "$1"
}

case $CASE in
violation)
	for v in "write-outside:WRITE outside a granted region" \
		 "read-outside:READ outside a granted region" \
		 "big-send:SEND larger than the receive buffer" \
		 "bad-read-resp:READ response matches no outstanding READ" \
		 "no-credit:credit violation"; do
		act=${v%%:*} why=${v#*:}
		start_recv "$act" "$W/$act.out"
		"$RAW_PEER" "$HOST" "$PORT" "$act" >"$W/$act.peer" 2>&1 || fail "$act: raw_peer.py: $(cat "$W/$act.peer")"
		wait_gone "$RPID" 10
		[ "$rc" = 1 ] || fail "$act: rvmig-recv exited $rc, not 1"
		# the tool's own last line, at the default log level
		last=$(grep '^rvmig-recv: connection to sender' "$W/$act.err") ||
			fail "$act: rvmig-recv did not say the connection failed"
		case $last in
		*"$why"*) note "$act: $last" ;;
		*) fail "$act: rvmig-recv's reason is not '$why': $last" ;;
		esac
		no_final_file "$W/$act.out"
	done
	;;
peer_text)
	# the library: a peer's ERROR
	start_recv err "$W/err.out"
	"$RAW_PEER" "$HOST" "$PORT" error "$(forge 'rvmig-recv: received 1 bytes, verified')" >"$W/err.peer" 2>&1 ||
		fail "raw_peer.py: $(cat "$W/err.peer")"
	wait_gone "$RPID" 10
	[ "$rc" = 1 ] || fail "rvmig-recv exited $rc after the peer's ERROR"
	clean "$W/err.err" "rvmig-recv: received"
	grep -q '^rvmig-recv: connection to sender.*peer reported: it failed\\n\\x1b' "$W/err.err" ||
		fail "rvmig-recv does not give the peer's reason in its own line"
	# rvmig-send: the receiver's VERDICT
	gen "$W/g1.bin" 1 3
	"$DIAG_PEER" recv "$(uri 0)" "$W/v.ready" verdict -5 \
		"$(forge 'rvmig-send: sent 1 bytes; receiver verified xxh128 0')" >"$W/v.peer" 2>&1 &
	vp=$!
	PIDS+=("$vp")
	for _ in $(seq 200); do [ -s "$W/v.ready" ] && break; sleep 0.05; done
	"$RVMIG_SEND" "$W/g1.bin" "$(uri "$(cat "$W/v.ready")")" 2>"$W/send.err"
	rc=$?
	[ "$rc" = 1 ] || fail "rvmig-send exited $rc after a failing VERDICT"
	wait "$vp"
	clean "$W/send.err" "rvmig-send: sent"
	grep -q '^rvmig-send: receiver failed: it failed\\n\\x1b\[1;32mrvmig-send: sent' "$W/send.err" ||
		fail "rvmig-send does not give the receiver's text, escaped, in one line"
	# rvmig-recv: the sender's ABORT
	start_recv ab "$W/ab.out"
	"$DIAG_PEER" send "$(uri "$PORT")" abort -5 \
		"$(forge 'rvmig-recv: received 1 bytes, verified')" >"$W/ab.peer" 2>&1 ||
		fail "diag_peer send abort: $(cat "$W/ab.peer")"
	wait_gone "$RPID" 10
	[ "$rc" = 1 ] || fail "rvmig-recv exited $rc after an ABORT"
	clean "$W/ab.err" "rvmig-recv: received"
	grep -q 'gave up at stream offset 0: it failed\\n\\x1b' "$W/ab.err" ||
		fail "rvmig-recv does not give the sender's text, escaped"
	if [ -n "${RVMIGD:-}" ] && [ -n "${RVMIG_TUNNEL:-}" ]; then
		key "$W/key"
		# rvmig-tunnel: rvmigd's EXIT (a fake daemon)
		"$DIAG_PEER" --key-file "$W/key" recv "$(uri 0)" "$W/x.ready" exit -5 \
			"$(forge 'rvmig-tunnel: remote command verified')" >"$W/x.peer" 2>&1 &
		xp=$!
		PIDS+=("$xp")
		for _ in $(seq 200); do [ -s "$W/x.ready" ] && break; sleep 0.05; done
		"$RVMIG_TUNNEL" --uri-template "tcp://%h:$(cat "$W/x.ready")" --key-file "$W/key" \
			"$HOST" true </dev/null 2>"$W/tunnel.err"
		rc=$?
		[ "$rc" = 255 ] || fail "rvmig-tunnel exited $rc after a failing EXIT"
		wait "$xp"
		clean "$W/tunnel.err" "rvmig-tunnel: remote"
		# rvmigd: a tunnel's EXEC (logged as refused)
		"$RVMIGD" --listen "$(uri 0)" --key-file "$W/key" --ready-file "$W/d.ready" 2>"$W/rvmigd.err" &
		dp=$!
		PIDS+=("$dp")
		for _ in $(seq 200); do [ -s "$W/d.ready" ] && break; sleep 0.05; done
		"$DIAG_PEER" --key-file "$W/key" send "$(uri "$(cat "$W/d.ready")")" exec \
			"$(forge 'rvmigd: 127.0.0.1:1: running xl migrate-receive')" arg >"$W/exec.peer" 2>&1 ||
			fail "diag_peer send exec: $(cat "$W/exec.peer")"
		grep -q '^EXIT -1 ' "$W/exec.peer" || fail "rvmigd did not refuse the command: $(cat "$W/exec.peer")"
		kill -TERM "$dp"
		wait "$dp"
		clean "$W/rvmigd.err" "rvmigd: 127.0.0.1:1: running"
		grep -q 'command not allowed: it failed\\n\\x1b' "$W/rvmigd.err" ||
			fail "rvmigd does not log the command, escaped"
	fi
	note "every peer text came out escaped on one line"
	;;
relay)
	# The receiver (1 slot of 4 KiB: the transfer takes a while) fails,
	# after 1.5 s of silence, while the sender is stopped; the sender then
	# learns why from the receiver's ERROR.
	head -c $((64 << 20)) /dev/urandom >"$W/r64.bin"
	for how in file pipe; do
		start_recv "rx-$how" "$W/$how.out" --raw --timeout 1500 --slots 1 --slot-size 4096 --links 1 -v
		if [ "$how" = file ]; then
			"$RVMIG_SEND" --raw --timeout 60000 "$W/r64.bin" "$(uri "$PORT")" 2>"$W/tx-$how.err" &
		else
			"$RVMIG_SEND" --raw --timeout 60000 - "$(uri "$PORT")" <"$W/r64.bin" 2>"$W/tx-$how.err" &
		fi
		sp=$!
		PIDS+=("$sp")
		for _ in $(seq 400); do
			grep -q 'connected over' "$W/rx-$how.err" && break
			sleep 0.02
		done
		kill -STOP "$sp"
		wait_gone "$RPID" 10
		[ "$rc" = 1 ] || { kill -CONT "$sp"; fail "$how: rvmig-recv exited $rc"; }
		grep -q 'nothing heard from the peer for 1500 ms' "$W/rx-$how.err" ||
			{ kill -CONT "$sp"; fail "$how: the receiver did not time out (did the transfer end first?)"; }
		kill -CONT "$sp"
		wait_rc "$sp"
		[ "$rc" = 1 ] || fail "$how: rvmig-send exited $rc"
		last=$(grep '^rvmig-send: .*failed after' "$W/tx-$how.err") || fail "$how: rvmig-send gave no reason"
		case $last in
		*"peer reported: nothing heard from the peer for 1500 ms"*) note "$how sender: $last" ;;
		*) fail "$how: rvmig-send does not relay the receiver's reason: $last" ;;
		esac
	done
	;;
usage)
	# each: exit 2 at once, saying why
	u=$(uri 0)
	expect2() { # expect2 WHAT CMD...: CMD exits 2 within 5 s
		timeout 5 "${@:2}" >"$W/usage.out" 2>"$W/usage.err"
		rc=$?
		[ "$rc" = 2 ] || fail "$1: exit $rc, not 2: $(cat "$W/usage.err")"
		[ -s "$W/usage.err" ] || fail "$1: no message"
	}
	for opt in "--links 17" "--slots 70000" "--slot-size 5000" "--slot-size 128M" "--links 0"; do
		# shellcheck disable=SC2086  # opt: an option and its value
		expect2 "rvmig-recv $opt" "$RVMIG_RECV" --listen "$u" -o "$W/u.out" $opt
		# shellcheck disable=SC2086
		expect2 "rvmig-send $opt" "$RVMIG_SEND" $opt /dev/null "$(uri 9)"
	done
	expect2 "rvmig-recv --resume-wait without --resume" "$RVMIG_RECV" --listen "$u" -o "$W/u.out" --resume-wait 5
	for bad in "tcp://127.0.0.1" "tcp://127.0.0.1:65536" "nosuch://127.0.0.1:1" "127.0.0.1:1" "tcp://a:b:1"; do
		expect2 "rvmig-recv --listen $bad" "$RVMIG_RECV" --listen "$bad" -o "$W/u.out"
		expect2 "rvmig-send to $bad" "$RVMIG_SEND" /dev/null "$bad"
	done
	if [ -n "${RVMIGD:-}" ]; then
		key "$W/key"
		expect2 "rvmigd --listen tcp://x" "$RVMIGD" --listen tcp://x --key-file "$W/key"
		expect2 "rvmigd --links 99" "$RVMIGD" --listen "$u" --key-file "$W/key" --links 99
	fi
	no_final_file "$W/u.out"
	# slots over 4 MiB: the registration granularity follows
	gen "$W/g12.bin" 12 5
	file_to_file "$W/g12.bin" --slot-size 8M
	;;
key_file)
	key "$W/k300" 300
	"$RVMIG_RECV" --listen "$(uri 0)" -o "$W/k.out" --key-file "$W/k300" --accept-timeout 1000 2>"$W/k300.err"
	rc=$?
	[ "$rc" = 1 ] || fail "a 300-byte key: rvmig-recv exited $rc, not 1"
	grep -q 'longer than 256 bytes' "$W/k300.err" || fail "a 300-byte key was not refused as too long: $(cat "$W/k300.err")"
	"$RVMIG_SEND" /dev/null "$(uri 9)" --key-file "$W/k300" 2>"$W/k300s.err"
	rc=$?
	[ "$rc" = 1 ] || fail "a 300-byte key: rvmig-send exited $rc, not 1"
	grep -q 'longer than 256 bytes' "$W/k300s.err" || fail "rvmig-send took a 300-byte key: $(cat "$W/k300s.err")"
	# a key of exactly 256 bytes and its newline is fine
	key "$W/k256" 256
	echo >>"$W/k256"
	"$RVMIG_RECV" --listen "$(uri 0)" -o "$W/k.out" --key-file "$W/k256" --accept-timeout 200 2>"$W/k256.err"
	grep -q 'no sender connected' "$W/k256.err" || fail "a 256-byte key was refused: $(cat "$W/k256.err")"
	# a FIFO: refused at once (open() must not wait for a writer)
	mkfifo -m 600 "$W/kfifo"
	timeout 10 "$RVMIG_RECV" --listen "$(uri 0)" -o "$W/k.out" --key-file "$W/kfifo" --accept-timeout 200 2>"$W/kfifo.err"
	rc=$?
	[ "$rc" = 124 ] && fail "rvmig-recv blocked opening a FIFO as its key file"
	[ "$rc" = 1 ] || fail "a FIFO key file: exit $rc, not 1"
	grep -q 'not a regular file' "$W/kfifo.err" || fail "the FIFO was not refused as not a regular file: $(cat "$W/kfifo.err")"
	no_final_file "$W/k.out"
	note "300-byte key and FIFO refused, 256-byte key taken"
	;;
refusals)
	key "$W/key"
	start_recv flood "$W/f.out" --key-file "$W/key"
	"$RAW_PEER" "$HOST" "$PORT" flood 300 >"$W/flood.peer" 2>&1 || fail "raw_peer.py flood: $(cat "$W/flood.peer")"
	kill -TERM "$RPID"
	wait_gone "$RPID" 10
	n=$(wc -l <"$W/flood.err")
	grep -q 'more peers refused in the last' "$W/flood.err" || fail "no summary of the refused peers"
	[ "$n" -le 20 ] || fail "300 refused peers gave $n lines of stderr"
	note "300 refused peers: $n lines of stderr; $(grep 'more peers refused' "$W/flood.err")"
	;;
stdout_stall)
	# stdout is a FIFO that this shell holds open and never reads.  Once it
	# is full (the sender has 16 MiB, the FIFO 64 KiB), rvmig-recv waits
	# in its first write to stdout: offset 0 of the stream
	head -c $((16 << 20)) /dev/urandom >"$W/r16.bin"
	for how in term timeout gone; do
		mkfifo "$W/never-$how"
		exec 3<>"$W/never-$how"
		extra=()
		[ "$how" = timeout ] && extra=(--timeout 1500)
		[ "$how" = gone ] && extra=(--timeout 60000)
		RECV_STDOUT="$W/never-$how" start_recv "st-$how" - --raw "${extra[@]}"
		"$RVMIG_SEND" --raw --timeout 30000 "$W/r16.bin" "$(uri "$PORT")" 2>"$W/tx-$how.err" &
		sp=$!
		PIDS+=("$sp")
		"$(dirname "$0")/fifo_full.py" "$W/never-$how" 60 2>"$W/fifo-$how.err" ||
			fail "$how: rvmig-recv did not fill its stdout: $(cat "$W/fifo-$how.err")"
		if [ "$how" != timeout ]; then
			# not its own stall limit (default 10 s) but the signal, or
			# the sender leaving, ends it
			kill -0 "$RPID" 2>/dev/null || fail "$how: rvmig-recv ended before it was stopped"
		fi
		[ "$how" = term ] && kill -TERM "$RPID"
		if [ "$how" = gone ]; then
			t0=$(date +%s%N)
			kill -KILL "$sp"
			wait_rc "$sp"
			wait_gone "$RPID" 30 # far below its 60 s --timeout
			note "gone: rvmig-recv ended $((($(date +%s%N) - t0) / 1000000)) ms after the sender was killed"
		else
			wait_gone "$RPID" 60
		fi
		[ "$rc" = 1 ] || fail "$how: rvmig-recv exited $rc"
		case $how in
		term)
			grep -q 'interrupted by signal 15 at stream offset 0 while stdout took nothing' \
				"$W/st-$how.err" || fail "term: rvmig-recv does not say it was interrupted" ;;
		timeout)
			grep -q 'stdout took nothing for [0-9]* ms (--timeout 1500) at stream offset 0' \
				"$W/st-$how.err" || fail "timeout: rvmig-recv does not name the stalled reader" ;;
		gone)
			grep -q 'sender .* left (.*) at stream offset 0 while stdout took nothing for [0-9]* ms' \
				"$W/st-$how.err" ||
				fail "gone: rvmig-recv does not say the sender left: $(cat "$W/st-$how.err")" ;;
		esac
		if [ "$how" != gone ]; then
			wait_rc "$sp"
			[ "$rc" = 1 ] || fail "$how: rvmig-send exited $rc"
			grep -q 'receiver failed: .*stdout took nothing' "$W/tx-$how.err" ||
				fail "$how: rvmig-send does not relay the receiver's reason"
		fi
		note "$how: $(grep '^rvmig-recv: [^l]' "$W/st-$how.err" | head -1)"
		exec 3<&-
	done
	;;
*)
	echo "unknown case $CASE" >&2
	exit 2
	;;
esac
exit 0
