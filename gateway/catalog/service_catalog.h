// ServiceCatalog: which configured Service a request belongs to, by base-URL path prefix (gateway
// mode) or by host name (forward-proxy mode).
//
// Invariants: the catalog owns its services and never changes after construction, so the pointers
// it returns live as long as the catalog and it may be shared between threads. Prefixes and exact
// hosts are unique across services, and so are wildcard hosts, once read as host_name.h reads them
// (the constructor throws std::invalid_argument otherwise, and for a host that does not parse;
// parse_gateway_config() already guarantees both). Hosts are keyed and looked up in that one
// normal form, so the catalog, the configuration and every listener agree on what a host is.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/catalog/host_name.h"
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

  // Host (no port; any case, a trailing dot, U-labels: normalised by parse_host()) → service: exact
  // match first, then the longest wildcard "*.example.com" (matches a.example.com and
  // a.b.example.com, not example.com). nullptr when no service claims it, and for a host that does
  // not parse: callers parse what clients send first and refuse garbage, so nullptr here never
  // means "let it through" for a host that was not read.
  const Service* by_host(std::string_view host) const;
  // The same for a host already read by parse_host()/parse_authority(): no second parse.
  const Service* by_host(const HostName& host) const;

  const std::vector<Service>& services() const { return services_; }

 private:
  std::vector<Service> services_;
  // Index into services_, keyed by normal-form host; wildcards keyed by their suffix ".example.com".
  std::map<std::string, size_t, std::less<>> exact_hosts_;
  std::map<std::string, size_t, std::less<>> wildcard_suffixes_;
  // (prefix, index), longest prefix first.
  std::vector<std::pair<std::string, size_t>> prefixes_;
};

// The path to send upstream: base_path ("" or "/v1beta", no trailing '/') followed by a
// PrefixMatch's rest, a rest that is only a query counting as "/" plus it:
// ("/v1", "/chat?a") → "/v1/chat?a"; ("", "/") → "/"; ("/v1", "?x") → "/v1/?x".
std::string join_upstream_path(std::string_view base_path, std::string_view rest);

}  // namespace promptwall::gateway
