// Internal to gateway/server/: connections to upstreams and the relay of their responses.
// Templates over the client's and the upstream's stream types, so header-only; included by the
// sessions that forward (client_session.cpp, websocket_relay.cpp, transparent_session.cpp).
// Nothing here decides whether a request may leave: callers pass only what the request gate
// (request_gate.h) returned.
#pragma once

#include <array>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <spdlog/spdlog.h>

#include "gateway/adapters/content_decoder.h"
#include "gateway/pseudonyms/reply_restorer.h"
#include "gateway/record/exchange.h"
#include "gateway/server/server_state.h"

namespace promptwall::gateway::server::upstream {

namespace http = beast::http;
using tcp = net::ip::tcp;
using net::use_awaitable;
using Request = http::request<http::string_body>;

template <class Stream>
beast::tcp_stream& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// Headers that describe one hop, never forwarded (RFC 9110 7.6.1), plus the proxy's own.
inline bool is_hop_by_hop(std::string_view name) {
  static constexpr std::array<std::string_view, 9> kHop = {
      "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
      "te", "trailer", "upgrade", "transfer-encoding"};
  return std::any_of(kHop.begin(), kHop.end(), [&](std::string_view h) { return beast::iequals(h, name); });
}

inline bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

inline std::string target_key(const UpstreamTarget& t) {
  return (t.tls ? "https://" : "http://") + t.host + ":" + std::to_string(t.port);
}

inline std::string host_header(const UpstreamTarget& t) {
  std::string h = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  if (t.port != (t.tls ? 443 : 80)) h += ":" + std::to_string(t.port);
  return h;
}

// `guard`: set for a destination a client chose (a CONNECT tunnel, the forward proxy's plain
// requests): every address the host resolves to is judged by it (catalog/destination_guard.h) and
// only those that pass are connected to, so what was checked is what is reached (no second lookup
// for DNS rebinding to change). `*forbidden` is then set when every address was refused.
inline net::awaitable<std::unique_ptr<UpstreamConnection>> connect_upstream(ServerState& state, const UpstreamTarget& t,
                                                                      std::string& why,
                                                                      const DestinationGuard* guard = nullptr,
                                                                      bool* forbidden = nullptr) {
  auto executor = co_await net::this_coro::executor;
  boost::system::error_code ec;
  if (forbidden) *forbidden = false;
  tcp::resolver resolver(executor);
  auto endpoints =
      co_await resolver.async_resolve(t.host, std::to_string(t.port), net::redirect_error(use_awaitable, ec));
  if (ec) {
    why = "cannot resolve " + t.host + ": " + ec.message();
    co_return nullptr;
  }
  std::vector<tcp::endpoint> allowed;
  for (const auto& entry : endpoints) {
    if (guard) {
      const auto address = IpAddress::parse(entry.endpoint().address().to_string());
      std::optional<std::string> reason = address ? guard->forbidden_address(*address, t.port) : "not an address";
      if (reason) {
        why = t.host + " resolves to " + *reason;
        continue;
      }
    }
    allowed.push_back(entry.endpoint());
  }
  if (allowed.empty()) {
    if (forbidden) *forbidden = !why.empty();
    if (why.empty()) why = "cannot resolve " + t.host + ": no address";
    co_return nullptr;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(state.config.limits.timeouts.upstream_connect);
  co_await stream.async_connect(allowed, net::redirect_error(use_awaitable, ec));
  if (ec) {
    why = "cannot connect to " + host_header(t) + ": " + ec.message();
    co_return nullptr;
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  auto conn = std::make_unique<UpstreamConnection>(UpstreamConnection{std::move(stream), target_key(t), {}});
  if (!t.tls) co_return conn;

  TlsStream tls(std::move(std::get<beast::tcp_stream>(conn->stream)), state.upstream_tls);
  SSL* ssl = tls.native_handle();
  // Verified against the system store (+ the configured extra CA): name or IP must match.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip_literal(t.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, t.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, t.host.c_str());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, t.host.c_str(), 0);
  }
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
  lowest(tls).expires_after(state.config.limits.timeouts.upstream_connect);
  co_await tls.async_handshake(ssl::stream_base::client, net::redirect_error(use_awaitable, ec));
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    why = "TLS to " + host_header(t) + " failed: " +
          (verify != X509_V_OK ? std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify)
                               : ec.message());
    co_return nullptr;
  }
  conn->stream.emplace<TlsStream>(std::move(tls));
  co_return conn;
}

// What happened to a forwarded request.
struct RelayResult {
  enum class Failure { none, upstream_before_response, upstream_timeout, upstream_mid_body, client_gone };
  Failure failure = Failure::none;
  std::string why;
  bool client_keep_alive = false;
  bool upstream_reusable = false;
};

// `out` marked failed with `failure`, `what` happened and the error's message: the one spelling of
// every way a relay ends early.
inline RelayResult failed(RelayResult out, RelayResult::Failure failure, std::string_view what,
                          const boost::system::error_code& ec) {
  out.failure = failure;
  out.why = std::string(what) + ": " + ec.message();
  return out;
}

// Sees the whole answer to an upload step (gateway/uploads/: a file id, an upload URL) before it
// is relayed, and may change its header fields (the Google upload URL pointed back at the gateway).
using AnswerHook = std::function<void(unsigned status, http::fields& fields, std::string_view body)>;
// An upload step's answer is small JSON; one bigger than this is relayed unread (nothing learned).
inline constexpr uint64_t kMaxObservedAnswerBytes = 1 << 20;

// A reply whose pseudonyms are restored (gateway/pseudonyms/) is read whole when it declares a
// length up to this (then sent with its new length), and streamed through the restorer otherwise.
inline constexpr uint64_t kMaxRestoredWholeBytes = 16 << 20;

// The reply to a request whose body carried pseudonyms, read whole (its length is declared and
// bounded): decoded when the upstream compressed it anyway, restored, re-lengthed, written.
template <class ClientStream, class UpstreamStream>
net::awaitable<RelayResult> relay_restored_whole(ServerState& state, ClientStream& client, UpstreamStream& upstream,
                                                 beast::flat_buffer& upstream_buffer,
                                                 http::response_parser<http::buffer_body>& parser,
                                                 const PseudonymSpellings& spellings, RelayResult out, Exchange& ex) {
  boost::system::error_code ec;
  http::response_parser<http::string_body> whole(std::move(parser));
  whole.body_limit(kMaxRestoredWholeBytes);
  lowest(upstream).expires_after(state.config.limits.timeouts.upstream_response);
  co_await http::async_read(upstream, upstream_buffer, whole, net::redirect_error(use_awaitable, ec));
  if (ec) co_return failed(out, RelayResult::Failure::upstream_mid_body, "upstream broke off its response", ec);
  http::response<http::string_body> answer = whole.release();
  const std::string coding(answer[http::field::content_encoding]);
  bool restorable = true;
  if (!coding.empty() && !beast::iequals(coding, "identity")) {
    // Asked for identity; compressed all the same: decoded here (a reply it cannot decode goes as is).
    DecodedBody decoded = decode_content(coding, answer.body(), kMaxRestoredWholeBytes);
    if (decoded.status == DecodedBody::Status::ok) {
      answer.body() = std::move(decoded.body);
      answer.erase(http::field::content_encoding);
    } else {
      restorable = false;
      spdlog::warn("{} reply not restored: {}", ex.request_id, decoded.error);
    }
  }
  if (restorable) {
    size_t restored = 0;
    answer.body() = ReplyRestorer::restore_whole(
        spellings, ReplyRestorer::framing_of(answer[http::field::content_type]), answer.body(), &restored);
  }
  answer.prepare_payload();
  answer.keep_alive(out.client_keep_alive);
  ex.bytes_out += answer.body().size();
  lowest(client).expires_after(state.config.limits.timeouts.idle);
  co_await http::async_write(client, answer, net::redirect_error(use_awaitable, ec));
  if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away", ec);
  if (upstream_buffer.size() > 0) out.upstream_reusable = false;
  co_return out;
}

// The reply to a request whose body carried pseudonyms, streamed (SSE, chunked, close-delimited):
// each piece through the ReplyRestorer as it arrives, sent chunked (HTTP/1.0 clients: raw, then
// the connection closes); never buffered whole.
template <class ClientStream, class UpstreamStream>
net::awaitable<RelayResult> relay_restored_stream(ServerState& state, ClientStream& client, UpstreamStream& upstream,
                                                  beast::flat_buffer& upstream_buffer,
                                                  http::response_parser<http::buffer_body>& parser,
                                                  std::shared_ptr<const PseudonymSpellings> spellings,
                                                  unsigned client_version, RelayResult out, Exchange& ex) {
  boost::system::error_code ec;
  const auto& timeouts = state.config.limits.timeouts;
  auto& res = parser.get();
  http::response<http::empty_body> head{res.result(), 11};
  for (const auto& field : res)
    if (!beast::iequals(field.name_string(), "content-length") && !beast::iequals(field.name_string(), "transfer-encoding"))
      head.insert(field.name(), field.name_string(), field.value());
  const bool chunked = client_version >= 11;
  if (!chunked) out.client_keep_alive = false;
  head.keep_alive(out.client_keep_alive);
  head.chunked(chunked);
  http::response_serializer<http::empty_body> serializer{head};
  lowest(client).expires_after(timeouts.idle);
  co_await http::async_write_header(client, serializer, net::redirect_error(use_awaitable, ec));
  if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away", ec);
  ReplyRestorer restorer(std::move(spellings), ReplyRestorer::framing_of(res[http::field::content_type]));
  std::array<char, 8192> chunk;
  bool finished = false;
  while (!finished) {
    std::string piece;
    if (!parser.is_done()) {
      res.body().data = chunk.data();
      res.body().size = chunk.size();
      lowest(upstream).expires_after(timeouts.upstream_response);
      co_await http::async_read_some(upstream, upstream_buffer, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return failed(out, RelayResult::Failure::upstream_mid_body, "upstream broke off its response", ec);
      piece = restorer.push(std::string_view(chunk.data(), chunk.size() - res.body().size));
    }
    if (parser.is_done()) {
      piece += restorer.finish();
      finished = true;
    }
    if (piece.empty() && !finished) continue;
    ex.bytes_out += piece.size();
    lowest(client).expires_after(timeouts.idle);
    if (chunked && !piece.empty())
      co_await net::async_write(client, http::make_chunk(net::buffer(piece)), net::redirect_error(use_awaitable, ec));
    else if (!piece.empty())
      co_await net::async_write(client, net::buffer(piece), net::redirect_error(use_awaitable, ec));
    if (!ec && finished && chunked)
      co_await net::async_write(client, http::make_chunk_last(), net::redirect_error(use_awaitable, ec));
    if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away mid-response", ec);
  }
  if (upstream_buffer.size() > 0) out.upstream_reusable = false;
  co_return out;
}

// Sends `request` upstream and relays the response back to the client as it arrives: headers as
// soon as they come, then the body piece by piece (server-sent events are never buffered whole).
// With `hook`, a response that declares a length of at most kMaxObservedAnswerBytes is read whole,
// shown to the hook, then relayed (upload steps only: their answers are small and not streamed).
// With `restore` (the request's body carried pseudonyms), the reply's labels are put back
// (relay_restored_whole, relay_restored_stream); without, the bytes are relayed as they came.
template <class ClientStream, class UpstreamStream>
net::awaitable<RelayResult> relay(ServerState& state, ClientStream& client, UpstreamStream& upstream,
                                  Request& request, bool client_keep_alive, const std::vector<std::pair<std::string, std::string>>& extra_headers,
                                  Exchange& ex, const AnswerHook* hook = nullptr,
                                  std::shared_ptr<const PseudonymSpellings> restore = nullptr,
                                  unsigned client_version = 11) {
  RelayResult out;
  boost::system::error_code ec;
  const auto& timeouts = state.config.limits.timeouts;

  lowest(upstream).expires_after(timeouts.upstream_response);
  co_await http::async_write(upstream, request, net::redirect_error(use_awaitable, ec));
  if (ec) co_return failed(out, RelayResult::Failure::upstream_before_response, "sending to upstream", ec);

  beast::flat_buffer upstream_buffer;
  std::optional<http::response_parser<http::buffer_body>> parsed;
  for (;;) {
    parsed.emplace();
    parsed->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (request.method() == http::verb::head) parsed->skip(true);
    co_await http::async_read_header(upstream, upstream_buffer, *parsed, net::redirect_error(use_awaitable, ec));
    if (ec)
      co_return failed(out,
                       ec == beast::error::timeout ? RelayResult::Failure::upstream_timeout
                                                   : RelayResult::Failure::upstream_before_response,
                       "waiting for the upstream's response", ec);
    // Interim 1xx responses (we never send Expect upstream, but 103 Early Hints exist): skip.
    if (parsed->get().result_int() >= 200) break;
  }
  auto& parser = *parsed;
  auto& res = parser.get();
  out.upstream_reusable = res.keep_alive();
  const bool delimited = res.chunked() || res.has_content_length() || request.method() == http::verb::head ||
                         res.result_int() == 204 || res.result_int() == 304;
  out.client_keep_alive = client_keep_alive && delimited;
  out.upstream_reusable = out.upstream_reusable && delimited;
  for (auto it = res.begin(); it != res.end();) {
    const auto name = it->name_string();
    if (is_hop_by_hop(name) && !beast::iequals(name, "transfer-encoding"))
      it = res.erase(it);
    else
      ++it;
  }
  for (const auto& [name, value] : extra_headers) res.set(name, value);
  res.keep_alive(out.client_keep_alive);
  ex.status = res.result_int();

  const bool small = !res.chunked() && res.has_content_length() &&
                     parser.content_length().value_or(kMaxObservedAnswerBytes + 1) <= kMaxObservedAnswerBytes;
  if (hook && *hook && small && request.method() != http::verb::head) {
    // Read whole (its length is known and small), shown to the hook, then written in one piece.
    http::response_parser<http::string_body> whole(std::move(parser));
    whole.body_limit(kMaxObservedAnswerBytes);
    co_await http::async_read(upstream, upstream_buffer, whole, net::redirect_error(use_awaitable, ec));
    if (ec) co_return failed(out, RelayResult::Failure::upstream_mid_body, "upstream broke off its response", ec);
    http::response<http::string_body> answer = whole.release();
    (*hook)(answer.result_int(), answer.base(), answer.body());
    answer.keep_alive(out.client_keep_alive);
    ex.bytes_out += answer.body().size();
    lowest(client).expires_after(timeouts.idle);
    co_await http::async_write(client, answer, net::redirect_error(use_awaitable, ec));
    if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away", ec);
    if (upstream_buffer.size() > 0) out.upstream_reusable = false;
    co_return out;
  }

  if (restore && request.method() != http::verb::head && res.result_int() != 204 && res.result_int() != 304) {
    const auto coding = res[http::field::content_encoding];
    const bool encoded = !coding.empty() && !beast::iequals(coding, "identity");
    const bool whole = !res.chunked() && res.has_content_length() &&
                       parser.content_length().value_or(kMaxRestoredWholeBytes + 1) <= kMaxRestoredWholeBytes;
    if (whole) co_return co_await relay_restored_whole(state, client, upstream, upstream_buffer, parser, *restore, out, ex);
    if (!encoded)
      co_return co_await relay_restored_stream(state, client, upstream, upstream_buffer, parser, std::move(restore),
                                               client_version, out, ex);
    spdlog::warn("{} reply not restored: streamed with Content-Encoding {}", ex.request_id, std::string(coding));
  }

  http::serializer<false, http::buffer_body> serializer{res};
  lowest(client).expires_after(timeouts.idle);
  co_await http::async_write_header(client, serializer, net::redirect_error(use_awaitable, ec));
  if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away", ec);

  std::array<char, 8192> chunk;
  do {
    if (!parser.is_done()) {
      res.body().data = chunk.data();
      res.body().size = chunk.size();
      lowest(upstream).expires_after(timeouts.upstream_response);
      co_await http::async_read_some(upstream, upstream_buffer, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return failed(out, RelayResult::Failure::upstream_mid_body, "upstream broke off its response", ec);
      res.body().size = chunk.size() - res.body().size;
      // No data this time must be a null pointer: an empty non-null buffer would go out as a
      // zero-length chunk, which ends a chunked body.
      res.body().data = res.body().size ? chunk.data() : nullptr;
      res.body().more = !parser.is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
    }
    ex.bytes_out += res.body().size;
    lowest(client).expires_after(timeouts.idle);
    co_await http::async_write(client, serializer, net::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return failed(out, RelayResult::Failure::client_gone, "client went away mid-response", ec);
  } while (!parser.is_done() && !serializer.is_done());
  if (upstream_buffer.size() > 0) out.upstream_reusable = false;  // bytes beyond the response: do not reuse
  co_return out;
}

}  // namespace promptwall::gateway::server::upstream
