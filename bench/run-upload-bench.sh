#!/usr/bin/env bash
# Upload bench (issue 13): the latency a staff member feels uploading a ~1 MB .docx (OpenAI
# `POST /v1/files`, multipart) through promptwall, which reads it in a sandboxed worker and scans
# every part of its text, against the same upload sent straight to the fake upstream, in one run.
# Prints p50/p90 of each and the ratio; also a stamped document's refusal latency. The document is
# read and scanned in full in both promptwall series (monitor mode lets the first through).
#
#   bench/run-upload-bench.sh                       # builds promptwall in build/
#   PROMPTWALL_BIN=/path/to/promptwall N=50 bench/run-upload-bench.sh
#
# Environment: BUILD_DIR [build] or PROMPTWALL_BIN; N [40] uploads per series (after 3 warm-up);
# BASE_PORT [28500] (three ports); KEEP=1 keeps the work directory. Needs node, curl and
# /usr/bin/python3 with python3-docx (and what make_bench_documents.py needs, if its documents are
# not made yet).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-40}
base_port=${BASE_PORT:-28500}
die() { echo "run-upload-bench: $*" >&2; exit 1; }
for tool in node curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done

if [ -n "${PROMPTWALL_BIN:-}" ]; then
  bin=$PROMPTWALL_BIN
else
  build_dir=${BUILD_DIR:-build}
  case "$build_dir" in /*) ;; *) build_dir="$here/$build_dir" ;; esac
  cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j "$(nproc)" --target promptwall >/dev/null
  bin="$build_dir/promptwall"
fi
[ -x "$bin" ] || die "no promptwall binary at $bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/pw-upload-bench.XXXXXX")
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT

up_port=$base_port gw_port=$((base_port + 1)) admin_port=$((base_port + 2))

# The documents: bench/documents/make_bench_documents.py's ~1 MB docx of ordinary Vietnamese office
# text (made first when missing), and the same with a stamp in its page header.
generated="$here/bench/documents/generated"
[ -f "$generated/docx-1mb.docx" ] || /usr/bin/python3 "$here/bench/documents/make_bench_documents.py" >/dev/null
[ -f "$generated/docx-1mb.docx" ] || die "no $generated/docx-1mb.docx"
cp "$generated/docx-1mb.docx" "$work/clean.docx"
/usr/bin/python3 - "$work" <<'PY'
import os, sys, docx
work = sys.argv[1]
d = docx.Document(os.path.join(work, "clean.docx"))
d.sections[0].header.paragraphs[0].text = "TỐI MẬT"
d.save(os.path.join(work, "stamped.docx"))
PY

cat >"$work/promptwall.yaml" <<YAML
listen:
  gateway: 127.0.0.1:$gw_port
  admin: 127.0.0.1:$admin_port
rules:
  packs: [builtin]
  cache_dir: $work/cache
services:
  - {name: openai, prefix: /openai, upstream: "http://127.0.0.1:$up_port", schema: openai}
  # The bench text (the scanner corpus) carries findings on purpose: in monitor mode the document
  # is read and scanned in full, then forwarded, so the series measures the whole cost.
  - {name: openai-monitor, prefix: /monitor, upstream: "http://127.0.0.1:$up_port", schema: openai,
     policy: {mode: monitor}}
audit:
  dir: $work/audit
  signing_key: $work/audit-signing.pem
  evidence_key: $work/audit-evidence.key
log_level: warn
YAML

node "$here/tests/e2e/fake_upstream.js" --port "$up_port" --record "$work/upstream.jsonl" >"$work/upstream.out" 2>&1 &
pids+=($!)
"$bin" serve --config "$work/promptwall.yaml" 2>"$work/promptwall.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$admin_port/readyz" 2>/dev/null && curl -s -o /dev/null "http://127.0.0.1:$up_port/" && break
  sleep 0.1
done

upload() {  # upload URL FILE → "STATUS SECONDS"
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Authorization: Bearer sk-bench' \
    -F purpose=assistants -F "file=@$2;type=application/vnd.openxmlformats-officedocument.wordprocessingml.document" "$1"
}
series() {  # series NAME URL FILE EXPECTED_STATUS
  local out="$work/$1.times"
  : >"$out"
  for _ in 1 2 3; do upload "$2" "$3" >/dev/null; done
  for _ in $(seq 1 "$n"); do
    read -r status seconds < <(upload "$2" "$3")
    [ "$status" = "$4" ] || die "$1: status $status, expected $4 (logs: $work)"
    echo "$seconds" >>"$out"
  done
}
pct() { sort -n "$1" | awk -v p="$2" '{v[NR]=$1} END {i=int(NR*p/100+0.5); if (i<1) i=1; printf "%.1f", v[i]*1000}'; }

direct="http://127.0.0.1:$up_port/v1/files"
through="http://127.0.0.1:$gw_port/monitor/v1/files"
enforced="http://127.0.0.1:$gw_port/openai/v1/files"
series direct "$direct" "$work/clean.docx" 200
series gateway "$through" "$work/clean.docx" 200
series refused "$enforced" "$work/stamped.docx" 403

size=$(stat -c %s "$work/clean.docx")
echo "upload of a $((size / 1024)) KiB docx (multipart POST /v1/files), $n each, ms:"
printf '  %-34s p50 %7s  p90 %7s\n' "straight to the fake upstream" "$(pct "$work/direct.times" 50)" "$(pct "$work/direct.times" 90)"
printf '  %-34s p50 %7s  p90 %7s\n' "through promptwall (read, forwarded)" "$(pct "$work/gateway.times" 50)" "$(pct "$work/gateway.times" 90)"
printf '  %-34s p50 %7s  p90 %7s\n' "through promptwall (stamped, 403)" "$(pct "$work/refused.times" 50)" "$(pct "$work/refused.times" 90)"
awk -v a="$(pct "$work/gateway.times" 50)" -v b="$(pct "$work/direct.times" 50)" \
  'BEGIN { printf "  ratio p50 gateway/direct: %.2fx (+%.1f ms)\n", a / b, a - b }'
