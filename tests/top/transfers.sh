#!/usr/bin/env bash
# unit.top.transfers: rvmig transfers seen by the monitor.  A real
# rvmig-recv and a real rvmig-send over TCP on loopback, the stream fed in
# three parts held back by gates, each in its own run directory
# (RVMIG_RUN_DIR); rvmig-top -b --json samples every 0.2 s meanwhile.
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
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/top.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
	exit 1
}
now() { echo "$EPOCHREALTIME"; }
# Polls until the command succeeds or the deadline (s) passes.
wait_for() { # seconds, command...
	local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.25
	done
}
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

# rvmig-top samples all along (its first line comes after 0.2 s).
"$top" -b -d 0.2 --json >"$tmp/top.json" 2>"$tmp/top.log" & topp=$!; pids+=("$topp")

echo "== receiver ($(date +%T.%N | cut -c1-12))"
t_recv=$(now)
"$RVMIG_RECV" --listen tcp://127.0.0.1:0 -o "$tmp/out.bin" --ready-file "$tmp/ready" \
	--accept-timeout 60000 2>"$tmp/rx.err" & rpid=$!; pids+=("$rpid")
wait_for 20 test -s "$tmp/ready" || fail "the receiver did not listen"
port=$(cat "$tmp/ready")

# The newest sampled line that shows the transfer of PID with a state,
# checked by the Python expression COND on it (x: the transfer, t: time).
seen() { # pid cond
	python3 - "$tmp/top.json" "$1" "$2" <<'PY'
import json, sys
path, pid, cond = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path).read().splitlines()
for line in reversed(lines):
    try:
        it = json.loads(line)
    except ValueError:
        continue  # a line being written
    for x in it["transfers"]:
        if x["pid"] == pid:
            t = it["time"]
            sys.exit(0 if eval(cond) else 1)
    sys.exit(1)
sys.exit(1)
PY
}
wait_for 10 seen "$rpid" 'x["state"] == "setup" and x["tool"] == "rvmig-recv"' ||
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
# may lag by its 0.2 s period; the deadline of the wait is wider, the
# check on the sample's time is the one that counts).
wait_for 10 seen "$spid" 'x["tool"] == "rvmig-send"' || fail "the sender never showed"
python3 - "$tmp/top.json" "$spid" "$rpid" "$t_send" "$t_recv" <<'PY' || fail "too slow to show"
import json, sys
path, spid, rpid, t_send, t_recv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
first = {}
for line in open(path).read().splitlines():
    try:
        it = json.loads(line)
    except ValueError:
        continue
    for x in it["transfers"]:
        first.setdefault(x["pid"], it["time"])
d_send, d_recv = first[spid] - t_send, first[rpid] - t_recv
print(f"shown {d_send:.2f} s after the sender started, {d_recv:.2f} s after the receiver")
assert d_send < 1.0 and d_recv < 1.0, (d_send, d_recv)
PY

# After part 1: both ends active, counters sane.
sane='x["state"] == "active" and x["transport"] == "tcp" and x["mode"] == "push" and x["peer"] != "" and x["bytes_processed"] >= 4 << 20 and x["pages"] > 0 and 0 < x["zero_pages"] < x["pages"] and x["cpu_s"] > 0 and x["bytes_total"] is None and x["elapsed_s"] > 0'
wait_for 30 seen "$spid" "$sane" || fail "sender counters after part 1: $(tail -n1 "$tmp/top.json")"
wait_for 30 seen "$rpid" "$sane" || fail "receiver counters after part 1: $(tail -n1 "$tmp/top.json")"
tail -n1 "$tmp/top.json"
p1=$(python3 -c "import json,sys; it=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(min(x['bytes_processed'] for x in it['transfers'] if x['pid'] in ($spid, $rpid)))" "$tmp/top.json")

echo "== /metrics while the transfer is held ($(date +%T.%N | cut -c1-12))"
if [ "$exporter" = 1 ] && command -v promtool >/dev/null; then
	mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$top" --listen "127.0.0.1:$mport" -d 0.2 2>"$tmp/exp.err" & ep=$!; pids+=("$ep")
	has_series() {
		curl -sf -o "$tmp/metrics" "http://127.0.0.1:$mport/metrics" &&
			grep -q "^rvmig_transfer_bytes_total{tool=\"rvmig-send\",pid=\"$spid\"" "$tmp/metrics"
	}
	wait_for 10 has_series || fail "no rvmig_transfer_bytes_total of the sender on /metrics"
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
else
	fail "promtool or the exporter missing (Debian package prometheus, libmicrohttpd)"
fi

echo "== part 2: the counters grow ($(date +%T.%N | cut -c1-12))"
open_gate "$tmp/gate1"
grow="x['bytes_processed'] >= $p1 + (4 << 20)"
wait_for 30 seen "$spid" "$grow" || fail "the sender's counters did not grow"
wait_for 30 seen "$rpid" "$grow" || fail "the receiver's counters did not grow"
tail -n1 "$tmp/top.json"

echo "== the rest, then both gone ($(date +%T.%N | cut -c1-12))"
open_gate "$tmp/gate2"
wait "$spid" || fail "rvmig-send exited $?"
wait "$rpid" || fail "rvmig-recv exited $?"
t_end=$(now)
cmp "$tmp/in.bin" "$tmp/out.bin" || fail "output differs"
gone() {
	python3 - "$tmp/top.json" "$spid" "$rpid" "$t_end" <<'PY'
import json, sys
path, spid, rpid, t_end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
after = []
for line in open(path).read().splitlines():
    try:
        it = json.loads(line)
    except ValueError:
        continue
    if it["time"] > t_end:
        after.append(it)
if not after:
    sys.exit(1)
# gone from the first sample taken after both exited, for good
for it in after:
    assert not [x for x in it["transfers"] if x["pid"] in (spid, rpid)], it
print(f"gone {after[0]['time'] - t_end:.2f} s after the end; {len(after)} samples after it")
PY
}
wait_for 3 gone || fail "the transfers are still shown after they ended"
[ -z "$(ls "$RVMIG_RUN_DIR" | grep -E "^($spid|$rpid)\.xfer$")" ] || fail "a transfer file left behind"

echo "== planted files ($(date +%T.%N | cut -c1-12))"
kill -TERM "$topp"; wait "$topp" || fail "rvmig-top -b exited $? (planted files made it fail?)"
python3 - "$tmp/top.json" "$sleeper" <<'PY'
import json, sys
pid = int(sys.argv[2])
it = json.loads(open(sys.argv[1]).read().splitlines()[-1])
tools = {x["pid"]: x["tool"] for x in it["transfers"]}
assert tools == {pid: 'a"b\\\\c\\x1b[31m'}, tools
print("planted record shown escaped, garbage ignored:", tools)
PY
[ ! -e "$RVMIG_RUN_DIR/$dead.xfer" ] || fail "the dead process's file was not removed"
[ -e "$RVMIG_RUN_DIR/1.xfer" ] || fail "garbage removed (it is not ours)"
"$top" -b -d 0.2 -i 1 >"$tmp/table" 2>/dev/null
cat "$tmp/table"
grep -q "a\"b\\\\\\\\c\\\\x1b" "$tmp/table" || fail "table: planted tool name"
! grep -q $'\x1b' "$tmp/table" || fail "an escape byte reached the table"
"$top" -b -d 0.2 -i 1 --csv >"$tmp/csv" 2>/dev/null
grep -q "^[0-9.]*,[0-9.]*,\"a\"\"b\\\\\\\\c\\\\x1b\[31m\",transfer,$sleeper,active," "$tmp/csv" || fail "csv: planted row"
echo "transfers test passed"
