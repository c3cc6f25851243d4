// read_legacy_office: binary Office 97-2003 files (.doc, .xls, .ppt) through Debian's converters,
// run as child processes:
//
//   doc  antiword -w 0 -m UTF-8.txt   a paragraph per line; its tables' "|cell |cell |" rows
//                                     become tab-separated rows under Place::table
//   xls  xls2csv -d utf-8 -q 0 -c TAB  rows as tab-separated cells under Place::sheet, a sheet per
//                                     form feed (page = sheet number; the tool prints no sheet names)
//   ppt  catppt -d utf-8              a paragraph per line under Place::slide (no slide numbers)
//
// The file's bytes reach the tool through an anonymous memory file (memfd_create) it opens as
// /proc/self/fd/N: nothing is written to disk. The child is started with posix_spawn (absolute
// path, empty environment but for LANG), stdin from /dev/null, stdout read here up to what the
// collector still takes, stderr kept (4 KiB at most) only to recognise a password-protected file.
// It is killed at limits.time_per_file.
//
// Outcomes: tool not installed → extractor_failed ("antiword is not installed"); a non-zero exit,
// or a complaint and no text (xls2csv and catppt exit 0 on files they cannot read) →
// extractor_failed, or encrypted when the tool says the file is; over time → timeout; output past
// max_text_bytes → too_big (the child is killed).
//
// Legacy Vietnamese fonts (TCVN3, VNI) come out as Latin-1 look-alikes ("TèI MËT"): passed through
// unchanged for the classifiers' legacy view. The tools are old C programs: this runs only inside
// the sandboxed worker, whose seccomp filter must allow memfd_create, pipe2 and the spawn.
// Thread-safe (no shared state); it waits for its child, so no zombie outlives a call.
#pragma once

#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

// `type` is doc, xls or ppt (any other is extractor_failed).
ReadOutcome read_legacy_office(FileType type, std::string_view bytes, TextCollector& out, ReadContext& ctx);

}  // namespace promptwall::extractors
