// TransparentRoute: what the transparent listener does with a connection the firewall redirected
// to it, once its first bytes have named the host (the TLS ClientHello's SNI, or the Host header of
// plain HTTP), or have named none.
//
// Invariants: a host of an inspected or unapproved service is never spliced: it is intercepted
// (TLS, needs the organisation CA), inspected (plain HTTP), or, when TLS cannot be intercepted,
// closed. TLS that names no host (no SNI), or hides it (Encrypted Client Hello: the SNI is then the
// outer, public name and not the real host), to an address an AI service's host resolves to
// (catalog/ai_address_map.h) is refused, unless `destinations.ai_addresses: tunnel`: it cannot be
// inspected, and a splice would let it leave unseen. Everything else is spliced untouched to where
// the client was going. Pure: the decision depends only on its arguments.
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
    refuse,        // TLS naming no host (or hiding it) to an AI service's address: uninspectable
  };
  enum class Protocol : uint8_t { tls, http };

  Action action = Action::splice;
  const Service* service = nullptr;  // set for every action but splice
};

std::string_view to_string(TransparentRoute::Action action);

// What the first bytes and the original destination say about where a connection goes.
struct TransparentTarget {
  std::string_view host;          // the SNI or the Host header's host (any case, no port); "" = none
  bool host_hidden = false;       // TLS with Encrypted Client Hello: `host` is only the outer name
  const Service* address_owner = nullptr;  // the AI service whose host resolves to the original address
};

// `can_intercept`: an organisation CA is loaded. `refuse_ai_addresses`: destinations.ai_addresses
// is refuse (the default); false (tunnel) splices what names no host whatever its address.
TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   const TransparentTarget& target, bool can_intercept,
                                   bool refuse_ai_addresses = true);
// A connection that named `host` and nothing else is known about it.
TransparentRoute route_transparent(const ServiceCatalog& catalog, TransparentRoute::Protocol protocol,
                                   std::string_view host, bool can_intercept);

}  // namespace promptwall::gateway
