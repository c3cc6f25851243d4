// libFuzzer target for config/config: parse_gateway_config(), the YAML configuration reader (yaml-cpp
// underneath, every key's checks ours). A configuration is written by an administrator, but it is
// also what an attacker who can write one file would shape, and a reader that aborts or accepts
// something invalid starts a gateway that does not do what the file says. Beyond "no crash, no
// sanitizer report", it checks the reader's contract (config.h):
//   - a bad file is a ConfigError and nothing else (a YAML or standard exception escaping is a
//     crash here); its what() is one problem a line, each "fuzz.yaml:LINE: ...", LINE >= 1, lines
//     in ascending order;
//   - an accepted configuration keeps the invariants config.h states: a listener, every Endpoint's
//     port 1..65535 and host in host_name.h's normal form (or an IP literal), paths absolute or
//     empty, tls.ca_cert and tls.ca_key both or neither, leaf validity >= 1h, unique service names,
//     unique non-empty prefixes starting with '/' and not ending with one, hosts in normal form
//     ("*." only before a name) and unique across services, an upstream whenever a service is
//     approved and inspected, positive limits with max_decoded_body_bytes >= max_body_bytes.
// Relative paths resolve against a directory that does not exist (/nonexistent-promptwall-fuzz),
// so a fuzzed users_file or token_file names nothing; an absolute one is read (the reader opens
// the admin token and identity files to check them), so the fuzzer runs as a user without secrets.
// Inputs are bounded at 64 KiB, and flow nesting ('[' and '{' open at once) at 64: yaml-cpp's
// parser recurses once per level, and a configuration nested deeper is not one anybody writes.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "gateway/catalog/host_name.h"
#include "gateway/config/config.h"

namespace {

using namespace promptwall::gateway;

void require(bool ok) {
  if (!ok) std::abort();
}

bool flow_nesting_within(std::string_view yaml, int limit) {
  int depth = 0;
  for (char c : yaml) {
    if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

void check_error(const std::string& what) {
  require(!what.empty());
  int previous = 0;
  size_t start = 0;
  while (start <= what.size()) {
    const size_t end = std::min(what.find('\n', start), what.size());
    const std::string_view line(what.data() + start, end - start);
    constexpr std::string_view kSource = "fuzz.yaml:";
    require(line.starts_with(kSource));
    size_t i = kSource.size();
    int number = 0;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9' && number < 10'000'000) number = number * 10 + (line[i++] - '0');
    require(i > kSource.size() && number >= 1 && number >= previous && line.substr(i).starts_with(": "));
    previous = number;
    start = end + 1;
  }
}

void check_host(const std::string& host) {
  const auto parsed = parse_host(host);
  require(parsed && parsed->text == host);
}

void check_endpoint(const std::optional<Endpoint>& e) {
  if (!e) return;
  require(e->port >= 1);
  check_host(e->host);
}

void check_path(const std::filesystem::path& p) { require(p.empty() || p.is_absolute()); }

void check_accepted(const GatewayConfig& c) {
  require(c.gateway_listen || c.proxy_listen || c.transparent_listen);
  check_endpoint(c.gateway_listen);
  check_endpoint(c.proxy_listen);
  check_endpoint(c.transparent_listen);
  check_endpoint(c.admin.listen);
  check_endpoint(c.audit.siem.address);
  for (const auto& p : c.pac.proxies) check_endpoint(p);
  check_path(c.tls.ca_cert);
  check_path(c.tls.ca_key);
  check_path(c.tls.upstream_ca);
  check_path(c.audit.dir);
  check_path(c.audit.signing_key);
  check_path(c.audit.evidence_key);
  check_path(c.identity.users_file);
  check_path(c.identity.groups_file);
  for (const auto& pack : c.rules.packs) require(pack == "builtin" || std::filesystem::path(pack).is_absolute());
  require(c.tls.ca_cert.empty() == c.tls.ca_key.empty());
  require(c.tls.leaf_validity >= std::chrono::hours(1));
  for (char ch : c.admin.token) require(static_cast<unsigned char>(ch) > ' ' && ch != 0x7f);
  require(c.limits.max_header_bytes > 0 && c.limits.max_body_bytes > 0 && c.limits.max_json_depth > 0 &&
          c.limits.max_connections > 0 && c.limits.max_decoded_body_bytes >= c.limits.max_body_bytes);
  require(c.threads <= 256);
  require(c.policy.mode.has_value());
  if (c.identity.proxy_auth != ProxyAuthMode::off) require(!c.identity.users_file.empty());

  std::set<std::string> names, prefixes, hosts;
  for (const Service& s : c.services) {
    require(!s.name.empty() && names.insert(s.name).second);
    if (!s.prefix.empty()) {
      require(s.prefix.size() > 1 && s.prefix.front() == '/' && s.prefix.back() != '/');
      require(prefixes.insert(s.prefix).second);
    }
    for (const std::string& host : s.hosts) {
      require(hosts.insert(host).second);
      if (host.starts_with("*.")) {
        const auto parsed = parse_host(std::string_view(host).substr(2));
        require(parsed && parsed->text == host.substr(2) && parsed->kind == HostName::Kind::name);
      } else {
        const auto parsed = parse_host(host);
        require(parsed && parsed->text == host && parsed->kind != HostName::Kind::ipv6);
      }
    }
    if (s.approved && s.inspect) require(s.upstream.has_value());
    if (s.upstream) require(!s.upstream->host.empty() && s.upstream->port >= 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  if (!flow_nesting_within(yaml, 64)) return 0;
  try {
    const GatewayConfig config = parse_gateway_config(yaml, "fuzz.yaml", "/nonexistent-promptwall-fuzz");
    check_accepted(config);
  } catch (const ConfigError& e) {
    check_error(e.what());
  }
  return 0;
}
