-- wrk script for bench/policy/sweep.sh.
--
-- Pacing: wrk is closed-loop (each connection sends its next request when the
-- previous answer is in). With PACE_DELAY_MS > 0 every connection waits that
-- many milliseconds (wrk's delay() hook) before each request, so C connections
-- offer about C * 1000 / (PACE_DELAY_MS + latency) requests per second. With
-- PACE_DELAY_MS = 0 (or unset) there is no think time: the closed-loop maximum.
-- wrk starts its latency clock when the request is written, after the delay.
--
-- Result: done() prints one machine-readable line, so the sweep reads exact
-- figures instead of wrk's rounded text:
--   RESULT requests=N duration_us=N p50_us=N p99_us=N mean_us=F
--          connect=N read=N write=N status=N timeout=N
-- (one line; status counts responses >= 400, timeout the requests that took
-- longer than wrk's --timeout).

local delay_ms = tonumber(os.getenv("PACE_DELAY_MS") or "0") or 0

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50.0), latency:percentile(99.0), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
