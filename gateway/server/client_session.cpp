// One client connection of the base-URL gateway or the forward proxy: the request loop.
//
//   read request head (limits, timeouts) ─► identify the requester ─► serve_request, in stages:
//   route_request ─► read_body ─► decide_and_record (request_gate.h: inspect, audit durably)
//   ─► upstream_request ─► forward (relay the response back as it arrives) ─► metrics and log
//   ─► next keep-alive request
// Each stage returns what the next needs or a Stop (the refusal to answer with); answer() sends
// it through refusal_writer.h.
//
// A CONNECT on the proxy listener comes back out of the loop to connect_tunnel.cpp (a blind
// tunnel, or TLS interception that runs this same loop inside with serve_intercepted()). The
// transparent listener (transparent_session.cpp) uses the same pieces once it has judged a
// redirected connection: serve_intercepted() for TLS to an AI host, the request loop
// (Origin::Kind::transparent_http, routed by Host) for plain HTTP, splice() for everything else.
#include <algorithm>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
#include <array>
#include <charconv>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "encoding/web_text.h"
#include "gateway/catalog/host_name.h"
#include "gateway/coaching/justification_input.h"
#include "gateway/catalog/request_path.h"
#include "gateway/record/exchange.h"
#include "gateway/server/audit_events.h"
#include "gateway/server/connections.h"
#include "gateway/server/proxy_header_reader.h"
#include "gateway/server/refusal_writer.h"
#include "gateway/server/request_framing.h"
#include "gateway/server/request_gate.h"
#include "gateway/server/upload_flow.h"
#include "gateway/server/upstream_relay.h"
#include "gateway/server/websocket_relay.h"

namespace promptwall::gateway::server {

namespace http = beast::http;
using tcp = net::ip::tcp;
using net::use_awaitable;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

namespace {

using upstream::connect_upstream;
using upstream::host_header;
using upstream::is_hop_by_hop;
using upstream::lowest;
using upstream::relay;
using upstream::RelayResult;
using upstream::target_key;

// ---------------------------------------------------------------------------------------------
// Small pure pieces

// The path without its query string: queries can carry API keys (Gemini's `?key=`), so logs and
// decisions never show them.
std::string_view path_only(std::string_view target) { return target.substr(0, target.find('?')); }

// Where one request goes.
struct Route {
  const Service* service = nullptr;  // null: not a known service, forwarded untouched (proxy only)
  UpstreamTarget upstream;
  std::string target;                // request-target sent upstream (origin-form)
  std::string schema_path;           // the path the schema sees (after the service prefix)
  std::string host;                  // Host header sent upstream; empty = the upstream's own
};

// Why a request goes no further: the refusal the client is answered with (none when there is no
// one left to answer), the service whose API shape the answer takes (null: plain JSON), and
// whether the connection stays open after it.
struct Stop {
  std::optional<Refusal> refusal;
  const Service* service = nullptr;
  bool keep_alive = false;
};

// A stage of a request gives what the next stage needs, or a Stop.
template <class T>
using Staged = std::variant<T, Stop>;

// A stop for `refusal`, recorded on the exchange (its audit event and the log say why).
Stop stop(Exchange& ex, Refusal refusal, const Service* service, bool keep_alive = false) {
  ex.refusal = refusal;
  return Stop{std::move(refusal), service, keep_alive};
}

// ---------------------------------------------------------------------------------------------
// The request loop

template <class Stream>
class ClientSession {
 public:
  ClientSession(ServerState& state, Worker& worker, Stream& stream, beast::flat_buffer& buffer, Origin origin)
      : state_(state), worker_(worker), stream_(stream), buffer_(buffer), origin_(std::move(origin)) {}

  // Serves requests until the connection should close. Returns a CONNECT request for the caller
  // (the plain-TCP proxy connection) to handle, since CONNECT changes what the stream is.
  net::awaitable<std::optional<Request>> run() {
    const auto& limits = state_.config.limits;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
      // The body limit is set once the service is known, so an oversize body gets its API's 413.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      // The first request must arrive within the header timeout; later ones may wait for the idle
      // one, and have the header timeout from their first byte.
      lowest(stream_).expires_after(first ? limits.timeouts.header : limits.timeouts.idle);
      // The head's bytes first (request_framing.h: what Beast would unfold or wait on forever),
      // then Beast parses them from the buffer.
      FramingViolation in_bytes = FramingViolation::none;
      bool too_large = false;
      boost::system::error_code ec = co_await buffer_head(first, in_bytes, too_large);
      first = false;
      // Beast's header_limit bounds each read's share of a head, not the head: many small fields
      // arriving over several reads pass it. The buffered head is measured whole here.
      if (!ec && too_large) ec = http::error::header_limit;
      if (!ec && in_bytes == FramingViolation::none)
        co_await http::async_read_header(stream_, buffer_, parser, net::redirect_error(use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
          ec == net::error::connection_reset || ec == net::error::operation_aborted)
        co_return std::nullopt;
      Exchange ex;
      ex.request_id = state_.new_request_id(worker_);
      if (in_bytes != FramingViolation::none) {
        co_await refuse_malformed(ex, nullptr, to_string(in_bytes));
        co_return std::nullopt;
      }
      if (ec == beast::error::timeout) {
        if (buffer_.size() > 0) spdlog::info("{} {} header timeout: request head not complete in time", ex.request_id, origin_.client);
        co_return std::nullopt;
      }
      if (ec == http::error::header_limit) {
        Refusal r = Refusal::because(Refusal::Reason::header_too_large, ex.request_id);
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, origin_.service, nullptr, false, ex);
        finish(ex);
        co_return std::nullopt;
      }
      if (ec) {
        co_await refuse_malformed(ex, nullptr, "unparsable (" + ec.message() + ")");
        co_return std::nullopt;
      }

      Request& head = parser.get();
      // Smuggling's raw material (request_framing.h), refused before anything is routed or read.
      if (const FramingViolation violation = framing_of(head); violation != FramingViolation::none) {
        ex.method = std::string(head.method_string());
        ex.path = std::string(path_only(head.target()));
        co_await refuse_malformed(ex, &head, to_string(violation));
        co_return std::nullopt;
      }
      // A method Beast does not know ("pOsT", "QUERY") cannot be written upstream (Beast throws on
      // it, after the gate had recorded the request as forwarded): refused before anything else.
      if (head.method() == http::verb::unknown) {
        ex.method = "unknown";  // whatever it was, never echoed into logs whole
        ex.path = std::string(path_only(head.target()));
        co_await refuse_malformed(ex, &head, "unknown_method");
        co_return std::nullopt;
      }
      if (origin_.kind != Origin::Kind::intercepted && !co_await identify(head, ex)) {
        finish(ex);
        co_return std::nullopt;
      }
      if (head.method() == http::verb::connect) {
        if (origin_.kind == Origin::Kind::proxy) co_return parser.release();
        ex.method = "CONNECT";
        ex.path = std::string(head.target());
        Refusal r = Refusal::because(Refusal::Reason::unsupported_request, ex.request_id);
        ex.refusal = r;
        co_await send_refusal(state_, stream_, r, origin_.service, &head, false, ex);
        finish(ex);
        co_return std::nullopt;
      }
      bool keep_going = co_await serve_request(parser, ex);
      finish(ex);
      if (!keep_going) co_return std::nullopt;
    }
  }

  // The connection as it stands (its identity is the last request's: a CONNECT's, for the tunnel).
  const Origin& origin() const { return origin_; }

 private:
  void finish(Exchange& ex) { server::finish(state_, worker_, origin_, ex); }

  // Reads until the buffer holds the next request's whole head, judging its bytes as they come
  // (check_head_bytes): a violation stops the reading at once, in `violation`; a head longer than
  // limits.max_header_bytes, complete or not, in `too_large`. Returns the read's error. After the
  // first request the idle timeout runs until a byte arrives, then the header timeout: a head
  // dripped a byte at a time is cut at the header timeout, whatever the idle one.
  net::awaitable<boost::system::error_code> buffer_head(bool first, FramingViolation& violation, bool& too_large) {
    const auto& limits = state_.config.limits;
    bool header_timer = first;
    for (;;) {
      const std::string_view bytes(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      violation = check_head_bytes(bytes);
      const size_t end = find_head_end(bytes);
      too_large = end > limits.max_header_bytes || (end == 0 && bytes.size() >= limits.max_header_bytes);
      if (violation != FramingViolation::none || end != 0 || too_large) co_return boost::system::error_code{};
      if (!header_timer && !bytes.empty()) {
        lowest(stream_).expires_after(limits.timeouts.header);
        header_timer = true;
      }
      boost::system::error_code ec;
      const size_t n = co_await stream_.async_read_some(buffer_.prepare(4096), net::redirect_error(use_awaitable, ec));
      buffer_.commit(n);
      if (ec) co_return ec;
    }
  }

  // The framing rules of request_framing.h over a head Beast parsed.
  static FramingViolation framing_of(const Request& head) {
    std::vector<HeadField> fields;
    fields.reserve(16);
    for (const auto& field : head) fields.push_back({field.name_string(), field.value()});
    return check_request_framing(RequestHeadView{head.method_string(), head.target(), head.version(), fields});
  }

  // A head whose framing could be read two ways, or not at all: 400, recorded with `why` in the log
  // line, and the connection closed (whatever follows on it cannot be told apart from a smuggled
  // request).
  net::awaitable<void> refuse_malformed(Exchange& ex, const Request* head, std::string_view why) {
    spdlog::warn("{} {} refused: malformed request head: {}", ex.request_id, origin_.client, why);
    Refusal r = Refusal::because(Refusal::Reason::malformed_request, ex.request_id);
    ex.refusal = r;
    co_await send_refusal(state_, stream_, r, origin_.service, head, false, ex);
    finish(ex);
  }

  // Who sent `head` (gateway/identity/requester_identity.h); on a 407 answers it and returns false:
  // the connection then closes (the request's body, if any, was not read).
  net::awaitable<bool> identify(const Request& head, Exchange& ex) {
    auto header = [&](const std::string& name) -> std::string_view {
      return name.empty() ? std::string_view() : std::string_view(head[name]);
    };
    std::string_view proxy_authorization;
    if (auto it = head.find(http::field::proxy_authorization); it != head.end()) proxy_authorization = it->value();
    IdentityHeaders headers;
    if (const auto& trusted = state_.config.identity.trusted_header) {
      headers.user = header(trusted->user);
      headers.groups = header(trusted->groups);
      headers.unit = header(trusted->unit);
    }
    Identification id = co_await state_.identity->identify(origin_.kind == Origin::Kind::proxy, origin_.address,
                                                          proxy_authorization, headers);
    if (id.outcome == Identification::Outcome::identified) {
      origin_.identity = std::move(id.identity);
      co_return true;
    }
    origin_.identity = Identity{};
    origin_.identity.user = id.claimed_user;  // recorded as who tried; never verified
    ex.method = std::string(head.method_string());
    ex.path = std::string(head.method() == http::verb::connect ? head.target() : path_only(head.target()));
    Refusal r = Refusal::because(Refusal::Reason::proxy_auth_required, ex.request_id);
    ex.refusal = r;
    switch (id.outcome) {
      case Identification::Outcome::challenge:
        ex.audited = true;  // asking for credentials is not a decision: the trail does not record it
        break;
      case Identification::Outcome::bad_credentials:
        spdlog::warn("{} {} proxy authentication failed for user '{}'", ex.request_id, origin_.client, id.claimed_user);
        break;
      default:
        spdlog::warn("{} {} proxy authentication refused: user '{}' is locked out after repeated failures",
                     ex.request_id, origin_.client, id.claimed_user);
        break;
    }
    co_await send_refusal(state_, stream_, r, nullptr, &head, false, ex);
    co_return false;
  }

  // One request, in stages; each returns what the next needs or a Stop. Returns whether the
  // connection stays open for another request.
  //   route_request ─► (WebSocket Upgrade: serve_websocket) ─► read_body ─► decide_and_record
  //   (request_gate.h: inspect, audit durably) ─► upstream_request ─► forward
  net::awaitable<bool> serve_request(http::request_parser<http::string_body>& parser, Exchange& ex) {
    Request& req = parser.get();
    ex.method = std::string(req.method_string());
    ex.path = std::string(path_only(req.target()));
    ex.rules = state_.rules.load();

    // The justification form (gateway/coaching/): the gateway's own page, never forwarded. On the
    // base-URL gateway it sits at the root, outside every service's prefix.
    if (origin_.kind == Origin::Kind::gateway && path_only(req.target()) == coaching::kJustifyPath) {
      const Route none;  // named: GCC 12 destroys aggregate temporaries inside co_await twice
      co_return co_await serve_justification_form(parser, none, ex);
    }
    Staged<Route> routed = route_request(req, ex);
    if (const Stop* stop = std::get_if<Stop>(&routed)) co_return co_await answer(*stop, req, ex);
    const Route& route = std::get<Route>(routed);
    if (route.service && route.service->inspect && path_only(route.schema_path) == coaching::kJustifyPath)
      co_return co_await serve_justification_form(parser, route, ex);
    if (is_websocket_upgrade(req)) co_return co_await serve_websocket(route, req, ex);

    if (std::optional<Stop> stop = co_await read_body(parser, route, ex)) co_return co_await answer(*stop, req, ex);
    ex.bytes_in = req.body().size();
    const bool keep_alive = req.keep_alive();

    // A file upload's step (upload_flow.h): pieces kept, a completed upload assembled to be read.
    UploadFlow upload;
    if (route.service && route.service->inspect && route.service->upstream) {
      upload = begin_upload(state_, *route.service, req.method_string(), route.schema_path, header_lookup(req),
                            req.body(), gateway_base(req, route), ex.request_id);
      if (!upload.note.empty()) spdlog::info("{} {}", ex.request_id, upload.note);
      if (upload.refusal) co_return co_await answer(stop(ex, *upload.refusal, route.service, keep_alive), req, ex);
    }

    // Named, not a temporary inside co_await: GCC 12 destroys such aggregate temporaries twice.
    Outgoing outgoing{route.service, route.schema_path, req[http::field::content_type],
                      req[http::field::content_encoding], std::move(req.body())};
    // Read after the body: trailer fields are in `req` now, and they are forwarded as headers.
    if (route.service && route.service->inspect) outgoing.head = head_text(req, route);
    outgoing.pieces = upload.pieces;
    outgoing.completed_upload = upload.completed ? &*upload.completed : nullptr;
    outgoing.body_file_name = upload.body_file_name;
    outgoing.method = req.method_string();
    outgoing.justification_token = header_value(req, coaching::kTokenHeader);
    outgoing.justification_reason = header_value(req, coaching::kReasonHeader);
    outgoing.justify_origin = client_origin(req);
    GateDecision gate = co_await decide_and_record(state_, worker_, origin_, ex, std::move(outgoing));
    if (gate.refusal) {
      const Stop refused{*gate.refusal, route.service, keep_alive};
      co_return co_await answer(refused, req, ex);
    }

    Request up = upstream_request(req, route, std::move(gate.body), gate.rewritten);
    // Pseudonyms in the body: the reply is restored, so it is asked for uncompressed (one that
    // comes compressed anyway is decoded when read whole). Other replies are relayed as they come.
    std::shared_ptr<const PseudonymSpellings> restore;
    if (!gate.pseudonyms.empty()) {
      restore = std::make_shared<const PseudonymSpellings>(gate.pseudonyms);
      up.set(http::field::accept_encoding, "identity");
    }
    co_return co_await forward(route, req, up, keep_alive, ex, upload.learns_from_answer() ? &upload : nullptr,
                               std::move(restore));
  }

  // A header's value, when the request has the field.
  static std::optional<std::string_view> header_value(const Request& req, std::string_view name) {
    const auto it = req.find(beast::string_view(name.data(), name.size()));
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  }

  // Where the client reached what it asked for, as a browser would write it: "https://chatgpt.com"
  // (interception), "http://gw:8080" (the base-URL gateway, plain HTTP through the proxy or
  // redirected). The justification form's link is made on it. "" when unknown.
  std::string client_origin(const Request& req) const {
    const std::string_view host = req[http::field::host];
    switch (origin_.kind) {
      case Origin::Kind::intercepted:
        return origin_.host.empty() ? "" : "https://" + origin_.host;
      case Origin::Kind::proxy: {
        const std::string_view target = req.target();
        const size_t path = target.find_first_of("/?", std::string_view("http://").size());
        return std::string(target.substr(0, path));
      }
      case Origin::Kind::gateway:
      case Origin::Kind::transparent_http:
        // Only a plain host[:port]: the link is shown to the person, so nothing odd goes in it.
        if (host.empty() || host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
                                std::string_view::npos)
          return "";
        return "http://" + std::string(host);
    }
    return "";
  }

  // The justification form (coaching/coaching_step.h): GET ?t=<token> shows it, POST records the
  // reason as an approval for the requester's retry of the coached request. Answered here on every
  // inspected host, never forwarded; each page is VI then EN, HTML-escaped, no-store, framed by no
  // one, and the POST holds the form secret bound to the token and the requester (CSRF).
  net::awaitable<bool> serve_justification_form(http::request_parser<http::string_body>& parser, const Route& route,
                                                Exchange& ex) {
    Request& req = parser.get();
    if (req.method() == http::verb::post)
      if (std::optional<Stop> stop = co_await read_body(parser, route, ex)) co_return co_await answer(*stop, req, ex);
    ex.bytes_in = req.body().size();
    FormPage page = justification_form_page(req, route, ex);
    co_return co_await send_form_page(req, std::move(page), ex);
  }

  struct FormPage {
    unsigned status = 200;
    std::string body;
  };

  // A coaching page of the form's own (no findings: the request they are about is not at hand).
  Refusal form_refusal(Refusal::Coaching c, const Exchange& ex) const {
    const CoachingConfig& config = state_.config.coaching;
    c.form_action = std::string(coaching::kJustifyPath);
    c.min_reason_chars = std::max<size_t>(config.min_reason_chars, 1);
    c.lifetime_minutes = static_cast<unsigned>(std::max<int64_t>(1, config.token_lifetime.count() / 60));
    c.guidance_url = config.guidance_url;
    return Refusal::coaching_answer(std::move(c), "", ex.request_id);
  }

  FormPage form_page(unsigned status, const Refusal& r) const {
    return FormPage{status, render_refusal(Schema::json, true, r).body};
  }

  // What the form's GET or POST is answered with (synchronous: the body is read already).
  FormPage justification_form_page(const Request& req, const Route& route, const Exchange& ex) {
    const std::string client_ip = origin_.address.to_string();
    const std::string requester = coaching::requester_key(origin_.identity, client_ip);
    const auto now = std::chrono::system_clock::now();
    if (req.method() == http::verb::get) {
      const std::string_view target = route.service ? std::string_view(route.schema_path) : std::string_view(req.target());
      const size_t question = target.find('?');
      std::string token;
      for (std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1); !query.empty();) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (pair.starts_with("t=")) token = encoding::form_decode(pair.substr(2));
      }
      const coaching::TokenCheck check = state_.justification_signer.check_for_requester(token, requester, now);
      Refusal::Coaching c;
      if (check.problem == coaching::TokenProblem::none) {
        c.token = token;
        c.form_secret = state_.justification_signer.form_secret(*check.token, requester);
        c.reason_required = check.token->kind == coaching::JustificationKind::justify;
        return form_page(200, form_refusal(std::move(c), ex));
      }
      c.problem = std::string(coaching::to_string(check.problem));
      return form_page(403, form_refusal(std::move(c), ex));
    }
    if (req.method() != http::verb::post) return form_page(405, form_refusal({}, ex));
    // Another site's page posting here (the browser says so): refused before the form is read,
    // besides the form secret it could not know.
    if (const std::string_view site = req["Sec-Fetch-Site"]; !site.empty() && site != "same-origin" && site != "none") {
      Refusal::Coaching c;
      c.problem = std::string(coaching::to_string(coaching::TokenProblem::altered));
      state_.metrics.justification_refused("cross_site");
      return form_page(403, form_refusal(std::move(c), ex));
    }
    std::optional<coaching::JustificationForm> form = coaching::parse_justification_form(req.body());
    if (!form) {
      Refusal::Coaching c;
      c.problem = std::string(coaching::to_string(coaching::TokenProblem::malformed));
      state_.metrics.justification_refused(c.problem);
      return form_page(400, form_refusal(std::move(c), ex));
    }
    const CoachingConfig& config = state_.config.coaching;
    std::string reason = coaching::bound_reason(form->reason, config.max_reason_bytes);
    if (!ex.rules) {
      reason = "[*]";  // no rule set to scan it with: nothing of it is recorded
    } else if (!reason.empty()) {
      // Scanned, and what it holds masked, before it is kept for the trail.
      const ScanResult scanned = worker_.scanner.for_rules(ex.rules).scan(reason);
      if (!scanned.findings.empty()) {
        std::vector<std::pair<size_t, size_t>> spans;
        for (const auto& f : scanned.findings) spans.emplace_back(f.span.begin, f.span.end);
        reason = audit::masked_excerpt(reason, spans.front().first, spans.front().second,
                                       coaching::count_chars(reason), spans);
      }
    }
    const coaching::CoachingStep::FormResult result =
        state_.coaching.accept_form(form->token, form->secret, std::move(reason), origin_.identity, requester,
                                    coaching::requester_name(origin_.identity, client_ip), now);
    switch (result.outcome) {
      case coaching::CoachingResult::Outcome::proceed:
        spdlog::info("{} {} justification recorded on the form for token {}", ex.request_id, origin_.client,
                     result.token ? result.token->id_hex() : "");
        return FormPage{200, justification_accepted_page(ex.request_id)};
      case coaching::CoachingResult::Outcome::not_permitted: {
        state_.metrics.justification_refused("not_permitted");
        Refusal r = Refusal::sensitive({}, {}, ex.request_id);
        r.may_not_override = true;
        return form_page(403, r);
      }
      case coaching::CoachingResult::Outcome::over_cap:
        state_.metrics.justification_refused("over_cap");
        return form_page(403, Refusal::because(Refusal::Reason::override_cap_reached, ex.request_id));
      case coaching::CoachingResult::Outcome::coach:
        break;
    }
    Refusal::Coaching c;
    c.problem = std::string(coaching::to_string(result.problem));
    state_.metrics.justification_refused(c.problem);
    // Asked again with the same token when only the reason was missing (it is still unused).
    if (result.problem == coaching::TokenProblem::reason_missing && result.token) {
      c.token = form->token;
      c.form_secret = form->secret;
      c.reason_required = result.token->kind == coaching::JustificationKind::justify;
    }
    return form_page(403, form_refusal(std::move(c), ex));
  }

  net::awaitable<bool> send_form_page(const Request& req, FormPage page, Exchange& ex) {
    const bool keep_alive = req.keep_alive();
    http::response<http::string_body> res{static_cast<http::status>(page.status), req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    res.set("X-Promptwall-Request-Id", ex.request_id);
    res.body() = std::move(page.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    ex.status = page.status;
    ex.bytes_out += res.body().size();
    lowest(stream_).expires_after(state_.config.limits.timeouts.idle);
    boost::system::error_code ec;
    co_await http::async_write(stream_, res, net::redirect_error(use_awaitable, ec));
    co_return !ec && keep_alive;
  }

  // A request's header fields by name, for the pure upload pieces (uploads/upload_step.h).
  static HeaderLookup header_lookup(const http::fields& fields) {
    return [&fields](std::string_view name) -> std::optional<std::string_view> {
      const auto it = fields.find(beast::string_view(name.data(), name.size()));
      if (it == fields.end()) return std::nullopt;
      return std::string_view(it->value().data(), it->value().size());
    };
  }

  // Where a client of the base-URL gateway reaches this service ("http://gw:8080/gemini"): a Google
  // upload URL is pointed back there. Empty for the proxy modes (the URL's host is proxied anyway).
  std::string gateway_base(const Request& req, const Route& route) const {
    if (origin_.kind != Origin::Kind::gateway || !route.service) return {};
    const auto host = req[http::field::host];
    if (host.empty()) return {};
    return "http://" + std::string(host) + route.service->prefix;
  }

  // Stage 1: which service the request is for and where it goes, and whether this requester may
  // use it while the trail can record it (refused before any work is done).
  Staged<Route> route_request(const Request& req, Exchange& ex) {
    if (std::optional<Stop> forbidden = forbidden_destination(req, ex)) return *forbidden;
    std::string not_found;
    std::optional<Route> route = resolve(req, not_found);
    if (!route) {
      spdlog::info("{} {} {}", ex.request_id, origin_.client, not_found);
      return stop(ex, Refusal::because(Refusal::Reason::unsupported_request, ex.request_id), nullptr);
    }
    ex.service = route->service;
    if (!route->service) return *route;
    if (route->service->upstream)
      if (std::optional<Stop> outside = normalise_path(*route, ex)) return *outside;
    if (ServiceAccess access = state_.scopes.access(*route->service, origin_.identity); !access.allowed)
      return stop(ex, service_refusal(*route->service, access, ex.request_id), route->service);
    // Fail closed: while the trail cannot be written no AI traffic leaves.
    if (!audit_available(state_))
      return stop(ex, Refusal::because(Refusal::Reason::audit_unavailable, ex.request_id, route->service->name),
                  route->service);
    // Fail closed: without a verified rule set (rules.bundle before its first good bundle) nothing
    // leaves unscanned, and built-in packs are no silent stand-in for the organisation's rules.
    if (!ex.rules)
      return stop(ex, Refusal::because(Refusal::Reason::rules_unavailable, ex.request_id, route->service->name),
                  route->service);
    return *route;
  }

  // Stage 1b (catalog/request_path.h): the path as the upstream will resolve it. One that climbs
  // above the service's base (for the base-URL gateway the part after the prefix, otherwise "/"),
  // or hides a dot segment behind %2F, %5C, '\' or ';', is refused before any connection; one
  // with dot segments that stays inside goes on normalised.
  std::optional<Stop> normalise_path(Route& route, Exchange& ex) const {
    NormalisedPath path = normalise_request_path(route.schema_path);
    if (path.status != NormalisedPath::Status::ok) {
      spdlog::info("{} {} refused: the request path is {} for service {}", ex.request_id, origin_.client,
                   to_string(path.status), route.service->name);
      return stop(ex, Refusal::because(Refusal::Reason::forbidden_destination, ex.request_id), route.service);
    }
    if (path.changed) {
      route.target = join_upstream_path(route.upstream.base_path, path.target);
      route.schema_path = std::move(path.target);
    }
    return std::nullopt;
  }

  // The text of the request head to scan (adapters/head_segments.h): the path and query as the
  // upstream reads them and every field that is forwarded; the identity headers never leave, so
  // they are not read.
  HeadText head_text(const Request& req, const Route& route) const {
    std::vector<HeaderField> fields;
    fields.reserve(16);
    for (const auto& field : req)
      if (!state_.identity->is_identity_header(field.name_string()))
        fields.push_back({field.name_string(), field.value()});
    return HeadTextExtractor().extract(route.schema_path, fields);
  }

  // SSRF (catalog/destination_guard.h): an absolute-form target on the proxy naming loopback,
  // link-local, an unspecified address, our own listeners or a forbidden network, in any spelling,
  // is refused before anything is resolved or connected; one naming an AI service's IP address is
  // refused as uninspectable (connections.h: ai_service_at). A name's addresses are judged again when
  // it is connected to (guard_for()).
  std::optional<Stop> forbidden_destination(const Request& req, Exchange& ex) const {
    if (origin_.kind != Origin::Kind::proxy) return std::nullopt;
    constexpr std::string_view kScheme = "http://";
    const std::string_view target = req.target();
    if (target.size() < kScheme.size() || !beast::iequals(target.substr(0, kScheme.size()), kScheme)) return std::nullopt;
    const std::string_view rest = target.substr(kScheme.size());
    const std::optional<Authority> authority = parse_authority(rest.substr(0, rest.find_first_of("/?")), 80);
    if (!authority) return std::nullopt;  // resolve() refuses it as a bad target
    if (std::optional<std::string> reason = state_.destinations.forbidden_host(authority->host, authority->port)) {
      spdlog::warn("{} {} {} {} refused: {}", ex.request_id, origin_.client, ex.method, authority->host.text, *reason);
      return stop(ex, Refusal::because(Refusal::Reason::forbidden_destination, ex.request_id), nullptr);
    }
    // An AI service's address names no host to inspect the request as (as for a CONNECT to it).
    bool unknown = false;
    if (const Service* owner = ai_service_at(state_, authority->host, unknown); owner || unknown) {
      spdlog::warn("{} {} {} {} refused: {}", ex.request_id, origin_.client, ex.method, authority->host.text,
                   owner ? "the address of AI service " + owner->name : "AI service addresses not resolved yet");
      ex.service = owner;
      return stop(ex, Refusal::because(Refusal::Reason::uninspectable_connection, ex.request_id, owner ? owner->name : ""),
                  nullptr);
    }
    return std::nullopt;
  }

  // The guard for connecting where this route goes: the proxy's plain forwarding goes where the
  // client said, so each address is judged before it is connected to; a service's upstream is
  // the configuration's choice.
  const DestinationGuard* guard_for(const Route& route) const {
    return origin_.kind == Origin::Kind::proxy && !route.service ? &state_.destinations : nullptr;
  }

  // Stage 2: the body, within limits.max_body_bytes and the body timeout. An announced oversize
  // body is refused before it is read; the connection then closes, since the body was not read.
  net::awaitable<std::optional<Stop>> read_body(http::request_parser<http::string_body>& parser, const Route& route,
                                                Exchange& ex) {
    const auto& limits = state_.config.limits;
    Request& req = parser.get();
    if (auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
      ex.bytes_in = *length;
      co_return stop(ex, Refusal::because(Refusal::Reason::body_too_large, ex.request_id), route.service);
    }
    parser.body_limit(limits.max_body_bytes);
    boost::system::error_code ec;
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, req.version()};
      co_await http::async_write(stream_, cont, net::redirect_error(use_awaitable, ec));
      if (ec) co_return Stop{std::nullopt, route.service, false};  // the client is gone
    }
    if (parser.is_done()) co_return std::nullopt;
    lowest(stream_).expires_after(limits.timeouts.body);
    co_await http::async_read(stream_, buffer_, parser, net::redirect_error(use_awaitable, ec));
    if (ec == http::error::body_limit)
      co_return stop(ex, Refusal::because(Refusal::Reason::body_too_large, ex.request_id), route.service);
    if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension || ec == http::error::bad_field ||
        ec == http::error::bad_value || ec == http::error::bad_line_ending || ec == http::error::bad_content_length ||
        ec == http::error::bad_transfer_encoding) {
      // A chunk or trailer that does not parse (or a trailer that names a length): told so, and
      // the connection closed.
      spdlog::warn("{} {} refused: malformed request body: {}", ex.request_id, origin_.client, ec.message());
      co_return stop(ex, Refusal::because(Refusal::Reason::malformed_request, ex.request_id), route.service);
    }
    if (ec) {
      // Timeout or the client went away: nothing was forwarded, and there is no one to answer.
      spdlog::info("{} {} request body not received: {}", ex.request_id, origin_.client, ec.message());
      Stop silent = stop(ex, Refusal::because(Refusal::Reason::unsupported_request, ex.request_id), route.service);
      silent.refusal.reset();
      co_return silent;
    }
    co_return std::nullopt;
  }

  // Stage 4: the request as the upstream sees it: `body` (as sent, or redacted and then decoded),
  // none of the hop-by-hop or identity headers, the upstream's Host.
  Request upstream_request(const Request& req, const Route& route, std::string body, bool body_decoded) const {
    Request up{req.method(), route.target, 11};
    // Host first (RFC 9110 7.2): a server that keeps only its first so many fields keeps it.
    up.set(http::field::host, route.host.empty() ? host_header(route.upstream) : route.host);
    for (const auto& field : req) {
      const auto name = field.name_string();
      // The identity headers never go upstream, believed or not.
      // Nor the justification headers (gateway/coaching/): the gateway's own, read and dropped here.
      if (is_hop_by_hop(name) || state_.identity->is_identity_header(name) || beast::iequals(name, "host") ||
          beast::iequals(name, coaching::kTokenHeader) || beast::iequals(name, coaching::kReasonHeader) ||
          beast::iequals(name, "expect") || beast::iequals(name, "content-length") ||
          (body_decoded && beast::iequals(name, "content-encoding")))
        continue;
      up.insert(field.name(), name, field.value());
    }
    up.body() = std::move(body);
    up.prepare_payload();
    return up;
  }

  // What the client is told besides the answer: the request id, and for an inspected request the
  // decision and the rules that acted.
  static std::vector<std::pair<std::string, std::string>> decision_headers(const Exchange& ex) {
    std::vector<std::pair<std::string, std::string>> headers{{"X-Promptwall-Request-Id", ex.request_id}};
    if (!ex.inspection) return headers;
    const Inspection& inspection = *ex.inspection;
    headers.emplace_back("X-Promptwall-Decision", std::string(to_string(inspection.decision.verdict)));
    if (inspection.decision.mode == Mode::monitor) headers.emplace_back("X-Promptwall-Mode", "monitor");
    std::string ids;
    for (Action a : {Action::block, Action::justify, Action::redact, Action::warn})
      for (const auto& id : inspection.rules_acting(a)) ids += (ids.empty() ? "" : ", ") + id;
    if (!ids.empty() && inspection.decision.verdict != Verdict::allow) headers.emplace_back("X-Promptwall-Rules", ids);
    return headers;
  }

  // Stage 5: forward on a pooled connection when there is one, and relay the answer as it arrives.
  // A pooled connection the upstream has closed meanwhile fails before any response byte, and the
  // request is retried once on a new one.
  net::awaitable<bool> forward(const Route& route, const Request& req, Request& up, bool keep_alive, Exchange& ex,
                               const UploadFlow* upload = nullptr,
                               std::shared_ptr<const PseudonymSpellings> restore = nullptr) {
    const auto headers = decision_headers(ex);
    // An upload step's answer teaches ids (upload_flow.h); Google's upload URL may be rewritten.
    upstream::AnswerHook hook;
    if (upload && route.service) {
      hook = [this, upload, &route, &ex](unsigned status, http::fields& fields, std::string_view body) {
        const std::optional<std::string> url = learn_from_answer(state_, *route.service, *upload,
                                                                 ex.inspection ? &*ex.inspection : nullptr, status,
                                                                 header_lookup(fields), body);
        if (url && url->empty()) fields.erase("X-Goog-Upload-URL");
        else if (url) fields.set("X-Goog-Upload-URL", *url);
      };
    }
    const std::string service_name = route.service ? route.service->name : "";
    const std::string key = target_key(route.upstream);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<UpstreamConnection> conn = attempt == 0 ? worker_.pool.take(key) : nullptr;
      const bool reused = conn != nullptr;
      std::string why;
      bool forbidden = false;
      if (!conn) conn = co_await connect_upstream(state_, route.upstream, why, guard_for(route), &forbidden);
      if (!conn) {
        spdlog::warn("{} upstream {} {}: {}", ex.request_id, key, forbidden ? "refused" : "unavailable", why);
        const auto reason = forbidden ? Refusal::Reason::forbidden_destination : Refusal::Reason::upstream_unavailable;
        const Stop unavailable =
            stop(ex, Refusal::because(reason, ex.request_id, service_name), route.service, keep_alive);
        co_return co_await answer(unavailable, req, ex);
      }
      RelayResult result = co_await std::visit(
          [&](auto& upstream) {
            return relay(state_, stream_, upstream, up, keep_alive, headers, ex, &hook, restore, req.version());
          },
          conn->stream);
      using F = RelayResult::Failure;
      if (result.failure == F::upstream_before_response && reused) continue;
      if (result.failure == F::upstream_before_response || result.failure == F::upstream_timeout) {
        spdlog::warn("{} upstream {}: {}", ex.request_id, key, result.why);
        const auto reason = result.failure == F::upstream_timeout ? Refusal::Reason::upstream_timeout
                                                                  : Refusal::Reason::upstream_unavailable;
        const Stop failed = stop(ex, Refusal::because(reason, ex.request_id, service_name), route.service, keep_alive);
        co_return co_await answer(failed, req, ex);
      }
      if (result.failure != F::none) {
        spdlog::info("{} {}", ex.request_id, result.why);
        ex.client_aborted = result.failure == F::client_gone;
        co_return false;
      }
      if (result.upstream_reusable) {
        conn->idle_since = Clock::now();
        worker_.pool.put(std::move(conn));
      }
      co_return result.client_keep_alive;
    }
    co_return false;
  }

  // A WebSocket Upgrade (gateway/server/websocket_relay.h): recorded like a request before it
  // leaves (its messages pass the gate one by one), then the session runs until either side
  // closes; the connection ends with it.
  net::awaitable<bool> serve_websocket(const Route& route, Request& req, Exchange& ex) {
    if (buffer_.size() > 0) {
      // Frames sent before the handshake was answered: not a client we can relay faithfully.
      const Stop early = stop(ex, Refusal::because(Refusal::Reason::unsupported_request, ex.request_id), route.service);
      co_return co_await answer(early, req, ex);
    }
    // The Upgrade has no body, but its head (query, path, headers) is scanned like any request's.
    Outgoing upgrade{route.service, route.schema_path, {}, {}, {}};
    if (route.service && route.service->inspect) upgrade.head = head_text(req, route);
    if (GateDecision gate = co_await decide_and_record(state_, worker_, origin_, ex, std::move(upgrade)); gate.refusal) {
      const Stop refused{*gate.refusal, route.service, false};
      co_return co_await answer(refused, req, ex);
    }
    std::string why;
    std::unique_ptr<UpstreamConnection> conn = co_await connect_upstream(state_, route.upstream, why, guard_for(route));
    WebSocketOutcome outcome;
    if (conn) {
      const WebSocketTarget target{route.service, route.upstream, route.target, route.schema_path};
      outcome = co_await std::visit(
          [&](auto& upstream) { return relay_websocket(state_, worker_, origin_, stream_, req, upstream, target, ex); },
          conn->stream);
    }
    if (!outcome.upgraded) {
      spdlog::warn("{} WebSocket upstream {} unavailable: {}", ex.request_id, target_key(route.upstream),
                   conn ? outcome.why : why);
      ex.forwarded = false;
      const std::string service_name = route.service ? route.service->name : "";
      const Stop unavailable =
          stop(ex, Refusal::because(Refusal::Reason::upstream_unavailable, ex.request_id, service_name), route.service);
      co_return co_await answer(unavailable, req, ex);
    }
    co_return false;
  }

  // Answers a stopped request (nothing when there is no one to answer). Returns whether the
  // connection stays open.
  net::awaitable<bool> answer(const Stop& stop, const Request& req, Exchange& ex) {
    if (!stop.refusal) co_return false;
    co_return co_await send_refusal(state_, stream_, *stop.refusal, stop.service, &req, stop.keep_alive, ex);
  }

  // Which service a request is for, and where it goes.
  std::optional<Route> resolve(const Request& req, std::string& why) const {
    const std::string_view target = req.target();
    Route route;
    switch (origin_.kind) {
      case Origin::Kind::gateway: {
        auto match = state_.catalog.by_prefix(target);
        if (!match || !match->service->upstream) {
          why = "no service at " + std::string(path_only(target));
          return std::nullopt;
        }
        route.service = match->service;
        route.upstream = *match->service->upstream;
        route.schema_path = join_upstream_path("", match->rest);
        route.target = join_upstream_path(route.upstream.base_path, match->rest);
        return route;
      }
      case Origin::Kind::intercepted: {
        route.service = origin_.service;
        if (!route.service->upstream) {
          // Unapproved and nowhere to go: intercepted only to be refused, so the user sees why.
          if (!route.service->approved) return route;
          why = "service " + route.service->name + " has no upstream";
          return std::nullopt;
        }
        // An unapproved service with an upstream goes on only if a scope of the requester allows it
        // (the caller checks ServiceAccess before anything leaves).
        route.upstream = upstream_for_host(*route.service, origin_.host);
        route.schema_path = join_upstream_path("", target);
        route.target = join_upstream_path(route.upstream.base_path, target);
        return route;
      }
      case Origin::Kind::proxy: {
        // Absolute-form: http://host[:port]/path. (https:// arrives as CONNECT.)
        constexpr std::string_view kScheme = "http://";
        if (target.size() < kScheme.size() || !beast::iequals(target.substr(0, kScheme.size()), kScheme)) {
          why = "the proxy needs an absolute http:// request target";
          return std::nullopt;
        }
        std::string_view rest = target.substr(kScheme.size());
        const size_t slash = rest.find_first_of("/?");
        const std::optional<Authority> authority = parse_authority(rest.substr(0, slash), 80);
        if (!authority) {
          why = "bad host in request target";
          return std::nullopt;
        }
        std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        if (path.front() == '?') path.insert(0, "/");
        route.service = state_.catalog.by_host(authority->host);
        if (route.service && route.service->inspect && route.service->upstream) {
          route.upstream = upstream_for_host(*route.service, authority->host.text);
          route.schema_path = path;
          route.target = join_upstream_path(route.upstream.base_path, path);
          return route;
        }
        if (route.service && !route.service->approved) return route;  // refused by the caller
        // Not an AI service: forwarded as it came.
        route.service = nullptr;
        route.upstream = UpstreamTarget{false, authority->host.text, authority->port, ""};
        route.target = path;
        return route;
      }
      case Origin::Kind::transparent_http:
        return resolve_transparent(req, why);
    }
    return std::nullopt;
  }

  // Plain HTTP the firewall redirected: the client thinks it talks to the site itself, so the target
  // is origin-form and the Host header names the site. Each request is routed by its own Host.
  std::optional<Route> resolve_transparent(const Request& req, std::string& why) const {
    const std::string_view target = req.target();
    if (target.empty() || target.front() != '/') {
      why = "a redirected connection needs an origin-form request target";
      return std::nullopt;
    }
    const std::optional<Authority> authority = parse_authority(req[http::field::host], origin_.original_port);
    if (!authority) {
      why = "bad or missing Host header on a redirected connection";
      return std::nullopt;
    }
    Route route;
    route.service = state_.catalog.by_host(authority->host);
    if (route.service && route.service->inspect && route.service->upstream) {
      route.upstream = upstream_for_host(*route.service, authority->host.text);
      route.schema_path = std::string(target);
      route.target = join_upstream_path(route.upstream.base_path, target);
      return route;
    }
    if (route.service && !route.service->approved) return route;  // refused by the caller
    // Not an AI service: on to where the client was going, with the Host it sent.
    route.service = nullptr;
    route.upstream = UpstreamTarget{false, origin_.original_address, origin_.original_port, ""};
    route.target = std::string(target);
    route.host = std::string(req[http::field::host]);
    return route;
  }

  ServerState& state_;
  Worker& worker_;
  Stream& stream_;
  beast::flat_buffer& buffer_;
  Origin origin_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Interception, shared by CONNECT and the transparent listener (connections.h)

net::awaitable<void> serve_intercepted(ServerState& state, Worker& worker, beast::tcp_stream stream,
                                       beast::flat_buffer& buffer, std::shared_ptr<const LeafCertificate> leaf,
                                       std::string host, Origin inner) {
  boost::system::error_code ec;
  TlsStream tls(std::move(stream), state.intercept_tls);
  SSL* ssl = tls.native_handle();
  if (SSL_use_certificate(ssl, leaf->cert.get()) != 1 || SSL_use_PrivateKey(ssl, leaf->key.get()) != 1 ||
      SSL_add1_chain_cert(ssl, state.ca->certificate()) != 1) {
    spdlog::error("{} cannot use the certificate minted for {}", inner.client, host);
    co_return;
  }
  lowest(tls).expires_after(state.config.limits.timeouts.header);
  // The client's first bytes (its ClientHello) may already be in `buffer`.
  size_t used = co_await tls.async_handshake(ssl::stream_base::server, buffer.data(),
                                             net::redirect_error(use_awaitable, ec));
  if (ec) {
    // Most often the client does not trust the organisation CA.
    spdlog::info("{} TLS interception of {} failed: {} (does the client trust the organisation CA?)", inner.client,
                 host, ec.message());
    state.metrics.refusal("tls_handshake_failed");
    co_return;
  }
  buffer.consume(used);
  ClientSession<TlsStream> session(state, worker, tls, buffer, std::move(inner));
  co_await session.run();
  lowest(tls).expires_after(std::chrono::seconds(2));
  co_await tls.async_shutdown(net::redirect_error(use_awaitable, ec));
}

net::awaitable<void> serve_requests(ServerState& state, Worker& worker, beast::tcp_stream& stream,
                                    beast::flat_buffer& buffer, Origin origin) {
  ClientSession<beast::tcp_stream> session(state, worker, stream, buffer, std::move(origin));
  co_await session.run();  // a CONNECT comes back only on the proxy listener
}

net::awaitable<void> serve_client(ServerState& state, Worker& worker, tcp::socket socket, ListenerKind kind) {
  ConnectionCount counted(state);
  Origin origin;
  origin.kind = kind == ListenerKind::gateway ? Origin::Kind::gateway : Origin::Kind::proxy;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  const bool peer_known = !ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  if (peer_known) {
    // Behind a load balancer (listen.proxy_protocol), the client its PROXY header names.
    auto client = co_await read_client_address(state, stream, buffer, remote,
                                               kind == ListenerKind::gateway ? "gateway" : "proxy");
    if (!client) co_return;
    remote = *client;
  }
  origin.client = !peer_known ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
  if (peer_known) {
    origin.address = to_ip_address(remote.address());
    origin.identity = identity_for_address(state, remote.address());
  }

  if (counted.count() > state.config.limits.max_connections) {
    Exchange ex;
    ex.request_id = state.new_request_id(worker);
    Refusal r = Refusal::because(Refusal::Reason::overloaded, ex.request_id);
    ex.refusal = r;
    spdlog::warn("{} {} refused: {} open connections (limit {})", ex.request_id, origin.client, counted.count(),
                 state.config.limits.max_connections);
    co_await send_refusal(state, stream, r, nullptr, nullptr, false, ex);
    state.metrics.refusal("overloaded");
    co_return;
  }

  // Errors are handled where they happen (redirect_error); an exception here is a bug, and it
  // must not take the worker down with it.
  try {
    ClientSession<beast::tcp_stream> session(state, worker, stream, buffer, origin);
    std::optional<Request> connect = co_await session.run();
    if (connect)
      co_await handle_connect(state, worker, std::move(stream), buffer, std::move(*connect), session.origin());
  } catch (const std::exception& e) {
    spdlog::error("{} connection failed: {}", origin.client, e.what());
  }
}

}  // namespace promptwall::gateway::server
