// The raw-socket attack suite (issue 15): bytes no HTTP library would send, straight onto the real
// `promptwall serve` on loopback, through the base-URL listener, the forward proxy (absolute-form)
// and the intercepting proxy (CONNECT, then TLS with the organisation CA). Every case asserts both
// ends: what the client got (the status, and whether the connection closed) and what the fake
// upstream received (nothing, or exactly the requests expected with their method, path and body
// byte for byte, and no smuggled one), and then that a clean request on a fresh connection still
// passes. The framing rules these cases demand are gateway/server/request_framing.h.
//
// One gateway serves every case (short header and body timeouts, so the slowloris cases take about
// a second); each case is its own DYNAMIC_SECTION named "<listener>: <case>", so a failure names it.
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <sstream>

#include "expectations.h"
#include "raw_connection.h"

using namespace promptwall::e2e;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// The gateway and its listeners

GatewayOptions attack_options() {
  GatewayOptions o;
  // 4 MiB: the 100,000-key JSON is read, a 5 MB string is not. A second on the header timeout.
  o.limits = "{max_body_bytes: 4MiB, max_header_bytes: 16KiB, timeouts: {header: 1s, idle: 30s, body: 2s, "
             "upstream_response: 3s}}";
  return o;
}

GatewayFixture& attack_gateway() {
  static GatewayFixture fixture(attack_options());
  return fixture;
}

uint16_t port_of(const std::string& url) { return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))); }

// Where a case's bytes go, and how its placeholders read there: {TARGET} the request target of
// Anthropic's messages endpoint, {HOST} the Host a client would send.
struct Listener {
  std::string name;
  uint16_t port = 0;
  std::string target, host;
  bool intercepted = false;  // CONNECT api.anthropic.com:443, then TLS
};

std::vector<Listener> listeners(const GatewayFixture& gw) {
  return {
      {"base-url", gw.gateway_port(), "/anthropic/v1/messages", "127.0.0.1:" + std::to_string(gw.gateway_port()), false},
      {"proxy", port_of(gw.proxy()), "http://api.anthropic.com/v1/messages", "api.anthropic.com", false},
      {"intercepted", port_of(gw.proxy()), "/v1/messages", "api.anthropic.com", true},
  };
}

// What the Anthropic upstream is asked for, whichever listener the request came through.
constexpr const char* kUpstreamPath = "/v1/messages";

std::string anthropic_body(const std::string& text) {
  return json{{"model", "claude-3-5-haiku-latest"}, {"max_tokens", 16},
              {"messages", json::array({{{"role", "user"}, {"content", text}}})}}
      .dump();
}

const std::string kCleanBody = anthropic_body(kClean);
const std::string kStampedBody = anthropic_body(kSecretLine);
const std::string kSmuggledBody = anthropic_body("smuggled past the gateway");

std::string fill(std::string bytes, const Listener& l) {
  bytes = replace_all(std::move(bytes), "{TARGET}", l.target);
  return replace_all(std::move(bytes), "{HOST}", l.host);
}

// A connection to the listener, through CONNECT and TLS for the intercepting one.
std::unique_ptr<RawConnection> open(const GatewayFixture& gw, const Listener& l) {
  auto conn = std::make_unique<RawConnection>(l.port);
  if (!l.intercepted) return conn;
  conn->send("CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n");
  const std::string& got = conn->read_until([](const std::string& s) { return contains(s, "\r\n\r\n"); }, 5s);
  if (got.rfind("HTTP/1.1 200", 0) != 0) throw std::runtime_error("CONNECT refused: " + got);
  conn->forget_received();
  if (!conn->start_tls("api.anthropic.com", gw.certs().org_ca_crt.string()))
    throw std::runtime_error("interception: " + conn->why());
  return conn;
}

// ---------------------------------------------------------------------------------------------
// Requests

std::string hex(size_t n) {
  std::ostringstream s;
  s << std::hex << n;
  return s.str();
}

// POST {TARGET} with `headers` (each ending in CRLF) and `body` as is: no length is added.
std::string post_raw(const std::string& headers, const std::string& body, const std::string& version = "HTTP/1.1") {
  return "POST {TARGET} " + version + "\r\n" + headers + "\r\n" + body;
}

std::string content_length(const std::string& body) { return "Content-Length: " + std::to_string(body.size()) + "\r\n"; }

const std::string kHost = "Host: {HOST}\r\n";
const std::string kJson = "Content-Type: application/json\r\n";

// A clean POST with a Content-Length, and `extra` headers.
std::string clean_post(const std::string& extra = "", const std::string& body = kCleanBody) {
  return post_raw(kHost + kJson + extra + content_length(body), body);
}

std::string chunked(const std::string& body, const std::string& ext = "", const std::string& trailers = "") {
  return hex(body.size()) + ext + "\r\n" + body + "\r\n0\r\n" + trailers + "\r\n";
}

// A complete clean request that would reach the upstream if it were read as a second request.
const std::string kSmuggled = "POST {TARGET} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n" +
                              content_length(kSmuggledBody) + "\r\n" + kSmuggledBody;

// ---------------------------------------------------------------------------------------------
// Cases

enum class Expect {
  refused,    // the first answer is `status` (and, with `closes`, nothing after it); nothing upstream
  dropped,    // the connection closes without any answer; nothing upstream
  forwarded,  // `forwards` requests upstream, the first with `method`, `path_suffix` and `body`
};

struct Case {
  std::string name;
  std::string bytes;                 // with {TARGET} and {HOST}
  Expect expect = Expect::refused;
  int status = 400;                  // refused: the first final answer's status
  bool closes = true;                // refused: the gateway closes the connection after it
  std::string reason = "malformed_request";  // refused: the audit event's reason ("" = not checked)
  std::string log_says;              // refused: the log line of the refusal names this (the violation)
  std::string body;                  // forwarded: what the first request upstream carried
  std::string method = "POST";
  std::string path_suffix;           // forwarded: after kUpstreamPath
  size_t answers = 1;                // final answers expected
  size_t forwards = 1;               // forwarded: requests expected upstream
  std::string after_continue;        // sent once the gateway answers 100 Continue
  std::vector<int> statuses;         // every final answer's status, in order (empty: not checked)
  bool large = false;                // megabytes of body: run after the rest
};

Case refused(std::string name, std::string bytes, std::string log_says = "", int status = 400) {
  Case c;
  c.name = std::move(name);
  c.bytes = std::move(bytes);
  c.log_says = std::move(log_says);
  c.status = status;
  return c;
}

Case forwarded(std::string name, std::string bytes, std::string body = kCleanBody) {
  Case c;
  c.name = std::move(name);
  c.bytes = std::move(bytes);
  c.expect = Expect::forwarded;
  c.body = std::move(body);
  return c;
}

std::vector<Case> framing_cases() {
  const std::string& b = kCleanBody;
  const std::string cl = content_length(b);
  const std::string te = "Transfer-Encoding: chunked\r\n";
  std::vector<Case> cases = {
      // Request smuggling: two lengths, or one a second reader would take otherwise.
      refused("CL.TE: Content-Length then Transfer-Encoding", post_raw(kHost + kJson + cl + te, chunked(b))),
      refused("TE.CL: Transfer-Encoding then Content-Length", post_raw(kHost + kJson + te + cl, chunked(b))),
      refused("CL.TE smuggling a second request",
              post_raw(kHost + kJson + "Content-Length: " + std::to_string(5 + kSmuggled.size()) + "\r\n" + te,
                       "0\r\n\r\n" + kSmuggled)),
      refused("TE.CL smuggling a second request",
              post_raw(kHost + kJson + te + "Content-Length: 4\r\n", hex(kSmuggled.size()) + "\r\n" + kSmuggled + "\r\n0\r\n\r\n")),
      refused("TE: gzip then Content-Length (Beast takes the length)",
              post_raw(kHost + kJson + "Transfer-Encoding: gzip\r\n" + cl, b), "transfer_encoding_not_chunked"),
      refused("duplicate Content-Length, equal", post_raw(kHost + kJson + cl + cl, b), "content_length_repeated"),
      refused("duplicate Content-Length, different",
              post_raw(kHost + kJson + cl + "Content-Length: " + std::to_string(b.size() + 10) + "\r\n", b)),
      refused("Content-Length as a list '5, 5'",
              post_raw(kHost + kJson + "Content-Length: " + std::to_string(b.size()) + ", " + std::to_string(b.size()) + "\r\n", b),
              "content_length_invalid"),
      refused("Content-Length with a leading +", post_raw(kHost + kJson + "Content-Length: +" + std::to_string(b.size()) + "\r\n", b)),
      refused("Content-Length negative", post_raw(kHost + kJson + "Content-Length: -1\r\n", b)),
      refused("Content-Length in hex", post_raw(kHost + kJson + "Content-Length: 0x" + hex(b.size()) + "\r\n", b)),
      refused("Content-Length with a space inside", post_raw(kHost + kJson + "Content-Length: 1 0\r\n", b)),
      refused("Content-Length empty", post_raw(kHost + kJson + "Content-Length: \r\n", b)),
      refused("Content-Length past 64 bits", post_raw(kHost + kJson + "Content-Length: 99999999999999999999999\r\n", b)),
      // Transfer-Encoding spelled oddly: exactly chunked (any case, whitespace around) or refused.
      forwarded("TE 'chunked ' (trailing space)", post_raw(kHost + kJson + "Transfer-Encoding: chunked \r\n", chunked(b))),
      forwarded("TE 'Chunked'", post_raw(kHost + kJson + "Transfer-Encoding: Chunked\r\n", chunked(b))),
      forwarded("TE '\\tchunked'", post_raw(kHost + kJson + "Transfer-Encoding:\tchunked\r\n", chunked(b))),
      refused("TE 'x-chunked'", post_raw(kHost + kJson + "Transfer-Encoding: x-chunked\r\n", chunked(b)),
              "transfer_encoding_not_chunked"),
      refused("TE 'chunked, identity'", post_raw(kHost + kJson + "Transfer-Encoding: chunked, identity\r\n", chunked(b)),
              "transfer_encoding_not_chunked"),
      refused("TE 'identity' with the body read as a second request",
              post_raw(kHost + kJson + "Transfer-Encoding: identity\r\n", kSmuggled), "transfer_encoding_not_chunked"),
      refused("TE 'gzip' alone", post_raw(kHost + kJson + "Transfer-Encoding: gzip\r\n", kSmuggled),
              "transfer_encoding_not_chunked"),
      refused("TE 'gzip, chunked'", post_raw(kHost + kJson + "Transfer-Encoding: gzip, chunked\r\n", chunked(b)),
              "transfer_encoding_not_chunked"),
      refused("two TE fields, chunked twice", post_raw(kHost + kJson + te + te, chunked(b))),
      refused("two TE fields, gzip then chunked",
              post_raw(kHost + kJson + "Transfer-Encoding: gzip\r\n" + te, chunked(b)), "transfer_encoding_not_chunked"),
      refused("TE empty", post_raw(kHost + kJson + "Transfer-Encoding: \r\n", kSmuggled), "transfer_encoding_not_chunked"),
      refused("TE quoted '\"chunked\"'", post_raw(kHost + kJson + "Transfer-Encoding: \"chunked\"\r\n", chunked(b)),
              "transfer_encoding_not_chunked"),
      refused("TE 'chunked,' (empty list item)", post_raw(kHost + kJson + "Transfer-Encoding: chunked,\r\n", chunked(b)),
              "transfer_encoding_not_chunked"),
      refused("TE with obs-fold", post_raw(kHost + kJson + "Transfer-Encoding:\r\n chunked\r\n", chunked(b)), "obs_fold"),
      refused("TE in an HTTP/1.0 request", post_raw(kHost + kJson + te, chunked(b), "HTTP/1.0"), "transfer_encoding_in_http10"),
      // Line folding, line endings, control characters.
      refused("obs-fold in a custom header", clean_post("X-Note: first\r\n second\r\n"), "obs_fold"),
      refused("obs-fold with a tab", clean_post("X-Note: first\r\n\tsecond\r\n"), "obs_fold"),
      refused("whitespace before the first header", "POST {TARGET} HTTP/1.1\r\n " + kHost + kJson + cl + "\r\n" + b, "obs_fold"),
      refused("bare LF line endings throughout",
              "POST {TARGET} HTTP/1.1\nHost: {HOST}\nContent-Type: application/json\n" +
                  replace_all(cl, "\r\n", "\n") + "\n" + b,
              "bare_line_ending"),
      refused("a bare LF in one header line", clean_post("X-Note: a\nX-Other: b\r\n"), "bare_line_ending"),
      refused("a bare CR in a header value", clean_post("X-Note: a\rb\r\n"), "bare_line_ending"),
      refused("NUL in a header value", clean_post(std::string("X-Note: a\0b\r\n", 13))),
      refused("NUL in a header name", clean_post(std::string("X-No\0te: a\r\n", 12))),
      refused("a space before the colon", clean_post("X-Note : a\r\n")),
      refused("CRLF in the path", "POST {TARGET}\r\n/x HTTP/1.1\r\n" + kHost + kJson + cl + "\r\n" + b),
      refused("a space in the path", "POST {TARGET} x HTTP/1.1\r\n" + kHost + kJson + cl + "\r\n" + b),
      refused("NUL in the path", std::string("POST {TARGET}\0x HTTP/1.1\r\n", 26) + kHost + kJson + cl + "\r\n" + b),
      // Host: exactly one, and an authority.
      refused("no Host on HTTP/1.1", post_raw(kJson + cl, b), "host_missing"),
      refused("Host twice, the same", post_raw(kHost + kHost + kJson + cl, b), "host_repeated"),
      refused("Host twice, different", post_raw(kHost + "Host: api.openai.com\r\n" + kJson + cl, b), "host_repeated"),
      refused("Host with userinfo", post_raw("Host: user:pw@{HOST}\r\n" + kJson + cl, b), "host_invalid"),
      refused("Host empty", post_raw("Host: \r\n" + kJson + cl, b), "host_invalid"),
      refused("Host with a bad port", post_raw("Host: gw.example:99999\r\n" + kJson + cl, b), "host_invalid"),
      // Versions and protocols this listener does not speak.
      refused("Upgrade: h2c", clean_post("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"),
              "h2c_upgrade"),
      refused("HTTP/2 preface", std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0", 33), "unparsable (bad version)"),
      refused("HTTP/1.2", post_raw(kHost + kJson + cl, b, "HTTP/1.2"), "unparsable (bad version)"),
      refused("HTTP/3.0", post_raw(kHost + kJson + cl, b, "HTTP/3.0"), "unparsable (bad version)"),
      refused("HTTP/0.9 request line", "GET {TARGET}\r\n\r\n"),
      refused("a method with a separator", "PO(ST {TARGET} HTTP/1.1\r\n" + kHost + kJson + cl + "\r\n" + b),
      // Chunks: extensions are read past, bad sizes refused.
      forwarded("a chunk extension", post_raw(kHost + kJson + te, chunked(b, ";name=value"))),
      forwarded("a chunk extension with a quoted value", post_raw(kHost + kJson + te, chunked(b, ";n=\"a;b\""))),
      forwarded("a body in many one-byte chunks", post_raw(kHost + kJson + te, [&] {
                  std::string out;
                  for (char c : b) out += "1\r\n" + std::string(1, c) + "\r\n";
                  return out + "0\r\n\r\n";
                }())),
      refused("a chunk size past 64 bits", post_raw(kHost + kJson + te, "fffffffffffffffffff\r\n" + b + "\r\n0\r\n\r\n")),
      refused("a negative chunk size", post_raw(kHost + kJson + te, "-5\r\nhello\r\n0\r\n\r\n")),
      refused("a chunk size in 0x hex", post_raw(kHost + kJson + te, "0x" + hex(b.size()) + "\r\n" + b + "\r\n0\r\n\r\n")),
      refused("a chunk without its CRLF", post_raw(kHost + kJson + te, hex(b.size()) + "\r\n" + b + "0\r\n\r\n")),
      refused("a chunk longer than its size",
              post_raw(kHost + kJson + te, hex(b.size() - 5) + "\r\n" + b + "\r\n0\r\n\r\n")),
      // Trailers: read like headers (and scanned like them).
      forwarded("a clean trailer", post_raw(kHost + kJson + te + "Trailer: X-Note\r\n", chunked(b, "", "X-Note: fine\r\n"))),
      refused("a trailer naming a Content-Length",
              post_raw(kHost + kJson + te, chunked(b, "", "Content-Length: " + std::to_string(b.size() + 100) + "\r\n"))),
      refused("a trailer naming a Transfer-Encoding",
              post_raw(kHost + kJson + te, chunked(b, "", "Transfer-Encoding: gzip\r\n"))),
      // Beast unfolds a folded trailer into one value, which leaves as a header we write ourselves.
      forwarded("a trailer with obs-fold", post_raw(kHost + kJson + te, chunked(b, "", "X-Note: a\r\n b\r\n"))),
  };
  {
    Case c = refused("a stamp in a trailer",
                     post_raw(kHost + kJson + te + "Trailer: X-Note\r\n", chunked(b, "", std::string("X-Note: ") + kSecretLine + "\r\n")));
    c.status = 403;
    c.closes = false;
    c.reason = "sensitive_content";
    cases.push_back(c);
  }
  // Expect: 100-continue: the body follows the interim answer.
  {
    Case c = forwarded("Expect: 100-continue, clean", post_raw(kHost + kJson + "Expect: 100-continue\r\n" + cl, ""));
    c.after_continue = b;
    cases.push_back(c);
  }
  {
    Case c = refused("Expect: 100-continue, stamped",
                     post_raw(kHost + kJson + "Expect: 100-continue\r\n" + content_length(kStampedBody), ""));
    c.after_continue = kStampedBody;
    c.status = 403;
    c.closes = false;
    c.reason = "sensitive_content";
    cases.push_back(c);
  }
  // Pipelining: each request judged on its own.
  {
    Case c = forwarded("pipelined: clean, then stamped", clean_post() + clean_post("", kStampedBody));
    c.answers = 2;
    c.statuses = {200, 403};
    cases.push_back(c);
  }
  {
    Case c = forwarded("pipelined: stamped, then clean", clean_post("", kStampedBody) + clean_post());
    c.answers = 2;
    c.statuses = {403, 200};
    cases.push_back(c);
  }
  {
    Case c = forwarded("pipelined: three clean", clean_post() + clean_post() + clean_post());
    c.answers = 3;
    c.forwards = 3;
    c.statuses = {200, 200, 200};
    cases.push_back(c);
  }
  {
    Case c = forwarded("pipelined: clean, then TE gzip smuggling one more",
                       clean_post() + post_raw(kHost + kJson + "Transfer-Encoding: gzip\r\n", kSmuggled));
    c.answers = 2;
    c.statuses = {200, 400};
    cases.push_back(c);
  }
  // HTTP/1.0: no Host needed; keep-alive only when asked.
  {
    Case c = forwarded("HTTP/1.0 without Host", post_raw(kJson + cl, b, "HTTP/1.0"));
    cases.push_back(c);
  }
  {
    const std::string one = post_raw(kHost + kJson + "Connection: keep-alive\r\n" + cl, b, "HTTP/1.0");
    Case c = forwarded("HTTP/1.0 with keep-alive, two requests", one + one);
    c.answers = 2;
    c.forwards = 2;
    c.statuses = {200, 200};
    cases.push_back(c);
  }
  // Odd methods and targets.
  {
    Case c = forwarded("a %00 in the path", post_raw(kHost + kJson + cl, b));
    c.bytes = replace_all(c.bytes, "{TARGET}", "{TARGET}%00");
    c.path_suffix = "%00";
    cases.push_back(c);
  }
  {
    Case c = refused("a fragment in the target", post_raw(kHost + kJson + cl, b), "target_fragment");
    c.bytes = replace_all(c.bytes, "{TARGET}", "{TARGET}#fragment");
    cases.push_back(c);
  }
  for (const char* method : {"pOsT", "post", "QUERY"}) {
    Case c = refused(std::string("the method ") + method, post_raw(kHost + kJson + cl, b), "unknown_method");
    c.bytes.replace(0, 4, method);
    cases.push_back(c);
  }
  // Sizes: the body limit, the header limit, many fields.
  {
    const std::string huge = anthropic_body(std::string(5 * 1024 * 1024, 'a'));
    Case c = refused("a 5 MB string, past the body limit", clean_post("", huge));
    c.large = true;
    c.status = 413;
    c.reason = "body_too_large";
    cases.push_back(c);
  }
  {
    const std::string huge = anthropic_body(std::string(5 * 1024 * 1024, 'a'));
    Case c = refused("a 5 MB string in chunks, past the body limit", post_raw(kHost + kJson + te, chunked(huge)));
    c.large = true;
    c.status = 413;
    c.reason = "body_too_large";
    cases.push_back(c);
  }
  {
    std::string fields;
    for (int i = 0; i < 1000; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
    Case c = forwarded("a thousand headers", clean_post(fields));
    c.large = true;
    cases.push_back(c);
  }
  {
    std::string fields;
    for (int i = 0; i < 1000; ++i) fields += "X-Header-" + std::to_string(i) + ": value-value\r\n";
    Case c = refused("a thousand headers past the header limit", clean_post(fields));
    c.status = 431;
    c.reason = "header_too_large";
    cases.push_back(c);
  }
  {
    Case c = refused("one header line past the header limit", clean_post("X-Long: " + std::string(20000, 'a') + "\r\n"));
    c.status = 431;
    c.reason = "header_too_large";
    cases.push_back(c);
  }
  // JSON a parser could choke on.
  {
    std::string deep = "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"metadata\":";
    deep += std::string(10000, '[') + std::string(10000, ']') + "}";
    Case c = refused("deep JSON, 10,000 levels", clean_post("", deep));
    c.closes = false;
    c.reason = "unreadable_body";
    cases.push_back(c);
  }
  {
    std::string wide = "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"metadata\":{";
    for (int i = 0; i < 100000; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
    wide += "}}";
    Case c = forwarded("wide JSON, 100,000 keys", clean_post("", wide), wide);
    c.large = true;
    cases.push_back(c);
  }
  for (const auto& [name, escape] : std::vector<std::pair<std::string, std::string>>{
           {"a lone high surrogate \\ud800", "\\ud800"},
           {"a lone low surrogate \\udc00", "\\udc00"},
           {"surrogates reversed \\udc00\\ud800", "\\udc00\\ud800"}}) {
    const std::string body = "{\"model\":\"m\",\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"a" + escape + "b\"}]}";
    Case c = refused(name, clean_post("", body));
    c.closes = false;
    c.reason = "unreadable_body";
    cases.push_back(c);
  }
  return cases;
}

// Cases whose bytes only make sense on one listener.
std::vector<Case> listener_cases(const Listener& l) {
  std::vector<Case> cases;
  const std::string cl = content_length(kCleanBody);
  if (l.name == "proxy") {
    // RFC 9112 7.2: the target's authority wins; the upstream gets its own Host, never the client's.
    cases.push_back(forwarded("absolute-form with a Host naming another site",
                              post_raw("Host: evil.example\r\n" + kJson + cl, kCleanBody)));
  }
  if (l.name == "base-url") {
    Case c = refused("absolute-form on the base-URL listener",
                     "POST http://{HOST}{TARGET} HTTP/1.1\r\n" + kHost + kJson + cl + "\r\n" + kCleanBody);
    c.reason = "unsupported_request";
    cases.push_back(c);
  }
  if (l.name != "proxy") {
    Case c = refused("CONNECT on a listener that is not the proxy", "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n");
    c.reason = "unsupported_request";
    cases.push_back(c);
  }
  {
    Case c = refused("a very long method", std::string(4000, 'A') + " {TARGET} HTTP/1.1\r\n" + kHost + kJson + cl + "\r\n" + kCleanBody);
    c.reason = "";  // an unknown method: checked below for what it is
    cases.push_back(c);
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Running a case

// A clean request on a fresh connection passes: the gateway still serves.
void check_still_serving(GatewayFixture& gw, const Listener& l) {
  const auto m = gw.mark();
  auto conn = open(gw, l);
  conn->send(fill(clean_post("Connection: close\r\n"), l));
  const auto answers = conn->responses(1, 10s);
  INFO("after the case, a clean request through " << l.name << " got:\n" << tail(conn->received(), 1500));
  REQUIRE(RawConnection::finals(answers) >= 1);
  CHECK(answers.back().status == 200);
  const auto got = gw.forwarded_since(m);
  REQUIRE(got.size() == 1);
  CHECK(body_of(got[0]) == kCleanBody);
}

// The log line of the exchange answered with `request_id`.
std::string log_line_of(const GatewayFixture& gw, const std::string& request_id) {
  for (const auto& line : complete_lines(gw.log()))
    if (contains(line, request_id) && contains(line, "refused")) return line;
  return {};
}

void run_case(GatewayFixture& gw, const Listener& l, const Case& c) {
  const auto m = gw.mark();
  auto conn = open(gw, l);
  const std::string bytes = fill(c.bytes, l);
  conn->send(bytes);
  if (!c.after_continue.empty()) {
    conn->read_until([](const std::string& s) { return contains(s, "HTTP/1.1 100"); }, 5s);
    INFO("waiting for 100 Continue, got: " << conn->received());
    REQUIRE(contains(conn->received(), "HTTP/1.1 100 Continue\r\n"));
    conn->send(c.after_continue);
  }
  auto answers = conn->responses(c.answers, 8s);
  // A refusal that closes: the close is part of the answer (nothing after it is read).
  if (c.expect != Expect::forwarded && c.closes) conn->wait_closed(5s);
  answers = parse_responses(conn->received(), conn->closed());
  std::vector<int> finals;
  for (const auto& a : answers)
    if (a.status >= 200) finals.push_back(a.status);
  const auto upstream = gw.forwarded_since(m);
  INFO("sent (first 600 bytes): " << json(bytes.substr(0, 600)).dump(-1, ' ', false, json::error_handler_t::replace));
  INFO("received:\n" << tail(conn->received(), 2000));
  INFO("upstream received " << upstream.size() << ": "
                            << tail(json(upstream).dump(-1, ' ', false, json::error_handler_t::replace), 1500));
  INFO(gw.where_to_look());

  switch (c.expect) {
    case Expect::refused: {
      REQUIRE_FALSE(finals.empty());
      CHECK(finals.front() == c.status);
      CHECK(upstream.empty());
      if (c.closes) {
        CHECK(conn->closed());
        CHECK(finals.size() == 1);  // nothing read after the refusal, smuggled or not
      }
      const std::string request_id = answers.back().header("X-Promptwall-Request-Id");
      CHECK_FALSE(request_id.empty());
      if (!c.reason.empty()) {
        const auto events = gw.decisions_since(m);
        INFO("decisions: " << json(events).dump());
        REQUIRE_FALSE(events.empty());
        CHECK(events.front().value("reason", "") == c.reason);
        CHECK(events.front().value("forwarded", true) == false);
      }
      if (!c.log_says.empty()) {
        REQUIRE(gw.log_eventually_contains(request_id));
        const std::string line = log_line_of(gw, request_id);
        INFO("log line: " << line);
        CHECK(contains(line, "malformed request head: " + c.log_says));
      }
      break;
    }
    case Expect::dropped:
      CHECK(conn->wait_closed(5s));
      CHECK(finals.empty());
      CHECK(upstream.empty());
      break;
    case Expect::forwarded: {
      REQUIRE(finals.size() == c.answers);
      if (c.statuses.empty()) CHECK(finals.front() == 200);
      else CHECK(finals == c.statuses);
      REQUIRE(upstream.size() == c.forwards);
      for (const auto& record : upstream) {
        CHECK(record.value("method", "") == c.method);
        CHECK(record.value("url", "") == kUpstreamPath + c.path_suffix);
        CHECK(body_of(record) == c.body);
        CHECK(record["headers"].value("content-length", "") == std::to_string(c.body.size()));
        CHECK_FALSE(record["headers"].contains("transfer-encoding"));
        CHECK_FALSE(record["headers"].contains("upgrade"));
        // The upstream's own Host, whatever the client said (RFC 9112 7.2 for absolute-form).
        CHECK(record["headers"].value("host", "") == "127.0.0.1:" + std::to_string(gw.upstream().port()));
      }
      break;
    }
  }
}

}  // namespace

TEST_CASE("raw-socket attacks on each listener: refused and nothing forwarded, or forwarded exactly once",
          "[e2e][attack]") {
  GatewayFixture& gw = attack_gateway();
  size_t ran = 0;
  // Built once: Catch2 runs this body once per section. Case by case, each on every listener: the
  // large bodies come last, so the records read after every case stay small until then.
  static const std::vector<Case> shared = framing_cases();
  const std::vector<Listener> all = listeners(gw);
  std::vector<std::pair<const Listener*, Case>> runs;
  for (const Case& c : shared)
    for (const Listener& l : all) runs.emplace_back(&l, c);
  for (const Listener& l : all)
    for (Case& c : listener_cases(l)) runs.emplace_back(&l, std::move(c));
  std::stable_partition(runs.begin(), runs.end(), [](const auto& run) { return !run.second.large; });
  for (const auto& [l, c] : runs) {
    DYNAMIC_SECTION(l->name << ": " << c.name) {
      run_case(gw, *l, c);
      check_still_serving(gw, *l);
    }
    ++ran;
  }
  // Catch2 runs the test case once per leaf section; the count is the same on every run.
  INFO("cases: " << ran);
  CHECK(ran >= 100);
}

namespace {

// A listener of the test's own on loopback (IPv4 and, when it can, IPv6 on the same port) that
// tells whether anyone connected to it: where a refused CONNECT must never reach.
class Witness {
 public:
  Witness() {
    v4_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (v4_ < 0 || ::bind(v4_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(v4_, 8) != 0 ||
        ::getsockname(v4_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot open the witness listener");
    port_ = ntohs(a.sin_port);
    v6_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    a6.sin6_port = htons(port_);
    const int one = 1;
    if (v6_ >= 0) ::setsockopt(v6_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (v6_ < 0 || ::bind(v6_, reinterpret_cast<sockaddr*>(&a6), sizeof a6) != 0 || ::listen(v6_, 8) != 0) {
      if (v6_ >= 0) ::close(v6_);
      v6_ = -1;
    }
  }
  ~Witness() {
    for (int fd : {v4_, v6_})
      if (fd >= 0) ::close(fd);
  }
  uint16_t port() const { return port_; }
  bool has_ipv6() const { return v6_ >= 0; }
  // Connections accepted since the last call (each closed at once).
  int connections() {
    int n = 0;
    for (int fd : {v4_, v6_}) {
      if (fd < 0) continue;
      for (int c; (c = ::accept(fd, nullptr, nullptr)) >= 0; ++n) ::close(c);
    }
    return n;
  }

 private:
  int v4_ = -1, v6_ = -1;
  uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("raw-socket attacks: CONNECT and absolute-form targets on loopback, link-local and our own listeners "
          "are refused before any connection",
          "[e2e][attack]") {
  GatewayFixture& gw = attack_gateway();
  Witness witness;
  const std::string p = std::to_string(witness.port());
  const uint16_t proxy = port_of(gw.proxy());
  std::vector<std::string> targets = {"127.0.0.1:" + p,  "127.1:" + p,        "0x7f000001:" + p, "2130706433:" + p,
                                      "0177.0.0.1:" + p, "localhost:" + p,    "LOCALHOST.:" + p, "api.localhost:" + p,
                                      "169.254.169.254:80", "[::ffff:127.0.0.1]:" + p, "0.0.0.0:" + p,
                                      "127.0.0.1:" + std::to_string(gw.gateway_port()), "127.0.0.1:" + std::to_string(proxy),
                                      "127.0.0.1:" + std::to_string(port_of(gw.admin_url("")))};
  if (witness.has_ipv6()) targets.push_back("[::1]:" + p);
  for (const std::string& target : targets) {
    for (const bool connect : {true, false}) {
      // Named with the witness's port as "<witness>": the port differs on each run of the test case.
      DYNAMIC_SECTION((connect ? "CONNECT " : "absolute-form GET http://") << replace_all(target, p, "<witness>")) {
        const auto m = gw.mark();
        RawConnection conn(proxy);
        conn.send(connect ? "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n"
                          : "GET http://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
        const auto answers = conn.responses(1, 8s);
        INFO("received: " << conn.received());
        REQUIRE(RawConnection::finals(answers) == 1);
        CHECK(answers[0].status == 403);
        CHECK_FALSE(contains(conn.received(), "Connection established"));
        CHECK(witness.connections() == 0);
        CHECK(gw.forwarded_since(m).empty());
        const auto events = gw.decisions_since(m);
        REQUIRE_FALSE(events.empty());
        CHECK(events.front().value("reason", "") == "forbidden_destination");
      }
    }
  }
  SECTION("CONNECT with userinfo in the target") {
    RawConnection conn(proxy);
    conn.send("CONNECT user@api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n");
    const auto answers = conn.responses(1, 8s);
    REQUIRE(RawConnection::finals(answers) == 1);
    CHECK(answers[0].status == 400);
  }
  // The witness itself is reachable: the refusals above are the gateway's, not a dead port's.
  RawConnection direct(witness.port());
  std::this_thread::sleep_for(50ms);
  CHECK(witness.connections() == 1);
}

TEST_CASE("raw-socket attacks: slowloris, a head sent a byte at a time, is cut at the header timeout", "[e2e][attack]") {
  GatewayFixture& gw = attack_gateway();
  // Dripped at 100 ms a byte, this head takes about 8 s; the header timeout is 1 s.
  const std::string dripped = "POST /anthropic/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n";
  for (const bool after_a_request : {false, true}) {
    for (const bool proxy : {false, true}) {
      DYNAMIC_SECTION((proxy ? "proxy" : "base-url") << (after_a_request ? ": the second request on a keep-alive connection"
                                                                          : ": the first request")) {
        const auto m = gw.mark();
        RawConnection conn(proxy ? port_of(gw.proxy()) : gw.gateway_port());
        std::string head = dripped;
        if (proxy) head = replace_all(head, "POST /anthropic", "POST http://api.anthropic.com");
        if (after_a_request) {
          // The idle timeout (30 s) runs until the next request's first byte, then the header one.
          const Listener l = listeners(gw)[proxy ? 1 : 0];
          conn.send(fill(clean_post(), l));
          const auto answers = conn.responses(1, 8s);
          REQUIRE(RawConnection::finals(answers) == 1);
          REQUIRE(answers[0].status == 200);
        }
        const auto before = gw.mark();
        size_t sent = 0;
        for (; sent < head.size(); ++sent)
          if (!conn.send(head.substr(sent, 1)) || conn.wait_closed(100ms)) break;
        INFO("bytes sent before the close: " << sent << " of " << head.size());
        CHECK(conn.closed());
        CHECK(sent < head.size());
        CHECK(gw.forwarded_since(before).empty());
        CHECK(gw.forwarded_since(m).size() == (after_a_request ? 1u : 0u));
      }
    }
  }
  check_still_serving(gw, listeners(gw)[0]);
}
