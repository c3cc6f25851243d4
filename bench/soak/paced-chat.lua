-- wrk script of bench/run-soak.sh: POSTs OpenAI chat bodies (the files named after `--`, sent in
-- that order, round and round) at a steady rate, and counts the answers by status and promptwall
-- decision, because the soak's mix is meant to get 403s (blocked stamps), which wrk alone would
-- count as errors.
--   wrk -t1 -cN -dD -s paced-chat.lua URL -- RATE FILE...
-- RATE is requests per second for each wrk thread; 0 sends as fast as the connections allow (the
-- maximum-throughput run). wrk 4 has no rate option (wrk2 is not in Debian): delay() spaces the
-- requests on a schedule of one slot every 1/RATE s, read from CLOCK_MONOTONIC through LuaJIT's
-- FFI. A thread that falls more than a second behind restarts its schedule from now rather than
-- send the missed requests in a burst; the rate wrk reports is the rate achieved.
-- done() prints one line per run:
--   SOAK requests=N duration_us=N rps=F p50_us=N p99_us=N p999_us=N max_us=N connect=N read=N
--        write=N timeout=N answers=STATUS:DECISION=N,...
-- (connect/read/write/timeout are wrk's socket errors; wrk's own status count is left out, since
-- a 403 block is an expected answer here: the answers list says what each status was.)
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock, soak_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("soak_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1e6 + tonumber(now_ts.tv_nsec) / 1e3
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-soak-not-a-real-key"

local formatted = {}
local next_index = 0
local interval_us = 0
local next_slot = 0
answers = {}  -- "STATUS:DECISION" -> count; global so that done() can read it with thread:get

local function paced_delay()
  local now = now_us()
  if next_slot < now - 1e6 then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval_us
  local wait_ms = (slot - now) / 1000
  if wait_ms < 1 then return 0 end
  return math.floor(wait_ms)
end

function init(args)
  local rate = tonumber(args[1])
  assert(rate and rate >= 0, "paced-chat.lua: the first argument after -- is the rate (requests/s, 0: unpaced)")
  for i = 2, #args do
    local f = assert(io.open(args[i], "rb"))
    wrk.body = f:read("*a")
    f:close()
    formatted[#formatted + 1] = wrk.format()  -- once here, so a request costs wrk nothing later
  end
  assert(#formatted > 0, "paced-chat.lua: give body files after the rate")
  if rate > 0 then
    interval_us = 1e6 / rate
    delay = paced_delay  -- defined only when pacing: wrk then schedules every request through it
  end
end

function request()
  next_index = next_index % #formatted + 1
  return formatted[next_index]
end

function response(status, headers, _)
  local key = status .. ":" .. (headers["X-Promptwall-Decision"] or "-")
  answers[key] = (answers[key] or 0) + 1
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, _)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("answers")) do total[key] = (total[key] or 0) + n end
  end
  local keys = {}
  for key in pairs(total) do keys[#keys + 1] = key end
  table.sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do parts[#parts + 1] = key .. "=" .. total[key] end
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d answers=%s\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
