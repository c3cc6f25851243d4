// MultipartForm: the parts of a multipart/form-data body (RFC 7578, RFC 2046 §5.1), so that a
// form's text fields are scanned like any text and its files are known as files. Beast has no
// multipart parser; this one is strict, because what it cannot read exactly must be refused,
// not guessed at (an upstream that splits the body differently would read unscanned text).
//
// Accepted: the boundary from the Content-Type `boundary` parameter (1 to 70 characters, quoted
// or not); the body starts with "--boundary" (no preamble), parts are separated by
// CRLF "--boundary" CRLF, and the body ends with CRLF "--boundary--" and at most a CRLF. Each part
// has CRLF-terminated header lines, an empty line, then its content; a Content-Disposition of
// `form-data` with a `name` is required; `filename` and Content-Type are read when present.
// Refused (ok = false, with an English error holding offsets, never body bytes): anything else,
// including a missing or malformed boundary, a preamble, a part without a name, a header line
// without ':', a Content-Transfer-Encoding other than 7bit/8bit/binary (a base64 part would hide
// its text), and bytes after the closing delimiter.
// Invariants of a parsed form: parts are in body order; each content range lies inside the body
// and between its part's header block and the next delimiter; names and filenames are the header
// values with their quotes removed (backslash escapes undone).
// Threads: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::gateway {

struct MultipartPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename, when the part is a file
  std::string content_type;             // the part's Content-Type, lower case without parameters; "" if none
  std::string charset;                  // its charset parameter, lower case; "" if none
  size_t content_begin = 0;             // the part's content: body[content_begin, content_end)
  size_t content_end = 0;
};

struct MultipartForm {
  bool ok = false;
  std::vector<MultipartPart> parts;
  std::string error;  // when !ok: "part 2 has no name", "no closing delimiter"
};

// form_data: RFC 7578 as above. related: multipart/related and multipart/mixed (RFC 2387, 2046;
// Google's multipart upload: a JSON metadata part, then the file): the same framing, but a part
// needs no Content-Disposition (its `name` and `filename` are read when one is given).
enum class MultipartKind : uint8_t { form_data, related };

// `content_type` is the whole Content-Type header value (with its boundary parameter).
MultipartForm parse_multipart_form(std::string_view content_type, std::string_view body,
                                   MultipartKind kind = MultipartKind::form_data);

}  // namespace promptwall::gateway
