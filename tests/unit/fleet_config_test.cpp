// The fleet's configuration (issue 17): `fleet` and `audit.central`, `audit.traffic_interval`,
// their defaults and their file:line errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateway/config/config.h"
#include "../support/temp_dir.h"

using namespace promptwall::gateway;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kListen = "listen: {gateway: 127.0.0.1:8080}\n";

std::string error_of(const std::string& yaml) {
  try {
    parse_gateway_config(yaml, "test.yaml", "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("fleet and audit.central: values, defaults and the host name as the gateway id", "[config][fleet]") {
  promptwall::test::TempDir tmp;
  const fs::path pass = tmp.path() / "central.pass";
  std::ofstream(pass) << "s3cret\n";
  fs::permissions(pass, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  auto c = parse_gateway_config(kListen +
                                    "fleet: {gateway_id: hcm-01, province: \"Hồ Chí Minh\"}\n"
                                    "audit:\n"
                                    "  traffic_interval: 5m\n"
                                    "  central: {url: 'postgresql://promptwall@db.example:5432/promptwall', password_file: " +
                                    pass.string() + ", review: true, batch_records: 500, retry_interval: 10s}\n",
                                "test.yaml", "/base");
  CHECK(c.fleet.gateway_id == "hcm-01");
  CHECK(c.fleet.province == "Hồ Chí Minh");
  CHECK(c.audit.traffic_interval == 5min);
  CHECK(c.audit.central.enabled());
  CHECK(c.audit.central.url == "postgresql://promptwall@db.example:5432/promptwall");
  CHECK(c.audit.central.password_file == pass);
  CHECK(c.audit.central.review);
  CHECK(c.audit.central.batch_records == 500);
  CHECK(c.audit.central.retry_interval == 10s);

  auto d = parse_gateway_config(kListen, "test.yaml", "/base");
  CHECK_FALSE(d.audit.central.enabled());
  CHECK(d.audit.traffic_interval == 60s);
  CHECK(d.audit.central.batch_records == 1000);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  CHECK(!d.fleet.gateway_id.empty());
  CHECK(d.fleet.gateway_id.size() <= 64);
  if (std::string(host).find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos)
    CHECK(d.fleet.gateway_id == std::string(host).substr(0, 64));
  CHECK(d.fleet.province.empty());
  // key=value settings are a URL too.
  CHECK(parse_gateway_config(kListen + "audit: {central: {url: 'host=db dbname=promptwall'}}\n", "t.yaml", "/b")
            .audit.central.enabled());
}

TEST_CASE("fleet and audit.central: bad values are named with their line", "[config][fleet]") {
  CHECK_THAT(error_of(kListen + "fleet: {gateway_id: 'hcm 01'}\n"),
             Catch::Contains("test.yaml:2") && Catch::Contains("fleet.gateway_id") && Catch::Contains("A-Z a-z 0-9 . _ -"));
  CHECK_THAT(error_of(kListen + "fleet: {gateway_id: " + std::string(65, 'a') + "}\n"), Catch::Contains("fleet.gateway_id"));
  CHECK_THAT(error_of(kListen + "fleet: {gateway: x}\n"), Catch::Contains("fleet.gateway"));
  CHECK_THAT(error_of(kListen + "audit: {traffic_interval: 0s}\n"), Catch::Contains("1s to 1h"));
  CHECK_THAT(error_of(kListen + "audit: {central: {batch_records: 0}}\n"), Catch::Contains("audit.central.batch_records"));
  CHECK_THAT(error_of(kListen + "audit: {central: {retry_interval: 1ms}}\n"), Catch::Contains("100ms to 10m"));
  // A URL that is neither: refused without quoting it (it may carry a password).
  const std::string bad_url = error_of(kListen + "audit: {central: {url: 'mysql://u:hunter2@db/x'}}\n");
  CHECK_THAT(bad_url, Catch::Contains("audit.central.url") && !Catch::Contains("hunter2"));
  CHECK_THAT(error_of(kListen + "audit: {central: {password_file: /nowhere/central.pass}}\n"),
             Catch::Contains("audit.central.password_file") && Catch::Contains("/nowhere/central.pass"));
  promptwall::test::TempDir tmp;
  const fs::path open = tmp.path() / "open.pass";
  std::ofstream(open) << "x\n";
  fs::permissions(open, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read, fs::perm_options::replace);
  CHECK_THAT(error_of(kListen + "audit: {central: {password_file: " + open.string() + "}}\n"), Catch::Contains("chmod 600"));
}
