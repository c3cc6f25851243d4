#!/usr/bin/env bash
# Pseudonyms through the gateway (issue 16): requests/s of streamed OpenAI chat requests that carry
# a CCCD and a phone number, whose ~2 KB SSE reply (bench/gateway/labels_upstream.js) repeats the
# labels the upstream received, split across events. Two gateways on the same configuration but
# `pseudonyms.enabled`: true (the reply restored, streamed through the ReplyRestorer) and false
# (the same labels forwarded, the reply relayed untouched): the same bytes both ways, so the ratio
# is the cost of restoring. Runs alternate (on, off, on, off) and the best of each is reported.
#
#   bench/run-pseudonym-bench.sh                 # DURATION [10s], CONNS [16], BASE_PORT [28500]
#   PROMPTWALL_BIN=build/promptwall bench/run-pseudonym-bench.sh
# Needs wrk, node and curl. Pins the gateway to CPU 0 and wrk to CPU 1 when there are 2 CPUs.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${PROMPTWALL_BIN:-$here/build/promptwall}
duration=${DURATION:-10s}
conns=${CONNS:-16}
base_port=${BASE_PORT:-28500}
die() { echo "run-pseudonym-bench: $*" >&2; exit 1; }
for tool in wrk node curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done
[ -x "$bin" ] || die "no promptwall binary at $bin (cmake --build build --target promptwall)"
on_server=() on_client=()
if [ "$(nproc)" -ge 2 ]; then on_server=(taskset -c 0); on_client=(taskset -c 1); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pw-pseudonym-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] && echo "work directory kept: $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

up_port=$base_port gw_port=$((base_port + 1)) admin_port=$((base_port + 2))
node "$here/bench/gateway/labels_upstream.js" "$up_port" >/dev/null & pids+=($!)

write_config() {  # write_config ENABLED
  cat >"$work/promptwall.yaml" <<YAML
listen: {gateway: 127.0.0.1:$gw_port, admin: 127.0.0.1:$admin_port}
threads: 1
admin: {token: bench-admin-token}
rules: {packs: [builtin], cache_dir: ${XDG_CACHE_HOME:-$HOME/.cache}/promptwall}
services:
  - {name: openai, prefix: /openai, upstream: "http://127.0.0.1:$up_port", schema: openai}
audit: {dir: $work/audit, signing_key: $work/audit-signing.pem, evidence_key: $work/audit-evidence.key, record_clean: false}
pseudonyms: {enabled: $1}
log_level: warn
YAML
}

body="$work/body.json"
printf '%s' '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Soạn thư cho khách hàng có CCCD 001203004567, SĐT 0912345678, báo hồ sơ đã được tiếp nhận."}]}' >"$body"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$body", "rb")); wrk.body = f:read("*a"); f:close()
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("WRK rps=%.1f p50_us=%d p99_us=%d errors=%d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
LUA

run() {  # run ENABLED: starts the gateway, checks one reply, prints "rps p50 p99"
  write_config "$1"
  # Its standard output not on this function's (read waits for that pipe to close).
  "${on_server[@]}" "$bin" serve --config "$work/promptwall.yaml" >/dev/null 2>>"$work/promptwall.log" &
  local pid=$!
  local deadline=$((SECONDS + 180))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/readyz")" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "promptwall not ready"; sleep 0.2
  done
  local reply
  reply=$(curl -s -H 'Content-Type: application/json' --data-binary "@$body" "http://127.0.0.1:$gw_port/openai/v1/chat/completions")
  # (The labels are split across events, so "[CCCD-1]" never shows whole in the raw reply.)
  local restored=false
  [[ "$reply" == *001203004567* ]] && restored=true
  if [ "$restored" != "$1" ]; then kill "$pid"; die "check failed: pseudonyms.enabled $1 but restored $restored"; fi
  "${on_client[@]}" wrk -t1 -c"$conns" -d"$duration" -s "$work/post.lua" "http://127.0.0.1:$gw_port/openai/v1/chat/completions" \
    | awk '/^WRK/ { split($2,a,"="); split($3,b,"="); split($4,c,"="); split($5,d,"="); print a[2], b[2], c[2], d[2] }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

declare -a on_rps off_rps
for round in 1 2; do
  read -r rps p50 p99 errors < <(run true) || die "the restored run failed";  echo "round $round restored:   $rps req/s  p50 ${p50} us  p99 ${p99} us  errors $errors"; on_rps+=("$rps")
  read -r rps p50 p99 errors < <(run false) || die "the untouched run failed"; echo "round $round untouched:  $rps req/s  p50 ${p50} us  p99 ${p99} us  errors $errors"; off_rps+=("$rps")
done
best() { printf '%s\n' "$@" | sort -g | tail -1; }
on=$(best "${on_rps[@]}") off=$(best "${off_rps[@]}")
echo "best: restored $on req/s, untouched $off req/s, ratio $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
