// UploadNames: the file name a client gave when it opened an upload (OpenAI's upload create
// `filename`, Google's resumable start `displayName`, ChatGPT's announce `file_name`), kept until
// the step that carries or completes the bytes, so that a refusal and the audit trail name the file
// ("report.docx") rather than "file 1".
//
// Keyed like UploadStore (schema + the upload id, the session key or the blob path the answer
// named). Bounded: at most `max_names`, the oldest forgotten first; a name is taken once.
// Threads: every member takes the one mutex. A name is the client's text: it is scanned as a
// segment of the request that gave it, like any string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/uploads/upload_store.h"

namespace promptwall::gateway {

class UploadNames {
 public:
  explicit UploadNames(size_t max_names = 10'000) : max_(max_names) {}

  void remember(const UploadKey& key, std::string name);
  // The name remembered for `key`, forgotten now; "" when none.
  std::string take(const UploadKey& key);

 private:
  const size_t max_;
  std::mutex mutex_;
  struct Entry {
    std::string name;
    uint64_t seq = 0;  // which remember() made it, so an old order_ entry never evicts a newer name
  };
  std::map<UploadKey, Entry> names_;
  std::deque<std::pair<UploadKey, uint64_t>> order_;  // insertion order; may hold entries since taken
  uint64_t next_seq_ = 0;
};

}  // namespace promptwall::gateway
