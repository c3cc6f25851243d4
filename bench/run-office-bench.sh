#!/usr/bin/env bash
# Office-deployment bench (issue 5): what transparent mode, proxy authentication and the WebSocket
# relay cost. Every figure is a ratio against a baseline measured in the same run:
#   transparent  in a namespace office (client → gateway → services, the shipped nft rules):
#                a large HTTPS download of a non-AI site spliced by promptwall vs plainly routed;
#                intercepted HTTPS chat requests (keep-alive, and a new TLS connection each) vs the
#                same requests routed straight to the AI host
#   identity     the forward proxy with proxy_auth required (cached bcrypt credentials) vs off;
#                the cost of one uncached verification (bcrypt, argon2id) and the pool's rate
#   websocket    ChatGPT-web WebSocket messages through the intercepting relay (clean, redacted)
#                vs the same client talking to the fake upstream's WebSocket directly
#
#   bench/run-office-bench.sh                           # all three parts; builds in build/
#   PARTS="identity websocket" DURATION=5s bench/run-office-bench.sh
#
# Environment (defaults in brackets): PARTS ["transparent identity websocket"]; BUILD_DIR [build]
# (promptwall and password_hashes are built there, Release, PROMPTWALL_BENCH=ON), JOBS [nproc];
# DURATION [10s] per wrk/WebSocket run, CONNS [16] for the loaded runs (a -c1 run comes first);
# WS_CONNS [4]; DOWNLOAD_MIB [256], REPS [3] downloads each way (alternating); BCRYPT_USERS [1000],
# ARGON2_USERS [24] uncached users; BASE_PORT [28500] (six loopback ports from it); THREADS [1]
# promptwall threads; SERVER_CPUS [0], CLIENT_CPUS [1] for taskset (empty: no pinning); KEEP=1
# keeps the work directory. The transparent part needs root, ip netns and nft (else it is skipped
# with the reason). Needs wrk, nginx, node (with tests/e2e/node_modules: npm ci there), curl,
# openssl. See bench/README.md, "Office deployment".
#
# Exit status: 0 when every check passed and no run saw an error, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
gateway_files="$here/bench/gateway"
files="$here/bench/office"
e2e="$here/tests/e2e"
parts=" ${PARTS:-transparent identity websocket} "
duration=${DURATION:-10s}
conns=${CONNS:-16}
ws_conns=${WS_CONNS:-4}
download_mib=${DOWNLOAD_MIB:-256}
reps=${REPS:-3}
bcrypt_users=${BCRYPT_USERS:-1000}
argon2_users=${ARGON2_USERS:-24}
base_port=${BASE_PORT:-28500}
threads=${THREADS:-1}
if [ "$(nproc)" -ge 2 ]; then server_cpus=${SERVER_CPUS-0}; client_cpus=${CLIENT_CPUS-1}
else server_cpus=${SERVER_CPUS-}; client_cpus=${CLIENT_CPUS-}; fi

die() { echo "run-office-bench: $*" >&2; exit 1; }
for tool in wrk nginx node curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install wrk nginx-light curl openssl; node 18+)"
done
[ -d "$e2e/node_modules/ws" ] || die "tests/e2e/node_modules/ws is missing (cd tests/e2e && npm ci)"

build_dir=${BUILD_DIR:-build}
case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
if [ "${NO_BUILD:-0}" != 1 ]; then
  cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DPROMPTWALL_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target promptwall password_hashes >/dev/null
fi
bin="$build_dir/promptwall"
hashes_bin="$build_dir/bench/password_hashes"
[ -x "$bin" ] || die "no promptwall binary at $bin"
[ -x "$hashes_bin" ] || die "no password_hashes binary at $hashes_bin"

# Command prefixes that pin (arrays, so that `$!` of a background command is the server's pid:
# taskset and `ip netns exec` both exec what they run).
on_servers=() on_client=()
[ -n "$server_cpus" ] && on_servers=(taskset -c "$server_cpus")
[ -n "$client_cpus" ] && on_client=(taskset -c "$client_cpus")

# --- processes, namespaces and cleanup ------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pw-office-bench.XXXXXX")
pids=()
namespaces=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then echo "work directory kept: $work" >&2
  else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

up_port=$base_port open_proxy=$((base_port + 1)) open_admin=$((base_port + 2))
auth_proxy=$((base_port + 3)) auth_admin=$((base_port + 4)) ws_up_port=$((base_port + 5))
for port in "$up_port" "$open_proxy" "$open_admin" "$auth_proxy" "$auth_admin" "$ws_up_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (set BASE_PORT)"; fi
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

fill() {  # fill TEMPLATE OUT [NAME PROXY_AUTH PROXY_PORT ADMIN_PORT]: replaces the @NAME@ placeholders
  sed -e "s|@DIR@|$work|g" -e "s|@UP_PORT@|$up_port|g" -e "s|@WS_UP_PORT@|$ws_up_port|g" \
      -e "s|@THREADS@|$threads|g" -e "s|@CACHE_DIR@|${XDG_CACHE_HOME:-$HOME/.cache}/promptwall|g" \
      -e "s|@NAME@|${3:-}|g" -e "s|@PROXY_AUTH@|${4:-}|g" -e "s|@PROXY_PORT@|${5:-}|g" -e "s|@ADMIN_PORT@|${6:-}|g" \
      -e "s|@AI_ADDR@|$ai_addr|g" -e "s|@WEB_ADDR@|$web_addr|g" "$1" >"$2"
}

wait_until() {  # wait_until WHAT SECONDS COMMAND...: until COMMAND succeeds
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what did not become ready"
    sleep 0.2
  done
}

# CPU time (clock ticks, user + system) of a process and its threads.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_to_s() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'; }

check() { [ "$1" = "$2" ] || die "check failed: $3: got '$1', expected '$2'"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# wrk's result line into result[NAME,FIELD]; any error or status >= 400 stops the run.
declare -A result
run_wrk() {  # run_wrk NAME PREFIX_ARRAY_NAME WRK_ARGS...
  local name=$1 log="$work/wrk-$1.txt"
  local -n prefix=$2
  shift 2
  "${prefix[@]}" wrk -t1 --latency "$@" >"$log" 2>&1 || die "wrk failed ($name): $(tail -3 "$log")"
  local line
  line=$(grep '^WRK ' "$log") || die "no result from wrk ($name): $(tail -3 "$log")"
  for kv in ${line#WRK }; do result[$name,${kv%%=*}]=${kv#*=}; done
  local errors=$((result[$name,connect] + result[$name,read] + result[$name,write] + result[$name,status] + result[$name,timeout]))
  [ "${result[$name,requests]}" -gt 0 ] || die "wrk sent no request ($name)"
  [ "$errors" -eq 0 ] || die "errors in the wrk run $name: ${line#WRK }"
}

report=()
row() {  # row LABEL RPS P50_US P99_US BASE_NAME NAME [EXTRA]
  report+=("$(printf '  %-46s %9.0f %8s %8s   x%-5s %s' "$1" "${result[$2,rps]}" "$(ms "${result[$2,p50_us]}")" \
    "$(ms "${result[$2,p99_us]}")" "$(ratio "${result[$2,rps]}" "${result[$3,rps]}")" "${4:-}")")
}
header() { report+=("" "$1" "$(printf '  %-46s %9s %8s %8s   %s' "" "rps" "p50 ms" "p99 ms" "rps / baseline")"); }

# --- shared inputs: certificates, bodies ----------------------------------------------------
ai_addr=10.98.2.10 web_addr=10.98.2.20
openssl_quiet() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed"; }
openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/test-ca.key" \
  -out "$work/test-ca.crt" -days 2 -subj "/CN=promptwall bench test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
issue() {  # issue NAME SAN: a server certificate from the test CA
  openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" -out "$work/$1.csr" -subj "/CN=$1"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$2" >"$work/$1.ext"
  openssl_quiet x509 -req -in "$work/$1.csr" -CA "$work/test-ca.crt" -CAkey "$work/test-ca.key" -CAcreateserial \
    -out "$work/$1.crt" -days 2 -extfile "$work/$1.ext"
}
issue localhost "DNS:localhost,IP:127.0.0.1"
issue ai.bench.test "DNS:ai.bench.test,IP:$ai_addr"
issue web.bench.test "DNS:web.bench.test,IP:$web_addr"
"$bin" ca init --dir "$work/org-ca" >/dev/null || die "promptwall ca init failed"

node "$gateway_files/make-bodies.js" "${CORPUS_DIR:-$(dirname "$here")/shared/corpus}" "$work/bodies" >/dev/null
clean_bodies=("$work"/bodies/clean-*.json)
redact_bodies=("$work"/bodies/redact-*.json)

# Decision headers of one POST: "STATUS DECISION" (DECISION "-" when absent).
post() {  # post OUT BODY_FILE CURL_ARGS...
  local out=$1 body=$2
  shift 2
  curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
       --data-binary "@$body" "$@" >"$out.status" 2>"$out.err" || echo 000 >"$out.status"
  local decision
  decision=$(tr -d '\r' <"$out.headers" | awk -F': ' 'tolower($1) == "x-promptwall-decision" { print $2 }')
  echo "$(cat "$out.status") ${decision:--}"
}

echo "promptwall office bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"

# === 1. transparent mode ====================================================================
transparent_skip=""
if [[ $parts == *" transparent "* ]]; then
  if [ "$(id -u)" -ne 0 ]; then transparent_skip="not root"
  elif ! command -v nft >/dev/null || ! command -v ip >/dev/null; then transparent_skip="ip or nft is missing"
  fi
fi
if [[ $parts == *" transparent "* ]] && [ -z "$transparent_skip" ]; then
  echo "transparent mode: building the office"
  run_id="pwb$$"
  client_ns=$run_id-client gateway_ns=$run_id-gateway services_ns=$run_id-services
  for ns in "$client_ns" "$gateway_ns" "$services_ns"; do
    ip netns add "$ns"
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
  done
  ip link add lan-c netns "$client_ns" type veth peer name lan0 netns "$gateway_ns"
  ip link add wan-s netns "$services_ns" type veth peer name wan0 netns "$gateway_ns"
  ip -n "$client_ns" addr add 10.98.1.2/24 dev lan-c
  ip -n "$client_ns" link set lan-c up
  ip -n "$client_ns" route add default via 10.98.1.1
  ip -n "$gateway_ns" addr add 10.98.1.1/24 dev lan0
  ip -n "$gateway_ns" addr add 10.98.2.1/24 dev wan0
  ip -n "$gateway_ns" link set lan0 up
  ip -n "$gateway_ns" link set wan0 up
  ip netns exec "$gateway_ns" sysctl -qw net.ipv4.ip_forward=1
  for a in 10.98.2.2/24 "$ai_addr/24" "$web_addr/24"; do ip -n "$services_ns" addr add "$a" dev wan-s; done
  ip -n "$services_ns" link set wan-s up
  ip -n "$services_ns" route add default via 10.98.2.1
  for ns in "$client_ns" "$gateway_ns"; do
    mkdir -p "/etc/netns/$ns"
    printf '127.0.0.1 localhost\n%s ai.bench.test\n%s web.bench.test\n' "$ai_addr" "$web_addr" >"/etc/netns/$ns/hosts"
  done
  in_client=("${on_client[@]}" ip netns exec "$client_ns")
  in_gateway=(ip netns exec "$gateway_ns")

  mkdir -p "$work/site"
  head -c "$((download_mib * 1024 * 1024))" /dev/urandom >"$work/site/big.bin"
  download_sha=$(sha256sum "$work/site/big.bin" | cut -c1-64)
  fill "$files/nginx-services.conf" "$work/services.conf"
  "${on_servers[@]}" ip netns exec "$services_ns" nginx -p "$work" -c "$work/services.conf" -e "$work/services-error.log" -g 'daemon off;' &
  pids+=($!)

  sed -e 's|^define LAN_IF = .*|define LAN_IF = "lan0"|' -e 's|^define LAN_CIDR = .*|define LAN_CIDR = 10.98.1.0/24|' \
      -e 's|^define TRANSPARENT_PORT = .*|define TRANSPARENT_PORT = 3129|' "$here/ops/nftables/promptwall.nft" >"$work/rules.nft"
  grep -q '^define LAN_IF = "lan0"' "$work/rules.nft" || die "ops/nftables/promptwall.nft has no LAN_IF define"
  redirect_on() { "${in_gateway[@]}" nft -f "$work/rules.nft"; }
  redirect_off() { "${in_gateway[@]}" nft delete table inet promptwall; }

  fill "$files/promptwall-transparent.yaml" "$work/promptwall-transparent.yaml"
  mkdir -p "$work/state"
  "${on_servers[@]}" ip netns exec "$gateway_ns" env PROMPTWALL_STATE_DIR="$work/state" \
    "$bin" serve --config "$work/promptwall-transparent.yaml" 2>>"$work/promptwall-transparent.log" &
  tp_pid=$!
  pids+=("$tp_pid")
  wait_until "promptwall (transparent)" 180 "${in_gateway[@]}" curl -sf --max-time 1 http://127.0.0.1:9090/readyz
  wait_until "the services' nginx" 20 "${in_gateway[@]}" curl -sf --max-time 1 --cacert "$work/test-ca.crt" \
    -o /dev/null https://web.bench.test/big.bin -r 0-0
  metric() {  # metric SERIES: one sample of the transparent gateway's /metrics
    "${in_gateway[@]}" curl -sS -H 'Authorization: Bearer bench-admin-token' http://127.0.0.1:9090/metrics |
      awk -v s="$1" 'index($0, s " ") == 1 { print $2; found = 1 } END { if (!found) print 0 }'
  }
  spliced='promptwall_transparent_connections_total{outcome="spliced"}'
  intercepted='promptwall_transparent_connections_total{outcome="intercepted"}'

  ai_url=https://ai.bench.test/v1/chat/completions
  web_url=https://web.bench.test/big.bin
  download() {  # download: "BYTES BYTES_PER_S" of one download of big.bin from the client
    "${in_client[@]}" curl -sS --noproxy '*' --cacert "$work/test-ca.crt" -o /dev/null \
      -w '%{size_download} %{speed_download}\n' "$web_url"
  }

  # Connection setup, one new connection per request, sequentially: curl's own timings (from its
  # start, so the process start-up is not in them) of TCP connect, TLS done and the whole request.
  setup_times() {  # setup_times CACERT: "CONNECT_MS TLS_MS FIRST_BYTE_MS TOTAL_MS", medians of SETUP_N requests
    local i
    for ((i = 0; i < ${SETUP_N:-100}; i++)); do
      "${in_client[@]}" curl -sS --noproxy '*' --cacert "$1" -o /dev/null -H 'Content-Type: application/json' \
        --data-binary "@${clean_bodies[i % ${#clean_bodies[@]}]}" -w '%{http_code} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}\n' "$ai_url"
    done >"$work/setup.txt"
    if awk '$1 != 200 { bad = 1 } END { exit !bad }' "$work/setup.txt"; then echo error; return; fi
    local column
    for column in 2 3 4 5; do
      awk -v c="$column" '{ print $c * 1000 }' "$work/setup.txt" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f ", v[int((NR + 1) / 2)] }'
    done
    echo
  }

  tls_summary() {  # what the client negotiates with whoever answers for the AI host
    "${in_client[@]}" openssl s_client -brief -connect ai.bench.test:443 -servername ai.bench.test </dev/null 2>&1 |
      awk -F': ' '/^(Protocol version|Ciphersuite|Peer signature type|Server Temp Key|Negotiated TLS1.3 group)/ { printf "%s%s", sep, $2; sep = ", " }'
  }

  # Checks, redirect on: the site's bytes exact and spliced; the AI host intercepted.
  redirect_on
  before=$(metric "$spliced")
  got_sha=$("${in_client[@]}" curl -sS --noproxy '*' --cacert "$work/test-ca.crt" "$web_url" | sha256sum | cut -c1-64)
  check "$got_sha" "$download_sha" "SHA-256 of the spliced download"
  check "$(awk -v a="$(metric "$spliced")" -v b="$before" 'BEGIN { print a - b }')" 1 "spliced connections for one download"
  out="$work/check-tp"
  tp_post() {  # tp_post OUT BODY CACERT: "STATUS DECISION" of a POST from the client namespace
    "${in_client[@]}" curl -sS --noproxy '*' -o "$1" -D "$1.headers" -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "@$2" --cacert "$3" "$ai_url" >"$1.status" 2>"$1.err" || echo 000 >"$1.status"
    local decision
    decision=$(tr -d '\r' <"$1.headers" | awk -F': ' 'tolower($1) == "x-promptwall-decision" { print $2 }')
    echo "$(cat "$1.status") ${decision:--}"
  }
  check "$(tp_post "$out" "${clean_bodies[0]}" "$work/org-ca/ca.crt")" "200 allow" "intercepted clean request"
  check "$(tp_post "$out" "${redact_bodies[0]}" "$work/org-ca/ca.crt")" "200 redact" "intercepted CCCD request"
  redirect_off
  check "$(tp_post "$out" "${clean_bodies[0]}" "$work/test-ca.crt")" "200 -" "routed request (no redirect) to the AI host"
  before=$(metric "$spliced")
  read -r size _ < <(download)
  check "$size" "$((download_mib * 1024 * 1024))" "size of the routed download"
  check "$(metric "$spliced")" "$before" "spliced connections while the redirect is off"
  echo "transparent checks passed: spliced download byte for byte ($download_mib MiB), AI host intercepted (allow, redact), routed without the redirect"

  # Downloads, alternating redirect on and off, REPS each.
  declare -a speed_on speed_off cpu_on
  for ((i = 0; i < reps; i++)); do
    redirect_on
    t0=$(cpu_ticks "$tp_pid")
    read -r size speed < <(download)
    check "$size" "$((download_mib * 1024 * 1024))" "size of a spliced download"
    speed_on+=("$speed") cpu_on+=($(($(cpu_ticks "$tp_pid") - t0)))
    redirect_off
    read -r size speed < <(download)
    check "$size" "$((download_mib * 1024 * 1024))" "size of a routed download"
    speed_off+=("$speed")
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  mib_s() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
  on_med=$(median "${speed_on[@]}") off_med=$(median "${speed_off[@]}") cpu_med=$(median "${cpu_on[@]}")

  # Chat requests: through the redirect (intercepted) and routed straight to the AI host.
  redirect_on
  run_wrk warm-tp in_client -c"$conns" -d2s -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
  t0=$(cpu_ticks "$tp_pid")
  for c in 1 "$conns"; do
    run_wrk "tp-clean-c$c" in_client -c"$c" -d"$duration" -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
    run_wrk "tp-redact-c$c" in_client -c"$c" -d"$duration" -s "$gateway_files/chat.lua" "$ai_url" -- "${redact_bodies[@]}"
    run_wrk "tp-close-c$c" in_client -c"$c" -d"$duration" -H 'Connection: close' -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
  done
  tp_intercepted=$(metric "$intercepted")
  tls_tp=$(tls_summary)
  read -r setup_tp_connect setup_tp_tls setup_tp_first setup_tp_total < <(setup_times "$work/org-ca/ca.crt")
  [ "$setup_tp_connect" != error ] || die "a request of the intercepted connection-setup run did not answer 200"
  redirect_off
  tls_direct=$(tls_summary)
  read -r setup_direct_connect setup_direct_tls setup_direct_first setup_direct_total < <(setup_times "$work/test-ca.crt")
  [ "$setup_direct_connect" != error ] || die "a request of the routed connection-setup run did not answer 200"
  run_wrk warm-direct in_client -c"$conns" -d2s -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
  for c in 1 "$conns"; do
    run_wrk "direct-c$c" in_client -c"$c" -d"$duration" -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
    run_wrk "direct-close-c$c" in_client -c"$c" -d"$duration" -H 'Connection: close' -s "$gateway_files/chat.lua" "$ai_url" -- "${clean_bodies[@]}"
  done

  report+=("" "1. transparent mode (namespace office; promptwall threads: $threads; servers on CPU ${server_cpus:-any}, clients on CPU ${client_cpus:-any})")
  report+=("$(printf '  download of %d MiB over HTTPS from the non-AI site, median of %d: spliced %s MiB/s, routed %s MiB/s, ratio %s' \
    "$download_mib" "$reps" "$(mib_s "$on_med")" "$(mib_s "$off_med")" "$(ratio "$on_med" "$off_med")")")
  report+=("$(printf '    every run (MiB/s): spliced %s; routed %s' "$(for s in "${speed_on[@]}"; do printf '%s ' "$(mib_s "$s")"; done)" \
    "$(for s in "${speed_off[@]}"; do printf '%s ' "$(mib_s "$s")"; done)")")
  report+=("$(printf '    promptwall CPU per spliced download: %s s (median; %s s per GiB)' "$(ticks_to_s "$cpu_med")" \
    "$(awk -v t="$cpu_med" -v hz="$(getconf CLK_TCK)" -v m="$download_mib" 'BEGIN { printf "%.2f", t / hz * 1024 / m }')")")
  header "  4 KB chat requests, wrk -t1, $duration per run (baseline: routed straight to the AI host, no redirect)"
  for c in 1 "$conns"; do
    row "keep-alive -c$c: routed direct" "direct-c$c" "direct-c$c" "(baseline)"
    row "keep-alive -c$c: intercepted, clean" "tp-clean-c$c" "direct-c$c"
    row "keep-alive -c$c: intercepted, CCCD redacted" "tp-redact-c$c" "direct-c$c"
    row "new TLS connection each -c$c: routed direct" "direct-close-c$c" "direct-close-c$c" "(baseline)"
    row "new TLS connection each -c$c: intercepted" "tp-close-c$c" "direct-close-c$c"
  done
  report+=("  (wrk's latency starts when a request is written: with a new connection each, the rps column is what"
           "   shows the setup cost; curl's timings below measure it)")
  report+=("$(printf '  connection setup, curl, %s sequential requests each on a new connection (medians, ms from curl'"'"'s start):' "${SETUP_N:-100}")")
  report+=("$(printf '    routed direct:  TCP connected %s, TLS done %s, first answer byte %s, answer complete %s' "$setup_direct_connect" "$setup_direct_tls" "$setup_direct_first" "$setup_direct_total")")
  report+=("$(printf '    intercepted:    TCP connected %s, TLS done %s, first answer byte %s, answer complete %s  (TLS done x%s, complete x%s)' \
    "$setup_tp_connect" "$setup_tp_tls" "$setup_tp_first" "$setup_tp_total" "$(ratio "$setup_tp_tls" "$setup_direct_tls")" "$(ratio "$setup_tp_total" "$setup_direct_total")")")
  report+=("    TLS negotiated: routed direct (nginx) $tls_direct; intercepted (promptwall) $tls_tp")
  report+=("  promptwall CPU over the intercepted runs: $(ticks_to_s $(($(cpu_ticks "$tp_pid") - t0))) s; intercepted connections counted: $tp_intercepted")
  tp_audit=$(cat "$work"/audit-transparent/audit-*.jsonl 2>/dev/null | grep -c '"type":"decision"' || true)
  report+=("  audit: $tp_audit decision events for $(( ${result[tp-redact-c1,requests]} + ${result[tp-redact-c$conns,requests]} )) redacted requests in the reported runs (plus checks)")
fi

# === 2 and 3: the forward proxy on loopback ================================================
if [[ $parts == *" identity "* || $parts == *" websocket "* ]]; then
  # The users: "bench1" for the load runs; b1..bN (bcrypt) and a1..aN (argon2id) never used
  # before the uncached measurement.
  { "$hashes_bin" bcrypt 1 bench; "$hashes_bin" bcrypt "$bcrypt_users" b; "$hashes_bin" argon2id "$argon2_users" a; } >"$work/users" ||
    die "password_hashes failed"
  for ((i = 1; i <= bcrypt_users; i++)); do echo "b$i:pw-b$i"; done >"$work/bcrypt-plain"
  for ((i = 1; i <= argon2_users; i++)); do echo "a$i:pw-a$i"; done >"$work/argon2-plain"
  bcrypt_cost=$(awk -F'$' 'NR == 2 { print $3 + 0 }' "$work/users")
  argon2_params=$(grep -m1 '^a1:' "$work/users" | cut -d'$' -f3-4)

  fill "$gateway_files/nginx-upstream.conf" "$work/upstream.conf"
  "${on_servers[@]}" nginx -p "$work" -c "$work/upstream.conf" -e "$work/upstream-error.log" -g 'daemon off;' &
  pids+=($!)
  # The fake upstream records every message to a file; after the checks the record path points
  # at /dev/null, so the load runs do not grow a file (it opens the path per record).
  ln -s "$work/ws-records.jsonl" "$work/ws-record"
  "${on_servers[@]}" node "$e2e/fake_upstream.js" --port "$ws_up_port" --record "$work/ws-record" \
    --tls-cert "$work/localhost.crt" --tls-key "$work/localhost.key" >"$work/ws-upstream.out" 2>&1 &
  pids+=($!)
  declare -A pw_pid
  for name in open auth; do
    if [ "$name" = open ]; then fill "$files/promptwall-proxy.yaml" "$work/promptwall-$name.yaml" "$name" off "$open_proxy" "$open_admin"
    else fill "$files/promptwall-proxy.yaml" "$work/promptwall-$name.yaml" "$name" required "$auth_proxy" "$auth_admin"; fi
    mkdir -p "$work/state-$name"
    PROMPTWALL_STATE_DIR="$work/state-$name" "${on_servers[@]}" "$bin" serve --config "$work/promptwall-$name.yaml" \
      2>>"$work/promptwall-$name.log" &
    pw_pid[$name]=$!
    pids+=($!)
  done
  wait_until "promptwall (proxy_auth off)" 180 curl -sf --max-time 1 "http://127.0.0.1:$open_admin/readyz"
  wait_until "promptwall (proxy_auth required)" 180 curl -sf --max-time 1 "http://127.0.0.1:$auth_admin/readyz"
  wait_until "the upstream nginx" 20 curl -sf -o /dev/null -X POST "http://127.0.0.1:$up_port/v1/chat/completions"
  wait_until "the fake upstream" 20 grep -q port "$work/ws-upstream.out"
fi

if [[ $parts == *" identity "* ]]; then
  bench_auth="Basic $(printf '%s' bench1:pw-bench1 | base64 -w0)"
  target=http://api.bench.test/v1/chat/completions
  out="$work/check-id"
  check "$(post "$out" "${clean_bodies[0]}" -x "http://127.0.0.1:$auth_proxy" "$target")" "407 refused" "proxy_auth required, no credentials"
  check "$(post "$out" "${clean_bodies[0]}" -x "http://127.0.0.1:$auth_proxy" -H "Proxy-Authorization: Basic $(printf '%s' bench1:wrong | base64 -w0)" "$target")" \
    "407 refused" "proxy_auth required, a wrong password"
  check "$(post "$out" "${clean_bodies[0]}" -x "http://127.0.0.1:$auth_proxy" -H "Proxy-Authorization: $bench_auth" "$target")" \
    "200 allow" "proxy_auth required, right credentials"
  check "$(post "$out" "${clean_bodies[0]}" -x "http://127.0.0.1:$open_proxy" "$target")" "200 allow" "proxy_auth off"
  echo "identity checks passed: 407 without or with wrong credentials, 200 allow with them; 200 allow with proxy_auth off"

  proxy_run() {  # proxy_run NAME PORT AUTH C DURATION
    run_wrk "$1" on_client -c"$4" -d"$5" -s "$files/proxy-chat.lua" "http://127.0.0.1:$2" -- api.bench.test "$3" "${clean_bodies[@]}"
  }
  proxy_run warm-open "$open_proxy" - "$conns" 2s
  proxy_run warm-auth "$auth_proxy" "$bench_auth" "$conns" 2s
  declare -A id_cpu
  for c in 1 "$conns"; do
    for name in open auth; do
      t0=$(cpu_ticks "${pw_pid[$name]}")
      if [ "$name" = open ]; then proxy_run "id-$name-c$c" "$open_proxy" - "$c" "$duration"
      else proxy_run "id-$name-c$c" "$auth_proxy" "$bench_auth" "$c" "$duration"; fi
      id_cpu[$name,$c]=$(( ($(cpu_ticks "${pw_pid[$name]}") - t0) * 1000000 / $(getconf CLK_TCK) / result[id-$name-c$c,requests] ))
    done
  done
  "${on_client[@]}" node "$files/auth-cost.js" "http://127.0.0.1:$auth_proxy" api.bench.test "$work/bcrypt-plain" \
    "${clean_bodies[0]}" 10 8 >"$work/auth-bcrypt.json" || die "auth-cost (bcrypt) failed"
  "${on_client[@]}" node "$files/auth-cost.js" "http://127.0.0.1:$auth_proxy" api.bench.test "$work/argon2-plain" \
    "${clean_bodies[0]}" 4 4 >"$work/auth-argon2.json" || die "auth-cost (argon2id) failed"
  field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$1" "$2"; }

  header "2. identity: plain-HTTP absolute-form requests to the forward proxy, 4 KB clean chat bodies (baseline: proxy_auth off)"
  for c in 1 "$conns"; do
    row "-c$c: proxy_auth off" "id-open-c$c" "id-open-c$c" "(baseline; ${id_cpu[open,$c]} us CPU/request)"
    row "-c$c: proxy_auth required, cached bcrypt" "id-auth-c$c" "id-open-c$c" "(${id_cpu[auth,$c]} us CPU/request)"
  done
  for kind in bcrypt argon2; do
    f="$work/auth-$kind.json"
    if [ "$kind" = bcrypt ]; then what="bcrypt \$2b\$, cost $bcrypt_cost"; else what="argon2id $argon2_params"; fi
    report+=("$(printf '  %-34s first request %s ms vs cached %s ms (medians of %s); pool: %s verifications in %s s = %s/s' \
      "$what:" "$(field "$f" first_ms)" "$(field "$f" cached_ms)" "$(field "$f" pairs)" "$(field "$f" verifications)" \
      "$(field "$f" seconds)" "$(field "$f" per_second)")")
  done
fi

if [[ $parts == *" websocket "* ]]; then
  ws_run() {  # ws_run NAME MODE(direct|proxy) EXPECT CONNS SECONDS BODY...
    local name=$1 mode=$2 expect=$3 c=$4 s=$5
    shift 5
    local -a where=(--url "wss://localhost:$ws_up_port/backend-api/ws" --ca "$work/test-ca.crt")
    [ "$mode" = proxy ] && where=(--url wss://chatgpt.com/backend-api/ws --ca "$work/org-ca/ca.crt" --proxy "http://127.0.0.1:$open_proxy")
    "${on_client[@]}" node "$files/ws-bench.js" "${where[@]}" --envelope "$here/tests/data/webapps/chatgpt-ws-message.json" \
      --expect "$expect" --conns "$c" --seconds "$s" "$@" >"$work/ws-$name.json" 2>"$work/ws-$name.err" ||
      die "WebSocket run $name failed: $(cat "$work/ws-$name.err")"
    local json
    json=$(cat "$work/ws-$name.json")
    result[$name,rps]=$(echo "$json" | node -e 'const j = JSON.parse(require("fs").readFileSync(0)); console.log(j.per_second)')
    result[$name,p50_us]=$(echo "$json" | node -e 'const j = JSON.parse(require("fs").readFileSync(0)); console.log(Math.round(j.p50_ms * 1000))')
    result[$name,p99_us]=$(echo "$json" | node -e 'const j = JSON.parse(require("fs").readFileSync(0)); console.log(Math.round(j.p99_ms * 1000))')
    result[$name,requests]=$(echo "$json" | node -e 'const j = JSON.parse(require("fs").readFileSync(0)); console.log(j.messages)')
  }
  audit_events() { cat "$work"/audit-open/audit-*.jsonl 2>/dev/null | grep -c '"method":"WEBSOCKET"' || true; }
  # Checks (each run checks every answer too): what the upstream received.
  ws_run check-direct direct same 1 1 "${clean_bodies[@]}"
  ws_run check-clean proxy same 1 1 "${clean_bodies[@]}"
  ws_run check-redact proxy redacted 1 1 "${redact_bodies[@]}"
  received=$(grep -c '"method":"WEBSOCKET"' "$work/ws-records.jsonl" || true)
  sent=$(( ${result[check-direct,requests]} + ${result[check-clean,requests]} + ${result[check-redact,requests]} ))
  check "$received" "$sent" "WebSocket messages the fake upstream received"
  grep '"method":"WEBSOCKET"' "$work/ws-records.jsonl" | tail -n "${result[check-redact,requests]}" | node -e '
    const bodies = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).body);
    process.exit(bodies.every((b) => b.includes("[CCCD-1]") && !/\d{12}/.test(b)) ? 0 : 1);' ||
    die "check failed: a redacted WebSocket message reached the upstream without [CCCD-1] or with a 12-digit number"
  echo "websocket checks passed: clean messages relayed unchanged, CCCD messages arrive as [CCCD-1]; $received messages received"
  ln -sfn /dev/null "$work/ws-record"
  ws_audit_before=$(audit_events)
  ws_run warm proxy same "$ws_conns" 2 "${clean_bodies[@]}"
  for c in 1 "$ws_conns"; do
    ws_run "ws-direct-c$c" direct same "$c" "${duration%s}" "${clean_bodies[@]}"
    ws_run "ws-clean-c$c" proxy same "$c" "${duration%s}" "${clean_bodies[@]}"
    ws_run "ws-redact-c$c" proxy redacted "$c" "${duration%s}" "${redact_bodies[@]}"
  done
  ws_audit=$(( $(audit_events) - ws_audit_before ))
  header "3. WebSocket: ChatGPT-web messages (~4 KB), one in flight per connection, node ws client (baseline: straight to the fake upstream's WebSocket)"
  for c in 1 "$ws_conns"; do
    row "$c connection(s): direct" "ws-direct-c$c" "ws-direct-c$c" "(baseline; messages/s)"
    row "$c connection(s): through the relay, clean" "ws-clean-c$c" "ws-direct-c$c"
    row "$c connection(s): through the relay, CCCD redacted" "ws-redact-c$c" "ws-direct-c$c"
  done
  report+=("  audit: $ws_audit WebSocket decision events for $(( ${result[ws-redact-c1,requests]} + ${result[ws-redact-c$ws_conns,requests]} )) redacted messages in the reported runs")
fi

# --- report ---------------------------------------------------------------------------------
echo
echo "promptwall office bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "servers (promptwall threads: $threads, nginx 1 worker, node) on CPU ${server_cpus:-any}; clients (wrk -t1, curl, node) on CPU ${client_cpus:-any}"
[ -n "$transparent_skip" ] && echo "transparent part skipped: $transparent_skip (it needs root, ip netns and nft)"
printf '%s\n' "${report[@]}"
for log in "$work"/promptwall-*.log; do
  [ -s "$log" ] || continue
  echo "$(basename "$log") ($(wc -l <"$log") lines, first 3):"
  head -3 "$log" | sed 's/^/  /'
done
