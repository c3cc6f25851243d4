#include "gateway/uploads/upload_store.h"

#include <set>
#include <utility>

namespace promptwall::gateway {
namespace {

UploadStore::Outcome refuse(UploadStore::Refusal r, std::string error) { return {r, std::move(error)}; }

UploadStore::Assembly refuse_assembly(UploadStore::Refusal r, std::string error) {
  UploadStore::Assembly a;
  a.refusal = r;
  a.error = std::move(error);
  return a;
}

}  // namespace

std::string_view to_string(UploadStore::Refusal r) {
  switch (r) {
    case UploadStore::Refusal::none: return "none";
    case UploadStore::Refusal::store_full: return "store_full";
    case UploadStore::Refusal::upload_too_big: return "upload_too_big";
    case UploadStore::Refusal::too_many_pieces: return "too_many_pieces";
    case UploadStore::Refusal::chunk_conflict: return "chunk_conflict";
    case UploadStore::Refusal::unknown_upload: return "unknown_upload";
    case UploadStore::Refusal::part_missing: return "part_missing";
    case UploadStore::Refusal::part_listed_twice: return "part_listed_twice";
    case UploadStore::Refusal::offsets_not_contiguous: return "offsets_not_contiguous";
  }
  return "none";
}

UploadStore::UploadStore(UploadStoreLimits limits, Clock clock) : limits_(limits), clock_(std::move(clock)) {}

void UploadStore::erase(std::map<UploadKey, Session>::iterator it) {
  total_bytes_ -= it->second.bytes;
  sessions_.erase(it);
}

void UploadStore::drop_expired(std::chrono::steady_clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);
    if (now - it->second.last >= limits_.ttl) erase(it);
    it = next;
  }
}

UploadStore::Outcome UploadStore::make_room(const UploadKey& key, size_t size, size_t replaced, bool new_piece,
                                            Session*& session, std::chrono::steady_clock::time_point now) {
  auto it = sessions_.find(key);
  if (it == sessions_.end() && sessions_.size() >= limits_.max_sessions)
    return refuse(Refusal::store_full, "upload store full (" + std::to_string(sessions_.size()) + " uploads held)");
  const size_t held = it == sessions_.end() ? 0 : it->second.bytes;
  const size_t pieces = it == sessions_.end() ? 0 : it->second.parts.size() + it->second.chunks.size();
  if (size > limits_.max_upload_bytes || held - replaced > limits_.max_upload_bytes - size)
    return refuse(Refusal::upload_too_big, "upload over the " + std::to_string(limits_.max_upload_bytes) + "-byte limit");
  if (new_piece && pieces >= limits_.max_pieces)
    return refuse(Refusal::too_many_pieces, "upload over " + std::to_string(limits_.max_pieces) + " pieces");
  if (size > limits_.max_total_bytes || total_bytes_ - replaced > limits_.max_total_bytes - size)
    return refuse(Refusal::store_full, "upload store full (" + std::to_string(total_bytes_) + " bytes held)");
  if (it == sessions_.end()) it = sessions_.emplace(key, Session{}).first;
  session = &it->second;
  session->last = now;
  return {};
}

UploadStore::Outcome UploadStore::add_part(const UploadKey& key, std::string_view part_id, std::string_view bytes) {
  const std::lock_guard lock(mutex_);
  const auto now = clock_();
  drop_expired(now);
  size_t replaced = 0;
  bool exists = false;
  if (const auto it = sessions_.find(key); it != sessions_.end()) {
    if (const auto p = it->second.parts.find(part_id); p != it->second.parts.end()) {
      replaced = p->second.size();
      exists = true;
    }
  }
  Session* session = nullptr;
  Outcome out = make_room(key, bytes.size(), replaced, !exists, session, now);
  if (!out.ok()) return out;
  session->parts[std::string(part_id)] = std::string(bytes);
  session->bytes = session->bytes - replaced + bytes.size();
  total_bytes_ = total_bytes_ - replaced + bytes.size();
  return out;
}

UploadStore::Outcome UploadStore::add_chunk(const UploadKey& key, uint64_t offset, std::string_view bytes) {
  const std::lock_guard lock(mutex_);
  const auto now = clock_();
  drop_expired(now);
  if (const auto it = sessions_.find(key); it != sessions_.end()) {
    if (const auto c = it->second.chunks.find(offset); c != it->second.chunks.end()) {
      if (c->second != bytes)
        return refuse(Refusal::chunk_conflict,
                      "chunk at offset " + std::to_string(offset) + " differs from the one already received");
      it->second.last = now;
      return {};
    }
  }
  Session* session = nullptr;
  Outcome out = make_room(key, bytes.size(), 0, !bytes.empty(), session, now);
  if (!out.ok() || bytes.empty()) return out;  // a finalize without bytes only opens or touches the session
  session->chunks.emplace(offset, std::string(bytes));
  session->bytes += bytes.size();
  total_bytes_ += bytes.size();
  return out;
}

UploadStore::Assembly UploadStore::assemble_parts(const UploadKey& key, const std::vector<std::string>& part_ids) {
  const std::lock_guard lock(mutex_);
  drop_expired(clock_());
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return refuse_assembly(Refusal::unknown_upload, "upload not held (never seen, cancelled or expired)");
  const Session& s = it->second;
  std::set<std::string_view> seen;
  size_t size = 0;
  for (size_t i = 0; i < part_ids.size(); ++i) {
    const auto p = s.parts.find(part_ids[i]);
    if (p == s.parts.end())
      return refuse_assembly(Refusal::part_missing, "upload part missing (position " + std::to_string(i + 1) + " of " +
                                                        std::to_string(part_ids.size()) + ")");
    if (!seen.insert(p->first).second)
      return refuse_assembly(Refusal::part_listed_twice, "upload part listed twice (position " + std::to_string(i + 1) + ")");
    size += p->second.size();
  }
  Assembly a;
  a.bytes.reserve(size);
  for (const std::string& id : part_ids) a.bytes += s.parts.find(id)->second;
  a.pieces = part_ids.size();
  erase(it);
  return a;
}

UploadStore::Assembly UploadStore::assemble_chunks(const UploadKey& key) {
  const std::lock_guard lock(mutex_);
  drop_expired(clock_());
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return refuse_assembly(Refusal::unknown_upload, "upload not held (never seen, cancelled or expired)");
  const Session& s = it->second;
  uint64_t expected = 0;
  for (const auto& [offset, bytes] : s.chunks) {
    if (offset != expected)
      return refuse_assembly(Refusal::offsets_not_contiguous,
                             "offsets not contiguous: a chunk at " + std::to_string(offset) + " where " +
                                 std::to_string(expected) + " was due");
    expected += bytes.size();
  }
  Assembly a;
  a.bytes.reserve(s.bytes);
  for (const auto& [offset, bytes] : s.chunks) a.bytes += bytes;
  a.pieces = s.chunks.size();
  erase(it);
  return a;
}

bool UploadStore::cancel(const UploadKey& key) {
  const std::lock_guard lock(mutex_);
  drop_expired(clock_());
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return false;
  erase(it);
  return true;
}

size_t UploadStore::bytes_held() const {
  const std::lock_guard lock(mutex_);
  return total_bytes_;
}

size_t UploadStore::sessions() const {
  const std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace promptwall::gateway
