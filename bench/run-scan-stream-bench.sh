#!/usr/bin/env bash
# `promptwall scan` on a large text file: resident memory and MB/s, against the in-process speed
# (scanner_bench's end-to-end pipeline, same build, same run) and, when a before-binary is given,
# against it on a smaller file (issue 14: "any input size in bounded memory, >= 80% of the
# in-process speed"; before, a 128 MB file took 3.2 GB and a 1 GB one did not fit).
#
#   bench/run-scan-stream-bench.sh                       # 1 GB file, then the before-binary on 128 MB
#   bench/run-scan-stream-bench.sh --mb 256 --before-mb 64
#   BEFORE=/tmp/bt-rel/promptwall bench/run-scan-stream-bench.sh
#   NO_BUILD=1 bench/run-scan-stream-bench.sh            # use build/ as it is
#
# The text: scanner_bench's kind of corpus (bench/make-scan-stream-text.py: /work/shared/corpus in
# documents of 1-8 KB, an item line about every 4 KB), written under $WORK (default
# /tmp/promptwall-scan-stream; about 1.2 GB with the 128 MB file). Runs are single-threaded (one
# file), findings to a file. MB = 2^20 bytes, as scanner_bench counts them. Max RSS is
# /usr/bin/time -v's.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-build}
case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
work=${WORK:-/tmp/promptwall-scan-stream}
before=${BEFORE:-/tmp/bt-rel/promptwall}
corpus=${CORPUS:-/work/shared/corpus}
mb=1024
before_mb=128
bench_mb=16
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb=$2; shift 2 ;;
    --before-mb) before_mb=$2; shift 2 ;;
    --bench-mb) bench_mb=$2; shift 2 ;;
    *) echo "usage: $0 [--mb N] [--before-mb N] [--bench-mb N]" >&2; exit 2 ;;
  esac
done

if [ -z "${NO_BUILD:-}" ]; then
  cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target promptwall scanner_bench >/dev/null
fi
promptwall="$build_dir/promptwall"
mkdir -p "$work"
big="$work/text-${mb}m.txt"
small="$work/text-${before_mb}m.txt"

if [ ! -s "$big" ]; then
  python3 "$here/bench/make-scan-stream-text.py" "$corpus" "$big" "$mb"
fi
if [ ! -s "$small" ]; then
  python3 "$here/bench/make-scan-stream-text.py" "$corpus" "$small" "$before_mb"  # a prefix of the big one
fi

# Runs `promptwall scan` on a file: prints "wall-MB/s cpu-MB/s max-RSS-MB findings seconds"
# (cpu: user + system time, what wall would be on an idle core; the machine is often shared).
measure() {
  local bin=$1 file=$2 log="$work/time.log" out="$work/findings.txt"
  set +e
  /usr/bin/time -v "$bin" scan --format text "$file" >"$out" 2>"$log" </dev/null
  local rc=$?
  set -e
  [ "$rc" -le 2 ] || { echo "scan failed ($rc)" >&2; tail -5 "$log" >&2; exit 1; }
  awk -F': ' -v b="$(stat -c %s "$file")" -v f="$(grep -c . "$out")" '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time \(seconds\)/ { c += $2 }
    /System time \(seconds\)/ { c += $2 }
    /Maximum resident set size/ { r = $2 / 1024 }
    END { printf "%.1f %.1f %.0f %s %.1f\n", b / 1048576 / w, b / 1048576 / c, r, f, w }' "$log"
}

# Standard error is a file, so neither binary draws a progress line. A first run on a small file
# fills each binary's database cache (their rule sets differ), so no run pays for a compile.
scan_after() { measure "$promptwall" "$1"; }
printf 'TỐI MẬT\n' > "$work/warm.txt"
"$promptwall" scan "$work/warm.txt" >/dev/null 2>&1 || true
if [ -x "$before" ]; then "$before" scan "$work/warm.txt" >/dev/null 2>&1 || true; fi

echo "scanner_bench (in-process, one document at a time), --mb $bench_mb, best of 3 (MB/s wall, cpu, ms/MB):"
bench_line=$("$build_dir/bench/scanner_bench" --mb "$bench_mb" --reps 3 | tee "$work/scanner_bench.txt" | grep "2. full pipeline")
echo "  $bench_line"
inproc_wall=$(echo "$bench_line" | awk '{ print $(NF-2) }')
inproc_cpu=$(echo "$bench_line" | awk '{ print $(NF-1) }')

row() { printf "%-46s %9s %9s %11s %9s %8s\n" "$@"; }
echo
row "promptwall scan" "MB/s wall" "MB/s cpu" "max RSS MB" "findings" "seconds"
read -r big_wall big_cpu big_rss big_findings big_secs < <(scan_after "$big")
row "after, $(basename "$big")" "$big_wall" "$big_cpu" "$big_rss" "$big_findings" "$big_secs"
read -r small_wall small_cpu small_rss small_findings small_secs < <(scan_after "$small")
row "after, $(basename "$small")" "$small_wall" "$small_cpu" "$small_rss" "$small_findings" "$small_secs"
if [ -x "$before" ]; then
  read -r b_wall b_cpu b_rss b_findings b_secs < <(measure "$before" "$small")
  row "before, $(basename "$small")" "$b_wall" "$b_cpu" "$b_rss" "$b_findings" "$b_secs"
fi
echo
awk -v w="$big_wall" -v c="$big_cpu" -v iw="$inproc_wall" -v ic="$inproc_cpu" -v f="$(basename "$big")" \
  'BEGIN { printf "scan of %s / in-process (scanner_bench full pipeline): %.2fx wall, %.2fx cpu\n", f, w / iw, c / ic }'
if [ -x "$before" ]; then
  awk -v w="$small_wall" -v c="$small_cpu" -v bw="$b_wall" -v bc="$b_cpu" -v r="$small_rss" -v br="$b_rss" -v f="$(basename "$small")" \
    'BEGIN { printf "after / before on %s: %.2fx wall, %.2fx cpu; max RSS %.0f MB against %.0f MB (%.3fx)\n", f, w / bw, c / bc, r, br, r / br }'
fi
