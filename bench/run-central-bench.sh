#!/usr/bin/env bash
# The central shipper's throughput (issue 17): a throw-away PostgreSQL 15 on loopback with the
# server's defaults for durability (fsync and synchronous_commit on, as a central store runs), then
# build/bench/central_bench: a real trail of N decision events shipped by the real CentralShipper,
# CentralWriter alone by COPY-staging and by multi-row INSERT, against one plain COPY of the same
# rows into tables of the same shape; records/s and the ratio to the COPY.
#
# Usage: bench/run-central-bench.sh [--events N (100000)] [--batch N (1000)]
# Needs the postgresql package (Debian's 15) and a Release build of central_bench.
set -euo pipefail
cd "$(dirname "$0")/.."

ARGS=("$@")
BIN=/usr/lib/postgresql/15/bin
BENCH=build/bench/central_bench
[ -x "$BIN/initdb" ] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql)" >&2; exit 2; }
[ -x "$BENCH" ] || { echo "build $BENCH first (cmake --build build --target central_bench)" >&2; exit 2; }

DIR=$(mktemp -d /tmp/pw-central-ship-bench.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; AS=(runuser -u postgres --); fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
port = $PORT
shared_buffers = 512MB
max_wal_size = 4GB
CONF
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres promptwall
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (fsync on), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --conninfo "host=127.0.0.1 port=$PORT user=postgres dbname=promptwall" --dir "$DIR/work" "${ARGS[@]}"
