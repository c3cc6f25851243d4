// libFuzzer target for adapters/multipart_form: the strict multipart/form-data reader whose parts
// the gateway scans (a form it misreads would let text leave unscanned). Input: the Content-Type
// value, a newline, then the body. Beyond "no crash, no sanitizer report", it checks the parser's
// stated invariants on every form it accepts:
//   - parts are in body order and each content range lies inside the body, after the previous
//     part's content;
//   - no part's content holds the delimiter (CRLF "--" boundary): the parts are exactly what a
//     reader splitting at the delimiter would see;
//   - the body starts with "--" boundary (no preamble is ever accepted);
//   - a form accepted as form-data is accepted with the same parts in related mode (which only
//     drops the Content-Disposition requirement).
// Inputs are bounded at 64 KiB.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/adapters/multipart_form.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

// The boundary, for the invariants, when the Content-Type has the one simple spelling
// "multipart/form-data; boundary=B" (B without quotes, ';', spaces or backslashes); else "".
std::string boundary_of(std::string_view content_type) {
  constexpr std::string_view kPrefix = "multipart/form-data; boundary=";
  if (!content_type.starts_with(kPrefix)) return {};
  const std::string_view b = content_type.substr(kPrefix.size());
  if (b.empty() || b.find_first_of("\"; \t\\") != std::string_view::npos) return {};
  return std::string(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, nl);
  const std::string_view body = input.substr(nl + 1);
  using promptwall::gateway::MultipartKind;
  // multipart/related (Google's multipart upload) shares the framing; its parts need no name. A
  // form-data body accepted strictly is accepted the same way in related mode.
  const auto related = promptwall::gateway::parse_multipart_form(content_type, body, MultipartKind::related);
  if (!related.ok) require(!related.error.empty());
  const auto form = promptwall::gateway::parse_multipart_form(content_type, body);
  if (!form.ok) {
    require(!form.error.empty());
    return 0;
  }
  require(related.ok && related.parts.size() == form.parts.size());
  size_t previous_end = 0;
  for (const auto& part : form.parts) {
    require(part.content_begin >= previous_end && part.content_begin <= part.content_end && part.content_end <= body.size());
    previous_end = part.content_end;
  }
  const std::string boundary = boundary_of(content_type);
  if (!boundary.empty()) {
    require(body.starts_with("--" + boundary));
    for (const auto& part : form.parts)
      require(body.substr(part.content_begin, part.content_end - part.content_begin).find("\r\n--" + boundary) ==
              std::string_view::npos);
  }
  return 0;
}
