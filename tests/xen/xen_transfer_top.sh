# shellcheck shell=bash
# Mode "top" of xen_rvmig_transfer.sh (sourced by it): a transfer's metrics
# as the monitor shows them during an rvmig move in dom0 (issue 16), with
# the guest's own domain row in the same samples.
#
# `xl save -c` checkpoints the running guest into dom0's tmpfs and leaves
# it running; the checkpoint goes through a pipe into `rvmig-send -` and
# over tcp://127.0.0.1 to `rvmig-recv -o FILE`, while
# `rvmig-top -b -d 0.5 --json --backend xen` samples the host.  The pipe is
# fed in two parts with a gate between them, so that the middle of the
# transfer is seen however fast or slow the VM is.  Each tool's
# --stats-json is a FIFO: the tools mark their transfer ended before they
# write their statistics, so each waits there, its "completed" record
# published, until the test has seen that record and reads the FIFO (which
# also gives the tool's own final counts).  Checked, with these bounds:
#   - the receiver (setup, before the sender starts) and then the sender
#     show up within 1.5 s of their transfer's start time (the issue's 1 s,
#     plus the 0.5 s sampling interval; printed);
#   - after part 1 (32 MiB): both active, transport tcp, mode push, the
#     sender's peer the receiver's address, >= 16 MiB processed (what the
#     window may hold back), pages counted, size unknown (a pipe);
#   - the processed bytes never decrease from one sample to the next, and
#     end, in the completed record, equal to the checkpoint's size; pages
#     and zero pages there non-zero, and all three equal to the tool's own
#     final counts (--stats-json);
#   - every sample that shows the sender also shows the guest (by name, kind
#     domain, memory, 1 vCPU) and Domain-0: one rvmig-top shows both panes;
#   - both transfers are gone from the samples taken after the tools exit;
#   - the received file is the checkpoint, byte for byte.
# First, rvmig-top --backend xen run by user nobody in dom0 (the Xen
# libraries load, the privcmd device does not open) must exit 1 with one
# line naming xen, what failed and the errno text.
# The guest has no vif and no disk (tests/harness/xen/guest.cfg.in): there
# are no libxenstat network or VBD counters to check here.
#
# top_mode NAME RVMIG_TOP: needs send, recv, start_recv, PORT (the caller's).
. "$XENLIB_DIR/../lib/wait.sh"
. "$XENLIB_DIR/../lib/topjson.sh"

TOP_PIDS=()
top_cleanup() {
	local p
	for p in "${TOP_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	TOP_PIDS=()
}

# top_refused RVMIG_TOP: the check as nobody.  A copy of rvmig-top and
# librvmig in a directory nobody can reach (the build tree may not be).
top_refused() {
	local top=$1 u lib rc=0
	u=$(mktemp -d /tmp/rvmig-top-nobody.XXXXXX) && chmod 755 "$u" || return 1
	lib=$(ldd "$top" | awk '/librvmig/ { print $3 }')
	cp "$top" "$lib" "$u/" || { rm -rf "$u"; xen_err "top: cannot copy $top and $lib"; return 1; }
	setpriv --reuid=nobody --regid=nogroup --clear-groups env LD_LIBRARY_PATH="$u" \
		"$u/$(basename "$top")" --backend xen -b -i 1 -d 0.5 >/dev/null 2>"$u/err" || rc=$?
	sed 's/^/  nobody| /' "$u/err" >&2
	if ((rc != 1)) ||
		! grep -Eq 'monitor backend xen cannot work on this host: .*(xc_interface_open|/proc/xen|/dev/xen).*Permission denied' "$u/err"; then
		rm -rf "$u"
		xen_err "top: rvmig-top --backend xen as nobody exited $rc without one line naming xen, the call or file and the errno text"
		return 1
	fi
	rm -rf "$u"
}

top_mode() {
	local name=$1 top=$2
	local ck=$XEN_TMP/$name.top.save got=$XEN_TMP/$name.top.recv json=$XEN_TMP/top.json
	local d=$XEN_TMP/top.d t0 size part spid rpid tpid prod
	# Every poll forks a few processes, which is slow in a TCG dom0 that
	# also moves the checkpoint: poll every 0.5 s, as rvmig-top samples.
	local WAIT_FOR_POLL=0.5

	t0=$(xen_now)
	top_refused "$top" || return 1
	xen_time "top-refused(nobody)" "$(xen_elapsed "$t0")"
	mkdir -p "$d" || return 1
	t0=$(xen_now)
	xl save -c "$name" "$ck" >"$d/save.log" 2>&1 || {
		sed 's/^/  | /' "$d/save.log" >&2
		xen_err "xl save -c $name $ck failed"; return 1
	}
	xen_time "checkpoint($name)" "$(xen_elapsed "$t0")"
	xen_domain_exists "$name" || xen_err "guest $name is gone after xl save -c" || return 1
	XEN_LAST_TICK=$(last_tick "$name") # the caller's assert_running: ticks after it
	check_save_file "$ck" || return 1
	size=$(stat -c %s "$ck")
	part=$((32 << 20))

	"$top" -b -d 0.5 --json --backend xen >"$json" 2>"$d/top.err" &
	tpid=$!
	TOP_PIDS+=("$tpid")
	mkfifo "$d/rstats" "$d/sstats" "$d/feed" "$d/gate" || return 1

	local fail=0 o
	x() { topjson_xfer "$json" "$1"; }
	f() { topjson_field "$(x "$1")" "$2"; }
	shows() { [[ -n $(x "$1") ]]; }
	state() { [[ $(f "$1" state) == "\"$2\"" ]]; }
	top_fail() {
		local l
		for l in "$d"/*.log "$d/top.err"; do [[ -s $l ]] && sed "s#^#  $(basename "$l")| #" "$l" >&2; done
		tail -n 2 "$json" | cut -c1-2000 | sed 's/^/  top.json| /' >&2
		xen_err "top: $*"
	}
	# delay_ms VAR PID: ms from the transfer's own start (its publisher
	# writes the file then) to the first sample that shows it.
	delay_ms() {
		local first
		first=$(grep -m 1 "\"pid\":$2," "$json") || return 1
		first=$(grep -o "{\"pid\":$2,[^{}]*}" <<<"$first")
		printf -v "$1" %d $(($(topjson_first_ms "$json" "$2") - $(topjson_ms "$(topjson_field "$first" started)")))
	}

	# rvmig-top is up (its first line, after one interval) before anything
	# starts, so that what follows measures the publishing, not its start.
	t0=$(xen_now)
	wait_for 60 test -s "$json" || { top_fail "rvmig-top printed nothing in 60 s"; return 1; }
	xen_time "top-first-sample" "$(xen_elapsed "$t0")"
	start_recv tcp://127.0.0.1:0 "$got" "$d/recv.log" --stats-json "$d/rstats" || return 1
	rpid=$RPID
	# 1. The waiting receiver shows, in state setup; then the sender.
	wait_for 20 state "$rpid" setup || { top_fail "the waiting receiver never showed (setup)"; return 1; }
	# A gate opens when a line is written into it; the producer waits there.
	{ head -c "$part" "$ck"; read -r _ <"$d/gate"; tail -c +$((part + 1)) "$ck"; } >"$d/feed" &
	prod=$!
	TOP_PIDS+=("$prod")
	t0=$(xen_now)
	"$send" -v --stats-json "$d/sstats" - "tcp://127.0.0.1:$PORT" <"$d/feed" 2>"$d/send.log" &
	spid=$!
	TOP_PIDS+=("$spid")

	wait_for 20 shows "$spid" || { top_fail "the sender never showed"; return 1; }
	local ds dr
	delay_ms ds "$spid" && delay_ms dr "$rpid" || { top_fail "no first sample"; return 1; }
	xen_note "top: shown $ds ms after rvmig-send began its transfer, $dr ms after rvmig-recv"
	((ds <= 1500 && dr <= 1500)) || { top_fail "a transfer took more than 1.5 s to show"; fail=1; }

	# 2. Part 1 is through: both active with sane fields.
	mid() { # pid min
		state "$1" active && [[ $(f "$1" bytes_processed) -ge $2 ]]
	}
	wait_for 60 mid "$spid" $((16 << 20)) && wait_for 60 mid "$rpid" $((16 << 20)) ||
		{ top_fail "not both active with >= 16 MiB processed after part 1"; return 1; }
	local so ro
	so=$(x "$spid")
	ro=$(x "$rpid")
	xen_note "top: part 1: sender $so"
	xen_note "top: part 1: receiver $ro"
	for o in "$so" "$ro"; do
		[[ $(topjson_field "$o" transport) == '"tcp"' && $(topjson_field "$o" mode) == '"push"' &&
			$(topjson_field "$o" pages) -gt 0 && $(topjson_field "$o" bytes_total) == null &&
			$(topjson_field "$o" bytes_processed) -le $part ]] ||
			{ top_fail "part 1: wrong transport, mode, pages, size or count: $o"; fail=1; }
	done
	[[ $(topjson_field "$so" tool) == '"rvmig-send"' && $(topjson_field "$ro" tool) == '"rvmig-recv"' ]] ||
		{ top_fail "part 1: tool names"; fail=1; }
	# The sender names its peer as asked and as resolved:
	# "tcp://127.0.0.1:PORT (127.0.0.1:PORT)"; the receiver by address.
	[[ $(topjson_field "$so" peer) == "\"tcp://127.0.0.1:$PORT (127.0.0.1:$PORT)\"" &&
		$(topjson_field "$ro" peer) =~ ^\"127\.0\.0\.1:[0-9]+\"$ ]] ||
		{ top_fail "part 1: peers (the sender's must be the receiver's 127.0.0.1:$PORT)"; fail=1; }

	# 3. The rest; each tool is held at its --stats-json FIFO once ended.
	echo >"$d/gate"
	local end_s end_r
	wait_for 120 state "$spid" completed || { top_fail "the sender's transfer never showed completed"; return 1; }
	end_s=$(x "$spid")
	cat "$d/sstats" >"$d/send.json" || return 1
	wait_for 60 state "$rpid" completed || { top_fail "the receiver's transfer never showed completed"; return 1; }
	end_r=$(x "$rpid")
	cat "$d/rstats" >"$d/recv.json" || return 1
	xen_note "top: completed: sender $end_s"
	xen_note "top: completed: receiver $end_r"
	wait "$spid" || { top_fail "rvmig-send exited $?"; return 1; }
	xen_time "top-move" "$(xen_elapsed "$t0")"
	wait "$RPID" || { top_fail "rvmig-recv exited $?"; return 1; }
	RPID=
	local t_end
	t_end=$(xen_now)
	wait "$prod"

	t0=$(xen_now)
	# 4. Final counts: the checkpoint's size; the tool's own pages.
	local k want mk tv
	for o in "send:$end_s" "recv:$end_r"; do
		k=${o%%:*}
		o=${o#*:}
		[[ $(topjson_field "$o" bytes_processed) == "$size" ]] ||
			{ top_fail "$k: completed with $(topjson_field "$o" bytes_processed) bytes processed, the checkpoint has $size"; fail=1; }
		[[ $(topjson_field "$o" zero_pages) -gt 0 && $(topjson_field "$o" zero_pages) -lt $(topjson_field "$o" pages) ]] ||
			{ top_fail "$k: pages / zero pages not both counted: $o"; fail=1; }
		for want in bytes_processed:bytes pages:pages zero_pages:zero_pages_elided; do
			mk=${want%%:*}
			tv=$(grep -o "\"${want#*:}\": *[0-9]*" "$d/$k.json" | grep -o '[0-9]*$')
			[[ $tv == "$(topjson_field "$o" "$mk")" ]] ||
				{ top_fail "$k: $mk in the monitor ($(topjson_field "$o" "$mk")) is not the tool's ${want#*:} ($tv)"; fail=1; }
		done
	done

	# 5. Over all samples: processed never decreases; every sample showing
	# the sender shows the guest and Domain-0 too.
	local rep
	rep=$(awk -v s="\"pid\":$spid," -v r="\"pid\":$rpid," -v g="{\"name\":\"$name\",\"kind\":\"domain\"," '
		function bytes(line, pat,   i, o) {
			i = index(line, pat); if (!i) return -1
			o = substr(line, i); sub(/}.*/, "", o)
			sub(/.*"bytes_processed":/, "", o); sub(/,.*/, "", o); return o + 0 }
		!/]}$/ { next }
		{ b = bytes($0, s); c = bytes($0, r)
		  if (b >= 0) { n++
			if (b < ps) { print "sender went back from " ps " to " b; bad = 1 } ps = b
			i = index($0, g)
			if (!i) { print "a sample with the sender has no row of the guest"; bad = 1 }
			else { o = substr($0, i); sub(/}.*/, "", o)
			       if (o !~ /"mem_bytes":[1-9]/ || o !~ /"threads":1,/) { print "guest row: " o; bad = 1 } }
			if (!index($0, "{\"name\":\"Domain-0\",\"kind\":\"domain\",")) { print "no Domain-0 row"; bad = 1 } }
		  if (c >= 0) { if (c < pr) { print "receiver went back from " pr " to " c; bad = 1 } pr = c } }
		END { print n " samples with the sender, guest and Domain-0 in each"; exit bad }' "$json")
	local rc=$?
	xen_note "top: $rep"
	((rc == 0)) || { top_fail "samples: $rep"; fail=1; }

	# 6. Gone after the tools exited.
	gone() { topjson_gone "$json" "$t_end" "$spid" "$rpid" >/dev/null; }
	wait_for 10 gone || { top_fail "the transfers are still shown after the tools exited (or no sample came)"; fail=1; }
	kill -TERM "$tpid"
	wait "$tpid" || { top_fail "rvmig-top exited $? on SIGTERM"; fail=1; }
	TOP_PIDS=()
	xen_note "top: $(grep -c ']}$' "$json") samples; $(grep -h '"seconds"' "$d/send.json" | tr -d ' ,') s for $size bytes"

	# 7. The move itself (cmp, not a hash: sha256 of 30 MB took 18 s in
	# this TCG dom0, xen.monitor).
	cmp -s "$ck" "$got" || { xen_err "top: the received checkpoint differs from the one sent"; fail=1; }
	xen_time "top-checks(counts, samples, gone, cmp)" "$(xen_elapsed "$t0")"
	rm -f "$ck" "$got"
	((fail == 0))
}
