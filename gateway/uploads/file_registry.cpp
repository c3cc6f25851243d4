#include "gateway/uploads/file_registry.h"

#include <algorithm>
#include <utility>

namespace promptwall::gateway {
namespace {

constexpr size_t kMaxIdBytes = 512;
constexpr size_t kMaxGeminiName = 64;

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool gemini_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxGeminiName &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string normalise_gemini(std::string_view id) {
  constexpr std::string_view kFiles = "files/";
  constexpr std::string_view kApi = "https://generativelanguage.googleapis.com/";
  if (starts_with(id, kApi)) {
    // "https://generativelanguage.googleapis.com/v1beta/files/abc" with an optional query.
    std::string_view rest = id.substr(kApi.size());
    rest = rest.substr(0, rest.find('?'));
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash < 2 || rest[0] != 'v') return {};
    rest.remove_prefix(slash + 1);
    if (!starts_with(rest, kFiles)) return {};
    rest.remove_prefix(kFiles.size());
    return gemini_name(rest) ? std::string(kFiles) + std::string(rest) : std::string();
  }
  if (starts_with(id, kFiles)) id.remove_prefix(kFiles.size());
  return gemini_name(id) ? std::string(kFiles) + std::string(id) : std::string();
}

std::string normalise_chatgpt(std::string_view id) {
  for (std::string_view scheme : {std::string_view("file-service://"), std::string_view("sediment://")}) {
    if (starts_with(id, scheme)) {
      id.remove_prefix(scheme.size());
      break;
    }
  }
  return std::string(id);
}

std::string key_of(Schema schema, std::string_view normalised) {
  std::string key(to_string(schema));
  key += '\n';
  key += normalised;
  return key;
}

}  // namespace

std::string_view to_string(FileRecord::Verdict v) {
  switch (v) {
    case FileRecord::Verdict::clean: return "clean";
    case FileRecord::Verdict::findings: return "findings";
    case FileRecord::Verdict::unscannable: return "unscannable";
  }
  return "clean";
}

std::string normalise_file_id(Schema schema, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes || !printable_ascii(id)) return {};
  std::string out;
  switch (schema) {
    case Schema::gemini: out = normalise_gemini(id); break;
    case Schema::chatgpt_web: out = normalise_chatgpt(id); break;
    case Schema::openai:
    case Schema::anthropic:
    case Schema::gemini_web:
    case Schema::json:
    case Schema::text: out = std::string(id); break;
  }
  return out;
}

FileRegistry::FileRegistry(FileRegistryLimits limits, Clock clock) : limits_(limits), clock_(std::move(clock)) {}

void FileRegistry::expire(Time now) const {
  // Insertion order is time order (one monotonic clock), so the expired are at the front.
  while (!file_order_.empty()) {
    const auto it = files_.find(file_order_.front());
    if (now - it->second.record.when < limits_.ttl) break;
    files_.erase(it);
    file_order_.pop_front();
  }
  while (!pending_order_.empty()) {
    const auto it = pending_.find(pending_order_.front());
    if (now - it->second.when < limits_.pending_ttl) break;
    pending_.erase(it);
    pending_order_.pop_front();
  }
}

bool FileRegistry::record_locked(std::string key, FileRecord record, Time now) {
  if (limits_.max_files == 0) return false;
  if (const auto it = files_.find(key); it != files_.end()) {
    file_order_.erase(it->second.order);
    files_.erase(it);
  }
  while (files_.size() >= limits_.max_files) {
    files_.erase(file_order_.front());
    file_order_.pop_front();
  }
  record.when = now;
  file_order_.push_back(key);
  files_.emplace(std::move(key), Entry{std::move(record), std::prev(file_order_.end())});
  return true;
}

bool FileRegistry::record(Schema schema, std::string_view id, FileRecord record) {
  const std::string normalised = normalise_file_id(schema, id);
  if (normalised.empty()) return false;
  const std::lock_guard lock(mutex_);
  const Time now = clock_();
  expire(now);
  return record_locked(key_of(schema, normalised), std::move(record), now);
}

std::optional<FileRecord> FileRegistry::find(Schema schema, std::string_view id) const {
  const std::string normalised = normalise_file_id(schema, id);
  if (normalised.empty()) return std::nullopt;
  const std::lock_guard lock(mutex_);
  expire(clock_());
  const auto it = files_.find(key_of(schema, normalised));
  if (it == files_.end()) return std::nullopt;
  return it->second.record;
}

bool FileRegistry::forget(Schema schema, std::string_view id) {
  const std::string normalised = normalise_file_id(schema, id);
  if (normalised.empty()) return false;
  const std::lock_guard lock(mutex_);
  expire(clock_());
  const auto it = files_.find(key_of(schema, normalised));
  if (it == files_.end()) return false;
  file_order_.erase(it->second.order);
  files_.erase(it);
  return true;
}

bool FileRegistry::announce(std::string_view blob_path, std::string_view file_id) {
  const std::string normalised = normalise_file_id(Schema::chatgpt_web, file_id);
  if (normalised.empty() || blob_path.empty() || blob_path.size() > kMaxIdBytes || limits_.max_pending == 0) return false;
  const std::lock_guard lock(mutex_);
  const Time now = clock_();
  expire(now);
  std::string path(blob_path);
  if (const auto it = pending_.find(path); it != pending_.end()) {
    pending_order_.erase(it->second.order);
    pending_.erase(it);
  }
  while (pending_.size() >= limits_.max_pending) {
    pending_.erase(pending_order_.front());
    pending_order_.pop_front();
  }
  pending_order_.push_back(path);
  pending_.emplace(std::move(path), Announcement{normalised, now, std::prev(pending_order_.end())});
  return true;
}

std::optional<std::string> FileRegistry::settle_blob(std::string_view blob_path, FileRecord record) {
  const std::lock_guard lock(mutex_);
  const Time now = clock_();
  expire(now);
  const auto it = pending_.find(std::string(blob_path));
  if (it == pending_.end()) return std::nullopt;
  std::string file_id = std::move(it->second.file_id);
  pending_order_.erase(it->second.order);
  pending_.erase(it);
  record_locked(key_of(Schema::chatgpt_web, file_id), std::move(record), now);
  return file_id;
}

size_t FileRegistry::size() const {
  const std::lock_guard lock(mutex_);
  expire(clock_());
  return files_.size();
}

size_t FileRegistry::pending() const {
  const std::lock_guard lock(mutex_);
  expire(clock_());
  return pending_.size();
}

}  // namespace promptwall::gateway
