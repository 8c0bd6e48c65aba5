# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared by the rvmigd scripts of the conformance tier (rvmigd_sessions.sh,
# rvmigd_keyless.sh), sourced once NAME (for messages) is set: a work
# directory $W removed at exit together with the processes in PIDS and
# rvmigd, fail (with the *.err and *.peers files) and note, rvmigd started
# with a new key on a port it reports (start_daemon), and tunnel().
#
# Environment: RVMIG_TUNNEL, RVMIGD (set by CMake); RVMIG_TEST_TRANSPORT
# (tcp), RVMIG_TEST_HOST (127.0.0.1; in the soft-RoCE VM $RVMIG_RXE_ADDR).
: "${RVMIG_TUNNEL:?}" "${RVMIGD:?}" "${NAME:?}"
TRANSPORT=${RVMIG_TEST_TRANSPORT:-tcp}
HOST=${RVMIG_TEST_HOST:-${RVMIG_RXE_ADDR:-127.0.0.1}}
W=$(mktemp -d "${TMPDIR:-/tmp}/rvmigd-$NAME.XXXXXX")
DPID=
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
fail() {
	echo "FAIL [rvmigd $NAME]: $*" >&2
	for f in "$W"/*.err "$W"/*.peers; do
		[ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}
note() { echo "[rvmigd $NAME] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }

# start_daemon OPTS...: rvmigd -v with OPTS on an unused port, a new key in
# $W/key, its stderr in $W/daemon.err; sets DPID and PORT
start_daemon() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/key" && chmod 600 "$W/key"
	mkfifo "$W/ready" || fail mkfifo
	exec 9<>"$W/ready"
	"$RVMIGD" --listen "$TRANSPORT://$HOST:0" --key-file "$W/key" --ready-file "$W/ready" \
		"$@" -v 2>"$W/daemon.err" &
	DPID=$!
	read -r -t 60 PORT <&9 || fail "rvmigd reported no port"
	exec 9<&-
}

tunnel() { "$RVMIG_TUNNEL" --uri-template "$TRANSPORT://%h:$PORT" --key-file "$W/key" "$@"; }
