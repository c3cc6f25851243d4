#include "gateway/uploads/upload_names.h"

namespace promptwall::gateway {

void UploadNames::remember(const UploadKey& key, std::string name) {
  if (key.id.empty() || name.empty()) return;
  std::lock_guard lock(mutex_);
  const uint64_t seq = next_seq_++;
  names_[key] = Entry{std::move(name), seq};
  order_.emplace_back(key, seq);
  // Oldest first; an order_ entry whose name was since taken or replaced evicts nothing.
  while ((names_.size() > max_ || order_.size() > 2 * max_ + 16) && !order_.empty()) {
    auto it = names_.find(order_.front().first);
    if (it != names_.end() && it->second.seq == order_.front().second) names_.erase(it);
    order_.pop_front();
  }
}

std::string UploadNames::take(const UploadKey& key) {
  std::lock_guard lock(mutex_);
  auto it = names_.find(key);
  if (it == names_.end()) return {};
  std::string name = std::move(it->second.name);
  names_.erase(it);
  return name;
}

}  // namespace promptwall::gateway
