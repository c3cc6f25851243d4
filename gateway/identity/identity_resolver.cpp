#include "gateway/identity/identity_resolver.h"

#include <algorithm>

namespace promptwall::gateway {

std::string_view to_string(Identity::Source source) {
  switch (source) {
    case Identity::Source::none: return "none";
    case Identity::Source::proxy_basic: return "proxy_basic";
    case Identity::Source::trusted_header: return "trusted_header";
    case Identity::Source::address: return "address";
  }
  return "none";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

IdentityResolver::IdentityResolver(const IdentityConfig& config)
    : trusted_(config.trusted_header), units_(config.units), user_units_(config.user_units) {
  if (trusted_)
    for (const std::string* name : {&trusted_->user, &trusted_->groups, &trusted_->unit})
      if (!name->empty()) header_names_.push_back(*name);
}

Identity IdentityResolver::for_address(const IpAddress& client) const {
  Identity out;
  if (const std::string* unit = units_.find(client)) {
    out.unit = *unit;
    out.source = Identity::Source::address;
  }
  return out;
}

Identity IdentityResolver::for_user(std::string user, Identity::Source source, const IpAddress& client,
                                    const GroupFile* groups) const {
  Identity out = for_address(client);
  out.source = source;
  if (auto it = user_units_.find(user); it != user_units_.end()) out.unit = it->second;
  if (groups) out.groups = groups->groups_of(user);
  out.user = std::move(user);
  return out;
}

bool IdentityResolver::trusts(const IpAddress& client) const {
  return trusted_ && std::any_of(trusted_->from.begin(), trusted_->from.end(),
                                 [&](const IpNetwork& n) { return n.contains(client); });
}

std::optional<Identity> IdentityResolver::from_headers(const IpAddress& client, const IdentityHeaders& headers,
                                                       const GroupFile* groups) const {
  if (!trusts(client)) return std::nullopt;
  const std::string_view user = trim(headers.user);
  if (!is_identity_name(user)) return std::nullopt;
  Identity out = for_user(std::string(user), Identity::Source::trusted_header, client,
                          trusted_->groups.empty() || headers.groups.empty() ? groups : nullptr);
  if (!trusted_->groups.empty() && !headers.groups.empty()) {
    std::string_view rest = headers.groups;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string_view group = trim(rest.substr(0, comma));
      if (is_identity_name(group)) out.groups.emplace_back(group);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    std::sort(out.groups.begin(), out.groups.end());
    out.groups.erase(std::unique(out.groups.begin(), out.groups.end()), out.groups.end());
  }
  if (const std::string_view unit = trim(headers.unit); !trusted_->unit.empty() && is_identity_name(unit))
    out.unit = std::string(unit);
  return out;
}

}  // namespace promptwall::gateway
