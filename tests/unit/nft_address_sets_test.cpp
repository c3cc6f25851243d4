#include <catch2/catch.hpp>

#include "gateway/catalog/nft_address_sets.h"

namespace promptwall::gateway {

TEST_CASE("nft sets: the hosts of inspected and unapproved services, wildcards as their base", "[nft]") {
  std::vector<Service> services(3);
  services[0].hosts = {"chatgpt.com", "*.chatgpt.com", "api.openai.com"};
  services[1].hosts = {"chat.deepseek.com"};
  services[1].approved = false;
  services[2].hosts = {"wiki.example.vn"};
  services[2].inspect = false;  // known, not an AI service
  CHECK(nft_set_hosts(services) == std::vector<std::string>{"api.openai.com", "chat.deepseek.com", "chatgpt.com"});
}

TEST_CASE("nft sets: refilled exactly when complete, only added to when not", "[nft]") {
  ResolvedAddresses a;
  a.ipv4 = {"104.18.33.45", "10.0.0.1", "104.18.33.45"};
  a.ipv6 = {"2606:4700::6812:212d"};
  CHECK(nft_set_commands(a, "inet promptwall") ==
        "flush set inet promptwall ai_ipv4\n"
        "add element inet promptwall ai_ipv4 { 10.0.0.1, 104.18.33.45 }\n"
        "flush set inet promptwall ai_ipv6\n"
        "add element inet promptwall ai_ipv6 { 2606:4700::6812:212d }\n");
  a.complete = false;  // a DNS failure must never empty the sets
  CHECK(nft_set_commands(a, "inet promptwall") ==
        "add element inet promptwall ai_ipv4 { 10.0.0.1, 104.18.33.45 }\n"
        "add element inet promptwall ai_ipv6 { 2606:4700::6812:212d }\n");
  CHECK(nft_set_commands(ResolvedAddresses{}, "inet pw") == "flush set inet pw ai_ipv4\nflush set inet pw ai_ipv6\n");
}

}  // namespace promptwall::gateway
