// normalise_request_path (gateway/catalog/request_path.h): what a path resolves to at the upstream,
// and which paths are refused because they leave the service's base or could be read two ways.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/catalog/request_path.h"

namespace promptwall::gateway {
namespace {

using Status = NormalisedPath::Status;

struct Case {
  const char* target;
  Status status;
  const char* normalised;  // ok and changed: the new target; ok and unchanged: nullptr
};

}  // namespace

TEST_CASE("request paths: dot segments in every spelling are resolved or refused", "[request_path]") {
  const Case cases[] = {
      // Clean paths stand as they are, query and all.
      {"/", Status::ok, nullptr},
      {"/v1/chat/completions", Status::ok, nullptr},
      {"/v1beta/models/gemini-2.0-flash:generateContent?alt=sse", Status::ok, nullptr},
      {"/v1/files/a%2Fb", Status::ok, nullptr},       // an encoded slash alone is left as sent
      {"/v1/a\\b", Status::ok, nullptr},               // so is a backslash
      {"/v1/..a/a../...", Status::ok, nullptr},       // not dot segments
      {"/v1/%2e%2e%2e", Status::ok, nullptr},
      {"/v1//chat", Status::ok, nullptr},             // empty segments are kept
      {"/v1?next=../../admin", Status::ok, nullptr},  // the query is never read as a path
      // Dot segments that stay inside: resolved (RFC 3986 5.2.4), the query kept.
      {"/v1/./chat/completions", Status::ok, "/v1/chat/completions"},
      {"/v1/chat/../models?x=1", Status::ok, "/v1/models?x=1"},
      {"/v1/%2e/chat", Status::ok, "/v1/chat"},
      {"/v1/x/%2E%2e/chat", Status::ok, "/v1/chat"},
      {"/v1/x/.%2E/chat", Status::ok, "/v1/chat"},
      {"/v1/chat/..", Status::ok, "/v1/"},
      {"/v1/chat/.", Status::ok, "/v1/chat/"},
      {"/v1/..", Status::ok, "/"},
      {"/./", Status::ok, "/"},
      {"/a//../b", Status::ok, "/a/b"},
      // Climbing above the base: refused, never clamped.
      {"/..", Status::leaves_base, nullptr},
      {"/../x", Status::leaves_base, nullptr},
      {"/v1/../../x", Status::leaves_base, nullptr},
      {"/v1/%2e%2e/%2E%2E/x", Status::leaves_base, nullptr},
      {"/v1/.%2e/%2e./x", Status::leaves_base, nullptr},
      {"/v1/./../../x?q=1", Status::leaves_base, nullptr},
      // Dot segments an upstream could see behind an encoded or back slash, or a path parameter.
      {"/v1/..%2F..%2Fadmin", Status::ambiguous, nullptr},
      {"/v1/..%2f..%2fadmin", Status::ambiguous, nullptr},
      {"/v1/x%5C..%5C..%5Cadmin", Status::ambiguous, nullptr},
      {"/v1/..\\..\\admin", Status::ambiguous, nullptr},
      {"/v1/%2e%2e%5cadmin", Status::ambiguous, nullptr},
      {"/v1/..;x/admin", Status::ambiguous, nullptr},
      {"/v1/.;/admin", Status::ambiguous, nullptr},
      // Not origin-form.
      {"", Status::malformed, nullptr},
      {"v1/chat", Status::malformed, nullptr},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    const NormalisedPath n = normalise_request_path(c.target);
    CHECK(to_string(n.status) == to_string(c.status));
    CHECK(n.changed == (c.normalised != nullptr));
    CHECK(n.target == (c.normalised ? c.normalised : ""));
    if (n.changed) {
      // A normalised path is a fixed point: nothing left to resolve.
      const NormalisedPath again = normalise_request_path(n.target);
      CHECK(again.status == Status::ok);
      CHECK_FALSE(again.changed);
    }
  }
}

TEST_CASE("path segments are percent-decoded, '+' kept, malformed escapes kept", "[request_path]") {
  CHECK(decode_path_segment("T%E1%BB%86T") == "TỆT");
  CHECK(decode_path_segment("a+b%20c") == "a+b c");
  CHECK(decode_path_segment("100%") == "100%");
  CHECK(decode_path_segment("%zz%4") == "%zz%4");
  CHECK(decode_path_segment("%2e%2E") == "..");
}

}  // namespace promptwall::gateway
