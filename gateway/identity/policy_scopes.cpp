#include "gateway/identity/policy_scopes.h"

#include <algorithm>
#include <filesystem>

namespace promptwall::gateway {

std::string scoped_pack_name(std::string_view file) { return std::filesystem::path(file).stem().string(); }

PolicyScopes::PolicyScopes(ScopedPolicy scopes, const std::vector<std::string>& scoped_pack_files)
    : scopes_(std::move(scopes)) {
  for (const auto& file : scoped_pack_files) scoped_packs_.push_back(scoped_pack_name(file));
}

std::vector<std::pair<std::string_view, const PolicyScope*>> PolicyScopes::scopes_of(const Identity& identity) const {
  std::vector<std::pair<std::string_view, const PolicyScope*>> out;
  if (auto it = scopes_.units.find(identity.unit); !identity.unit.empty() && it != scopes_.units.end())
    out.emplace_back("unit", &it->second);
  for (const auto& group : identity.groups)
    if (auto it = scopes_.groups.find(group); it != scopes_.groups.end()) out.emplace_back("group", &it->second);
  return out;
}

std::vector<const PolicyLayer*> PolicyScopes::layers_for(const Identity& identity) const {
  std::vector<const PolicyLayer*> out;
  for (const auto& [kind, scope] : scopes_of(identity)) out.push_back(&scope->layer);
  return out;
}

std::vector<std::string> PolicyScopes::hidden_packs(const Identity& identity) const {
  std::vector<std::string> hidden = scoped_packs_;
  for (const auto& [kind, scope] : scopes_of(identity)) {
    // Named, not captured as a structured binding: clang 14 cannot capture one in a lambda.
    const std::vector<std::string>& shown = scope->packs;
    std::erase_if(hidden, [&](const std::string& pack) {
      return std::find(shown.begin(), shown.end(), pack) != shown.end();
    });
  }
  return hidden;
}

ServiceAccess PolicyScopes::access(const Service& service, const Identity& identity) const {
  ServiceAccess out;
  out.allowed = service.approved;
  bool allowed_by_scope = false;
  auto named = [&](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), service.name) != list.end();
  };
  // Unit first, then groups in order: the first deny found is the one the refusal names.
  if (!identity.unit.empty())
    if (auto it = scopes_.units.find(identity.unit); it != scopes_.units.end()) {
      if (named(it->second.deny_services)) return {false, "unit", identity.unit};
      allowed_by_scope |= named(it->second.allow_services);
    }
  for (const auto& group : identity.groups)
    if (auto it = scopes_.groups.find(group); it != scopes_.groups.end()) {
      if (named(it->second.deny_services)) return {false, "group", group};
      allowed_by_scope |= named(it->second.allow_services);
    }
  if (allowed_by_scope) out.allowed = true;
  return out;
}

}  // namespace promptwall::gateway
