// SIEM export against a real rsyslog on loopback: every audit event arrives once, in order, as
// RFC 5424 with CEF, and an rsyslog outage in between loses nothing and duplicates nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "expectations.h"

using namespace promptwall::e2e;

namespace {

std::string find_rsyslogd() {
  for (const char* candidate : {"/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return "";
}

bool accepts_connections(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

template <class Condition>
bool wait_for(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// rsyslogd in the foreground with its own configuration: imtcp on loopback, each message's raw
// form (after the octet-count framing) appended to received.log, no privilege drop, its own
// work directory. Stopping it is SIGTERM and waiting for it to exit.
class Rsyslog {
 public:
  Rsyslog(std::string binary, const fs::path& dir, uint16_t port) : binary_(std::move(binary)), dir_(dir), port_(port) {
    evidence_.watch(received());  // the SIEM's side, for e2e.no_raw_secrets
    fs::create_directories(dir_ / "work");
    write_text(dir_ / "rsyslog.conf",
               "global(workDirectory=\"" + (dir_ / "work").string() + "\" maxMessageSize=\"64k\")\n"
               "module(load=\"imtcp\")\n"
               "template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n"
               "ruleset(name=\"siem\") {\n"
               "  action(type=\"omfile\" file=\"" + received().string() + "\" template=\"raw\" flushOnTXEnd=\"on\" asyncWriting=\"off\")\n"
               "}\n"
               "input(type=\"imtcp\" port=\"" + std::to_string(port_) + "\" address=\"127.0.0.1\" ruleset=\"siem\")\n");
  }

  void start() {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary_, "-n", "-f", (dir_ / "rsyslog.conf").string(), "-i", (dir_ / "rsyslogd.pid").string()},
        dir_ / "rsyslog.out", dir_ / "rsyslog.err", /*append=*/true);
    if (!wait_for([&] { return accepts_connections(port_) || !process_->running(); }, std::chrono::seconds(10)) ||
        !process_->running())
      throw std::runtime_error("rsyslogd did not start listening on port " + std::to_string(port_) + ":\n" +
                               read_text(dir_ / "rsyslog.err"));
  }
  void stop() {
    process_->stop(std::chrono::seconds(10));
    process_.reset();
  }

  fs::path received() const { return dir_ / "received.log"; }
  std::vector<std::string> lines() const { return complete_lines(read_text(received())); }
  std::string diagnostics() const { return read_text(dir_ / "rsyslog.err"); }

 private:
  std::string binary_;
  fs::path dir_;
  uint16_t port_;
  EvidenceKeeper evidence_{"siem"};  // copies after rsyslogd has stopped
  std::unique_ptr<ChildProcess> process_;
};

// One received syslog message, read independently of the gateway's formatter.
struct Received {
  int pri = -1;
  std::string timestamp, hostname, app, procid, msgid;
  std::map<std::string, std::string> sd;
  std::string cef_signature, cef_name, cef_severity;
  std::map<std::string, std::string> ext;
};

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char next = s[++i];
      out += next == 'n' ? '\n' : next == 'r' ? '\r' : next;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Parsed by hand (std::regex trips GCC 12's maybe-uninitialized warning under the sanitizers).
std::optional<Received> parse_message(const std::string& line) {
  Received r;
  const size_t gt = line.find('>');
  if (!line.starts_with('<') || gt == std::string::npos || gt < 2 || gt > 4) return std::nullopt;
  for (size_t i = 1; i < gt; ++i)
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
  r.pri = std::stoi(line.substr(1, gt - 1));
  if (line.compare(gt + 1, 2, "1 ") != 0) return std::nullopt;
  size_t pos = gt + 3;
  for (std::string* field : {&r.timestamp, &r.hostname, &r.app, &r.procid, &r.msgid}) {
    const size_t space = line.find(' ', pos);
    if (space == std::string::npos || space == pos) return std::nullopt;
    *field = line.substr(pos, space - pos);
    pos = space + 1;
  }
  // [promptwall@32473 name="value" ...] with \" \\ \] escaped in values.
  constexpr std::string_view kSd = "[promptwall@32473";
  if (line.compare(pos, kSd.size(), kSd) != 0) return std::nullopt;
  pos += kSd.size();
  while (pos < line.size() && line[pos] == ' ') {
    const size_t eq = line.find('=', pos);
    if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return std::nullopt;
    const std::string name = line.substr(pos + 1, eq - pos - 1);
    std::string value;
    size_t i = eq + 2;
    for (; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      value += line[i];
    }
    if (i >= line.size()) return std::nullopt;
    r.sd[name] = value;
    pos = i + 1;
  }
  if (line.compare(pos, 2, "] ") != 0) return std::nullopt;
  const std::string cef = line.substr(pos + 2);
  if (!cef.starts_with("CEF:0|")) return std::nullopt;

  // CEF: seven '|'-separated header fields (| and \ escaped), then key=value pairs.
  std::vector<std::string> fields(1);
  size_t i = 0;
  for (; i < cef.size() && fields.size() < 8; ++i) {
    if (cef[i] == '\\' && i + 1 < cef.size()) fields.back() += cef[++i];
    else if (cef[i] == '|') fields.emplace_back();
    else fields.back() += cef[i];
  }
  if (fields.size() != 8) return std::nullopt;
  r.cef_signature = fields[4];
  r.cef_name = fields[5];
  r.cef_severity = fields[6];
  // A key is letters and digits right after the start or a space, ended by '=' (an '=' inside a
  // value is escaped, so a backslash, never a letter, comes before it).
  const std::string ext = cef.substr(i);
  auto key_length = [&](size_t at) -> size_t {
    size_t j = at;
    while (j < ext.size() && std::isalnum(static_cast<unsigned char>(ext[j]))) ++j;
    return j > at && j < ext.size() && ext[j] == '=' ? j - at : 0;
  };
  std::vector<size_t> starts;
  for (size_t at = 0; at < ext.size(); ++at)
    if ((at == 0 || ext[at - 1] == ' ') && key_length(at) > 0) starts.push_back(at);
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t key_end = starts[k] + key_length(starts[k]);
    const size_t value_end = k + 1 < starts.size() ? starts[k + 1] - 1 : ext.size();
    r.ext[ext.substr(starts[k], key_end - starts[k])] = unescape(ext.substr(key_end + 1, value_end - key_end - 1));
  }
  return r;
}

bool shipped_type(const std::string& type) {
  return type == "decision" || type == "triage" || type == "outage" || type == "repair";
}

// The trail's records the SIEM must get, by seq.
std::map<uint64_t, json> expected_records(const GatewayFixture& gw) {
  std::map<uint64_t, json> out;
  for (auto& r : gw.audit_records())
    if (shipped_type(r.value("type", ""))) out.emplace(r.value("seq", uint64_t{0}), std::move(r));
  return out;
}

std::set<uint64_t> received_seqs(const Rsyslog& rs) {
  std::set<uint64_t> out;
  for (const auto& line : rs.lines())
    if (auto m = parse_message(line); m && m->sd.count("seq")) out.insert(std::stoull(m->sd.at("seq")));
  return out;
}

bool all_arrived(const GatewayFixture& gw, const Rsyslog& rs) {
  const auto expected = expected_records(gw);
  const auto got = received_seqs(rs);
  return std::all_of(expected.begin(), expected.end(), [&](const auto& e) { return got.count(e.first) > 0; });
}

}  // namespace

TEST_CASE("SIEM: every audit event reaches a real rsyslog once and in order, across an rsyslog outage", "[e2e][siem]") {
  const std::string rsyslogd = find_rsyslogd();
  if (rsyslogd.empty()) {
    WARN("SKIPPED: rsyslogd is not installed (ops/setup.sh --test installs it): the SIEM test did not run");
    return;
  }
  TempDir scratch;
  const uint16_t port = free_port();
  Rsyslog rs(rsyslogd, scratch.path(), port);
  rs.start();

  GatewayOptions options;
  options.audit_extra = "  siem: {address: 127.0.0.1:" + std::to_string(port) + ", retry_interval: 200ms}\n";
  GatewayFixture gw(options);
  INFO(gw.where_to_look() << "\nrsyslog: " << scratch.path().string() << "\n" << rs.diagnostics());

  constexpr int kBefore = 12, kDuring = 9;
  auto send = [&](int i) {
    auto r = post(gw.url("/openai/v1/chat/completions"), chat_body(std::string(kCccdText) + " (yêu cầu " + std::to_string(i) + ")"));
    REQUIRE(r.status == 200);
  };
  for (int i = 0; i < kBefore; ++i) send(i);
  REQUIRE(wait_for([&] { return all_arrived(gw, rs); }, std::chrono::seconds(20)));
  CHECK(expected_records(gw).size() >= kBefore);

  rs.stop();
  // The SIEM is not on the request path: requests are answered while it is down.
  for (int i = kBefore; i < kBefore + kDuring; ++i) send(i);
  CHECK(wait_for([&] { return contains(gw.log(), "unreachable"); }, std::chrono::seconds(10)));

  rs.start();
  REQUIRE(wait_for([&] { return all_arrived(gw, rs); }, std::chrono::seconds(20)));
  CHECK(wait_for([&] { return contains(gw.log(), "reachable again"); }, std::chrono::seconds(15)));

  // A gateway restart resumes after the cursor: nothing is sent again.
  gw.process().stop();
  const uint64_t cursor_at_restart = std::stoull(trim(read_text(gw.audit_dir() / "siem.cursor")));
  gw.start();
  gw.wait_ready();
  constexpr int kAfter = 3;
  for (int i = kBefore + kDuring; i < kBefore + kDuring + kAfter; ++i) send(i);
  REQUIRE(wait_for([&] { return all_arrived(gw, rs); }, std::chrono::seconds(20)));

  const auto expected = expected_records(gw);
  REQUIRE(expected.size() >= kBefore + kDuring + kAfter);
  const auto lines = rs.lines();
  uint64_t previous = 0;
  std::set<uint64_t> seen;
  for (const auto& line : lines) {
    INFO("received: " << line);
    CHECK_FALSE(contains(line, "001203004567"));  // the matched number never leaves in clear
    auto m = parse_message(line);
    REQUIRE(m);
    const uint64_t seq = std::stoull(m->sd.at("seq"));
    CHECK(seq > previous);  // in order, and no duplicate
    previous = seq;
    seen.insert(seq);
    REQUIRE(expected.count(seq) == 1);
    const json& record = expected.at(seq);
    CHECK(m->msgid == record["type"]);
    CHECK(m->app == "promptwall");
    CHECK(m->pri / 8 == 20);  // local4
    CHECK(m->ext["cn1"] == std::to_string(seq));
    if (record["type"] == "decision") {
      CHECK(m->sd["event_id"] == record["event_id"]);
      CHECK(m->sd["request_id"] == record["request_id"]);
      CHECK(m->ext["externalId"] == record["event_id"]);
      CHECK(m->ext["act"] == record["decision"]);
      CHECK(m->ext["requestMethod"] == "POST");
      CHECK(m->ext["src"] == "127.0.0.1");
      CHECK(m->timestamp == record["time"]);
      if (!record["findings"].empty()) {
        CHECK(m->cef_signature == record["findings"][0]["rule"]);
        CHECK(contains(m->ext["cs2"], record["findings"][0]["rule"].get<std::string>()));
        CHECK(m->ext["cs2Label"] == "rules");
        CHECK_FALSE(m->ext["cs5"].empty());  // the masked excerpt
      }
    }
  }
  CHECK(seen.size() == expected.size());  // every event arrived exactly once
  CHECK(lines.size() == expected.size());

  // The cursor says how far the SIEM has acknowledged; the metrics say the same. It is written once
  // the peer's TCP has acknowledged the batch, which can be after rsyslog wrote the lines out.
  CHECK(wait_for([&] { return std::stoull(trim(read_text(gw.audit_dir() / "siem.cursor"))) >= expected.rbegin()->first; },
                 std::chrono::seconds(15)));
  const auto since_restart = std::count_if(expected.begin(), expected.end(), [&](const auto& e) { return e.first > cursor_at_restart; });
  const std::string shipped = "promptwall_siem_events_shipped_total " + std::to_string(since_restart) + "\n";
  CHECK(wait_for([&] { return contains(gw.admin("GET", "/metrics").body, shipped); }, std::chrono::seconds(15)));
  // A checkpoint written since is not shipped, but the cursor moves past it all the same.
  CHECK(wait_for([&] { return contains(gw.admin("GET", "/metrics").body, "promptwall_siem_records_behind 0\n"); },
                 std::chrono::seconds(15)));
}

namespace {

// The octet-counted frames of a TCP stream ("LEN SP MSG" each); nullopt when the stream breaks the
// framing (a length that is not the message's byte count shows up as garbage in the next frame).
std::optional<std::vector<std::string>> frames(const std::string& stream) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t space = stream.find(' ', pos);
    if (space == std::string::npos || space == pos || space - pos > 9) return std::nullopt;
    for (size_t i = pos; i < space; ++i)
      if (stream[i] < '0' || stream[i] > '9') return std::nullopt;
    const size_t length = std::stoul(stream.substr(pos, space - pos));
    if (space + 1 + length > stream.size()) break;  // still arriving
    out.push_back(stream.substr(space + 1, length));
    pos = space + 1 + length;
  }
  return out;
}

// A TLS receiver (tests/e2e/tls_sink.js) recording the raw stream.
class TlsSink {
 public:
  TlsSink(const fs::path& dir, const Certificates& certs) : out_(dir / "tls-received.bin"), port_(free_port()) {
    evidence_.watch(out_);  // the SIEM's side, for e2e.no_raw_secrets
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"node", e2e_script("tls_sink.js"), "--port", std::to_string(port_), "--cert",
                                 certs.server_crt.string(), "--key", certs.server_key.string(), "--out", out_.string()},
        dir / "tls-sink.out", dir / "tls-sink.err");
    if (!wait_for([&] { return accepts_connections(port_) || !process_->running(); }, std::chrono::seconds(10)) ||
        !process_->running())
      throw std::runtime_error("tls_sink.js did not start: " + read_text(dir / "tls-sink.err"));
  }
  uint16_t port() const { return port_; }
  std::string received() const { return read_text(out_); }

 private:
  fs::path out_;
  uint16_t port_;
  EvidenceKeeper evidence_{"siem"};  // copies after the receiver has stopped
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace

TEST_CASE("SIEM over TLS: verified against the configured CA and name, octet-counted frames", "[e2e][siem]") {
  TempDir scratch;
  const Certificates certs = make_certificates(scratch.path());
  TlsSink sink(scratch.path(), certs);
  auto siem_yaml = [&](const std::string& server_name) {
    return "  siem: {address: 127.0.0.1:" + std::to_string(sink.port()) + ", tls: true, ca: " + certs.test_ca_crt.string() +
           ", server_name: " + server_name + ", retry_interval: 200ms}\n";
  };

  SECTION("the right name: every event arrives, framed") {
    GatewayOptions options;
    options.audit_extra = siem_yaml("localhost");
    GatewayFixture gw(options);
    INFO(gw.where_to_look());
    for (int i = 0; i < 3; ++i)
      REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(std::string(kCccdText) + " #" + std::to_string(i))).status == 200);
    auto arrived = [&] {
      auto f = frames(sink.received());
      return f && f->size() >= expected_records(gw).size() && expected_records(gw).size() >= 3;
    };
    REQUIRE(wait_for(arrived, std::chrono::seconds(20)));
    const auto expected = expected_records(gw);
    const auto received = *frames(sink.received());
    REQUIRE(received.size() == expected.size());
    auto want = expected.begin();
    for (const auto& message : received) {
      INFO("frame: " << message);
      auto m = parse_message(message);
      REQUIRE(m);
      CHECK(m->sd["seq"] == std::to_string(want->first));
      CHECK(m->sd["event_id"] == want->second["event_id"]);
      ++want;
    }
  }

  SECTION("a certificate for another name: nothing is sent, the log says why") {
    GatewayOptions options;
    options.audit_extra = siem_yaml("siem.example.vn");
    GatewayFixture gw(options);
    INFO(gw.where_to_look());
    REQUIRE(post(gw.url("/openai/v1/chat/completions"), chat_body(kCccdText)).status == 200);  // not on the request path
    CHECK(wait_for([&] { return contains(gw.log(), "TLS handshake with siem.example.vn failed"); }, std::chrono::seconds(10)));
    CHECK(sink.received().empty());
    CHECK_FALSE(fs::exists(gw.audit_dir() / "siem.cursor"));
  }
}
