// `promptwall nft-set` as the systemd unit runs it: the nft commands on standard output, problems on
// standard error, and an exit status that says whether every host resolved.
#include <catch2/catch.hpp>

#include "process.h"

using promptwall::test::run_promptwall;
using promptwall::test::shell_quote;
using promptwall::test::TempDir;

TEST_CASE("nft-set refills the sets from the catalog's inspected and unapproved hosts", "[nft-cli]") {
  TempDir dir;
  const auto config = dir.file("gateway.yaml",
                               "listen: {transparent: 0.0.0.0:3129}\n"
                               "services:\n"
                               "  - {name: ai, hosts: [localhost], upstream: \"https://localhost\", schema: openai}\n"
                               "  - {name: shadow, hosts: ['127.0.0.2'], approved: false}\n"
                               "  - {name: known, hosts: [known.invalid], upstream: \"https://known.invalid\", inspect: false}\n");
  auto r = run_promptwall("nft-set --config " + shell_quote(config));
  INFO(r.err);
  CHECK(r.status == 0);  // known.invalid is not looked up: it is not inspected
  CHECK(r.out.rfind("flush set inet promptwall ai_ipv4\nadd element inet promptwall ai_ipv4 { 127.0.0.1, 127.0.0.2 }\n", 0) == 0);
  CHECK(r.out.find("flush set inet promptwall ai_ipv6\n") != std::string::npos);

  r = run_promptwall("nft-set --config " + shell_quote(config) + " --table 'ip office'");
  CHECK(r.out.rfind("flush set ip office ai_ipv4\n", 0) == 0);
}

TEST_CASE("nft-set: a host that does not resolve adds what did and never flushes", "[nft-cli]") {
  TempDir dir;
  const auto config = dir.file("gateway.yaml",
                               "listen: {transparent: 0.0.0.0:3129}\n"
                               "services:\n"
                               "  - {name: ai, hosts: [localhost, gone.invalid], upstream: \"https://localhost\"}\n");
  auto r = run_promptwall("nft-set --config " + shell_quote(config));
  CHECK(r.status == 1);
  CHECK((r.out == "add element inet promptwall ai_ipv4 { 127.0.0.1 }\n" ||
         r.out == "add element inet promptwall ai_ipv4 { 127.0.0.1 }\nadd element inet promptwall ai_ipv6 { ::1 }\n"));
  CHECK(r.err.find("gone.invalid") != std::string::npos);
}

TEST_CASE("nft-set: a bad configuration is an error naming the problem", "[nft-cli]") {
  TempDir dir;
  const auto config = dir.file("gateway.yaml", "listen: {transparent: nowhere}\n");
  auto r = run_promptwall("nft-set --config " + shell_quote(config));
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("listen.transparent") != std::string::npos);
  CHECK(run_promptwall("nft-set --bogus").status == 2);
}
