#include "central/central_connection.h"

#include <libpq-fe.h>

#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "audit/private_file.h"

namespace promptwall::central {
namespace {

// key -> value of a conninfo or URI as libpq reads it (only the keys that were given).
std::map<std::string, std::string> parse(const std::string& url) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(url.c_str(), &error),
                                                                      &PQconninfoFree);
  if (!options) {
    std::string why = error ? error : "cannot be read";
    if (error) PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::invalid_argument("audit.central.url: " + why);
  }
  std::map<std::string, std::string> out;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o)
    if (o->val != nullptr) out[o->keyword] = o->val;
  return out;
}

// A conninfo value in single quotes, with \ and ' escaped (libpq's rule).
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string make_conninfo(const std::string& url, const std::string& password) {
  auto keys = parse(url);
  if (!password.empty()) keys["password"] = password;
  // A server that vanishes must not hold a shipper thread for minutes (TCP's own retries).
  keys.try_emplace("connect_timeout", "5");
  keys.try_emplace("keepalives", "1");
  keys.try_emplace("keepalives_idle", "30");
  keys.try_emplace("keepalives_interval", "10");
  keys.try_emplace("keepalives_count", "3");
  keys.try_emplace("tcp_user_timeout", "30000");
  keys.try_emplace("application_name", "promptwall");
  std::string out;
  for (const auto& [key, value] : keys) {
    if (!out.empty()) out += ' ';
    out += key + "=" + quoted(value);
  }
  return out;
}

std::string describe_target(const std::string& url) {
  std::map<std::string, std::string> keys;
  try {
    keys = parse(url);
  } catch (const std::invalid_argument&) {
    return "(unreadable audit.central.url)";
  }
  auto get = [&](const char* key, const char* fallback) {
    auto it = keys.find(key);
    return it != keys.end() && !it->second.empty() ? it->second : std::string(fallback);
  };
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on `"x" + std::string` chains here.
  std::string out;
  if (keys.count("user")) out.append(keys["user"]).append("@");
  out.append(get("host", get("hostaddr", "localhost").c_str()));
  out.append(":").append(get("port", "5432"));
  out.append("/").append(get("dbname", keys.count("user") ? keys["user"].c_str() : ""));
  return out;
}

std::string read_password_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    throw std::runtime_error("Không tìm thấy tệp mật khẩu kho trung tâm / central store password file not found: " +
                             file.string());
  audit::require_private_file(file, "central store password file");
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line))
    throw std::runtime_error("Không đọc được tệp mật khẩu / cannot read the password file " + file.string());
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    throw std::runtime_error("Tệp mật khẩu trống / the password file is empty: " + file.string());
  return line;
}

}  // namespace promptwall::central
