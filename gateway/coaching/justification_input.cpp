#include "gateway/coaching/justification_input.h"

#include <cstdint>

#include <openssl/evp.h>

#include "encoding/web_text.h"

namespace promptwall::gateway::coaching {

namespace {

// Length of the UTF-8 sequence starting at text[i] if it is valid (shortest form, no surrogates,
// at most U+10FFFF), else 0.
size_t utf8_sequence(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// Valid UTF-8 without control characters; tab, CR and LF become spaces when `lines` allows them.
std::optional<std::string> clean_text(std::string_view text, bool lines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0) return std::nullopt;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F)) {
      if (c == '\t' || (lines && (c == '\r' || c == '\n'))) out += ' ';
      else return std::nullopt;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return std::string(encoding::trim_ows(out));
}

void add_part(EVP_MD_CTX* ctx, std::string_view part) {
  unsigned char size[8];
  for (int i = 0; i < 8; ++i) size[i] = static_cast<unsigned char>(static_cast<uint64_t>(part.size()) >> (56 - 8 * i));
  EVP_DigestUpdate(ctx, size, sizeof size);
  EVP_DigestUpdate(ctx, part.data(), part.size());
}

}  // namespace

std::string requester_key(const Identity& identity, std::string_view client_ip) {
  return identity.user.empty() ? "address:" + std::string(client_ip) : "user:" + identity.user;
}

std::string requester_name(const Identity& identity, std::string_view client_ip) {
  return identity.user.empty() ? std::string(client_ip) : identity.user;
}

std::string request_digest(const RequestDigestInput& in) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (std::string_view part : {in.method, in.service, in.path, in.content_encoding, in.body}) add_part(ctx, part);
  for (const auto& piece : in.head_pieces_with_findings) add_part(ctx, piece);
  unsigned char digest[32];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::optional<std::string> decode_reason_header(std::string_view value) {
  std::string decoded;
  decoded.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size()) {
      const int hi = encoding::hex_digit_value(value[i + 1]), lo = encoding::hex_digit_value(value[i + 2]);
      if (hi >= 0 && lo >= 0) {
        decoded += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    decoded += value[i];
  }
  return clean_text(decoded, false);
}

std::string bound_reason(std::string_view reason, size_t max_bytes) {
  if (reason.size() <= max_bytes) return std::string(reason);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
  return std::string(reason.substr(0, cut));
}

size_t count_chars(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::optional<JustificationForm> parse_justification_form(std::string_view body) {
  if (body.size() > kMaxFormBytes) return std::nullopt;
  JustificationForm form;
  bool seen_t = false, seen_s = false, seen_reason = false;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string name = encoding::form_decode(pair.substr(0, eq));
    std::string value = encoding::form_decode(pair.substr(eq + 1));
    bool* seen = name == "t" ? &seen_t : name == "s" ? &seen_s : name == "reason" ? &seen_reason : nullptr;
    if (!seen || *seen) return std::nullopt;
    *seen = true;
    if (name == "reason") {
      auto clean = clean_text(value, true);
      if (!clean) return std::nullopt;
      form.reason = std::move(*clean);
    } else {
      (name == "t" ? form.token : form.secret) = std::move(value);
    }
  }
  if (!seen_t || !seen_s) return std::nullopt;
  return form;
}

}  // namespace promptwall::gateway::coaching
