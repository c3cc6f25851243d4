// libFuzzer target for gateway/coaching/justification_input: the justification form's POST body
// and the X-Promptwall-Justification header's value, as a client sent them. Beyond "no crash, no
// sanitizer report" it checks:
//   - parse_justification_form() refuses a body over kMaxFormBytes; what it accepts has a reason
//     of valid UTF-8 without control characters, with no surrounding spaces;
//   - decode_reason_header() gives the same kind of text or nothing;
//   - bound_reason() of either is at most the bound, a prefix of it, and still valid UTF-8;
//   - the request digest is 64 hex digits and changes when the body does.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/coaching/justification_input.h"

namespace {

using namespace promptwall::gateway::coaching;

void require(bool ok) {
  if (!ok) std::abort();
}

bool valid_clean_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    if (n == 1 && (c < 0x20 || c == 0x7F)) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return s.empty() || (s.front() != ' ' && s.back() != ' ');
}

void check_reason(const std::string& reason) {
  require(valid_clean_utf8(reason));
  for (size_t bound : {size_t(0), size_t(1), size_t(7), size_t(500)}) {
    const std::string cut = bound_reason(reason, bound);
    require(cut.size() <= bound || cut == reason);
    require(reason.compare(0, cut.size(), cut) == 0);
    // A cut on a code point boundary: valid, though it may end in a space now.
    const std::string trimmed = cut.empty() || cut.back() != ' ' ? cut : cut.substr(0, cut.find_last_not_of(' ') + 1);
    require(valid_clean_utf8(trimmed.empty() || trimmed.front() != ' ' ? trimmed : std::string()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto form = parse_justification_form(input)) {
    require(input.size() <= kMaxFormBytes);
    check_reason(form->reason);
  }
  if (const auto reason = decode_reason_header(input)) check_reason(*reason);
  const RequestDigestInput a{"POST", "openai", "/v1/chat/completions", "", input};
  const std::string digest = request_digest(a);
  require(digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos);
  const std::string edited = std::string(input) + "!";  // kept alive: the digest input only views it
  const RequestDigestInput b{"POST", "openai", "/v1/chat/completions", "", edited};
  require(request_digest(b) != digest);
  return 0;
}
