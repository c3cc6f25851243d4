// Internal to gateway/server/: who sent a request. Holds what identification needs at run time:
// the users and groups files (reloaded on SIGHUP), the Authenticator, the cache of verified
// credentials, the lockout, and the small thread pool where passwords are verified.
//
// Invariants: a password is verified only on the pool, never on a worker thread (bcrypt costs
// ~50-100 ms); a worker awaits the result without blocking. Credentials are never logged: a
// failure is logged by the user name claimed. A reload that fails keeps the files in use.
// Threading: every member function may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>

#include "gateway/config/config.h"
#include "gateway/identity/authenticator.h"
#include "gateway/identity/credential_cache.h"
#include "gateway/identity/identity.h"
#include "gateway/identity/identity_file.h"
#include "gateway/identity/identity_resolver.h"

namespace promptwall::gateway::server {

struct Identification {
  enum class Outcome {
    identified,       // `identity` holds who (or at least the address's unit)
    challenge,        // the proxy needs credentials and none came: 407, not audited
    bad_credentials,  // 407, logged by user name and audited as a refusal
    locked_out,       // the name failed too often: 407 whatever the password, logged and audited
  };
  Outcome outcome = Outcome::identified;
  Identity identity;
  std::string claimed_user;  // bad_credentials, locked_out: the name presented (may be empty)
};

class RequesterIdentity {
 public:
  // Loads the users and groups files; throws IdentityFileError when one cannot be used.
  explicit RequesterIdentity(const GatewayConfig& config);
  ~RequesterIdentity();

  // Who sent a request of the base-URL gateway (`proxy_listener` false) or the forward proxy:
  // verified Proxy-Authorization (proxy only, proxy_auth not off), else the trusted identity
  // headers, else the client address. proxy_auth `required` is satisfied by either of the first two.
  boost::asio::awaitable<Identification> identify(bool proxy_listener, const IpAddress& client,
                                                  std::string_view proxy_authorization, IdentityHeaders headers);

  const IdentityResolver& resolver() const { return resolver_; }
  // Whether `name` is one of the configured identity headers (stripped before forwarding).
  bool is_identity_header(std::string_view name) const;
  // The Proxy-Authenticate value of a 407.
  std::string challenge() const;

  // Reads the users and groups files again; on success swaps them in and forgets cached
  // verifications. Returns "" or why the old files stay.
  std::string reload();
  // Stops the verification pool (at shutdown, once the workers have stopped).
  void stop();

 private:
  struct Files {
    std::shared_ptr<const PasswordFile> users;  // null when no users_file
    std::shared_ptr<const GroupFile> groups;    // null when no groups_file
    std::shared_ptr<const Authenticator> authenticator;
  };
  std::shared_ptr<const Files> load_files() const;

  const IdentityConfig config_;
  const IdentityResolver resolver_;
  std::atomic<std::shared_ptr<const Files>> files_;
  CredentialCache cache_;
  FailureLockout lockout_;
  boost::asio::thread_pool pool_{2};
};

struct ServerState;

// The identity of a connection from its address alone: what transparent-mode connections and
// clients that present nothing get (Source::address with the CIDR map's unit, or Source::none).
Identity identity_for_address(const ServerState& state, const boost::asio::ip::address& address);

// The 16-byte form of an Asio address (IPv4 as IPv4-mapped).
IpAddress to_ip_address(const boost::asio::ip::address& address);

}  // namespace promptwall::gateway::server
