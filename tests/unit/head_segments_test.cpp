// HeadTextExtractor (gateway/adapters/head_segments.h) and the inspector's head step
// (request_inspector.h): the query, path segments and headers are scanned, credentials and
// transport fields are not, and a redact in the head acts as a block.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "classifiers/scanner.h"
#include "gateway/adapters/head_segments.h"
#include "gateway/adapters/request_inspector.h"
#include "test_support.h"

namespace promptwall::gateway {
namespace {

const std::string kSecret = "Độ mật: TUYỆT MẬT";  // vn.secret.degree-field, block
const std::string kCccd = "001203004567";          // vn.pii.cccd, redact
// The secret as a query value would carry it (form-encoded) and as a path segment (percent-encoded).
const std::string kSecretForm = "%C4%90%E1%BB%99+m%E1%BA%ADt%3A+TUY%E1%BB%86T+M%E1%BA%ACT";
const std::string kSecretPercent = "%C4%90%E1%BB%99%20m%E1%BA%ADt%3A%20TUY%E1%BB%86T%20M%E1%BA%ACT";

struct Read {
  std::string location, text;
  bool operator==(const Read&) const = default;
};

std::vector<Read> pieces_of(const HeadText& head) {
  std::vector<Read> out;
  for (const auto& p : head.pieces) out.push_back({head.location(p), std::string(head.piece_text(p))});
  return out;
}

// The inspection of an empty body whose head is `target` and `headers`, for an openai service.
Inspection inspect_head(const std::string& target, const std::vector<HeaderField>& headers, Mode mode = Mode::enforce) {
  static const RequestInspector inspector(InspectorLimits{});
  Service svc;
  svc.name = "openai";
  svc.schema = Schema::openai;
  const PolicyLayer global{mode, {}, {}, {}};
  const std::vector<const PolicyLayer*> layers{&global};
  Scanner scanner(test::builtin_ruleset());
  const HeadText head = HeadTextExtractor().extract(target, headers);
  InspectionRequest in{&svc, target, "application/json", "", ""};
  in.head = &head;
  return inspector.inspect(in, scanner, layers, "req-1");
}

std::vector<std::string> finding_locations(const Inspection& in) {
  std::vector<std::string> out;
  for (const auto& f : in.findings) out.push_back(in.segments[f.segment].location);
  return out;
}

}  // namespace

TEST_CASE("the head's text: path segments decoded, query names and values, headers by name", "[head]") {
  const std::vector<HeaderField> headers = {
      {"Host", "api.openai.com"}, {"Content-Type", "application/json"}, {"X-Title", "Báo cáo"},
      {"Content-Length", "12"},   {"Accept-Encoding", "gzip"}};
  const HeadText head = HeadTextExtractor().extract("/v1/files/b%C3%A1o%20c%C3%A1o//x?q=a+b&flag&%71=1", headers);
  const std::vector<Read> expected = {
      {"path[0]", "v1"},       {"path[1]", "files"},         {"path[2]", "báo cáo"},
      {"path[4]", "x"},  // the empty segment is counted, not read
      {"query:q", "q"},        {"query:q", "a b"},           {"query:flag", "flag"},
      {"query:q", "q"},        {"query:q", "1"},
      {"header:content-type", "application/json"},  // a known name is fixed text: only the value
      {"header:x-title", "x-title"},           {"header:x-title", "Báo cáo"},
      {"header:accept-encoding", "accept-encoding"}, {"header:accept-encoding", "gzip"}};
  CHECK(pieces_of(head) == expected);
  // Each piece on its own line, in text order.
  for (const auto& p : head.pieces) CHECK(head.text[p.end] == '\n');
}

TEST_CASE("credentials and transport fields are never in the head's text", "[head]") {
  const std::vector<HeaderField> headers = {
      {"Authorization", "Bearer 001203004567"}, {"Proxy-Authorization", "Basic 001203004567"},
      {"x-api-key", "001203004567"},            {"X-Goog-Api-Key", "001203004567"},
      {"api-key", "001203004567"},              {"Cookie", "s=001203004567"},
      {"Transfer-Encoding", "chunked"},         {"Trailer", "x-t"},
      {"Connection", "keep-alive"},             {"Expect", "100-continue"},
      {"Content-Encoding", "gzip"},             {"Upgrade", "websocket"}};
  const HeadText head = HeadTextExtractor().extract("/v1beta/models/m:generateContent?key=001203004567&api-key=001203004567", headers);
  CHECK(head.text.find("001203004567") == std::string::npos);
  CHECK(head.text.find("chunked") == std::string::npos);
  CHECK(pieces_of(head).size() == 3);  // the path's three segments only
  // Names are matched exactly for parameters (a `Key` is not Gemini's key) and in any case for headers.
  CHECK(HeadTextExtractor().extract("/?Key=1", {}).text == "Key\n1\n");
  CHECK(HeadTextExtractor::is_credential_header("AUTHORIZATION"));
  CHECK_FALSE(HeadTextExtractor::is_credential_header("x-api-key-note"));
  CHECK(HeadTextExtractor::is_known_header_name("user-agent"));
  CHECK_FALSE(HeadTextExtractor::is_known_header_name("x-title"));
  CHECK_FALSE(HeadTextExtractor::is_known_header_name("x-stainless-note"));
  CHECK(HeadTextExtractor::is_transport_header("Content-Length"));
  CHECK_FALSE(HeadTextExtractor::is_transport_header("Content-Type"));
}

TEST_CASE("the justification headers are the gateway's own: never in the head's text", "[head][coaching]") {
  // A reason may well hold what the rules look for; it is scanned on its own and recorded masked.
  const std::vector<HeaderField> headers = {{"X-Promptwall-Justification-Token", "pwj1.AAAA"},
                                            {"X-Promptwall-Justification", "g%E1%BB%ADi 001203004567"},
                                            {"X-Title", "hello"}};
  const HeadText head = HeadTextExtractor().extract("/v1/chat/completions", headers);
  CHECK(head.text.find("001203004567") == std::string::npos);
  CHECK(head.text.find("pwj1.") == std::string::npos);
  CHECK(head.text.find("hello") != std::string::npos);  // every other field is still read
  CHECK(HeadTextExtractor::is_gateway_header("x-promptwall-justification"));
  CHECK(HeadTextExtractor::is_gateway_header("X-PROMPTWALL-JUSTIFICATION-TOKEN"));
  CHECK_FALSE(HeadTextExtractor::is_gateway_header("x-promptwall-justification-note"));
}

TEST_CASE("a multipart boundary is framing: Content-Type is read without it", "[head]") {
  auto value_of = [](std::string_view content_type) {
    const HeadText head = HeadTextExtractor().extract("/", std::vector<HeaderField>{{"Content-Type", content_type}});
    REQUIRE(head.pieces.size() == 1);
    return std::string(head.piece_text(head.pieces[0]));
  };
  CHECK(value_of("multipart/form-data; boundary=----formdata-undici-001203004567") == "multipart/form-data; boundary=");
  CHECK(value_of("multipart/form-data; BOUNDARY=\"a;b\"; charset=Độ mật") == "multipart/form-data; BOUNDARY=; charset=Độ mật");
  CHECK(value_of("application/json; x-boundary=1") == "application/json; x-boundary=1");
  CHECK(value_of("text/plain; charset=utf-8") == "text/plain; charset=utf-8");
  // Any other field keeps a boundary-looking parameter.
  const HeadText other = HeadTextExtractor().extract("/", std::vector<HeaderField>{{"X-Note", "boundary=001203004567"}});
  CHECK(other.text.find("001203004567") != std::string::npos);
}

TEST_CASE("piece_at: a finding belongs to the piece it starts in, or the next after a separator", "[head]") {
  const HeadText head = HeadTextExtractor().extract("/ab/cd", {});
  REQUIRE(head.text == "ab\ncd\n");
  CHECK(head.piece_at(0) == &head.pieces[0]);
  CHECK(head.piece_at(1) == &head.pieces[0]);
  CHECK(head.piece_at(2) == &head.pieces[0]);  // its line break
  CHECK(head.piece_at(3) == &head.pieces[1]);
  CHECK(head.piece_at(5) == &head.pieces[1]);
  CHECK(head.piece_at(6) == nullptr);
}

TEST_CASE("a stamp in the query, a path segment or a header is refused, with where it was", "[head][inspector]") {
  SECTION("query value") {
    Inspection in = inspect_head("/v1/chat/completions?q=" + kSecretForm, {});
    CHECK(in.outcome == Inspection::Outcome::refuse);
    REQUIRE(in.refusal);
    CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
    CHECK(finding_locations(in) == std::vector<std::string>{"query:q"});
    // The finding's span lies in its own segment's text, which is the decoded value.
    REQUIRE(in.findings.size() == 1);
    const Segment& s = in.segments[in.findings[0].segment];
    CHECK(s.text == kSecret);
    CHECK(in.findings[0].finding.span.end <= s.text.size());
  }
  SECTION("query name") {
    Inspection in = inspect_head("/v1/chat/completions?" + kSecretForm + "=1", {});
    CHECK(in.outcome == Inspection::Outcome::refuse);
    CHECK_FALSE(in.findings.empty());
  }
  SECTION("path segment") {
    Inspection in = inspect_head("/v1/files/" + kSecretPercent, {});
    CHECK(in.outcome == Inspection::Outcome::refuse);
    CHECK(finding_locations(in) == std::vector<std::string>{"path[2]"});
  }
  SECTION("custom header") {
    Inspection in = inspect_head("/v1/chat/completions", {{"X-Title", kSecret}, {"User-Agent", "sdk"}});
    CHECK(in.outcome == Inspection::Outcome::refuse);
    CHECK(finding_locations(in) == std::vector<std::string>{"header:x-title"});
    // The head's segments come after the body's and have no byte range in the body.
    CHECK(in.first_head_segment == 0);
    CHECK(in.segments[0].raw_begin == in.segments[0].raw_end);
  }
}

TEST_CASE("a redact in the head acts as a block, and monitor mode still forwards", "[head][inspector]") {
  Inspection in = inspect_head("/v1/chat/completions", {{"X-Note", std::string("Số CCCD ") + kCccd}});
  REQUIRE_FALSE(in.findings.empty());
  CHECK(in.findings[0].finding.action == Action::redact);  // the rule's own action...
  CHECK(in.decision.actions[0] == Action::block);          // ...acts as a block in the head
  CHECK(in.decision.verdict == Verdict::block);
  CHECK(in.outcome == Inspection::Outcome::refuse);
  CHECK(in.body.empty());

  Inspection monitored = inspect_head("/v1/chat/completions", {{"X-Note", std::string("Số CCCD ") + kCccd}}, Mode::monitor);
  CHECK(monitored.outcome == Inspection::Outcome::forward);
  CHECK(monitored.decision.verdict == Verdict::block);  // recorded as it would be enforced
}

TEST_CASE("credentials holding CCCD-like digits and clean heads pass unflagged", "[head][inspector]") {
  Inspection in = inspect_head("/v1beta/models/gemini:generateContent?key=001203004567",
                               {{"Authorization", "Bearer 001203004567"}, {"x-goog-api-key", "001203004567"},
                                {"Cookie", "cccd=001203004567"}, {"Content-Type", "application/json"}});
  CHECK(in.findings.empty());
  CHECK(in.segments.empty());
  CHECK(in.outcome == Inspection::Outcome::forward);
  // The same digits in a header that is not a credential are found.
  Inspection leaked = inspect_head("/v1/chat", {{"X-Customer", std::string("CCCD ") + kCccd}});
  CHECK_FALSE(leaked.findings.empty());
}

}  // namespace promptwall::gateway

