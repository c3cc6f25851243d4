#!/usr/bin/env bash
# Document extraction bench (issue 13): DocumentExtractor's throughput per format (docx, xlsx,
# pptx, odt, pdf, rtf, eml; a ~1 MB and a ~10 MB file each), against Debian's tools on the same
# files in the same run (pdftotext -layout for PDFs; unzip -p of the text parts piped through
# xml_text_dump, expat alone, for the zip formats), and what the sandbox adds per document
# (ExtractionPool with the real `promptwall extract-worker` vs in-process, on those files and on
# three small fixtures of tests/data/documents/other/). Figures are ratios
# against those baselines; bench/README.md, "Document extraction", has a run's table.
#
#   bench/run-extraction-bench.sh                 # make the documents if missing, build, run
#   SECONDS_PER_FILE=5 bench/run-extraction-bench.sh
#   FORMATS="docx pdf" bench/run-extraction-bench.sh
#
# Environment (defaults in brackets): BUILD_DIR [build] (Release recommended), JOBS [2],
# SECONDS_PER_FILE [2] of repeated runs per file and side (3 runs at least; the median is kept),
# FORMATS [all seven], POOL [1] (0: no sandbox table), BUILD_LOCK [none] (a file to flock around
# the build, for a shared build tree), CORPUS [../shared/corpus]. The documents are made once by
# bench/documents/make_bench_documents.py into bench/documents/generated/ (not committed; needs
# python3-docx, python3-openpyxl and LibreOffice; a few minutes). Needs pdftotext (poppler-utils)
# and unzip.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
jobs=${JOBS:-2}
seconds=${SECONDS_PER_FILE:-2}
formats=${FORMATS:-docx xlsx pptx odt pdf rtf eml}
pool=${POOL:-1}
docs="$here/bench/documents/generated"

missing=""
for f in $formats; do
  for size in 1mb 10mb; do [ -f "$docs/$f-$size.$f" ] || missing="$missing $f"; done
done
if [ -n "$missing" ]; then
  echo "== making bench documents:$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ')"
  BENCH_FORMATS="$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ')" \
    /usr/bin/python3 "$here/bench/documents/make_bench_documents.py" ${CORPUS:+"$CORPUS"}
fi

targets="extraction_bench xml_text_dump"
[ "$pool" = 1 ] && targets="$targets promptwall"
build_cmd=(cmake --build "$build" -j "$jobs" --target $targets)
if [ -n "${BUILD_LOCK:-}" ]; then build_cmd=(flock "$BUILD_LOCK" "${build_cmd[@]}"); fi
[ -f "$build/CMakeCache.txt" ] || cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
echo "== building $targets in $build ($(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2))"
"${build_cmd[@]}" > /dev/null

files=()
for f in $formats; do files+=("$docs/$f-1mb.$f" "$docs/$f-10mb.$f"); done
# Small fixtures (7-50 KB): what the sandbox costs a document of the size staff usually attach.
for f in letter.docx letter.pdf message.eml; do files+=("$here/tests/data/documents/other/$f"); done
args=(--seconds "$seconds" --dump "$build/bench/xml_text_dump")
[ "$pool" = 1 ] && args+=(--worker "$build/promptwall")
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$here" rev-parse --short HEAD)"
"$build/bench/extraction_bench" "${args[@]}" "${files[@]}"
