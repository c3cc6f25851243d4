// ExtractedDocument: the text a file holds, in parts, each part knowing where in the file it sits;
// or why the file could not be read. The vocabulary of extractors/ (docs/architecture.md,
// "Documents"): format readers fill a TextCollector, DocumentExtractor returns one of these, the
// sandbox carries it across a pipe (document_wire.h), the gateway scans each part as a segment.
//
// Invariants:
//   - every TextPart::text is valid UTF-8 (readers replace invalid bytes with U+FFFD);
//   - a paragraph (Word runs joined, a PDF text line, a cell) ends with '\n'; the cells of one
//     table row are joined with '\t', so a sheet or a Word table reads as TSV and the structure
//     pass (classifiers/structure_map.h) finds each value's column header;
//   - anchors are in ascending offset order, each inside [0, text.size()]; anchors[0].offset == 0
//     when there are any; the place of a byte is its part's place refined by the last anchor at or
//     before it (place_at());
//   - unscannable != none means the file was NOT read completely: the gateway must apply that
//     cause's policy (block by default); `parts` may still hold what was read before the stop, and
//     is scanned too (a finding there refuses the request whatever the cause's policy).
//   - `detail` is English for logs and audit notes: sizes, limits, counts, format names, never
//     document text (entry names inside an archive count as text: not in `detail` either).
// Plain values; no behaviour beyond naming and locating.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::extractors {

// What a file is, from its bytes (file_type.h): never from its name or declared media type.
enum class FileType : uint8_t {
  unknown,
  text,   // UTF-8/16/32 or a single-byte charset ICU's detector names; csv, md, source code...
  html,
  xml,
  json,
  rtf,
  pdf,
  docx, xlsx, pptx,  // OOXML (a zip with [Content_Types].xml naming the main part)
  odt, ods, odp,     // ODF (a zip whose first entry `mimetype` names it)
  doc, xls, ppt,     // legacy binary Office (an OLE2 compound file with that stream)
  zip,               // any other zip archive: its entries are read as files
  eml,               // an RFC 5322 message (.eml), MIME parts read as text or files
  image,             // PNG, JPEG, GIF, WebP, TIFF, BMP, HEIC: no text layer (OCR is not done)
};
// "docx", "pdf", "unknown": the spelling in logs, audit events, metrics and `scan` output.
std::string_view to_string(FileType t);
// The media type to record for it ("application/vnd.openxmlformats-officedocument.wordprocessingml.document").
std::string_view media_type(FileType t);

// Why a file was not (completely) read. Each cause has its own policy knob (`policy.unscannable`,
// docs/configuration.md), block by default. The spellings are the knob's keys and never change.
enum class Unscannable : uint8_t {
  none,
  encrypted,            // password protection (PDF, OOXML in an OLE2 container, zip entries)
  image_only,           // no text to read: an image, a scanned PDF with no text layer
  too_big,              // over max_file_bytes or max_text_bytes
  truncated,            // cut short or corrupt (a zip without its directory, a PDF that will not open)
  unknown_type,         // the bytes name no format the gateway reads
  extractor_failed,     // the reader failed, crashed, or the sandbox killed it at a memory/CPU limit
  timeout,              // over time_per_file
  zip_bomb,             // inflated bytes or ratio over the limits, overlapping or duplicate entries
  xml_bomb,             // entity expansion (expat's Billion-Laughs protection), a DTD that declares entities
  too_many_entries,     // an archive with more than max_entries entries
  too_deep,             // archives or attachments nested deeper than max_nesting
  unscanned_reference,  // a request cites a file id the gateway never scanned (not made by a reader)
};
std::string_view to_string(Unscannable u);  // "zip_bomb"
std::optional<Unscannable> unscannable_from_string(std::string_view s);
// Short Vietnamese and English words for a staff member: "tệp được bảo vệ bằng mật khẩu" / "password-protected".
std::string_view describe_vi(Unscannable u);
std::string_view describe_en(Unscannable u);

// Where text sits in a document, for people and for rules that weigh a stamp by its position.
enum class Place : uint8_t {
  body,              // the main text (Word body, ODF text, PDF page text, RTF, plain text)
  header,            // page header
  footer,            // page footer
  table,             // a table in the body (Word, ODF text, HTML)
  footnote,          // footnotes and endnotes
  comment,           // review comments
  text_box,          // text boxes and shapes (Word's mc:Choice; the mc:Fallback copy is not read)
  tracked_deletion,  // deleted text still in the file (w:del)
  field_code,        // field instructions (w:instrText)
  hidden_text,       // runs formatted hidden (w:vanish)
  properties,        // document properties (docProps/core.xml, app.xml, custom.xml, meta.xml, PDF info)
  sheet,             // spreadsheet cells
  sheet_name,        // the names of sheets
  slide,             // slide text
  slide_notes,       // speaker notes
  slide_master,      // slide masters and layouts
  file_name,         // the name of a file inside an archive or attached to an e-mail
  email_header,      // Subject, From, To... of an e-mail
  attachment,        // reserved for the future; readers use the inner document's own places
};
std::string_view to_string(Place p);   // "header": scan --format jsonl, audit events
std::string_view describe_vi(Place p); // "đầu trang"
std::string_view describe_en(Place p); // "page header"

// Where a piece of text sits. Only numbers and the file's own structure: no document text, so a
// location may be shown to the staff member and written to the audit trail (inner file names are
// the exception, see `inner`).
struct SpanPlace {
  Place place = Place::body;
  uint32_t page = 0;    // 1-based page (PDF, when known), slide (pptx, odp) or sheet number (xlsx, ods); 0 unknown
  std::string cell = {};   // "B3" in a sheet; "" elsewhere (every member has an initializer, so
                           // SpanPlace{Place::header} is complete for -Wmissing-field-initializers)
  std::string inner = {};  // the path of the file inside an archive or e-mail this text came from
                        // ("lists/q3.xlsx", nested with '/'), "" for the top file
  bool prominent = false;  // where a marking is stamped: the first lines of page one, the first
                           // table cell, a page header (stamp rules may weigh this)
  bool operator==(const SpanPlace&) const = default;
};
// "page header", "sheet 2, cell B3", "page 3", "lists/q3.xlsx, slide 2 notes"
std::string describe_en(const SpanPlace& p);
std::string describe_vi(const SpanPlace& p);  // "đầu trang", "trang tính 2, ô B3", "trang 3"

struct Anchor {
  uint32_t offset = 0;  // into TextPart::text: the place applies from here on
  SpanPlace place;
};

struct TextPart {
  SpanPlace place;       // the part's own place (also anchors[0] when anchors are given)
  std::string source;    // the container part it came from, for logs: "word/header1.xml", "page 3"
  std::string text;
  std::vector<Anchor> anchors;

  // The place of the byte at `offset`: the last anchor at or before it, else `place`.
  const SpanPlace& place_at(size_t offset) const;
};

struct ExtractedDocument {
  std::string name;          // the file name as the client gave it ("" when none)
  FileType type = FileType::unknown;
  uint64_t size = 0;         // bytes of the file
  std::string sha256;        // lower-case hex of the file's bytes
  std::vector<TextPart> parts;
  Unscannable unscannable = Unscannable::none;
  std::string detail;        // English, no document text: "inflated 1.2 GB over the 256 MiB limit"
  uint32_t pages = 0;        // pages, slides or sheets when the format has them
  double seconds = 0;        // time spent reading (in the worker, for the sandboxed pool)

  bool complete() const { return unscannable == Unscannable::none; }
  size_t text_bytes() const;
};

}  // namespace promptwall::extractors
