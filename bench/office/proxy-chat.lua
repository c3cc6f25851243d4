-- wrk script for bench/run-office-bench.sh's identity runs: POSTs OpenAI chat bodies to the
-- forward proxy in absolute form (POST http://HOST/v1/chat/completions), the way a client
-- configured with the proxy sends plain-HTTP requests, with or without Proxy-Authorization.
--   wrk ... -s proxy-chat.lua http://127.0.0.1:PROXY_PORT -- HOST AUTH BODY_FILE...
-- AUTH is the whole Proxy-Authorization value ("Basic ...") or "-" for none. Prints the same
-- WRK line as bench/gateway/chat.lua.
wrk.method = "POST"

local formatted = {}
local next_index = 0

function init(args)
  local host, auth = args[1], args[2]
  assert(host and auth and #args > 2, "proxy-chat.lua: give HOST AUTH BODY_FILE... after --")
  local headers = {
    ["Host"] = host,
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer sk-bench-not-a-real-key",
  }
  if auth ~= "-" then headers["Proxy-Authorization"] = auth end
  for i = 3, #args do
    local f = assert(io.open(args[i], "rb"))
    local body = f:read("*a")
    f:close()
    formatted[#formatted + 1] = wrk.format("POST", "http://" .. host .. "/v1/chat/completions", headers, body)
  end
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
