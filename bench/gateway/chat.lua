-- wrk script for bench/run-gateway-bench.sh: POSTs OpenAI chat bodies, one file after another
-- (the files named after `--`), and prints one machine-readable line when done:
--   WRK requests=N duration_us=N rps=F p50_us=N p99_us=N connect=N read=N write=N status=N timeout=N
-- status counts responses with a status above 399 (wrk's "Non-2xx or 3xx responses").
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"

local formatted = {}
local next_index = 0

function init(args)
  for _, file in ipairs(args) do
    local f = assert(io.open(file, "rb"))
    wrk.body = f:read("*a")
    f:close()
    -- Formatted once here, so building requests costs wrk nothing during the run.
    formatted[#formatted + 1] = wrk.format()
  end
  assert(#formatted > 0, "chat.lua: give body files after --")
end

function request()
  next_index = next_index % #formatted + 1
  return formatted[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
