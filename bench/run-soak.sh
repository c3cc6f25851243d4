#!/usr/bin/env bash
# Soak: promptwall serve on loopback for DURATION (default 30 minutes) at LOAD_SHARE (80 %) of the
# maximum throughput measured first, with clean, redacted (CCCD) and blocked (stamp) requests
# mixed, a rule reload every minute, and the SIEM (a real rsyslog) stopped for OUTAGE in the
# middle. Samples promptwall's RSS and the SIEM backlog every 10 s into a CSV, then checks: no
# wrk errors and only the expected answers, every reload succeeded, memory flat, no error in
# promptwall's log, `promptwall audit verify` passes, and every audited event reached the SIEM
# exactly once. Prints PASS/FAIL per check; exit 1 when any fails.
#
#   bench/run-soak.sh                       # 30 minutes of soak (plus ~1 minute around it)
#   DURATION=3m bench/run-soak.sh           # a quick run: outage of DURATION/4, reloads every minute
#   PROMPTWALL_BIN=/path/to/promptwall RATE=1000 DURATION=10m KEEP=1 bench/run-soak.sh
#
# Environment (defaults in brackets): PROMPTWALL_BIN [BUILD_DIR/promptwall, BUILD_DIR=build; this
# script does not build]; DURATION [30m] (s, m or h); MAX_DURATION [20s] of the unpaced run that
# measures the maximum; LOAD_SHARE [80] percent of it, or RATE (requests/s) to skip the measure;
# CONNS [16] connections of the maximum run, PACED_CONNS [32] of the soak; RELOAD_EVERY [60] and
# SAMPLE_EVERY [10] seconds; OUTAGE [120] seconds of SIEM outage (DURATION/4 when DURATION is
# under 8 minutes), centred on the middle; RSS_SLOPE_MAX [256] KB per minute of RSS growth allowed
# after the memory warm-up, MEM_WARMUP [2 x RELOAD_EVERY + SAMPLE_EVERY] seconds into the soak (the
# "memory flat" check); HEAP_GROWTH_MAX [4096] KB the heap's bytes in use may grow from before the
# soak to after it (the leak check, from /metrics); THREADS [1] promptwall worker threads; SERVER_CPUS [0]
# (upstream, promptwall) and CLIENT_CPUS [1] (wrk, rsyslog, curl) for taskset, empty for none;
# BASE_PORT [28600] (four ports from it); CSV_OUT, a path the samples CSV is copied to; KEEP=1
# keeps the work directory (a failed run always keeps it). Needs wrk, nginx (nginx-light), rsyslog,
# node, python3 and curl; no root. See bench/README.md, "Soak".
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
files="$here/bench/soak"
gateway_files="$here/bench/gateway"

to_seconds() {  # 90, 90s, 3m, 1h -> seconds
  case "$1" in
    *h) echo $((${1%h} * 3600)) ;; *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;;
  esac
}
duration=$(to_seconds "${DURATION:-30m}")
max_duration=$(to_seconds "${MAX_DURATION:-20s}")
load_share=${LOAD_SHARE:-80}
conns=${CONNS:-16}
paced_conns=${PACED_CONNS:-32}
reload_every=${RELOAD_EVERY:-60}
sample_every=${SAMPLE_EVERY:-10}
if [ -n "${OUTAGE:-}" ]; then outage=$(to_seconds "$OUTAGE")
elif [ "$duration" -lt 480 ]; then outage=$((duration / 4))
else outage=120; fi
rss_slope_max=${RSS_SLOPE_MAX:-256}
heap_growth_max=${HEAP_GROWTH_MAX:-4096}
threads=${THREADS:-1}
base_port=${BASE_PORT:-28600}
if [ "$(nproc)" -ge 2 ]; then server_cpus=${SERVER_CPUS-0}; client_cpus=${CLIENT_CPUS-1}
else server_cpus=${SERVER_CPUS-}; client_cpus=${CLIENT_CPUS-}; fi
# Memory warm-up: the samples before it are not part of the memory figures. It ends after the
# second reload: a reload builds the new rule set while the old one still serves, and glibc keeps
# the pages the old one freed, so RSS steps up at the first two reloads (one set's worth each)
# and then reuses them (bench/README.md, "Soak"; MEM_WARMUP overrides it).
mem_warmup=${MEM_WARMUP:-$((2 * reload_every + sample_every))}

die() { echo "run-soak: $*" >&2; exit 1; }
for tool in wrk nginx node python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install wrk nginx-light rsyslog curl python3; node 18+)"
done
rsyslogd=$(command -v rsyslogd || true)
for candidate in /usr/sbin/rsyslogd /sbin/rsyslogd; do [ -n "$rsyslogd" ] || { [ -x "$candidate" ] && rsyslogd=$candidate; }; done
[ -n "$rsyslogd" ] || die "rsyslogd is missing (apt-get install rsyslog; no service is started)"
bin=${PROMPTWALL_BIN:-}
if [ -z "$bin" ]; then
  build_dir=${BUILD_DIR:-build}
  case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
  bin="$build_dir/promptwall"
fi
[ -x "$bin" ] || die "no promptwall binary at $bin (cmake --build build --target promptwall, Release)"
[ "$duration" -ge 120 ] || die "DURATION must be at least 2 minutes (a reload, an outage and the samples need the room)"

on_servers=() on_client=()
[ -n "$server_cpus" ] && on_servers=(taskset -c "$server_cpus")
[ -n "$client_cpus" ] && on_client=(taskset -c "$client_cpus")

# --- processes and cleanup ------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pw-soak.XXXXXX")
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then echo "work directory kept: $work" >&2
  else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

up_port=$base_port gw_port=$((base_port + 1)) admin_port=$((base_port + 2)) siem_port=$((base_port + 3))
for port in "$up_port" "$gw_port" "$admin_port" "$siem_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (set BASE_PORT)"; fi
done

admin_token=soak-admin-token
fill() {  # fill TEMPLATE OUT: replaces the @NAME@ placeholders
  sed -e "s|@DIR@|$work|g" -e "s|@UP_PORT@|$up_port|g" -e "s|@GW_PORT@|$gw_port|g" \
      -e "s|@ADMIN_PORT@|$admin_port|g" -e "s|@SIEM_PORT@|$siem_port|g" -e "s|@THREADS@|$threads|g" \
      -e "s|@ADMIN_TOKEN@|$admin_token|g" \
      -e "s|@CACHE_DIR@|${XDG_CACHE_HOME:-$HOME/.cache}/promptwall|g" "$1" >"$2"
}
wait_for() {  # wait_for URL WHAT [SECONDS]: until URL answers 200
  local deadline=$((SECONDS + ${3:-20}))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$2 did not become ready at $1"
    sleep 0.2
  done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The upstream: the gateway bench's nginx (a fixed chat.completion, keep-alive).
fill "$gateway_files/nginx-upstream.conf" "$work/upstream.conf"
"${on_servers[@]}" nginx -p "$work" -c "$work/upstream.conf" -e "$work/upstream-error.log" -g 'daemon off;' &
pids+=($!)

# The SIEM: rsyslogd in the foreground as tests/e2e/siem_test.cpp runs it (imtcp on loopback, each
# message's raw form appended to received.log); stopped with SIGTERM for the outage, started again
# on the same port.
mkdir -p "$work/rsyslog"
fill "$files/rsyslog.conf" "$work/rsyslog/rsyslog.conf"
rs_pid=
start_rsyslog() {
  "${on_client[@]}" "$rsyslogd" -n -f "$work/rsyslog/rsyslog.conf" -i "$work/rsyslog/rsyslogd.pid" \
    >>"$work/rsyslog/rsyslog.out" 2>>"$work/rsyslog/rsyslog.err" &
  rs_pid=$!
  pids+=("$rs_pid")
  local deadline=$((SECONDS + 15))
  until listening "$siem_port"; do
    kill -0 "$rs_pid" 2>/dev/null || die "rsyslogd exited: $(tail -3 "$work/rsyslog/rsyslog.err")"
    [ "$SECONDS" -lt "$deadline" ] || die "rsyslogd does not listen on $siem_port"
    sleep 0.1
  done
}
stop_rsyslog() {
  kill -TERM "$rs_pid"
  wait "$rs_pid" 2>/dev/null || true
  rs_pid=
}
start_rsyslog

# promptwall: enforce, the audit trail as deployed (findings recorded, clean requests not),
# shipped to the rsyslog above.
fill "$files/promptwall.yaml" "$work/promptwall.yaml"
"${on_servers[@]}" "$bin" serve --config "$work/promptwall.yaml" 2>>"$work/promptwall.log" &
pw_pid=$!
pids+=("$pw_pid")
# The first start compiles the rule packs into the cache: allow for it on a busy machine.
wait_for "http://127.0.0.1:$admin_port/readyz" promptwall 180
pw_url="http://127.0.0.1:$gw_port/openai/v1/chat/completions"
wait_for "http://127.0.0.1:$up_port/v1/chat/completions" "the upstream nginx"

metrics() { curl -s -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$admin_port/metrics"; }
metric() {  # metric NAME_WITH_LABELS_PREFIX: the sum of the matching samples (0 when none)
  metrics | awk -v name="$1" 'index($0, name) == 1 { sum += $NF } END { printf "%.0f\n", sum + 0 }'
}
metric_float() { metrics | awk -v name="$1 " 'index($0, name) == 1 { print $NF; found = 1 } END { if (!found) print 0 }'; }
alive() { kill -0 "$pw_pid" 2>/dev/null || die "promptwall (pid $pw_pid) exited: $(tail -5 "$work/promptwall.log")"; }

# --- bodies and checks ----------------------------------------------------------------------
node "$gateway_files/make-bodies.js" "${CORPUS_DIR:-$(dirname "$here")/shared/corpus}" "$work/bodies" >/dev/null
node "$files/make-stamped-bodies.js" "$work/bodies" >/dev/null
clean_bodies=("$work"/bodies/clean-*.json)
redact_bodies=("$work"/bodies/redact-*.json)
block_bodies=("$work"/bodies/block-*.json)

post() {  # post BODY_FILE: prints "STATUS DECISION"
  local out="$work/check.out"
  curl -s -o "$out" -D "$out.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
       --data-binary "@$1" "$pw_url" >"$out.status" || echo 000 >"$out.status"
  local decision
  decision=$(tr -d '\r' <"$out.headers" | awk -F': ' 'tolower($1) == "x-promptwall-decision" { print $2 }')
  echo "$(cat "$out.status") ${decision:--}"
}
check() { [ "$1" = "$2" ] || die "check failed: $3: got '$1', expected '$2'"; }
declare -A answers_total=()  # "STATUS:DECISION" -> answers over the checks and every wrk run
for body in "${clean_bodies[@]}"; do check "$(post "$body")" "200 allow" "clean $(basename "$body")"; answers_total[200:allow]=$((${answers_total[200:allow]:-0} + 1)); done
for body in "${redact_bodies[@]}"; do check "$(post "$body")" "200 redact" "$(basename "$body")"; answers_total[200:redact]=$((${answers_total[200:redact]:-0} + 1)); done
for body in "${block_bodies[@]}"; do check "$(post "$body")" "403 block" "$(basename "$body")"; answers_total[403:block]=$((${answers_total[403:block]:-0} + 1)); done
received_lines() { if [ -f "$work/rsyslog/received.log" ]; then wc -l <"$work/rsyslog/received.log"; else echo 0; fi; }
audited_checks=$((${#redact_bodies[@]} + ${#block_bodies[@]}))
deadline=$((SECONDS + 30))
until [ "$(received_lines)" -ge "$audited_checks" ]; do
  [ "$SECONDS" -lt "$deadline" ] || die "check failed: the checks' $audited_checks events did not reach rsyslog in 30 s"
  sleep 0.2
done
echo "checks passed: ${#clean_bodies[@]} clean bodies allowed, ${#redact_bodies[@]} redacted, ${#block_bodies[@]} blocked; their $audited_checks events reached rsyslog"

# The mix, in wrk's order, 20 requests round and round: 12 clean, 6 redacted (a CCCD), 2 blocked
# (a stamp line): 40 % of the requests are audited and shipped.
mix=()
ci=0 ri=0 bi=0
for i in $(seq 0 19); do
  case $((i % 10)) in
    2 | 5 | 8) mix+=("${redact_bodies[ri % ${#redact_bodies[@]}]}"); ri=$((ri + 1)) ;;
    9) mix+=("${block_bodies[bi % ${#block_bodies[@]}]}"); bi=$((bi + 1)) ;;
    *) mix+=("${clean_bodies[ci % ${#clean_bodies[@]}]}"); ci=$((ci + 1)) ;;
  esac
done

declare -A run  # run[field] of the last wrk run's SOAK line
wrk_errors_total=0
unexpected_answers=""
read_wrk() {  # read_wrk LOG WHAT: parses the SOAK line into run[], adds its answers to the totals
  local line
  line=$(grep '^SOAK ' "$1") || die "no result from wrk ($2): $(tail -3 "$1")"
  run=()
  for kv in ${line#SOAK }; do run[${kv%%=*}]=${kv#*=}; done
  wrk_errors_total=$((wrk_errors_total + run[connect] + run[read] + run[write] + run[timeout]))
  local answer
  for answer in ${run[answers]//,/ }; do
    local key=${answer%=*} n=${answer##*=}
    answers_total[$key]=$((${answers_total[$key]:-0} + n))
    case "$key" in 200:allow | 200:redact | 403:block) ;; *) unexpected_answers+=" $2:$answer" ;; esac
  done
}

# --- the maximum ----------------------------------------------------------------------------
rate=${RATE:-}
if [ -z "$rate" ]; then
  "${on_client[@]}" wrk -t1 -c"$conns" -d2s -s "$files/paced-chat.lua" "$pw_url" -- 0 "${mix[@]}" >"$work/wrk-warmup.txt" 2>&1 ||
    die "wrk failed: $(tail -3 "$work/wrk-warmup.txt")"
  read_wrk "$work/wrk-warmup.txt" warm-up
  "${on_client[@]}" wrk -t1 -c"$conns" -d"${max_duration}s" --latency -s "$files/paced-chat.lua" "$pw_url" -- 0 "${mix[@]}" \
    >"$work/wrk-max.txt" 2>&1 || die "wrk failed: $(tail -3 "$work/wrk-max.txt")"
  read_wrk "$work/wrk-max.txt" maximum
  max_rps=${run[rps]}
  max_p99=${run[p99_us]}
  rate=$(awk -v m="$max_rps" -v s="$load_share" 'BEGIN { printf "%d", m * s / 100 }')
  echo "maximum: $max_rps requests/s over ${max_duration}s at -c$conns (p99 $((max_p99 / 1000)) ms); the soak runs at $load_share %: $rate requests/s"
  # Let the SIEM catch up with the burst, so the soak starts from an empty backlog.
  deadline=$((SECONDS + 120))
  until [ "$(metric promptwall_siem_records_behind)" = 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
  done
else
  max_rps=- max_p99=0
  echo "rate: $rate requests/s (RATE given; no maximum measured)"
fi
alive

# --- the soak -------------------------------------------------------------------------------
proc_status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pw_pid/status"; }
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$pw_pid/stat"; }
csv="$work/samples.csv"
echo "time_utc,elapsed_s,rss_kb,hwm_kb,threads,fds,cpu_s,requests_total,siem_records_behind,siem_seconds_behind,siem_shipped_total,rsyslog_up,load1" >"$csv"
t0=$EPOCHREALTIME
elapsed() { awk -v now="$EPOCHREALTIME" -v t0="$t0" 'BEGIN { printf "%d", now - t0 }'; }
sample() {
  local m
  m=$(metrics)
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$(date -u +%H:%M:%S)" "$(elapsed)" "$(proc_status VmRSS)" \
    "$(proc_status VmHWM)" "$(proc_status Threads)" "$(ls "/proc/$pw_pid/fd" | wc -l)" "$(cpu_seconds)" \
    "$(awk '/^promptwall_requests_total/ { s += $NF } END { printf "%.0f", s }' <<<"$m")" \
    "$(awk '/^promptwall_siem_records_behind / { print $NF }' <<<"$m")" \
    "$(awk '/^promptwall_siem_seconds_behind / { printf "%.1f", $NF }' <<<"$m")" \
    "$(awk '/^promptwall_siem_events_shipped_total / { print $NF }' <<<"$m")" \
    "$([ -n "$rs_pid" ] && echo 1 || echo 0)" "$(cut -d' ' -f1 /proc/loadavg)" >>"$csv"
}
reloads="$work/reloads.csv"
echo "elapsed_s,http_status,seconds,ok,version" >"$reloads"
reload() {
  local out="$work/reload.out" status
  status=$(curl -s -o "$out" -w '%{http_code},%{time_total}' -X POST -H "Authorization: Bearer $admin_token" \
           "http://127.0.0.1:$admin_port/reload" || echo "000,0")
  echo "$(elapsed),$status,$(grep -q '"ok": *true' "$out" && echo 1 || echo 0),$(sed -n 's/.*"version": *"\([0-9a-f]\{12\}\).*/\1/p' "$out")" >>"$reloads"
}
# The heap's bytes in use (promptwall_heap_in_use_bytes: glibc's mallinfo2, read when /metrics is
# scraped), which only live allocations move: a leak shows here however the allocator keeps its
# pages. Taken with no load running (before the soak, after it).
heap_in_use() { metric promptwall_heap_in_use_bytes; }
heap_before=$(heap_in_use)
rss_before_soak=$(proc_status VmRSS)
reloads_ok_before=$(metric 'promptwall_ruleset_reloads_total{result="ok"}')
reloads_failed_before=$(metric 'promptwall_ruleset_reloads_total{result="failed"}')
log_lines_before=$(wc -l <"$work/promptwall.log")
outage_start=$(((duration - outage) / 2)) outage_end=$(((duration + outage) / 2))

echo "soak: $((duration / 60)) min $((duration % 60)) s at $rate requests/s, -c$paced_conns; reload every ${reload_every}s; SIEM down from ${outage_start}s to ${outage_end}s; samples every ${sample_every}s"
"${on_client[@]}" wrk -t1 -c"$paced_conns" -d"${duration}s" --timeout 10s --latency -s "$files/paced-chat.lua" "$pw_url" \
  -- "$rate" "${mix[@]}" >"$work/wrk-soak.txt" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")
next_sample=0 next_reload=$reload_every outage_state=before
while kill -0 "$wrk_pid" 2>/dev/null; do
  now=$(elapsed)
  alive
  if [ "$now" -ge "$next_sample" ]; then sample; next_sample=$((next_sample + sample_every)); fi
  if [ "$now" -ge "$next_reload" ] && [ "$now" -lt "$duration" ]; then reload; next_reload=$((next_reload + reload_every)); fi
  if [ "$outage_state" = before ] && [ "$now" -ge "$outage_start" ]; then
    stop_rsyslog; outage_state=down; echo "  $(date -u +%H:%M:%S) +${now}s: rsyslog stopped"
  elif [ "$outage_state" = down ] && [ "$now" -ge "$outage_end" ]; then
    start_rsyslog; outage_state=after; echo "  $(date -u +%H:%M:%S) +${now}s: rsyslog started again"
  fi
  sleep 0.5
done
wait "$wrk_pid" || die "wrk failed: $(tail -3 "$work/wrk-soak.txt")"
[ "$outage_state" = after ] || die "the run ended before the SIEM outage was over"
read_wrk "$work/wrk-soak.txt" soak
sample
soak_answers=${run[answers]}

# The backlog drains, rsyslog writes everything out, then both stop (promptwall writes its last
# checkpoint) and the trail and the SIEM's output are compared.
deadline=$((SECONDS + 300))
until [ "$(metric promptwall_siem_records_behind)" = 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || break
  sleep 1
done
drained_after=$(elapsed)
siem_behind_at_end=$(metric promptwall_siem_records_behind)
previous=-1
while :; do  # until rsyslog's file stops growing
  size=$(stat -c %s "$work/rsyslog/received.log")
  [ "$size" = "$previous" ] && break
  previous=$size
  sleep 2
done
reloads_ok=$(($(metric 'promptwall_ruleset_reloads_total{result="ok"}') - reloads_ok_before))
reloads_failed=$(($(metric 'promptwall_ruleset_reloads_total{result="failed"}') - reloads_failed_before))
pw_threads=$(proc_status Threads)
heap_after=$(heap_in_use)
metric_redact=$(metric 'promptwall_requests_total{service="openai",decision="redact"}')
metric_block=$(metric 'promptwall_requests_total{service="openai",decision="block"}')
stop_rsyslog
kill -TERM "$pw_pid"
pw_status=0
wait "$pw_pid" || pw_status=$?
pw_log_new=$(tail -n +"$((log_lines_before + 1))" "$work/promptwall.log" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || true)

verify_status=0
"$bin" audit verify "$work/audit" >"$work/verify.txt" 2>&1 || verify_status=$?
siem_status=0
python3 "$files/check-siem.py" "$work/audit" "$work/rsyslog/received.log" >"$work/siem-check.txt" 2>&1 || siem_status=$?

# --- report ---------------------------------------------------------------------------------
[ -n "${CSV_OUT:-}" ] && cp "$csv" "$CSV_OUT"
failed=0
verdict() {  # verdict OK_0_OR_1 TEXT
  if [ "$1" = 1 ]; then echo "PASS  $2"; else echo "FAIL  $2"; failed=1; fi
}
flag() { [ "$1" = 1 ] && echo 1 || echo 0; }

echo
echo "promptwall soak: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "promptwall $bin, threads: $threads ($pw_threads OS threads at the end); servers on CPU ${server_cpus:-any}, wrk and rsyslog on CPU ${client_cpus:-any}"
echo "mix: 12 clean, 6 CCCD (redact), 2 stamp (block) of every 20 requests, 4 KB OpenAI chat bodies; upstream nginx"
[ "$max_rps" != - ] && echo "maximum: $max_rps requests/s (-c$conns, ${max_duration}s, unpaced)"
achieved=${run[rps]}
echo "soak: target $rate requests/s, achieved $achieved over $((run[duration_us] / 1000000)) s (${run[requests]} requests, -c$paced_conns);" \
     "latency p50 $(awk -v u="${run[p50_us]}" 'BEGIN { printf "%.2f", u / 1000 }') ms, p99 $(awk -v u="${run[p99_us]}" 'BEGIN { printf "%.2f", u / 1000 }') ms," \
     "p99.9 $(awk -v u="${run[p999_us]}" 'BEGIN { printf "%.2f", u / 1000 }') ms, max $(awk -v u="${run[max_us]}" 'BEGIN { printf "%.1f", u / 1000 }') ms"
echo "  answers: $soak_answers; socket errors: connect ${run[connect]}, read ${run[read]}, write ${run[write]}, timeout ${run[timeout]}"
echo

# RSS over time: one row a minute (and the outage's edges), from the 10 s samples.
echo "RSS and SIEM backlog over time (every ${sample_every}s in $csv; a row a minute here):"
printf '  %8s %7s %9s %9s %7s %5s %8s %9s %9s %6s\n' time elapsed "RSS MB" "HWM MB" "req/s" fds "cpu s" "SIEM behind" "shipped" rsyslog
awk -F, -v every=60 -v os="$outage_start" -v oe="$outage_end" 'NR > 1 {
    rps = (NR > 2 && $2 > prev_t) ? ($8 - prev_r) / ($2 - prev_t) : 0
    if ($2 >= nx || (!so && $2 >= os) || (!se && $2 >= oe)) {
      printf "  %8s %6ss %9.1f %9.1f %7.0f %5s %8s %11s %9s %6s\n", $1, $2, $3 / 1024, $4 / 1024, rps, $6, $7, $9, $11, $12 ? "up" : "DOWN"
      while (nx <= $2) nx += every
      if ($2 >= os) so = 1; if ($2 >= oe) se = 1
    }
    prev_t = $2; prev_r = $8 }' "$csv"
tail -1 "$csv" | awk -F, '{ printf "  %8s %6ss %9.1f %9.1f %7s %5s %8s %11s %9s %6s  (after the load)\n", $1, $2, $3 / 1024, $4 / 1024, "-", $6, $7, $9, $11, $12 ? "up" : "DOWN" }'

# Start (after the memory warm-up), middle, end, and the least-squares slope after warm-up.
read -r rss_start rss_middle rss_end slope < <(awk -F, -v w="$mem_warmup" -v d="$duration" 'NR > 1 && $2 >= w && $2 <= d {
    if (start == "") { start = $3; mid = ($2 + d) / 2 }
    if (middle == "" && $2 >= mid) middle = $3
    end = $3; n++; sx += $2; sy += $3; sxx += $2 * $2; sxy += $2 * $3
  } END {
    s = n > 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 : 0
    printf "%d %d %d %.1f\n", start, middle, end, s }' "$csv")
rss_first=$(awk -F, 'NR == 2 { print $3 }' "$csv")
rss_before_reload=$(awk -F, -v r="$reload_every" 'NR > 1 && $2 < r { v = $3 } END { print v + 0 }' "$csv")
echo "RSS: $((rss_first / 1024)) MB at the soak's start, $((rss_before_reload / 1024)) MB before the first reload;" \
     "after the memory warm-up (${mem_warmup}s: two reloads): start $((rss_start / 1024)) MB ($rss_start KB), middle $((rss_middle / 1024)) MB ($rss_middle KB)," \
     "end $((rss_end / 1024)) MB ($rss_end KB); least-squares slope after warm-up $slope KB/min"
if [ -n "$heap_before" ] && [ -n "$heap_after" ]; then
  heap_growth=$((heap_after - heap_before))
  echo "heap in use (promptwall_heap_in_use_bytes): $((heap_before / 1024)) KB before the soak (RSS $((rss_before_soak / 1024)) MB), $((heap_after / 1024)) KB after it:" \
       "$((heap_growth / 1024)) KB more, $(awk -v g="$heap_growth" -v n="${run[requests]}" 'BEGIN { printf "%.3f", g / n }') bytes per request of the soak"
fi
max_behind=$(awk -F, 'NR > 1 && $9 > m { m = $9 } END { print m + 0 }' "$csv")
drained_at=$(awk -F, -v oe="$outage_end" 'NR > 1 && $2 >= oe && $9 == 0 { print $2; exit }' "$csv")
echo "SIEM outage: ${outage}s from +${outage_start}s; backlog at most $max_behind records; back to 0 by +${drained_at:-?}s (sampled every ${sample_every}s)"
outage_logged=0
grep -q 'unreachable' <<<"$pw_log_new" && outage_logged=1
errors_in_log=$(grep -cE '^[0-9T:.+-]+ (error|critical) ' <<<"$pw_log_new" || true)
echo
sed 's/^/  /' "$work/siem-check.txt"
echo "  audit verify: $(tail -1 "$work/verify.txt") (exit $verify_status)"
echo

# The trail holds one decision per audited answer (redact, block), the checks' included.
trail_redact=$(sed -n 's/^SIEMCHECK //p' "$work/siem-check.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decisions"].get("redact", 0))' 2>/dev/null || echo -1)
trail_block=$(sed -n 's/^SIEMCHECK //p' "$work/siem-check.txt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decisions"].get("block", 0))' 2>/dev/null || echo -1)
answered_redact=${answers_total[200:redact]:-0} answered_block=${answers_total[403:block]:-0}

echo "checks:"
verdict "$(flag "$([ "$wrk_errors_total" -eq 0 ] && echo 1)")" "no socket error or timeout in any wrk run ($wrk_errors_total)"
verdict "$(flag "$([ -z "$unexpected_answers" ] && echo 1)")" "only the expected answers (200 allow, 200 redact, 403 block)${unexpected_answers:+: unexpected$unexpected_answers}"
verdict "$(awk -v a="$achieved" -v r="$rate" 'BEGIN { print (a >= 0.95 * r && a <= 1.05 * r) ? 1 : 0 }')" \
        "the achieved rate is within 5 % of the target ($achieved of $rate requests/s)"
reload_count=$(($(wc -l <"$reloads") - 1))
reload_good=$(awk -F, 'NR > 1 && $2 == 200 && $4 == 1' "$reloads" | wc -l)
verdict "$(flag "$([ "$reload_count" -ge 1 ] && [ "$reload_good" -eq "$reload_count" ] && [ "$reloads_ok" -eq "$reload_count" ] && [ "$reloads_failed" -eq 0 ] && echo 1)")" \
        "every reload succeeded: $reload_good of $reload_count answered 200 ok, metrics: $reloads_ok ok, $reloads_failed failed (each took $(awk -F, 'NR > 1 { s += $3; if ($3 > m) m = $3 } END { printf "%.2f s on average, %.2f s at most", (NR > 1 ? s / (NR - 1) : 0), m }' "$reloads"))"
verdict "$(flag "$([ "$outage_logged" = 1 ] && [ "$max_behind" -gt 0 ] && [ "$siem_behind_at_end" = 0 ] && echo 1)")" \
        "the SIEM outage was noticed (log: unreachable), its backlog ($max_behind) drained (0 behind at the end)"
verdict "$(awk -v s="$slope" -v m="$rss_slope_max" 'BEGIN { print (s <= m) ? 1 : 0 }')" \
        "memory flat: RSS slope after the warm-up (${mem_warmup}s) $slope KB/min <= $rss_slope_max (start $((rss_start / 1024)) MB, end $((rss_end / 1024)) MB)"
if [ -n "$heap_before" ] && [ -n "$heap_after" ]; then
  verdict "$(flag "$([ "$heap_growth" -le $((heap_growth_max * 1024)) ] && echo 1)")" \
          "no leak: the heap in use grew by $((heap_growth / 1024)) KB over the soak <= $heap_growth_max KB"
else
  echo "FAIL  no leak: /metrics gave no promptwall_heap_in_use_bytes"; failed=1
fi
verdict "$(flag "$([ "$errors_in_log" -eq 0 ] && echo 1)")" "no error in promptwall's log during the soak ($errors_in_log error lines)"
verdict "$(flag "$([ "$pw_status" -eq 0 ] && echo 1)")" "promptwall stopped cleanly on SIGTERM (exit $pw_status)"
# wrk drops the answers still in flight when a run's time is up (at most one per connection), so
# the trail may hold up to that many more than wrk counted, never fewer; promptwall's own counters
# must match it exactly.
in_flight_bound=$((conns * 2 + paced_conns))
verdict "$(flag "$([ "$trail_redact" -eq "$metric_redact" ] && [ "$trail_block" -eq "$metric_block" ] && echo 1)")" \
        "one audit decision per audited request: redact $trail_redact in the trail / $metric_redact in promptwall's metrics, block $trail_block / $metric_block"
verdict "$(flag "$(awk -v r="$trail_redact" -v ar="$answered_redact" -v b="$trail_block" -v ab="$answered_block" -v m="$in_flight_bound" \
                 'BEGIN { d = (r - ar) + (b - ab); if (r >= ar && b >= ab && d <= m) print 1 }')")" \
        "and per answer wrk saw: redact $answered_redact, block $answered_block ($((trail_redact + trail_block - answered_redact - answered_block)) more recorded: answers in flight when wrk stopped, at most $in_flight_bound)"
verdict "$(flag "$([ "$verify_status" -eq 0 ] && echo 1)")" "promptwall audit verify: $(tail -1 "$work/verify.txt")"
verdict "$(flag "$([ "$siem_status" -eq 0 ] && echo 1)")" "every shipped event reached the SIEM exactly once ($(sed -n 's/^SIEM output: //p' "$work/siem-check.txt"))"
if [ -n "$pw_log_new" ]; then
  echo "promptwall's log during the soak ($(wc -l <<<"$pw_log_new") lines, warnings and errors; first 8):"
  head -8 <<<"$pw_log_new" | sed 's/^/  /'
fi
exit "$failed"
