# shellcheck shell=bash
# lib.sh — measurement helpers shared by the evaluation phases (sourced by
# in-vm.sh). Pure bash builtins where possible: under qemu TCG every exec
# costs tens of milliseconds and would show up in the CPU figures.
#
#   now                      wall clock, seconds with microseconds ($EPOCHREALTIME)
#   host_cpu                 "BUSY KERN" host CPU ticks so far (/proc/stat, all CPUs;
#                            busy = all but idle+iowait, kern = system+irq+softirq)
#   net_rx                   sum of rx_bytes over every interface (/proc/net/dev)
#   proc_cpu PID             "UTIME STIME CUTIME CSTIME" ticks of PID (/proc/PID/stat)
#   cpuwrap FILE CMD...      runs CMD, writes its user/sys seconds (bash `times`,
#                            i.e. getrusage(RUSAGE_CHILDREN)) to FILE, returns CMD's status
#   cpu_of FILE              user+sys seconds written by cpuwrap
#   wait_tcp PORT PID        until a TCP listener on PORT exists (fails if PID died, 60 s)
#   wait_cm PORT PID         until an rdma_cm (rsocket) listener on PORT exists
#   wait_file FILE PID       until FILE is non-empty (ready files, FIFOs not needed)
#   nap SEC                  sleep without an exec
#   fdiv A B [FMT]           awk-free A/B (bash cannot do floats; uses awk once)

TCK=$(getconf CLK_TCK)

now() { echo "$EPOCHREALTIME"; }

host_cpu() {
	local _ user nice sys idle iow irq softirq steal
	read -r _ user nice sys idle iow irq softirq steal _ </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) $((sys + irq + softirq))"
}

net_rx() {
	local line name rx sum=0
	while read -r line; do
		[[ $line == *:* ]] || continue
		name=${line%%:*}
		read -r rx _ <<<"${line#*:}"
		[[ $name == Inter* || $name == face* ]] && continue
		sum=$((sum + rx))
	done </proc/net/dev
	echo "$sum"
}

proc_cpu() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || { echo "0 0 0 0"; return 1; }
	s=${s##*) }
	# after "comm) ": state(3) ppid pgrp session tty tpgid flags minflt cminflt
	# majflt cmajflt utime(14) stime cutime cstime
	local -a f
	read -r -a f <<<"$s"
	echo "${f[11]} ${f[12]} ${f[13]} ${f[14]}"
}

cpuwrap() {
	local f=$1 rc
	shift
	"$@"
	rc=$?
	times >"$f"
	return $rc
}

cpu_of() {
	# `times`: line 1 = the shell, line 2 = its children: "XmY.YYYs XmY.YYYs"
	awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] }
		printf "%.3f", s }' "$1" 2>/dev/null
}

nap() { read -r -t "$1" <> <(:) 2>/dev/null || true; }

wait_tcp() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 1200; i++)); do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		nap 0.05
	done
	return 1
}

wait_cm() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 600; i++)); do
		rdma resource show cm_id 2>/dev/null | grep -Eq "LISTEN.*src-addr [^ ]*:$port( |\$)" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		nap 0.1
	done
	return 1
}

wait_file() {
	local f=$1 pid=$2 i
	for ((i = 0; i < 1200; i++)); do
		[[ -s $f ]] && return 0
		kill -0 "$pid" 2>/dev/null || { [[ -s $f ]]; return; }
		nap 0.05
	done
	return 1
}

fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.6f}" 'BEGIN { if (b + 0 > 0) printf f, a / b; else printf "" }'; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }

# sample_cpu PID1 PID2: fork-free (a sampler loop must not exec or fork under
# TCG: each costs tens of ms): sets SAMPLE to
# "UTIME1,STIME1,CUTIME1,CSTIME1,UTIME2,...,HOST_BUSY,HOST_KERN" (ticks; a
# process that is gone reads 0,0,0,0).
sample_cpu() {
	local p s _ user nice sys idle iow irq softirq steal
	local -a f
	SAMPLE=
	for p in "$1" "$2"; do
		s=
		{ read -r s <"/proc/$p/stat"; } 2>/dev/null
		if [[ -n $s ]]; then
			s=${s##*) }
			read -r -a f <<<"$s"
			SAMPLE+="${f[11]},${f[12]},${f[13]},${f[14]},"
		else
			SAMPLE+="0,0,0,0,"
		fi
	done
	read -r _ user nice sys idle iow irq softirq steal _ </proc/stat
	SAMPLE+="$((user + nice + sys + irq + softirq + steal)),$((sys + irq + softirq))"
}
