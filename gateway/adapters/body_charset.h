// BodyCharset: what charset a request body is written in, and its text as UTF-8, so that a body
// sent as UTF-16 JSON or as windows-1258 text is scanned as the upstream will read it, not as
// bytes in which a stamp is invisible (issue 12: "nothing leaves unseen").
//
// Which charset (BodyCharset::of):
//   - a UTF-32 or UTF-16 byte order mark wins (RFC 8259 §8.1 readers and browsers honour it over
//     the header); a UTF-8 BOM means UTF-8;
//   - else the Content-Type `charset=` parameter (quoted or not, case-insensitive);
//   - else UTF-8. utf-8, utf8 and us-ascii (a subset of UTF-8) are all "already UTF-8".
// Invariants:
//   - to_utf8() succeeds only when EVERY input byte belongs to a character of the charset: an
//     invalid or truncated sequence, a lone UTF-16 surrogate or an unknown charset name is an
//     error, never a replacement character or a silently shortened text (fail closed).
//   - the output is UTF-8 without a byte order mark, at most 4 bytes per input byte (glibc's
//     charsets never expand more), so the body size limit bounds it.
//   - byte offsets in the output do not map back to the body: text found here cannot be spliced
//     into the original encoding, which is why the extractor marks such segments not rewritable.
// Errors: `error` is English for logs, naming the charset and a byte offset, never body bytes.
// Threads: pure; each call opens its own iconv descriptor (glibc iconv_t is not shareable).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace promptwall::gateway {

class BodyCharset {
 public:
  // The charset of `body` as labelled by `content_type` (see above). bom_size() bytes at the start
  // of the body are the byte order mark, not text.
  static BodyCharset of(std::string_view content_type, std::string_view body);

  // "utf-8" for UTF-8 and its subsets; otherwise the name as given (lower case), e.g. "utf-16le",
  // "windows-1258".
  const std::string& name() const { return name_; }
  bool is_utf8() const { return name_ == "utf-8"; }
  size_t bom_size() const { return bom_size_; }

  struct Text {
    bool ok = false;
    std::string utf8;   // when ok: the body's text (BOM dropped)
    std::string error;  // when not ok: "bytes invalid in windows-1252 at byte 17", "unknown charset x-foo"
  };
  // The body (BOM included: it is skipped here) as UTF-8. For a UTF-8 charset the bytes are only
  // validated and copied.
  Text to_utf8(std::string_view body) const;

 private:
  BodyCharset(std::string name, size_t bom_size) : name_(std::move(name)), bom_size_(bom_size) {}
  std::string name_;
  size_t bom_size_ = 0;
};

}  // namespace promptwall::gateway
