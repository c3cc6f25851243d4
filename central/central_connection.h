// How the gateway and the CLI reach the central store: the configured `audit.central.url` (a libpq
// URI, postgresql://user@host:port/db, or key=value conninfo) and an optional password read from
// a private file, turned into the one conninfo string libpq is given, and a description of the
// target that is safe to log.
//
// Invariants: the password (from the file, or one written into the URL) is never in describe()'s
// text nor in any exception message; the conninfo carries bounded timeouts (connect_timeout,
// keepalives, tcp_user_timeout) unless the operator set them, so a vanished server makes a call
// fail within seconds instead of hanging a shipper thread.
// Pure functions; any thread. Errors: std::invalid_argument naming what is wrong with the URL
// (libpq's own words, which never quote a password).
#pragma once

#include <filesystem>
#include <string>

namespace promptwall::central {

// The conninfo for libpq: every key of `url` (URI or key=value) as key='value', plus `password`
// when not empty (it wins over one in the URL), plus the default timeouts and
// application_name=promptwall. Throws std::invalid_argument when libpq cannot parse `url`.
std::string make_conninfo(const std::string& url, const std::string& password = "");

// "user@host:port/dbname" for logs and /readyz: never the password.
std::string describe_target(const std::string& url);

// Reads a password file (its first line, without the newline); the file must be private (mode
// 0600: audit/private_file.h). Throws std::runtime_error naming the file, in Vietnamese and
// English, when it is missing, open to others or empty.
std::string read_password_file(const std::filesystem::path& file);

}  // namespace promptwall::central
