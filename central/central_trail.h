// CentralTrail: one gateway's copy of its trail in the central store, read back for
// `promptwall audit verify --central`: its record lines in seq order (pw_records.line, streamed
// through a server-side cursor, so a trail of millions of records is never held whole), the
// public key registered for it (pw_gateways.public_key, as the gateway sent it on first contact)
// and the highest seq it says was shipped.
//
// One object per thread; blocking. Errors: std::runtime_error naming what failed (libpq's words,
// never the password); an unknown gateway is an error naming it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace promptwall::central {

class CentralTrail {
 public:
  // Connects (conninfo from make_conninfo) and opens the gateway's records; throws when the store
  // has no such gateway.
  CentralTrail(const std::string& conninfo, std::string gateway_id);
  ~CentralTrail();
  CentralTrail(const CentralTrail&) = delete;
  CentralTrail& operator=(const CentralTrail&) = delete;

  const std::string& registered_key() const;  // PEM; "" when none was registered
  uint64_t shipped_seq() const;                // pw_gateways.shipped_seq

  // The next record line in seq order; nullopt at the end.
  std::optional<std::string> next_line();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::central
