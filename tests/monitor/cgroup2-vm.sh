#!/bin/sh
# The Linux monitor backend on cgroup v2 with the cpu and memory controllers,
# which the build machines (cgroup v1 cpu hierarchy) cannot show: run inside
# the soft-RoCE VM (tests/harness/rxe-vm: Debian's 6.1 kernel, nothing
# mounted on /sys/fs/cgroup), it mounts cgroup2 there, enables the
# controllers for child groups, and runs the backend's checks against real
# processes (the capped burner then goes through cpu.max, memory through
# memory.current), a short overhead run over 100 v2 groups, and a group's
# disks from io.stat: 8 MiB written and read with O_DIRECT on a RAM disk
# (brd) from a group with the io controller, seen through rvmig-top.
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

# io.stat: the VM has no disk of its own (its root is 9p), so a RAM disk.
modprobe brd rd_nr=1 rd_size=16384 max_part=0
echo "+io" >/sys/fs/cgroup/cgroup.subtree_control
g=/sys/fs/cgroup/rvmig-io
mkdir "$g"
sh -c "echo \$\$ >$g/cgroup.procs && exec dd if=/dev/zero of=/dev/ram0 bs=1M count=8 oflag=direct status=none"
sh -c "echo \$\$ >$g/cgroup.procs && exec dd if=/dev/ram0 of=/dev/null bs=1M count=8 iflag=direct status=none"
echo "cgroup2-vm.sh: $g/io.stat: $(cat "$g/io.stat")"
"$build/tools/rvmig-top" -b -d 0.1 -i 1 --json -g "$g" >/tmp/io.json
rmdir "$g"
python3 - /tmp/io.json <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])["domains"][0]
disks = {k["name"]: k for k in d["disks"]}
print("cgroup2-vm.sh: rvmig-top disks:", disks)
k, m = disks["ram0"], 8 << 20
for f in ("read_bytes", "write_bytes"):
    assert m <= k[f] <= m + (1 << 20), f"{f} {k[f]}, expected {m} .. {m + (1 << 20)}"
for f in ("read_requests", "write_requests"):
    assert 8 <= k[f] <= m // 4096, f"{f} {k[f]}"
PY
