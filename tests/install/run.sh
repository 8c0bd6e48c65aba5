#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and builds a consumer both
# with pkg-config and with find_package(rvmig); both must run.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name 'librvmig.so.0' -printf '%h\n' | head -n1)
test -n "$libdir" || { echo "install: librvmig.so.0 not installed"; exit 1; }
test -f "$tmp/prefix/include/rvmig.h" || { echo "install: rvmig.h missing"; exit 1; }

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=${RVMIG_CONSUMER_CFLAGS:-}
# shellcheck disable=SC2046,SC2086
cc $cflags -o "$tmp/pc-consumer" "$src/consumer.c" $(pkg-config --cflags --libs rvmig)
LD_LIBRARY_PATH="$libdir" "$tmp/pc-consumer"

echo "== find_package"
cmake -S "$src" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_FLAGS="$cflags" >/dev/null
cmake --build "$tmp/cm" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/consumer"

echo "== exported symbols are all rvmig_* and versioned"
bad=$(nm -D --defined-only "$libdir/librvmig.so.0" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^rvmig_.*@@RVMIG_' | grep -v '^RVMIG_' || true)
if [ -n "$bad" ]; then echo "unexpected exports: $bad"; exit 1; fi
echo "install test passed"
