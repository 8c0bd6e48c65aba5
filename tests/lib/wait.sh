# shellcheck shell=bash
# tests/lib/wait.sh - wait on a condition with a deadline (bash).
#   . "$(dirname "$0")/../lib/wait.sh"
#   wait_for SEC CMD...  runs CMD every $WAIT_FOR_POLL s (default 0.2) until
#                        it succeeds (0) or SEC seconds (may be fractional)
#                        have passed (1)
wait_for() { # seconds, command...
	local end
	end=$(awk -v now="$EPOCHREALTIME" -v s="$1" 'BEGIN { printf "%.0f", (now + s) * 1000000 }')
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep "${WAIT_FOR_POLL:-0.2}"
	done
}
