#include "audit/trail_format.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace promptwall::audit {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";

// Reads a canonical unsigned decimal (no sign, no leading zero unless it is "0") at the front of
// `text` up to `stop`; advances `text` past it and the stop character.
template <typename T>
bool read_number(std::string_view& text, char stop, T& value) {
  const size_t end = text.find(stop);
  if (end == 0 || end == std::string_view::npos) return false;
  if (end > 1 && text[0] == '0') return false;
  if (!std::all_of(text.begin(), text.begin() + end, [](char c) { return c >= '0' && c <= '9'; })) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  if (ec != std::errc() || ptr != text.data() + end) return false;
  text.remove_prefix(end + 1);
  return true;
}

bool consume(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "audit-YYYYMMDD-SSSSSSSSSSSS.jsonl" → (day, first_seq).
std::optional<std::pair<std::string, uint64_t>> parse_file_name(std::string_view name) {
  constexpr std::string_view kPrefix = "audit-", kSuffix = ".jsonl";
  if (name.size() != kPrefix.size() + 8 + 1 + 12 + kSuffix.size()) return std::nullopt;
  if (!consume(name, kPrefix) || name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  const std::string_view day = name.substr(0, 8), seq = name.substr(9, 12);
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (name[8] != '-' || !digits(day) || !digits(seq)) return std::nullopt;
  uint64_t first = 0;
  std::from_chars(seq.data(), seq.data() + seq.size(), first);
  if (first == 0) return std::nullopt;
  return std::pair{std::string(day), first};
}

}  // namespace

std::string record_hash(std::string_view line) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(line.data(), line.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0xf];
  }
  return hex;
}

std::string compose_record(uint64_t seq, std::string_view prev, std::string_view object_json) {
  // An object with no member ("{}") would leave a dangling comma: events always have "type".
  if (object_json.size() < 3 || object_json.front() != '{' || object_json.back() != '}')
    throw std::invalid_argument("compose_record: not a JSON object with members");
  std::string line;
  line.reserve(object_json.size() + 100);
  line += "{\"v\":1,\"seq\":";
  line += std::to_string(seq);
  line += ",\"prev\":\"";
  line += prev;
  line += "\",";
  line += object_json.substr(1);
  return line;
}

std::optional<RecordHead> read_record_head(std::string_view line) {
  RecordHead head;
  if (!consume(line, "{\"v\":") || !read_number(line, ',', head.version)) return std::nullopt;
  if (!consume(line, "\"seq\":") || !read_number(line, ',', head.seq) || head.seq == 0) return std::nullopt;
  if (!consume(line, "\"prev\":\"") || line.size() < 66) return std::nullopt;
  const std::string_view prev = line.substr(0, 64);
  if (!is_lower_hex(prev) || line.substr(64, 2) != "\",") return std::nullopt;
  head.prev = std::string(prev);
  return head;
}

std::vector<TrailFile> list_trail_files(const std::filesystem::path& dir) {
  std::vector<TrailFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto parsed = parse_file_name(entry.path().filename().native());
    if (!parsed || !entry.is_regular_file()) continue;
    files.push_back({entry.path(), parsed->second, parsed->first});
  }
  std::sort(files.begin(), files.end(), [](const TrailFile& a, const TrailFile& b) {
    return a.first_seq != b.first_seq ? a.first_seq < b.first_seq : a.path < b.path;
  });
  return files;
}

std::string trail_file_name(std::string_view day, uint64_t first_seq) {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%012llu", static_cast<unsigned long long>(first_seq));
  return "audit-" + std::string(day) + "-" + seq + ".jsonl";
}

}  // namespace promptwall::audit
