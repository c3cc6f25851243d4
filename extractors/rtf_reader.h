// read_rtf: the text of a Rich Text Format document (RTF 1.9.1). No library for it exists in
// Debian that a C++ program can link, so this is a small hand-written reader, strict and bounded.
//
// Reads:
//   - body text (Place::body): \par, \line, \sect, \page end paragraphs; a table's \cell joins its
//     cells with '\t' and \row ends the row, under Place::table (a paragraph with \intbl);
//   - \header*, \footer* (Place::header / footer; a header repeated word for word, as LibreOffice
//     writes it for its page styles and its section, is read once), \footnote (Place::footnote),
//     \annotation (Place::comment), \*\fldinst (Place::field_code), \shptxt (Place::text_box),
//     and \info's title, subject, author, keywords, comment, operator, company, category and
//     manager (Place::properties; of \upr's two spellings the Unicode \ud one);
//   - characters: \'hh in the code page of the current font (\fcharset / \cpg in \fonttbl) or the
//     document's (\ansicpg; \ansi, \mac, \pc, \pca), decoded through ICU (multi-byte code pages
//     included); \uN as UTF-16 (surrogate pairs joined) followed by \ucN skipped fallback
//     characters; the named characters (\emdash, \lquote, \~, ...).
// Skips what is not text: \*\ destinations it does not know, \fonttbl (after reading its code
// pages), \colortbl, \stylesheet, \pict, \object data, \themedata, \datastore, list tables,
// bookmarks, \binN data.
//
// Bounds: group nesting past kRtfMaxDepth → truncated (no recursion: the group stack is a
// vector); a file that ends inside open groups → truncated, after the text read; control words
// past 32 letters and parameters past 10 digits are cut as the spec caps them. Linear in the file.
// Pure; never throws for bad input; text past max_text_bytes → too_big.
#pragma once

#include <cstddef>
#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

inline constexpr size_t kRtfMaxDepth = 256;

ReadOutcome read_rtf(std::string_view bytes, TextCollector& out, ReadContext& ctx);

}  // namespace promptwall::extractors
