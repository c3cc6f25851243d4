// ServiceCatalog: which configured Service a request belongs to, by base-URL path prefix (gateway
// mode) or by host name (forward-proxy mode).
//
// Invariants: the catalog owns its services and never changes after construction, so the pointers
// it returns live as long as the catalog and it may be shared between threads. Prefixes and exact
// hosts are unique across services, and so are wildcard hosts (the constructor throws
// std::invalid_argument otherwise; parse_gateway_config() already guarantees it). Lookups
// allocate nothing.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/catalog/service.h"

namespace promptwall::gateway {

class ServiceCatalog {
 public:
  explicit ServiceCatalog(std::vector<Service> services);

  struct PrefixMatch {
    const Service* service;
    // What follows the prefix, query kept: "/v1/chat/completions?x=1"; "/" when nothing follows.
    // When only a query follows ("/openai?x"), it is that query ("?x"): join it to an upstream's
    // base path with join_upstream_path().
    std::string_view rest;
  };

  // Longest prefix that ends on a path-segment boundary ("/openai" matches "/openai/v1", "/openai",
  // "/openai?x" but not "/openaix"). `target` is an origin-form request target. Case-sensitive,
  // as paths are.
  std::optional<PrefixMatch> by_prefix(std::string_view target) const;

  // Host (any case, no port, may have a trailing dot) → service: exact match first, then the
  // longest wildcard "*.example.com" (matches a.example.com and a.b.example.com, not example.com).
  // nullptr when no service claims it.
  const Service* by_host(std::string_view host) const;

  const std::vector<Service>& services() const { return services_; }

 private:
  struct CaseInsensitiveLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };

  std::vector<Service> services_;
  // Index into services_, keyed by lower-case host; wildcards keyed by their suffix ".example.com".
  std::map<std::string, size_t, CaseInsensitiveLess> exact_hosts_;
  std::map<std::string, size_t, CaseInsensitiveLess> wildcard_suffixes_;
  // (prefix, index), longest prefix first.
  std::vector<std::pair<std::string, size_t>> prefixes_;
};

// The path to send upstream: base_path ("" or "/v1beta", no trailing '/') followed by a
// PrefixMatch's rest, a rest that is only a query counting as "/" plus it:
// ("/v1", "/chat?a") → "/v1/chat?a"; ("", "/") → "/"; ("/v1", "?x") → "/v1/?x".
std::string join_upstream_path(std::string_view base_path, std::string_view rest);

}  // namespace promptwall::gateway
