#!/usr/bin/env bash
# The central store's read side at scale (issue 17): a throw-away PostgreSQL 15 on loopback, the
# schema of central/schema.sql, then 1 million and 10 million generated events (20 gateways in 10
# provinces, 500 units, 2,000 users, 4 services, 40 rules in 10 categories, spread over 60 days,
# one in ten allowed, with their pw_records lines and per-hour traffic counts), and
# build/bench/central_query_bench timing what the review page asks (see that file) at each size.
#
# Usage: bench/run-central-query-bench.sh [--small N] [--large N] [--runs N]
# Needs: the postgresql package (Debian's 15), a Release build of central_query_bench. Takes ~15
# minutes on 2 cores for the default sizes; the data (~8 GB at 10 M) is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

SMALL=1000000
LARGE=10000000
RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SMALL="$2"; shift 2 ;;
    --large) LARGE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "usage: $0 [--small N] [--large N] [--runs N]" >&2; exit 2 ;;
  esac
done

BIN=/usr/lib/postgresql/15/bin
BENCH=build/bench/central_query_bench
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql)" >&2; exit 2; }
[ -x "$BENCH" ] || { echo "build $BENCH first (cmake --build build --target central_query_bench)" >&2; exit 2; }

DIR=$(mktemp -d /tmp/pw-central-bench.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; AS=(runuser -u postgres --); fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# A server sized like a small central store: 4 GB of shared buffers would be the production
# figure for 10 M events (docs/deployment.md); this machine's 2 cores use parallel workers.
cat >>"$DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
port = $PORT
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
max_parallel_workers_per_gather = 2
EOF
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres promptwall
CONN="host=127.0.0.1 port=$PORT user=postgres dbname=promptwall"
psql() { PGOPTIONS='-c client_min_messages=warning' "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$CONN" "$@"; }

psql -f central/schema.sql
# Loading goes faster without the secondary indexes; schema.sql makes them again afterwards.
psql -At -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%event_id_key'" |
  while read -r index; do psql -c "DROP INDEX $index"; done

# Events i in [from, to): unit (i*7919)%500 behind gateway unit%20 (a unit is at one site, as
# the traffic counts below say), seq i+1 (gaps are fine here); time a pseudo-random second of the 60 days
# before 2026-12-07T00:00Z; unit (i*7919)%500; categories one or two of ten ((i/500)%10, so
# independent of the unit); four rules in each.
generate() {
  psql <<SQL
INSERT INTO pw_gateways (gateway_id, province)
  SELECT 'gw-' || lpad(g::text, 2, '0'), 'province-' || (g % 10) FROM generate_series(0, 19) g ON CONFLICT DO NOTHING;
CREATE TEMP TABLE gen AS
SELECT i, 'gw-' || lpad((((i * 7919) % 500) % 20)::text, 2, '0') AS gateway_id, i + 1 AS seq,
       'EV' || lpad(i::text, 24, '0') AS event_id,
       timestamptz '2026-10-08T00:00:00Z' + ((i * 2654435761) % (60 * 86400)) * interval '1 second' AS time,
       'province-' || ((((i * 7919) % 500) % 20) % 10) AS province,
       'user-' || lpad(((i * 31) % 2000)::text, 4, '0') AS user_name,
       'unit-' || lpad(((i * 7919) % 500)::text, 4, '0') AS unit,
       (ARRAY['openai', 'gemini', 'anthropic', 'copilot'])[i % 4 + 1] AS service,
       CASE WHEN i % 10 = 0 THEN 'allow' ELSE (ARRAY['warn', 'redact', 'block'])[i % 3 + 1] END AS decision,
       (i % 4 + 1)::smallint AS max_severity,
       CASE WHEN i % 3 = 0 THEN ARRAY['cat-' || (i / 500 % 10), 'cat-' || ((i / 500 + 1) % 10)] ELSE ARRAY['cat-' || (i / 500 % 10)] END AS categories,
       CASE WHEN i % 3 = 0 THEN ARRAY['rule-' || (i / 500 % 10) || '-' || (i % 4), 'rule-' || ((i / 500 + 1) % 10) || '-' || (i % 4)]
            ELSE ARRAY['rule-' || (i / 500 % 10) || '-' || (i % 4)] END AS rules
FROM generate_series($1::bigint, $2::bigint - 1) i;
INSERT INTO pw_events (gateway_id, seq, event_id, time, province, request_id, client, user_name, unit, service, method, path,
                       decision, mode, forwarded, max_severity, violation, rules, categories, ruleset, bytes_in)
SELECT gateway_id, seq, event_id, time, province, 'req-' || i, '10.0.' || (i % 250) || '.' || (i % 200) || ':50000', user_name,
       unit, service, 'POST', '/v1/chat/completions', decision, 'enforce', decision <> 'block', max_severity,
       decision <> 'allow', rules, categories, 'rs-1', 1000 + i % 5000
FROM gen;
INSERT INTO pw_records (gateway_id, seq, type, time, line)
SELECT gateway_id, seq, 'decision', time,
       '{"v":1,"seq":' || seq || ',"prev":"' || md5(event_id) || md5(event_id) || '",' ||
       substr(json_build_object('type', 'decision', 'time', to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'event_id', event_id, 'request_id', 'req-' || i, 'client', '10.0.0.1:50000', 'user', user_name, 'unit', unit,
         'service', service, 'method', 'POST', 'path', '/v1/chat/completions', 'decision', decision, 'mode', 'enforce',
         'forwarded', decision <> 'block',
         'findings', (SELECT json_agg(json_build_object('rule', r, 'category', 'cat-' || split_part(r, '-', 2),
                        'severity', 'high', 'action', decision, 'count', 1, 'locations', json_build_array('messages[0].content'),
                        'evidence', json_build_array(json_build_object('where', 'messages[0].content',
                          'excerpt', 'số CCCD 07••••••••34 của', 'hmac', md5(event_id || r) || md5(r)))))
                      FROM unnest(rules) r),
         'ruleset', 'rs-1', 'bytes_in', 1000, 'bytes_forwarded', 1000, 'latency_ms', 2.5, 'scan_ms', 0.4)::text, 2)
FROM gen;
DROP TABLE gen;
SQL
}

# Traffic: each unit behind one gateway, both AI services it uses, every working hour (8-17
# local) of the 60 days: 600,000 rows whatever the event count, 40-139 requests each, the share
# with findings falling over the weeks (the training working).
traffic() {
  psql <<SQL
TRUNCATE pw_traffic;
INSERT INTO pw_traffic (gateway_id, seq, hour, unit, service, requests, with_findings)
SELECT 'gw-' || lpad((u % 20)::text, 2, '0'), 1000000000 + d * 24 + h, timestamptz '2026-10-08T00:00:00Z' + d * interval '1 day' + h * interval '1 hour',
       'unit-' || lpad(u::text, 4, '0'), s, 40 + (u * 7 + d + h) % 100, (40 + (u * 7 + d + h) % 100) / (4 + d / 15 + u % 3)
FROM generate_series(0, 499) u, generate_series(0, 59) d, generate_series(1, 10) h, unnest(ARRAY['openai', 'gemini']) s;
SQL
}

reindex_and_analyze() {
  psql -f central/schema.sql
  psql -c "VACUUM ANALYZE"
}

bench() {
  "$BENCH" "$CONN" --runs "$RUNS" --now 2026-12-07T00:00:00Z
}

size() { psql -At -c "SELECT pg_size_pretty(pg_database_size('promptwall'))"; }

t0=$(date +%s)
generate 0 "$SMALL"
traffic "$SMALL"
reindex_and_analyze
echo "== $SMALL events ($(size), generated and indexed in $(( $(date +%s) - t0 )) s)"
bench | tee "$DIR/small.txt"

psql -At -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%event_id_key'" |
  while read -r index; do psql -c "DROP INDEX $index"; done
t0=$(date +%s)
generate "$SMALL" "$LARGE"
traffic "$LARGE"
reindex_and_analyze
echo "== $LARGE events ($(size), generated and indexed in $(( $(date +%s) - t0 )) s)"
bench | tee "$DIR/large.txt"

echo "== ratio ($LARGE / $SMALL events: x$(( LARGE / SMALL )) the data)"
paste "$DIR/small.txt" "$DIR/large.txt" | awk '{ printf "%-8s %8.1f ms -> %8.1f ms  x%.2f\n", $1, $2, $7, ($2 > 0 ? $7 / $2 : 0) }'
