#!/usr/bin/env bash
# unit.policy.prometheus: two rvmig-top exporters stand for two hosts (one
# watches three CPU burners, more than its 2 CPUs can run, the other a
# sleeper whose name holds an escape character), one real Prometheus server
# scrapes both every second, and rvmig-policy --prometheus reads them back
# through the query API: both hosts, the burners busy (running or waiting
# for a CPU) on the first, the sleeper blocked on the second, the name
# escaped in the table and intact in --json.  Then the plan: with a policy
# that lets the burners migrate, rvmig-policy --policy --prometheus plans a
# migration from the overloaded host to the idle one, with its reason and
# the planner's prediction (JSON checked with python3).  Then the
# refusals: a server that is not there (exit 1, within --timeout), a bad
# window and a bad URL (exit 2).
set -euo pipefail
top=$1 policy=$2
command -v prometheus >/dev/null || { echo "prometheus not found (Debian package prometheus)"; exit 1; }
. "$(dirname "$0")/../lib/scratch.sh"

# Host A: one burner (named rvmig-burner) more than the host has CPUs.
# Host B: a sleeper named "idle<ESC>vm".
ncpu=$(nproc)
[ "$ncpu" -le 15 ] || { echo "host A needs $((ncpu + 1)) burners: too many for a unit test"; exit 1; }
cp "$(command -v bash)" "$tmp/rvmig-burner"
burners=()
for i in $(seq 0 "$ncpu"); do
	"$tmp/rvmig-burner" -c 'while :; do :; done' & burners+=($!); pids+=($!)
done
burner=${burners[0]}
odd=$tmp/$'idle\033vm'
cp "$(command -v sleep)" "$odd"
"$odd" 300 & sleeper=$!; pids+=("$sleeper")
port_a=$(free_port) port_b=$(free_port)
watch=()
for b in "${burners[@]}"; do watch+=(-p "$b"); done
"$top" --listen "127.0.0.1:$port_a" -d 1 "${watch[@]}" 2>"$tmp/top-a.log" & pids+=($!)
"$top" --listen "127.0.0.1:$port_b" -d 1 -p "$sleeper" 2>"$tmp/top-b.log" & pids+=($!)
for p in "$port_a" "$port_b"; do
	wait_for 15 curl -sf -o /dev/null "http://127.0.0.1:$p/metrics" || { cat "$tmp"/top-*.log; exit 1; }
done

prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rvmig-top
    static_configs:
      - targets: ['127.0.0.1:$port_a', '127.0.0.1:$port_b']
YML
(cd "$tmp" && exec prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$tmp/prom.log" 2>&1) & pids+=($!)
url=http://127.0.0.1:$prom_port

# Ready once both hosts' rates over 10 s exist (a few scrapes each).
ready() {
	"$policy" --prometheus "$url" --window 10s --json >"$tmp/state.json" 2>"$tmp/policy.err" &&
		python3 - "$tmp/state.json" "$ncpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if len(s["hosts"]) == 2 and len(s["domains"]) == int(sys.argv[2]) + 2 and
         all("run_share" in d for d in s["domains"]) else 1)
PY
}
if ! wait_for 60 ready; then
	echo "rvmig-policy never saw both hosts:"; cat "$tmp/policy.err" "$tmp/state.json" 2>/dev/null
	tail -n 20 "$tmp/prom.log"; exit 1
fi
sleep 3 # a few more scrapes for steadier rates
"$policy" --prometheus "$url" --window 10s --json >"$tmp/state.json"
echo "== rvmig-policy --json"; cat "$tmp/state.json"
python3 - "$tmp/state.json" "$port_a" "$port_b" "$burner" "$sleeper" "$ncpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a, b = "127.0.0.1:" + sys.argv[2], "127.0.0.1:" + sys.argv[3]
hosts = {h["instance"]: h for h in s["hosts"]}
doms = {(d["instance"], d["id"]): d for d in s["domains"]}
assert set(hosts) == {a, b}, hosts
assert hosts[a]["cpus"] == int(sys.argv[6]) and hosts[a]["domains"] == hosts[a]["cpus"] + 1, hosts[a]
assert hosts[b]["domains"] == 1, hosts[b]
burner, sleeper = doms[(a, sys.argv[4])], doms[(b, sys.argv[5])]
assert burner["domain"] == "rvmig-burner", burner
# Bounds: a busy loop is always runnable, so running or waiting for a CPU
# (on the loaded 2-core machine it waited 86 % of the window in one run); a
# sleeper runs ~never.
assert burner["cpu"] > 0.02 and burner["blocked_share"] < 0.2, burner
assert burner["run_share"] + burner["wait_share"] > 0.8, burner
assert sleeper["cpu"] < 0.05 and sleeper["blocked_share"] > 0.9, sleeper
assert sleeper["domain"] == "idle\x1bvm", repr(sleeper["domain"])
assert hosts[a]["cpu_used"] > hosts[b]["cpu_used"]
print("json: ok")
PY
"$policy" --prometheus "$url" --window 10s >"$tmp/state.txt"
echo "== rvmig-policy"; cat "$tmp/state.txt"
grep -q 'idle\\x1bvm' "$tmp/state.txt" || { echo "the escape character is not shown escaped"; exit 1; }
if grep -q $'\033' "$tmp/state.txt"; then echo "a raw escape character reached the terminal"; exit 1; fi

echo "== plan: the overloaded host A sheds a burner to the idle host B"
cat >"$tmp/site.policy" <<POL
[decider]
dwell = 4s
domain_cooldown = 60s
global_cooldown = 2s

[migration]
# a 1 Gb/s link; the burners' memory from the exporter, 20 MB/s dirtied
bandwidth = 125e6
max_concurrent = 2
max_downtime = 2s
dirty_rate = 20e6

[domain burners]
host = 127.0.0.1:$port_a
match = name rvmig-burner
sla = cpu 0.5
migrate = yes

# its response time from a PromQL expression on the server (a stand-in
# with a known value: 10 ms per CPU of its host), to check that path
[domain idle]
host = 127.0.0.1:$port_b
match = name idle*
sla = p99 50
observe = promql rvmig_host_cpus{instance="127.0.0.1:$port_b"} * 10
capacity = 0 45000
POL
# 16 s of data at 2 s steps: the overload must last the 4 s dwell first
sleep 8
"$policy" --policy "$tmp/site.policy" --prometheus "$url" --window 10s --span 16 --step 2 --json \
	>"$tmp/plan.json"
"$policy" --policy "$tmp/site.policy" --prometheus "$url" --window 10s --span 16 --step 2 \
	>"$tmp/plan.txt"
echo "== rvmig-policy --policy --json"; cat "$tmp/plan.json"
echo "== rvmig-policy --policy"; cat "$tmp/plan.txt"
python3 - "$tmp/plan.json" "$port_a" "$port_b" "${burners[@]}" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
a, b = "127.0.0.1:" + sys.argv[2], "127.0.0.1:" + sys.argv[3]
burners = set(sys.argv[4:])
assert p["dry_run"] is True and p["source"] == "prometheus", p
assert p["samples"] >= 8, p["samples"]
hosts = {h["host"]: h for h in p["hosts"]}
# N + 1 always-runnable loops want N + 1 CPUs of an N-CPU host
mig = [d for d in p["decisions"] if d["action"] == "migrate"]
assert mig, "no migration planned: %s" % p
for d in mig:
    assert d["host"] == a and d["dest"] == b and d["id"] in burners, d
    assert d["why"] == "host-overload" and d["policy"] == "burners", d
    assert d["source_demand_before"] > d["overload"] * d["source_cpus"], d
    assert d["source_demand_after"] < d["source_demand_before"], d
    assert d["dest_demand_after"] <= 0.9 * d["dest_cpus"] + 1e-9, d
    assert d["demand"] > 0.5, d
    # its cost: 1 per second of downtime + 0.001 per second it takes
    assert abs(d["cost"] - (d["prediction"]["downtime_s"] + 0.001 * (d["prediction"]["end_s"] - d["prediction"]["start_s"]))) < 1e-9, d
    pr = d["prediction"]
    assert pr["end_s"] > pr["start_s"] >= 0 and 0 < pr["downtime_s"] <= pr["end_s"], pr
    assert pr["bytes"] >= d["mem_bytes"] > 0 and pr["rounds"] >= 2, (pr, d)
    # the planner's makespan is at least one VM's memory over the link
    b0 = p["batches"][d["batch"]]
    assert b0["makespan_s"] >= d["mem_bytes"] / 125e6, b0
    assert 1 <= b0["k"] <= 2, b0
# the dwell: nothing before the overload lasted 4 s
assert all(d["t"] - p["from"] >= 4 - 1e-6 for d in mig), mig
# no domain is migrated twice, nothing moves off the idle host
assert len({d["id"] for d in mig}) == len(mig)
assert not [d for d in p["decisions"] if d["host"] == b], p["decisions"]
idle = [s for s in p["domains"] if s["host"] == b]
assert idle and idle[0]["name"] == "idle\x1bvm", idle
# the PromQL observable reached the decider: 10 x the host's CPUs, met
assert idle[0]["metric"] == "p99_ms" and idle[0]["observed"] == 10 * hosts[b]["cpus"], idle
assert idle[0]["state"] == "satisfied", idle
print("plan json: ok (%d migration(s), %s)" % (len(mig), [round(d["source_demand_before"], 2) for d in mig]))
PY
grep -q "migrate to 127.0.0.1:$port_b" "$tmp/plan.txt" || { echo "no migrate in the text plan"; exit 1; }
grep -q "predicted: start" "$tmp/plan.txt" || { echo "no prediction in the text plan"; exit 1; }
if grep -q $'\033' "$tmp/plan.txt"; then echo "a raw escape character reached the terminal"; exit 1; fi

echo "== refusals"
dead=$(free_port)
t0=$SECONDS
set +e
"$policy" --prometheus "http://127.0.0.1:$dead" --timeout 2000 2>"$tmp/err"; rc=$?
set -e
cat "$tmp/err"
[ "$rc" = 1 ] && grep -q "prometheus http://127.0.0.1:$dead" "$tmp/err" || { echo "no server: rc $rc"; exit 1; }
[ $((SECONDS - t0)) -le 5 ] || { echo "no server: took $((SECONDS - t0)) s"; exit 1; }
set +e
"$policy" --prometheus "$url" --window '1m])or(vector(1)' 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "not a duration" "$tmp/err" || { echo "bad window: rc $rc"; cat "$tmp/err"; exit 1; }
set +e
"$policy" --prometheus "file:///etc/passwd" 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "not an http" "$tmp/err" || { echo "bad URL: rc $rc"; cat "$tmp/err"; exit 1; }
echo "unit.policy.prometheus: ok"
