// Internal to gateway/server/: handing an exchange's audit event to the trail, from a worker's
// coroutine. Includes Asio.
//
// Invariant: a request that should be recorded (needs_audit_event) is forwarded only after
// write_event_durably() returned true; when the trail cannot be written it returns false and the
// caller refuses the request (audit_unavailable): nothing leaves unrecorded.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "gateway/record/exchange.h"
#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

// Whether AI traffic may flow: the trail is writable (checked before any work is done for a
// request, so an outage refuses at once rather than after a scan).
bool audit_available(const ServerState& state);

// Builds the exchange's event now and waits, without blocking the worker, until it is durable.
// Marks the exchange audited. true = durable (or the exchange needs no event).
net::awaitable<bool> write_event_durably(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex);

// For exchanges that end without forwarding (refusals): writes the event when it needs one and was
// not written yet, without waiting; a failure is logged.
void write_event(ServerState& state, Worker& worker, const Origin& origin, Exchange& ex);

}  // namespace promptwall::gateway::server
