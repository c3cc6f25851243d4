#include "central/central_trail.h"

#include <deque>
#include <stdexcept>

#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction>

namespace promptwall::central {

struct CentralTrail::Impl {
  explicit Impl(const std::string& conninfo) : connection(conninfo), txn(connection, "central trail") {}
  pqxx::connection connection;
  pqxx::read_transaction txn;
  std::string gateway_id;
  std::string key;
  uint64_t shipped = 0;
  std::deque<std::string> buffered;
  bool exhausted = false;
};

CentralTrail::CentralTrail(const std::string& conninfo, std::string gateway_id) {
  try {
    impl_ = std::make_unique<Impl>(conninfo);
    impl_->gateway_id = std::move(gateway_id);
    auto& t = impl_->txn;
    const auto row = t.exec_params("SELECT public_key, shipped_seq FROM pw_gateways WHERE gateway_id = $1", impl_->gateway_id);
    if (row.empty())
      throw std::runtime_error("the central store has no gateway '" + impl_->gateway_id + "' (pw_gateways)");
    impl_->key = row[0][0].as<std::string>();
    impl_->shipped = row[0][1].as<uint64_t>();
    t.exec_params("DECLARE pw_trail NO SCROLL CURSOR FOR SELECT line FROM pw_records WHERE gateway_id = $1 ORDER BY seq",
                  impl_->gateway_id);
  } catch (const pqxx::failure& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::runtime_error("cannot read the central store: " + why);
  }
}

CentralTrail::~CentralTrail() = default;

const std::string& CentralTrail::registered_key() const { return impl_->key; }
uint64_t CentralTrail::shipped_seq() const { return impl_->shipped; }

std::optional<std::string> CentralTrail::next_line() {
  if (impl_->buffered.empty() && !impl_->exhausted) {
    try {
      const auto rows = impl_->txn.exec("FETCH 10000 FROM pw_trail");
      for (pqxx::result::size_type i = 0; i < rows.size(); ++i) impl_->buffered.push_back(rows[i][0].as<std::string>());
      impl_->exhausted = rows.empty();
    } catch (const pqxx::failure& e) {
      throw std::runtime_error(std::string("cannot read the central store: ") + e.what());
    }
  }
  if (impl_->buffered.empty()) return std::nullopt;
  std::string line = std::move(impl_->buffered.front());
  impl_->buffered.pop_front();
  return line;
}

}  // namespace promptwall::central
