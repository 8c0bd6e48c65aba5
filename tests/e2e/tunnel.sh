#!/bin/bash
# SPDX-License-Identifier: MIT
#
# rvmig-tunnel + rvmigd as real processes over TCP on 127.0.0.1 (label
# unit).  The "remote command" is fake-migrate-receive (xl's receiver side
# of the migration handshake); the test plays xl's sending side: it writes
# a generated Xen stream into the tunnel, waits for the receiver's "ready to
# unpause" on the tunnel's stdout, then sends the 44-byte permission
# message and closes stdin.
#
#   tunnel.sh CASE      CASE: migrate | refuse | plain
#
# Environment: RVMIG_TUNNEL, RVMIGD, GEN_STREAM (set by CMake);
# RVMIG_E2E_TRANSPORT / RVMIG_E2E_HOST as in run.sh.
set -u
CASE=${1:?usage: tunnel.sh CASE}
: "${RVMIG_TUNNEL:?}" "${RVMIGD:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
FAKE=$HERE/fake-migrate-receive
TRANSPORT=${RVMIG_E2E_TRANSPORT:-tcp}
HOST=${RVMIG_E2E_HOST:-127.0.0.1}
W=$(mktemp -d "${TMPDIR:-/tmp}/rvmig-tunnel.XXXXXX")
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -z "${RVMIG_E2E_KEEP:-}" ] && rm -rf "$W"
}
trap cleanup EXIT
fail() {
	echo "FAIL [tunnel $CASE]: $*" >&2
	for f in "$W"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done
	exit 1
}
note() { echo "[tunnel $CASE] $*" >&2; }

key() { # key FILE: 32 random bytes, mode 0600
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$1" && chmod 600 "$1"
}
key "$W/key"

# start_daemon [--allow CMD]...: rvmigd on a free port; sets PORT
start_daemon() {
	mkfifo "$W/ready" || fail mkfifo
	exec 9<>"$W/ready"
	"$RVMIGD" --listen "$TRANSPORT://$HOST:0" --key-file "$W/key" --ready-file "$W/ready" \
		"$@" 2>"$W/daemon.err" &
	DPID=$!
	PORT=
	_partial=
	for _ in $(seq 60); do
		# read -t keeps what it got before a timeout: collect it (a port
		# written just as the second ends must not lose its first digits).
		if read -r -t 1 _part <&9; then PORT=${_partial:-}$_part; break; fi
		_partial=${_partial:-}${_part:-}
		kill -0 "$DPID" 2>/dev/null || fail "rvmigd exited before listening"
	done
	exec 9<&-
	[ -n "$PORT" ] || fail "rvmigd reported no port"
}

tunnel() { # tunnel [opts] HOST CMD...: rvmig-tunnel with our URI template and key
	"$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key" "$@"
}

# xl_side STREAM STDOUT ERR STATUS: plays `xl migrate` against the tunnel
# running fake-migrate-receive; sets rc (the tunnel's exit status).
xl_side() {
	local stream=$1 out=$2 err=$3 status=$4 len
	len=$(stat -c %s "$stream")
	rm -f "$W/in" && mkfifo "$W/in"
	# shellcheck disable=SC2086  # TUNNEL_OPTS: extra options
	tunnel ${TUNNEL_OPTS:-} "$HOST" "$FAKE" "$W/remote.bin" "$len" "$status" <"$W/in" >"$out" 2>"$err" &
	local tp=$!
	exec 7>"$W/in"
	cat "$stream" >&7
	# the stream must arrive although stdin stays open
	for _ in $(seq 600); do
		grep -aq 'ready to unpause' "$out" && break
		kill -0 "$tp" 2>/dev/null || break
		sleep 0.1
	done
	grep -aq 'ready to unpause' "$out" || { exec 7>&-; wait "$tp"; fail "no 'ready to unpause' from the remote while stdin is open"; }
	printf 'domain is yours, you are cleared to unpause\0' >&7
	exec 7>&-
	wait "$tp"
	rc=$?
}

expected_stdout() {
	printf 'xl migration receiver ready, send binary domain data.\n\0'
	printf 'domain received, ready to unpause\0'
	printf 'my copy unpause results are as follows\0\0'
}

case $CASE in
migrate)
	: "${GEN_STREAM:?}"
	"$GEN_STREAM" "$W/stream.bin" 24 7 2>"$W/gen.err" || fail "gen_stream"
	start_daemon --allow "$FAKE"
	t0=$(date +%s.%N)
	xl_side "$W/stream.bin" "$W/out" "$W/tunnel.err" 7
	t1=$(date +%s.%N)
	[ "$rc" = 7 ] || fail "rvmig-tunnel exited $rc, the remote command 7"
	cmp "$W/stream.bin" "$W/remote.bin" || fail "the remote command got other bytes than sent"
	expected_stdout | cmp - "$W/out" || fail "stdout is not exactly the remote command's stdout"
	grep -q "fake receiver: got" "$W/tunnel.err" || fail "the remote's stderr did not come back on stderr"
	# and rvmigd's own log says why the command exited non-zero (its stderr)
	grep -q "command exited with status 7 after reading [0-9]* bytes; its stderr: fake receiver: got" \
		"$W/daemon.err" || fail "rvmigd did not log the command's stderr with its exit status 7"
	note "$(stat -c %s "$W/stream.bin") bytes + 44-byte message through the tunnel, handshake ok, exit 7 passed on, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	# -v: the stream was recognised, its pages went as bulk requests
	TUNNEL_OPTS=-v xl_side "$W/stream.bin" "$W/out" "$W/tunnel-v.err" 0
	[ "$rc" = 0 ] || fail "second run (-v) exited $rc"
	cmp "$W/stream.bin" "$W/remote.bin" || fail "second run: other bytes"
	expected_stdout | cmp - "$W/out" || fail "second run: stdout differs"
	grep -q "(Xen stream; [1-9][0-9]* pages.*remote received all of it, xxh128 digest verified" "$W/tunnel-v.err" \
		|| fail "-v does not report a parsed Xen stream with pages, received whole with a matching digest"
	note "$(grep -o '[0-9]* bytes of stdin.*' "$W/tunnel-v.err")"
	;;
refuse)
	start_daemon --allow "$FAKE"
	printf 'hello' >"$W/small"
	tunnel "$HOST" cat <"$W/small" >"$W/out" 2>"$W/refused.err"
	rc=$?
	[ "$rc" = 255 ] || fail "a command not on the allow-list: exit $rc, want 255"
	[ ! -s "$W/out" ] || fail "stdout is not empty after a refusal"
	grep -q "not allowed" "$W/refused.err" || fail "the refusal does not say 'not allowed'"
	note "not-allowed command refused: $(grep -m1 'not allowed' "$W/refused.err")"
	key "$W/key2"
	"$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key2" "$HOST" \
		"$FAKE" "$W/x" 5 <"$W/small" >"$W/out" 2>"$W/wrongkey.err"
	rc=$?
	[ "$rc" = 255 ] || fail "wrong key: exit $rc, want 255"
	[ ! -s "$W/out" ] || fail "stdout is not empty with a wrong key"
	[ ! -e "$W/x" ] || fail "the command ran for a client with a wrong key"
	note "wrong key refused: $(grep -v '^rvmig\[' "$W/wrongkey.err" | head -1)"
	chmod 644 "$W/key2"
	"$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key2" "$HOST" \
		"$FAKE" "$W/x" 5 <"$W/small" >"$W/out" 2>"$W/perm.err"
	rc=$?
	[ "$rc" = 255 ] || fail "world-readable key: exit $rc, want 255"
	[ ! -s "$W/out" ] || fail "stdout is not empty with a bad key file"
	kill -0 "$DPID" 2>/dev/null || fail "rvmigd did not survive the refused clients"
	# and it still serves an allowed command afterwards
	"$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key" "$HOST" \
		"$FAKE" "$W/x" 5 3 <"$W/small" >"$W/out" 2>"$W/after.err"
	rc=$?
	[ "$rc" = 5 ] || fail "after refusals: exit $rc, want 5 (fake receiver: short permission message)"
	;;
plain)
	# not a Xen stream: everything goes as plain ordered messages
	start_daemon --allow "cat"
	head -c 3000000 /dev/urandom >"$W/rand.bin"
	tunnel -v "$HOST" cat <"$W/rand.bin" >"$W/out" 2>"$W/plain.err"
	rc=$?
	[ "$rc" = 0 ] || fail "cat through the tunnel exited $rc"
	cmp "$W/rand.bin" "$W/out" || fail "cat through the tunnel changed the bytes"
	grep -q "not a Xen stream" "$W/plain.err" || fail "-v does not say the input went as plain bytes"
	grep -q "xxh128 digest verified" "$W/plain.err" || fail "-v does not report the digest verified"
	note "3000000 random bytes through cat: identical"
	;;
*)
	fail "unknown case"
	;;
esac
exit 0
