# shellcheck shell=bash
# tests/lib/topjson.sh - reading `rvmig-top -b --json` output (one JSON
# object per sample and line, complete once it ends with "]}") with bash
# alone: python's start-up took 7 s of wall time on the loaded build
# machine.
#   . "$(dirname "$0")/../lib/topjson.sh"
#   topjson_xfer FILE PID   the transfer object of PID in FILE's newest
#                           complete line (empty when not there)
#   topjson_field OBJ KEY   its raw value: a number, null or a quoted string
#                           (with its quotes, none inside)
#   topjson_ms S.FRAC       seconds as integer milliseconds
#   topjson_first_ms FILE PID  the time (ms) of the first line showing PID
#   topjson_gone FILE END PID...  succeeds when FILE has a sample taken
#                           after END (seconds since the epoch) and none of
#                           those shows a transfer of a PID (exit 2 then)
topjson_xfer() {
	local l last=
	while IFS= read -r l; do [[ $l == *']}' ]] && last=$l; done < <(tail -n 2 "$1")
	[[ $last =~ \{\"pid\":$2,[^{}]*\} ]] && echo "${BASH_REMATCH[0]}"
	return 0
}
topjson_field() {
	[[ $1 =~ \"$2\":(\"[^\"]*\"|[^,}]*) ]] && echo "${BASH_REMATCH[1]}"
}
topjson_ms() { local a=${1%%.*} b=${1#*.}000; echo $((a * 1000 + 10#${b:0:3})); }
topjson_first_ms() {
	topjson_ms "$(grep -m 1 "\"pid\":$2," "$1" | sed 's/^{"time":\([0-9.]*\),.*/\1/')"
}
topjson_gone() {
	local f=$1 end=$2 p pat=
	shift 2
	for p in "$@"; do pat+="${pat:+|}\"pid\":$p,"; done
	awk -F, -v end="$(topjson_ms "$end")" -v pat="$pat" '
		/]}$/ { t = $1; sub(/.*:/, "", t)
			 if (int(t * 1000) > end) { n++; if ($0 ~ pat) bad = 1 } }
		END { if (bad) exit 2; if (n) print "gone from the " n " samples taken after the end"
		      exit n ? 0 : 1 }' "$f"
}
