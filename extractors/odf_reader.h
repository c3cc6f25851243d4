// read_odf: the text of an OpenDocument text, spreadsheet or presentation (odt, ods, odp: a zip
// whose parts content.xml, styles.xml and meta.xml hold the text), each piece with its Place:
//
//   content.xml  text:p / text:h paragraphs (spans joined, text:s as its N spaces up to
//                kMaxOdfSpaces, text:tab '\t', text:line-break '\n'); odt: the first 3 non-empty
//                paragraphs prominent, tables as TSV (place table, the first cell of the first
//                table prominent), frames' text boxes (text_box), sections hidden with
//                text:display="none" (hidden_text); ods: each table:table a sheet (its name a
//                sheet_name part), cells anchored "B3" with their value (office:value for numbers,
//                keeping the zeros a format shows: a CCCD stored as 1099012345 and shown
//                001099012345 reads as shown), empty repeated cells and rows skipped, not
//                expanded, non-empty ones expanded up to kMaxOdfRepeat; odp: each draw:page a
//                slide (page = slide number), its presentation:notes slide_notes, its
//                comments (LibreOffice's officeooo:annotation) comment; presentation:footer-decl
//                → footer, header-decl → header (declared once for the pages naming them)
//   everywhere   office:annotation → comment, text:note bodies → footnote, the deletions kept
//                in text:tracked-changes → tracked_deletion (each its own part, after the body)
//   styles.xml   master pages: style:header*/style:footer* → header (prominent) / footer; odp
//                master slides' frames → slide_master; page-number, page-count, date and time
//                fields on master pages are not read (the tool computes them: "<number>")
//   meta.xml     title, subject, description, keywords, author, user-defined ("name: value")
//                → properties
//
// A package whose META-INF/manifest.xml declares encryption data is `encrypted` (ODF encrypts
// parts, not zip entries). A missing content.xml or one that does not parse is `truncated`.
// Pure and synchronous; throws nothing for a bad file.
#pragma once

#include "extractors/format_reader.h"
#include "extractors/zip_archive.h"

namespace promptwall::extractors {

inline constexpr uint32_t kMaxOdfSpaces = 1024;  // one text:s element's c
inline constexpr uint32_t kMaxOdfRepeat = 100;   // copies of one repeated non-empty cell or row

// `type` is odt, ods or odp (detect_file_type()); `zip` opened and good.
ReadOutcome read_odf(FileType type, ZipArchive& zip, TextCollector& collector, ReadContext& ctx);

}  // namespace promptwall::extractors
