#include <catch2/catch.hpp>

#include "rules/pattern_dialect.h"

using namespace promptwall;

TEST_CASE("the boundary token expands for both engines and leaves group 1 as the match") {
  DialectResult r = PatternDialect::translate("{b}(?i)mật{b}");
  // (?i) must come first to be recognised; a {b} after it is fine too.
  r = PatternDialect::translate("(?i){b}mật{b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.leading_boundary);
  CHECK(r.pattern.trailing_boundary);
  CHECK_FALSE(r.pattern.has_capture);
  CHECK(r.pattern.re2 == "(?m)(?:^|[^\\p{L}\\p{M}\\p{N}_])((?i)mật)(?:[^\\p{L}\\p{M}\\p{N}_]|$)");
  CHECK(r.pattern.hyperscan == "(?:^|[^A-Za-z0-9_])(?:(?i)mật)(?:[^A-Za-z0-9_]|$)");
}

TEST_CASE("one capturing group marks the finding") {
  DialectResult r = PatternDialect::translate("Số CCCD: (\\d{12}){b}");
  REQUIRE(r.errors.empty());
  CHECK(r.pattern.has_capture);
  CHECK_FALSE(r.pattern.leading_boundary);
}

TEST_CASE("constructs outside the dialect are rejected with a reason") {
  struct Case {
    const char* pattern;
    const char* reason;
  };
  const Case cases[] = {
      {"\\bmat\\b", "{b}"},
      {"a+b", "unbounded"},
      {"a*b", "unbounded"},
      {"a{2,}", "unbounded"},
      {"(a)(b)", "at most one capturing group"},
      {"(?=a)b", "lookaround"},
      {"(?<!a)b", "lookaround"},
      {"(a)\\1", "backreferences"},
      {"(?P<x>a)", "named groups"},
      {"(?s)a.b", "inline flag"},
      {"a{b}c", "{b} may only"},
      {"[abc", "unterminated"},
      {"", "empty"},
  };
  for (const auto& c : cases) {
    INFO(c.pattern);
    DialectResult r = PatternDialect::translate(c.pattern);
    REQUIRE_FALSE(r.errors.empty());
    bool mentioned = false;
    for (const auto& e : r.errors) mentioned = mentioned || e.find(c.reason) != std::string::npos;
    CHECK(mentioned);
  }
}

TEST_CASE("escaped and class-internal characters are not taken for constructs") {
  for (const char* ok : {"a\\+b", "[*+]{1,3}", "\\p{L}{2,4}", "[(]x[)]", "\\(x\\)", "a{1,5}", "\\x{41}b"}) {
    INFO(ok);
    CHECK(PatternDialect::translate(ok).errors.empty());
  }
}
