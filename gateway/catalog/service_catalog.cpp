#include "gateway/catalog/service_catalog.h"

#include "gateway/catalog/host_name.h"

#include <algorithm>
#include <stdexcept>

namespace promptwall::gateway {
namespace {

// A configured host ("*.example.com" or a host) in normal form; throws when it does not parse.
std::string normal_host(const std::string& host, const std::string& service) {
  const bool wildcard = host.starts_with("*.");
  std::string why;
  auto name = parse_host(wildcard ? std::string_view(host).substr(2) : std::string_view(host), &why);
  if (!name) throw std::invalid_argument("service '" + service + "': host '" + host + "': " + why);
  return wildcard ? "*." + name->text : std::move(name->text);
}

void claim(std::map<std::string, size_t, std::less<>>& seen, const std::string& what, const std::string& key,
           size_t index, const std::vector<Service>& services) {
  auto [it, inserted] = seen.emplace(key, index);
  if (!inserted)
    throw std::invalid_argument(what + " '" + key + "' belongs to both service '" + services[it->second].name +
                                "' and service '" + services[index].name + "'");
}

}  // namespace

ServiceCatalog::ServiceCatalog(std::vector<Service> services) : services_(std::move(services)) {
  std::map<std::string, size_t, std::less<>> seen_prefixes, seen_hosts;
  for (size_t i = 0; i < services_.size(); ++i) {
    const Service& s = services_[i];
    if (!s.prefix.empty()) {
      if (s.prefix.front() != '/' || s.prefix.back() == '/')
        throw std::invalid_argument("service '" + s.name + "': prefix '" + s.prefix +
                                    "' must start with '/' and not end with '/'");
      claim(seen_prefixes, "prefix", s.prefix, i, services_);
      prefixes_.emplace_back(s.prefix, i);
    }
    for (const auto& h : s.hosts) {
      std::string host = normal_host(h, s.name);
      claim(seen_hosts, "host", host, i, services_);
      if (host.starts_with("*.")) wildcard_suffixes_.emplace(host.substr(1), i);
      else exact_hosts_.emplace(host, i);
    }
  }
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

std::optional<ServiceCatalog::PrefixMatch> ServiceCatalog::by_prefix(std::string_view target) const {
  for (const auto& [prefix, index] : prefixes_) {
    if (!target.starts_with(prefix)) continue;
    std::string_view rest = target.substr(prefix.size());
    if (rest.empty()) return PrefixMatch{&services_[index], "/"};
    if (rest.front() == '/' || rest.front() == '?') return PrefixMatch{&services_[index], rest};
  }
  return std::nullopt;
}

const Service* ServiceCatalog::by_host(std::string_view raw) const {
  const std::optional<HostName> name = parse_host(raw);
  return name ? by_host(*name) : nullptr;
}

const Service* ServiceCatalog::by_host(const HostName& name) const {
  const std::string_view host = name.text;
  if (auto it = exact_hosts_.find(host); it != exact_hosts_.end()) return &services_[it->second];
  // Suffixes from the longest (after the first label) to the shortest, so the most specific
  // wildcard wins; a wildcard never matches the bare domain because its suffix starts with '.'.
  for (size_t dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    if (dot == 0) continue;
    if (auto it = wildcard_suffixes_.find(host.substr(dot)); it != wildcard_suffixes_.end())
      return &services_[it->second];
  }
  return nullptr;
}

std::string join_upstream_path(std::string_view base_path, std::string_view rest) {
  std::string out(base_path);
  if (rest.empty() || rest.front() == '?') out += '/';
  out += rest;
  return out;
}

}  // namespace promptwall::gateway
