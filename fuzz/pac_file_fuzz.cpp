// libFuzzer target for catalog/pac_file: PacFile::render() and pac_proxies(), the proxy auto-config
// script browsers fetch from the admin listener (JavaScript they run). Its inputs are the
// configured service hosts and proxies, and the Host header a browser fetched it under (outside
// input: it names the proxy when the proxy listener listens on every address).
// Input: lines. The first is that Host header, handed to pac_proxies() with the proxy listener on
// 0.0.0.0:3128 (127.0.0.1:3128 is used when it is refused). Each further line is a service: its
// first byte's bits are inspect (1), approved (2) and "configured" (4); the rest is its hosts,
// separated by spaces. A configured service's hosts go through parse_host() first, as the
// configuration reader's do ("*." + a name, or a name or IPv4 address; others dropped); the hosts
// of the others are raw UTF-8 (any other bytes dropped), to show no string can leave its literal
// whatever the reader admits.
// Beyond "no crash, no sanitizer report", it checks pac_file.h's invariants on the script:
//   - it is ASCII (printable and '\n'); lexed as JavaScript (double-quoted strings with escapes,
//     `//` comments), every string literal closes on its line and is a JSON string;
//   - the literals are, in order: the PROXY directive (naming the proxies pac_proxies gave), every
//     exact host in service order, every wildcard's ".x" suffix longest first (stable), then the
//     literals of the script's fixed code, exactly as a script with no services has them: so no
//     host added, lost or broke out of its literal to become code;
//   - each host's entry is `[literal, true]` when its service is inspected or not approved, else
//     `[literal, false]`, in the same order;
//   - a configured host's literal is the host itself between quotes: no quote, backslash, newline
//     or `</` in it;
//   - pac_proxies() from a Host header gives one proxy on port 3128 whose host is in host_name.h's
//     normal form, or an error saying why.
// Inputs are bounded at 16 KiB.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/catalog/host_name.h"
#include "gateway/catalog/pac_file.h"
#include "gateway/config/config.h"

namespace {

using namespace promptwall::gateway;

void require(bool ok) {
  if (!ok) std::abort();
}

struct Lexed {
  std::vector<std::string> literals;  // each string literal as written, quotes included
  std::string skeleton;               // the script with each literal as S and comments removed
};

Lexed lex(std::string_view script) {
  Lexed out;
  for (size_t i = 0; i < script.size();) {
    const char c = script[i];
    require((c >= ' ' && c < 0x7f) || c == '\n');
    if (c == '"') {
      size_t j = i + 1;
      while (j < script.size() && script[j] != '"') {
        require(script[j] != '\n');
        j += script[j] == '\\' ? 2 : 1;
      }
      require(j < script.size());
      out.literals.emplace_back(script.substr(i, j - i + 1));
      out.skeleton += 'S';
      i = j + 1;
    } else if (script.substr(i).starts_with("//")) {
      i = std::min(script.find('\n', i), script.size());
    } else {
      out.skeleton += c;
      ++i;
    }
  }
  return out;
}

std::string decoded(const std::string& literal) {
  const nlohmann::json j = nlohmann::json::parse(literal, nullptr, /*allow_exceptions=*/false);
  require(j.is_string());
  return j.get<std::string>();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find(separator, start), text.size());
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// What nlohmann::json (render's string escaping) accepts: it throws on invalid UTF-8, which no
// configured host is (the reader's are ASCII), so raw hosts are left out when not UTF-8.
bool valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

struct Route {
  std::string literal_value;  // the host, or the wildcard's ".x"
  bool through_proxy = false;
  bool configured = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  const auto lines = split(std::string_view(reinterpret_cast<const char*>(data), size), '\n');

  GatewayConfig config;
  config.proxy_listen = Endpoint{.host = "0.0.0.0", .port = 3128};
  std::string why;
  auto proxies = pac_proxies(config, lines[0], &why);
  if (proxies) {
    require(proxies->size() == 1 && (*proxies)[0].port == 3128);
    const auto host = parse_host((*proxies)[0].host);
    require(host && host->text == (*proxies)[0].host);
  } else {
    require(!why.empty());
    proxies = std::vector<Endpoint>{Endpoint{.host = "127.0.0.1", .port = 3128}};
  }

  std::vector<Service> services;
  std::vector<Route> exact, wildcards;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto flags = static_cast<unsigned char>(lines[i][0]);
    Service s;
    s.name = "s" + std::to_string(i);
    s.inspect = flags & 1;
    s.approved = flags & 2;
    const bool configured = flags & 4;
    for (const std::string_view word : split(lines[i].substr(1), ' ')) {
      std::string host(word);
      if (configured) {
        const bool wildcard = word.starts_with("*.");
        const auto parsed = parse_host(wildcard ? word.substr(2) : word);
        if (!parsed || parsed->kind == HostName::Kind::ipv6 || (wildcard && parsed->kind != HostName::Kind::name)) continue;
        host = (wildcard ? "*." : "") + parsed->text;
      } else if (!valid_utf8(host)) {
        continue;
      }
      s.hosts.push_back(host);
      const bool through_proxy = s.inspect || !s.approved;
      if (host.starts_with("*.")) wildcards.push_back({host.substr(1), through_proxy, configured});
      else exact.push_back({host, through_proxy, configured});
    }
    services.push_back(std::move(s));
  }
  std::stable_sort(wildcards.begin(), wildcards.end(),
                   [](const Route& a, const Route& b) { return a.literal_value.size() > b.literal_value.size(); });

  const std::string script = PacFile(services).render(*proxies);
  const Lexed lexed = lex(script);
  const Lexed bare = lex(PacFile({}).render(*proxies));

  std::string directive;
  for (const auto& p : *proxies) directive += (directive.empty() ? "PROXY " : "; PROXY ") + p.to_string();
  require(!lexed.literals.empty() && decoded(lexed.literals[0]) == directive);
  std::vector<Route> routes = exact;
  routes.insert(routes.end(), wildcards.begin(), wildcards.end());
  require(lexed.literals.size() == 1 + routes.size() + (bare.literals.size() - 1));
  for (size_t i = 0; i < routes.size(); ++i) {
    const std::string& literal = lexed.literals[1 + i];
    require(decoded(literal) == routes[i].literal_value);
    if (routes[i].configured) {
      const std::string_view inside = std::string_view(literal).substr(1, literal.size() - 2);
      require(inside == routes[i].literal_value);
      require(inside.find_first_of("\"\\\n") == std::string_view::npos && inside.find("</") == std::string_view::npos);
    }
  }
  for (size_t i = 1; i < bare.literals.size(); ++i) require(lexed.literals[routes.size() + i] == bare.literals[i]);

  // The entries' flags, in order, from the script's code (literals stood in by S).
  size_t at = 0;
  for (const Route& r : routes) {
    at = lexed.skeleton.find("[S, ", at);
    require(at != std::string::npos);
    at += 4;
    require(lexed.skeleton.substr(at).starts_with(r.through_proxy ? "true]" : "false]"));
  }
  require(lexed.skeleton.find("[S, ", at) == std::string::npos);
  return 0;
}
