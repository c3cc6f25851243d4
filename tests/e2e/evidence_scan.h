// The search behind `e2e.no_raw_secrets`: every spelling in which a raw sensitive value could sit
// in a log, a trail line, an SQLite page or a SIEM message, and a scan of files for them.
//
// A value is looked for as sent (NFC) and decomposed (NFD), in upper and lower case, with its
// non-ASCII characters JSON-escaped (\u1ec6, \u1EC6: how a JSON writer that escapes would hold
// it), percent-encoded (%E1%BB%86, %e1%bb%86, spaces as + or %20: a logged path or query), and
// folded to ASCII without marks, ignoring case ("tuyet mat": a folded view written out). Masked
// excerpts and keyed hashes hold none of these, so they never hit.
//
// Pure functions over bytes (ICU for normalisation and case); no state, any thread. Errors: a
// file that cannot be read is reported as a hit with what went wrong, so it can never pass
// unread.
#pragma once

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::e2e {

struct Spelling {
  std::string bytes;
  std::string how;              // "as sent", "NFD", "JSON \\u (lower hex)"...
  bool ascii_case_insensitive = false;  // searched in the file's ASCII-lowercased copy
};

namespace evidence_detail {

inline std::string to_utf8(const icu::UnicodeString& u) {
  std::string s;
  u.toUTF8String(s);
  return s;
}

inline std::string normalized(const icu::UnicodeString& u, bool nfd) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nfd ? icu::Normalizer2::getNFDInstance(status) : icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return to_utf8(u);
  icu::UnicodeString out = n->normalize(u, status);
  return U_FAILURE(status) ? to_utf8(u) : to_utf8(out);
}

inline std::string json_escaped(std::string_view utf8, bool upper_hex) {
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  std::string out;
  for (int32_t i = 0; i < u.length(); ++i) {
    const char16_t c = u.charAt(i);  // UTF-16 units: a JSON escape writes surrogates as two
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, upper_hex ? "\\u%04X" : "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

inline std::string percent_encoded(std::string_view bytes, bool upper_hex, bool space_as_plus) {
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, upper_hex ? "%%%02X" : "%%%02x", c);
      out += buf;
    }
  }
  return out;
}

// Marks dropped (NFD, then every combining mark removed), đ/Đ → d, ASCII lower case.
inline std::string ascii_folded(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (U_SUCCESS(status)) u = nfd->normalize(u, status);
  icu::UnicodeString out;
  for (int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    out.append(c == 0x0110 || c == 0x0111 ? static_cast<UChar32>('d') : c);
  }
  std::string s = to_utf8(out.toLower());
  return s;
}

inline bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace evidence_detail

// Every distinct spelling of `value` the check looks for.
inline std::vector<Spelling> spellings_of(std::string_view value) {
  using namespace evidence_detail;
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(value.data(), static_cast<int32_t>(value.size())));
  std::vector<Spelling> out;
  std::set<std::string> seen;
  auto add = [&](std::string bytes, std::string how, bool folded = false) {
    if (bytes.empty() || !seen.insert((folded ? "i:" : "s:") + bytes).second) return;
    out.push_back({std::move(bytes), std::move(how), folded});
  };
  icu::UnicodeString upper = u, lower = u;
  upper.toUpper();
  lower.toLower();
  for (const auto& [form, form_name] : {std::pair{u, std::string("as sent")}, {upper, "upper case"}, {lower, "lower case"}}) {
    const std::string nfc = normalized(form, false);
    add(nfc, form_name);
    add(normalized(form, true), form_name + ", NFD");
    add(json_escaped(nfc, false), form_name + ", JSON \\u escapes (lower hex)");
    add(json_escaped(nfc, true), form_name + ", JSON \\u escapes (upper hex)");
    for (bool upper_hex : {true, false})
      for (bool plus : {true, false})
        add(percent_encoded(nfc, upper_hex, plus),
            form_name + ", percent-encoded (" + (upper_hex ? "upper" : "lower") + " hex" + (plus ? ", + for space" : "") + ")");
  }
  const std::string folded = ascii_folded(value);
  if (is_ascii(folded)) add(folded, "folded to ASCII, any case", true);
  return out;
}

struct EvidenceHit {
  std::filesystem::path file;
  std::string value, what, how;
  size_t offset = 0;
  std::string context;  // the bytes around the hit, non-printable ones as \xNN
};

struct ScanTotals {
  size_t files = 0, bytes = 0;
};

inline std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c >= 0x80) {
      out += static_cast<char>(c);  // UTF-8 shown as text
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

struct SearchedValue {
  std::string value, what;
  std::vector<Spelling> spellings;
};

inline std::vector<SearchedValue> searched_values(const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<SearchedValue> out;
  for (const auto& [value, what] : values) out.push_back({value, what, spellings_of(value)});
  return out;
}

// Every hit of every spelling in one file's bytes (all of them, not the first only).
inline void scan_bytes(const std::filesystem::path& file, std::string_view bytes, const std::vector<SearchedValue>& values,
                       std::vector<EvidenceHit>& hits) {
  std::string lowered(bytes);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& v : values)
    for (const auto& s : v.spellings) {
      const std::string_view haystack = s.ascii_case_insensitive ? std::string_view(lowered) : bytes;
      for (size_t at = haystack.find(s.bytes); at != std::string_view::npos; at = haystack.find(s.bytes, at + 1)) {
        const size_t from = at >= 40 ? at - 40 : 0;
        hits.push_back({file, v.value, v.what, s.how, at, printable(bytes.substr(from, at - from + s.bytes.size() + 40))});
      }
    }
}

// Every regular file under `dir`, read whole.
inline ScanTotals scan_tree(const std::filesystem::path& dir, const std::vector<SearchedValue>& values,
                            std::vector<EvidenceHit>& hits) {
  namespace fs = std::filesystem;
  ScanTotals totals;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || (!in.eof() && in.fail())) {
      hits.push_back({entry.path(), "", "", "the file could not be read", 0, ""});
      continue;
    }
    ++totals.files;
    totals.bytes += bytes.size();
    scan_bytes(entry.path(), bytes, values, hits);
  }
  return totals;
}

}  // namespace promptwall::e2e
