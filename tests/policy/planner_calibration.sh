#!/usr/bin/env bash
# unit.policy.planner_calibration: the planner's check (rvmig-planner-check,
# bench/eval/planner_check.c) on the three committed quiet runs that carry
# single calibration transfers of other sizes (bench/results/parallel-rounds-
# 2026-12-07e-quiet-cal, -07f-quiet-cal, -07g-quiet-cal's quiet rounds 1-3).
# With them, the single transfer of the measured size (N = 1) -- never fitted
# when it is judged -- must be predicted within the bound on every transport
# of every run; without them the same
# check must miss N = 1 on both transports of the first run (the even half then
# extrapolates N = 1 from N >= 2), so the test can tell the two apart.
# usage: planner_calibration.sh RVMIG_PLANNER_CHECK RESULTS_DIR
set -uo pipefail
check=${1:?rvmig-planner-check} results=${2:?bench/results}
fail=0
n1_rows() { # OUTPUT VERDICT: how many N = 1 rows end in VERDICT
	grep -c "^| 1 | .* | $2 |\$" <<<"$1"
}
run() { # DIR[/PREFIX] [--calibration]: the check's output; exit 2 (bad input) fails
	local d=$results/${1%%/*} p= out rc
	[[ $1 == */* ]] && p=${1#*/}
	shift
	if [[ $# -gt 0 ]]; then
		out=$("$check" --calibration "$d/${p}parallel-calibration-summary-single.csv" \
			"$d/${p}parallel-summary-single.csv")
	else
		out=$("$check" "$d/${p}parallel-summary-single.csv")
	fi
	rc=$?
	printf '%s\n' "$out"
	((rc <= 1)) || { echo "FAIL: rvmig-planner-check exit $rc on $d" >&2; return 1; }
}
# 07g: its quiet rounds 1-3 (rounds-1-3-*.csv; the host was loaded from round 4 on)
for d in parallel-rounds-2026-12-07e-quiet-cal parallel-rounds-2026-12-07f-quiet-cal \
	parallel-rounds-2026-12-07g-quiet-cal/rounds-1-3-; do
	out=$(run "$d" --calibration) || fail=1
	printf '%s\n' "$out" | grep -E '^(- fitted|\| 1 \||[a-z]+: held-out)'
	ok=$(n1_rows "$out" ok)
	if [[ $ok != 2 ]]; then
		echo "FAIL: $d with calibration: N = 1 within the bound on $ok of 2 transports" >&2
		fail=1
	fi
done
out=$(run parallel-rounds-2026-12-07e-quiet-cal) || fail=1
missed=$(n1_rows "$out" MISSED)
if [[ $missed != 2 ]]; then
	echo "FAIL: without calibration N = 1 missed on $missed of 2 transports (2 expected)" >&2
	fail=1
fi
((fail == 0)) && echo "N = 1 within the bound on both transports of the three runs with calibration, missed on both of 07e without"
exit "$fail"
