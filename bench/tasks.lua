-- wrk script for the tasks scenarios of scripts/bench.sh:
--   GET  /api/v1/tasks?limit=20   (TASKS_BODY unset)
--   POST /api/v1/tasks            (TASKS_BODY = the JSON task to create, the same each time)
-- env: BENCH_TOKEN (access token, sent as "Authorization: Bearer ..."; unset or empty: no
-- Authorization header, for POST /auth/login with TASKS_BODY = the credentials), SCENARIO (name in the
-- RESULT line), TASKS_BODY.
-- Like healthz.lua it defines no request()/response() hooks: wrk builds the request once
-- from wrk.method/headers/body and stays on its fast path. Answers with status > 399 are
-- counted by wrk (non2xx in the RESULT line); bench.sh checks one answer of each kind
-- with curl before the run (status, 20 items and a next_cursor; 201 for the create).
SCENARIO = os.getenv("SCENARIO") or "tasks"

local token = os.getenv("BENCH_TOKEN") or ""
local body = os.getenv("TASKS_BODY")
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

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
