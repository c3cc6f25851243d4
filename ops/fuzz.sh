#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14, libFuzzer + ASan + UBSan) in ./build-fuzz and runs
# them: the one way fuzzers are run, for CI's bounded step (ops/setup.sh --test) and for long runs.
#
#   ops/fuzz.sh [--seconds N] [--jobs J] [--no-build] [target...]
#
#   --seconds N  each target runs N seconds (default 60; hours for a long run: --seconds 14400)
#   --jobs J     targets run J at a time, each on one core (default: nproc)
#   --no-build   run the binaries already in build-fuzz/fuzz/
#   target...    names (client_hello, config, ...); default every built build-fuzz/fuzz/*_fuzz
#
# Each target starts from its seeds (fuzz/corpus/<name>/, read only) and from what earlier runs
# found (build-fuzz/corpus/<name>/, where new inputs go: never into the repository); -max_len is
# 1024 unless fuzz/max_len names the target. A crash, leak, timeout (one input over 25 s) or running
# out of memory (2 GiB) stops that target; its input is written under build-fuzz/artifacts/<name>/
# and the command reproducing it is printed. Logs: build-fuzz/logs/<name>.log.
# At the end, one line a target: its outcome, executions, coverage (the last `cov:` libFuzzer
# printed), corpus size and entries new in this run, and the artifact. Exit 1 when any target failed.
# Needs clang-14 and libclang-rt-14-dev (ops/setup.sh --fuzz installs them).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

seconds=60
jobs=$(nproc)
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift ;;
    --no-build) build=0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
case "$seconds$jobs" in *[!0-9]*) echo "fuzz.sh: --seconds and --jobs take whole numbers" >&2; exit 2 ;; esac
[ "$jobs" -ge 1 ] || jobs=1

out=build-fuzz
if [ "$build" = 1 ]; then
  command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 is missing (bash ops/setup.sh --fuzz installs it)" >&2; exit 2; }
  echo "== configuring and building the fuzz targets (clang-14, libFuzzer + ASan + UBSan) in $out/"
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMPTWALL_FUZZ=ON \
    -DPROMPTWALL_TESTS=OFF -DPROMPTWALL_BENCH=OFF >/dev/null
  if [ "${#targets[@]}" -gt 0 ]; then
    cmake --build "$out" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"
  else
    cmake --build "$out" -j "$(nproc)" --target fuzzers
  fi
fi
if [ "${#targets[@]}" -eq 0 ]; then
  for binary in "$out"/fuzz/*_fuzz; do
    [ -x "$binary" ] && targets+=("$(basename "$binary" _fuzz)")
  done
fi
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz.sh: no fuzz target built in $out/fuzz/" >&2; exit 2; }

max_len_of() {
  local len
  len=$(awk -v t="$1" '$1 == t { print $2 }' fuzz/max_len)
  echo "${len:-1024}"
}
corpus_size() { find "$1" -maxdepth 1 -type f | wc -l; }

mkdir -p "$out/logs"
# One target: libFuzzer on one core for $seconds, its exit status in logs/<name>.status.
run_one() {
  local name=$1 binary="$out/fuzz/$1_fuzz" log="$out/logs/$1.log"
  mkdir -p "$out/corpus/$name" "$out/artifacts/$name"
  corpus_size "$out/corpus/$name" >"$out/logs/$name.before"
  set +e
  "$binary" -max_total_time="$seconds" -max_len="$(max_len_of "$name")" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$name/" "$out/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1
  echo $? >"$out/logs/$name.status"
  set -e
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, $jobs at a time (logs in $out/logs/)"
running=0
for name in "${targets[@]}"; do
  [ -x "$out/fuzz/${name}_fuzz" ] || { echo "fuzz.sh: no binary $out/fuzz/${name}_fuzz" >&2; exit 2; }
  [ -d "fuzz/corpus/$name" ] || { echo "fuzz.sh: no seed corpus fuzz/corpus/$name" >&2; exit 2; }
  rm -f "$out/logs/$name.status"
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  echo "   $name"
  run_one "$name" &
  running=$((running + 1))
done
wait

failed=0
printf '== summary (%ss each)\n' "$seconds"
printf '%-20s %-8s %14s %8s %8s %6s  %s\n' target outcome executions cov corpus new artifact
for name in "${targets[@]}"; do
  log="$out/logs/$name.log"
  status=$(cat "$out/logs/$name.status" 2>/dev/null || echo 1)
  execs=$(awk '/^stat::number_of_executed_units:/ { print $NF }' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{ print $2 }')
  size=$(corpus_size "$out/corpus/$name")
  new=$((size - $(cat "$out/logs/$name.before")))
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  outcome=ok
  if [ "$status" != 0 ]; then
    failed=1
    outcome=failed
    if grep -q 'ERROR: libFuzzer: timeout' "$log"; then outcome=timeout
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then outcome=oom
    elif grep -q 'ERROR: LeakSanitizer' "$log"; then outcome=leak
    elif [ -n "$artifact" ]; then outcome=crash
    fi
  fi
  printf '%-20s %-8s %14s %8s %8s %6s  %s\n' "$name" "$outcome" "${execs:-?}" "${cov:-?}" "$size" "$new" "${artifact:--}"
done
if [ "$failed" = 1 ]; then
  echo "== fuzzing found problems; for each failed target:"
  for name in "${targets[@]}"; do
    [ "$(cat "$out/logs/$name.status" 2>/dev/null || echo 1)" = 0 ] && continue
    log="$out/logs/$name.log"
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "-- $name: $log"
    grep -m1 -E '^==[0-9]+==ERROR|ERROR: libFuzzer|SUMMARY:|runtime error' "$log" || tail -5 "$log"
    if [ -n "$artifact" ]; then
      echo "   reproduce: $out/fuzz/${name}_fuzz $artifact"
      echo "   keep it found: cp $artifact fuzz/corpus/$name/ (with the fix; the replay test runs it)"
    fi
  done
  exit 1
fi
