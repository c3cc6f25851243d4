// PolicyScopes: what a requester's unit and groups change (config `policy.units` / `policy.groups`):
// policy layers applied after the service's own, which scoped packs count, which services they
// may use.
//
// Invariants:
//   - layers come unit first, then each group in the Identity's (sorted) order, so a group's
//     override wins over its unit's and both win over the service default and the global layer;
//   - a scoped pack counts for a requester only when one of their scopes names it; every other
//     scoped pack is hidden (its findings are dropped before the decision);
//   - a service denied by any of the requester's scopes is refused, whatever else allows it; one
//     allowed by any scope is usable even when `approved: false`; otherwise `approved` decides.
// Immutable; safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/identity/identity.h"

namespace promptwall::gateway {

struct ServiceAccess {
  bool allowed = true;
  // When refused by a scope's deny: "unit" or "group" and its name; both empty when the service
  // is simply not approved.
  std::string scope_kind, scope_name;
};

// A requester's scopes as an inspection needs them (InspectionRequest's spans point into it, so it
// must outlive the inspect() call).
struct RequesterScopes {
  std::vector<const PolicyLayer*> layers;  // layers_for()
  std::vector<std::string> hidden_packs;   // hidden_packs()
};

class PolicyScopes {
 public:
  // `scoped_pack_files`: rules.scoped_packs (a pack's name is its file name without .yaml).
  PolicyScopes(ScopedPolicy scopes, const std::vector<std::string>& scoped_pack_files);

  std::vector<const PolicyLayer*> layers_for(const Identity& identity) const;
  std::vector<std::string> hidden_packs(const Identity& identity) const;
  ServiceAccess access(const Service& service, const Identity& identity) const;
  RequesterScopes for_requester(const Identity& identity) const { return {layers_for(identity), hidden_packs(identity)}; }
  bool empty() const { return scopes_.units.empty() && scopes_.groups.empty(); }

 private:
  // The scopes that apply, unit first.
  std::vector<std::pair<std::string_view, const PolicyScope*>> scopes_of(const Identity& identity) const;

  ScopedPolicy scopes_;
  std::vector<std::string> scoped_packs_;  // names
};

// "…/packs/strict-legal.yaml" → "strict-legal".
std::string scoped_pack_name(std::string_view file);

}  // namespace promptwall::gateway
