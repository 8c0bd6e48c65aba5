#!/usr/bin/env bash
# unit.top.prometheus: rvmig-top --listen on a loopback port, watching a
# process whose name holds a quote and a backslash; `promtool check metrics`
# on its /metrics; only GET /metrics is served; then a real Prometheus
# server (its own config and storage in a temp dir, scraping every second)
# scrapes it, and its query API must return the domain series, with the
# name read back intact.
set -euo pipefail
top=$1
command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus)"; exit 1; }
command -v prometheus >/dev/null || { echo "prometheus not found (Debian package prometheus)"; exit 1; }
. "$(dirname "$0")/../lib/scratch.sh"


# The process's comm is the file's name: a"b\c
odd=$tmp/'a"b\c'
cp "$(command -v sleep)" "$odd"
"$odd" 120 & sleeper=$!; pids+=("$sleeper")

top_port=$(free_port)
"$top" --listen "127.0.0.1:$top_port" -d 1 -p "$sleeper" 2>"$tmp/top.log" & topp=$!; pids+=("$topp")
url=http://127.0.0.1:$top_port/metrics
wait_for 15 curl -sf -o "$tmp/metrics" "$url" || { cat "$tmp/top.log"; echo "no /metrics"; exit 1; }

echo "== /metrics"
cat "$tmp/metrics"
promtool check metrics <"$tmp/metrics"
echo "promtool check metrics: ok"
grep -qF "rvmig_domain_cpu_seconds_total{domain=\"a\\\"b\\\\c\",kind=\"process\",id=\"$sleeper\"} " "$tmp/metrics" ||
	{ echo "escaped domain series missing"; exit 1; }
curl -sI "$url" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$top_port/")
[ "$code" = 404 ] || { echo "GET / answered $code, not 404"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
[ "$code" = 405 ] || { echo "POST /metrics answered $code, not 405"; exit 1; }
# Bound to loopback only: another address of this host is refused.
other=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$other" ] && [ "$other" != 127.0.0.1 ] &&
	curl -s -o /dev/null --max-time 2 "http://$other:$top_port/metrics"; then
	echo "reachable on $other although bound to 127.0.0.1"; exit 1
fi

echo "== Prometheus scraping rvmig-top"
prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: rvmig-top
    static_configs:
      - targets: ['127.0.0.1:$top_port']
YML
promtool check config "$tmp/prometheus.yml"
(cd "$tmp" && exec prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" >"$tmp/prom.log" 2>&1) & prom=$!; pids+=("$prom")
query="http://127.0.0.1:$prom_port/api/v1/query?query=rvmig_domain_cpu_seconds_total"
has_series() {
	curl -sf -o "$tmp/query.json" "$query" && grep -q '"__name__":"rvmig_domain_cpu_seconds_total"' "$tmp/query.json"
}
if ! wait_for 30 has_series; then
	tail -n 30 "$tmp/prom.log"; cat "$tmp/query.json" 2>/dev/null || true
	echo "Prometheus did not return the domain series within 30 s"; exit 1
fi
cat "$tmp/query.json"; echo
python3 - "$tmp/query.json" "$sleeper" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "success", r
series = r["data"]["result"]
assert len(series) == 1, series
m = series[0]["metric"]
assert m["domain"] == 'a"b\\c' and m["kind"] == "process" and m["id"] == sys.argv[2], m
assert m["job"] == "rvmig-top", m
assert float(series[0]["value"][1]) >= 0
print("prometheus: series", m)
PY
# rvmig-top stops cleanly on SIGTERM (under ASan: no leak, no error).
kill -TERM "$topp"
if ! wait "$topp"; then cat "$tmp/top.log"; echo "rvmig-top did not exit 0 on SIGTERM"; exit 1; fi
echo "prometheus test passed"
