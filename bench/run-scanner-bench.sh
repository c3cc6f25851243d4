#!/usr/bin/env bash
# Builds scanner_bench (Release) and runs it on the built-in packs with the default corpus.
#
#   bench/run-scanner-bench.sh                 # 64 MB corpus, best of 3 (2-3 minutes on one core)
#   bench/run-scanner-bench.sh --mb 8          # quick run
#   BUILD_DIR=build-bench bench/run-scanner-bench.sh --mb 16 --per-pattern
#
# Arguments go to scanner_bench (see bench/README.md). BUILD_DIR (default build/) is the CMake
# build tree; JOBS (default nproc) the build parallelism. The run itself is single-threaded.
# The build prints nothing unless it fails.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-build}
case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
jobs=${JOBS:-$(nproc)}

cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$jobs" --target scanner_bench >/dev/null

# BENCH_CPU=n pins the run to CPU n (taskset), for steadier figures on an otherwise idle machine.
if [ -n "${BENCH_CPU:-}" ] && command -v taskset >/dev/null 2>&1; then
  exec taskset -c "$BENCH_CPU" "$build_dir/bench/scanner_bench" "$@"
fi
exec "$build_dir/bench/scanner_bench" "$@"
