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

// Serves an admin connection: /healthz, /readyz, /metrics, /rules, POST /reload.
net::awaitable<void> serve_admin(ServerState& state, net::ip::tcp::socket socket, ReloadFunction reload);

}  // namespace promptwall::gateway::server
