#!/usr/bin/env bash
# The examples (examples/) as a user builds them, against the installed
# package only, and run end to end.
#
#   examples.sh build BUILD EXAMPLES_SRC DIR
#       installs BUILD into DIR/prefix, builds save_to_uri and recv_to_file
#       with pkg-config (examples/Makefile, in a copy of the folder: DIR/pc)
#       and with find_package(rvmig) (examples/CMakeLists.txt: DIR/cm), and
#       checks that all four load the installed librvmig;
#   examples.sh run DIR TRANSPORT ADDR [STREAM...]
#       moves each STREAM from one build's save_to_uri to the other's
#       recv_to_file over TRANSPORT on ADDR (both pairings) and checks that
#       the received file is byte-identical;
#   examples.sh all BUILD EXAMPLES_SRC TRANSPORT ADDR [STREAM...]
#       both, in a temporary DIR.
#
# GEN_STREAM (run, all): tests/e2e/gen_stream; when set, a generated 8 MiB
# Xen stream (xl header, libxl v2, libxc v3, PV) is moved first.
# RVMIG_CONSUMER_CFLAGS (build, all): extra flags (the sanitizers of an ASan
# build).  Waits: the receiver's "listening on port N" line (its readiness
# signal) for 120 s; each example bounds its own waits.
set -euo pipefail
unset LD_LIBRARY_PATH

build_examples() { # BUILD EXAMPLES_SRC DIR
	local build=$1 src=$2 dir=$3 libdir cflags prog lib
	rm -rf "$dir/prefix" "$dir/pc" "$dir/cm"
	mkdir -p "$dir"
	cmake --install "$build" --prefix "$dir/prefix" >/dev/null
	libdir=$(find "$dir/prefix" -name 'librvmig.so.0' -printf '%h\n' | head -n1)
	test -n "$libdir" || { echo "examples: librvmig.so.0 not installed"; return 1; }
	cflags="-O2 -g -Wall -Wextra -Werror ${RVMIG_CONSUMER_CFLAGS:-}"
	echo "== pkg-config build (examples/Makefile)"
	cp -r "$src" "$dir/pc"
	PKG_CONFIG_PATH="$libdir/pkgconfig" make -C "$dir/pc" CFLAGS="$cflags"
	echo "== find_package build (examples/CMakeLists.txt)"
	cmake -S "$src" -B "$dir/cm" -DCMAKE_PREFIX_PATH="$dir/prefix" -DCMAKE_C_FLAGS="$cflags" >/dev/null
	cmake --build "$dir/cm"
	for prog in "$dir"/pc/save_to_uri "$dir"/pc/recv_to_file "$dir"/cm/save_to_uri "$dir"/cm/recv_to_file; do
		lib=$(ldd "$prog" | sed -n 's/.*librvmig\.so\.0 => \([^ ]*\).*/\1/p')
		[ "$(readlink -f "$lib")" = "$(readlink -f "$libdir/librvmig.so.0")" ] ||
			{ echo "examples: $prog loads librvmig from '$lib', not from $libdir"; ldd "$prog"; return 1; }
	done
}

# move SENDER RECEIVER STREAM: one transfer, the received file compared.
move() {
	local send=$1 recv=$2 stream=$3 out=$tmp/received line port rc=0 rfd
	rm -f "$out"
	coproc RECV { exec "$recv" "$transport://$addr:0" "$out" 2>&1; }
	local rpid=$RECV_PID
	# our own copy of its output: bash closes RECV[0] when the coproc exits
	exec {rfd}<&"${RECV[0]}"
	if ! read -r -t 120 -u "$rfd" line || [[ $line != "listening on port "* ]]; then
		echo "examples: $recv did not say it was listening: '${line:-}'"
		kill "$rpid" 2>/dev/null || true
		return 1
	fi
	port=${line##* }
	"$send" "$stream" "$transport://$addr:$port" || rc=$?
	cat <&"$rfd"
	exec {rfd}<&-
	wait "$rpid" || { echo "examples: $recv failed ($?)"; return 1; }
	[ "$rc" = 0 ] || { echo "examples: $send failed ($rc)"; return 1; }
	cmp "$stream" "$out" || { echo "examples: $(basename "$stream") arrived different"; return 1; }
	echo "$(basename "$stream"): $(stat -c %s "$stream") bytes byte-identical over $transport" \
	     "($send -> $recv)"
}

run_examples() { # DIR [STREAM...]
	local dir=$1 stream
	shift
	if [ -n "${GEN_STREAM:-}" ]; then
		"$GEN_STREAM" "$tmp/generated-8M.bin" 8 7 >/dev/null
		set -- "$tmp/generated-8M.bin" "$@"
	fi
	[ $# -gt 0 ] || { echo "examples: no stream given"; return 2; }
	for stream in "$@"; do
		move "$dir/cm/save_to_uri" "$dir/pc/recv_to_file" "$stream"
		move "$dir/pc/save_to_uri" "$dir/cm/recv_to_file" "$stream"
	done
	echo "examples test passed ($# streams over $transport)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case ${1:-} in
build)
	[ $# = 4 ] || { echo "usage: $0 build BUILD EXAMPLES_SRC DIR"; exit 2; }
	build_examples "$2" "$3" "$4"
	;;
run)
	[ $# -ge 4 ] || { echo "usage: $0 run DIR TRANSPORT ADDR [STREAM...]"; exit 2; }
	dir=$2 transport=$3 addr=$4
	shift 4
	run_examples "$dir" "$@"
	;;
all)
	[ $# -ge 5 ] || { echo "usage: $0 all BUILD EXAMPLES_SRC TRANSPORT ADDR [STREAM...]"; exit 2; }
	build_examples "$2" "$3" "$tmp/ex"
	transport=$4 addr=$5
	shift 5
	run_examples "$tmp/ex" "$@"
	;;
*)
	echo "usage: $0 build|run|all ..."
	exit 2
	;;
esac
