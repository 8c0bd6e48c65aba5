#!/usr/bin/env bash
# Runs a representative part of the conformance suite under valgrind memcheck
# (the 64 MiB cases are left to the ASan build: memcheck makes them slow).
# Any memcheck error or definite leak in our code fails the test.
set -uo pipefail
bin=$1
export RVMIG_TEST_LOAD_COUNT=${RVMIG_TEST_LOAD_COUNT:-50}
rc=0
for f in 'handshake/*' 'push/sizes*' 'pull/sizes*' 'push/thousands*' 'pull/thousands*' \
         'cancel/*' 'auth/*' 'integrity/*' 'failure/*' 'load/*' 'limit/*'; do
  echo "== valgrind: $f"
  valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    "$bin" --jobs 1 --filter "$f" 2>&1 | grep -vE '^rvmig\[' | grep -E '==[0-9]+==|Synthesis|FAIL' | grep -v 'possibly lost' | head -40
  st=${PIPESTATUS[0]}
  [ "$st" = 0 ] || { echo "valgrind: $f failed (status $st)"; rc=1; }
done
exit $rc
