// Forward-proxy mode (HTTPS_PROXY=http://gateway:P2): catalogued AI hosts are intercepted with a
// leaf from the organisation CA and inspected like base-URL mode; other hosts are tunnelled
// untouched; unapproved services are refused at CONNECT. Issue 12: upload hosts are intercepted,
// the unlisted-AI list is refused, and no spelling of loopback, link-local, "this host" or the
// gateway's own listeners is ever connected to (SSRF).
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

HttpResponse via_proxy(const GatewayFixture& gw, const std::string& url, const std::string& cacert, const std::string& body) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.proxy = gw.proxy();
  req.cacert = cacert;
  req.body = body;
  req.headers = {"Content-Type: application/json", "Authorization: Bearer sk-e2e-test"};
  return http(req);
}

uint16_t port_of(const std::string& url) {
  const size_t colon = url.rfind(':');
  return static_cast<uint16_t>(std::stoi(url.substr(colon + 1, url.find('/', colon) - colon - 1)));
}

// Sends `text` on a new connection to 127.0.0.1:port and returns every byte that came back until
// the gateway closed it or `wait` passed.
std::string exchange_raw(uint16_t port, const std::string& text, std::chrono::milliseconds wait = std::chrono::seconds(3)) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return "(no connection)";
  }
  (void)!::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// An IPv4 address of this machine that is not loopback, or "" when it has none.
std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (const ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0 && std::string(text).rfind("169.254.", 0) != 0) found = text;
  }
  freeifaddrs(list);
  return found;
}

// The gateway of the issue-12 cases: the upload hosts of ChatGPT as a service (to the TLS fake),
// and an unlisted-AI list.
GatewayFixture& destinations_gateway() {
  static GatewayFixture gw([] {
    GatewayOptions o;
    o.extra_services =
        "  - {name: chatgpt-uploads, hosts: [files.oaiusercontent.com, '*.oaiusercontent.com', '*.blob.core.windows.net'], "
        "upstream: \"{UPSTREAM_TLS}\", schema: json}\n";
    o.extra_config = "unlisted_ai: {action: refuse, hosts: [character.ai, '*.character.ai']}\n";
    return o;
  }());
  return gw;
}

size_t refusals_for(const std::vector<json>& events, const std::string& reason) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(), [&](const json& e) {
    return e.value("decision", "") == "refused" && e.value("reason", "") == reason;
  }));
}

}  // namespace

TEST_CASE("the forward proxy intercepts catalogued AI hosts", "[e2e][proxy]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  const auto org_ca = gw.certs().org_ca_crt.string();

  SECTION("CONNECT api.openai.com: the leaf chains to the org CA; the CCCD is redacted upstream") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    auto r = via_proxy(gw, "https://api.openai.com/v1/chat/completions", org_ca, body);
    INFO(tail(r.log, 3000));
    CHECK(r.curl_exit == 0);  // curl verified the leaf against the org CA alone
    CHECK(r.status == 200);
    CHECK_FALSE(r.tls_issuer.empty());
    CHECK_FALSE(contains(r.tls_issuer, kTestCaName));
    check_decision(r, "redact");
    auto rec = single_forward(gw, m);
    check_forwarded_body(rec, replace_all(body, kCccd, "[CCCD-1]"));
    if (rec.is_object()) {
      CHECK(rec["tls"] == true);
      CHECK(rec["url"] == "/v1/chat/completions");
    }
  }
  SECTION("CONNECT api.openai.com with a secret marking → 403 in openai's shape, nothing forwarded") {
    auto m = gw.mark();
    auto r = via_proxy(gw, "https://api.openai.com/v1/chat/completions", org_ca, chat_body(kSecretLine));
    CHECK(r.status == 403);
    check_decision(r, "block");
    INFO(r.body);
    check_refusal_message(r.json_body()["error"].value("message", ""), "vn.secret.degree-field", "TUYỆT MẬT");
    check_nothing_forwarded(gw, m);
  }
  SECTION("absolute-form http://api.openai.com/... is inspected too") {
    auto m = gw.mark();
    const auto body = chat_body(kCccdText);
    auto r = via_proxy(gw, "http://api.openai.com/v1/chat/completions", "", body);
    CHECK(r.status == 200);
    check_decision(r, "redact");
    check_forwarded_body(single_forward(gw, m), replace_all(body, kCccd, "[CCCD-1]"));
    auto blocked_mark = gw.mark();
    auto blocked = via_proxy(gw, "http://api.openai.com/v1/chat/completions", "", chat_body(kSecretLine));
    CHECK(blocked.status == 403);
    check_nothing_forwarded(gw, blocked_mark);
  }
}

TEST_CASE("the forward proxy tunnels other hosts and refuses unapproved ones", "[e2e][proxy]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());

  SECTION("a host not in the catalog is tunnelled untouched: its bytes as sent") {
    // Loopback is never a tunnel's end (SSRF), so the site listens on this machine's LAN address.
    const std::string lan = non_loopback_ipv4();
    if (lan.empty()) {
      WARN("SKIPPED: no non-loopback IPv4 address to put a site on");
      return;
    }
    // Until its first resolution of the catalog's hosts ends, the gateway cannot tell a LAN
    // address from an AI service's and refuses a CONNECT to any address (fail closed); without DNS
    // (CI) that round ends with its timeouts, later under load.
    const auto resolved_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (gw.log().find("AI service addresses: ") == std::string::npos && std::chrono::steady_clock::now() < resolved_by)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const fs::path records = gw.dir() / "lan-site.records.jsonl";
    write_text(records, "");
    ChildProcess site({"node", e2e_script("fake_upstream.js"), "--port", "0", "--host", lan, "--record", records.string()},
                      gw.dir() / "lan-site.out", gw.dir() / "lan-site.err");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (complete_lines(read_text(gw.dir() / "lan-site.out")).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto started = complete_lines(read_text(gw.dir() / "lan-site.out"));
    REQUIRE_FALSE(started.empty());
    const std::string target = lan + ":" + std::to_string(json::parse(started.front()).at("port").get<int>());
    const auto body = chat_body(kCccdText);
    const std::string answer = exchange_raw(
        port_of(gw.proxy()), "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n" + "POST /x HTTP/1.1\r\nHost: " +
                                 target + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 200 Connection established", 0) == 0);
    const auto got = complete_lines(read_text(records));
    REQUIRE(got.size() == 1);
    CHECK(json::parse(got[0]).at("body") == body);  // not inspected: the CCCD goes through as sent
  }
  SECTION("CONNECT api.deepseek.com:443 (approved: false) → 403, nothing forwarded") {
    auto m = gw.mark();
    auto r = via_proxy(gw, "https://api.deepseek.com/chat/completions", gw.certs().org_ca_crt.string(), chat_body(kClean));
    INFO(tail(r.log, 3000));
    CHECK(r.status == 403);
    CHECK(r.curl_exit != 0);  // curl gives up on a refused tunnel
    check_nothing_forwarded(gw, m);
  }
}

TEST_CASE("SSRF: no spelling of loopback, link-local or this host is connected to, CONNECT or absolute-form",
          "[e2e][proxy][ssrf]") {
  auto& gw = destinations_gateway();
  INFO(gw.where_to_look());
  const uint16_t proxy = port_of(gw.proxy());
  const std::string target_port = std::to_string(gw.upstream().port());
  const std::string admin_port = std::to_string(port_of(gw.admin_url("/")));
  // The fake upstream listens on 127.0.0.1: every spelling below would reach it (or the admin
  // listener) if the proxy connected.
  const std::vector<std::string> hosts = {
      "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "localhost", "LOCALHOST.", "a.localhost",
      "[::1]", "[::ffff:127.0.0.1]", "[::]", "0.0.0.0", "0", "169.254.169.254", "[fe80::1]"};
  const auto m = gw.mark();
  size_t asked = 0;
  for (const auto& host : hosts) {
    for (const auto& port : {target_port, admin_port}) {
      const std::string authority = host + ":" + port;
      INFO(authority);
      // CONNECT, with a request pipelined behind it: were the tunnel opened, it would arrive.
      const std::string tunnel = exchange_raw(proxy, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                                                         "\r\n\r\nGET /ssrf-tunnel HTTP/1.1\r\nHost: " + authority +
                                                         "\r\nConnection: close\r\n\r\n");
      CHECK(tunnel.rfind("HTTP/1.1 403", 0) == 0);
      CHECK(contains(tunnel, "its destination is an internal network"));  // the English half of the notice
      // Absolute-form plain HTTP.
      const std::string plain = exchange_raw(proxy, "GET http://" + authority + "/review HTTP/1.1\r\nHost: " + authority +
                                                        "\r\nConnection: close\r\n\r\n");
      CHECK(plain.rfind("HTTP/1.1 403", 0) == 0);
      CHECK_FALSE(contains(plain, "promptwall review"));
      asked += 2;
    }
  }
  check_nothing_forwarded(gw, m);  // nothing reached the fake upstream
  // Every refusal is an audit event with its reason.
  CHECK(refusals_for(gw.decisions_since(m, asked), "forbidden_destination") == asked);
}

TEST_CASE("upload hosts are intercepted and inspected, and the unlisted-AI list is refused", "[e2e][proxy][catalog]") {
  auto& gw = destinations_gateway();
  INFO(gw.where_to_look());
  const auto org_ca = gw.certs().org_ca_crt.string();
  auto put = [&](const std::string& url, const std::string& body) {
    HttpRequest req;
    req.method = "PUT";
    req.url = url;
    req.proxy = gw.proxy();
    req.cacert = org_ca;
    req.body = body;
    req.headers = {"Content-Type: application/json", "x-ms-blob-type: BlockBlob"};
    return http(req);
  };

  SECTION("a file PUT to an Azure blob upload host is read: the secret marking is blocked, nothing leaves") {
    const auto m = gw.mark();
    auto r = put("https://oaiprodfiles.blob.core.windows.net/files/notes.json", json{{"text", kSecretLine}}.dump());
    INFO(tail(r.log, 3000));
    CHECK(r.status == 403);
    CHECK_FALSE(contains(r.tls_issuer, kTestCaName));  // the organisation CA's leaf: intercepted
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["service"] == "chatgpt-uploads");
    CHECK(events[0]["decision"] == "block");
  }
  SECTION("a clean upload goes on, inspected, to the service's upstream") {
    const auto m = gw.mark();
    const std::string body = json{{"text", kClean}}.dump();
    auto r = put("https://files.oaiusercontent.com/file-abc", body);
    INFO(tail(r.log, 3000));
    CHECK(r.status == 201);  // Azure Put Blob answers 201 Created (fake_upstream.js)
    CHECK(r.header("X-Promptwall-Decision") == "allow");
    auto rec = single_forward(gw, m);
    check_forwarded_body(rec, body);
  }
  SECTION("CONNECT to a host of the unlisted-AI list: 403, audited as the service unlisted-ai") {
    const auto m = gw.mark();
    HttpRequest req;
    req.url = "https://beta.character.ai/chat";
    req.proxy = gw.proxy();
    req.cacert = org_ca;
    auto r = http(req);
    INFO(tail(r.log, 3000));
    CHECK(r.status == 403);
    check_nothing_forwarded(gw, m);
    auto events = gw.decisions_since(m);
    REQUIRE(events.size() == 1);
    CHECK(events[0]["service"] == "unlisted-ai");
    CHECK(events[0]["decision"] == "refused");
  }
}
