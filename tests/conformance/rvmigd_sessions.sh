#!/bin/bash
# SPDX-License-Identifier: MIT
#
# rvmigd --max-sessions: two tunnels are served at the same time (each runs
# `cat`, reading a FIFO this script holds open until the third tunnel has
# tried), a third is refused with "too many connections (limit 2)" on
# rvmig-tunnel's stderr, and once a session has ended a new tunnel is
# served (it also pushes 3 MiB through `cat`, compared byte for byte, so the
# daemon's non-blocking stdin path is exercised next to a running session).
#
# Environment: see rvmigd_lib.sh.
set -u
# shellcheck disable=SC2034  # read by rvmigd_lib.sh
NAME=sessions
# shellcheck source=rvmigd_lib.sh
. "$(dirname "$0")/rvmigd_lib.sh"

start_daemon --max-sessions 2 --allow sleep --allow cat

# Sessions A and B last until their stdin (a FIFO held open here) ends.
mkfifo "$W/a.in" "$W/b.in" || fail mkfifo
exec 5<>"$W/a.in" 6<>"$W/b.in"
t0=$(now)
# (not holding the FIFOs' write ends themselves: 5>&- 6>&-)
tunnel "$HOST" cat <"$W/a.in" >"$W/a.out" 2>"$W/a.err" 5>&- 6>&- & PA=$!; PIDS+=("$PA")
tunnel "$HOST" cat <"$W/b.in" >"$W/b.out" 2>"$W/b.err" 5>&- 6>&- & PB=$!; PIDS+=("$PB")
# both sessions must be running before the third tunnel tries
for _ in $(seq 600); do
	[ "$(grep -c 'running cat' "$W/daemon.err")" -ge 2 ] && break
	kill -0 "$DPID" 2>/dev/null || fail "rvmigd died"
	sleep 0.1
done
[ "$(grep -c 'running cat' "$W/daemon.err")" -ge 2 ] || fail "two sessions did not run at once"

t1=$(now)
tunnel "$HOST" sleep 0 </dev/null >"$W/c.out" 2>"$W/c.err" 5>&- 6>&-
rc=$?
took=$(elapsed "$t1")
[ "$rc" != 0 ] || fail "a third tunnel was served with --max-sessions 2"
grep -q "refused the connection: too many connections (limit 2)" "$W/c.err" ||
	fail "the third tunnel does not report the limit"
note "third tunnel refused in ${took}s (exit $rc); its stderr:"; sed "s/^/    /" "$W/c.err" >&2
# (the reason it names shows it was refused, not timed out)

exec 5>&- 6>&- # end A's and B's input: their cat ends, and so do they
wait "$PA"; ra=$?
wait "$PB"; rb=$?
PIDS=()
both=$(elapsed "$t0")
[ "$ra" = 0 ] && [ "$rb" = 0 ] || fail "cat tunnels exited $ra / $rb"
note "two concurrent 'cat' sessions finished after ${both}s"
# both commands were started before either of them ended
second=$(grep -n 'running cat' "$W/daemon.err" | sed -n 2p | cut -d: -f1)
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
for _ in $(seq 600); do
	[ "$(grep -c 'running sleep' "$W/daemon.err")" -ge 1 ] && break
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
