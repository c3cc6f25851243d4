#!/usr/bin/env bash
# Installs every Debian package promptwall needs to build, test and benchmark, then configures and
# builds. Non-interactive and idempotent; run as root (or with sudo available) on Debian 12.
#
#   ops/setup.sh            install + build (Release) into ./build
#   ops/setup.sh --test     install + build + run the whole test suite (ctest), then build it
#                           with ASan+UBSan in ./build-asan and run it again (--no-asan skips),
#                           then every fuzz target for PROMPTWALL_CI_FUZZ_SECONDS each (default
#                           30, 0 skips; ops/fuzz.sh, two at a time)
#   ops/setup.sh --run      install + build + scan a sample prompt, then start the gateway on its
#                           embedded default configuration (promptwall serve)
#   ops/setup.sh --fuzz [S] install clang-14 + libclang-rt-14-dev, then ops/fuzz.sh --seconds S:
#                           build the libFuzzer targets in ./build-fuzz and run each for S seconds
#                           (default 60; long runs: ops/fuzz.sh directly, fuzz/README.md)
#   ops/setup.sh --tsan     install + build with ThreadSanitizer in ./build-tsan, run the e2e suite
#                           under it; fails on any report (tests/run-tsan-e2e.sh; not in CI)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

mode=build
asan=unset
fuzz_seconds=60
for arg in "$@"; do
  case "$arg" in
    --fuzz) mode=fuzz ;;
    [0-9]*) [ "$mode" = fuzz ] || { echo "setup.sh: a number only follows --fuzz" >&2; exit 2; }; fuzz_seconds=$arg ;;
    --test) mode=test ;;
    --run) mode=run ;;
    --tsan) mode=tsan ;;
    --asan) asan=1 ;;
    --no-asan) asan=0 ;;
    --deps-only) mode=deps ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

# The one place the Hyperscan flavour is pinned: Debian's libhyperscan-dev (Intel Hyperscan 5.4).
# libvectorscan-dev is a drop-in fork (same pkg-config name 'libhs'); the two conflict.
HYPERSCAN_PKG=${PROMPTWALL_HYPERSCAN_PKG:-libhyperscan-dev}

packages=(
  build-essential cmake pkg-config git ca-certificates
  "$HYPERSCAN_PKG" libre2-dev libspdlog-dev libfmt-dev catch2
  libyaml-cpp-dev nlohmann-json3-dev libicu-dev libssl-dev
  zlib1g-dev libbrotli-dev libsimdjson-dev libboost-dev libboost-system-dev
  libsqlite3-dev libcrypt-dev libargon2-dev
  # the fleet's central audit store (central/): PostgreSQL's client library and libpqxx
  libpq-dev libpqxx-dev
  # documents (extractors/): zip containers (libzip's CMake config wants its tools), XML, PDF, the
  # extraction sandbox's seccomp filter, and the legacy .doc/.xls/.ppt readers run in it
  libzip-dev zipcmp zipmerge ziptool libexpat1-dev libpoppler-cpp-dev libseccomp-dev antiword catdoc
  curl openssl wrk nginx-light
  # the benches read peak memory with GNU time (/usr/bin/time -v)
  time
  # the document benches make .docx and .xlsx files as staff do (bench/run-upload-bench.sh,
  # bench/documents/); the tests' documents are committed, made by the scripts beside them
  python3-docx python3-openpyxl poppler-utils unzip
  # transparent mode's rules and its namespace-office test; `file` for CPack's dpkg-shlibdeps
  nftables iproute2 file
)
# The SIEM end-to-end test runs a real rsyslogd of its own on a loopback port.
if [ "$mode" = test ] || [ "$mode" = tsan ]; then packages+=(rsyslog); fi
# The fleet tests and benches start their own PostgreSQL 15 cluster and HAProxy 2.6 on loopback.
if [ "$mode" = test ] || [ "$mode" = tsan ] || [ "$mode" = deps ]; then packages+=(postgresql haproxy); fi
# The .deb's test boots systemd in a container (systemd-nspawn) to start the installed unit.
if [ "$mode" = test ]; then packages+=(systemd-container); fi
# libFuzzer: clang's runtime is only a recommended package of clang-14, so it is named. The test
# run fuzzes every target for a bounded time too.
if [ "$mode" = fuzz ] || [ "$mode" = test ]; then packages+=(clang-14 libclang-rt-14-dev); fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ "$mode" = deps ] && exit 0
# One way to run fuzzers: ops/fuzz.sh builds build-fuzz/ and runs them.
[ "$mode" = fuzz ] && exec bash ops/fuzz.sh --seconds "$fuzz_seconds"
if [ "$asan" = unset ]; then
  if [ "$mode" = test ]; then asan=1; else asan=0; fi
fi

# The end-to-end tests drive the gateway with real SDKs (tests/e2e/package.json pins versions that
# run on Debian's Node 18). Debian's node and npm are installed only when missing: where Node comes
# from another repository, Debian's npm package conflicts with it and would replace it.
if [ "$mode" = test ] || [ "$mode" = tsan ]; then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== installing: nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends nodejs npm
  fi
  # The review page's test drives Debian's Chromium headless (through playwright-core, no download).
  if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
    echo "== installing: chromium"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends chromium
  fi
  # npm ci rewrites node_modules/.package-lock.json, so it is newer than the lock when up to date.
  if [ ! tests/e2e/node_modules/.package-lock.json -nt tests/e2e/package-lock.json ]; then
    echo "== installing the end-to-end tests' npm packages"
    (cd tests/e2e && npm ci --no-audit --no-fund)
  fi
fi

jobs=$(nproc)
# The e2e suite under ThreadSanitizer, in its own tree (tests/README.md).
if [ "$mode" = tsan ]; then exec tests/run-tsan-e2e.sh; fi
echo "== configuring and building (Release) in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"

if [ "$asan" = 1 ]; then
  echo "== configuring and building (ASan+UBSan) in build-asan/"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMPTWALL_SANITIZE=ON -DPROMPTWALL_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
fi

case "$mode" in
  test)
    echo "== running tests"
    (cd build && ctest --output-on-failure -j "$jobs")
    if [ "$asan" = 1 ]; then
      echo "== running tests under ASan+UBSan"
      (cd build-asan && ctest --output-on-failure -j "$jobs")
    fi
    # Every fuzz target (whatever fuzz/ builds), a bounded time each; a crash, leak or timeout
    # fails the run with its input and the command that reproduces it (fuzz/README.md).
    fuzz_seconds=${PROMPTWALL_CI_FUZZ_SECONDS:-30}
    if [ "$fuzz_seconds" = 0 ]; then
      echo "== fuzzing skipped: PROMPTWALL_CI_FUZZ_SECONDS=0"
    else
      started=$SECONDS
      bash ops/fuzz.sh --seconds "$fuzz_seconds" --jobs "$jobs"
      echo "== fuzz build and runs took $((SECONDS - started))s"
    fi
    ;;
  run)
    echo "== promptwall scan on a sample prompt (built-in rule packs)"
    set +e
    ./build/promptwall scan ops/examples/sample-prompt.txt
    rc=$?
    set -e
    [ "$rc" -le 1 ] || exit "$rc"
    echo "== starting the gateway on its embedded default configuration (Ctrl-C stops it)"
    echo "   base URL  http://127.0.0.1:8080/openai/v1  (also /gemini, /anthropic, /mistral)"
    echo "   proxy     http://127.0.0.1:3128            (TLS interception after: build/promptwall ca init)"
    echo "   admin     http://127.0.0.1:9090/healthz"
    exec ./build/promptwall serve
    ;;
esac
