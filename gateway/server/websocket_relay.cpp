#include "gateway/server/websocket_relay.h"

#include <algorithm>
#include <memory>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "gateway/server/audit_events.h"
#include "gateway/server/connections.h"
#include "gateway/server/request_gate.h"
#include "gateway/server/upstream_relay.h"

namespace promptwall::gateway::server {

namespace http = beast::http;
namespace websocket = beast::websocket;
using net::use_awaitable;
using Request = http::request<http::string_body>;

namespace {

// Request headers the upstream handshake must not get from the client: this hop's own, and those
// Beast writes for the upstream connection itself (its key and version; no extension is offered).
bool is_handshake_own(std::string_view name) {
  for (std::string_view h : {"host", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
                             "content-length", "expect"})
    if (beast::iequals(name, h)) return true;
  return upstream::is_hop_by_hop(name);
}

bool looks_like_json(std::string_view s) {
  const auto first = std::find_if(s.begin(), s.end(), [](char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; });
  return first != s.end() && (*first == '{' || *first == '[');
}

template <class Stream>
void set_timeouts(websocket::stream<Stream&>& ws, const ServerState& state) {
  upstream::lowest(ws.next_layer()).expires_never();  // the websocket stream keeps its own timeouts
  websocket::stream_base::timeout t;
  t.handshake_timeout = state.config.limits.timeouts.upstream_connect;
  // Chat sessions sit idle for long stretches, like tunnels: at least ten minutes, kept alive by pings.
  t.idle_timeout = std::max(state.config.limits.timeouts.idle, std::chrono::milliseconds(600'000));
  t.keep_alive_pings = true;
  ws.set_option(t);
  ws.read_message_max(state.config.limits.max_body_bytes);
}

// One client→upstream message of an inspected service: its own exchange, scanned like a request body.
struct MessageVerdict {
  bool forward = false;
  std::string text;  // what to send upstream when forward
  std::optional<Refusal> refusal;
};

template <class ClientStream, class UpstreamStream>
class WebSocketSession {
 public:
  WebSocketSession(ServerState& state, Worker& worker, const Origin& origin, ClientStream& client,
                   UpstreamStream& upstream, const WebSocketTarget& target, Exchange& upgrade_ex)
      : state_(state), worker_(worker), origin_(origin), client_(client), upstream_(upstream), target_(target),
        upgrade_ex_(upgrade_ex) {}

  net::awaitable<WebSocketOutcome> run(Request& upgrade) {
    WebSocketOutcome out;
    boost::system::error_code ec;
    set_timeouts(upstream_, state_);
    upstream_.set_option(websocket::stream_base::decorator([&upgrade](websocket::request_type& r) {
      for (const auto& field : upgrade)
        if (!is_handshake_own(field.name_string())) r.insert(field.name(), field.name_string(), field.value());
    }));
    websocket::response_type upstream_answer;
    co_await upstream_.async_handshake(upstream_answer, upstream::host_header(target_.upstream), target_.target,
                                       net::redirect_error(use_awaitable, ec));
    if (ec) {
      out.why = "upstream WebSocket handshake: " + ec.message() + " (status " +
                std::to_string(upstream_answer.result_int()) + ")";
      co_return out;
    }
    const std::string protocol(upstream_answer[http::field::sec_websocket_protocol]);
    const std::string request_id = upgrade_ex_.request_id;
    set_timeouts(client_, state_);
    client_.set_option(websocket::stream_base::decorator([protocol, request_id](websocket::response_type& r) {
      if (!protocol.empty()) r.set(http::field::sec_websocket_protocol, protocol);
      r.set("X-Promptwall-Request-Id", request_id);
    }));
    co_await client_.async_accept(upgrade, net::redirect_error(use_awaitable, ec));
    out.upgraded = true;
    upgrade_ex_.status = 101;
    if (ec) {
      spdlog::info("{} {} WebSocket handshake with the client failed: {}", request_id, origin_.client, ec.message());
      co_await close_upstream(websocket::close_code::going_away);
      co_return out;
    }

    // upstream → client runs beside client → upstream; the session ends when both are done.
    auto executor = co_await net::this_coro::executor;
    net::steady_timer upstream_done(executor, net::steady_timer::time_point::max());
    bool upstream_finished = false;
    net::co_spawn(executor, relay_upstream_to_client(), [&](std::exception_ptr) {
      upstream_finished = true;
      upstream_done.cancel();
    });
    co_await relay_client_to_upstream();
    if (!upstream_finished) co_await upstream_done.async_wait(net::redirect_error(use_awaitable, ec));
    co_return out;
  }

 private:
  bool inspected() const { return target_.service != nullptr && target_.service->inspect; }

  net::awaitable<void> relay_upstream_to_client() {
    boost::system::error_code ec;
    for (;;) {
      beast::flat_buffer message;
      co_await upstream_.async_read(message, net::redirect_error(use_awaitable, ec));
      if (ec) break;
      if (client_closing_) continue;
      client_.text(upstream_.got_text());
      if (pseudonym_spellings_ && upstream_.got_text()) {
        // Labels this connection's messages carried are put back, each message whole (a label
        // the upstream splits across two messages stays a label).
        const std::string text = beast::buffers_to_string(message.data());
        const auto framing = looks_like_json(text) ? ReplyRestorer::Framing::json : ReplyRestorer::Framing::text;
        const std::string restored = ReplyRestorer::restore_whole(*pseudonym_spellings_, framing, text);
        upgrade_ex_.bytes_out += restored.size();
        co_await client_.async_write(net::buffer(restored), net::redirect_error(use_awaitable, ec));
        if (ec) break;
        continue;
      }
      upgrade_ex_.bytes_out += message.size();
      co_await client_.async_write(message.data(), net::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    // The upstream closed (or failed): pass the close on.
    websocket::close_reason why = upstream_.reason();
    if (why.code == websocket::close_code::none) why.code = websocket::close_code::going_away;
    co_await close_client(why);
  }

  net::awaitable<void> relay_client_to_upstream() {
    boost::system::error_code ec;
    for (;;) {
      beast::flat_buffer message;
      co_await client_.async_read(message, net::redirect_error(use_awaitable, ec));
      if (ec == websocket::error::message_too_big) {
        Exchange ex = message_exchange(state_.config.limits.max_body_bytes);
        co_await refuse_exchange(ex, Refusal::because(Refusal::Reason::body_too_large, ex.request_id));
        co_return;
      }
      if (ec) break;
      const bool text = client_.got_text();
      std::string payload = beast::buffers_to_string(message.data());
      if (!inspected()) {
        upstream_.text(text);
        co_await upstream_.async_write(net::buffer(payload), net::redirect_error(use_awaitable, ec));
        if (ec) break;
        continue;
      }
      if (!co_await inspect_and_forward(std::move(payload), text)) co_return;
    }
    // The client closed (or failed): pass the close on.
    websocket::close_reason why = client_.reason();
    if (why.code == websocket::close_code::none) why.code = websocket::close_code::going_away;
    co_await close_upstream(why);
  }

  // A client message's own exchange: its request id, the session's service and path.
  Exchange message_exchange(size_t bytes) {
    Exchange ex;
    ex.request_id = state_.new_request_id(worker_);
    ex.service = target_.service;
    ex.method = "WEBSOCKET";
    ex.path = upgrade_ex_.path;
    ex.rules = state_.rules.load();
    ex.bytes_in = bytes;
    return ex;
  }

  // One message of an inspected service, through the same gate as an HTTP request (request_gate.h).
  // Returns whether the session goes on.
  net::awaitable<bool> inspect_and_forward(std::string payload, bool text) {
    Exchange ex = message_exchange(payload.size());
    if (!text) {
      // Fail closed: a binary frame cannot be read, so it cannot be scanned.
      co_return co_await refuse_exchange(ex, Refusal::because(Refusal::Reason::unreadable_body, ex.request_id));
    }
    const std::string_view content_type = looks_like_json(payload) ? "application/json" : "text/plain";
    // The sender's unit and groups decide here as they do for an HTTP request.
    // Named, not a temporary inside co_await: GCC 12 destroys such aggregate temporaries twice.
    Outgoing outgoing{target_.service, target_.schema_path, content_type, "", std::move(payload)};
    GateDecision gate = co_await decide_and_record(state_, worker_, origin_, ex, std::move(outgoing));
    if (gate.refusal) co_return co_await refuse_exchange(ex, *gate.refusal, /*already_recorded=*/true);
    remember_pseudonyms(gate.pseudonyms);
    boost::system::error_code ec;
    upstream_.text(true);
    co_await upstream_.async_write(net::buffer(gate.body), net::redirect_error(use_awaitable, ec));
    ex.status = ec ? 502 : 200;
    record(state_.metrics, origin_, ex);
    co_return !ec;
  }

  // The labels a message's redaction issued join the ones the upstream's messages are restored
  // with (this connection's, for this requester: never another connection's or requester's). Both
  // directions run on this connection's worker, one at a time, so no lock.
  void remember_pseudonyms(const std::vector<Pseudonym>& issued) {
    bool added = false;
    for (const Pseudonym& p : issued) {
      const bool known = std::any_of(pseudonyms_.begin(), pseudonyms_.end(),
                                     [&](const Pseudonym& q) { return q.label == p.label; });
      if (!known) {
        pseudonyms_.push_back(p);
        added = true;
      }
    }
    if (added) pseudonym_spellings_ = std::make_shared<const PseudonymSpellings>(pseudonyms_);
  }

  // Records the refused message's exchange, then ends the session: 1008 to the client, 1000 upstream.
  net::awaitable<bool> refuse_exchange(Exchange& ex, const Refusal& refusal, bool already_recorded = false) {
    if (!already_recorded) ex.refusal = refusal;
    ex.status = 1008;
    spdlog::info("{} {} WebSocket message refused: {}", ex.request_id, origin_.client, to_string(refusal.reason));
    write_event(state_, worker_, origin_, ex);
    record(state_.metrics, origin_, ex);
    co_await close_client(websocket::close_reason(websocket::close_code::policy_error, websocket_close_reason(refusal)));
    co_await close_upstream(websocket::close_code::normal);
    co_return false;
  }

  net::awaitable<void> close_client(websocket::close_reason why) {
    if (client_closing_) co_return;
    client_closing_ = true;
    boost::system::error_code ec;
    co_await client_.async_close(why, net::redirect_error(use_awaitable, ec));
  }

  net::awaitable<void> close_upstream(websocket::close_reason why) {
    if (upstream_closing_) co_return;
    upstream_closing_ = true;
    boost::system::error_code ec;
    co_await upstream_.async_close(why, net::redirect_error(use_awaitable, ec));
  }

  ServerState& state_;
  Worker& worker_;
  const Origin& origin_;
  websocket::stream<ClientStream&> client_;
  websocket::stream<UpstreamStream&> upstream_;
  const WebSocketTarget& target_;
  Exchange& upgrade_ex_;
  bool client_closing_ = false;
  bool upstream_closing_ = false;
  std::vector<Pseudonym> pseudonyms_;  // issued to this connection's messages
  std::shared_ptr<const PseudonymSpellings> pseudonym_spellings_;  // null until one is issued
};

}  // namespace

bool is_websocket_upgrade(const Request& request) {
  if (request.method() != http::verb::get) return false;
  if (!beast::iequals(request[http::field::upgrade], "websocket")) return false;
  // Connection is a comma-separated token list: "keep-alive, Upgrade".
  std::string_view connection = request[http::field::connection];
  while (!connection.empty()) {
    const size_t comma = connection.find(',');
    std::string_view token = connection.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (beast::iequals(token, "upgrade")) return true;
    connection = comma == std::string_view::npos ? std::string_view{} : connection.substr(comma + 1);
  }
  return false;
}

template <class ClientStream, class UpstreamStream>
net::awaitable<WebSocketOutcome> relay_websocket(ServerState& state, Worker& worker, const Origin& origin,
                                                 ClientStream& client, Request& upgrade, UpstreamStream& upstream,
                                                 const WebSocketTarget& target, Exchange& ex) {
  WebSocketSession<ClientStream, UpstreamStream> session(state, worker, origin, client, upstream, target, ex);
  co_return co_await session.run(upgrade);
}

template net::awaitable<WebSocketOutcome> relay_websocket<beast::tcp_stream, beast::tcp_stream>(
    ServerState&, Worker&, const Origin&, beast::tcp_stream&, Request&, beast::tcp_stream&, const WebSocketTarget&, Exchange&);
template net::awaitable<WebSocketOutcome> relay_websocket<beast::tcp_stream, TlsStream>(
    ServerState&, Worker&, const Origin&, beast::tcp_stream&, Request&, TlsStream&, const WebSocketTarget&, Exchange&);
template net::awaitable<WebSocketOutcome> relay_websocket<TlsStream, beast::tcp_stream>(
    ServerState&, Worker&, const Origin&, TlsStream&, Request&, beast::tcp_stream&, const WebSocketTarget&, Exchange&);
template net::awaitable<WebSocketOutcome> relay_websocket<TlsStream, TlsStream>(
    ServerState&, Worker&, const Origin&, TlsStream&, Request&, TlsStream&, const WebSocketTarget&, Exchange&);

}  // namespace promptwall::gateway::server
