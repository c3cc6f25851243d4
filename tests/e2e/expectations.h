// What the gateway's specified behaviour looks like from both ends, as Catch2 checks shared by
// the end-to-end test files: what the client saw (status, X-Promptwall-* headers, the error
// shape) and what the upstream received (nothing, the exact bytes sent, or the bytes sent with
// only the sensitive strings replaced).
#pragma once

#include <catch2/catch.hpp>

#include "gateway_fixture.h"

namespace promptwall::e2e {

inline std::string chat_body(const std::string& content, bool stream = false) {
  json body = {{"model", "gpt-4o-mini"}, {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
  if (stream) body["stream"] = true;
  return body.dump();
}

inline bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// A refusal message a staff member reads: names the rule, speaks Vietnamese and English, and
// never repeats what was refused.
inline void check_refusal_message(const std::string& message, const std::string& rule_id, const std::string& sensitive) {
  INFO("message: " << message);
  CHECK(contains(message, rule_id));
  CHECK_FALSE(contains(message, sensitive));
  CHECK(has_non_ascii(message));  // Vietnamese
  const auto l = lower(message);
  CHECK((contains(l, "block") || contains(l, "sensitive") || contains(l, "request") || contains(l, "policy")));  // English
}

inline void check_decision(const HttpResponse& r, const std::string& decision) {
  INFO("response headers/trace:\n" << tail(r.log, 2500));
  CHECK(r.header("X-Promptwall-Decision") == decision);
  CHECK_FALSE(r.header("X-Promptwall-Request-Id").empty());
}

inline void check_nothing_forwarded(const GatewayFixture& gw, const GatewayFixture::Mark& m) {
  auto got = gw.forwarded_since(m);
  INFO("forwarded: " << json(got).dump());
  CHECK(got.empty());
}

// Exactly one request reached an upstream; returns it (or null when the count is wrong).
inline json single_forward(const GatewayFixture& gw, const GatewayFixture::Mark& m) {
  auto got = gw.forwarded_since(m);
  INFO("forwarded: " << json(got).dump());
  CHECK(got.size() == 1);
  return got.size() == 1 ? got.front() : json();
}

// The upstream received `expected` byte for byte, with a Content-Length that matches it.
inline void check_forwarded_body(const json& record, const std::string& expected) {
  REQUIRE(record.is_object());
  const auto body = body_of(record);
  INFO("upstream received: " << body << "\nexpected: " << expected);
  if (auto value = json::parse(expected, nullptr, false); !value.is_discarded())
    CHECK(json::parse(body, nullptr, false) == value);  // the same JSON value...
  CHECK(body == expected);                              // ...and the same bytes
  CHECK(record["headers"].value("content-length", "") == std::to_string(body.size()));
  CHECK_FALSE(record["headers"].contains("transfer-encoding"));
}

}  // namespace promptwall::e2e
