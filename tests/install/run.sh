#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then, with no
# LD_LIBRARY_PATH: runs every installed program's --version (each must find
# librvmig.so.0 through its $ORIGIN RUNPATH and print the library's version),
# builds a consumer with pkg-config and one with find_package(rvmig) and runs
# both, and checks that the library exports only versioned rvmig_* symbols,
# those of BASELINE (tests/abi/symbols.txt) in their nodes, each with its
# man page.
set -euo pipefail
build=$1 src=$2 baseline=$3
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
# The installed library exports exactly the calls of tests/abi/symbols.txt,
# each in the node listed there, and every call the installed headers
# declare is among them (unit.abi_exports checks the build tree the same way).
awk '$3 ~ /^rvmig_/ {print $3}' <<<"$syms" | sort >"$tmp/versioned"
grep -v '^#' "$baseline" | sort >"$tmp/baseline"
if ! diff "$tmp/baseline" "$tmp/versioned"; then
	echo "the installed library's calls and nodes differ from $baseline (< listed, > exported)"
	exit 1
fi
n_decl=0
for f in $(grep -ho '^RVMIG_API [^(]*(' "$prefix"/include/rvmig/*.h | sed 's/.*[ *]\(rvmig_[a-z0-9_]*\)($/\1/'); do
	grep -q "^$f@@RVMIG_" "$tmp/versioned" || { echo "$f is declared in the installed headers but not exported"; exit 1; }
	n_decl=$((n_decl + 1))
done
[ "$n_decl" -ge 200 ] || { echo "only $n_decl calls declared in the installed headers"; exit 1; }
echo "abi: $n_decl calls declared, exported in the nodes of $(basename "$baseline")"
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
