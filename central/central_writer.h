// CentralWriter: ships batches of one gateway's trail records into the central store, each batch
// in ONE transaction, idempotently: a record's key is (gateway_id, seq) in every table, inserts
// are ON CONFLICT DO NOTHING, so writing a batch again (a retry after a lost COMMIT reply, a crash
// between COMMIT and the shipper's cursor) changes nothing. A key already holding a DIFFERENT line
// is not skipped silently: it is a CentralConflict (two gateways configured with one gateway_id,
// or a gateway whose trail was started afresh under its old id), and nothing of the batch is kept.
//
// Per batch: the records' rows (central/record_rows.h) go by COPY into temporary staging tables
// (ON COMMIT DELETE ROWS), then INSERT ... SELECT ... ON CONFLICT DO NOTHING into pw_records,
// pw_events, pw_triage, pw_traffic, the keys already there checked to hold the same lines; and
// pw_gateways gets the gateway's province, last_seen, shipped_seq and (on first contact only) its
// public key. Method::multi_row_insert does the same with multi-row INSERT statements instead of
// COPY (kept for bench/central_bench: COPY won, ~1.3x).
//
// Threads: one object per thread (a libpq connection is not shared). Blocking; the gateway calls
// it from the CentralShipper's thread, never from an Asio worker.
// Errors: CentralError (a std::runtime_error) for a connection or statement failure, with
// libpq's message (which never quotes the password); the connection is then unusable (broken())
// and the caller makes a new writer. CentralConflict as above.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace promptwall::central {

class CentralError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class CentralConflict : public CentralError {
 public:
  using CentralError::CentralError;
};

struct ShippedRecord {
  uint64_t seq = 0;
  std::string line;  // the trail line without its '\n'
};

struct CentralBatch {
  std::string gateway_id;
  std::string province;
  std::string public_key_pem;          // trail.pub; registered only when the store has none yet
  std::vector<ShippedRecord> records;  // in seq order; may be empty (then only pw_gateways is touched)
};

struct CentralWriteResult {
  uint64_t committed_seq = 0;         // the batch's highest seq (0 for an empty batch)
  uint64_t inserted = 0;              // records new to the store (the rest were already there)
  std::vector<std::string> problems;  // "record N: why" for records that made no event row
};

class CentralWriter {
 public:
  // copy_staging: COPY into the staging tables, then INSERT ... SELECT; multi_row_insert: multi-row
  // INSERT statements. bench/central_bench measures both (and a COPY straight into the tables
  // under a savepoint, tried and dropped: no faster within the noise, and an ERROR in the server
  // log on every batch sent again).
  enum class Method { copy_staging, multi_row_insert };

  // Connects with `conninfo` (central/central_connection.h make_conninfo) and applies the schema
  // (CentralSchema::ensure). Throws CentralError.
  explicit CentralWriter(const std::string& conninfo, Method method = Method::copy_staging);
  ~CentralWriter();
  CentralWriter(const CentralWriter&) = delete;
  CentralWriter& operator=(const CentralWriter&) = delete;

  CentralWriteResult write(const CentralBatch& batch);

  // The connection's socket, so another thread can shutdown(2) it to cut a blocked call short
  // (stop()); -1 when there is none.
  int socket() const;
  // Whether the connection failed (a new writer is needed).
  bool broken() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::central
