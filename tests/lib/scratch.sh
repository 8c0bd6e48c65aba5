# shellcheck shell=bash
# tests/lib/scratch.sh - what the shell tests that start servers share.
# Source it from bash after `set -euo pipefail`:
#   . "$(dirname "$0")/../lib/scratch.sh"
# It gives:
#   $tmp              a temporary directory, removed on exit
#   pids+=(PID)       background processes killed (and reaped) on exit
#   free_port         prints a TCP port free on 127.0.0.1 now
#   wait_for SEC CMD  runs CMD every 0.2 s until it succeeds (0) or SEC
#                     seconds (may be fractional) have passed (1)
# A script that needs more on exit defines cleanup_extra().
. "$(dirname "${BASH_SOURCE[0]}")/wait.sh"
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	if declare -F cleanup_extra >/dev/null; then cleanup_extra || true; fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
