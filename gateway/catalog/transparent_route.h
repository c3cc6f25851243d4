// TransparentRoute: what the transparent listener does with a connection the firewall redirected
// to it, once its first bytes have named the host (the TLS ClientHello's SNI, or the Host header of
// plain HTTP).
//
// Invariants: a host of an inspected or unapproved service is never spliced: it is intercepted
// (TLS, needs the organisation CA), inspected (plain HTTP), or, when TLS cannot be intercepted,
// closed. Everything else, a connection naming no host included, is spliced untouched to where the
// client was going. Pure: the decision depends only on its arguments.
#pragma once

#include <cstdint>
#include <string_view>

#include "gateway/catalog/service_catalog.h"

namespace promptwall::gateway {

struct TransparentRoute {
  enum class Action : uint8_t {
    splice,        // not an AI service: every byte passes untouched to the original destination
    intercept,     // TLS terminated with a leaf for the SNI; requests inspected, or refused (unapproved)
    inspect_http,  // plain HTTP through the request loop: inspected, or refused (unapproved)
    close,         // TLS to an AI service with no organisation CA to intercept it: never passed unseen
  };
  enum class Protocol : uint8_t { tls, http };

  Action action = Action::splice;
  const Service* service = nullptr;  // set for every action but splice
};

std::string_view to_string(TransparentRoute::Action action);

// `host`: the SNI or the Host header's host (any case, no port); empty when the client named none.
// `can_intercept`: an organisation CA is loaded.
TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   std::string_view host, bool can_intercept);

}  // namespace promptwall::gateway
