#!/usr/bin/env bash
# The end-to-end suite under ThreadSanitizer (issue 15; outside CI, whose time it does not fit).
# Builds `promptwall` and `e2e_tests` with -fsanitize=thread in build-tsan/ (PROMPTWALL_SANITIZE_THREAD)
# and runs `ctest -L e2e` there. A report in the gateway does not fail its test by itself (the
# gateway is a child process whose stderr goes to a log removed with the test), so every process
# of the run writes its reports under build-tsan/tsan-reports/ (TSAN_OPTIONS log_path) and this
# script fails when any is there, printing them. halt_on_error stops a gateway at its first race.
#
#   tests/run-tsan-e2e.sh [ctest arguments, e.g. -R proxy]
#
# Environment: PROMPTWALL_TSAN_BUILD (the build tree; default ./build-tsan), PROMPTWALL_TSAN_JOBS
# (default 2: build and ctest parallelism).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${PROMPTWALL_TSAN_BUILD:-$here/build-tsan}
jobs=${PROMPTWALL_TSAN_JOBS:-2}

echo "== configuring and building (ThreadSanitizer) in $build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMPTWALL_SANITIZE_THREAD=ON \
  -DPROMPTWALL_BENCH=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target promptwall e2e_tests

reports="$build/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
# Suppressions are for third-party code only, each with the reason it is a false positive.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tests/tsan.supp:log_path=$reports/tsan"
# The gateway runs 5-15x slower: the fixture stretches the waits it has for the gateway.
export PROMPTWALL_E2E_SLOW=${PROMPTWALL_E2E_SLOW:-5}

echo "== running the e2e suite under ThreadSanitizer (reports: $reports)"
started=$(date +%s)
set +e
(cd "$build" && ctest -L e2e -j "$jobs" --output-on-failure "$@")
tests_rc=$?
set -e
echo "== e2e under ThreadSanitizer: $(( $(date +%s) - started )) s"

shopt -s nullglob
found=("$reports"/tsan.*)
if [ "${#found[@]}" -gt 0 ]; then
  for f in "${found[@]}"; do
    echo "---- $f"
    cat "$f"
  done
  echo "== FAILED: ${#found[@]} process(es) wrote ThreadSanitizer reports (above; files in $reports)" >&2
  exit 1
fi
if [ "$tests_rc" -ne 0 ]; then
  echo "== FAILED: e2e tests failed under ThreadSanitizer (no race reported)" >&2
  exit "$tests_rc"
fi
echo "== no ThreadSanitizer report, every e2e test passed or was skipped"
