#!/usr/bin/env bash
# fresh_clone.sh SRC — the tree as a user clones it passes its own fixture
# tests with nothing beside it.
#
# Copies what git would hand a user (tracked files plus untracked files that
# are not ignored, so an uncommitted new fixture is caught before it is
# forgotten) into an empty temporary directory, configures and builds there,
# and runs the fixture tests (unpack, parser, e2e file and pipe) with
# `--no-tests=error`. Also fails on any reference to the developers' notes
# directory that sits beside the repository on the build machines (its name
# is assembled below, so this script does not refer to it itself).
set -euo pipefail
src=$(cd "${1:?usage: fresh_clone.sh SRC}" && pwd)
command -v git >/dev/null || { echo "fresh_clone: git not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvmig-fresh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
repo=$tmp/rvmig

echo "== copying the tree of $src into $repo (nothing beside it)"
mkdir -p "$repo"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$repo" -xf -
ls -A "$tmp" | grep -qxv rvmig && { echo "fresh_clone: $tmp holds more than the tree" >&2; exit 1; }

echo "== references outside the repository"
notes=shared
if hits=$(cd "$repo" && grep -rnI --exclude=fresh_clone.sh -e "\\.\\./$notes" -e "/work/$notes" . ); then
  echo "$hits" | head -20
  echo "fresh_clone: the tree refers to a directory beside the repository (above)" >&2
  exit 1
fi

echo "== configure and build (only what the fixture tests need)"
cmake -S "$repo" -B "$repo/build" -DRVMIG_WERROR=ON >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; echo "fresh_clone: configure failed" >&2; exit 1; }
cmake --build "$repo/build" -j"$(nproc)" --target test_stream_fixture rvmig-send rvmig-recv gen_stream \
  >"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; echo "fresh_clone: build failed" >&2; exit 1; }

echo "== fixture tests in the copy"
cd "$repo/build"
ctest --output-on-failure --no-tests=error -R 'unit\.(fixture_unpack|test_stream_fixture|e2e\.fixture_)' \
  2>&1 | tee "$tmp/ctest.log"
st=${PIPESTATUS[0]}
n=$(grep -cE 'Test +#[0-9]+: .* +Passed' "$tmp/ctest.log" || true)
[[ $st == 0 ]] || { echo "fresh_clone: fixture tests failed in the copy" >&2; exit 1; }
[[ $n -ge 4 ]] || { echo "fresh_clone: only $n fixture tests passed, expected at least 4" >&2; exit 1; }
echo "fresh_clone: $n fixture tests passed in a tree with nothing beside it"
