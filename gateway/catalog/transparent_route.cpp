#include "gateway/catalog/transparent_route.h"

namespace promptwall::gateway {

std::string_view to_string(TransparentRoute::Action action) {
  switch (action) {
    case TransparentRoute::Action::splice: return "splice";
    case TransparentRoute::Action::intercept: return "intercept";
    case TransparentRoute::Action::inspect_http: return "inspect_http";
    case TransparentRoute::Action::close: return "close";
  }
  return "close";
}

TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   std::string_view host, bool can_intercept) {
  using Action = TransparentRoute::Action;
  if (host.empty()) return {Action::splice, nullptr};
  const Service* service = catalog.by_host(host);
  // A known service we do not inspect (approved, `inspect: false`) passes like any other site.
  if (!service || (service->approved && !service->inspect)) return {Action::splice, nullptr};
  if (protocol == TransparentRoute::Protocol::http) return {Action::inspect_http, service};
  return {can_intercept ? Action::intercept : Action::close, service};
}

}  // namespace promptwall::gateway
