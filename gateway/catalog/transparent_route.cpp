#include "gateway/catalog/transparent_route.h"

namespace promptwall::gateway {

std::string_view to_string(TransparentRoute::Action action) {
  switch (action) {
    case TransparentRoute::Action::splice: return "splice";
    case TransparentRoute::Action::intercept: return "intercept";
    case TransparentRoute::Action::inspect_http: return "inspect_http";
    case TransparentRoute::Action::close: return "close";
    case TransparentRoute::Action::refuse: return "refuse";
  }
  return "close";
}

TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   const TransparentTarget& target, bool can_intercept, bool refuse_ai_addresses) {
  using Action = TransparentRoute::Action;
  const Service* service = target.host.empty() ? nullptr : catalog.by_host(target.host);
  // A known service we do not inspect (approved, `inspect: false`) passes like any other site.
  if (service && service->approved && !service->inspect) service = nullptr;
  if (service) {
    if (protocol == TransparentRoute::Protocol::http) return {Action::inspect_http, service};
    return {can_intercept ? Action::intercept : Action::close, service};
  }
  // Plain HTTP always names its host (the request loop refuses a request without one); TLS may not.
  const bool unnamed = protocol == TransparentRoute::Protocol::tls && (target.host.empty() || target.host_hidden);
  if (unnamed && target.address_owner && refuse_ai_addresses) return {Action::refuse, target.address_owner};
  return {Action::splice, nullptr};
}

TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   std::string_view host, bool can_intercept) {
  return route_transparent(catalog, protocol, TransparentTarget{host}, can_intercept);
}

}  // namespace promptwall::gateway
