#include "central/central_schema.h"

#include <stdexcept>
#include <string>

#include <pqxx/transaction>

namespace promptwall::central {
namespace {

int version_in(pqxx::transaction_base& t) {
  const auto exists = t.exec("SELECT to_regclass('pw_schema_version') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  const auto row = t.exec("SELECT coalesce(max(version), 0) FROM pw_schema_version");
  return row[0][0].as<int>();
}

}  // namespace

int CentralSchema::ensure(pqxx::connection_base& connection) {
  pqxx::work t(connection, "central schema");
  // "already exists, skipping" notices would go to stderr (libpqxx's default noticer).
  t.exec("SET LOCAL client_min_messages = warning");
  t.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")");
  const int found = version_in(t);
  if (found > kSchemaVersion)
    throw std::runtime_error("Kho kiểm toán trung tâm có lược đồ mới hơn (" + std::to_string(found) +
                             ") phiên bản này (" + std::to_string(kSchemaVersion) +
                             "): hãy nâng cấp promptwall / the central audit store has a newer schema (" +
                             std::to_string(found) + ") than this promptwall (" + std::to_string(kSchemaVersion) +
                             "): upgrade promptwall");
  // Several statements in one simple query; all of them IF NOT EXISTS.
  t.exec(kCentralSchemaSql);
  if (found < kSchemaVersion) {
    t.exec("DELETE FROM pw_schema_version");
    t.exec("INSERT INTO pw_schema_version(version) VALUES (" + std::to_string(kSchemaVersion) + ")");
  }
  t.commit();
  return kSchemaVersion;
}

int CentralSchema::installed_version(pqxx::connection_base& connection) {
  pqxx::read_transaction t(connection, "central schema version");
  return version_in(t);
}

}  // namespace promptwall::central
