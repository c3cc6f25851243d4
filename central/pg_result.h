// PgResult: one libpq result (PGresult), owned, with what the central store's readers and writer
// ask of it. The writer and the store talk libpq directly where libpqxx 6.4 has no equivalent
// they need (COPY FROM STDIN of staged rows, text parameters built per query); this is the one
// owner of those results, so neither spells PQclear or the cell reads again.
//
// Invariants: owns its PGresult (or null, after a move), cleared exactly once; cells are read as
// the bytes libpq holds (text format), never past their length. Not copyable; one thread at a
// time, like the connection it came from. Errors: integer() throws std::invalid_argument or
// std::out_of_range on a cell that is not a number (std::stoll).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>
#include <utility>

namespace promptwall::central {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(PgResult&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PgResult& operator=(PgResult&&) = delete;

  ExecStatusType status() const { return PQresultStatus(r_); }
  // A command or a query that succeeded (COPY's states are the caller's to check).
  bool ok() const { return status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK; }

  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string_view view(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
  }
  std::string text(int row, int col) const { return std::string(view(row, col)); }
  long long integer(int row, int col) const { return std::stoll(text(row, col)); }

 private:
  PGresult* r_;
};

}  // namespace promptwall::central
