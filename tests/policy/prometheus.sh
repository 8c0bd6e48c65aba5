#!/usr/bin/env bash
# unit.policy.prometheus: two rvmig-top exporters stand for two hosts (one
# watches a CPU burner, the other a sleeper whose name holds an escape
# character), one real Prometheus server scrapes both every second, and
# rvmig-policy --prometheus reads them back through the query API: both
# hosts, the burner busy (run share high) on the first, the sleeper blocked
# on the second, the name escaped in the table and intact in --json.  Then
# the refusals: a server that is not there (exit 1, within --timeout), a
# bad window and a bad URL (exit 2).
set -euo pipefail
top=$1 policy=$2
command -v prometheus >/dev/null || { echo "prometheus not found (Debian package prometheus)"; exit 1; }
. "$(dirname "$0")/../lib/scratch.sh"

# Host A: a burner.  Host B: a sleeper named "idle<ESC>vm".
bash -c 'while :; do :; done' & burner=$!; pids+=("$burner")
odd=$tmp/$'idle\033vm'
cp "$(command -v sleep)" "$odd"
"$odd" 300 & sleeper=$!; pids+=("$sleeper")
port_a=$(free_port) port_b=$(free_port)
"$top" --listen "127.0.0.1:$port_a" -d 1 -p "$burner" 2>"$tmp/top-a.log" & pids+=($!)
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
		python3 - "$tmp/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if len(s["hosts"]) == 2 and len(s["domains"]) == 2 and
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
python3 - "$tmp/state.json" "$port_a" "$port_b" "$burner" "$sleeper" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a, b = "127.0.0.1:" + sys.argv[2], "127.0.0.1:" + sys.argv[3]
hosts = {h["instance"]: h for h in s["hosts"]}
doms = {d["instance"]: d for d in s["domains"]}
assert set(hosts) == {a, b}, hosts
assert hosts[a]["cpus"] >= 1 and hosts[a]["domains"] == 1, hosts[a]
burner, sleeper = doms[a], doms[b]
assert burner["id"] == sys.argv[4] and sleeper["id"] == sys.argv[5], (burner, sleeper)
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
