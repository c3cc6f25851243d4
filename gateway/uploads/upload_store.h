// UploadStore: the bytes of files that arrive in pieces (OpenAI Upload parts, Google resumable
// chunks), held until the step that makes the file usable upstream (OpenAI's complete, Google's
// finalize), so that the whole file can be scanned before that step is forwarded. A piece alone
// cannot be scanned (a stamp may straddle two parts; a part of a .docx is no document).
//
// The flow the gateway follows (gateway/uploads/README.md):
//   OpenAI   upload_part: forward the part; from its answer's part id, add_part(key, part_id, bytes).
//            upload_complete: assemble_parts(key, part_ids as the body lists them) → scan the file
//            → forward the complete, or refuse it (the parts upstream never become a file).
//   Google   resumable_chunk: add_chunk(key, offset, bytes) before forwarding; with `finalize`,
//            assemble_chunks(key) → scan → forward the last chunk, or refuse it.
//   cancel   cancel(key).
//
// Invariants:
//   - a session's bytes are freed when it is assembled, cancelled or expired (`ttl` after its
//     last piece); expired sessions are dropped on every call;
//   - held bytes never exceed max_total_bytes, one session's never exceed max_upload_bytes, and
//     there are never more than max_sessions sessions or max_pieces pieces in one: a piece that
//     would pass a bound is refused and not kept (the session keeps what it had);
//   - Google chunks: the same offset again with the same bytes is a retry (the SDK retries a
//     chunk whose answer lacked its status header) and is kept once; the same offset with other
//     bytes is refused (chunk_conflict), since the gateway cannot know which one the upstream
//     keeps. assemble_chunks wants chunks that tile [0, end) exactly: a gap or an overlap is
//     offsets_not_contiguous.
//   - OpenAI parts: the same part id again replaces the earlier bytes (an id names one part);
//     assemble_parts concatenates the listed parts in list order; a listed id never added is
//     part_missing, an id listed twice is part_listed_twice; parts not listed are dropped with
//     the session, as the upstream drops them.
//   - a failed assembly keeps the session (the client may add the missing part and complete
//     again); a successful one removes it.
// Threads: every member takes the one mutex; the gateway's workers share one store.
// Errors: values (Refusal + English `error` holding sizes and counts, never ids or bytes).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/catalog/service.h"

namespace promptwall::gateway {

// Which upload: the service's schema and the upload id (OpenAI) or session key (Google) that
// UploadStep::id carries.
struct UploadKey {
  Schema schema = Schema::json;
  std::string id;
  auto operator<=>(const UploadKey&) const = default;
};

struct UploadStoreLimits {
  size_t max_total_bytes = size_t{1} << 30;        // every session's pieces together
  size_t max_upload_bytes = size_t{512} << 20;     // one upload (OpenAI's own file limit is 512 MB)
  size_t max_sessions = 1024;
  size_t max_pieces = 4096;                        // parts or chunks in one upload
  std::chrono::seconds ttl{3600};                  // after the last piece (OpenAI Uploads expire in an hour)
};

class UploadStore {
 public:
  enum class Refusal : uint8_t {
    none,
    store_full,              // max_total_bytes or max_sessions reached
    upload_too_big,          // max_upload_bytes
    too_many_pieces,         // max_pieces
    chunk_conflict,          // the same offset again with other bytes
    unknown_upload,          // assemble or cancel of an upload the store does not hold
    part_missing,            // complete lists a part the store never got
    part_listed_twice,
    offsets_not_contiguous,  // a gap or an overlap, or chunks not starting at 0
  };
  struct Outcome {
    Refusal refusal = Refusal::none;
    std::string error;  // English: "upload store full (1073741824 bytes held)"
    bool ok() const { return refusal == Refusal::none; }
  };
  struct Assembly {
    Refusal refusal = Refusal::none;
    std::string error;
    std::string bytes;  // the file, when ok
    size_t pieces = 0;  // how many parts or chunks it was made of
    bool ok() const { return refusal == Refusal::none; }
  };
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit UploadStore(UploadStoreLimits limits = {}, Clock clock = &std::chrono::steady_clock::now);

  Outcome add_part(const UploadKey& key, std::string_view part_id, std::string_view bytes);
  Outcome add_chunk(const UploadKey& key, uint64_t offset, std::string_view bytes);
  Assembly assemble_parts(const UploadKey& key, const std::vector<std::string>& part_ids);
  Assembly assemble_chunks(const UploadKey& key);
  // True when the store held the upload (its pieces are now freed).
  bool cancel(const UploadKey& key);

  size_t bytes_held() const;
  size_t sessions() const;

 private:
  struct Session {
    std::map<std::string, std::string, std::less<>> parts;  // OpenAI: part id → bytes
    std::map<uint64_t, std::string> chunks;                  // Google: offset → bytes
    size_t bytes = 0;
    std::chrono::steady_clock::time_point last;
  };
  void drop_expired(std::chrono::steady_clock::time_point now);
  // The session to add `size` more bytes to, or a refusal; `replaced` bytes are given back first.
  Outcome make_room(const UploadKey& key, size_t size, size_t replaced, bool new_piece, Session*& session,
                    std::chrono::steady_clock::time_point now);
  void erase(std::map<UploadKey, Session>::iterator it);

  const UploadStoreLimits limits_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::map<UploadKey, Session> sessions_;
  size_t total_bytes_ = 0;
};

std::string_view to_string(UploadStore::Refusal r);  // "part_missing"

}  // namespace promptwall::gateway
