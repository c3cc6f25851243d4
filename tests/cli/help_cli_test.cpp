// Every subcommand answers --help and -h with its usage on standard output and exit status 0,
// so a user who adds --help to a command line that just failed gets help, not another error.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "process.h"

using promptwall::test::run_promptwall;

TEST_CASE("every subcommand answers --help and -h with its usage") {
  // What `promptwall help` lists, verb by verb; each usage must name its own command line.
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"scan", "promptwall scan"},
      {"rules", "promptwall rules"},
      {"rules lint", "rules lint"},
      {"rules test", "rules test"},
      {"rules compile", "rules compile"},
      {"rules list", "rules list"},
      {"serve", "promptwall serve"},
      {"ca", "promptwall ca"},
      {"ca init", "promptwall ca init"},
      {"ca show", "promptwall ca show"},
      {"audit", "promptwall audit"},
      {"audit verify", "promptwall audit verify"},
      {"audit query", "promptwall audit query"},
      {"audit export", "promptwall audit export"},
      {"audit passwd", "promptwall audit passwd"},
      {"nft-set", "promptwall nft-set"},
      {"extract-worker", "promptwall extract-worker"},
  };
  for (const auto& [command, names] : commands) {
    for (const std::string flag : {"--help", "-h"}) {
      INFO("promptwall " << command << " " << flag);
      const auto r = run_promptwall(command + " " + flag);
      CHECK(r.status == 0);
      CHECK(r.out.find("usage") != std::string::npos);
      CHECK(r.out.find(names) != std::string::npos);
      CHECK(r.err.empty());
    }
  }
}

TEST_CASE("--help wins wherever it stands, and does no work") {
  // After other options: the usage, not a scan of standard input or a compile.
  const auto scan = run_promptwall("scan --format json --help", "TỐI MẬT\n");
  CHECK(scan.status == 0);
  CHECK(scan.out.find("promptwall scan") != std::string::npos);
  CHECK(scan.out.find("\"inputs\"") == std::string::npos);
  const auto query = run_promptwall("audit query --dir /nonexistent --help");
  CHECK(query.status == 0);
  CHECK(query.out.find("promptwall audit query") != std::string::npos);
}

TEST_CASE("the top level: help, --help and -h list every subcommand") {
  for (const std::string flag : {"help", "--help", "-h"}) {
    INFO(flag);
    const auto r = run_promptwall(flag);
    CHECK(r.status == 0);
    for (const char* command : {"promptwall scan", "promptwall rules lint", "promptwall rules test", "promptwall rules compile",
                                "promptwall rules list", "promptwall serve", "promptwall ca init", "promptwall ca show",
                                "promptwall audit verify", "promptwall audit query", "promptwall audit export",
                                "promptwall audit passwd", "promptwall nft-set", "promptwall extract-worker",
                                "promptwall version"})
      CHECK(r.out.find(command) != std::string::npos);
  }
}
