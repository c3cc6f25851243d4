#include "gateway/pseudonyms/pseudonym_vault.h"

#include <algorithm>
#include <functional>

namespace promptwall::gateway {

namespace {

// Keys join their parts with NUL: no scope, NAME or value holds one that matters here (a NUL in a
// value only makes a distinct key longer, never equal to another's).
std::string join(std::string_view a, std::string_view b) {
  std::string key;
  key.reserve(a.size() + b.size() + 1);
  key.append(a).push_back('\0');
  key.append(b);
  return key;
}

}  // namespace

struct PseudonymVault::Entry {
  std::string key;      // scope \0 NAME \0 value
  std::string counter;  // scope \0 NAME
  int n = 0;
  Clock::time_point last_used;
};

struct PseudonymVault::Shard {
  std::mutex mutex;
  std::list<Entry> by_age;  // least recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key;
  struct Counter {
    int last = 0;        // the highest n handed out
    size_t entries = 0;  // entries alive under it; at 0 the counter is dropped
  };
  std::unordered_map<std::string, Counter> counters;

  void drop(std::list<Entry>::iterator e) {
    auto c = counters.find(e->counter);
    if (c != counters.end() && --c->second.entries == 0) counters.erase(c);
    by_key.erase(e->key);
    by_age.erase(e);
  }
  void drop_front() { drop(by_age.begin()); }
};

PseudonymVault::PseudonymVault(PseudonymLimits limits) : limits_(limits) {
  const size_t shards = std::max<size_t>(1, limits_.shards);
  per_shard_cap_ = std::max<size_t>(1, (limits_.max_entries + shards - 1) / shards);
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

PseudonymVault::~PseudonymVault() = default;

std::string PseudonymVault::scope_of(std::string_view user, std::string_view client_address,
                                     std::string_view service) {
  // "u:" and "a:" keep a user named like an address apart from that address.
  std::string who = user.empty() ? "a:" : "u:";
  who.append(user.empty() ? client_address : user);
  return join(who, service);
}

PseudonymVault::Shard& PseudonymVault::shard_for(std::string_view scope) {
  return *shards_[std::hash<std::string_view>{}(scope) % shards_.size()];
}

void PseudonymVault::evict(Shard& shard, Clock::time_point now) {
  while (!shard.by_age.empty() && now - shard.by_age.front().last_used >= limits_.ttl) shard.drop_front();
  while (shard.by_age.size() >= per_shard_cap_) shard.drop_front();
}

int PseudonymVault::number(std::string_view scope, std::string_view label, std::string_view value,
                           Clock::time_point now) {
  Shard& shard = shard_for(scope);
  std::string counter = join(scope, label);
  std::string key = join(counter, value);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.by_key.find(key); it != shard.by_key.end()) {
    if (now - it->second->last_used < limits_.ttl) {
      // Requests arrive with slightly out-of-order times from different workers: never go back.
      it->second->last_used = std::max(it->second->last_used, now);
      shard.by_age.splice(shard.by_age.end(), shard.by_age, it->second);
      return it->second->n;
    }
    shard.drop(it->second);  // expired: the value gets a new number, as any new value would
  }
  evict(shard, now);
  Shard::Counter& c = shard.counters[counter];
  ++c.entries;
  const int n = ++c.last;
  shard.by_age.push_back(Entry{key, std::move(counter), n, now});
  shard.by_key[std::move(key)] = std::prev(shard.by_age.end());
  return n;
}

size_t PseudonymVault::size() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->by_age.size();
  }
  return total;
}

int RequestPseudonyms::number(std::string_view label, std::string_view value) {
  const int n = vault_.number(scope_, label, value, now_);
  std::string spelled = "[";
  spelled.append(label).append("-").append(std::to_string(n)).append("]");
  const bool known = std::any_of(issued_.begin(), issued_.end(), [&](const Pseudonym& p) { return p.label == spelled; });
  if (!known) issued_.push_back({std::move(spelled), std::string(value)});
  return n;
}

}  // namespace promptwall::gateway
