// read_text_file: plain text, HTML, XML and JSON files as UTF-8 text, one paragraph per line.
//
// Charset: a byte order mark (UTF-8/16/32) decides; else valid UTF-8 is taken as it is; else an
// HTML file's own <meta charset> (in its first 4 KiB) when ICU knows the name; else the charset
// ICU's detector names (ucsdet). Bytes invalid in that charset become U+FFFD. A Vietnamese legacy
// file (windows-1258 or TCVN3 read as Latin-1) comes out as Latin-1 look-alikes, which the
// classifiers' legacy view decodes (classifiers/legacy_decoder.h): they are passed through.
//
// Per type:
//   text, json, xml  every line as a paragraph of one body part: the classifiers' structure pass
//                    reads JSON and XML layout, tables and key-value lines from the text itself;
//   html             markup stripped: text between tags, with whitespace collapsed as a browser
//                    does (kept in <pre>); block elements end paragraphs; a table's cells end with
//                    '\t' and its rows with '\n', under Place::table; character references
//                    decoded (numeric ones, and the named ones Vietnamese and common text uses; an
//                    unknown name stays as written); script and style contents and comments are
//                    read too (an AI reads them); the attribute values a person or an AI sees
//                    (alt, title, value, placeholder, content, aria-label, label) are read as text.
//
// Pure; never throws for bad input; text past max_text_bytes → too_big.
#pragma once

#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

// `type` is text, html, xml or json (any other is read as text).
ReadOutcome read_text_file(FileType type, std::string_view bytes, TextCollector& out, ReadContext& ctx);

// The file's bytes as UTF-8 (the charset rules above); `charset` receives the name decoded from
// ("UTF-8" when the bytes were already). Shared with the e-mail reader for its parts.
std::string text_as_utf8(std::string_view bytes, std::string_view declared_charset, std::string* charset = nullptr);

// HTML already in UTF-8 (the html rules above) into the current part. For the e-mail reader's
// text/html parts, whose charset the MIME header gave.
void write_html_text(std::string_view utf8, TextCollector& out);

}  // namespace promptwall::extractors
