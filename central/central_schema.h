// CentralSchema: makes a PostgreSQL database the central audit store (central/schema.sql, embedded
// into the binary), idempotently, at every gateway start and before every CLI read.
//
// How: one transaction that takes a transaction-scoped advisory lock (kSchemaLockKey) first, so
// gateways starting at once apply the schema one after the other instead of racing on
// CREATE TABLE IF NOT EXISTS (which is not safe concurrently in PostgreSQL); then reads
// pw_schema_version, refuses a store whose version is newer than kSchemaVersion (a newer
// gateway migrated it: this one would write rows it no longer understands), runs the schema text
// (every statement IF NOT EXISTS) and records kSchemaVersion.
//
// Threads: none of its own; the caller's connection, used by one thread at a time.
// Errors: pqxx exceptions for database errors (the caller retries); std::runtime_error for a
// newer schema, in Vietnamese and English.
#pragma once

#include <cstdint>
#include <string_view>

#include <pqxx/connection>

namespace promptwall::central {

// The schema text (central/schema.sql), compiled in.
extern const char kCentralSchemaSql[];

class CentralSchema {
 public:
  static constexpr int kSchemaVersion = 1;
  // pg_advisory_xact_lock key: "pw" "schema" in ASCII, so another application's lock is unlikely
  // to collide.
  static constexpr int64_t kSchemaLockKey = 0x7077736368656d61;

  // Creates or migrates the store over `connection`; returns the version it is at afterwards.
  static int ensure(pqxx::connection_base& connection);

  // The version recorded in the store, 0 when it has none (not a central store yet).
  static int installed_version(pqxx::connection_base& connection);
};

}  // namespace promptwall::central
