#include "gateway/config/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include "gateway/identity/identity_file.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace promptwall::gateway {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::string_view kDefaultConfig = R"yaml(# The configuration `promptwall serve` runs without --config (docs/configuration.md).
listen:
  gateway: 127.0.0.1:8080
  proxy: 127.0.0.1:3128
  admin: 127.0.0.1:9090
rules:
  packs: [builtin]
policy:
  mode: enforce
log_level: info
services:
  - name: openai
    prefix: /openai
    hosts: [api.openai.com]
    upstream: https://api.openai.com
    schema: openai
  - name: gemini
    prefix: /gemini
    hosts: [generativelanguage.googleapis.com]
    upstream: https://generativelanguage.googleapis.com
    schema: gemini
  - name: anthropic
    prefix: /anthropic
    hosts: [api.anthropic.com]
    upstream: https://api.anthropic.com
    schema: anthropic
  - name: mistral
    prefix: /mistral
    hosts: [api.mistral.ai]
    upstream: https://api.mistral.ai
    schema: openai
  - name: chatgpt-web
    hosts: [chatgpt.com, chat.openai.com, ab.chatgpt.com]
    upstream: https://chatgpt.com
    schema: chatgpt_web
  - name: gemini-web
    hosts: [gemini.google.com, bard.google.com]
    upstream: https://gemini.google.com
    schema: gemini_web
  - name: claude-web
    hosts: [claude.ai]
    upstream: https://claude.ai
    schema: json
  - name: deepseek
    hosts: [api.deepseek.com, chat.deepseek.com]
    approved: false
  - name: kimi
    hosts: [kimi.moonshot.cn, kimi.com, www.kimi.com]
    approved: false
  - name: qwen
    hosts: [chat.qwen.ai]
    approved: false
)yaml";

// ---- scalar syntax -------------------------------------------------------------------------

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
std::optional<T> parse_unsigned(std::string_view s) {
  if (!is_digits(s)) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A DNS name: dot-separated labels of letters, digits and '-' (not at either end), 1..63 bytes
// each, 253 in all. Underscores are allowed too: some internal names carry them.
bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_ip_literal(std::string_view s, int family) {
  std::array<unsigned char, 16> buf{};
  return inet_pton(family, std::string(s).c_str(), buf.data()) == 1;
}

// host[:port] or [v6][:port]; the port is required when `default_port` is 0.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};

std::optional<HostPort> parse_host_port(std::string_view text, uint16_t default_port, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<HostPort> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in an IPv6 address");
    out.host = lower(text.substr(1, close - 1));
    if (!is_ip_literal(out.host, AF_INET6)) return fail("'" + out.host + "' is not an IPv6 address");
    std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("expected ':' and a port after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = text.rfind(':');
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      if (host.find(':') != std::string_view::npos) return fail("put an IPv6 address in brackets, like [::1]:8080");
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return fail("the host is missing");
    bool numeric = std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (numeric ? !is_ip_literal(host, AF_INET) : !is_host_name(host))
      return fail("'" + std::string(host) + "' is not a valid host name or IPv4 address");
    out.host = lower(host);
  }
  if (!has_port) {
    if (default_port == 0) return fail("the port is missing");
    out.port = default_port;
    return out;
  }
  auto port = parse_unsigned<unsigned>(port_text);
  if (!port || *port < 1 || *port > 65535) return fail("the port must be a number from 1 to 65535");
  out.port = static_cast<uint16_t>(*port);
  return out;
}

// Distance between two keys, for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// A rule id as rules/pack_loader.cpp requires it: dotted lower case, e.g. vn.secret.degree-stamp.
bool looks_like_rule_id(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (i + 1 >= s.size() || s[i + 1] == '.' || s[i + 1] == '-') return false;
    } else if (!alnum && !(c == '-' && i > dot)) {
      return false;
    }
  }
  return true;
}

bool is_service_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// "/openai", "/v1/team-a": segments of unreserved URL characters; no empty, "." or ".." segment.
bool is_prefix(std::string_view s) {
  if (s.size() < 2 || s.front() != '/' || s.back() == '/') return false;
  size_t start = 1;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    std::string_view seg = s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~')) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

// ---- the reader ----------------------------------------------------------------------------

// Reads one document, collecting every problem (with its line) rather than stopping at the first,
// so one `serve --check` run shows them all.
class ConfigReader {
 public:
  ConfigReader(std::string source, fs::path base_dir) : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  GatewayConfig read(std::string_view yaml) {
    GatewayConfig config;
    config.source = source_;
    config.policy.mode = Mode::enforce;
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      add(e.mark.line, "", "YAML syntax error: " + e.msg);
      throw_if_errors();
    }
    if (root.IsNull()) {
      add(0, "", "the configuration is empty; it needs at least `listen`");
    } else if (!root.IsMap()) {
      add(root.Mark().line, "", "the configuration must be a mapping of keys like `listen` and `services`");
    } else {
      try {
        read_root(root, config);
      } catch (const YAML::Exception& e) {
        add(e.mark.line, "", std::string("malformed configuration: ") + e.what());
      }
    }
    throw_if_errors();
    return config;
  }

 private:
  using KeyHandler = std::function<void(const std::string& key, const YAML::Node& value, const std::string& path)>;

  void add(int zero_based_line, const std::string& path, const std::string& message) {
    int line = zero_based_line >= 0 ? zero_based_line + 1 : 1;
    std::string text = source_ + ":" + std::to_string(line) + ": ";
    if (!path.empty()) text += "key `" + path + "`: ";
    errors_.push_back({line, text + message});
  }
  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    add(node.Mark().line, path, message);
  }

  void throw_if_errors() {
    if (errors_.empty()) return;
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string all;
    for (const auto& [line, text] : errors_) all += (all.empty() ? "" : "\n") + text;
    throw ConfigError(all);
  }

  static std::string join(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  }

  // Calls `handle` for each key of `map` in `allowed`; unknown and repeated keys are errors.
  bool for_each_key(const YAML::Node& map, const std::string& path, std::initializer_list<std::string_view> allowed,
                    const KeyHandler& handle) {
    if (!map.IsMap()) {
      error(map, path, "expected a mapping with keys " + list(allowed));
      return false;
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(kv.first, join(path, key), "unknown key" + suggestion(key, allowed));
        continue;
      }
      if (!seen.insert(key).second) {
        error(kv.first, join(path, key), "given twice");
        continue;
      }
      handle(key, kv.second, join(path, key));
    }
    return true;
  }

  static std::string list(std::initializer_list<std::string_view> keys) {
    std::string out;
    for (auto k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
    return out;
  }

  static std::string suggestion(std::string_view key, std::initializer_list<std::string_view> allowed) {
    std::string_view best;
    size_t best_distance = std::max<size_t>(2, key.size() / 3) + 1;
    for (auto k : allowed) {
      size_t d = edit_distance(key, k);
      if (d < best_distance) best = k, best_distance = d;
    }
    if (!best.empty()) return "; did you mean `" + std::string(best) + "`?";
    return " (expected one of: " + list(allowed) + ")";
  }

  // ---- typed values ----

  // A scalar as text; null (`key:` with nothing after it) reads as "".
  std::optional<std::string> text(const YAML::Node& n, const std::string& path) {
    if (n.IsNull()) return std::string();
    if (!n.IsScalar()) {
      error(n, path, "expected a single value, not a list or mapping");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> nonempty_text(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (s && s->empty()) {
      error(n, path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    if (*s == "true") return true;
    if (*s == "false") return false;
    error(n, path, "expected true or false, got '" + *s + "'");
    return std::nullopt;
  }

  std::optional<uint64_t> integer(const YAML::Node& n, const std::string& path, uint64_t min, uint64_t max) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    auto v = parse_unsigned<uint64_t>(*s);
    if (!v) {
      error(n, path, "expected a whole number, got '" + *s + "'");
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      error(n, path, "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", got " + *s);
      return std::nullopt;
    }
    return v;
  }

  // A scalar parsed by `parse` and kept within [min, max]; `expected` and `range` are for people.
  template <class T, class Parse>
  std::optional<T> bounded(const YAML::Node& n, const std::string& path, Parse parse, std::string_view expected, T min,
                           T max, std::string_view range) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    std::optional<T> v = parse(*s);
    if (!v) {
      error(n, path, "expected " + std::string(expected) + ", got '" + *s + "'");
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      error(n, path, "must be from " + std::string(range) + ", got '" + *s + "'");
      return std::nullopt;
    }
    return v;
  }

  std::optional<size_t> size(const YAML::Node& n, const std::string& path, size_t min, size_t max,
                             std::string_view range) {
    return bounded<size_t>(n, path, parse_size, "a size like 10MiB", min, max, range);
  }

  std::optional<milliseconds> duration(const YAML::Node& n, const std::string& path, milliseconds min,
                                       milliseconds max, std::string_view range) {
    return bounded<milliseconds>(n, path, parse_duration, "a duration like 500ms, 10s, 2m, 1h or 7d", min, max, range);
  }

  fs::path resolve(const std::string& p) const {
    if (p.empty()) return {};
    fs::path path(p);
    return (path.is_absolute() ? path : base_dir_ / path).lexically_normal();
  }

  std::optional<fs::path> path_value(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    return resolve(*s);
  }

  std::vector<std::pair<std::string, YAML::Node>> string_list(const YAML::Node& n, const std::string& path) {
    std::vector<std::pair<std::string, YAML::Node>> out;
    if (!n.IsSequence()) {
      error(n, path, "expected a list, like [a, b]");
      return out;
    }
    size_t i = 0;
    for (const auto& item : n) {
      std::string item_path = path + "[" + std::to_string(i++) + "]";
      if (auto s = nonempty_text(item, item_path)) out.emplace_back(*s, item);
    }
    return out;
  }

  std::optional<Endpoint> endpoint(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    std::string why;
    auto e = parse_endpoint(*s, &why);
    if (!e) error(n, path, "expected an address like 127.0.0.1:8080 or [::1]:8080, got '" + *s + "': " + why);
    return e;
  }

  std::optional<Action> action(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    auto a = action_from_string(*s);
    if (!a) error(n, path, "expected log, warn, redact or block, got '" + *s + "'");
    return a;
  }

  // ---- sections ----

  void read_root(const YAML::Node& root, GatewayConfig& c) {
    std::optional<YAML::Node> listen_node, transparent_node;
    bool admin_listen_given = false;
    for_each_key(root, "", {"listen", "threads", "admin", "tls", "rules", "policy", "services", "limits",
                            "audit", "log_level", "pac", "transparent", "identity"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& path) {
                   if (key == "listen") {
                     listen_node = v;
                     admin_listen_given = read_listen(v, path, c);
                   } else if (key == "threads") {
                     if (auto t = integer(v, path, 0, 256)) c.threads = static_cast<unsigned>(*t);
                   } else if (key == "admin") {
                     read_admin(v, path, c.admin);
                   } else if (key == "tls") {
                     read_tls(v, path, c.tls);
                   } else if (key == "rules") {
                     read_rules(v, path, c.rules);
                   } else if (key == "policy") {
                     read_policy(v, path, c.policy, &c.scopes);
                     if (!c.policy.mode) c.policy.mode = Mode::enforce;
                   } else if (key == "identity") {
                     identity_node_ = v;
                     read_identity(v, path, c.identity);
                   } else if (key == "services") {
                     read_services(v, path, c.services);
                   } else if (key == "limits") {
                     read_limits(v, path, c.limits);
                   } else if (key == "audit") {
                     read_audit(v, path, c.audit);
                   } else if (key == "pac") {
                     read_pac(v, path, c.pac);
                   } else if (key == "transparent") {
                     transparent_node = v;
                     read_transparent(v, path, c.transparent);
                   } else if (key == "log_level") {
                     auto s = text(v, path);
                     static constexpr std::array<std::string_view, 5> levels{"trace", "debug", "info", "warn", "error"};
                     if (s && std::find(levels.begin(), levels.end(), *s) != levels.end()) c.log_level = *s;
                     else if (s) error(v, path, "expected trace, debug, info, warn or error, got '" + *s + "'");
                   }
                 });
    if (!admin_listen_given) c.admin.listen = Endpoint{"127.0.0.1", 9090};
    if (!c.gateway_listen && !c.proxy_listen && !c.transparent_listen) {
      if (listen_node) error(*listen_node, "listen", "needs `gateway`, `proxy` or `transparent`: nothing would listen");
      else add(0, "listen", "missing: give `listen.gateway`, `listen.proxy` and/or `listen.transparent`");
    }
    if (transparent_node && !c.transparent_listen)
      error(*transparent_node, "transparent", "there is no transparent listener: add `listen.transparent` (like 0.0.0.0:3129)");
    if (c.tls.ca_cert.empty() != c.tls.ca_key.empty()) {
      const YAML::Node tls = root["tls"];
      error(tls, "tls", "give `ca_cert` and `ca_key` together, or neither");
    }
    check_identity(c);
  }

  // Returns whether `admin` was given (a value or `off`).
  bool read_listen(const YAML::Node& n, const std::string& path, GatewayConfig& c) {
    bool admin_given = false;
    std::map<std::string, std::string> taken;  // endpoint → key
    for_each_key(n, path, {"gateway", "proxy", "admin", "transparent"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   if (key == "admin") admin_given = true;
                   if (key == "admin" && v.IsScalar() && v.Scalar() == "off") return;
                   auto e = endpoint(v, p);
                   if (!e) return;
                   auto [it, inserted] = taken.emplace(e->to_string(), key);
                   if (!inserted) error(v, p, "same address as `listen." + it->second + "`");
                   if (key == "gateway") c.gateway_listen = e;
                   else if (key == "proxy") c.proxy_listen = e;
                   else if (key == "transparent") c.transparent_listen = e;
                   else c.admin.listen = e;
                 });
    return admin_given;
  }

  void read_transparent(const YAML::Node& n, const std::string& path, TransparentConfig& transparent) {
    for_each_key(n, path, {"tproxy"}, [&](const std::string&, const YAML::Node& v, const std::string& p) {
      if (auto b = boolean(v, p)) transparent.tproxy = *b;
    });
  }

  void read_admin(const YAML::Node& n, const std::string& path, AdminConfig& admin) {
    std::optional<YAML::Node> token_node;
    bool from_file = false;
    for_each_key(n, path, {"token", "token_file"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
      if (token_node) {
        error(v, p, "give `token` or `token_file`, not both");
        return;
      }
      token_node = v;
      if (key == "token") {
        if (auto s = text(v, p)) admin.token = *s;
        return;
      }
      from_file = true;
      auto file = path_value(v, p);
      if (!file) return;
      if (file->empty()) {
        error(v, p, "must not be empty");
        return;
      }
      std::ifstream in(*file, std::ios::binary);
      if (!in) {
        error(v, p, "cannot read the token file '" + file->string() + "'");
        return;
      }
      std::ostringstream content;
      content << in.rdbuf();
      admin.token = content.str();
      // Files written by editors and `echo` end with a newline that is not part of the token.
      while (!admin.token.empty() && std::isspace(static_cast<unsigned char>(admin.token.back()))) admin.token.pop_back();
      if (admin.token.empty()) error(v, p, "the token file '" + file->string() + "' is empty");
    });
    // Never quote the token itself: it is a secret.
    if (token_node && std::any_of(admin.token.begin(), admin.token.end(),
                                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
      error(*token_node, join(path, from_file ? "token_file" : "token"),
            "the token must be printable ASCII without spaces");
  }

  void read_audit(const YAML::Node& n, const std::string& path, AuditConfig& audit) {
    for_each_key(n, path,
                 {"dir", "signing_key", "evidence_key", "record_clean", "rotate_size", "rotate_daily",
                  "checkpoint_interval", "siem", "review"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   constexpr size_t MiB = 1024 * 1024;
                   if (key == "dir") {
                     if (auto d = path_value(v, p)) audit.dir = *d;
                   } else if (key == "signing_key") {
                     if (auto f = path_value(v, p)) audit.signing_key = *f;
                   } else if (key == "evidence_key") {
                     if (auto f = path_value(v, p)) audit.evidence_key = *f;
                   } else if (key == "record_clean") {
                     if (auto b = boolean(v, p)) audit.record_clean = *b;
                   } else if (key == "rotate_size") {
                     if (auto s = size(v, p, 1 * MiB, 16384 * MiB, "1MiB to 16GiB")) audit.rotate_bytes = *s;
                   } else if (key == "rotate_daily") {
                     if (auto b = boolean(v, p)) audit.rotate_daily = *b;
                   } else if (key == "checkpoint_interval") {
                     using std::chrono::hours;
                     if (auto d = duration(v, p, milliseconds(100), hours(24), "100ms to 24h")) audit.checkpoint_interval = *d;
                   } else if (key == "siem") {
                     read_siem(v, p, audit.siem);
                   } else {
                     read_review(v, p, audit.review);
                   }
                 });
  }

  void read_siem(const YAML::Node& n, const std::string& path, SiemConfig& siem) {
    for_each_key(n, path, {"address", "tls", "ca", "server_name", "hostname", "retry_interval"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   if (key == "address") {
                     siem.address = endpoint(v, p);
                   } else if (key == "tls") {
                     if (auto b = boolean(v, p)) siem.tls = *b;
                   } else if (key == "ca") {
                     if (auto f = path_value(v, p)) siem.ca = *f;
                   } else if (key == "server_name") {
                     if (auto s = nonempty_text(v, p)) siem.server_name = *s;
                   } else if (key == "hostname") {
                     // RFC 5424: HOSTNAME is 1..255 printable US-ASCII characters.
                     auto s = nonempty_text(v, p);
                     if (s && (s->size() > 255 || std::any_of(s->begin(), s->end(), [](char ch) {
                                 return static_cast<unsigned char>(ch) <= ' ' || static_cast<unsigned char>(ch) >= 0x7f;
                               })))
                       error(v, p, "must be 1 to 255 printable ASCII characters without spaces");
                     else if (s) siem.hostname = *s;
                   } else {
                     if (auto d = duration(v, p, milliseconds(100), milliseconds(600'000), "100ms to 10m"))
                       siem.retry_interval = *d;
                   }
                 });
  }

  void read_review(const YAML::Node& n, const std::string& path, ReviewConfig& review) {
    for_each_key(n, path, {"officers", "session_lifetime"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   if (key == "session_lifetime") {
                     using std::chrono::hours;
                     auto d = duration(v, p, std::chrono::minutes(5), hours(24 * 7), "5m to 7d");
                     if (d) review.session_lifetime = std::chrono::duration_cast<std::chrono::minutes>(*d);
                     return;
                   }
                   if (!v.IsSequence()) {
                     error(v, p, "expected a list of {name, password_hash}");
                     return;
                   }
                   size_t i = 0;
                   for (const auto& item : v) {
                     const std::string ip = p + "[" + std::to_string(i++) + "]";
                     ReviewOfficer officer;
                     for_each_key(item, ip, {"name", "password_hash"},
                                  [&](const std::string& k, const YAML::Node& iv, const std::string& kp) {
                                    auto s = nonempty_text(iv, kp);
                                    if (!s) return;
                                    if (k == "name") officer.name = *s;
                                    // crypt(3) hashes all start with '$' and an id; a plain password never should.
                                    else if (s->size() < 20 || (*s)[0] != '$')
                                      error(iv, kp, "expected a crypt(3) hash like $y$... or $2b$... (from `mkpasswd` or `promptwall audit passwd`), not a password");
                                    else officer.password_hash = *s;
                                  });
                     if (officer.name.empty() || officer.password_hash.empty()) {
                       if (item.IsMap()) error(item, ip, "needs both `name` and `password_hash`");
                       continue;
                     }
                     for (const auto& other : review.officers)
                       if (other.name == officer.name) error(item, ip, "officer '" + officer.name + "' is given twice");
                     review.officers.push_back(std::move(officer));
                   }
                 });
  }

  // `pac.proxy`: one address or a list, in the order browsers should try them.
  void read_pac(const YAML::Node& n, const std::string& path, PacConfig& pac) {
    for_each_key(n, path, {"proxy"}, [&](const std::string&, const YAML::Node& v, const std::string& p) {
      std::vector<std::pair<std::string, YAML::Node>> items;
      if (v.IsSequence()) {
        items = string_list(v, p);
        if (v.size() == 0) error(v, p, "needs at least one address, like proxy.office.vn:3128");
      } else if (auto s = nonempty_text(v, p)) {
        items.emplace_back(*s, v);
      }
      std::set<std::string, std::less<>> seen;
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string item_path = v.IsSequence() ? p + "[" + std::to_string(i) + "]" : p;
        auto e = endpoint(items[i].second, item_path);
        if (!e) continue;
        if (!seen.insert(e->to_string()).second) error(items[i].second, item_path, "'" + items[i].first + "' is listed twice");
        else pac.proxies.push_back(std::move(*e));
      }
    });
  }

  void read_tls(const YAML::Node& n, const std::string& path, TlsConfig& tls) {
    for_each_key(n, path, {"ca_cert", "ca_key", "leaf_validity", "upstream_ca"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   if (key == "leaf_validity") {
                     using std::chrono::hours;
                     auto d = duration(v, p, hours(1), hours(24 * 397), "1h to 397d");
                     if (d && *d % hours(1) != milliseconds(0)) error(v, p, "must be a whole number of hours");
                     else if (d) tls.leaf_validity = std::chrono::duration_cast<hours>(*d);
                     return;
                   }
                   auto file = path_value(v, p);
                   if (!file) return;
                   if (key == "ca_cert") tls.ca_cert = *file;
                   else if (key == "ca_key") tls.ca_key = *file;
                   else tls.upstream_ca = *file;
                 });
  }

  void read_rules(const YAML::Node& n, const std::string& path, RulesConfig& rules) {
    for_each_key(n, path, {"packs", "cache_dir", "scoped_packs"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
      if (key == "cache_dir") {
        if (auto dir = path_value(v, p)) rules.cache_dir = dir->string();
        return;
      }
      if (key == "scoped_packs") {
        read_scoped_packs(v, p, rules.scoped_packs);
        return;
      }
      rules.packs.clear();
      for (const auto& [pack, node] : string_list(v, p))
        rules.packs.push_back(pack == "builtin" ? pack : resolve(pack).string());
      if (v.IsSequence() && rules.packs.empty()) error(v, p, "needs at least one pack (`builtin` for the embedded ones)");
    });
  }

  // The global policy also takes `units` and `groups` (given `scopes`); a service's does not.
  void read_policy(const YAML::Node& n, const std::string& path, PolicyLayer& layer, ScopedPolicy* scopes = nullptr) {
    auto handle = [&](const std::string& key, const YAML::Node& v, const std::string& p) {
      if (key == "units" || key == "groups") read_scopes(v, p, key == "units" ? scopes->units : scopes->groups, key);
      else read_layer_key(key, v, p, layer);
    };
    if (scopes) for_each_key(n, path, {"mode", "floor", "ceiling", "overrides", "units", "groups"}, handle);
    else for_each_key(n, path, {"mode", "floor", "ceiling", "overrides"}, handle);
    check_layer(n, path, layer);
  }

  void read_layer_key(const std::string& key, const YAML::Node& v, const std::string& p, PolicyLayer& layer) {
    if (key == "mode") {
      auto s = text(v, p);
      if (!s) return;
      layer.mode = mode_from_string(*s);
      if (!layer.mode) error(v, p, "expected enforce or monitor, got '" + *s + "'");
    } else if (key == "floor") {
      layer.floor = action(v, p);
    } else if (key == "ceiling") {
      layer.ceiling = action(v, p);
    } else {
      read_overrides(v, p, layer.overrides);
    }
  }

  void check_layer(const YAML::Node& n, const std::string& path, const PolicyLayer& layer) {
    // Both are set only when both keys were given, so n["ceiling"] exists.
    if (layer.floor && layer.ceiling && *layer.ceiling < *layer.floor)
      error(n["ceiling"], join(path, "ceiling"),
            "'" + std::string(to_string(*layer.ceiling)) + "' is weaker than floor '" +
                std::string(to_string(*layer.floor)) + "'");
  }

  void read_overrides(const YAML::Node& n, const std::string& path, std::map<std::string, Action, std::less<>>& out) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping of rule id or category to action, like {secret: block}");
      return;
    }
    for (const auto& kv : n) {
      const std::string target = kv.first.Scalar();
      const std::string p = path + "." + target;
      if (!is_known_category(target) && !looks_like_rule_id(target)) {
        error(kv.first, p, "'" + target + "' is neither a category (like secret, phone) nor a rule id (like secret.openai.api-key)");
        continue;
      }
      if (out.contains(target)) {
        error(kv.first, p, "given twice");
        continue;
      }
      if (auto a = action(kv.second, p)) out.emplace(target, *a);
    }
  }

  void read_services(const YAML::Node& n, const std::string& path, std::vector<Service>& services) {
    if (!n.IsSequence()) {
      error(n, path, "expected a list of services, each starting with `- name: ...`");
      return;
    }
    std::map<std::string, std::string> names, prefixes, hosts;  // value → owning service
    size_t index = 0;
    for (const auto& item : n) {
      std::string p = path + "[" + std::to_string(index++) + "]";
      Service s;
      if (!read_service(item, p, s)) continue;
      if (auto [it, inserted] = names.emplace(s.name, s.name); !inserted)
        error(item["name"], p + ".name", "another service is already called '" + s.name + "'");
      if (!s.prefix.empty())
        if (auto [it, inserted] = prefixes.emplace(s.prefix, s.name); !inserted)
          error(item["prefix"], p + ".prefix", "'" + s.prefix + "' is already the prefix of service '" + it->second + "'");
      for (size_t h = 0; h < s.hosts.size(); ++h)
        if (auto [it, inserted] = hosts.emplace(s.hosts[h], s.name); !inserted)
          error(item["hosts"][h], p + ".hosts[" + std::to_string(h) + "]",
                "'" + s.hosts[h] + "' already belongs to service '" + it->second + "'");
      services.push_back(std::move(s));
    }
  }

  bool read_service(const YAML::Node& n, const std::string& path, Service& s) {
    bool upstream_given = false;
    bool reach_error = false;  // `prefix` or `hosts` was wrong, which is error enough
    bool ok = for_each_key(
        n, path, {"name", "prefix", "hosts", "upstream", "schema", "approved", "inspect", "unparseable", "policy"},
        [&](const std::string& key, const YAML::Node& v, const std::string& p) {
          if (key == "name") {
            auto name = nonempty_text(v, p);
            if (name && is_service_name(*name)) s.name = *name;
            else if (name) error(v, p, "'" + *name + "' must be lower-case letters, digits, '-', '_' or '.'");
          } else if (key == "prefix") {
            auto prefix = nonempty_text(v, p);
            if (prefix && is_prefix(*prefix)) s.prefix = *prefix;
            else if (prefix)
              error(v, p, "'" + *prefix + "' must start with '/', not end with '/', and hold only letters, digits, '-', '.', '_', '~' between slashes");
            reach_error |= s.prefix.empty();
          } else if (key == "hosts") {
            size_t errors_before = errors_.size();
            read_hosts(v, p, s.hosts);
            reach_error |= errors_.size() != errors_before;
          } else if (key == "upstream") {
            auto url = nonempty_text(v, p);
            if (!url) return;
            upstream_given = true;
            std::string why;
            s.upstream = parse_upstream_url(*url, &why);
            if (!s.upstream) error(v, p, "expected a URL like https://api.openai.com, got '" + *url + "': " + why);
          } else if (key == "schema") {
            auto name = text(v, p);
            if (!name) return;
            if (auto schema = schema_from_string(*name)) s.schema = *schema;
            else error(v, p, "expected openai, gemini, anthropic, json, text, chatgpt_web or gemini_web, got '" + *name + "'");
          } else if (key == "approved") {
            if (auto b = boolean(v, p)) s.approved = *b;
          } else if (key == "inspect") {
            if (auto b = boolean(v, p)) s.inspect = *b;
          } else if (key == "unparseable") {
            auto name = text(v, p);
            if (name && *name == "scan_raw_or_block") s.unparseable = UnparseablePolicy::scan_raw_or_block;
            else if (name && *name == "block") s.unparseable = UnparseablePolicy::block;
            else if (name) error(v, p, "expected scan_raw_or_block or block, got '" + *name + "'");
          } else if (key == "policy") {
            read_policy(v, p, s.policy);
          }
        });
    if (!ok) return false;
    if (!n["name"]) {
      error(n, path + ".name", "missing: every service needs a name");
      return false;
    }
    if (s.name.empty()) return false;
    if (s.prefix.empty() && s.hosts.empty() && !reach_error)
      error(n, path, "service '" + s.name + "' needs a `prefix` or `hosts`, or nothing reaches it");
    if (s.approved && (s.inspect || !s.prefix.empty()) && !upstream_given)
      error(n, path + ".upstream", "missing: approved service '" + s.name + "' forwards requests, so it needs an upstream URL");
    return true;
  }

  void read_hosts(const YAML::Node& n, const std::string& path, std::vector<std::string>& hosts) {
    std::set<std::string, std::less<>> seen;
    size_t i = 0;
    for (const auto& [raw, node] : string_list(n, path)) {
      std::string p = path + "[" + std::to_string(i++) + "]";
      std::string host = lower(raw);
      if (host.ends_with('.')) host.pop_back();
      bool wildcard = host.starts_with("*.");
      std::string_view name = wildcard ? std::string_view(host).substr(2) : std::string_view(host);
      if (!is_host_name(name) || (wildcard && name.find('.') == std::string_view::npos)) {
        error(node, p, "'" + raw + "' is not a host name (a wildcard is a leading '*.' before at least two labels, like *.example.com)");
        continue;
      }
      if (!seen.insert(host).second) {
        error(node, p, "'" + raw + "' is listed twice");
        continue;
      }
      hosts.push_back(std::move(host));
    }
  }

  void read_limits(const YAML::Node& n, const std::string& path, Limits& limits) {
    constexpr size_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
    std::optional<YAML::Node> decoded_node;
    for_each_key(n, path,
                 {"max_header_bytes", "max_body_bytes", "max_decoded_body_bytes", "max_json_depth", "max_connections",
                  "timeouts"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   if (key == "max_header_bytes") {
                     if (auto s = size(v, p, 1 * KiB, 1 * MiB, "1KiB to 1MiB")) limits.max_header_bytes = *s;
                   } else if (key == "max_body_bytes") {
                     if (auto s = size(v, p, 1 * KiB, 1 * GiB, "1KiB to 1GiB")) limits.max_body_bytes = *s;
                   } else if (key == "max_decoded_body_bytes") {
                     decoded_node = v;
                     if (auto s = size(v, p, 1 * KiB, 4 * GiB, "1KiB to 4GiB")) limits.max_decoded_body_bytes = *s;
                   } else if (key == "max_json_depth") {
                     if (auto d = integer(v, p, 1, 10'000)) limits.max_json_depth = *d;
                   } else if (key == "max_connections") {
                     if (auto c = integer(v, p, 1, 1'000'000)) limits.max_connections = *c;
                   } else {
                     read_timeouts(v, p, limits.timeouts);
                   }
                 });
    if (limits.max_decoded_body_bytes < limits.max_body_bytes)
      error(decoded_node ? *decoded_node : n, join(path, "max_decoded_body_bytes"),
            "must be at least `max_body_bytes` (" + std::to_string(limits.max_body_bytes) +
                " bytes): an uncompressed body decodes to its own size");
  }

  void read_timeouts(const YAML::Node& n, const std::string& path, Timeouts& t) {
    using std::chrono::hours;
    for_each_key(n, path, {"header", "body", "idle", "upstream_connect", "upstream_response"},
                 [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                   auto d = duration(v, p, milliseconds(1), hours(24 * 7), "1ms to 7d");
                   if (!d) return;
                   if (key == "header") t.header = *d;
                   else if (key == "body") t.body = *d;
                   else if (key == "idle") t.idle = *d;
                   else if (key == "upstream_connect") t.upstream_connect = *d;
                   else t.upstream_response = *d;
                 });
  }

  // ---- identity and policy scopes ----

  void read_scoped_packs(const YAML::Node& n, const std::string& path, std::vector<std::string>& packs) {
    std::set<std::string, std::less<>> names;
    for (const auto& [file, node] : string_list(n, path)) {
      const fs::path resolved = resolve(file);
      if (resolved.extension() != ".yaml" && resolved.extension() != ".yml") {
        error(node, path, "'" + file + "' must be a pack file ending in .yaml (its name is the file name without it)");
        continue;
      }
      if (!names.insert(resolved.stem().string()).second) {
        error(node, path, "two scoped packs are called '" + resolved.stem().string() + "'");
        continue;
      }
      packs.push_back(resolved.string());
    }
  }

  void read_scopes(const YAML::Node& n, const std::string& path, std::map<std::string, PolicyScope, std::less<>>& out,
                   const std::string& kind) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping of " + std::string(kind == "units" ? "unit" : "group") +
                         " names to policy, like {legal: {mode: monitor}}");
      return;
    }
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string p = path + "." + name;
      if (out.contains(name)) {
        error(kv.first, p, "given twice");
        continue;
      }
      references_.push_back({kind == "units" ? Reference::unit : Reference::group, name, kv.first, p});
      PolicyScope scope;
      for_each_key(kv.second, p, {"mode", "floor", "ceiling", "overrides", "packs", "services"},
                   [&](const std::string& key, const YAML::Node& v, const std::string& kp) {
                     if (key == "packs") {
                       for (const auto& [pack, node] : string_list(v, kp)) {
                         references_.push_back({Reference::pack, pack, node, kp});
                         scope.packs.push_back(pack);
                       }
                     } else if (key == "services") {
                       read_scope_services(v, kp, scope);
                     } else {
                       read_layer_key(key, v, kp, scope.layer);
                     }
                   });
      check_layer(kv.second, p, scope.layer);
      out.emplace(name, std::move(scope));
    }
  }

  void read_scope_services(const YAML::Node& n, const std::string& path, PolicyScope& scope) {
    for_each_key(n, path, {"allow", "deny"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
      auto& list = key == "allow" ? scope.allow_services : scope.deny_services;
      for (const auto& [service, node] : string_list(v, p)) {
        references_.push_back({key == "allow" ? Reference::allowed_service : Reference::service, service, node, p});
        list.push_back(service);
      }
    });
    for (const auto& s : scope.allow_services)
      if (std::find(scope.deny_services.begin(), scope.deny_services.end(), s) != scope.deny_services.end())
        error(n, path, "service '" + s + "' is both allowed and denied");
  }

  void read_identity(const YAML::Node& n, const std::string& path, IdentityConfig& id) {
    for_each_key(
        n, path, {"users_file", "groups_file", "proxy_auth", "realm", "trusted_header", "units", "user_units"},
        [&](const std::string& key, const YAML::Node& v, const std::string& p) {
          if (key == "users_file" || key == "groups_file") {
            auto file = path_value(v, p);
            if (file && file->empty()) error(v, p, "must not be empty");
            else if (file) (key == "users_file" ? id.users_file : id.groups_file) = *file;
            (key == "users_file" ? users_node_ : groups_node_) = v;
          } else if (key == "proxy_auth") {
            auto s = text(v, p);
            if (s && *s == "off") id.proxy_auth = ProxyAuthMode::off;
            else if (s && *s == "optional") id.proxy_auth = ProxyAuthMode::optional;
            else if (s && *s == "required") id.proxy_auth = ProxyAuthMode::required;
            else if (s) error(v, p, "expected off, optional or required, got '" + *s + "'");
          } else if (key == "realm") {
            auto s = nonempty_text(v, p);
            if (s && std::any_of(s->begin(), s->end(), [](char c) { return static_cast<unsigned char>(c) < ' ' || c == 0x7f; }))
              error(v, p, "must not hold control characters");
            else if (s) id.realm = *s;
          } else if (key == "trusted_header") {
            read_trusted_header(v, p, id);
          } else if (key == "units") {
            read_unit_map(v, p, id.units);
          } else {
            read_user_units(v, p, id.user_units);
          }
        });
  }

  // A header name as RFC 9110 allows it (a token).
  static bool is_header_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
  }

  void read_trusted_header(const YAML::Node& n, const std::string& path, IdentityConfig& id) {
    TrustedHeaderConfig t;
    bool from_given = false;
    for_each_key(n, path, {"user", "groups", "unit", "from"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
      if (key == "from") {
        from_given = true;
        for (const auto& [block, node] : string_list(v, p)) {
          std::string why;
          if (auto network = IpNetwork::parse(block, &why)) t.from.push_back(std::move(*network));
          else error(node, p, "expected an address block like 10.0.0.10/32: " + why);
        }
        if (v.IsSequence() && v.size() == 0) error(v, p, "needs at least one address block: no client would be trusted");
        return;
      }
      auto name = nonempty_text(v, p);
      if (!name) return;
      if (!is_header_name(*name)) {
        error(v, p, "'" + *name + "' is not a header name");
        return;
      }
      if (beast_reserved(*name)) {
        error(v, p, "'" + *name + "' is a header the gateway itself relies on; choose another");
        return;
      }
      (key == "user" ? t.user : key == "groups" ? t.groups : t.unit) = *name;
    });
    if (!n.IsMap()) return;
    if (t.user.empty()) error(n, path + ".user", "missing: the header carrying the user name");
    if (!from_given) error(n, path + ".from", "missing: the address blocks allowed to send identity headers");
    id.trusted_header = std::move(t);
  }

  static bool beast_reserved(std::string_view name) {
    for (std::string_view reserved : {"host", "content-length", "content-type", "content-encoding", "transfer-encoding",
                                      "connection", "authorization", "proxy-authorization", "cookie"})
      if (lower(name) == reserved) return true;
    return false;
  }

  void read_unit_map(const YAML::Node& n, const std::string& path, std::vector<std::pair<IpNetwork, std::string>>& units) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping of address blocks to units, like {\"10.1.0.0/16\": legal}");
      return;
    }
    std::set<std::string> blocks;
    for (const auto& kv : n) {
      const std::string block = kv.first.Scalar();
      const std::string p = path + "." + block;
      std::string why;
      auto network = IpNetwork::parse(block, &why);
      if (!network) {
        error(kv.first, p, "expected an address block like 10.1.0.0/16: " + why);
        continue;
      }
      if (!blocks.insert(network->base.to_string() + "/" + std::to_string(network->prefix)).second) {
        error(kv.first, p, "the same block is given twice");
        continue;
      }
      auto unit = nonempty_text(kv.second, p);
      if (unit && !is_identity_name(*unit)) error(kv.second, p, "'" + *unit + "' is not a valid unit name (no spaces, ':' or ',')");
      else if (unit) units.emplace_back(std::move(*network), *unit);
    }
  }

  void read_user_units(const YAML::Node& n, const std::string& path, std::map<std::string, std::string, std::less<>>& out) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping of user names to units, like {an.nguyen: legal}");
      return;
    }
    for (const auto& kv : n) {
      const std::string user = kv.first.Scalar();
      const std::string p = path + "." + user;
      if (!is_identity_name(user)) {
        error(kv.first, p, "'" + user + "' is not a valid user name");
        continue;
      }
      if (out.contains(user)) {
        error(kv.first, p, "given twice");
        continue;
      }
      auto unit = nonempty_text(kv.second, p);
      if (unit && !is_identity_name(*unit)) error(kv.second, p, "'" + *unit + "' is not a valid unit name (no spaces, ':' or ',')");
      else if (unit) out.emplace(user, *unit);
    }
  }

  // Everything a scope names must exist; the users and groups files must parse.
  void check_identity(const GatewayConfig& c) {
    const IdentityConfig& id = c.identity;
    const YAML::Node anchor = identity_node_ ? *identity_node_ : YAML::Node();
    if (id.proxy_auth != ProxyAuthMode::off && id.users_file.empty())
      error(anchor, "identity.users_file", "missing: proxy_auth needs a users file to check passwords against");
    if (!id.users_file.empty()) {
      try {
        PasswordFile::load(id.users_file);
      } catch (const IdentityFileError& e) {
        error(users_node_ ? *users_node_ : anchor, "identity.users_file", e.what());
      }
    }
    std::optional<GroupFile> groups;
    if (!id.groups_file.empty()) {
      try {
        groups = GroupFile::load(id.groups_file);
      } catch (const IdentityFileError& e) {
        error(groups_node_ ? *groups_node_ : anchor, "identity.groups_file", e.what());
      }
    }
    const bool units_from_header = id.trusted_header && !id.trusted_header->unit.empty();
    const bool groups_from_header = id.trusted_header && !id.trusted_header->groups.empty();
    std::set<std::string, std::less<>> units;
    for (const auto& [network, unit] : id.units) units.insert(unit);
    for (const auto& [user, unit] : id.user_units) units.insert(unit);
    std::set<std::string, std::less<>> pack_names;
    for (const auto& file : c.rules.scoped_packs) pack_names.insert(fs::path(file).stem().string());

    for (const auto& ref : references_) {
      switch (ref.kind) {
        case Reference::unit:
          if (!units_from_header && !units.contains(ref.name))
            error(ref.node, ref.path, "unknown unit '" + ref.name + "': no entry of identity.units or identity.user_units names it");
          break;
        case Reference::group:
          if (groups_from_header || (groups && groups->has_group(ref.name))) break;
          if (id.groups_file.empty())
            error(ref.node, ref.path, "unknown group '" + ref.name + "': give identity.groups_file (or a trusted groups header)");
          else if (groups)
            error(ref.node, ref.path, "unknown group '" + ref.name + "': " + id.groups_file.string() + " does not define it");
          break;
        case Reference::pack:
          if (!pack_names.contains(ref.name))
            error(ref.node, ref.path, "unknown pack '" + ref.name + "': list its file in rules.scoped_packs");
          break;
        case Reference::service:
        case Reference::allowed_service: {
          auto it = std::find_if(c.services.begin(), c.services.end(), [&](const Service& s) { return s.name == ref.name; });
          if (it == c.services.end())
            error(ref.node, ref.path, "unknown service '" + ref.name + "'");
          else if (ref.kind == Reference::allowed_service && !it->upstream)
            error(ref.node, ref.path, "service '" + ref.name + "' has no upstream, so it cannot be allowed");
          break;
        }
      }
    }
  }

  // A name a policy scope uses, checked once everything is read.
  struct Reference {
    enum Kind { unit, group, pack, service, allowed_service } kind;
    std::string name;
    YAML::Node node;
    std::string path;
  };
  std::vector<Reference> references_;
  std::optional<YAML::Node> identity_node_, users_node_, groups_node_;

  std::string source_;
  fs::path base_dir_;
  std::vector<std::pair<int, std::string>> errors_;  // (1-based line, full message)
};

}  // namespace

std::string Endpoint::to_string() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error) {
  auto hp = parse_host_port(text, 0, error);
  if (!hp) return std::nullopt;
  return Endpoint{std::move(hp->host), hp->port};
}

std::optional<UpstreamTarget> parse_upstream_url(std::string_view url, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<UpstreamTarget> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  UpstreamTarget out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("it must start with https:// or http://");
  std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https") out.tls = true;
  else if (scheme == "http") out.tls = false;
  else return fail("the scheme must be https or http, not '" + scheme + "'");
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return fail("a query or fragment is not allowed");
  if (std::any_of(rest.begin(), rest.end(), [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; }))
    return fail("spaces and control characters are not allowed");
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) return fail("user info (user@host) is not allowed");
  auto hp = parse_host_port(authority, out.tls ? 443 : 80, error);
  if (!hp) return std::nullopt;
  out.host = std::move(hp->host);
  out.port = hp->port;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    if (path.find("//") != std::string_view::npos) return fail("the path has an empty segment");
    out.base_path = std::string(path);
  }
  return out;
}

std::optional<size_t> parse_size(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  auto number = parse_unsigned<size_t>(s.substr(0, digits));
  if (!number) return std::nullopt;
  std::string_view unit = s.substr(digits);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  static constexpr std::array<std::pair<std::string_view, size_t>, 8> units{{
      {"", 1}, {"B", 1}, {"KiB", size_t{1} << 10}, {"MiB", size_t{1} << 20}, {"GiB", size_t{1} << 30},
      {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}}};
  for (const auto& [name, factor] : units) {
    if (unit != name || (name.empty() && digits != s.size())) continue;
    if (*number > std::numeric_limits<size_t>::max() / factor) return std::nullopt;
    return *number * factor;
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_duration(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  auto number = parse_unsigned<int64_t>(s.substr(0, digits));
  if (!number) return std::nullopt;
  static constexpr std::array<std::pair<std::string_view, int64_t>, 6> units{{
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  for (const auto& [name, factor] : units) {
    if (s.substr(digits) != name) continue;
    if (*number > std::numeric_limits<int64_t>::max() / factor) return std::nullopt;
    return milliseconds(*number * factor);
  }
  return std::nullopt;
}

GatewayConfig parse_gateway_config(std::string_view yaml, std::string_view source_name, const fs::path& base_dir) {
  return ConfigReader(std::string(source_name), base_dir).read(yaml);
}

GatewayConfig load_gateway_config(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read the configuration file");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw ConfigError(file.string() + ": cannot read the configuration file");
  return parse_gateway_config(content.str(), file.string(), fs::absolute(file).parent_path());
}

std::string_view default_gateway_config_yaml() { return kDefaultConfig; }

GatewayConfig load_gateway_config_or_default(const fs::path& file) {
  return file.empty() ? parse_gateway_config(kDefaultConfig, "<embedded default>", ".") : load_gateway_config(file);
}

}  // namespace promptwall::gateway
