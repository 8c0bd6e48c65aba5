#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End-to-end tests of resume (rvmig-recv --resume, rvmig-send --resume),
# --key-file, and a full or failing disk on the receiver: both tools as
# real processes over TCP on 127.0.0.1 (environment: see run.sh).
#
#   resume.sh CASE
#
# Kills land mid-transfer because the test waits for a real event (the
# partial file growing past a size, the journal appearing) on a stream
# large enough that the transfer is still under way then, and then checks
# that it was (journal offset below the stream size, receiver still alive).
set -u
set -o pipefail

CASE=${1:?usage: resume.sh CASE}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

OUT=$W/out.bin
PART=$OUT.rvmig-partial
JOUR=$OUT.rvmig-journal

# wait_for WHAT PID CMD...: polls CMD until it succeeds; fails if PID exits
# first or after 120 s
wait_for() {
	local what=$1 pid=$2
	shift 2
	for _ in $(seq 12000); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || fail "process $pid exited before $what"
		sleep 0.01
	done
	fail "timed out waiting for $what"
}
size_at_least() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
temp_at_least() { # a PATH.rvmig-partial-XXXXXX (no --resume) of at least $1 bytes
	local f
	for f in "$OUT".rvmig-partial-*; do
		size_at_least "$f" "$1" && return 0
	done
	return 1
}
journal_offset() { sed -n 's/^offset \([0-9]*\)$/\1/p' "$JOUR"; }

# start_send NAME IN [opts...]: rvmig-send IN to the receiver's PORT in the
# background; sets SPID
start_send() {
	local name=$1 in=$2
	shift 2
	"$RVMIG_SEND" "$in" "$(uri "$PORT")" "$@" 2>"$W/$name.err" &
	SPID=$!
	PIDS+=("$SPID")
}

# both_ok SENDER RECEIVER [WHEN]: the sender, then the receiver, exit 0;
# otherwise fail with "SENDER exited RC WHEN" (or RECEIVER)
both_ok() {
	wait_rc "$SPID"
	[ "$rc" = 0 ] || fail "$1 exited $rc${3:+ $3}"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "$2 exited $rc${3:+ $3}"
}

# finished_ok IN: output identical to IN, journal and partial gone
finished_ok() {
	cmp "$1" "$OUT" || fail "$OUT differs from $1"
	[ ! -e "$JOUR" ] || fail "the journal $JOUR is left after the transfer completed"
	[ ! -e "$PART" ] || fail "the partial $PART is left after the transfer completed"
	[ ! -e "$JOUR.tmp" ] || fail "$JOUR.tmp is left"
}

# interrupted_state SIZE: nothing under PATH, partial + journal with an
# offset below SIZE (the kill landed mid-transfer); prints the offset
interrupted_state() {
	local off
	[ ! -e "$OUT" ] || fail "$OUT exists although the transfer was interrupted"
	[ -s "$JOUR" ] || fail "no journal $JOUR after the interruption"
	[ -e "$PART" ] || fail "no partial $PART after the interruption"
	off=$(journal_offset)
	[ -n "$off" ] && [ "$off" -gt 0 ] && [ "$off" -lt "$1" ] ||
		fail "journal offset '$off' is not inside the stream (0, $1)"
	[ "$(stat -c %s "$PART")" -ge "$off" ] || fail "partial is shorter than the journal says"
	echo "$off"
}

make_key() { head -c 32 /dev/urandom | base64 >"$1"; chmod 600 "$1"; }

# lossy_disk MIB: an ext4 file system on $W/disk whose writes fail once MIB
# MiB more are written to it: it lies on a loop device ($LOOP) whose
# backing file is on a tmpfs ($W/back) with room for only MIB MiB more than
# mkfs wrote, and the loop device's writes beyond that fail (ENOSPC of its
# backing file), as a failing disk's do.  Only file data fails: mkfs wrote
# every block of metadata (no journal, no lazily made bitmaps or inode
# tables) and a file of a few extents needs no new one.  heal_disk gives
# the tmpfs room again.  Needs root (CI is); skipped (77), saying why,
# without a loop device, losetup or mkfs.ext4.
lossy_disk() {
	local room=$1 used
	[ "$(id -u)" = 0 ] || fail "$CASE needs root for a loop device and mounts"
	for t in losetup mkfs.ext4; do
		command -v "$t" >/dev/null || skip "$t is not installed"
	done
	[ -e /dev/loop-control ] || skip "no /dev/loop-control (no loop device driver)"
	mkdir -p "$W/back" "$W/disk"
	mount -t tmpfs -o size=512m rvmig-e2e-back "$W/back" || fail "cannot mount a tmpfs on $W/back"
	trap 'drop_disk; cleanup' EXIT
	truncate -s 256M "$W/back/disk.img" || fail "cannot make $W/back/disk.img"
	LOOP=$(losetup -f --show "$W/back/disk.img" 2>"$W/losetup.log") ||
		skip "no free loop device for $W/back/disk.img: $(cat "$W/losetup.log")"
	# nodiscard: every block mkfs wrote has its page in the backing file,
	# so only blocks written later need room on the tmpfs
	mkfs.ext4 -q -F -b 4096 -N 64 -O ^has_journal,^metadata_csum,^uninit_bg \
		-E nodiscard,lazy_itable_init=0 "$LOOP" >"$W/mkfs.log" 2>&1 ||
		fail "mkfs.ext4 $LOOP: $(cat "$W/mkfs.log")"
	mount -o errors=continue "$LOOP" "$W/disk" || fail "cannot mount $LOOP on $W/disk"
	used=$(df --output=used -k "$W/back" | tail -1)
	mount -o remount,size=$((used + room * 1024))k "$W/back" ||
		fail "cannot shrink the tmpfs $W/back to $used KiB + $room MiB"
	note "$W/disk: ext4 on $LOOP, its backing file on a tmpfs with room for $room MiB more"
}
heal_disk() { mount -o remount,size=512m "$W/back" || fail "cannot grow the tmpfs $W/back"; }
# wait_writeback FILE BYTES: waits until the writeback already started on
# FILE's first BYTES is over, starting none (sync_file_range(2)
# SYNC_FILE_RANGE_WAIT_BEFORE; its error, if any, is ours)
wait_writeback() {
	python3 - "$1" "$2" <<'PY' || fail "cannot wait for the writeback of $1"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
except FileNotFoundError:   # a receiver that failed already removed it
    sys.exit(0)
libc.sync_file_range(fd, ctypes.c_longlong(0), ctypes.c_longlong(int(sys.argv[2])), ctypes.c_uint(1))
PY
}
drop_disk() { # the processes that may use it first
	local p
	let_gate_through
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	! mountpoint -q "$W/disk" || umount "$W/disk"
	if [ -n "${LOOP:-}" ]; then
		# the kernel lets go of the backing file a little later
		losetup -d "$LOOP"
		for _ in $(seq 300); do
			[ -n "$(losetup -j "$W/back/disk.img")" ] || break
			sleep 0.1
		done
	fi
	LOOP=
	! mountpoint -q "$W/back" || umount "$W/back" || fail "cannot unmount $W/back"
}
skip() { echo "SKIP [$CASE]: $*" >&2; exit 77; }

case "$CASE" in
resume_cli)
	gen "$W/g1.bin" 1 1
	"$RVMIG_SEND" --help | grep -q -- "--resume" || fail "rvmig-send --help does not list --resume"
	"$RVMIG_RECV" --help | grep -q -- "--resume-wait" || fail "rvmig-recv --help does not list --resume-wait"
	"$RVMIG_SEND" --help | grep -q -- "--key-file" || fail "rvmig-send --help does not list --key-file"
	"$RVMIG_RECV" --help | grep -q -- "--key-file" || fail "rvmig-recv --help does not list --key-file"
	cat "$W/g1.bin" | "$RVMIG_SEND" --resume - tcp://127.0.0.1:1 2>"$W/tx.err"
	[ $? = 2 ] || fail "--resume with a pipe did not exit 2"
	grep -q "resume needs a regular file" "$W/tx.err" || fail "no clear message for --resume with a pipe"
	"$RVMIG_SEND" --retries 3 "$W/g1.bin" tcp://127.0.0.1:1 2>"$W/tx.err"
	[ $? = 2 ] || fail "--retries without --resume did not exit 2"
	"$RVMIG_RECV" --resume --listen "$(uri 0)" -o - 2>"$W/rx.err" </dev/null >/dev/null
	[ $? = 2 ] || fail "rvmig-recv --resume -o - did not exit 2"
	# nobody listening: the sender retries with back-off, then gives up
	"$RVMIG_SEND" --resume --retries 2 "$W/g1.bin" tcp://127.0.0.1:1 2>"$W/tx.err" &&
		fail "rvmig-send exited 0 with nobody listening"
	[ "$(grep -c "retry [0-9] of 2" "$W/tx.err")" = 2 ] || fail "the sender did not retry twice"
	grep -q "giving up after 2 retries" "$W/tx.err" || fail "the sender does not say it gave up"
	;;
resume_sender_kill)
	# (a) the sender is killed with SIGKILL mid-transfer; the receiver keeps
	# its state and waits; the sender is run again with --resume
	gen "$W/g256.bin" 256 21
	size=$(stat -c %s "$W/g256.bin")
	start_recv rx "$OUT" --resume --resume-wait 60
	start_send tx1 "$W/g256.bin" --resume
	wait_for "the partial passing 96 MiB" "$SPID" size_at_least "$PART" $((96 << 20))
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	wait_for "the receiver's checkpoint" "$RPID" grep -q "waiting up to 60 s" "$W/rx.err"
	off=$(interrupted_state "$size") || exit 1
	start_send tx2 "$W/g256.bin" --resume --stats-json "$W/tx.json"
	both_ok "the resumed rvmig-send" "rvmig-recv"
	grep -q "resuming at stream offset $off " "$W/tx2.err" ||
		fail "the sender did not resume at the journaled offset $off"
	grep -q "continues its transfer at stream offset $off" "$W/rx.err" ||
		fail "the receiver does not say it continued at $off"
	finished_ok "$W/g256.bin"
	check_stats "$W/tx.json" "$W/g256.bin"
	note "sender killed with $off of $size bytes durable; resumed, identical"
	;;
resume_raw_pull)
	# (a) with --raw input of an odd size, pull mode and the SHA-256 digest
	# (kept in the journal's flags): the sender is killed, then run again
	# with --resume
	head -c $((150 << 20)) /dev/urandom >"$W/r.bin"
	head -c 12345 /dev/urandom >>"$W/r.bin"
	size=$(stat -c %s "$W/r.bin")
	start_recv rx "$OUT" --resume --raw --mode pull
	start_send tx1 "$W/r.bin" --resume --raw --mode pull --digest sha256
	wait_for "the partial passing 70 MiB" "$SPID" size_at_least "$PART" $((70 << 20))
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	wait_for "the receiver's checkpoint" "$RPID" grep -q "waiting up to" "$W/rx.err"
	off=$(interrupted_state "$size") || exit 1
	grep -q "^flags 11$" "$JOUR" || fail "the journal does not record the raw, sized, sha256 transfer (flags 11): $(grep flags "$JOUR")"
	start_send tx2 "$W/r.bin" --resume --raw --mode pull --digest sha256 --stats-json "$W/tx.json"
	both_ok "the resumed rvmig-send" "rvmig-recv"
	grep -q "resuming at stream offset $off " "$W/tx2.err" || fail "the sender did not resume at $off"
	finished_ok "$W/r.bin"
	check_stats "$W/tx.json" "$W/r.bin"
	[ "$(json_get "$W/tx.json" digest_algorithm)" = sha256 ] || fail "the resumed transfer did not use sha256"
	note "raw, pull, sha256: sender killed with $off of $size bytes durable; resumed, identical"
	;;
resume_receiver_kill)
	# (b) the receiver is killed with SIGKILL after its first checkpoint and
	# restarted with --resume on the same port; the sender retries
	gen "$W/g256.bin" 256 22
	size=$(stat -c %s "$W/g256.bin")
	start_recv rx "$OUT" --resume
	start_send tx "$W/g256.bin" --resume --retries 5
	wait_for "the first journal" "$RPID" test -s "$JOUR"
	kill -9 "$RPID"
	wait "$RPID" 2>/dev/null
	off=$(interrupted_state "$size") || exit 1
	RECV_PORT=$PORT start_recv rx2 "$OUT" --resume
	both_ok "rvmig-send --resume --retries 5" "the restarted rvmig-recv"
	grep -q "holds $off durable bytes" "$W/rx2.err" ||
		fail "the restarted receiver did not pick up the journal at $off"
	grep -q "retry 1 of 5" "$W/tx.err" || fail "the sender did not retry"
	grep -Eq "resuming at stream offset [1-9][0-9]* " "$W/tx.err" ||
		fail "the sender did not resume past offset 0"
	finished_ok "$W/g256.bin"
	note "receiver killed with $off of $size bytes journaled; restarted, sender retried, identical"
	;;
resume_other_id)
	# (c) a journal of another transfer (the input was rewritten: new mtime,
	# so a new transfer id) is not resumed: start from 0, still identical;
	# a damaged journal is ignored; --resume-wait expiry exits 75
	gen "$W/g128.bin" 128 23
	size=$(stat -c %s "$W/g128.bin")
	start_recv rx "$OUT" --resume --resume-wait 1
	start_send tx1 "$W/g128.bin" --resume
	wait_for "the partial passing 64 MiB" "$SPID" size_at_least "$PART" $((64 << 20))
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	wait_rc "$RPID"
	[ "$rc" = 75 ] || fail "rvmig-recv exited $rc, not 75, when the sender did not come back"
	grep -q "no sender came back within 1 s" "$W/rx.err" || fail "no message about the expired wait"
	off=$(interrupted_state "$size") || exit 1
	touch -d '+1 min' "$W/g128.bin"
	start_recv rx2 "$OUT" --resume
	start_send tx2 "$W/g128.bin" --resume
	both_ok "rvmig-send" "rvmig-recv"
	grep -q "is not the one in .*starting .* from 0" "$W/rx2.err" ||
		fail "the receiver does not say it starts from 0 for another transfer id"
	grep -q "resuming at" "$W/tx2.err" && fail "the sender resumed another transfer"
	finished_ok "$W/g128.bin"
	# a journal that fails its checksum
	printf 'rvmig-recv-journal 2\ntransfer-id %064d\nflags 2\nsize 9\noffset 5\ndigest %064d\ncheck %064d\n' 0 0 0 >"$JOUR"
	head -c 5 /dev/zero >"$PART"
	start_recv rx3 "$OUT" --resume
	start_send tx3 "$W/g128.bin" --resume
	both_ok "rvmig-send" "rvmig-recv" "after a damaged journal"
	grep -q "ignoring the journal: .*fails its checksum" "$W/rx3.err" ||
		fail "the damaged journal was not reported"
	finished_ok "$W/g128.bin"
	note "other transfer id ($off bytes journaled) and damaged journal: restarted from 0, identical"
	;;
resume_term)
	# SIGTERM: the sender tells the receiver (ABORT, interrupted), which keeps
	# its state and waits; SIGTERM ends that wait at once with 75; both are
	# then started again with --resume
	gen "$W/g256.bin" 256 27
	size=$(stat -c %s "$W/g256.bin")
	start_recv rx "$OUT" --resume --resume-wait 600
	start_send tx1 "$W/g256.bin" --resume
	wait_for "the partial passing 64 MiB" "$SPID" size_at_least "$PART" $((64 << 20))
	kill -TERM "$SPID"
	wait_rc "$SPID"
	[ "$rc" = 1 ] || fail "rvmig-send exited $rc after SIGTERM"
	wait_for "the receiver's checkpoint" "$RPID" grep -q "waiting up to 600 s" "$W/rx.err"
	grep -q "gave up at stream offset [0-9]*: interrupted by signal 15" "$W/rx.err" ||
		fail "the receiver does not report the sender's reason"
	t0=$(date +%s)
	kill -TERM "$RPID"
	wait_rc "$RPID"
	[ "$rc" = 75 ] || fail "rvmig-recv exited $rc, not 75, after SIGTERM while waiting"
	[ $(($(date +%s) - t0)) -lt 10 ] || fail "rvmig-recv took more than 10 s to stop on SIGTERM"
	grep -q "interrupted by signal 15 while waiting" "$W/rx.err" || fail "no message about the signal"
	off=$(interrupted_state "$size") || exit 1
	start_recv rx2 "$OUT" --resume
	start_send tx2 "$W/g256.bin" --resume
	both_ok "the resumed rvmig-send" "the resumed rvmig-recv"
	grep -q "resuming at stream offset $off " "$W/tx2.err" || fail "the sender did not resume at $off"
	finished_ok "$W/g256.bin"
	note "SIGTERM of sender, then of the waiting receiver (75) with $off bytes kept; resumed, identical"
	;;
resume_off)
	# (d) without --resume nothing changes: a killed sender leaves nothing.
	# Its input (a pipe) holds back all but the first 64 MiB until the kill,
	# so the kill lands mid-transfer however fast the host moves it.
	gen "$W/g128.bin" 128 24
	start_recv rx "$OUT" --timeout 5000
	start_gated_sender "$W/g128.bin" $((64 << 20))
	wait_for "the temporary file passing 32 MiB" "$SPID" temp_at_least $((32 << 20))
	kill -9 "$SPID"
	open_gate # the rest goes into a pipe nobody reads: the producer ends
	wait "$SPID" 2>/dev/null
	wait_rc "$RPID"
	[ "$rc" = 1 ] || fail "rvmig-recv exited $rc, not 1, after the sender was killed"
	no_final_file "$OUT"
	no_temp_file "temporary file left behind"
	[ ! -e "$PART" ] && [ ! -e "$JOUR" ] || fail "a resume partial or journal was made without --resume"
	;;
key_file)
	# (e) matching keys succeed; a wrong key or none is refused, naming the
	# peer, and the receiver keeps waiting for the right one
	gen "$W/g8.bin" 8 25
	make_key "$W/k1"
	make_key "$W/k2"
	start_recv rx "$OUT" --key-file "$W/k1"
	"$RVMIG_SEND" --key-file "$W/k2" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/bad.err" &&
		fail "a sender with another key was accepted"
	grep -q "cannot connect to $(uri "$PORT"): authentication failed" "$W/bad.err" ||
		fail "the refused sender does not say authentication failed"
	"$RVMIG_SEND" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/none.err" &&
		fail "a sender without a key was accepted"
	grep -q "requires authentication and no key is configured" "$W/none.err" ||
		fail "the keyless sender does not say the receiver requires a key"
	"$RVMIG_SEND" --key-file "$W/k1" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/good.err" ||
		fail "the sender with the right key failed"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv exited $rc"
	cmp "$W/g8.bin" "$OUT" || fail "output differs"
	[ "$(grep -c "refusing client 127.0.0.1:[0-9]*: peer failed authentication" "$W/rx.err")" = 2 ] ||
		fail "the receiver did not name both refused senders"
	# a receiver without a key is refused by a sender that has one
	rm -f "$OUT"
	start_recv rx2 "$OUT"
	"$RVMIG_SEND" --key-file "$W/k1" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/nokey.err" &&
		fail "the sender accepted a receiver without the key"
	grep -q "did not authenticate itself" "$W/nokey.err" || fail "the sender does not say why"
	wait_rc "$RPID"
	[ "$rc" = 1 ] || fail "rvmig-recv without a key exited $rc"
	no_final_file "$OUT"
	# a key file others can read is refused, naming it
	chmod 644 "$W/k2"
	"$RVMIG_SEND" --key-file "$W/k2" "$W/g8.bin" tcp://127.0.0.1:1 2>"$W/perm.err" &&
		fail "a group/world-readable key file was used"
	grep -q "cannot use the key file $W/k2" "$W/perm.err" || fail "the key file error does not name it"
	;;
disk_full)
	# (f) an 8 MiB tmpfs: refused before any data when the size is known;
	# ENOSPC mid-way when it is not (pipe input); nothing under PATH, no
	# partial, no journal, either way
	[ "$(id -u)" = 0 ] || fail "disk_full needs root to mount a tmpfs"
	mkdir -p "$W/small"
	mount -t tmpfs -o size=8m rvmig-e2e "$W/small" || fail "cannot mount a tmpfs on $W/small"
	trap 'umount "$W/small" 2>/dev/null; cleanup' EXIT
	gen "$W/g16.bin" 16 26
	size=$(stat -c %s "$W/g16.bin")
	for resume in "" --resume; do
		start_recv rx "$W/small/out.bin" $resume
		"$RVMIG_SEND" "$W/g16.bin" "$(uri "$PORT")" 2>"$W/tx.err" &&
			fail "the sender exited 0 although the disk is too small"
		wait_rc "$RPID"
		[ "$rc" = 1 ] || fail "rvmig-recv $resume exited $rc on a too small disk"
		grep -q "not enough space for $W/small/out.bin: needs $size bytes, [0-9]* free on $W/small" "$W/rx.err" ||
			fail "receiver $resume: no clear out-of-space refusal"
		grep -q "receiver failed: not enough space" "$W/tx.err" ||
			fail "sender: the receiver's refusal is not reported"
		[ -z "$(ls -A "$W/small")" ] || fail "files left on the full disk: $(ls -A "$W/small")"
		start_recv rx "$W/small/out.bin" $resume
		cat "$W/g16.bin" | "$RVMIG_SEND" - "$(uri "$PORT")" 2>"$W/tx.err" &&
			fail "the sender exited 0 although the disk filled up"
		wait_rc "$RPID"
		[ "$rc" = 1 ] || fail "rvmig-recv $resume exited $rc when the disk filled up"
		grep -q "cannot write .* at stream offset [0-9]* to $W/small/out.bin: No space left on device" "$W/rx.err" ||
			fail "receiver $resume: ENOSPC not reported with offset and path"
		grep -q "receiver failed: .*No space left" "$W/tx.err" ||
			fail "sender: the receiver's ENOSPC is not reported"
		[ -z "$(ls -A "$W/small")" ] || fail "files left on the full disk: $(ls -A "$W/small")"
	done
	note "refused before data and ENOSPC mid-way, with and without --resume: nothing left"
	;;
flush_error)
	# (g) a flush that failed while the file was written fails the commit,
	# and a resumable checkpoint (--resume, the sender killed): the
	# receiver's worker fdatasync()s every 32 MiB (xstream/flusher.c) and
	# gets the disk's error; the disk then works again, so the final fsync
	# of the same open file has no new error to report (a writeback error
	# is reported once per open file): only the flusher knows that bytes
	# past about 8 MiB never reached the disk.  With --resume a checkpoint
	# made every 2 s may come first (a host slow to take 33 MiB) and fail
	# by its own fsync, before the disk works again: also a failed
	# checkpoint, said so.
	gen "$W/g64.bin" 64 27
	for resume in "" --resume; do
		lossy_disk 8
		OUT=$W/disk/out.bin PART=$W/disk/out.bin.rvmig-partial JOUR=$W/disk/out.bin.rvmig-journal
		rx=rx${resume:+-resume}
		start_recv "$rx" "$OUT" $resume ${resume:+--resume-wait 1}
		start_gated_sender "$W/g64.bin" $((40 << 20))
		if [ -n "$resume" ]; then
			# (not resume.sh's wait_for: the receiver may end first, see above)
			tmp=$PART
			for _ in $(seq 12000); do
				size_at_least "$tmp" $((33 << 20)) || grep -q "durable" "$W/$rx.err" && break
				sleep 0.01
			done
			size_at_least "$tmp" $((33 << 20)) || grep -q "durable" "$W/$rx.err" ||
				fail "--resume: $tmp did not pass 33 MiB within 120 s"
		else
			wait_for "the temporary file passing 33 MiB" "$RPID" temp_at_least $((33 << 20))
			tmp=$(ls "$OUT".rvmig-partial-*)
		fi
		# past 32 MiB: the receiver started the writeback of its first 32
		# MiB and asked the flusher for a fdatasync.  That writeback is
		# over (and failed) before the disk is healed; waited for without
		# writing anything (a write of ours that failed would be a new
		# error for the receiver's fsync to find).
		wait_writeback "$tmp" $((32 << 20))
		early=
		! grep -q "durable" "$W/$rx.err" || early=1
		heal_disk
		[ -z "$resume" ] || kill -9 "$SPID" 2>/dev/null # the checkpoint of what came
		open_gate
		wait "$SPID" 2>/dev/null
		wait_rc "$RPID"
		[ "$rc" = 1 ] || fail "rvmig-recv $resume exited $rc, not 1, after its flush failed"
		if [ -n "$resume" ]; then
			grep -E -q "cannot make [0-9]+ bytes of $PART durable: (Input/output error|No space left on device)" "$W/$rx.err" ||
				fail "--resume: the failed flush does not fail the checkpoint of $PART"
			[ ! -e "$JOUR" ] || fail "--resume: a journal claims bytes the disk lost: $(cat "$JOUR")"
			if [ -n "$early" ]; then
				note "--resume: the receiver's own checkpoint failed before the disk was healed:" \
					"$(grep -o 'cannot make [0-9]* bytes' "$W/$rx.err")"
			fi
		else
			grep -E -q "fsync $tmp: (Input/output error|No space left on device)" "$W/$rx.err" ||
				fail "the failed flush does not fail the commit of $tmp"
			grep -q "receiver failed: .*fsync" "$W/tx.err" || fail "the sender does not say the receiver's fsync failed"
		fi
		no_final_file "$OUT"
		[ -z "$(ls -A "$W/disk" | grep -v '^lost+found$')" ] || fail "$resume: files left: $(ls -A "$W/disk")"
		drop_disk
		rm -f "$W/half" "$W/gate"
	done
	note "a flush failed past 8 MiB: the commit failed, and with --resume the checkpoint; nothing left"
	;;
*)
	fail "unknown case"
	;;
esac
note "passed"
