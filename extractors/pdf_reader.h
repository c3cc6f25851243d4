// read_pdf: the text of a PDF, page by page, through poppler-cpp (Debian's libpoppler-cpp).
//
//   - page text in poppler's physical layout (columns kept apart by spaces, as `pdftotext -layout`
//     prints it), one paragraph per line, in one body part anchored at each page (page = its
//     number); the first kPdfProminentLines lines of page 1 are prominent (where a marking is stamped);
//   - the document information dictionary (title, subject, author, keywords, creator) as a
//     properties part, one value per paragraph;
//   - embedded files (attachments, a portfolio's documents) through ctx.read_inner under their names.
//
// Outcomes: a document poppler cannot load, or one without %%EOF in its last KiB (poppler repairs
// and opens a file cut short; what it read is kept) → truncated; one that needs a password to open →
// encrypted (one encrypted under an empty user password opens and is read; owner restrictions on
// copying do not stop reading); pages but no text on any of them and nothing embedded →
// image_only (a scan: OCR is not done); text over max_text_bytes → too_big; past
// limits.time_per_file between pages → timeout; an embedded file's own cause stops the read.
//
// poppler enforces no memory or time bounds of its own: this runs inside the sandboxed worker.
// Its diagnostics are sent nowhere (a hostile file could otherwise flood the log); that switch is
// poppler's one process-wide setting, made once. Thread-safe as poppler-cpp documents are: each
// call loads its own document.
#pragma once

#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

// Lines of page 1 marked prominent: an official letter's stamp, number and title sit there.
inline constexpr size_t kPdfProminentLines = 8;

ReadOutcome read_pdf(std::string_view bytes, TextCollector& out, ReadContext& ctx);

}  // namespace promptwall::extractors
