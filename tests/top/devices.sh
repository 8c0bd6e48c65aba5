#!/usr/bin/env bash
# unit.top.devices: a Linux domain's network interfaces and disks, on
# real kernel objects, through rvmig-top (the monitor library underneath).
#
#  - A process in its own network namespace, joined to the host by a veth
#    pair: 4 MiB sent to it over TCP must show on its end of the veth as
#    received bytes, at least 4 MiB and at most 4 MiB * 1.10 + 64 KiB (TCP/IP
#    headers: 52-66 bytes a segment; ARP and IPv6 neighbour discovery); its
#    ACKs as transmitted bytes, more than 0 and less than 10 % of that;
#    rvmig-top --listen serves them as rvmig_domain_network_* series that
#    promtool accepts.  A process in the host's namespace (this shell) has
#    no interfaces; one that enters the namespace while watched gains its
#    interface (the monitor looks namespaces up again every 16 samples).
#  - A cgroup (v1 blkio, as on these build hosts, or v2 with the io
#    controller) in which dd writes and then reads 8 MiB with O_DIRECT
#    beside the build tree: its disk must show at least 8 MiB written and
#    read and at most 8 MiB + 1 MiB (the journal is written by jbd2, outside
#    the group), and at least 8 requests each way.  v1 counts only devices on
#    which the group has a blkio.throttle limit, so the test sets one far
#    above what the disk can do.
# Needs root (CI is); everything it creates is removed on exit, failure
# included.
set -euo pipefail
top=$1
exporter=${2:-0}
. "$(dirname "$0")/../lib/scratch.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root: ip netns, veth, cgroups"; exit 1; }

tag=rvt$$               # names unique to this run (veth names: at most 15 bytes)
ns=$tag
host_if=${tag}h
ns_if=${tag}n
net=10.254.$(($$ % 250)).
cg=
data=

cleanup_extra() {
	[ -z "$data" ] || rm -f "$data"
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	ip link del "$host_if" 2>/dev/null || true # gone with the namespace, normally
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		xargs -r kill <"$cg/cgroup.procs" 2>/dev/null || true
		rmdir "$cg" 2>/dev/null || true
	fi
}

# Waits up to SEC seconds for background process PID to end, and reaps it.
wait_end() { # SEC PID WHAT
	local pid=$2
	ended() { ! kill -0 "$pid" 2>/dev/null; }
	wait_for "$1" ended || { echo "$3 still running after $1 s"; exit 1; }
	wait "$pid" || true
}

# One sample of the domains given, as JSON (cumulative device counters).
sample() { "$top" -b -d 0.1 -i 1 --json "$@"; }

echo "== network: a process in its own namespace, a veth pair to the host"
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$ns_if" netns "$ns"
ip addr add "${net}1/30" dev "$host_if"
ip link set "$host_if" up
ip -n "$ns" addr add "${net}2/30" dev "$ns_if"
ip -n "$ns" link set "$ns_if" up
ip -n "$ns" link set lo up
ip netns exec "$ns" sleep 300 & dom=$!; pids+=("$dom")
port=$(free_port)
ip netns exec "$ns" nc -d -l "${net}2" "$port" >"$tmp/received" & recv=$!; pids+=("$recv")
listening() { ip netns exec "$ns" ss -Hltn | grep -q ":$port "; }
wait_for 10 listening || { echo "receiver not listening"; exit 1; }
want=$(ip netns exec "$ns" readlink /proc/self/ns/net)
in_ns() { [ "$(readlink "/proc/$dom/ns/net" 2>/dev/null)" = "$want" ]; }
wait_for 10 in_ns || { echo "the domain process did not enter namespace $ns"; exit 1; }

sample -p "$dom" -p $$ >"$tmp/before.json"
n=$((4 << 20))
head -c "$n" /dev/zero >"/dev/tcp/${net}2/$port"
wait_end 30 "$recv" "the receiver (nc)"
[ "$(stat -c %s "$tmp/received")" -eq "$n" ] || { echo "the receiver got $(stat -c %s "$tmp/received") bytes, not $n"; exit 1; }
sample -p "$dom" -p $$ >"$tmp/after.json"
cat "$tmp/before.json" "$tmp/after.json"
python3 - "$tmp/before.json" "$tmp/after.json" "$dom" $$ "$ns_if" "$n" <<'PY'
import json, sys
before, after = (json.loads(open(p).read().splitlines()[-1]) for p in sys.argv[1:3])
dom, shell, ifname, n = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
def nets(sample, pid):
    d = {x["id"]: x for x in sample["domains"]}[pid]
    return {i["name"]: i for i in d["nets"]}
b, a = nets(before, dom), nets(after, dom)
assert set(a) == {ifname}, f"interfaces {sorted(a)}, expected only {ifname} (lo left out)"
rx = a[ifname]["rx_bytes"] - b[ifname]["rx_bytes"]
tx = a[ifname]["tx_bytes"] - b[ifname]["tx_bytes"]
pk = a[ifname]["rx_packets"] - b[ifname]["rx_packets"]
print(f"{ifname}: rx +{rx} bytes (+{pk} packets), tx +{tx} bytes for {n} bytes sent")
assert n <= rx <= n * 1.10 + 65536, f"rx grew by {rx}, expected {n} .. {n * 1.10 + 65536:.0f}"
assert 0 < tx < n * 0.10, f"tx grew by {tx}: the receiver's ACKs, expected 0 .. {n * 0.10:.0f}"
assert pk > 0 and a[ifname]["rx_errors"] == 0
assert nets(after, shell) == {}, "a process in the host's namespace must have no interfaces"
PY

echo "== network: a process that moves into the namespace while watched"
# bash execs ip, which enters the namespace and execs sleep: one pid
# throughout.  The monitor looks the namespace up again every 16 samples,
# so of 30 samples 0.2 s apart the last ones must show the interface.
mkfifo "$tmp/go"
bash -c "read -r _ <'$tmp/go'; exec ip netns exec '$ns' sleep 300" & mover=$!; pids+=("$mover")
"$top" -b -d 0.2 -i 30 --json -p "$mover" >"$tmp/moved.json" & topb=$!; pids+=("$topb")
has_line() { [ -s "$tmp/moved.json" ]; }
wait_for 15 has_line || { echo "no first sample"; exit 1; }
echo go >"$tmp/go"
wait_end 60 "$topb" "rvmig-top -i 30"
python3 - "$tmp/moved.json" "$ns_if" <<'PY'
import json, sys
names = [[i["name"] for i in json.loads(l)["domains"][0]["nets"]] for l in open(sys.argv[1])]
print("interfaces per sample:", names)
assert len(names) == 30, len(names)
assert names[0] == [], "interfaces before the process entered the namespace"
assert names[-1] == [sys.argv[2]], f"{sys.argv[2]} not seen within 30 samples of the move"
first = next(i for i, n in enumerate(names) if n)
assert all(n == [sys.argv[2]] for n in names[first:]), names
PY

if [ "$exporter" = 1 ]; then
	echo "== network: rvmig-top --listen"
	command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus)"; exit 1; }
	top_port=$(free_port)
	"$top" --listen "127.0.0.1:$top_port" -d 0.2 -p "$dom" 2>"$tmp/top.log" & topp=$!; pids+=("$topp")
	series="rvmig_domain_network_receive_bytes_total{domain=\"sleep\",kind=\"process\",id=\"$dom\",interface=\"$ns_if\"} "
	has_series() { curl -sf -o "$tmp/metrics" "http://127.0.0.1:$top_port/metrics" && grep -qF "$series" "$tmp/metrics"; }
	wait_for 15 has_series || { cat "$tmp/top.log" "$tmp/metrics" 2>/dev/null; echo "no $series"; exit 1; }
	grep -E "^rvmig_domain_(network|disk)_" "$tmp/metrics"
	got=$(grep -F "$series" "$tmp/metrics" | awk '{print $2}')
	[ "$got" -ge "$n" ] || { echo "exported rx bytes $got < $n"; exit 1; }
	promtool check metrics <"$tmp/metrics"
	echo "promtool check metrics: ok"
	kill "$topp"
fi

echo "== disks: a cgroup doing O_DIRECT I/O"
data=$(mktemp -p "$PWD" rvmig-devices.XXXXXX)
src=$(df --output=source "$data" | tail -1)
[ -b "$src" ] || { echo "$PWD is on $src, not a block device: no disk to count"; exit 1; }
disk=$(lsblk -ndo PKNAME "$src")
disk=/dev/${disk:-$(basename "$src")}
majmin=$(lsblk -ndo MAJ:MIN "$disk" | tr -d ' ')
if grep -q ' /sys/fs/cgroup/blkio .* - cgroup ' /proc/self/mountinfo; then
	cg=/sys/fs/cgroup/blkio/$tag
	mkdir "$cg"
	echo "$majmin 1000000000000" >"$cg/blkio.throttle.write_bps_device"
	echo "$majmin 1000000000000" >"$cg/blkio.throttle.read_bps_device"
	echo "cgroup v1 $cg, limits on $disk ($majmin)"
elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	grep -qw io /sys/fs/cgroup/cgroup.subtree_control || echo +io >/sys/fs/cgroup/cgroup.subtree_control
	cg=/sys/fs/cgroup/$tag
	mkdir "$cg"
	echo "cgroup v2 $cg, disk $disk ($majmin)"
else
	echo "neither a cgroup v1 blkio hierarchy nor cgroup v2 with the io controller here"; exit 1
fi
sample -g "$cg" >"$tmp/before.json"
m=$((8 << 20))
sh -c "echo \$\$ >$cg/cgroup.procs && exec dd if=/dev/zero of=$data bs=1M count=8 oflag=direct conv=fsync status=none"
sh -c "echo \$\$ >$cg/cgroup.procs && exec dd if=$data of=/dev/null bs=1M iflag=direct status=none"
sample -g "$cg" >"$tmp/after.json"
cat "$tmp/before.json" "$tmp/after.json"
python3 - "$tmp/before.json" "$tmp/after.json" "$(basename "$disk")" "$m" <<'PY'
import json, sys
before, after = (json.loads(open(p).read().splitlines()[-1]) for p in sys.argv[1:3])
name, m = sys.argv[3], int(sys.argv[4])
def disk(sample):
    ds = {k["name"]: k for k in sample["domains"][0]["disks"]}
    return ds.get(name, {"read_bytes": 0, "write_bytes": 0, "read_requests": 0, "write_requests": 0})
b, a = disk(before), disk(after)
assert name in {k["name"] for k in after["domains"][0]["disks"]}, f"no disk {name}: {after['domains'][0]['disks']}"
d = {k: a[k] - b[k] for k in ("read_bytes", "write_bytes", "read_requests", "write_requests")}
print(f"{name}: {d} for {m} bytes written and read")
for k in ("read_bytes", "write_bytes"):
    assert m <= d[k] <= m + (1 << 20), f"{k} grew by {d[k]}, expected {m} .. {m + (1 << 20)}"
for k in ("read_requests", "write_requests"):
    assert 8 <= d[k] <= m // 4096, f"{k} grew by {d[k]}"
PY
echo "devices test passed"
