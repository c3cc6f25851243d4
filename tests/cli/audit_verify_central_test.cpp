// promptwall audit verify --central: the real binary checks the central store's copy of a
// gateway's trail (pw_records in a real PostgreSQL 15) against the gateway's signed checkpoints,
// and names what was changed there: an edited line, a deleted row, rows cut from the end.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/postgres_cluster.h"
#include "../unit/audit_trail_support.h"
#include "central/central_writer.h"
#include "process.h"

using namespace promptwall::test;
namespace fs = std::filesystem;

namespace {

// Ships the trail in `dir` as `gateway`, as the CentralShipper would.
void ship(const PostgresCluster& pg, const fs::path& dir, const std::string& gateway) {
  promptwall::central::CentralWriter writer(pg.conninfo());
  promptwall::central::CentralBatch batch{gateway, "Hà Nội", slurp(dir / "trail.pub"), {}};
  for (const auto& line : trail_lines(dir))
    batch.records.push_back({promptwall::audit::read_record_head(line)->seq, line});
  writer.write(batch);
}

nlohmann::json verify(const PostgresCluster& pg, const std::string& gateway, const std::string& extra = "") {
  const auto r = run_promptwall("audit verify --central " + shell_quote(pg.url()) + " --gateway " + gateway + " --json" + extra);
  INFO(r.out << r.err);
  REQUIRE(!r.out.empty());
  auto j = nlohmann::json::parse(r.out);
  j["status"] = r.status;
  return j;
}

}  // namespace

TEST_CASE("audit verify --central: the shipped copy verifies, and an edit, a deletion and a cut are named",
          "[cli][audit][central]") {
  if (!PostgresCluster::available()) {
    WARN("SKIPPED: PostgreSQL 15 is not installed (apt-get install postgresql)");
    return;
  }
  TempDir tmp;
  PostgresCluster pg;
  const fs::path dir = tmp.path() / "trail";
  make_trail(dir, tmp.path() / "audit.key", 40, 2048);
  ship(pg, dir, "hn-01");
  const auto lines = trail_lines(dir);
  REQUIRE(lines.size() > 40);

  auto j = verify(pg, "hn-01");
  CHECK(j.at("status") == 0);
  CHECK(j.at("intact") == true);
  CHECK(j.at("records") == lines.size());
  CHECK(j.at("checkpoints_verified").get<int>() >= 1);
  CHECK(j.at("key_source").get<std::string>().find("pw_gateways") != std::string::npos);
  // The text form says the key came from the store itself (weaker) unless one is given.
  auto text = run_promptwall("audit verify --central " + shell_quote(pg.url()) + " --gateway hn-01");
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("intact") && Catch::Contains("central store itself") && Catch::Contains("stronger"));
  const auto own = promptwall::audit::SigningKey::load(tmp.path() / "audit.key");
  spit(tmp.path() / "auditor.pub", own.public_pem());
  CHECK(verify(pg, "hn-01", " --public-key " + shell_quote((tmp.path() / "auditor.pub").string())).at("status") == 0);

  // Someone with the database's rights turns a block into an allow: the record is named.
  const std::string seq = pg.psql("SELECT min(seq) FROM pw_records WHERE type = 'decision' AND seq >= 12");
  const std::string original = pg.psql("SELECT line FROM pw_records WHERE seq = " + seq);
  pg.psql("UPDATE pw_records SET line = replace(line, '\"decision\":\"block\"', '\"decision\":\"allow\"') WHERE seq = " + seq);
  REQUIRE(pg.psql("SELECT line FROM pw_records WHERE seq = " + seq) != original);
  j = verify(pg, "hn-01");
  CHECK(j.at("status") == 1);
  CHECK(j.at("problem").at("kind") == "edited");
  CHECK(j.at("problem").at("seq") == std::stoi(seq));
  text = run_promptwall("audit verify --central " + shell_quote(pg.url()) + " --gateway hn-01");
  CHECK_THAT(text.out, Catch::Contains("NOT INTACT (edited)") && Catch::Contains("record seq " + seq));

  // ... and replaces the registered key with their own: the auditor's copy still catches it.
  const auto forger = promptwall::audit::SigningKey::load_or_create(tmp.path() / "forger.key");
  pg.psql("UPDATE pw_records SET line = '" + original + "' WHERE seq = " + seq);
  pg.psql("UPDATE pw_gateways SET public_key = '" + forger.public_pem() + "'");
  CHECK(verify(pg, "hn-01").at("problem").at("kind") == "unknown_key");
  CHECK(verify(pg, "hn-01", " --public-key " + shell_quote((tmp.path() / "auditor.pub").string())).at("status") == 0);
  pg.psql("UPDATE pw_gateways SET public_key = '" + own.public_pem() + "'");

  // A row deleted: the gap is named.
  pg.psql("DELETE FROM pw_records WHERE seq = 20");
  j = verify(pg, "hn-01");
  CHECK(j.at("status") == 1);
  CHECK(j.at("problem").at("kind") == "deleted");
  CHECK_THAT(j.at("problem").at("message").get<std::string>(), Catch::Contains("20..20"));

  // Rows cut from the end (the store says more were shipped): truncated.
  ship(pg, dir, "hn-01");  // the shipper's retry puts record 20 back; nothing else changes
  CHECK(verify(pg, "hn-01").at("status") == 0);
  pg.psql("DELETE FROM pw_records WHERE seq > 30");
  j = verify(pg, "hn-01");
  CHECK(j.at("status") == 1);
  CHECK(j.at("problem").at("kind") == "truncated");

  // Errors: an unknown gateway, a missing --gateway.
  auto r = run_promptwall("audit verify --central " + shell_quote(pg.url()) + " --gateway nobody");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("no gateway 'nobody'"));
  r = run_promptwall("audit verify --central " + shell_quote(pg.url()));
  CHECK(r.status == 2);
}
