# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared helpers of the end-to-end tests (run.sh, resume.sh): sourced after
# CASE is set.  See run.sh for the environment.
#
# Readiness is waited for on the file the receiver writes its port to
# (--ready-file), never by sleeping.
: "${RVMIG_SEND:?}" "${RVMIG_RECV:?}"
TRANSPORT=${RVMIG_E2E_TRANSPORT:-tcp}
HOST=${RVMIG_E2E_HOST:-}
if [ -z "$HOST" ]; then
	if [ "$TRANSPORT" = verbs ]; then
		HOST=${RVMIG_RXE_ADDR:?verbs needs RVMIG_RXE_ADDR (run inside tests/harness/rxe-vm)}
	else
		HOST=127.0.0.1
	fi
fi
W=${RVMIG_E2E_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/rvmig-e2e.XXXXXX")}
mkdir -p "$W"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -z "${RVMIG_E2E_KEEP:-}" ] && rm -rf "$W"
}
trap cleanup EXIT

fail() {
	echo "FAIL [$CASE]: $*" >&2
	for f in "$W"/*.err; do
		[ -f "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}
note() { echo "[$CASE] $*" >&2; }

uri() { echo "$TRANSPORT://$HOST:$1"; }

# json_num FILE KEY: a top-level number/bool from the tools' --stats-json
json_get() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1"; }

# start_recv NAME OUT [opts...]: starts rvmig-recv in the background (on
# port $RECV_PORT, default 0: any); sets RPID and PORT.  stderr goes to
# $W/NAME.err, stdout to $W/NAME.stdout (or $RECV_STDOUT).  $RECV_WRAP, if
# set, is a command (split at spaces) that runs rvmig-recv.
start_recv() {
	local name=$1 out=$2
	shift 2
	rm -f "$W/$name.ready"
	# shellcheck disable=SC2086  # RECV_WRAP: a command and its arguments
	${RECV_WRAP:-} "$RVMIG_RECV" --listen "$(uri "${RECV_PORT:-0}")" -o "$out" --ready-file "$W/$name.ready" \
		--accept-timeout 60000 "$@" >"${RECV_STDOUT:-$W/$name.stdout}" 2>"$W/$name.err" &
	RPID=$!
	PIDS+=("$RPID")
	PORT=
	# Wait for the port the receiver writes (one small write) into its ready
	# file once it listens; stop early if it died instead.  (Not `read -t`
	# on a FIFO: bash can lose a byte read just before the timeout fires.)
	for _ in $(seq 1200); do
		if [ -s "$W/$name.ready" ]; then
			read -r PORT <"$W/$name.ready"
			break
		fi
		kill -0 "$RPID" 2>/dev/null || fail "receiver $name exited before listening"
		sleep 0.05
	done
	[ -n "$PORT" ] || fail "receiver $name reported no port"
}

# wait_rc PID: waits (in this shell: the tools are its children) and sets rc
wait_rc() { wait "$1"; rc=$?; }

gen() { # gen OUT MIB SEED [--corrupt]
	"${GEN_STREAM:?}" "$@" 2>>"$W/gen.log" || fail "gen_stream $*"
}

fixture() { # fixture VAR: the unpacked real Xen fixture that environment variable VAR names
	local v=${1:-RVMIG_FIXTURE_PV}
	local f=${!v:-}
	[ -n "$f" ] && [ -s "$f" ] || fail "the real Xen fixture $v='$f' is missing: the unit.fixture_unpack test unpacks it from tests/fixtures (run the tests with ctest)"
	echo "$f"
}

# check_stats JSON INPUT: the stats file describes a successful transfer of INPUT
check_stats() {
	local j=$1 in=$2 sha
	[ -s "$j" ] || fail "no stats file $j"
	[ "$(json_get "$j" ok)" = true ] || fail "$j: ok is not true"
	[ "$(json_get "$j" bytes)" = "$(stat -c %s "$in")" ] || fail "$j: bytes $(json_get "$j" bytes) != size of $in"
	case $(json_get "$j" digest_algorithm) in
	xxh128) sha=$(xxhsum -H2 "$in" | cut -d' ' -f1) ;;
	sha256) sha=$(sha256sum "$in" | cut -d' ' -f1) ;;
	*) fail "$j: digest_algorithm is '$(json_get "$j" digest_algorithm)', not xxh128 or sha256" ;;
	esac
	[ "$(json_get "$j" digest)" = "$sha" ] ||
		fail "$j: $(json_get "$j" digest_algorithm) digest $(json_get "$j" digest) differs from the input's ($sha, xxhsum -H2 / sha256sum)"
	[ "$(json_get "$j" transport)" = "$TRANSPORT" ] || fail "$j: transport is not $TRANSPORT"
	grep -q '"requests_done"' "$j" || fail "$j: library counters missing"
	for k in seconds gbit_per_s cpu_seconds max_rss_kib pages zero_pages_elided bytes_saved; do
		[ -n "$(json_get "$j" $k)" ] || fail "$j: $k missing"
	done
}

# tty_lines FILE: what a tool wrote on a terminal, one line per carriage
# return, without the "clear to end of line" that ends the progress bar
tty_lines() { tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g'; }

# summary ERR: the summary line that rvmig-send ("sent ...") or rvmig-recv
# ("received ...") wrote into ERR (a file or what on-tty logged); fails if
# there is none.  Call as `x=$(summary F) || exit 1`.
summary() {
	tty_lines "$1" | grep -a -E '^rvmig-(send: sent|recv: received) ' ||
		fail "no summary line in $1"
}

# rate_units FILE: the unit of every rate ("0.214 Gbit/s" -> Gbit/s) in
# FILE, one per line, each once
rate_units() {
	tty_lines "$1" | grep -a -o -E '[0-9][0-9.]* [A-Za-z]+/s' | sed 's/.* //' | sort -u
}

# file_to_file IN [opts...]: file -> file transfer, checked (opts go to both
# tools, $SEND_OPTS to the sender only)
file_to_file() {
	local in=$1 out="$W/out.bin" rc
	shift
	rm -f "$out"
	start_recv rx "$out" --stats-json "$W/rx.json" "$@"
	# shellcheck disable=SC2086  # SEND_OPTS: options for the sender only
	"$RVMIG_SEND" "$in" "$(uri "$PORT")" --stats-json "$W/tx.json" "$@" ${SEND_OPTS:-} 2>"$W/tx.err"
	rc=$?
	[ "$rc" = 0 ] || fail "rvmig-send exited $rc"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv exited $rc"
	cmp "$in" "$out" || fail "output differs from $in"
	no_temp_file "a temporary file was left behind"
	check_stats "$W/tx.json" "$in"
	check_stats "$W/rx.json" "$in"
	note "file->file $(basename "$in") $* ok: $(json_get "$W/tx.json" bytes) bytes, $(json_get "$W/tx.json" zero_pages_elided) zero pages elided, $(json_get "$W/tx.json" gbit_per_s) Gbit/s"
}

# pipe_to_pipe IN [opts...]: cat IN | rvmig-send - ; rvmig-recv -o - > out
pipe_to_pipe() {
	local in=$1 out="$W/pipe.out" rc
	shift
	start_recv rxp - --stats-json "$W/rxp.json" "$@"
	cat "$in" | "$RVMIG_SEND" - "$(uri "$PORT")" --stats-json "$W/txp.json" "$@" 2>"$W/txp.err"
	rc=$?
	[ "$rc" = 0 ] || fail "cat | rvmig-send - exited $rc"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv -o - exited $rc"
	cmp "$in" "$W/rxp.stdout" || fail "stdout of rvmig-recv differs from $in"
	check_stats "$W/txp.json" "$in"
	check_stats "$W/rxp.json" "$in"
	note "pipe->pipe $(basename "$in") $* ok"
}

# start_gated_sender IN HALF: `head -c HALF IN; wait for the gate; rest` | rvmig-send -
# Returns once HALF bytes went into the pipe (so, with HALF larger than
# every buffer on the way, the transfer is under way).  Sets SPID.  Open the
# gate before waiting for SPID: bash waits for the whole pipeline.
start_gated_sender() {
	local in=$1 half=$2
	mkfifo "$W/half" "$W/gate"
	exec 8<>"$W/half"
	{ head -c "$half" "$in"; echo >"$W/half"; read -r _ <"$W/gate"; tail -c +$((half + 1)) "$in"; } |
		"$RVMIG_SEND" - "$(uri "$PORT")" 2>"$W/tx.err" &
	SPID=$!
	PIDS+=("$SPID")
	read -r -t 120 _ <&8 || fail "the producer did not get half of the stream into rvmig-send"
	exec 8<&-
}
open_gate() { echo >"$W/gate" & PIDS+=($!); }
# let_gate_through: a producer still waiting at its gate (a case that failed
# before open_gate) is let through, so that a wait for its pipeline ends
let_gate_through() { [ ! -p "$W/gate" ] || { exec 9<>"$W/gate"; echo >&9; }; }

# no_temp_file MSG: no PATH.rvmig-partial-* is left in the work directory
no_temp_file() {
	local f
	for f in "$W"/*.rvmig-partial-*; do
		[ -e "$f" ] && fail "$1: $f"
	done
	return 0
}

no_final_file() {
	[ ! -e "$1" ] || fail "$1 exists after a failed transfer"
}

