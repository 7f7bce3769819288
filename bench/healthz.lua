-- wrk script for GET /healthz (used by scripts/bench.sh).
-- Defines no request()/response() hooks, so wrk stays on its fast path (no Lua
-- call per response; on the 2-core machine the difference measured ~0-3%).
-- Error responses are counted by wrk itself: summary.errors.status = responses
-- with status > 399 (reported as non2xx).
-- Prints one machine-readable RESULT line in the same format as the seed's
-- bench/common.lua, so scripts/bench.sh parses both the same way.
SCENARIO = os.getenv("SCENARIO") or "healthz"

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT scenario=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d bad_body=%d connect_err=%d read_err=%d write_err=%d timeout=%d\n",
    SCENARIO, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, 0, e.connect, e.read, e.write, e.timeout))
end
