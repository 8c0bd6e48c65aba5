#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End-to-end tests of where rvmig-recv writes (-o): planted symbolic links,
# hard links and foreign files next to the output, devices and FIFOs
# written in place, usage errors at start, and the modes of outputs and
# partials.  Both tools as real processes over TCP on 127.0.0.1
# (environment: see run.sh).
#
#   outputs.sh CASE
#
# Device nodes are made with mknod inside the work directory when possible
# (root), so a receiver that wrongly replaced its -o could never touch the
# system's /dev/null or /dev/full; otherwise those are used.
set -u
set -o pipefail

CASE=${1:?usage: outputs.sh CASE}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# A gated producer (lib.sh start_gated_sender) still waiting at its gate
# when a case fails is let through, so that nothing outlives the test.
release_gate() {
	let_gate_through
	cleanup
}
trap release_gate EXIT

OUT=$W/out.bin
PART=$OUT.rvmig-partial
JOUR=$OUT.rvmig-journal

# at_start NAME RC OUT [opts...]: rvmig-recv -o OUT must exit RC at start,
# before it listens (no port in its ready file), within 10 s
at_start() {
	local name=$1 want=$2 out=$3
	shift 3
	rm -f "$W/$name.ready"
	timeout 10 "$RVMIG_RECV" --listen "$(uri 0)" -o "$out" --ready-file "$W/$name.ready" \
		--accept-timeout 1000 "$@" </dev/null >"$W/$name.stdout" 2>"$W/$name.err"
	rc=$?
	[ "$rc" = "$want" ] || fail "rvmig-recv -o '$out' $* exited $rc, not $want, at start"
	[ ! -s "$W/$name.ready" ] || fail "rvmig-recv -o '$out' $* listened before refusing"
}

# send_ok IN [opts...]: rvmig-send IN to the receiver started last; both exit 0
send_ok() {
	local in=$1
	shift
	"$RVMIG_SEND" "$in" "$(uri "$PORT")" "$@" 2>"$W/tx.err" || fail "rvmig-send exited $?"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv exited $rc"
}

# node NAME MAJOR MINOR: a character device in the work directory (root),
# else the system's /dev/NAME
node() {
	if [ "$(id -u)" = 0 ] && mknod "$W/$1" c "$2" "$3" 2>/dev/null && [ -c "$W/$1" ]; then
		echo "$W/$1"
	else
		echo "/dev/$1"
	fi
}

# victim: a file the receiver must never touch; intact: it is unchanged
victim() {
	printf 'precious\n' >"$W/victim"
	chmod 640 "$W/victim"
}
intact() {
	[ "$(cat "$W/victim")" = precious ] || fail "$1: the victim file was changed: '$(head -c 64 "$W/victim")'"
	[ "$(stat -c %a "$W/victim")" = 640 ] || fail "$1: the victim's mode became $(stat -c %a "$W/victim")"
}

mode_of() { stat -c %a "$1"; }

case "$CASE" in
out_usage)
	# -o '' / a directory / a name ending in '/' / a socket, a bad
	# --output-mode, --resume into a FIFO or a device: usage errors (2)
	# before any network activity
	mkdir "$W/dir"
	at_start empty 2 ''
	grep -q "needs a path" "$W/empty.err" || fail "no clear message for -o ''"
	at_start dir 2 "$W/dir"
	grep -q "is a directory" "$W/dir.err" || fail "no clear message for -o DIR"
	at_start slash 2 "$W/new/"
	grep -q "ends in '/'" "$W/slash.err" || fail "no clear message for -o NAME/"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$W/sock" ||
		fail "cannot make a socket"
	at_start sock 2 "$W/sock"
	grep -q "is a socket" "$W/sock.err" || fail "no clear message for -o SOCKET"
	for bad in 888 01777 7777 abc -1 '' 0x1ff; do
		at_start mode 2 "$OUT" --output-mode "$bad"
		grep -q "bad value '$bad' for --output-mode" "$W/mode.err" ||
			fail "no clear message for --output-mode '$bad'"
	done
	mkfifo "$W/fifo"
	at_start rfifo 2 "$W/fifo" --resume
	grep -q -- "--resume needs a regular file: -o $W/fifo is a FIFO" "$W/rfifo.err" ||
		fail "no clear message for --resume -o FIFO"
	null=$(node null 1 3)
	at_start rnull 2 "$null" --resume
	grep -q -- "--resume needs a regular file: -o $null is a character device" "$W/rnull.err" ||
		fail "no clear message for --resume -o DEVICE"
	[ -p "$W/fifo" ] && [ -c "$null" ] || fail "the FIFO or the device was replaced"
	[ -z "$(ls -A "$W/dir")" ] || fail "something was written into $W/dir"
	;;
out_devnull)
	# -o a character device: written in place, stays a device, no temporary
	# file next to it
	null=$(node null 1 3)
	gen "$W/g8.bin" 8 61
	start_recv rx "$null" --stats-json "$W/rx.json"
	send_ok "$W/g8.bin"
	[ -c "$null" ] || fail "$null is no longer a character device: $(stat -c %F "$null")"
	[ "$(json_get "$W/rx.json" bytes)" = "$(stat -c %s "$W/g8.bin")" ] || fail "not every byte was written"
	ls "$(dirname "$null")" | grep -q "$(basename "$null")\.rvmig-partial" &&
		fail "a temporary file was made next to $null"
	note "-o $null: written in place, still a character device"
	;;
out_devfull)
	# a device that is full reports ENOSPC as the failure
	full=$(node full 1 7)
	gen "$W/g8.bin" 8 62
	start_recv rx "$full"
	"$RVMIG_SEND" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/tx.err" && fail "rvmig-send exited 0 into $full"
	wait_rc "$RPID"
	[ "$rc" = 1 ] || fail "rvmig-recv -o $full exited $rc, not 1"
	grep -q "cannot write .* to $full: No space left on device" "$W/rx.err" ||
		fail "ENOSPC of $full not reported"
	[ -c "$full" ] || fail "$full is no longer a character device"
	;;
out_fifo)
	# -o a FIFO: the stream goes into it (a reader is there first)
	mkfifo "$W/fifo"
	gen "$W/g16.bin" 16 63
	cat "$W/fifo" >"$W/got" &
	CAT=$!
	PIDS+=("$CAT")
	start_recv rx "$W/fifo"
	send_ok "$W/g16.bin"
	# (checked first: the reader of a replaced FIFO would wait forever)
	[ -p "$W/fifo" ] || fail "the FIFO was replaced by $(stat -c %F "$W/fifo")"
	wait "$CAT" || fail "the FIFO's reader failed"
	cmp "$W/g16.bin" "$W/got" || fail "what came out of the FIFO differs from the input"
	no_temp_file "a temporary file was made next to the FIFO"
	;;
out_mode)
	# new output 0600 whatever the umask; --output-mode for a new one; an
	# existing file keeps its mode (and, for root, owner and group); the
	# temporary and the resume partial are 0600 while data arrives
	umask 022
	gen "$W/g4.bin" 4 64
	start_recv rx "$OUT"
	send_ok "$W/g4.bin"
	[ "$(mode_of "$OUT")" = 600 ] || fail "a new output is $(mode_of "$OUT"), not 600"
	chmod 640 "$OUT"
	owner=$(id -u):$(id -g)
	if [ "$(id -u)" = 0 ]; then
		chown 65534:65534 "$OUT"
		owner=65534:65534
	fi
	start_recv rx "$OUT" --output-mode 0644
	send_ok "$W/g4.bin"
	cmp "$W/g4.bin" "$OUT" || fail "output differs"
	[ "$(mode_of "$OUT")" = 640 ] || fail "a replaced 0640 output became $(mode_of "$OUT")"
	[ "$(stat -c %u:%g "$OUT")" = "$owner" ] ||
		fail "a replaced output's owner became $(stat -c %u:%g "$OUT"), not $owner"
	rm -f "$OUT"
	start_recv rx "$OUT" --output-mode 644
	send_ok "$W/g4.bin"
	[ "$(mode_of "$OUT")" = 644 ] || fail "--output-mode 644 gave $(mode_of "$OUT")"
	rm -f "$OUT"
	# the temporary file while data arrives
	gen "$W/g64.bin" 64 65
	start_recv rx "$OUT"
	start_gated_sender "$W/g64.bin" $((32 << 20))
	for _ in $(seq 1000); do
		ls "$OUT".rvmig-partial-* >/dev/null 2>&1 && break
		sleep 0.01
	done
	tmp=$(ls "$OUT".rvmig-partial-* 2>/dev/null | head -1)
	[ -n "$tmp" ] || fail "no temporary file appeared"
	[ "$(mode_of "$tmp")" = 600 ] || fail "the temporary file is $(mode_of "$tmp") while data arrives"
	open_gate
	wait_rc "$SPID"
	[ "$rc" = 0 ] || fail "rvmig-send exited $rc"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv exited $rc"
	rm -f "$OUT" "$W/half" "$W/gate"
	# the resume partial (an older receiver left it 0644)
	head -c 0 /dev/null >"$PART"
	chmod 644 "$PART"
	start_recv rx "$OUT" --resume
	[ "$(mode_of "$PART")" = 600 ] || fail "the resume partial is $(mode_of "$PART") before data"
	start_gated_sender "$W/g64.bin" $((32 << 20))
	for _ in $(seq 1000); do
		[ "$(stat -c %s "$PART")" -gt 0 ] && break
		sleep 0.01
	done
	[ "$(mode_of "$PART")" = 600 ] || fail "the resume partial is $(mode_of "$PART") while data arrives"
	open_gate
	wait_rc "$SPID"
	[ "$rc" = 0 ] || fail "rvmig-send exited $rc"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv --resume exited $rc"
	[ "$(mode_of "$OUT")" = 600 ] || fail "a new output made with --resume is $(mode_of "$OUT")"
	cmp "$W/g64.bin" "$OUT" || fail "output differs"
	;;
out_planted)
	# --resume next to planted files: a symbolic link, a hard link, a FIFO
	# or another user's file as the partial or the journal is refused at
	# start, and what it points to is left intact
	victim
	for what in partial journal; do
		f=$PART
		[ $what = journal ] && f=$JOUR
		ln -s "$W/victim" "$f"
		at_start "sym-$what" 1 "$OUT" --resume
		grep -q "refusing $f: it is a symbolic link" "$W/sym-$what.err" ||
			fail "no clear refusal of a symbolic link as the $what"
		intact "symlink as the $what"
		[ -L "$f" ] || fail "the planted symbolic link was removed or replaced"
		rm -f "$f"
	done
	ln "$W/victim" "$PART"
	at_start hard 1 "$OUT" --resume
	grep -q "refusing $PART: it has 2 hard links" "$W/hard.err" || fail "no clear refusal of a hard link"
	intact "hard link as the partial"
	rm -f "$PART"
	mkfifo "$PART"
	at_start fifo 1 "$OUT" --resume
	grep -q "refusing $PART: not a regular file" "$W/fifo.err" || fail "no clear refusal of a FIFO"
	rm -f "$PART"
	if [ "$(id -u)" = 0 ]; then
		printf 'theirs\n' >"$PART"
		chown 65534:65534 "$PART"
		at_start foreign 1 "$OUT" --resume
		grep -q "refusing $PART: owned by uid 65534" "$W/foreign.err" ||
			fail "no clear refusal of another user's partial"
		[ "$(cat "$PART")" = theirs ] || fail "another user's partial was changed"
		rm -f "$PART"
	fi
	[ ! -e "$OUT" ] || fail "$OUT appeared"
	# a journal temporary planted as a symbolic link mid-transfer is
	# replaced, not followed, when the journal is written (the checkpoint
	# made when the sender is killed)
	gen "$W/g64.bin" 64 66
	start_recv rx "$OUT" --resume --resume-wait 1
	start_gated_sender "$W/g64.bin" $((32 << 20))
	for _ in $(seq 1000); do
		[ "$(stat -c %s "$PART" 2>/dev/null || echo 0)" -ge $((1 << 20)) ] && break
		sleep 0.01
	done
	ln -s "$W/victim" "$JOUR.tmp"
	kill -9 "$SPID"
	open_gate # the producer ends (before waiting: bash waits for the whole pipeline)
	wait "$SPID" 2>/dev/null
	wait_rc "$RPID"
	[ "$rc" = 75 ] || fail "rvmig-recv --resume exited $rc, not 75, when the sender was killed"
	intact "symlink as the journal's temporary"
	grep -q "^offset [1-9]" "$JOUR" || fail "no journal was written at the checkpoint"
	[ ! -e "$JOUR.tmp" ] && [ ! -L "$JOUR.tmp" ] || fail "$JOUR.tmp is left"
	[ "$(mode_of "$JOUR")" = 600 ] || fail "the journal is $(mode_of "$JOUR")"
	note "planted symlinks, hard link, FIFO and foreign file refused; victim intact"
	;;
out_sweep)
	# the sweep of stale temporaries removes a stale one of ours, but never
	# follows a symbolic link nor removes a FIFO or another user's file
	victim
	ln -s "$W/victim" "$OUT.rvmig-partial-AAAAAA"
	mkfifo "$OUT.rvmig-partial-BBBBBB"
	printf 'stale\n' >"$OUT.rvmig-partial-DDDDDD"
	if [ "$(id -u)" = 0 ]; then
		printf 'theirs\n' >"$OUT.rvmig-partial-CCCCCC"
		chown 65534:65534 "$OUT.rvmig-partial-CCCCCC"
	fi
	gen "$W/g4.bin" 4 67
	start_recv rx "$OUT"
	send_ok "$W/g4.bin"
	cmp "$W/g4.bin" "$OUT" || fail "output differs"
	intact "symlink swept"
	[ -L "$OUT.rvmig-partial-AAAAAA" ] || fail "the planted symbolic link was removed"
	[ -p "$OUT.rvmig-partial-BBBBBB" ] || fail "the planted FIFO was removed"
	[ ! -e "$OUT.rvmig-partial-DDDDDD" ] || fail "the stale temporary file of ours was not removed"
	grep -q "removed $OUT.rvmig-partial-DDDDDD (6 bytes) left behind" "$W/rx.err" ||
		fail "the sweep does not say what it removed"
	if [ "$(id -u)" = 0 ]; then
		[ "$(cat "$OUT.rvmig-partial-CCCCCC")" = theirs ] || fail "another user's file was removed"
	fi
	;;
*)
	fail "unknown case"
	;;
esac
note "passed"
