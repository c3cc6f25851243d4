// read_legacy_office: binary Office 97-2003 files (.doc, .xls, .ppt).
//
//   doc  antiword -w 0 -m UTF-8.txt   a paragraph per line; its tables' "|cell |cell |" rows
//                                     become tab-separated rows under Place::table
//   xls  xls2csv -d utf-8 -q 0 -c TAB  rows as tab-separated cells under Place::sheet, a sheet per
//                                     form feed (page = sheet number; the tool prints no sheet names)
//   ppt  read here, not by catppt (which prints nothing for the .ppt files LibreOffice writes and
//        exits 0): the PowerPoint Document stream (compound_file.h) walked record by record, its
//        text atoms placed by their containers: slides (page = slide number), speaker notes (the
//        slide they belong to), masters (slide_master), header/footer strings
//
// antiword and xls2csv run as child processes. The file's bytes reach the tool through an
// anonymous memory file (memfd_create) it opens as /proc/self/fd/3: nothing is written to disk.
// The child is started with posix_spawn (absolute path, an environment of LANG only), stdin from
// /dev/null, stdout read here up to what the collector still takes, stderr kept (4 KiB at most)
// only to recognise a password-protected file. It is killed at limits.time_per_file.
//
// Outcomes: tool not installed → extractor_failed ("antiword is not installed"); a non-zero exit,
// or a complaint and no text (xls2csv exits 0 on files it cannot read) → extractor_failed, or
// encrypted when the tool says the file is; over time → timeout; output past max_text_bytes →
// too_big (the child is killed). A .ppt that is no compound file or has no PowerPoint Document
// stream → extractor_failed; one with an EncryptedSummary stream → encrypted.
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
