// GatewayConfig: everything `promptwall serve` needs, read from one YAML file (docs/configuration.md)
// or from the embedded default.
//
// Invariants of a GatewayConfig returned by parse_gateway_config() / load_gateway_config():
//   - at least one of gateway_listen, proxy_listen and transparent_listen is set; every Endpoint has a port in 1..65535;
//   - every path (tls.*, rules.packs other than "builtin", rules.cache_dir, audit.*) is absolute
//     or empty: relative paths were resolved against the config file's directory;
//   - tls.ca_cert and tls.ca_key are both set or both empty; tls.leaf_validity >= 1h;
//   - admin.token holds the token itself (read from `token_file:` when that was given), never a path;
//   - services have unique names, unique non-empty prefixes ("/x", no trailing '/'), hosts in the
//     normal form of gateway/catalog/host_name.h (lower case, A-labels, no trailing dot; names or
//     IPv4 addresses, "*." only before a name) and unique across services, and an upstream whenever
//     they are approved and inspected or reachable by prefix;
//   - limits and timeouts are > 0 and within the documented ranges; policy floor <= ceiling.
//   - identity: proxy_auth other than off has a users_file; every unit, group, service and scoped
//     pack a policy scope names exists (units in identity.units/user_units unless a unit header is
//     trusted, groups in the groups file unless a groups header is trusted); a service a scope
//     allows has an upstream; the users and groups files parse (they are read to check this).
// Nothing else is read from disk except the config file and the admin token file: whether the CA
// files, packs and directories exist is checked by the parts that open them when the server starts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "extractors/extraction_limits.h"
#include "gateway/catalog/service.h"
#include "gateway/config/default_limits.h"
#include "gateway/identity/ip_network.h"
#include "rules/policy.h"

namespace promptwall::gateway {

// A listening address. host is an IPv4 or IPv6 literal (without brackets) or a name, in the normal
// form of gateway/catalog/host_name.h.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  // "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:3128"
  std::string to_string() const;
};

// Parses "127.0.0.1:8080", "[::1]:8080" or "localhost:8080" (the port is required). On failure
// returns nullopt and, when `error` is given, says why.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error);

// Defaults: gateway/config/default_limits.h (the one definition).
struct Timeouts {
  std::chrono::milliseconds header = default_limits::header_timeout;  // the whole request head must arrive within this
  std::chrono::milliseconds body = default_limits::body_timeout;      // the whole request body must arrive within this
  std::chrono::milliseconds idle = default_limits::idle_timeout;      // keep-alive connection with no request
  std::chrono::milliseconds upstream_connect = default_limits::upstream_connect_timeout;  // TCP + TLS to the upstream
  // until the upstream's response head
  std::chrono::milliseconds upstream_response = default_limits::upstream_response_timeout;
};

struct Limits {
  size_t max_header_bytes = default_limits::max_header_bytes;
  size_t max_body_bytes = default_limits::max_body_bytes;
  size_t max_decoded_body_bytes = default_limits::max_decoded_body_bytes;  // >= max_body_bytes
  size_t max_json_depth = default_limits::max_json_depth;
  size_t max_connections = default_limits::max_connections;
  Timeouts timeouts;
};

// `documents:` what reading a file may cost (extractors/extraction_limits.h holds the defaults) and
// how many sandboxed worker processes read them.
struct DocumentsConfig {
  extractors::ExtractionLimits limits;
  unsigned workers = 0;  // documents read at once; 0 = one per core (at least 2)
  unsigned spares = 2;   // worker processes started ahead of need
};

struct TlsConfig {
  std::filesystem::path ca_cert, ca_key;  // organisation CA for interception; empty = the server's default
  std::chrono::hours leaf_validity{24 * 7};
  std::filesystem::path upstream_ca;  // extra CA trusted for upstreams, besides the system store
};

struct AdminConfig {
  std::optional<Endpoint> listen;  // default 127.0.0.1:9090; unset when `listen.admin: off`
  std::string token;               // bearer token (from `token:` or read from `token_file:`); may be empty
};

// Signed rule bundles (gateway/bundles/, docs/rule-bundles.md): one source, exactly one of `url`
// and `dir`; a bundle replaces rules.packs and rules.scoped_packs (setting them too is an error).
struct RulesBundleConfig {
  std::string url;                      // http:// or https://, polled with If-None-Match/If-Modified-Since
  std::optional<UpstreamTarget> target;  // `url` parsed (host, port, TLS, path)
  std::filesystem::path dir;            // a watched directory: the newest valid *.bundle by version
  std::filesystem::path public_key;     // the authors' Ed25519 public key (PEM); required
  std::chrono::milliseconds poll_interval{60'000};  // 1s to 1d
  std::filesystem::path state_dir;      // where the last good bundle is kept; "" = <state dir>/bundles
  bool enabled() const { return !url.empty() || !dir.empty(); }
};

struct RulesConfig {
  RulesBundleConfig bundle;
  std::vector<std::string> packs{"builtin"};  // "builtin" = the embedded packs; else files/dirs (absolute)
  std::string cache_dir;                      // empty = RuleSetCompiler::default_cache_dir()
  // Pack files compiled in whose findings count only for requesters whose unit or group names the
  // pack (policy.units/groups.*.packs), by its name: the file name without .yaml (absolute paths).
  std::vector<std::string> scoped_packs;
};

// The syslog shipper to the organisation's SIEM (RFC 5424 over TCP, octet counting, CEF messages).
struct SiemConfig {
  std::optional<Endpoint> address;   // unset = no shipping
  bool tls = false;
  std::filesystem::path ca;          // TLS: trust for the SIEM's certificate, besides the system store
  std::string server_name;           // TLS: the name to verify; default the address's host
  std::string hostname;              // HOSTNAME of each message; default this machine's name
  std::chrono::milliseconds retry_interval{2'000};
};

// An officer of the review page; password_hash is a crypt(3) hash (yescrypt "$y$", bcrypt "$2b$",
// sha512crypt "$6$"), as `mkpasswd` or `promptwall audit passwd` prints it.
struct ReviewOfficer {
  std::string name;
  std::string password_hash;
};

struct ReviewConfig {
  std::vector<ReviewOfficer> officers;  // none = the review page is off
  std::chrono::minutes session_lifetime{8 * 60};
  // The organisation's time zone (IANA name, checked against ICU's data at load): the review page
  // and the CSV exports show times and count days and weeks in it.
  std::string time_zone = "Asia/Ho_Chi_Minh";
};

// `audit.central` (issue 17): the fleet's central audit store in PostgreSQL (central/README.md).
// The gateway ships every trail record there from its own thread (server/central_shipper.h); an
// unreachable store never slows or refuses requests.
struct CentralConfig {
  std::string url;                       // libpq URI or key=value conninfo; "" = no central store
  std::filesystem::path password_file;   // optional; a private file (0600), read at start
  bool review = false;                   // the review page and charts read the central store
  size_t batch_records = 1000;           // records per transaction, 1 to 100000
  std::chrono::milliseconds retry_interval{2'000};
  bool enabled() const { return !url.empty(); }
};

struct AuditConfig {
  std::filesystem::path dir;           // the trail; empty = <state dir>/audit
  std::filesystem::path signing_key;   // Ed25519 PEM; empty = <state dir>/audit-signing.pem (made when missing)
  std::filesystem::path evidence_key;  // HMAC key file; empty = <state dir>/audit-evidence.key (made when missing)
  bool record_clean = false;           // also record requests with no finding
  uint64_t rotate_bytes = 64ull << 20;
  bool rotate_daily = true;
  std::chrono::milliseconds checkpoint_interval{60'000};
  SiemConfig siem;
  ReviewConfig review;
  // How often the per-hour traffic counts (every decided request per unit and service) are
  // written to the trail as a `traffic` record; also at shutdown. 1s to 1h.
  std::chrono::milliseconds traffic_interval{60'000};
  CentralConfig central;
};

// `fleet` (issue 17): who this gateway is among many, as the central store names it.
struct FleetConfig {
  std::string gateway_id;  // [A-Za-z0-9._-]{1,64}; default this machine's host name (made to fit)
  std::string province;    // free text
};

// The proxy auto-config file the admin listener serves (/proxy.pac, /wpad.dat; gateway/catalog/pac_file.h).
struct PacConfig {
  // The proxies browsers should use, in failover order (`pac.proxy`). Empty: the forward proxy
  // listener's address when it is a specific one, else the host the PAC was requested under with
  // the proxy listener's port.
  std::vector<Endpoint> proxies;
};

// The transparent listener (`listen.transparent`): connections the firewall redirected to it.
struct TransparentConfig {
  // false: the firewall REDIRECTs/DNATs (original destination from SO_ORIGINAL_DST);
  // true: it uses TPROXY (the listener gets IP_TRANSPARENT, which needs CAP_NET_ADMIN, and the
  // accepted socket's local address is the original destination).
  bool tproxy = false;
};

// `listen.proxy_protocol`: the listeners that take a PROXY protocol header (v2, or v1 text) before
// a connection's bytes, as HAProxy's `send-proxy-v2` writes it, and who may send one
// (server/proxy_header_reader.h). A connection from a `from` address to such a listener must open
// with a valid header (else it is closed); the header's client is then the connection's client
// everywhere (units, identity headers' `from`, the audit event's client). Connections from other
// addresses are direct clients: no header is read from them.
// Invariant after parsing: `from` is non-empty exactly when a listener is enabled, and every
// enabled listener is configured.
struct ProxyProtocolConfig {
  bool gateway = false, proxy = false, transparent = false, admin = false;
  std::vector<IpNetwork> from;
  bool any() const { return gateway || proxy || transparent || admin; }
};

// Where the gateway may be made to connect, and what a connection that names no host may reach
// (`destinations`; gateway/catalog/destination_guard.h and ai_address_map.h).
struct DestinationsConfig {
  // Refused as CONNECT or absolute-form targets, like loopback and link-local (SSRF); none by default.
  std::vector<IpNetwork> forbidden_networks;
  // `ai_addresses: refuse | tunnel`: a CONNECT to an IP address, or redirected TLS naming no host
  // (no SNI, or ECH), to an address an AI service's host resolves to. refuse (the default):
  // uninspectable_connection; tunnel: passed untouched as before (logged).
  bool refuse_ai_addresses = true;
  std::chrono::milliseconds ai_address_refresh{600'000};  // how often the catalog's hosts are resolved again
};

// AI services the catalog does not describe (`unlisted_ai`): the network team's list of hosts and
// wildcards. parse_gateway_config() turns it into one more service, kUnlistedAiService, at the end
// of `services`: unapproved when `action: refuse` (the default), so every path refuses it, the PAC
// sends it through the proxy and the nft sets hold it; `action: tunnel` makes it a known
// non-inspected service (passes untouched). A scope may allow it by that name.
inline constexpr std::string_view kUnlistedAiService = "unlisted-ai";
struct UnlistedAiConfig {
  bool refuse = true;
  std::vector<std::string> hosts;  // normal form, as a service's hosts
};

// Who sent a request (gateway/identity/identity.h): proxy authentication, a trusted identity header, and
// the CIDR → unit map.
enum class ProxyAuthMode : uint8_t { off, optional, required };

struct TrustedHeaderConfig {
  std::string user;              // header carrying the user name (required)
  std::string groups, unit;      // headers carrying comma-separated groups and the unit; "" = not read
  std::vector<IpNetwork> from;   // only clients in these blocks are believed (at least one)
};

struct IdentityConfig {
  std::filesystem::path users_file;   // htpasswd (bcrypt/argon2); required when proxy_auth is not off
  std::filesystem::path groups_file;  // htgroup; may be empty
  ProxyAuthMode proxy_auth = ProxyAuthMode::off;
  std::string realm = "promptwall";
  std::optional<TrustedHeaderConfig> trusted_header;
  std::vector<std::pair<IpNetwork, std::string>> units;  // CIDR → unit, longest prefix wins
  std::map<std::string, std::string, std::less<>> user_units;  // user → unit, wins over the address
};

// What one unit or group changes: a PolicyLayer applied after the service's own, the scoped packs
// that count for its members, and services allowed or refused for them.
struct PolicyScope {
  PolicyLayer layer;
  std::vector<std::string> packs;           // names of rules.scoped_packs entries
  std::vector<std::string> allow_services;  // allowed even when `approved: false`
  std::vector<std::string> deny_services;   // refused even when approved; a deny anywhere wins
};

struct ScopedPolicy {
  std::map<std::string, PolicyScope, std::less<>> units, groups;
};

// `coaching:` what a warn or justify finding asks of the person (gateway/coaching/README.md): the
// first request is answered with what was found and how to go on; the same request sent again
// with the token and, for justify, a reason, is forwarded and recorded with it.
struct CoachingConfig {
  std::string guidance_url;                   // the organisation's guidance for staff; "" = none shown
  std::chrono::seconds token_lifetime{600};   // a token's life, 30s..24h
  size_t min_reason_chars = 10;               // justify: the shortest reason accepted (characters)
  size_t max_reason_bytes = 500;              // a longer reason is cut (on a UTF-8 boundary) when recorded
  // Who may justify: members of these units or groups. Both empty: everyone. Others get justify
  // as block, told that they may not override.
  std::vector<std::string> justify_units, justify_groups;
  uint32_t daily_override_cap = 20;           // overrides per requester per UTC day; 0 = no cap
};

// `pseudonyms:` the labels a `pseudonym` redaction sends (gateway/pseudonyms/README.md). The
// mapping lives in the gateway's memory only: never on disk, in the trail or logs; gone after a
// restart (a reply to a request sent before it is restored all the same: its labels travel with
// the request, not in the vault).
struct PseudonymConfig {
  bool enabled = true;                            // false: pseudonym rules act as plain labels, nothing restored
  std::chrono::seconds ttl{std::chrono::hours(1)};  // a value keeps its label this long after its last use
  size_t max_entries = 100000;                    // values held across all requesters; the least recently used go first
};

struct GatewayConfig {
  std::string source;                      // the file, or "<embedded default>"
  std::optional<Endpoint> gateway_listen;  // base-URL gateway (`listen.gateway`)
  std::optional<Endpoint> proxy_listen;    // forward proxy (`listen.proxy`)
  std::optional<Endpoint> transparent_listen;  // redirected connections (`listen.transparent`)
  TransparentConfig transparent;
  ProxyProtocolConfig proxy_protocol;  // `listen.proxy_protocol`
  FleetConfig fleet;
  AdminConfig admin;
  unsigned threads = 0;  // 0 = one per core; at most 256
  TlsConfig tls;
  RulesConfig rules;
  PolicyLayer policy;  // global layer; mode is always set (default enforce)
  FilePolicy files = FilePolicy::block;  // `policy.files`; every service without its own gets it
  // `policy.unscannable`: per cause; merged into every service's own (the service's win).
  std::map<std::string, FilePolicy, std::less<>> unscannable;
  DocumentsConfig documents;
  std::vector<Service> services;
  Limits limits;
  AuditConfig audit;
  std::string log_level = "info";       // trace|debug|info|warn|error
  PacConfig pac;
  IdentityConfig identity;
  ScopedPolicy scopes;  // `policy.units` and `policy.groups`
  DestinationsConfig destinations;
  UnlistedAiConfig unlisted_ai;  // also the last entry of `services` when it has hosts
  PseudonymConfig pseudonyms;
  CoachingConfig coaching;
};

// what() holds every problem found, one per line, in document order, each as
//   FILE:LINE: key `limits.max_body_bytes`: expected a size like 10MiB, got 'lots'
// (LINE is 1-based; problems with the file itself have no key).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and validates `yaml`; `source_name` names it in errors; relative paths resolve against
// base_dir. Throws ConfigError.
GatewayConfig parse_gateway_config(std::string_view yaml, std::string_view source_name,
                                   const std::filesystem::path& base_dir);

// Reads and parses `file`; relative paths resolve against its directory. A missing or unreadable
// file is a ConfigError.
GatewayConfig load_gateway_config(const std::filesystem::path& file);

// The configuration `promptwall serve` runs without --config: gateway/config/default.yaml, compiled
// in at build time (gateway/config/embed_text.cmake). The one source of the built-in service
// catalog; the shipped configurations are tested against it. Always parses.
std::string_view default_gateway_config_yaml();

// load_gateway_config(file), or the embedded default when `file` is empty (what every command
// taking an optional --config reads).
GatewayConfig load_gateway_config_or_default(const std::filesystem::path& file);

// "https://api.openai.com", "http://10.0.0.5:8000/v1": scheme http or https, a host (name, IPv4 or
// [IPv6]), an optional port, an optional base path (a trailing '/' is dropped). No user info, query
// or fragment. The host is in host_name.h's normal form. On failure returns nullopt and, when `error` is given, says why.
std::optional<UpstreamTarget> parse_upstream_url(std::string_view url, std::string* error);

// "10MiB" → 10485760. Integers are bytes; suffixes B, KiB/MiB/GiB (1024-based) and KB/MB/GB
// (1000-based), case-sensitive, optionally after one space. nullopt when malformed or overflowing.
std::optional<size_t> parse_size(std::string_view text);

// "500ms", "10s", "2m", "1h", "7d"; a bare integer is seconds. nullopt when malformed or overflowing.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace promptwall::gateway
