#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then, with no
# LD_LIBRARY_PATH: runs every installed program's --version (each must find
# librvmig.so.0 through its $ORIGIN RUNPATH and print the library's version),
# builds a consumer with pkg-config and one with find_package(rvmig) and runs
# both, and checks that the library exports only versioned rvmig_* symbols.
set -euo pipefail
build=$1 src=$2
unset LD_LIBRARY_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name 'librvmig.so.0' -printf '%h\n' | head -n1)
test -n "$libdir" || { echo "install: librvmig.so.0 not installed"; exit 1; }
test -f "$prefix/include/rvmig.h" || { echo "install: rvmig.h missing"; exit 1; }
test -n "$(find "$prefix" -path '*/man1/rvmig-top.1')" ||
	{ echo "install: man page rvmig-top.1 missing"; exit 1; }
test -n "$(find "$prefix" -path '*/man3/rvmig_version.3')" ||
	{ echo "install: man page rvmig_version.3 missing"; exit 1; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
version=$(pkg-config --modversion rvmig)
echo "installed rvmig $version into $prefix"

echo "== installed programs: RUNPATH with \$ORIGIN, --version names librvmig $version"
# The tools built in every configuration must all be there; rvmig-save only
# exists with libxenlight, so it is checked when found.
for t in bin/rvmig-send bin/rvmig-recv bin/rvmig-tunnel bin/rvmig-top bin/rvmig-top-plot bin/rvmig-bench sbin/rvmigd; do
	test -x "$prefix/$t" || { echo "install: $t missing"; exit 1; }
done
n=0
for prog in "$prefix"/bin/* "$prefix"/sbin/*; do
	[ -f "$prog" ] || continue
	name=${prog#"$prefix"/}
	# scripts (rvmig-top-plot) have no RUNPATH and no library: they must run
	if [ "$(head -c 2 "$prog")" = '#!' ]; then
		out=$("$prog" --help 2>&1) || { echo "$name --help failed: $out"; exit 1; }
		echo "$name: a script, --help runs"
		continue
	fi
	runpath=$(readelf -d "$prog" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
	case $runpath in
	*'$ORIGIN'*) ;;
	*) echo "$name: RUNPATH is '$runpath', not relative to \$ORIGIN"; exit 1 ;;
	esac
	out=$("$prog" --version 2>&1) || { echo "$name --version failed: $out"; exit 1; }
	case $out in
	*"(librvmig $version)"*) ;;
	*) echo "$name --version printed '$out', not the library version $version"; exit 1 ;;
	esac
	echo "$name: RUNPATH $runpath: $out"
	n=$((n + 1))
done

echo "== pkg-config consumer"
cflags=${RVMIG_CONSUMER_CFLAGS:-}
# rvmig.pc carries -Wl,-rpath,${libdir} outside /usr and /usr/local.
# shellcheck disable=SC2046,SC2086
cc $cflags -o "$tmp/pc-consumer" "$src/consumer.c" $(pkg-config --cflags --libs rvmig)
"$tmp/pc-consumer"

echo "== find_package consumer"
# CMake gives the consumer a build-tree RUNPATH to the imported library.
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$cflags" >/dev/null
cmake --build "$tmp/cm" >/dev/null
"$tmp/cm/consumer"

echo "== exported symbols are all rvmig_* and versioned"
syms=$(nm -D --defined-only "$libdir/librvmig.so.0")
bad=$(printf '%s\n' "$syms" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^rvmig_.*@@RVMIG_' | grep -v '^RVMIG_' || true)
if [ -n "$bad" ]; then echo "unexpected exports: $bad"; exit 1; fi
grep -q ' rvmig_version@@RVMIG_0\.2$' <<<"$syms" ||
	{ echo "rvmig_version is not exported in node RVMIG_0.2"; exit 1; }
# Every call the installed monitor header declares is exported in RVMIG_0.3,
# the Xen backend's device and vCPU-state calls in RVMIG_0.5, the transfers'
# in RVMIG_0.6, the device names and disk bytes in RVMIG_0.10
# (grep reads a here-string: with pipefail, printf | grep -q can die of SIGPIPE).
for f in $(sed -n 's/^RVMIG_API [^(]*[ *]\(rvmig_monitor_[a-z0-9_]*\)(.*/\1/p' "$prefix/include/rvmig/monitor.h"); do
	case $f in
	rvmig_monitor_snap_ntransfers | rvmig_monitor_transfer*) node=6 ;;
	rvmig_monitor_net_name | rvmig_monitor_disk_name | rvmig_monitor_disk_rd_bytes | \
	rvmig_monitor_disk_wr_bytes) node=10 ;;
	rvmig_monitor_net_* | rvmig_monitor_disk_* | rvmig_monitor_domain_net | \
	rvmig_monitor_domain_nnets | rvmig_monitor_domain_disk | rvmig_monitor_domain_ndisks | \
	rvmig_monitor_vcpu_flags | rvmig_monitor_vcpu_pcpu) node=5 ;;
	*) node=3 ;;
	esac
	grep -q " $f@@RVMIG_0\.$node\$" <<<"$syms" ||
		{ echo "$f is not exported in node RVMIG_0.$node"; exit 1; }
	n_mon=$((${n_mon:-0} + 1))
done
[ "${n_mon:-0}" -ge 40 ] || { echo "only ${n_mon:-0} rvmig_monitor_* calls found in monitor.h"; exit 1; }
test -n "$(find "$prefix" -path '*/man3/rvmig_monitor.3')" ||
	{ echo "install: man page rvmig_monitor.3 missing"; exit 1; }
echo "monitor: $n_mon calls exported in RVMIG_0.3, 0.5, 0.6 and 0.10"
# The policy model: every call of policy.h exported in RVMIG_0.7 (the
# verification of applied actions in RVMIG_0.8, rvmig_share_predict in
# RVMIG_0.12), its man pages.
for f in $(sed -n 's/^RVMIG_API [^(]*[ *]\(rvmig_[a-z0-9_]*\)(.*/\1/p' "$prefix/include/rvmig/policy.h"); do
	case $f in rvmig_verify | rvmig_verdict_name) node=8 ;; rvmig_share_predict) node=12 ;; *) node=7 ;; esac
	grep -q " $f@@RVMIG_0\.$node\$" <<<"$syms" ||
		{ echo "$f is not exported in node RVMIG_0.$node"; exit 1; }
	n_pol=$((${n_pol:-0} + 1))
done
[ "${n_pol:-0}" -ge 40 ] || { echo "only ${n_pol:-0} calls found in policy.h"; exit 1; }
for m in rvmig_policy rvmig_decider rvmig_verify rvmig_planner; do
	test -n "$(find "$prefix" -path "*/man3/$m.3")" ||
		{ echo "install: man page $m.3 missing"; exit 1; }
done
echo "policy: $n_pol calls exported in RVMIG_0.7 and 0.8"
# Transfers published for the monitor: every call of publish.h in
# RVMIG_0.6, its man page.
for f in $(sed -n 's/^RVMIG_API [^(]*[ *]\(rvmig_[a-z0-9_]*\)(.*/\1/p' "$prefix/include/rvmig/publish.h"); do
	grep -q " $f@@RVMIG_0\.6\$" <<<"$syms" ||
		{ echo "$f is not exported in node RVMIG_0.6"; exit 1; }
	n_pub=$((${n_pub:-0} + 1))
done
[ "${n_pub:-0}" -ge 11 ] || { echo "only ${n_pub:-0} calls found in publish.h"; exit 1; }
test -n "$(find "$prefix" -path '*/man3/rvmig_publisher.3')" ||
	{ echo "install: man page rvmig_publisher.3 missing"; exit 1; }
echo "publish: $n_pub calls exported in RVMIG_0.6"
# Stream format detection: its calls in RVMIG_0.9, its man page.
for f in rvmig_stream_detect rvmig_stream_start_layer; do
	grep -q "^RVMIG_API [^(]*[ *]$f(" "$prefix/include/rvmig/stream.h" ||
		{ echo "$f is not declared in the installed rvmig/stream.h"; exit 1; }
	grep -q " $f@@RVMIG_0\.9\$" <<<"$syms" ||
		{ echo "$f is not exported in node RVMIG_0.9"; exit 1; }
done
for m in rvmig_stream rvmig_stream_detect; do
	test -n "$(find "$prefix" -path "*/man3/$m.3")" ||
		{ echo "install: man page $m.3 missing"; exit 1; }
done
echo "stream: detection exported in RVMIG_0.9"
# Every exported call has its installed page (man3/<call>.3, a page or a
# ".so" link to one that is installed too), and the overview rvmig(7).
n_man=0
for f in $(awk '$3 ~ /^rvmig_.*@@RVMIG_/ { sub(/@@.*/, "", $3); print $3 }' <<<"$syms"); do
	page=$(find "$prefix" -path "*/man3/$f.3" | head -n1)
	test -n "$page" || { echo "install: no man page for $f"; exit 1; }
	target=$(sed -n '1s/^\.so man3\///p' "$page")
	if [ -n "$target" ]; then
		test -f "$(dirname "$page")/$target" ||
			{ echo "install: $f.3 leads to $target, which is not installed"; exit 1; }
	fi
	n_man=$((n_man + 1))
done
[ "$n_man" -ge 200 ] || { echo "only $n_man exported calls found"; exit 1; }
test -n "$(find "$prefix" -path '*/man7/rvmig.7')" || { echo "install: rvmig.7 missing"; exit 1; }
echo "man: $n_man calls with an installed section-3 page, rvmig.7"
echo "install test passed ($n programs)"
