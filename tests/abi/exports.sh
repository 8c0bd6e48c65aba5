#!/usr/bin/env bash
# The exported ABI, checked in the build tree (unit tier):
#   exports LIB MAP INCDIR BASELINE
#     the calls named in the version script MAP, the RVMIG_API declarations
#     of INCDIR/rvmig/*.h and the dynamic symbols LIB defines are one set,
#     each symbol is versioned with a node of MAP, nothing else is exported,
#     LIB has none of the test hooks (librvmig/proto/testhooks.h), and the
#     teardown rule of rvmig_ctx(3) holds: each X_create has an X_destroy
#     (but data: rvmig_samples_create, freed with rvmig_samples_free), each
#     X_open an X_close; and LIB exports each call of BASELINE
#     (tests/abi/symbols.txt) in the node listed there, and no call that is
#     not listed.
#   man MAP MANDIR
#     every call named in MAP has MANDIR/<call>.3 (a page, or a ".so" link
#     to one) and the page it leads to names the call in its text.
set -euo pipefail

# The calls a version script names: its lines "    rvmig_xxx;" outside
# comments (a wildcard there is refused: every export is listed).
map_calls() {
	awk '/\/\*/ { c = 1 } !c { print } /\*\// { c = 0 }' "$1" >"$tmp/map.txt"
	if grep -n '[*?]' "$tmp/map.txt" | grep -v '^[0-9]*: *\*;$' >&2; then
		echo "$1: a wildcard in a global: list; name every export" >&2
		return 1
	fi
	sed -n 's/^[[:space:]]*\(rvmig_[a-z0-9_]*\);[[:space:]]*$/\1/p' "$tmp/map.txt" | sort
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mode=$1
shift
case $mode in
exports)
	lib=$1 map=$2 inc=$3 baseline=$4
	map_calls "$map" >"$tmp/listed"
	[ "$(uniq -d "$tmp/listed" | wc -l)" -eq 0 ] ||
		{ echo "$map names a call twice: $(uniq -d "$tmp/listed" | tr '\n' ' ')"; exit 1; }
	grep -ho '^RVMIG_API [^(]*(' "$inc"/rvmig/*.h | sed 's/.*[ *]\(rvmig_[a-z0-9_]*\)($/\1/' |
		sort >"$tmp/declared"
	nodes=$(sed -n 's/^\(RVMIG_[0-9.]*\) *{.*/\1/p' "$map" | tr '\n' ' ')
	nm -D --defined-only "$lib" | awk '{print $3}' >"$tmp/nm"
	bad=0
	while read -r sym; do
		name=${sym%%@*} node=${sym#*@@}
		case " $nodes " in *" $name "*) continue ;; esac # the node symbols themselves
		if [ "$name" = "$sym" ] || ! case " $nodes " in *" $node "*) true ;; *) false ;; esac; then
			echo "exported without a version node of $map: $sym"
			bad=1
		fi
		echo "$name" >>"$tmp/exported"
	done <"$tmp/nm"
	sort -o "$tmp/exported" "$tmp/exported"
	# calls never leave and never change node; new ones are added knowingly
	grep '^rvmig_' "$tmp/nm" | sort >"$tmp/versioned"
	grep -v '^#' "$baseline" | sort >"$tmp/baseline"
	gone=$(comm -23 "$tmp/baseline" "$tmp/versioned" | tr '\n' ' ')
	if [ -n "$gone" ]; then
		echo "no longer exported as $(basename "$baseline") has them (dropped or moved to another node): $gone"
		bad=1
	fi
	new=$(comm -13 "$tmp/baseline" "$tmp/versioned" | tr '\n' ' ')
	if [ -n "$new" ]; then
		echo "exported but not in $baseline (add each new call with its node): $new"
		bad=1
	fi
	for pair in "listed:exported" "declared:exported" "exported:listed" "exported:declared"; do
		a=${pair%:*} b=${pair#*:}
		extra=$(comm -23 "$tmp/$a" "$tmp/$b" | tr '\n' ' ')
		if [ -n "$extra" ]; then
			case $a:$b in
			listed:exported) why="named in $(basename "$map") but not exported by $(basename "$lib")" ;;
			declared:exported) why="declared RVMIG_API in $inc/rvmig but not exported" ;;
			exported:listed) why="exported but not named in $(basename "$map")" ;;
			exported:declared) why="exported but declared RVMIG_API in no public header" ;;
			esac
			echo "$why: $extra"
			bad=1
		fi
	done
	# one teardown verb per kind of object (rvmig_ctx(3), "Conventions")
	while read -r f; do
		case $f in
		rvmig_samples_create) want=rvmig_samples_free ;;
		*_create) want=${f%_create}_destroy ;;
		*_open) want=${f%_open}_close ;;
		*) continue ;;
		esac
		grep -qx "$want" "$tmp/declared" ||
			{ echo "$f has no $want (teardown verbs: rvmig_ctx(3), Conventions)"; bad=1; }
	done <"$tmp/declared"
	# the shipped library is built without the test hooks: not even local
	# symbols of that name (its full symbol table, not only the dynamic one)
	nm "$lib" >"$tmp/all" 2>&1 || { echo "nm $lib: $(cat "$tmp/all")"; exit 1; }
	hooks=$(grep -o 'proto_test_[a-z_]*' "$tmp/all" | sort -u | tr '\n' ' ' || true)
	if [ -n "$hooks" ]; then
		echo "$(basename "$lib") has test hooks in it: $hooks"
		bad=1
	fi
	[ "$bad" -eq 0 ] || exit 1
	n=$(wc -l <"$tmp/exported")
	# a check that found nothing to compare proves nothing
	[ "$n" -ge 200 ] || { echo "only $n exported calls found in $lib"; exit 1; }
	echo "exports: $n calls, listed in $(basename "$map") ($nodes), declared and exported alike"
	;;
man)
	map=$1 man=$2
	map_calls "$map" >"$tmp/listed"
	bad=0 n=0
	while read -r f; do
		page=$man/$f.3
		if [ ! -f "$page" ]; then
			echo "$f: no man page $page"
			bad=1
			continue
		fi
		target=$(sed -n '1s/^\.so man3\/\(.*\)$/\1/p' "$page")
		if [ -n "$target" ]; then
			page=$man/$target
			[ -f "$page" ] || { echo "$f: $man/$f.3 links to $target, which is missing"; bad=1; continue; }
		fi
		# roff writes the name as \fBrvmig_x\fR, .B rvmig_x, .BI "... rvmig_x(" ...
		if ! grep -Eq "(^|[^a-z0-9_]|\\\\f[BIRP])$f([^a-z0-9_]|$)" "$page"; then
			echo "$f: its page $(basename "$page") does not name it"
			bad=1
			continue
		fi
		n=$((n + 1))
	done <"$tmp/listed"
	[ "$bad" -eq 0 ] || exit 1
	[ "$n" -ge 200 ] || { echo "only $n calls found in the version script"; exit 1; }
	echo "man: $n calls, each with a section-3 page that names it"
	;;
*)
	echo "usage: $0 exports LIB MAP INCDIR BASELINE | man MAP MANDIR" >&2
	exit 2
	;;
esac
