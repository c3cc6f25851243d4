// PseudonymVault: which [NAME-n] stands for which value, per requester, in memory only.
//
// A `pseudonym` redaction (rules/rule.h) sends the upstream [CCCD-1] instead of the number; the
// reply is restored with the number for the same requester only (gateway/pseudonyms/README.md).
// The vault keeps, per scope (the identity's user, or the client address when there is no user,
// plus the service), value -> n for each NAME, so the same value gets the same label for that
// requester within the TTL (the history a client resends is labelled as before; a new value gets
// the next n), and label -> value for the reply.
//
// Forgery: the vault never answers "what is [CCCD-3]?". A request's RequestPseudonyms records the
// labels its own redaction issued, and only those are restored in its reply: a label typed by the
// user, or one issued to another request or requester, is never looked up.
//
// Invariants: values live only in this process's memory: never written to the audit trail, logs,
// metrics labels or disk, and gone after a restart. An entry lives `ttl` after its last use; past
// `max_entries` the least recently used entries are evicted first (each shard holds its share).
// Two values never share an n under one (scope, NAME) while either is in the vault; numbers are not
// reused while the scope holds any entry for that NAME.
// Threads: every member is thread-safe (a requester's next request may land on another worker);
// scopes are spread over mutex-guarded shards. RequestPseudonyms belongs to one request.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "classifiers/label_numbering.h"

namespace promptwall::gateway {

struct PseudonymLimits {
  std::chrono::seconds ttl{std::chrono::hours(1)};
  size_t max_entries = 100000;  // across all scopes
  size_t shards = 16;           // >= 1
};

// One label issued to a request: "[CCCD-1]" and the exact text it replaced.
struct Pseudonym {
  std::string label;
  std::string value;
};

class PseudonymVault;

// The numbering one request's Redactor uses (classifiers/label_numbering.h), bound to its scope and
// the time the request arrived; remembers every label it handed out (its reply's restore set).
class RequestPseudonyms final : public LabelNumbering {
 public:
  RequestPseudonyms(PseudonymVault& vault, std::string scope, std::chrono::steady_clock::time_point now)
      : vault_(vault), scope_(std::move(scope)), now_(now) {}

  int number(std::string_view label, std::string_view value) override;

  // The labels this request issued, each once, in first-issued order.
  const std::vector<Pseudonym>& issued() const { return issued_; }

 private:
  PseudonymVault& vault_;
  std::string scope_;
  std::chrono::steady_clock::time_point now_;
  std::vector<Pseudonym> issued_;
};

class PseudonymVault {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PseudonymVault(PseudonymLimits limits);
  ~PseudonymVault();
  PseudonymVault(const PseudonymVault&) = delete;
  PseudonymVault& operator=(const PseudonymVault&) = delete;

  // The scope a requester's labels live in: the user when there is one, otherwise the client
  // address, and the service (a value sent to two services gets independent labels).
  static std::string scope_of(std::string_view user, std::string_view client_address, std::string_view service);

  // n for `value` under NAME `label` in `scope` at `now`: the one it already has (its TTL renewed),
  // or the next unused one. Evicts expired and, past the cap, least recently used entries.
  int number(std::string_view scope, std::string_view label, std::string_view value, Clock::time_point now);

  // Entries held now (expired ones not yet swept count until the next number() in their shard).
  size_t size() const;

 private:
  struct Entry;
  struct Shard;
  Shard& shard_for(std::string_view scope);
  void evict(Shard& shard, Clock::time_point now);

  PseudonymLimits limits_;
  size_t per_shard_cap_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace promptwall::gateway
