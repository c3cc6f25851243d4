// FileRegistry: what the gateway learned about each file it saw uploaded, keyed by the id the
// upstream gave it, so that a later request citing that id (gateway/uploads/file_references.h) is
// judged by the file's verdict, and an id the gateway never scanned is known as such
// (Unscannable::unscanned_reference).
//
// Ids are normalised per API before they key anything (normalise_file_id), so that every spelling
// a client may cite names one entry:
//   gemini       "files/abc", "abc" and "https://generativelanguage.googleapis.com/v1beta/files/abc"
//                (a query allowed) → "files/abc", as the SDK's files.get reads them; a name is
//                1..64 of [a-z0-9-]. Any other URI (gs://, a YouTube or web URL) is no uploaded
//                file: "".
//   chatgpt_web  "file-service://file-abc" → "file-abc"; "sediment://file_abc" → "file_abc"
//   the others   the id as sent ("file-abc" OpenAI, "file_011C…" Anthropic, gemini_web's paths)
// An id is 1..512 bytes of printable ASCII, else it normalises to "" (no file).
// Entries are per schema: an OpenAI "file-abc" and a ChatGPT web "file-abc" are different files.
//
// ChatGPT web uploads in three requests (upload_step.h): the app announces a file and the answer
// names its id and a blob URL; the app PUTs the bytes to that URL; then cites the id. The gateway
// scans the PUT, which names no id, so the announce answer is kept as a pending announcement
// (blob path → file id) and settle_blob() records the PUT's scan under the file id.
//
// Invariants: at most max_files entries and max_pending announcements; when full, the oldest
// insertion goes first (recording an id again counts as a new insertion); an entry expires `ttl`
// after it was recorded, an announcement `pending_ttl` after it was made, and expired ones are
// never returned. Records hold no document text: `note` is English counts and causes.
// Threads: every member takes the one mutex; the gateway's workers share one registry.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "extractors/extracted_document.h"
#include "gateway/catalog/service.h"

namespace promptwall::gateway {

struct FileRecord {
  enum class Verdict : uint8_t {
    clean,        // read completely, nothing found
    findings,     // read, and the scan found something (the request that carried it was judged then)
    unscannable,  // not read completely: `cause` says why
  };
  std::string sha256;  // lower-case hex of the file's bytes
  std::string name;    // the client's file name ("" when none)
  extractors::FileType type = extractors::FileType::unknown;
  uint64_t size = 0;
  Verdict verdict = Verdict::clean;
  extractors::Unscannable cause = extractors::Unscannable::none;  // set when unscannable
  std::string note;    // English, no content: "2 findings: cccd, stamp"; "inflated over 256 MiB"
  std::chrono::steady_clock::time_point when{};  // set by the registry when recorded
};

std::string_view to_string(FileRecord::Verdict v);  // "clean", "findings", "unscannable"

struct FileRegistryLimits {
  size_t max_files = 100'000;
  std::chrono::seconds ttl{std::chrono::hours(48)};  // OpenAI and Gemini keep files for days; Gemini 48 h
  size_t max_pending = 10'000;
  std::chrono::seconds pending_ttl{std::chrono::hours(1)};  // the blob URL's SAS lifetime is about an hour
};

// The key a schema's file id is filed under; "" when the text names no uploaded file (above).
std::string normalise_file_id(Schema schema, std::string_view id);

class FileRegistry {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit FileRegistry(FileRegistryLimits limits = {}, Clock clock = &std::chrono::steady_clock::now);

  // Files `record` under the normalised id; false (nothing kept) when the id normalises to "".
  bool record(Schema schema, std::string_view id, FileRecord record);
  std::optional<FileRecord> find(Schema schema, std::string_view id) const;
  bool forget(Schema schema, std::string_view id);  // a file deleted upstream

  // ChatGPT web: the announce answer's blob path ("/files/…/raw", UploadAnswer::blob_key) and id.
  bool announce(std::string_view blob_path, std::string_view file_id);
  // The blob PUT's scan: recorded under the announced file id (schema chatgpt_web), which is
  // returned; nullopt when no live announcement names that path (the record is then not kept).
  std::optional<std::string> settle_blob(std::string_view blob_path, FileRecord record);

  size_t size() const;
  size_t pending() const;

 private:
  using Time = std::chrono::steady_clock::time_point;
  struct Entry {
    FileRecord record;
    std::list<std::string>::iterator order;
  };
  struct Announcement {
    std::string file_id;
    Time when;
    std::list<std::string>::iterator order;
  };
  bool record_locked(std::string key, FileRecord record, Time now);
  void expire(Time now) const;

  const FileRegistryLimits limits_;
  const Clock clock_;
  mutable std::mutex mutex_;
  // Expiry is done lazily by const finds too, hence mutable.
  mutable std::unordered_map<std::string, Entry> files_;  // "<schema>\n<normalised id>"
  mutable std::list<std::string> file_order_;             // oldest insertion first
  mutable std::unordered_map<std::string, Announcement> pending_;  // blob path
  mutable std::list<std::string> pending_order_;
};

}  // namespace promptwall::gateway
