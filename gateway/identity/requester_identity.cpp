#include "gateway/identity/requester_identity.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>

#include "gateway/server/server_state.h"

namespace promptwall::gateway::server {

namespace net = boost::asio;

RequesterIdentity::RequesterIdentity(const GatewayConfig& config)
    : config_(config.identity),
      resolver_(config.identity),
      cache_(CredentialCache::Options{}),
      lockout_(FailureLockout::Options{}) {
  files_.store(load_files());
}

RequesterIdentity::~RequesterIdentity() { stop(); }

void RequesterIdentity::stop() {
  pool_.stop();
  pool_.join();
}

std::shared_ptr<const RequesterIdentity::Files> RequesterIdentity::load_files() const {
  auto files = std::make_shared<Files>();
  if (!config_.users_file.empty()) {
    files->users = std::make_shared<const PasswordFile>(PasswordFile::load(config_.users_file));
    files->authenticator = std::make_shared<const BasicFileAuthenticator>(files->users);
  }
  if (!config_.groups_file.empty())
    files->groups = std::make_shared<const GroupFile>(GroupFile::load(config_.groups_file));
  return files;
}

std::string RequesterIdentity::reload() {
  try {
    files_.store(load_files());
  } catch (const IdentityFileError& e) {
    return e.what();
  }
  cache_.clear();
  return "";
}

bool RequesterIdentity::is_identity_header(std::string_view name) const {
  for (const auto& h : resolver_.header_names())
    if (boost::beast::iequals(h, name)) return true;
  return false;
}

std::string RequesterIdentity::challenge() const {
  auto files = files_.load();
  if (files->authenticator) return files->authenticator->challenge(config_.realm);
  return BasicFileAuthenticator(nullptr).challenge(config_.realm);
}

net::awaitable<Identification> RequesterIdentity::identify(bool proxy_listener, const IpAddress& client,
                                                           std::string_view proxy_authorization,
                                                           IdentityHeaders headers) {
  Identification out;
  const auto files = files_.load();  // one snapshot for the whole request
  const bool proxy_auth = proxy_listener && config_.proxy_auth != ProxyAuthMode::off && files->authenticator;

  if (proxy_auth && !proxy_authorization.empty()) {
    const Authenticator& auth = *files->authenticator;
    auto header = parse_authorization(proxy_authorization);
    std::optional<std::string> claimed;
    if (header && boost::beast::iequals(header->scheme, auth.scheme())) claimed = auth.claimed_user(header->credentials);
    if (!claimed) {
      out.outcome = Identification::Outcome::bad_credentials;
      co_return out;
    }
    // The name goes into the log and the trail: only as a name the users file could hold.
    if (!is_identity_name(*claimed)) *claimed = "(not a valid user name)";
    out.claimed_user = *claimed;
    if (lockout_.locked(*claimed)) {
      out.outcome = Identification::Outcome::locked_out;
      co_return out;
    }
    std::optional<std::string> user = cache_.find(header->scheme, header->credentials);
    if (!user) {
      // The slow part, on the pool; `auth` and the header stay alive in this frame meanwhile.
      const std::string_view credentials = header->credentials;
      AuthResult result = co_await net::co_spawn(
          pool_, [&auth, credentials]() -> net::awaitable<AuthResult> { co_return auth.authenticate(credentials); },
          net::use_awaitable);
      if (result.status != AuthResult::Status::ok) {
        out.outcome = lockout_.failed(*claimed) ? Identification::Outcome::locked_out
                                                : Identification::Outcome::bad_credentials;
        co_return out;
      }
      lockout_.succeeded(result.user);
      cache_.remember(header->scheme, header->credentials, result.user);
      user = std::move(result.user);
    }
    out.identity = resolver_.for_user(std::move(*user), Identity::Source::proxy_basic, client, files->groups.get());
    co_return out;
  }
  if (auto from_headers = resolver_.from_headers(client, headers, files->groups.get())) {
    out.identity = std::move(*from_headers);
    co_return out;
  }
  if (proxy_auth && config_.proxy_auth == ProxyAuthMode::required) {
    out.outcome = Identification::Outcome::challenge;
    co_return out;
  }
  out.identity = resolver_.for_address(client);
  co_return out;
}

IpAddress to_ip_address(const net::ip::address& address) {
  IpAddress out;
  if (address.is_v4()) {
    const auto v4 = address.to_v4().to_bytes();
    out.bytes[10] = out.bytes[11] = 0xff;
    std::copy(v4.begin(), v4.end(), out.bytes.begin() + 12);
  } else {
    const auto v6 = address.to_v6().to_bytes();
    std::copy(v6.begin(), v6.end(), out.bytes.begin());
  }
  return out;
}

Identity identity_for_address(const ServerState& state, const net::ip::address& address) {
  return state.identity->resolver().for_address(to_ip_address(address));
}

}  // namespace promptwall::gateway::server
