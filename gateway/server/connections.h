// Internal to gateway/server/: the coroutines that serve one accepted connection.
#pragma once

#include <functional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

enum class ListenerKind { gateway, proxy };

// Serves a client connection of the base-URL gateway or the forward proxy until it closes:
// keep-alive requests, CONNECT tunnels and TLS interception included.
net::awaitable<void> serve_client(ServerState& state, Worker& worker, net::ip::tcp::socket socket, ListenerKind kind);

// Reloads the rules off the hot path and swaps them in when they pass; returns what happened.
using ReloadFunction = std::function<net::awaitable<RuleLoad>()>;

// Answers one request of the officers' review page (audit::ReviewSite) off the admin listener's
// thread: SQLite and password hashing block. By reference, alive in the caller's frame until the
// await ends: moving it into the pool coroutine's lambda capture freed it twice under GCC 12.
using ReviewFunction = std::function<net::awaitable<audit::ReviewResponse>(const audit::ReviewRequest&)>;

// Serves an admin connection: /healthz, /readyz, /metrics, /rules, POST /reload, and /review/...
// (the officers' page: its own sign-in, never the bearer token).
net::awaitable<void> serve_admin(ServerState& state, net::ip::tcp::socket socket, ReloadFunction reload,
                                 ReviewFunction review);

}  // namespace promptwall::gateway::server
