#!/bin/bash
# SPDX-License-Identifier: MIT
#
# End-to-end tests of rvmig-send / rvmig-recv: both tools as real processes
# over a real transport (TCP on 127.0.0.1 by default).
#
#   run.sh CASE
#
# Environment (set by tests/e2e/CMakeLists.txt):
#   RVMIG_SEND, RVMIG_RECV   the tools
#   GEN_STREAM               tests/e2e/gen_stream (Xen stream generator)
#   RVMIG_FIXTURE_PV         the unpacked real `xl save` fixture (fixture cases)
#   RVMIG_E2E_TRANSPORT      tcp (default) or verbs
#   RVMIG_E2E_HOST           address to listen on / connect to (default
#                            127.0.0.1; verbs: $RVMIG_RXE_ADDR)
#   RVMIG_E2E_WORKDIR        scratch directory (default: a new one under TMPDIR)
#
# Readiness is waited for on a FIFO the receiver writes its port to
# (--ready-file), never by sleeping.
set -u
set -o pipefail

CASE=${1:?usage: run.sh CASE}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

case "$CASE" in
sizes)
	# several generated Xen streams, file -> file
	for mib in 1 16 64; do
		gen "$W/g$mib.bin" "$mib" "$mib"
		file_to_file "$W/g$mib.bin"
		[ "$(json_get "$W/tx.json" zero_pages_elided)" -gt 0 ] || fail "no zero page elided in g$mib"
		[ "$(json_get "$W/rx.json" pages)" = "$(json_get "$W/tx.json" pages)" ] ||
			fail "receiver parsed another page count than the sender sent"
	done
	# a Xen stream's summaries count its pages
	pages=$(json_get "$W/tx.json" pages)
	line=$(summary "$W/tx.err") || exit 1
	[[ $line == *" ($pages pages, "*" zero pages elided)"* ]] ||
		fail "the sender's summary of a Xen stream does not count its $pages pages: $line"
	line=$(summary "$W/rx.err") || exit 1
	[[ $line == *"Xen stream, "*" records, $pages pages ("* ]] ||
		fail "the receiver's summary of a Xen stream does not count its $pages pages: $line"
	;;
cli)
	# --help, usage errors, URIs the library refuses
	"$RVMIG_SEND" --help | grep -q "Usage: rvmig-send" || fail "rvmig-send --help"
	"$RVMIG_RECV" --help | grep -q "Usage: rvmig-recv" || fail "rvmig-recv --help"
	"$RVMIG_SEND" 2>/dev/null; [ $? = 2 ] || fail "rvmig-send without arguments does not exit 2"
	"$RVMIG_RECV" -o x 2>/dev/null; [ $? = 2 ] || fail "rvmig-recv without --listen does not exit 2"
	"$RVMIG_SEND" --mode sideways x tcp://h:1 2>"$W/tx.err"; [ $? = 2 ] || fail "bad --mode accepted"
	gen "$W/g1.bin" 1 1
	"$RVMIG_SEND" "$W/g1.bin" carrier-pigeon://a:1 2>"$W/tx.err" && fail "unknown transport accepted"
	grep -q "carrier-pigeon://a:1" "$W/tx.err" || fail "the error does not name the URI"
	"$RVMIG_SEND" "$W/missing.bin" tcp://127.0.0.1:1 2>"$W/tx.err" && fail "missing input accepted"
	grep -q "missing.bin" "$W/tx.err" || fail "the error does not name the missing input"
	"$RVMIG_RECV" --listen "$(uri 0)" -o "$W/nodir/out.bin" 2>"$W/rx.err" &&
		fail "receiver accepted an output in a missing directory"
	grep -q "nodir/out.bin" "$W/rx.err" || fail "the error does not name the output"
	"$RVMIG_RECV" --listen "$(uri 0)" -o "$W/out.bin" --accept-timeout 100 2>"$W/rx.err" &&
		fail "receiver without a sender exited 0"
	;;
zero_min)
	# --zero-min-pages 2: isolated zero pages travel inside the data runs;
	# the default (4) elides no more than 2 does
	gen "$W/g16.bin" 16 8
	SEND_OPTS="--zero-min-pages 1" file_to_file "$W/g16.bin"
	all=$(json_get "$W/tx.json" zero_pages_elided)
	SEND_OPTS="--zero-min-pages 2" file_to_file "$W/g16.bin"
	some=$(json_get "$W/tx.json" zero_pages_elided)
	[ "$some" -lt "$all" ] || fail "--zero-min-pages 2 elided $some of $all zero pages"
	file_to_file "$W/g16.bin"
	def=$(json_get "$W/tx.json" zero_pages_elided)
	[ "$def" -le "$some" ] || fail "the default elided $def zero pages, more than --zero-min-pages 2 ($some)"
	;;
digest)
	# the end-to-end digest: XXH3-128 by default (checked against xxhsum -H2
	# by check_stats), SHA-256 on request (against sha256sum); the receiver
	# follows the sender's choice; an unknown name is a usage error
	gen "$W/g16.bin" 16 5
	file_to_file "$W/g16.bin"
	[ "$(json_get "$W/tx.json" digest_algorithm)" = xxh128 ] || fail "the default digest is not xxh128"
	[ "$(json_get "$W/rx.json" digest)" = "$(json_get "$W/tx.json" digest)" ] || fail "receiver and sender report other digests"
	grep -q "xxh128 [0-9a-f]\{32\} verified" "$W/rx.err" || fail "the receiver does not name the xxh128 digest it verified"
	SEND_OPTS="--digest sha256" file_to_file "$W/g16.bin"
	[ "$(json_get "$W/rx.json" digest_algorithm)" = sha256 ] || fail "the receiver did not follow --digest sha256"
	grep -q "sha256 [0-9a-f]\{64\} verified" "$W/rx.err" || fail "the receiver does not name the sha256 digest it verified"
	"$RVMIG_SEND" --digest md5 "$W/g16.bin" tcp://127.0.0.1:1 2>"$W/tx.err"; [ $? = 2 ] || fail "--digest md5 accepted"
	grep -q "bad value 'md5' for --digest" "$W/tx.err" || fail "the --digest error does not name the value"
	;;
pull)
	gen "$W/g16.bin" 16 3
	file_to_file "$W/g16.bin" --mode pull
	[ "$(json_get "$W/tx.json" mode)" = pull ] || fail "sender stats do not say pull"
	;;
pipe)
	gen "$W/g40.bin" 40 5
	pipe_to_pipe "$W/g40.bin"
	;;
fixture_file)
	f=$(fixture) || exit 1
	file_to_file "$f"
	[ "$(json_get "$W/tx.json" zero_pages_elided)" -gt 0 ] || fail "fixture: no zero pages elided"
	[ "$(json_get "$W/tx.json" bytes_saved)" -gt 0 ] || fail "fixture: no bytes saved"
	[ "$(json_get "$W/tx.json" pages)" = 8192 ] || fail "fixture: expected 8192 pages (32 MiB PV guest)"
	;;
fixture_pipe)
	f=$(fixture RVMIG_FIXTURE_PVH) || exit 1
	pipe_to_pipe "$f"
	[ "$(json_get "$W/txp.json" zero_pages_elided)" -gt 0 ] || fail "fixture: no zero pages elided"
	[ "$(json_get "$W/txp.json" pages)" = 8144 ] || fail "fixture: expected 8144 pages (32 MiB PVH guest)"
	;;
fixture_bare)
	# the PV fixture's inner layers as they are written without xl:
	# libxl_domain_suspend()'s stream (after xl's header of 48 +
	# optional_data_len bytes) and xc_domain_save()'s (after the 16-byte libxl
	# header and the 8-byte LIBXC_CONTEXT record, up to the libxl END, the last
	# 8 bytes; tests/fixtures/README.md) are detected, moved Xen-aware and
	# arrive byte-identical, from a file and from a pipe
	f=$(fixture) || exit 1
	optlen=$(od -An -tu4 -j44 -N4 "$f" | tr -d ' ')
	tail -c +$((48 + optlen + 1)) "$f" >"$W/libxl.bin"
	size=$(stat -c %s "$W/libxl.bin")
	tail -c +$((16 + 8 + 1)) "$W/libxl.bin" | head -c $((size - 16 - 8 - 8)) >"$W/libxc.bin"
	[ "$(head -c 8 "$W/libxl.bin")" = LibxlFmt ] || fail "the fixture's libxl stream does not start at 48 + $optlen"
	[ "$(od -An -tx1 -N12 "$W/libxc.bin" | tr -d ' ')" = ffffffffffffffff58454e46 ] ||
		fail "the fixture's libxc stream does not start at the libxc marker and XENF"
	for layer in libxl libxc; do
		file_to_file "$W/$layer.bin"
		[ "$(json_get "$W/tx.json" pages)" = 8192 ] || fail "bare $layer: expected 8192 pages (32 MiB PV guest)"
		[ "$(json_get "$W/rx.json" pages)" = 8192 ] || fail "bare $layer: the receiver's parser did not count 8192 pages"
		[ "$(json_get "$W/tx.json" zero_pages_elided)" -gt 0 ] || fail "bare $layer: no zero pages elided"
	done
	pipe_to_pipe "$W/libxc.bin"
	[ "$(json_get "$W/txp.json" pages)" = 8192 ] || fail "bare libxc pipe: expected 8192 pages"
	;;
fixture_migrate)
	# a captured `xl migrate` data pipe ends with xl's go message after the
	# stream: moved as xl migrate-receive expects it (byte-identical, the
	# message included), file and pipe; any other trailing bytes are refused
	f=$(fixture RVMIG_FIXTURE_MIGRATE) || exit 1
	[ "$(tail -c 44 "$f" | tr -d '\0')" = "domain is yours, you are cleared to unpause" ] ||
		fail "the migration fixture does not end with xl's go message"
	file_to_file "$f"
	[ "$(json_get "$W/tx.json" pages)" = 8724 ] || fail "migration: expected 8724 pages"
	pipe_to_pipe "$f"
	{ head -c -44 "$f"; printf 'domain is yours, you are cleared to unpauze\0'; } >"$W/badgo.bin"
	size=$(stat -c %s "$f")
	start_recv rx "$W/refused.bin"
	"$RVMIG_SEND" "$W/badgo.bin" "$(uri "$PORT")" 2>"$W/tx.err" && fail "other trailing data was sent"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 for a refused stream"
	grep -q "offset $((size - 44)): .*not xl migrate's go message.*octet 41 differs (field at offset $((size - 3)))" "$W/tx.err" ||
		fail "the refusal does not name the octet that differs and its offset"
	no_final_file "$W/refused.bin"
	no_temp_file "temporary file left behind"
	;;
raw)
	# any bytes with --raw, an odd size; an empty file too.  Raw bytes have
	# no pages: no summary speaks of them.
	head -c $((3 * 1048576 + 17)) /dev/urandom >"$W/random.bin"
	file_to_file "$W/random.bin" --raw
	for f in tx rx; do
		line=$(summary "$W/$f.err") || exit 1
		[[ $line == *page* ]] && fail "$f: a raw summary counts pages: $line"
	done
	: >"$W/empty.bin"
	file_to_file "$W/empty.bin" --raw
	head -c 1000001 /dev/urandom >"$W/random2.bin"
	pipe_to_pipe "$W/random2.bin" --raw
	for f in txp rxp; do
		line=$(summary "$W/$f.err") || exit 1
		[[ $line == *page* ]] && fail "$f: a raw summary counts pages: $line"
	done
	;;
stats_stdout)
	# --stats-json - is standard output (valid JSON and nothing else there),
	# not a file named '-'; with -o - the receiver refuses it
	gen "$W/g8.bin" 8 2
	cd "$W" || fail "cd $W"
	start_recv rx "$W/out.bin" --stats-json -
	"$RVMIG_SEND" "$W/g8.bin" "$(uri "$PORT")" --stats-json - >"$W/tx.stdout" 2>"$W/tx.err" ||
		fail "rvmig-send --stats-json - exited $?"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv --stats-json - exited $rc"
	cmp "$W/g8.bin" "$W/out.bin" || fail "output differs from the input"
	for f in tx rx; do
		python3 -m json.tool "$W/$f.stdout" >/dev/null ||
			fail "$f: standard output with --stats-json - is not (only) JSON: $(head -c 300 "$W/$f.stdout")"
		check_stats "$W/$f.stdout" "$W/g8.bin"
	done
	[ ! -e "$W/-" ] || fail "--stats-json - created a file named '-'"
	"$RVMIG_RECV" --listen "$(uri 0)" -o - --stats-json - --accept-timeout 100 \
		>"$W/both.stdout" 2>"$W/rx.err"
	rc=$?
	[ "$rc" = 2 ] || fail "rvmig-recv -o - --stats-json - exited $rc, not 2 (usage error)"
	grep -q -- "--stats-json - and -o - both mean stdout" "$W/rx.err" ||
		fail "the refusal of -o - --stats-json - does not say why"
	[ ! -s "$W/both.stdout" ] || fail "the refused receiver wrote to stdout"
	[ ! -e "$W/-" ] || fail "the refused receiver created a file named '-'"
	;;
rate_unit)
	# the progress bar (drawn only on a terminal: stderr on a pty) and the
	# summary give the rate in the same unit, on both sides.  The producer
	# pauses half-way so the bar, drawn at most every 0.2 s, is drawn at all.
	on_tty="$(dirname "$0")/on-tty"
	gen "$W/g16.bin" 16 7
	half=$((8 << 20))
	RECV_WRAP="$on_tty $W/rx.tty" start_recv rx "$W/out.bin"
	{ head -c "$half" "$W/g16.bin"; sleep 0.6; tail -c +$((half + 1)) "$W/g16.bin"; } |
		"$on_tty" "$W/tx.tty" "$RVMIG_SEND" - "$(uri "$PORT")" ||
		fail "rvmig-send (stderr on a terminal) exited $?: $(cat "$W/tx.tty")"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv (stderr on a terminal) exited $rc: $(cat "$W/rx.tty")"
	cmp "$W/g16.bin" "$W/out.bin" || fail "output differs from the input"
	for f in tx rx; do
		line=$(summary "$W/$f.tty") || exit 1
		tty_lines "$W/$f.tty" | grep -a -v -E '^rvmig-(send|recv): ' >"$W/$f.bar"
		printf '%s\n' "$line" >"$W/$f.sum"
		bar=$(rate_units "$W/$f.bar")
		sum=$(rate_units "$W/$f.sum")
		[ -n "$bar" ] || fail "$f: no progress bar with a rate on the terminal: $(cat -v "$W/$f.tty")"
		[ "$(printf '%s' "$sum" | grep -c .)" = 1 ] || fail "$f: the summary does not give one rate: $line"
		[ "$bar" = "$sum" ] ||
			fail "$f: the progress bar gives the rate in $(echo "$bar" | paste -sd,), the summary in $sum"
		note "$f: bar and summary in $sum"
	done
	;;
not_xen)
	# without --raw, non-Xen data is refused naming the xl header
	head -c 1048576 /dev/urandom >"$W/random.bin"
	start_recv rx "$W/out.bin"
	"$RVMIG_SEND" "$W/random.bin" "$(uri "$PORT")" 2>"$W/tx.err" && fail "random data was sent as a Xen stream"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0"
	grep -q "xl header" "$W/tx.err" || fail "the error does not name the xl header"
	grep -q "libxl v2.*libxc v2/v3" "$W/tx.err" || fail "the error does not name the libxl and libxc formats"
	grep -q -- "--raw" "$W/tx.err" || fail "the error does not point to --raw"
	no_final_file "$W/out.bin"
	no_temp_file "temporary file left behind"
	;;
corrupt)
	gen "$W/g24.bin" 24 9
	off=$("$GEN_STREAM" "$W/bad.bin" 24 9 --corrupt 2>>"$W/gen.log") || fail "gen --corrupt"
	start_recv rx "$W/out.bin"
	"$RVMIG_SEND" "$W/bad.bin" "$(uri "$PORT")" 2>"$W/tx.err" && fail "a corrupted stream was sent"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 on a refused stream"
	grep -q "PAGE_DATA.*offset $off" "$W/tx.err" || fail "sender error does not name PAGE_DATA at offset $off"
	grep -q "offset $off" "$W/rx.err" || fail "receiver does not report the sender's reason"
	no_final_file "$W/out.bin"
	no_temp_file "temporary file left behind"
	note "corrupted stream refused: $(grep -o 'libxc:.*' "$W/tx.err" | head -1)"
	;;
truncated)
	gen "$W/g8.bin" 8 4
	head -c $(($(stat -c %s "$W/g8.bin") - 5000)) "$W/g8.bin" >"$W/trunc.bin"
	start_recv rx -
	cat "$W/trunc.bin" | "$RVMIG_SEND" - "$(uri "$PORT")" 2>"$W/tx.err" && fail "a truncated stream was sent"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver (stdout) exited 0 for a truncated stream"
	grep -qi "truncated" "$W/tx.err" || fail "sender does not say truncated"
	;;
kill_receiver)
	# SIGKILL the receiver in the middle: the sender fails, no file under the final name
	gen "$W/g100.bin" 100 11
	start_recv rx "$W/out.bin"
	start_gated_sender "$W/g100.bin" $((64 << 20))
	kill -9 "$RPID"
	wait "$RPID" 2>/dev/null
	open_gate
	wait_rc "$SPID"
	[ "$rc" != 0 ] || fail "sender exited 0 although the receiver was killed"
	no_final_file "$W/out.bin"
	note "sender said: $(grep -v '^rvmig\[' "$W/tx.err" | head -1)"
	# the killed receiver's temporary file is removed by the next receiver
	# for the same output (a running receiver's is not: it holds a lock)
	stale=$(ls "$W"/out.bin.rvmig-partial-* 2>/dev/null)
	[ -n "$stale" ] || fail "the killed receiver left no temporary file (nothing to test)"
	exec 8<"$stale"
	flock -x 8 || fail "cannot lock $stale"
	start_recv rx "$W/out.bin"
	"$RVMIG_SEND" "$W/g100.bin" "$(uri "$PORT")" 2>"$W/tx.err" || fail "rvmig-send (stale file locked) failed"
	wait_rc "$RPID"
	[ "$rc" = 0 ] || fail "rvmig-recv (stale file locked) exited $rc"
	[ -e "$stale" ] || fail "a locked (in use) temporary file was removed"
	exec 8<&-
	file_to_file "$W/g100.bin"
	grep -q "removed $stale (.* bytes) left behind by a receiver that was killed" "$W/rx.err" ||
		fail "the next receiver did not say it removed $stale"
	;;
term_receiver)
	# SIGTERM: the receiver removes its temporary file and reports where it was
	gen "$W/g100.bin" 100 12
	start_recv rx "$W/out.bin"
	start_gated_sender "$W/g100.bin" $((64 << 20))
	kill -TERM "$RPID"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 after SIGTERM"
	open_gate
	wait_rc "$SPID"
	[ "$rc" != 0 ] || fail "sender exited 0 although the receiver was stopped"
	no_final_file "$W/out.bin"
	no_temp_file "temporary file left behind after SIGTERM"
	grep -q "stream offset" "$W/rx.err" || fail "receiver error does not name the stream offset"
	;;
kill_sender)
	# SIGKILL the sender in the middle: the receiver fails, leaves no file
	gen "$W/g100.bin" 100 13
	start_recv rx "$W/out.bin" --timeout 5000
	start_gated_sender "$W/g100.bin" $((64 << 20))
	kill -9 "$SPID"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 although the sender was killed"
	open_gate
	no_final_file "$W/out.bin"
	no_temp_file "temporary file left behind"
	grep -q "stream offset" "$W/rx.err" || fail "receiver error does not name the stream offset"
	note "receiver said: $(grep -v '^rvmig\[' "$W/rx.err" | grep -v listening | head -1)"
	;;
term_sender)
	# SIGTERM the sender: it tells the receiver (ABORT), which removes its file
	gen "$W/g100.bin" 100 14
	start_recv rx "$W/out.bin"
	start_gated_sender "$W/g100.bin" $((64 << 20))
	kill -TERM "$SPID"
	open_gate  # `wait` on the sender waits for its whole pipeline
	wait_rc "$SPID"
	[ "$rc" != 0 ] || fail "sender exited 0 after SIGTERM"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 although the sender gave up"
	no_final_file "$W/out.bin"
	no_temp_file "temporary file left behind"
	grep -q "gave up.*interrupted by signal" "$W/rx.err" || fail "receiver does not report the sender's reason"
	;;
enospc)
	# the receiver cannot write (stdout is /dev/full): both sides fail with the reason
	gen "$W/g8.bin" 8 6
	RECV_STDOUT=/dev/full start_recv rx -
	"$RVMIG_SEND" "$W/g8.bin" "$(uri "$PORT")" 2>"$W/tx.err" && fail "sender exited 0 although the receiver could not write"
	wait_rc "$RPID"
	[ "$rc" != 0 ] || fail "receiver exited 0 writing to /dev/full"
	grep -q "No space left" "$W/rx.err" || fail "receiver does not say ENOSPC"
	grep -q "receiver failed:.*No space left" "$W/tx.err" || fail "sender does not report the receiver's reason"
	;;
*)
	fail "unknown case"
	;;
esac
note "passed"
