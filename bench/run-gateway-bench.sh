#!/usr/bin/env bash
# Gateway bench: on loopback, in one run, requests/s and p50/p99 latency of 4 KB OpenAI chat
# requests sent straight to an upstream, through nginx as a plain reverse proxy, and through
# promptwall (clean prompts, and prompts with one CCCD to redact); then promptwall's memory per
# open streaming (SSE) connection. Prints one table and the verdict against the targets.
#
#   bench/run-gateway-bench.sh                          # builds promptwall in build/, ~2 minutes
#   BUILD_DIR=build-bench bench/run-gateway-bench.sh
#   PROMPTWALL_BIN=/path/to/promptwall DURATION=5s bench/run-gateway-bench.sh
#   BASELINE_BIN=/tmp/promptwall-before bench/run-gateway-bench.sh   # + the same runs on an older build
#
# Environment (defaults in brackets): BUILD_DIR [build], JOBS [nproc] for the build, or
# PROMPTWALL_BIN to use a built binary; DURATION [10s] and CONNS [16] for the loaded wrk runs
# (a -c1 run of the same length comes first); STREAMS ["500 1000"] open streams for the memory
# figure; BASE_PORT [28400] (six ports from it); SERVER_CPUS [0] and CLIENT_CPUS [1] for taskset
# (empty: no pinning; the default when there are fewer than 2 CPUs); THREADS [1] promptwall
# threads and nginx workers of the proxy; KEEP=1 keeps the work directory (configs, logs);
# BASELINE_BIN, a promptwall built before a change: after the load runs it serves the same bodies
# on the same ports, and the table gains its rows and the ratios new/baseline (CPU per request,
# requests/s), so a change's cost is measured in one run on one machine state.
# Needs wrk, nginx (nginx-light is enough), node and curl; no root. See bench/README.md.
#
# Exit status: 0 when every check passed and no load run saw an error (whether the targets were
# met is in the table), 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
files="$here/bench/gateway"
duration=${DURATION:-10s}
conns=${CONNS:-16}
streams=${STREAMS:-500 1000}
base_port=${BASE_PORT:-28400}
threads=${THREADS:-1}
if [ "$(nproc)" -ge 2 ]; then server_cpus=${SERVER_CPUS-0}; client_cpus=${CLIENT_CPUS-1}
else server_cpus=${SERVER_CPUS-}; client_cpus=${CLIENT_CPUS-}; fi

die() { echo "run-gateway-bench: $*" >&2; exit 1; }
for tool in wrk nginx node curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install wrk nginx-light curl; node 18+)"
done

if [ -n "${PROMPTWALL_BIN:-}" ]; then
  bin=$PROMPTWALL_BIN
else
  build_dir=${BUILD_DIR:-build}
  case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
  cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target promptwall >/dev/null
  bin="$build_dir/promptwall"
fi
[ -x "$bin" ] || die "no promptwall binary at $bin"

# Command prefixes that pin (empty: no pinning). Arrays, not functions, so that `$!` of a
# background command is the server's own pid (taskset execs it).
on_servers=() on_client=()
[ -n "$server_cpus" ] && on_servers=(taskset -c "$server_cpus")
[ -n "$client_cpus" ] && on_client=(taskset -c "$client_cpus")

# --- processes and cleanup ------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pw-gateway-bench.XXXXXX")
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

up_port=$base_port proxy_port=$((base_port + 1)) gw_port=$((base_port + 2))
admin_port=$((base_port + 3)) echo_port=$((base_port + 4)) sse_port=$((base_port + 5))
for port in "$up_port" "$proxy_port" "$gw_port" "$admin_port" "$echo_port" "$sse_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (set BASE_PORT)"; fi
done

# Streams hold a client and an upstream socket each in promptwall, plus the node client's.
max_streams=$(echo "$streams" | tr ' ' '\n' | sort -n | tail -1)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((3 * max_streams + 256)) ] || die "ulimit -n is $(ulimit -n): too low for $max_streams streams"

fill() {  # fill TEMPLATE OUT: replaces the @NAME@ placeholders
  sed -e "s|@DIR@|$work|g" -e "s|@UP_PORT@|$up_port|g" -e "s|@PROXY_PORT@|$proxy_port|g" \
      -e "s|@GW_PORT@|$gw_port|g" -e "s|@ADMIN_PORT@|$admin_port|g" -e "s|@ECHO_PORT@|$echo_port|g" \
      -e "s|@SSE_PORT@|$sse_port|g" -e "s|@THREADS@|$threads|g" \
      -e "s|@CACHE_DIR@|${XDG_CACHE_HOME:-$HOME/.cache}/promptwall|g" "$1" >"$2"
}

wait_for() {  # wait_for URL WHAT [SECONDS]: until URL answers 200
  local deadline=$((SECONDS + ${3:-20}))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "$2 did not become ready at $1"
    sleep 0.2
  done
}

start_nginx() {  # start_nginx NAME: bench/gateway/nginx-NAME.conf, one worker, in the foreground
  fill "$files/nginx-$1.conf" "$work/$1.conf"
  "${on_servers[@]}" nginx -p "$work" -c "$work/$1.conf" -e "$work/$1-error.log" -g 'daemon off;' &
  pids+=($!)
  nginx_pid[$1]=$!
}
declare -A nginx_pid

# CPU time (clock ticks, user + system) of a process and its children (nginx's workers): what a
# request costs the server, which a busy machine disturbs far less than latency.
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

start_promptwall() {  # start_promptwall LOG [BINARY]: sets pw_pid
  "${on_servers[@]}" "${2:-$bin}" serve --config "$work/promptwall.yaml" 2>>"$1" &
  pw_pid=$!
  pids+=("$pw_pid")
  # The first start compiles the rule packs into the cache: allow for it on a busy machine.
  wait_for "http://127.0.0.1:$admin_port/readyz" promptwall 180
}

node "$files/make-bodies.js" "${CORPUS_DIR:-$(dirname "$here")/shared/corpus}" "$work/bodies" >/dev/null
clean_bodies=("$work"/bodies/clean-*.json)
redact_bodies=("$work"/bodies/redact-*.json)

start_nginx upstream
start_nginx proxy
node "$files/upstream.js" echo "$echo_port" >/dev/null & pids+=($!)
node "$files/upstream.js" sse "$sse_port" >/dev/null & pids+=($!)
fill "$files/promptwall.yaml" "$work/promptwall.yaml"
start_promptwall "$work/promptwall.log"
direct_url="http://127.0.0.1:$up_port/v1/chat/completions"
proxy_url="http://127.0.0.1:$proxy_port/openai/v1/chat/completions"
pw_url="http://127.0.0.1:$gw_port/openai/v1/chat/completions"
echo_url="http://127.0.0.1:$gw_port/echo/v1/chat/completions"
wait_for "$direct_url" "the upstream nginx"
wait_for "$proxy_url" "the proxy nginx"

# --- checks: the runs must measure what they claim ------------------------------------------
post() {  # post URL BODY_FILE OUT: prints "STATUS DECISION" (DECISION "-" when absent)
  curl -s -o "$3" -D "$3.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
       --data-binary "@$2" "$1" >"$3.status" || echo 000 >"$3.status"
  local decision
  decision=$(tr -d '\r' <"$3.headers" | awk -F': ' 'tolower($1) == "x-promptwall-decision" { print $2 }')
  echo "$(cat "$3.status") ${decision:--}"
}
check() { [ "$1" = "$2" ] || die "check failed: $3: got '$1', expected '$2'"; }
# What the echo upstream received, from its answer (base64, so the gateway's reply restorer leaves
# the pseudonyms in it alone), into FILE.received.
received() {
  node -e 'const fs = require("fs"); fs.writeFileSync(process.argv[1] + ".received",
             Buffer.from(JSON.parse(fs.readFileSync(process.argv[1])).received_base64, "base64"))' "$1" ||
    die "check failed: the echo upstream's answer is not what it should be"
}

out="$work/check"
check "$(post "$direct_url" "${clean_bodies[0]}" "$out")" "200 -" "upstream direct"
cp "$out" "$work/upstream-answer.json"
check "$(post "$proxy_url" "${clean_bodies[0]}" "$out")" "200 -" "nginx proxy"
cmp -s "$out" "$work/upstream-answer.json" || die "check failed: the nginx proxy changed the upstream's answer"
for body in "${clean_bodies[@]}"; do
  check "$(post "$pw_url" "$body" "$out")" "200 allow" "promptwall, clean $(basename "$body")"
  cmp -s "$out" "$work/upstream-answer.json" || die "check failed: promptwall changed the upstream's answer"
  check "$(post "$echo_url" "$body" "$out")" "200 allow" "promptwall to the echo upstream, clean $(basename "$body")"
  received "$out"
  cmp -s "$out.received" "$body" || die "check failed: promptwall changed the clean $(basename "$body") it forwarded"
done
for body in "${redact_bodies[@]}"; do
  check "$(post "$pw_url" "$body" "$out")" "200 redact" "promptwall, redaction $(basename "$body")"
  check "$(post "$echo_url" "$body" "$out")" "200 redact" "promptwall to the echo upstream, $(basename "$body")"
  received "$out"
  # What left must hold the label and no digit run of the CCCD's length (never print the number).
  grep -q '\[CCCD-1\]' "$out.received" || die "check failed: no [CCCD-1] in what promptwall forwarded for $(basename "$body")"
  if grep -Eq '[0-9]{12}' "$out.received"; then die "check failed: a 12-digit number left promptwall in $(basename "$body")"; fi
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$out.received" ||
    die "check failed: promptwall forwarded invalid JSON for $(basename "$body")"
done
echo "checks passed: ${#clean_bodies[@]} clean bodies forwarded unchanged (allow), ${#redact_bodies[@]} redacted ([CCCD-1]), $(stat -c %s "${clean_bodies[0]}") bytes each"

# --- load runs ------------------------------------------------------------------------------
targets=(direct proxy pw-clean pw-redact)
declare -A url=([direct]=$direct_url [proxy]=$proxy_url [pw-clean]=$pw_url [pw-redact]=$pw_url)
declare -A label=([direct]="upstream direct" [proxy]="nginx proxy" [pw-clean]="promptwall clean" [pw-redact]="promptwall redact")
declare -A result  # result[target,c,field] from wrk's WRK line, and cpu_us
declare -A server_pid=([direct]=${nginx_pid[upstream]} [proxy]=${nginx_pid[proxy]} [pw-clean]=$pw_pid [pw-redact]=$pw_pid)

alive() {  # alive TARGET WHEN: dies, with the server's exit status, when it is gone
  local pid=${server_pid[$1]} status=0
  kill -0 "$pid" 2>/dev/null && return
  wait "$pid" || status=$?
  [ "$status" -gt 128 ] && status="$status (signal $(kill -l $((status - 128))))"
  die "the server of ${label[$1]} (pid $pid) exited with status $status $2 the -c$c run; its log: $work"
}

run_wrk() {  # run_wrk TARGET CONNECTIONS DURATION: fills result[TARGET,CONNECTIONS,*]
  local target=$1 c=$2 log="$work/wrk-$1-c$2.txt"
  local -a bodies=("${clean_bodies[@]}")
  case "$target" in pw-redact | base-redact) bodies=("${redact_bodies[@]}") ;; esac
  local pid=${server_pid[$target]} line ticks
  alive "$target" before
  ticks=$(cpu_ticks "$pid")
  "${on_client[@]}" wrk -t1 -c"$c" -d"$3" --latency -s "$files/chat.lua" "${url[$target]}" -- "${bodies[@]}" >"$log" 2>&1 ||
    die "wrk failed against ${label[$target]}: $(tail -3 "$log")"
  ticks=$(($(cpu_ticks "$pid") - ticks))
  alive "$target" after
  line=$(grep '^WRK ' "$log") || die "no result from wrk against ${label[$target]}: $(tail -3 "$log")"
  for kv in ${line#WRK }; do result[$target,$c,${kv%%=*}]=${kv#*=}; done
  local errors=$((result[$target,$c,connect] + result[$target,$c,read] + result[$target,$c,write] +
                  result[$target,$c,status] + result[$target,$c,timeout]))
  [ "${result[$target,$c,requests]}" -gt 0 ] || die "wrk sent no request to ${label[$target]}"
  result[$target,$c,cpu_us]=$((ticks * 1000000 / $(getconf CLK_TCK) / result[$target,$c,requests]))
  [ "$errors" -eq 0 ] || die "errors against ${label[$target]} at -c$c: ${line#WRK }"
}

log_lines_before=$(wc -l <"$work/promptwall.log")
for target in "${targets[@]}"; do run_wrk "$target" "$conns" 2s; done  # warm-up, not reported
for c in 1 "$conns"; do
  for target in "${targets[@]}"; do run_wrk "$target" "$c" "$duration"; done
done
pw_requests=$(( ${result[pw-clean,1,requests]} + ${result[pw-redact,1,requests]} +
                ${result[pw-clean,$conns,requests]} + ${result[pw-redact,$conns,requests]} ))
# Audit events: one per redacting request (clean ones are not recorded), each durable before forwarding.
audit_events=$(cat "$work"/audit/audit-*.jsonl | grep -c '"type":"decision"' || true)
redact_requests=$(( ${result[pw-redact,1,requests]} + ${result[pw-redact,$conns,requests]} ))
pw_threads=$(ls "/proc/$pw_pid/task" | wc -l)
pw_log_new=$(tail -n +"$((log_lines_before + 1))" "$work/promptwall.log")

# --- the baseline build, same bodies, same ports ----------------------------------------------
if [ -n "${BASELINE_BIN:-}" ]; then
  [ -x "$BASELINE_BIN" ] || die "no promptwall binary at BASELINE_BIN=$BASELINE_BIN"
  kill "$pw_pid"; wait "$pw_pid" 2>/dev/null || true
  start_promptwall "$work/promptwall-baseline.log" "$BASELINE_BIN"
  check "$(post "$pw_url" "${clean_bodies[0]}" "$out")" "200 allow" "baseline promptwall, clean"
  targets+=(base-clean base-redact)
  url[base-clean]=$pw_url url[base-redact]=$pw_url
  label[base-clean]="baseline clean" label[base-redact]="baseline redact"
  server_pid[base-clean]=$pw_pid server_pid[base-redact]=$pw_pid
  for target in base-clean base-redact; do run_wrk "$target" "$conns" 2s; done
  for c in 1 "$conns"; do
    for target in base-clean base-redact; do run_wrk "$target" "$c" "$duration"; done
  done
fi

# --- memory per open stream -----------------------------------------------------------------
# A fresh promptwall, so the figure is not flattered by heap the load runs left behind.
kill "$pw_pid"; wait "$pw_pid" 2>/dev/null || true
start_promptwall "$work/promptwall-streams.log"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pw_pid/status"; }
sse_url="http://127.0.0.1:$gw_port/sse/v1/chat/completions"
# One stream first, so one-time allocations (upstream pool, first scanner use) are in the baseline.
check "$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'Content-Type: application/json' \
         --data-binary "@$work/bodies/stream.json" "$sse_url" || true)" "200" "promptwall, SSE stream"
sleep 0.5
rss_before=$(rss_kb)
mkfifo "$work/clients.in"
"${on_client[@]}" node "$files/sse-clients.js" "$sse_url" "$work/bodies/stream.json" <"$work/clients.in" >"$work/clients.out" 2>&1 &
pids+=($!)
exec 4>"$work/clients.in"
declare -A rss_with
opened=0
for n in $streams; do
  echo "open $((n - opened))" >&4
  deadline=$((SECONDS + 120))
  until grep -q "^open $n\$" "$work/clients.out"; do
    grep -q '^error' "$work/clients.out" && die "streaming clients: $(grep '^error' "$work/clients.out" | head -1)"
    [ "$SECONDS" -lt "$deadline" ] || die "$n streams did not open within 120 s"
    sleep 0.2
  done
  opened=$n
  sleep 2  # a couple of events through every stream, so each has relayed data
  rss_with[$n]=$(rss_kb)
done
exec 4>&-

# --- report ---------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
pass() { awk -v v="$1" -v limit="$2" -v dir="$3" 'BEGIN { ok = dir == "max" ? v <= limit : v >= limit; print ok ? "PASS" : "FAIL" }'; }

echo
echo "promptwall gateway bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "4 KB OpenAI chat bodies (${#clean_bodies[@]} clean, ${#redact_bodies[@]} with one CCCD), wrk -t1, $duration per run;"
echo "servers on CPU ${server_cpus:-any}, wrk on CPU ${client_cpus:-any}; promptwall threads: $threads ($pw_threads OS threads), nginx proxy workers: 1, upstream: nginx, 1 worker"
echo
printf '%-18s | %8s %7s %7s %7s | %8s %7s %7s %7s\n' "" "-c1 rps" "p50 ms" "p99 ms" "cpu us" \
  "-c$conns rps" "p50 ms" "p99 ms" "cpu us"
printf '%s\n' "-------------------+---------------------------------+--------------------------------"
for target in "${targets[@]}"; do
  printf '%-18s | %8.0f %7s %7s %7s | %8.0f %7s %7s %7s\n' "${label[$target]}" \
    "${result[$target,1,rps]}" "$(ms "${result[$target,1,p50_us]}")" "$(ms "${result[$target,1,p99_us]}")" \
    "${result[$target,1,cpu_us]}" \
    "${result[$target,$conns,rps]}" "$(ms "${result[$target,$conns,p50_us]}")" "$(ms "${result[$target,$conns,p99_us]}")" \
    "${result[$target,$conns,cpu_us]}"
done
echo "(cpu us: CPU time per request of the server in the path: the upstream for \"direct\", else the proxy"
echo " alone, upstream excluded; user + system, from /proc, in clock ticks of $((1000 / $(getconf CLK_TCK))) ms)"
echo
echo "added latency vs direct (-c1):       p50 ms   p99 ms"
for target in proxy pw-clean pw-redact; do
  printf '  %-30s %8s %8s\n' "${label[$target]}" \
    "$(ms $((result[$target,1,p50_us] - result[direct,1,p50_us])))" \
    "$(ms $((result[$target,1,p99_us] - result[direct,1,p99_us])))"
done
echo
echo "targets (promptwall vs direct at -c1; throughput vs the nginx proxy at -c$conns):"
for target in pw-clean pw-redact; do
  added50=$(ms $((result[$target,1,p50_us] - result[direct,1,p50_us])))
  added99=$(ms $((result[$target,1,p99_us] - result[direct,1,p99_us])))
  ratio=$(awk -v a="${result[$target,$conns,rps]}" -v b="${result[proxy,$conns,rps]}" 'BEGIN { printf "%.2f", a / b }')
  printf '  %-18s added p50 %s ms <= 0.3 %s   added p99 %s ms <= 1 %s   rps/nginx %s >= 0.6 %s\n' "${label[$target]}" \
    "$added50" "$(pass "$added50" 0.3 max)" "$added99" "$(pass "$added99" 1 max)" "$ratio" "$(pass "$ratio" 0.6 min)"
done
echo "CPU per request at -c$conns (steadier than latency on a shared machine; the last figure is what"
echo "rps/nginx would be with each proxy CPU-bound on a core of its own):"
for target in pw-clean pw-redact; do
  printf '  %-18s %s us vs nginx proxy %s us: %s x the CPU, nginx cpu / promptwall cpu %s\n' "${label[$target]}" \
    "${result[$target,$conns,cpu_us]}" "${result[proxy,$conns,cpu_us]}" \
    "$(awk -v a="${result[$target,$conns,cpu_us]}" -v b="${result[proxy,$conns,cpu_us]}" 'BEGIN { printf "%.1f", b ? a / b : 0 }')" \
    "$(awk -v a="${result[$target,$conns,cpu_us]}" -v b="${result[proxy,$conns,cpu_us]}" 'BEGIN { printf "%.2f", a ? b / a : 0 }')"
done
if [ -n "${BASELINE_BIN:-}" ]; then
  echo
  echo "this build / the baseline ($BASELINE_BIN), same bodies and ports, -c$conns (cpu: under 1 is cheaper):"
  for kind in clean redact; do
    printf '  %-8s cpu per request %s / %s us = %s   rps %s / %s = %s\n' "$kind" \
      "${result[pw-$kind,$conns,cpu_us]}" "${result[base-$kind,$conns,cpu_us]}" \
      "$(awk -v a="${result[pw-$kind,$conns,cpu_us]}" -v b="${result[base-$kind,$conns,cpu_us]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')" \
      "${result[pw-$kind,$conns,rps]}" "${result[base-$kind,$conns,rps]}" \
      "$(awk -v a="${result[pw-$kind,$conns,rps]}" -v b="${result[base-$kind,$conns,rps]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')"
  done
fi
echo
echo "memory per open streaming connection (fresh promptwall, SSE upstream sending 1 event/s):"
printf '  RSS with no stream open: %d KB\n' "$rss_before"
for n in $streams; do
  printf '  %5d streams open: RSS %d KB, (RSS - RSS before) / %d = %.1f KB per stream\n' "$n" "${rss_with[$n]}" "$n" \
    "$(awk -v a="${rss_with[$n]}" -v b="$rss_before" -v n="$n" 'BEGIN { print (a - b) / n }')"
done
echo
echo "audit trail: $audit_events decision events for $redact_requests redacting requests in the reported runs (plus warm-up and checks; $pw_requests promptwall requests in all)"
if [ -n "$pw_log_new" ]; then
  echo "promptwall logged during the load runs ($(echo "$pw_log_new" | wc -l) lines, first 5):"
  echo "$pw_log_new" | head -5 | sed 's/^/  /'
fi
if [ -s "$work/promptwall-streams.log" ]; then
  echo "promptwall logged during the streaming run (first 5 lines):"
  head -5 "$work/promptwall-streams.log" | sed 's/^/  /'
fi
