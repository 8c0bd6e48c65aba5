#!/bin/bash
# SPDX-License-Identifier: MIT
#
# rvmigd and peers without the key (issue 15, items 1 and 2): while a tunnel
# streams through `cat`, one keyless peer completes the hello and never
# answers the CHALLENGE and eight more each announce a 2-link session and
# open one link (keyless_peer.py).  rvmigd has --max-sessions 2, a 120 s
# --timeout and --auth-timeout 20000.  While the keyless peers are still
# held (rvmigd has dropped none of them yet) the running tunnel must move
# its next MiB and a second tunnel must be served (the keyless peers hold
# no session); both outputs must be intact, and rvmigd must close the
# keyless connections at the auth timeout, long before the --timeout.
# Every step waits for an event (output size, a line from the peers, a
# process ending) under a generous deadline; the clock is only reported.
#
# Environment: see rvmigd_lib.sh.  TCP only: the keyless peers speak the
# TCP set-up.
set -u
# shellcheck disable=SC2034  # read by rvmigd_lib.sh
NAME=keyless RVMIG_TEST_TRANSPORT=tcp
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=rvmigd_lib.sh
. "$HERE/rvmigd_lib.sh"
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# held WHEN: rvmigd has dropped none of the keyless peers yet
held() {
	! grep -q "no answer to the challenge\|only 1 of 2 links came" "$W/daemon.err" ||
		fail "rvmigd had dropped keyless peers $1: the step did not run next to them"
}

start_daemon --max-sessions 2 --timeout 120000 --auth-timeout 20000 --allow cat

MiB=$((1024 * 1024))
head -c $((3 * MiB)) /dev/urandom >"$W/a.bin"
head -c $((2 * MiB + 5)) /dev/urandom >"$W/b.bin"

# Tunnel A: cat, fed through a FIFO that stays open between its parts.
mkfifo "$W/a.in" || fail mkfifo
tunnel "$HOST" cat <"$W/a.in" >"$W/a.out" 2>"$W/a.err" & PA=$!; PIDS+=("$PA")
exec 7>"$W/a.in"
head -c "$MiB" "$W/a.bin" >&7
for _ in $(seq 600); do [ "$(size "$W/a.out")" -ge "$MiB" ] && break; sleep 0.1; done
[ "$(size "$W/a.out")" -ge "$MiB" ] || fail "tunnel A's first MiB did not come through"

# The keyless peers.
python3 "$HERE/keyless_peer.py" "$HOST" "$PORT" silent 1 100 >"$W/silent.peers" 2>&1 & PS=$!
PIDS+=("$PS")
python3 "$HERE/keyless_peer.py" "$HOST" "$PORT" halfopen 8 100 >"$W/halfopen.peers" 2>&1 & PH=$!
PIDS+=("$PH")
for _ in $(seq 600); do
	grep -q accepted "$W/silent.peers" && grep -q accepted "$W/halfopen.peers" && break
	kill -0 "$PS" 2>/dev/null && kill -0 "$PH" 2>/dev/null || break
	sleep 0.1
done
grep -q accepted "$W/silent.peers" && grep -q accepted "$W/halfopen.peers" ||
	fail "rvmigd did not answer the keyless peers' hellos"
note "9 keyless peers in their handshake"

# A keeps moving while they wait.
t1=$(now)
tail -c +$((MiB + 1)) "$W/a.bin" | head -c "$MiB" >&7
for _ in $(seq 1200); do [ "$(size "$W/a.out")" -ge $((2 * MiB)) ] && break; sleep 0.05; done
took=$(elapsed "$t1")
[ "$(size "$W/a.out")" -ge $((2 * MiB)) ] || fail "tunnel A stalled next to the keyless peers"
held "before tunnel A's next MiB came through"
note "tunnel A's next MiB came through in ${took}s"

# A second tunnel is served: the keyless peers hold none of the 2 places.
t2=$(now)
tunnel "$HOST" cat <"$W/b.bin" >"$W/b.out" 2>"$W/b.err" || fail "tunnel B was not served"
held "before tunnel B was served"
note "tunnel B (2 MiB) served in $(elapsed "$t2")s next to tunnel A and the keyless peers"
cmp -s "$W/b.bin" "$W/b.out" || fail "tunnel B's output differs"

tail -c +$((2 * MiB + 1)) "$W/a.bin" >&7
exec 7>&-
wait "$PA" || fail "tunnel A exited $?"
PIDS=("$PS" "$PH")
cmp -s "$W/a.bin" "$W/a.out" || fail "tunnel A's output differs"

# The keyless connections end at the auth timeout (20 s), long before
# --timeout (120 s).
wait "$PS"; wait "$PH"
PIDS=()
for f in silent halfopen; do
	line=$(grep '^closed' "$W/$f.peers") || fail "$f peers did not report"
	note "$f peers: $line"
	set -- ${line//,/} # closed K of N last after S s
	[ "$2" = "$4" ] || fail "rvmigd left $f peers open: $line"
	lt "$7" 60 || fail "rvmigd closed the $f peers after $7 s, not at the auth timeout"
done
grep -q "no answer to the challenge within 20000 ms" "$W/daemon.err" ||
	fail "rvmigd did not log the unanswered challenge"
grep -q "only 1 of 2 links came" "$W/daemon.err" ||
	fail "rvmigd did not log the half-open sessions"
kill -0 "$DPID" 2>/dev/null || fail "rvmigd did not survive"
echo "PASS [rvmigd keyless]"
