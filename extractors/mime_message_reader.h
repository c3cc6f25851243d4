// read_mime_message: an Internet message (RFC 5322, MIME: RFC 2045-2047, 2231; an .eml file) as text.
//
//   - the top headers a person reads (Subject, From, To, Cc, Bcc, Reply-To, Sender, Date,
//     Organization, Keywords, Comments, Thread-Topic) as "Name: value" paragraphs of an
//     email_header part, encoded-words (=?charset?B|Q?...?=) decoded; the Subject is prominent;
//   - text/plain and text/html leaves (not marked as attachments) as body parts, after their
//     Content-Transfer-Encoding (base64, quoted-printable; 7bit, 8bit, binary as they are) and
//     their charset (ICU, text_file_reader.h's rules); HTML without its markup. Both halves of a
//     multipart/alternative are read: the HTML may hold what the plain text does not (hidden
//     text, a different body), so their text is not assumed to be the same;
//   - every other leaf (attachments, inline images, message/rfc822, text with a file name and
//     Content-Disposition: attachment) is decoded and handed to ctx.read_inner under its file name
//     (filename / filename* (RFC 2231) / name, else "attachment-N"; a message/rfc822 without one
//     is "message-N.eml"); its cause stops the read.
//
// The MIME structure parser is written here, strict and bounded: multipart nesting past
// kMimeMaxDepth → too_deep; more than kMimeMaxParts parts → too_many_entries; a multipart without
// a boundary parameter, or without its closing delimiter (a message cut short), → truncated
// after what was read. Preambles and epilogues are not text (MIME says to ignore them). No
// recursion beyond kMimeMaxDepth levels; every scan is linear in the message.
//
// Pure; never throws for bad input; text past max_text_bytes → too_big.
#pragma once

#include <cstddef>
#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

inline constexpr size_t kMimeMaxDepth = 16;
inline constexpr size_t kMimeMaxParts = 1000;

ReadOutcome read_mime_message(std::string_view bytes, TextCollector& out, ReadContext& ctx);

}  // namespace promptwall::extractors
