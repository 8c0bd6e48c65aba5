#!/usr/bin/env bash
# Records the traces tests/policy/test_plan_trace.c replays: real processes
# in real CPU cgroups (v1 cpu controller or v2 cpu.max), watched by
# rvmig-top --record every second while their caps change.  Needs root.
#   record.sh RVMIG-TOP OUTDIR [overload|underload|oscillating|hosts ...]
# overload:    two busy loops, each capped at 0.2 CPU, 36 s
# underload:   a process that mostly sleeps, capped at 1.5 CPUs, 36 s
# oscillating: a busy loop whose cap flips between 0.15 and 1.0 CPU every
#              4 s, 44 s; its group at 10x the default weight, so that on a
#              loaded host it does get the 1.0 CPU when its cap allows
# hosts:       three rvmig-top runs at once standing for three hosts
#              (hosts-a/b/c.tsv), 30 s: A watches three busy loops in
#              their own groups (more than this 2-CPU machine runs), B and
#              C a sleeper each
set -euo pipefail
top=$1 out=$2
shift 2
[ $# -gt 0 ] || set -- overload underload oscillating hosts
if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then v=1 base=/sys/fs/cgroup/cpu
else v=2 base=/sys/fs/cgroup; fi
cgs=() pids=()
cleanup() {
	local p c
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for c in "${cgs[@]}"; do rmdir "$base/$c" 2>/dev/null || true; done
}
trap cleanup EXIT
mkcg() { mkdir -p "$base/$1"; cgs+=("$1"); }
cap() { # cgroup cpus
	if [ $v = 1 ]; then
		echo 100000 >"$base/$1/cpu.cfs_period_us"
		echo "$(awk -v c="$2" 'BEGIN { printf "%d", c * 100000 }')" >"$base/$1/cpu.cfs_quota_us"
	else
		echo "$(awk -v c="$2" 'BEGIN { printf "%d", c * 100000 }') 100000" >"$base/$1/cpu.max"
	fi
}
weight10() { # cgroup: 10x the default weight
	if [ $v = 1 ]; then echo 10240 >"$base/$1/cpu.shares"; else echo 1000 >"$base/$1/cpu.weight"; fi
}
run_in() { # cgroup command... (the process joins before it runs)
	local cg=$1; shift
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$base/$cg" "$@" &
	pids+=($!)
}
record() { # name seconds cgroups...
	local name=$1 secs=$2; shift 2
	local args=() c
	for c in "$@"; do args+=(-g "$base/$c"); done
	rm -f "$out/$name.tsv"
	"$top" -b -d 1 -i "$((secs + 1))" --record "$out/$name.tsv" "${args[@]}" >/dev/null &
	pids+=($!)
}
for scen in "$@"; do
	case $scen in
	overload)
		mkcg rvmig-trace-w1; mkcg rvmig-trace-w2
		cap rvmig-trace-w1 0.2; cap rvmig-trace-w2 0.2
		run_in rvmig-trace-w1 bash -c 'while :; do :; done'
		run_in rvmig-trace-w2 bash -c 'while :; do :; done'
		record overload 36 rvmig-trace-w1 rvmig-trace-w2
		wait "${pids[-1]}"
		;;
	underload)
		mkcg rvmig-trace-idle; cap rvmig-trace-idle 1.5
		run_in rvmig-trace-idle bash -c 'while :; do sleep 0.2; done'
		record underload 36 rvmig-trace-idle
		wait "${pids[-1]}"
		;;
	oscillating)
		mkcg rvmig-trace-osc; cap rvmig-trace-osc 0.15; weight10 rvmig-trace-osc
		run_in rvmig-trace-osc bash -c 'while :; do :; done'
		record oscillating 44 rvmig-trace-osc
		rec=${pids[-1]}
		for i in $(seq 1 11); do
			sleep 4
			if [ $((i % 2)) = 1 ]; then cap rvmig-trace-osc 1.0; else cap rvmig-trace-osc 0.15; fi
		done
		wait "$rec"
		;;
	hosts)
		for c in a1 a2 a3; do
			mkcg rvmig-trace-$c
			run_in rvmig-trace-$c bash -c 'while :; do :; done'
		done
		mkcg rvmig-trace-b; mkcg rvmig-trace-c
		run_in rvmig-trace-b bash -c 'while :; do sleep 0.5; done'
		run_in rvmig-trace-c bash -c 'while :; do sleep 0.5; done'
		record hosts-a 30 rvmig-trace-a1 rvmig-trace-a2 rvmig-trace-a3; ra=${pids[-1]}
		record hosts-b 30 rvmig-trace-b; rb=${pids[-1]}
		record hosts-c 30 rvmig-trace-c; rc=${pids[-1]}
		wait "$ra" "$rb" "$rc"
		;;
	*) echo "unknown scenario $scen" >&2; exit 2 ;;
	esac
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
	for f in "$out/$scen".tsv "$out/$scen"-?.tsv; do
		[ -f "$f" ] && echo "recorded $f ($(grep -c '^H' "$f") samples)"
	done
done
