#!/usr/bin/env bash
# unit.top.transfers: rvmig transfers seen by the monitor.  A real
# rvmig-recv and a real rvmig-send over TCP on loopback, the stream fed in
# three parts held back by gates, in a run directory of its own
# (RVMIG_RUN_DIR); rvmig-top -b --json samples every 0.1 s meanwhile.
# Checked: the receiver shows (setup) within 1 s of starting, the sender
# within 1 s of starting, both with sane counters that grow when the next
# part goes; the exporter's /metrics carries the rvmig_transfer_* series and
# passes promtool; both transfers are gone within 1 s of their end.  Planted
# files: garbage, a record naming another pid, one of a dead process
# (removed) and a valid one for a live process whose tool name holds a
# quote, a backslash and an escape byte (shown, escaped, in every form).
#
#   transfers.sh RVMIG-TOP EXPORTER   (EXPORTER: 1 when built with --listen;
#   environment: RVMIG_SEND RVMIG_RECV GEN_STREAM)
set -euo pipefail
top=$1
exporter=$2
: "${RVMIG_SEND:?}" "${RVMIG_RECV:?}" "${GEN_STREAM:?}"
. "$(dirname "$0")/../lib/scratch.sh"
. "$(dirname "$0")/../lib/topjson.sh"
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/top.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
	exit 1
}
now() { echo "$EPOCHREALTIME"; }
export RVMIG_RUN_DIR=$tmp/run
mkdir -m 0755 "$RVMIG_RUN_DIR"

echo "== planted files in $RVMIG_RUN_DIR ($(date +%T.%N | cut -c1-12))"
sleep 600 & sleeper=$!; pids+=("$sleeper")
start=$(awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[20] }' "/proc/$sleeper/stat")
printf 'rvmig-transfers 1\npid %d\npid_start %s\ntool a"b\\\\c\\x1b[31m\ntransfer 1\nstate active\npeer 10.0.0.9:1\ntransport tcp\nmode pull\ndata_processed 5\nend\n' \
	"$sleeper" "$start" >"$RVMIG_RUN_DIR/$sleeper.xfer"
head -c 3000 /dev/urandom >"$RVMIG_RUN_DIR/1.xfer"
printf 'rvmig-transfers 1\npid 2\npid_start 1\ntool other\nend\n' >"$RVMIG_RUN_DIR/$$.xfer"
sh -c 'exit 0' & dead=$!; wait "$dead"
printf 'rvmig-transfers 1\npid %d\npid_start 1\ntool ghost\ntransfer 1\nstate active\nend\n' \
	"$dead" >"$RVMIG_RUN_DIR/$dead.xfer"
printf 'junk\n' >"$RVMIG_RUN_DIR/notes.txt"

"$GEN_STREAM" "$tmp/in.bin" 24 7 2>"$tmp/gen.err"
part=$((8 << 20))

# rvmig-top samples all along (its first line comes after 0.1 s).
"$top" -b -d 0.1 --json >"$tmp/top.json" 2>"$tmp/top.log" & topp=$!; pids+=("$topp")

echo "== receiver ($(date +%T.%N | cut -c1-12))"
t_recv=$(now)
"$RVMIG_RECV" --listen tcp://127.0.0.1:0 -o "$tmp/out.bin" --ready-file "$tmp/ready" \
	--accept-timeout 60000 2>"$tmp/rx.err" & rpid=$!; pids+=("$rpid")
wait_for 20 test -s "$tmp/ready" || fail "the receiver did not listen"
port=$(cat "$tmp/ready")

# xfer PID: the transfer object of PID in the newest complete line.
xfer() { topjson_xfer "$tmp/top.json" "$1"; }
field() { topjson_field "$@"; }
ms() { topjson_ms "$1"; }
is_setup() { # pid tool
	local o
	o=$(xfer "$1")
	[ "$(field "$o" state)" = '"setup"' ] && [ "$(field "$o" tool)" = "\"$2\"" ]
}
# After part 1: active, over TCP, pushing, a peer, >= MIN bytes, pages with
# some (not all) zero, CPU time and elapsed time counted, size unknown (a pipe).
is_sane() { # pid min
	local o
	o=$(xfer "$1")
	[ "$(field "$o" state)" = '"active"' ] && [ "$(field "$o" transport)" = '"tcp"' ] &&
		[ "$(field "$o" mode)" = '"push"' ] && [ "$(field "$o" peer)" != '""' ] &&
		[ "$(field "$o" bytes_processed)" -ge "$2" ] && [ "$(field "$o" pages)" -gt 0 ] &&
		[ "$(field "$o" zero_pages)" -gt 0 ] &&
		[ "$(field "$o" zero_pages)" -lt "$(field "$o" pages)" ] &&
		[ "$(field "$o" cpu_s)" != 0.000 ] && [ "$(field "$o" elapsed_s)" != 0.000 ] &&
		[ "$(field "$o" bytes_total)" = null ]
}
processed() { field "$(xfer "$1")" bytes_processed; }
wait_for 10 is_setup "$rpid" rvmig-recv ||
	fail "the waiting receiver is not in rvmig-top's output"

echo "== sender, fed in three parts ($(date +%T.%N | cut -c1-12))"
mkfifo "$tmp/gate1" "$tmp/gate2" "$tmp/feed"
# A gate opens when a line is written into it; the producer waits there.
open_gate() { timeout 30 sh -c 'echo >"$1"' _ "$1" || fail "the producer is not at $1"; }
{ set +e +o pipefail; head -c "$part" "$tmp/in.bin"; read -r _ <"$tmp/gate1";
  tail -c +$((part + 1)) "$tmp/in.bin" | head -c "$part"; read -r _ <"$tmp/gate2";
  tail -c +$((2 * part + 1)) "$tmp/in.bin"; } >"$tmp/feed" & prod=$!; pids+=("$prod")
t_send=$(now)
"$RVMIG_SEND" - "tcp://127.0.0.1:$port" <"$tmp/feed" 2>"$tmp/tx.err" & spid=$!; pids+=("$spid")

# Both ends within 1 s of the sender's start (the first sample after that
# may lag by its 0.1 s period; the deadline of the wait is wider, the
# check on the sample's time is the one that counts).
shows() { [ -n "$(xfer "$1")" ]; }
wait_for 10 shows "$spid" || fail "the sender never showed"
first_ms() { topjson_first_ms "$tmp/top.json" "$1"; }
d_send=$(( $(first_ms "$spid") - $(ms "$t_send") ))
d_recv=$(( $(first_ms "$rpid") - $(ms "$t_recv") ))
echo "shown $d_send ms after the sender started, $d_recv ms after the receiver"
[ "$d_send" -lt 1000 ] && [ "$d_recv" -lt 1000 ] || fail "too slow to show"

# After part 1: both ends active, counters sane.
wait_for 30 is_sane "$spid" $((4 << 20)) || fail "sender counters after part 1: $(xfer "$spid")"
wait_for 30 is_sane "$rpid" $((4 << 20)) || fail "receiver counters after part 1: $(xfer "$rpid")"
echo "sender: $(xfer "$spid")"
echo "receiver: $(xfer "$rpid")"
p1=$(processed "$spid")
p1r=$(processed "$rpid")
[ "$p1r" -lt "$p1" ] && p1=$p1r

echo "== /metrics while the transfer is held ($(date +%T.%N | cut -c1-12))"
if [ "$exporter" = 1 ] && command -v promtool >/dev/null; then
	has_series() {
		curl -sf -o "$tmp/metrics" "http://127.0.0.1:$mport/metrics" &&
			grep -q "^rvmig_transfer_bytes_total{tool=\"rvmig-send\",pid=\"$spid\"" "$tmp/metrics"
	}
	# A random port; another one if it was taken (rvmig-top then exits).
	for _ in 1 2 3 4 5; do
		mport=$((20000 + RANDOM % 40000))
		"$top" --listen "127.0.0.1:$mport" -d 0.2 2>"$tmp/exp.err" & ep=$!; pids+=("$ep")
		wait_for 10 has_series && break
		! kill -0 "$ep" 2>/dev/null || fail "no rvmig_transfer_bytes_total of the sender on /metrics"
	done
	[ -s "$tmp/metrics" ] || fail "the exporter could not listen"
	grep '^rvmig_transfer_' "$tmp/metrics"
	promtool check metrics <"$tmp/metrics" || fail "promtool check metrics"
	for m in bytes_total rate_bytes_per_second pages_total zero_pages_total cpu_seconds_total start_time_seconds; do
		grep -q "^rvmig_transfer_${m}{tool=\"rvmig-recv\",pid=\"$rpid\",transfer=\"1\",peer=\"127.0.0.1:[0-9]*\",transport=\"tcp\",mode=\"push\"} " "$tmp/metrics" ||
			fail "rvmig_transfer_$m of the receiver missing"
	done
	grep -q "^rvmig_transfer_state{tool=\"rvmig-send\",pid=\"$spid\",.*,state=\"active\"} 1$" "$tmp/metrics" ||
		fail "the sender's state set"
	# size unknown (a pipe): no size, no remaining
	! grep -q "^rvmig_transfer_size_bytes{tool=\"rvmig-send\"" "$tmp/metrics" || fail "a size for a pipe"
	grep -qF "rvmig_transfer_bytes_total{tool=\"a\\\"b\\\\\\\\c\\\\x1b[31m\",pid=\"$sleeper\"" "$tmp/metrics" ||
		fail "the planted record's escaped labels"
	kill -TERM "$ep"; wait "$ep" || fail "the exporter did not exit 0"
elif [ "$exporter" = 1 ]; then
	fail "promtool not found (Debian package prometheus)"
else
	echo "rvmig-top was built without the exporter (no libmicrohttpd): /metrics not checked"
fi

echo "== part 2: the counters grow ($(date +%T.%N | cut -c1-12))"
open_gate "$tmp/gate1"
grown() { [ "$(processed "$1")" -ge $((p1 + (4 << 20))) ]; }
wait_for 30 grown "$spid" || fail "the sender's counters did not grow: $(xfer "$spid")"
wait_for 30 grown "$rpid" || fail "the receiver's counters did not grow: $(xfer "$rpid")"
echo "sender: $(xfer "$spid")"
echo "receiver: $(xfer "$rpid")"

echo "== the rest, then both gone ($(date +%T.%N | cut -c1-12))"
open_gate "$tmp/gate2"
wait "$spid" || fail "rvmig-send exited $?"
wait "$rpid" || fail "rvmig-recv exited $?"
t_end=$(now)
cmp "$tmp/in.bin" "$tmp/out.bin" || fail "output differs"
# Gone from every sample taken after both exited, and there is one (exit
# 2 when one of them still shows a transfer of theirs).
gone() { topjson_gone "$tmp/top.json" "$t_end" "$spid" "$rpid"; }
wait_for 3 gone || fail "the transfers are still shown after they ended (or no sample came)"
[ -z "$(ls "$RVMIG_RUN_DIR" | grep -E "^($spid|$rpid)\.xfer$")" ] || fail "a transfer file left behind"

echo "== planted files ($(date +%T.%N | cut -c1-12))"
kill -TERM "$topp"; wait "$topp" || fail "rvmig-top -b exited $? (planted files made it fail?)"
last=$(grep '}]}$' "$tmp/top.json" | tail -n 1)
[ "$(grep -o '"pid":' <<<"$last" | wc -l)" -eq 1 ] || fail "more than the planted transfer shown: $last"
grep -qF "{\"pid\":$sleeper,\"transfer\":1,\"tool\":\"a\\\"b\\\\\\\\c\\\\x1b[31m\"" <<<"$last" ||
	fail "the planted record, escaped in JSON: $last"
[ ! -e "$RVMIG_RUN_DIR/$dead.xfer" ] || fail "the dead process's file was not removed"
[ -e "$RVMIG_RUN_DIR/1.xfer" ] || fail "garbage removed (it is not ours)"
"$top" -b -d 0.2 -i 1 >"$tmp/table" 2>/dev/null
cat "$tmp/table"
grep -q "a\"b\\\\\\\\c\\\\x1b" "$tmp/table" || fail "table: planted tool name"
! grep -q $'\x1b' "$tmp/table" || fail "an escape byte reached the table"
"$top" -b -d 0.2 -i 1 --csv >"$tmp/csv" 2>/dev/null
grep -q "^[0-9.]*,[0-9.]*,\"a\"\"b\\\\\\\\c\\\\x1b\[31m\",transfer,$sleeper,active," "$tmp/csv" || fail "csv: planted row"
echo "transfers test passed"
