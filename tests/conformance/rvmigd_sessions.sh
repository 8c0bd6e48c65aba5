#!/bin/bash
# SPDX-License-Identifier: MIT
#
# rvmigd --max-sessions: two tunnels are served at the same time (each runs
# `sleep`), a third is refused at once with "too many connections (limit 2)"
# on rvmig-tunnel's stderr, and once a session has ended a new tunnel is
# served (it also pushes 3 MiB through `cat`, compared byte for byte, so the
# daemon's non-blocking stdin path is exercised next to a running session).
#
# Environment: RVMIG_TUNNEL, RVMIGD (set by CMake); RVMIG_TEST_TRANSPORT
# (tcp), RVMIG_TEST_HOST (127.0.0.1; in the soft-RoCE VM $RVMIG_RXE_ADDR).
set -u
: "${RVMIG_TUNNEL:?}" "${RVMIGD:?}"
TRANSPORT=${RVMIG_TEST_TRANSPORT:-tcp}
HOST=${RVMIG_TEST_HOST:-${RVMIG_RXE_ADDR:-127.0.0.1}}
W=$(mktemp -d "${TMPDIR:-/tmp}/rvmigd-sessions.XXXXXX")
DPID=
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
fail() {
	echo "FAIL [rvmigd sessions]: $*" >&2
	for f in "$W"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
	exit 1
}
note() { echo "[rvmigd sessions] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key" && chmod 600 "$W/key"
mkfifo "$W/ready" || fail mkfifo
exec 9<>"$W/ready"
"$RVMIGD" --listen "$TRANSPORT://$HOST:0" --key-file "$W/key" --ready-file "$W/ready" \
	--max-sessions 2 --allow sleep --allow cat -v 2>"$W/daemon.err" &
DPID=$!
read -r -t 60 PORT <&9 || fail "rvmigd reported no port"
exec 9<&-
tunnel() { "$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key" "$@"; }

SLEEP=${RVMIG_SESSIONS_SLEEP:-6}
t0=$(now)
tunnel "$HOST" sleep "$SLEEP" </dev/null >"$W/a.out" 2>"$W/a.err" & PA=$!; PIDS+=("$PA")
tunnel "$HOST" sleep "$SLEEP" </dev/null >"$W/b.out" 2>"$W/b.err" & PB=$!; PIDS+=("$PB")
# both sessions must be running before the third tunnel tries
for _ in $(seq 300); do
	[ "$(grep -c 'running sleep' "$W/daemon.err")" -ge 2 ] && break
	kill -0 "$DPID" 2>/dev/null || fail "rvmigd died"
	sleep 0.1
done
[ "$(grep -c 'running sleep' "$W/daemon.err")" -ge 2 ] || fail "two sessions did not run at once"

t1=$(now)
tunnel "$HOST" sleep 0 </dev/null >"$W/c.out" 2>"$W/c.err"
rc=$?
took=$(elapsed "$t1")
[ "$rc" != 0 ] || fail "a third tunnel was served with --max-sessions 2"
grep -q "refused the connection: too many connections (limit 2)" "$W/c.err" ||
	fail "the third tunnel does not report the limit"
note "third tunnel refused in ${took}s (exit $rc); its stderr:"; sed "s/^/    /" "$W/c.err" >&2
lt "$took" 5 || fail "the refusal took ${took}s"

wait "$PA"; ra=$?
wait "$PB"; rb=$?
PIDS=()
both=$(elapsed "$t0")
[ "$ra" = 0 ] && [ "$rb" = 0 ] || fail "sleep tunnels exited $ra / $rb"
note "two concurrent 'sleep $SLEEP' sessions finished after ${both}s"
# both commands were started before either of them ended
second=$(grep -n 'running sleep' "$W/daemon.err" | sed -n 2p | cut -d: -f1)
first_end=$(grep -n 'command exited' "$W/daemon.err" | sed -n 1p | cut -d: -f1)
[ -n "$second" ] && [ -n "$first_end" ] && [ "$second" -lt "$first_end" ] ||
	fail "the two sessions were not served at once"

# After the sessions ended there is room again.  A session whose command
# never reads its stdin (sleep, fed 3 MiB) must not hold back another one
# (cat, 3 MiB compared byte for byte) that runs meanwhile.
head -c $((3 * 1024 * 1024 + 7)) /dev/urandom >"$W/rand.bin"
# (run directly, not through the shell function, so $! is rvmig-tunnel)
"$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key" "$HOST" sleep 600 \
	<"$W/rand.bin" >"$W/d.out" 2>"$W/d.err" & PD=$!; PIDS+=("$PD")
for _ in $(seq 300); do
	[ "$(grep -c 'running sleep' "$W/daemon.err")" -ge 3 ] && break
	sleep 0.1
done
sleep 1 # let the sleeper's stdin pipe fill up
t2=$(now)
tunnel "$HOST" cat <"$W/rand.bin" >"$W/e.out" 2>"$W/e.err"
re=$?
tc=$(elapsed "$t2")
[ "$re" = 0 ] || fail "cat tunnel after the refusal exited $re"
cmp -s "$W/rand.bin" "$W/e.out" || fail "cat through rvmigd changed the bytes"
kill -0 "$PD" 2>/dev/null || fail "the non-reading session ended before cat finished"
# only cat's input is complete: the sleeper's waits in rvmigd, unread
[ "$(grep -c 'stdin complete, 3145735 bytes' "$W/daemon.err")" = 1 ] ||
	fail "the non-reading command's stdin was not held back"
note "cat session (3 MiB) done in ${tc}s while the non-reading session was still open"
# the tunnel dies: rvmigd notices although that session has a backlog,
# stops its command and goes on
kill -9 "$PD"; wait "$PD" 2>/dev/null
PIDS=()
for _ in $(seq 300); do
	grep -q 'tunnel gone, stopping the command' "$W/daemon.err" && break
	sleep 0.1
done
grep -q 'tunnel gone, stopping the command' "$W/daemon.err" ||
	fail "rvmigd did not stop the command of a killed tunnel"
kill -0 "$DPID" 2>/dev/null || fail "rvmigd did not survive"
grep -q "too many connections" "$W/daemon.err" || fail "rvmigd did not log the refusal"
note "rvmigd: $(grep -m1 'too many connections' "$W/daemon.err")"
echo "PASS [rvmigd sessions]"
