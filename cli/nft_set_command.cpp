// promptwall nft-set [--config FILE] [--table "inet promptwall"]
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "gateway/catalog/nft_address_sets.h"
#include "gateway/config/config.h"

namespace promptwall::cli {

namespace {

constexpr std::string_view kNftSetUsage =
    "usage: promptwall nft-set [--config FILE] [--table \"inet promptwall\"]\n"
    "  Resolves the hosts of the catalog's inspected and unapproved services and prints the nft\n"
    "  commands that refill the sets ai_ipv4/ai_ipv6 of ops/nftables/promptwall.nft (QUIC to them\n"
    "  is dropped). Apply with: promptwall nft-set --config FILE | nft -f -\n"
    "  Exit: 0 every host resolved; 1 some did not (the sets are then only added to, never\n"
    "  flushed); 2 error.\n";

// Appends `host`'s addresses; false when it does not resolve.
bool resolve(const std::string& host, gateway::ResolvedAddresses& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    std::cerr << "promptwall nft-set: " << host << ": " << gai_strerror(rc) << "\n";
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  for (const addrinfo* a = found; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET &&
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text))
      out.ipv4.emplace_back(text);
    else if (a->ai_family == AF_INET6 &&
             inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr, text, sizeof text))
      out.ipv6.emplace_back(text);
  }
  return true;
}

}  // namespace

int nft_set_command(int argc, char** argv) {
  std::string config_path;
  std::string table = "inet promptwall";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--table" && i + 1 < argc) {
      table = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kNftSetUsage;
      return 0;
    } else {
      std::cerr << "promptwall nft-set: unknown argument '" << arg << "'\n" << kNftSetUsage;
      return 2;
    }
  }
  gateway::GatewayConfig config;
  try {
    config = gateway::load_gateway_config_or_default(config_path);
  } catch (const gateway::ConfigError& e) {
    std::cerr << "promptwall nft-set: " << e.what() << "\n";
    return 2;
  }
  gateway::ResolvedAddresses addresses;
  for (const auto& host : gateway::nft_set_hosts(config.services))
    if (!resolve(host, addresses)) addresses.complete = false;
  std::cout << gateway::nft_set_commands(addresses, table);
  if (!addresses.complete)
    std::cerr << "promptwall nft-set: some hosts did not resolve: the sets are added to, not refilled\n";
  return addresses.complete ? 0 : 1;
}

}  // namespace promptwall::cli
