// read_ooxml: the text of a Word, Excel or PowerPoint file (OOXML: a zip of XML parts tied together
// by [Content_Types].xml and _rels/*.rels), from every place text hides, each with its Place:
//
//   docx  word/document.xml body (runs joined per paragraph, w:tab '\t', w:br/w:cr '\n'; the first
//         3 non-empty paragraphs prominent), tables (cells '\t', rows '\n', a cell's paragraphs
//         joined by ' '; the first cell of the first table prominent), text boxes (mc:Choice read,
//         mc:Fallback's second copy not), tracked deletions, field codes (a space sets them apart
//         from the text beside them), hidden runs, content
//         controls; headers (prominent) and footers, footnotes and endnotes, comments
//   xlsx  sheet names; each sheet in workbook order as TSV rows, each cell anchored (page = sheet
//         number, cell "B3"): shared and inline strings, numbers as stored (padded to the width of
//         an all-zeros format such as "000000000000", so a CCCD keeps its leading 0), formulas'
//         cached values, booleans, errors; empty cells not expanded (column gaps become tabs up to
//         kMaxGapTabs per row); the first non-empty row of sheet 1 prominent; sheet headers and
//         footers; comments and threaded comments (a legacy comment that only mirrors a threaded
//         one is not read twice)
//   pptx  slides in presentation order (page = slide number; tables as above; a slide's footer
//         placeholder → footer), their notes, their comments; slide masters and layouts without
//         their placeholders' prompt text (a footer placeholder is read: typed text and a tool's
//         prompt look alike there)
//   all   docProps/core.xml, app.xml (company, manager), custom.xml ("name: value") → properties;
//         embedded packages and OLE objects (every package/oleObject relationship) → ctx.read_inner
//
// Parts are found through relationships, never by assumed names; a part a relationship names but
// the zip lacks is skipped (Office itself tolerates that), a part that does not parse stops the
// read (truncated, naming the part). Pure and synchronous; throws nothing for a bad file.
#pragma once

#include "extractors/format_reader.h"
#include "extractors/zip_archive.h"

namespace promptwall::extractors {

inline constexpr size_t kMaxGapTabs = 256;  // tabs one sheet row may spend on empty columns

// `type` is docx, xlsx or pptx (detect_file_type()); `zip` opened and good.
ReadOutcome read_ooxml(FileType type, ZipArchive& zip, TextCollector& collector, ReadContext& ctx);

}  // namespace promptwall::extractors
