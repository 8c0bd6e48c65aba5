#!/bin/sh
# The Linux monitor backend on cgroup v2 with the cpu and memory controllers,
# which the build machines (cgroup v1 cpu hierarchy) cannot show: run inside
# the soft-RoCE VM (tests/harness/rxe-vm: Debian's 6.1 kernel, nothing
# mounted on /sys/fs/cgroup), it mounts cgroup2 there, enables the
# controllers for child groups, and runs the backend's checks against real
# processes (the capped burner then goes through cpu.max, memory through
# memory.current) and a short overhead run over 100 v2 groups.
#   usage (from the build dir): rxe-vm -- ../tests/monitor/cgroup2-vm.sh BUILD_DIR
set -eu
build=${1:?usage: cgroup2-vm.sh BUILD_DIR}
if [ "${RVMIG_IN_VM:-}" != 1 ]; then
	echo "cgroup2-vm.sh: runs only inside tests/harness/rxe-vm (it mounts cgroup2 on /sys/fs/cgroup)" >&2
	exit 2
fi
if ! grep -q ' /sys/fs/cgroup ' /proc/self/mountinfo; then
	mount -t cgroup2 none /sys/fs/cgroup
fi
grep -q ' /sys/fs/cgroup .* - cgroup2 ' /proc/self/mountinfo || {
	echo "cgroup2-vm.sh: /sys/fs/cgroup is not cgroup2" >&2
	exit 1
}
echo "cgroup2-vm.sh: controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "+cpu +memory" >/sys/fs/cgroup/cgroup.subtree_control
grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || {
	echo "cgroup2-vm.sh: cannot enable the cpu controller for child groups" >&2
	exit 1
}
"$build/tests/monitor/test_monitor_linux" --jobs 1 --verbose
"$build/bench/monitor/rvmig-monitor-bench" -n 100 -i 1000 -d 5
