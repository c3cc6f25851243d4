#include "audit/evidence.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <system_error>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

#include "audit/private_file.h"

namespace promptwall::audit {

namespace {

constexpr std::string_view kMask = "\u2022";  // •
constexpr std::string_view kEllipsis = "\u2026";

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// [begin, end) of the code point starting at `i` (a lone continuation byte counts as one).
size_t next_char(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && is_continuation(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}
size_t previous_char(std::string_view s, size_t i) {
  if (i == 0) return 0;
  --i;
  while (i > 0 && is_continuation(static_cast<unsigned char>(s[i]))) --i;
  return i;
}

bool is_ascii_separator(std::string_view ch) {
  if (ch.size() != 1) return false;
  const unsigned char c = static_cast<unsigned char>(ch[0]);
  return c < 0x80 && !std::isalnum(c);
}

// Context is shown as it is except digits (a second number the rules missed) and control
// characters (which would break a one-line view).
void append_context(std::string& out, std::string_view ch) {
  if (ch.size() == 1) {
    const unsigned char c = static_cast<unsigned char>(ch[0]);
    if (c >= '0' && c <= '9') return void(out += kMask);
    if (c < 0x20 || c == 0x7f) return void(out += ' ');
  }
  out += ch;
}

}  // namespace

std::string masked_excerpt(std::string_view text, size_t begin, size_t end, size_t context_chars,
                           const std::vector<std::pair<size_t, size_t>>& also_masked) {
  end = std::min(end, text.size());
  begin = std::min(begin, end);
  while (begin > 0 && is_continuation(static_cast<unsigned char>(text[begin]))) --begin;
  while (end < text.size() && is_continuation(static_cast<unsigned char>(text[end]))) ++end;

  size_t left = begin;
  for (size_t n = 0; n < context_chars && left > 0; ++n) left = previous_char(text, left);
  size_t right = end;
  for (size_t n = 0; n < context_chars && right < text.size(); ++n) right = next_char(text, right);

  std::string out;
  // A context character another finding covers is masked like a match, so no finding shows in
  // clear as another's context (issue 15: the e2e check found a stamp beside a document number).
  auto context = [&](size_t i) {
    const size_t next = next_char(text, i);
    const std::string_view ch = text.substr(i, next - i);
    for (const auto& [b, e] : also_masked)
      if (i < e && next > b) return void(out += is_ascii_separator(ch) ? std::string(ch) : std::string(kMask));
    append_context(out, ch);
  };
  if (left > 0) out += kEllipsis;
  for (size_t i = left; i < begin; i = next_char(text, i)) context(i);

  std::vector<std::string_view> chars;
  for (size_t i = begin; i < end; i = next_char(text, i)) chars.push_back(text.substr(i, next_char(text, i) - i));
  // Long matches keep their first and last two characters; short ones keep nothing.
  const bool keep_ends = chars.size() >= 8;
  out += "\u00ab";  // «
  for (size_t k = 0; k < chars.size(); ++k) {
    const bool kept = keep_ends && (k < 2 || k + 2 >= chars.size());
    if (kept || is_ascii_separator(chars[k])) out += chars[k];
    else out += kMask;
  }
  out += "\u00bb";  // »

  for (size_t i = end; i < right; i = next_char(text, i)) context(i);
  if (right < text.size()) out += kEllipsis;
  return out;
}

EvidenceMaker::EvidenceMaker(std::string key) : key_(std::move(key)) {
  if (key_.size() < 16) throw std::invalid_argument("the evidence key must be at least 16 bytes");
}

EvidenceMaker EvidenceMaker::load_or_create(const std::filesystem::path& file) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto fail = [&](const std::string& why) {
    return std::runtime_error("evidence key " + file.string() + ": " + why);
  };
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1) throw fail("no randomness");
    std::string hex;
    for (unsigned char b : random) {
      hex += kHex[b >> 4];
      hex += kHex[b & 15];
    }
    hex += '\n';
    if (!file.parent_path().empty()) std::filesystem::create_directories(file.parent_path(), ec);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    // EEXIST: another process made it first; read theirs.
    if (fd < 0 && errno != EEXIST) throw fail(std::error_code(errno, std::generic_category()).message());
    if (fd >= 0) {
      const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
      const int err = errno;
      ::close(fd);
      if (!ok) throw fail(std::error_code(err, std::generic_category()).message());
    }
  }
  // Whoever reads the key can test guesses against the trail's hashes: the owner's alone.
  require_private_file(file, "evidence key");
  std::ifstream in(file);
  std::string hex;
  if (!(in >> hex)) throw fail("cannot read it");
  if (hex.size() < 32 || hex.size() % 2 != 0 || hex.find_first_not_of(kHex) != std::string::npos)
    throw fail("expected at least 32 lower-case hex digits");
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2) key += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return EvidenceMaker(std::move(key));
}

MatchEvidence EvidenceMaker::make(std::string_view text, size_t begin, size_t end, std::string where, size_t context_chars,
                                  const std::vector<std::pair<size_t, size_t>>& also_masked) const {
  end = std::min(end, text.size());
  begin = std::min(begin, end);
  MatchEvidence m;
  m.where = std::move(where);
  m.excerpt = masked_excerpt(text, begin, end, context_chars, also_masked);
  m.hmac = hmac_hex(text.substr(begin, end - begin));
  return m;
}

std::string EvidenceMaker::hmac_hex(std::string_view bytes) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(bytes.data()),
            bytes.size(), digest, &length))
    throw std::runtime_error("HMAC-SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace promptwall::audit
