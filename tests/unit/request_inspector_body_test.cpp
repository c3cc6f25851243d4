// RequestInspector's body steps after issue 12 ("nothing leaves unseen"): what the extractor can
// not read is refused (unreadable_body, file_not_inspected) rather than scanned as raw text, files
// follow `policy.files`, and a redaction that cannot be spliced in (a key, decoded base64, a body
// in another charset) acts as a block.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "classifiers/scanner.h"
#include "gateway/adapters/request_inspector.h"
#include "gateway/config/config.h"
#include "test_support.h"

namespace promptwall::gateway {
namespace {

const std::string kSecret = "Độ mật: TUYỆT MẬT";                                // vn.secret.degree-field, block
const std::string kSecretEscaped = R"(\u0110\u1ed9 m\u1eadt: TUY\u1ec6T M\u1eacT)";  // the same, JSON-escaped
const std::string kCccd = "Số CCCD 001203004567";                                 // vn.pii.cccd, redact

Inspection inspect_body(const std::string& body, const std::string& content_type,
                        std::optional<FilePolicy> files = std::nullopt, Mode mode = Mode::enforce) {
  static const RequestInspector inspector(InspectorLimits{});
  Service svc;
  svc.name = "openai";
  svc.schema = Schema::openai;
  svc.files = files;
  const PolicyLayer global{mode, {}, {}, {}};
  const std::vector<const PolicyLayer*> layers{&global};
  Scanner scanner(test::builtin_ruleset());
  const InspectionRequest in{&svc, "/v1/chat/completions", content_type, "", body};
  return inspector.inspect(in, scanner, layers, "req-1");
}

Refusal::Reason reason_of(const Inspection& in) {
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  REQUIRE(in.refusal);
  return in.refusal->reason;
}

std::string chat(const std::string& content_token) {
  return R"({"model":"gpt-4o","messages":[{"role":"user","content":)" + content_token + "}]}";
}

}  // namespace

TEST_CASE("JSON that is not strict is refused as unreadable, never scanned as raw text", "[inspector][body]") {
  // The service's `unparseable` is left at its default, scan_raw_or_block: it no longer matters.
  for (const std::string& body : {R"({"a":NaN,"b":")" + kSecretEscaped + R"("})",
                                 R"({"input":"x","input":")" + kSecretEscaped + R"("})",
                                 std::string(70, '[') + "\"" + kSecretEscaped + "\"" + std::string(70, ']'),
                                 R"({"input":"\ud800 )" + kSecretEscaped + R"("})"}) {
    INFO(body);
    const Inspection in = inspect_body(body, "application/json");
    CHECK(reason_of(in) == Refusal::Reason::unreadable_body);
    CHECK(in.note.starts_with("body cannot be parsed: "));
    CHECK(in.segments.empty());
  }
  // JSON labelled text/plain is parsed: the escaped stamp is decoded and found.
  const Inspection labelled = inspect_body(chat("\"" + kSecretEscaped + "\""), "text/plain");
  CHECK(reason_of(labelled) == Refusal::Reason::sensitive_content);
  CHECK(inspect_body(R"({"a":NaN})", "text/plain").refusal->reason == Refusal::Reason::unreadable_body);
}

TEST_CASE("files the gateway cannot read follow policy.files: block by default, allow forwards unread",
          "[inspector][body]") {
  // No document reader here: every file is unscannable (extractor_failed), so `policy.files` decides
  // (request_inspector_documents_test.cpp reads them).
  const std::string png_in_json = chat(R"([{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}])");
  const Inspection blocked = inspect_body(png_in_json, "application/json");
  CHECK(reason_of(blocked) == Refusal::Reason::file_not_inspected);
  CHECK(blocked.note.find("file messages[0].content[0].image_url.url (unknown, 8 bytes) not read completely: extractor_failed") !=
        std::string::npos);
  REQUIRE(blocked.files.size() == 1);
  CHECK(blocked.files[0].media_type == "image/png");

  const Inspection allowed = inspect_body(png_in_json, "application/json", FilePolicy::allow);
  CHECK(allowed.outcome == Inspection::Outcome::forward);
  CHECK(allowed.note.find("policy allow") != std::string::npos);

  // A body that is a file itself.
  CHECK(reason_of(inspect_body(std::string("\x89PNG\r\n\x1a\n", 8), "image/png")) == Refusal::Reason::file_not_inspected);
  CHECK(reason_of(inspect_body("%PDF-1.7", "application/pdf", FilePolicy::block)) == Refusal::Reason::file_not_inspected);
  CHECK(inspect_body("%PDF-1.7", "application/pdf", FilePolicy::allow).outcome == Inspection::Outcome::forward);

  // Allowing files does not let text through unscanned: the text beside the file still counts.
  const std::string both = R"({"messages":[{"role":"user","content":[{"type":"text","text":")" + kSecret +
                           R"("},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})";
  CHECK(reason_of(inspect_body(both, "application/json", FilePolicy::allow)) == Refusal::Reason::sensitive_content);
}

TEST_CASE("base64 that decodes to text is scanned", "[inspector][body]") {
  // "Độ mật: TUYỆT MẬT" as base64, in an OpenAI file part.
  const std::string b64 = "xJDhu5kgbeG6rXQ6IFRVWeG7hlQgTeG6rFQ=";
  const Inspection in = inspect_body(
      chat(R"([{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;base64,)" + b64 + R"("}}])"),
      "application/json");
  CHECK(reason_of(in) == Refusal::Reason::sensitive_content);
  REQUIRE_FALSE(in.findings.empty());
  CHECK(in.segments[in.findings[0].segment].location == "messages[0].content[0].file.file_data (decoded base64)");
}

TEST_CASE("a redact where nothing can be rewritten acts as a block, in a value it still redacts", "[inspector][body]") {
  // In a value: rewritten.
  const Inspection value = inspect_body(chat("\"" + kCccd + "\""), "application/json");
  CHECK(value.outcome == Inspection::Outcome::forward_rewritten);
  CHECK(value.body.find("001203004567") == std::string::npos);

  // In a key: a rewritten key could collide with a sibling, so the request is refused.
  const Inspection key = inspect_body(R"({"model":"m","metadata":{")" + kCccd + R"(":"x"}})", "application/json");
  CHECK(reason_of(key) == Refusal::Reason::sensitive_content);
  REQUIRE_FALSE(key.findings.empty());
  CHECK(key.findings[0].finding.action == Action::redact);  // the rule's own action...
  CHECK(key.decision.actions[0] == Action::block);          // ...acts as a block in a key
  CHECK(key.note.find("escalated to block") != std::string::npos);

  // In a body sent as UTF-16: found, and blocked since it cannot be spliced back.
  std::string utf16 = "\xFF\xFE";
  for (unsigned char c : chat("\"CCCD 001203004567\"")) {
    utf16 += static_cast<char>(c);
    utf16 += '\0';
  }
  const Inspection transcoded = inspect_body(utf16, "application/json");
  CHECK(reason_of(transcoded) == Refusal::Reason::sensitive_content);
  CHECK(transcoded.note.find("decoded from utf-16le") != std::string::npos);

  // Monitor mode forwards as ever, the decision recorded as enforced.
  const Inspection monitored =
      inspect_body(R"({"metadata":{")" + kCccd + R"(":"x"}})", "application/json", std::nullopt, Mode::monitor);
  CHECK(monitored.outcome == Inspection::Outcome::forward);
  CHECK(monitored.decision.verdict == Verdict::block);
}

TEST_CASE("an unknown charset or bytes invalid in it are refused as unreadable", "[inspector][body]") {
  CHECK(reason_of(inspect_body("abc", "text/plain; charset=x-unknown")) == Refusal::Reason::unreadable_body);
  CHECK(reason_of(inspect_body("caf\xe9", "text/plain")) == Refusal::Reason::unreadable_body);
  // Declared, it is read: windows-1258 "Độ mật: TUYỆT MẬT" is refused for what it says.
  CHECK(reason_of(inspect_body("\xD0\xF4\xF2 m\xE2\xF2t: TUY\xCA\xF2T M\xC2\xF2T", "text/plain; charset=windows-1258")) ==
        Refusal::Reason::sensitive_content);
}

}  // namespace promptwall::gateway

// `policy.files` (gateway/config/config.cpp): global, overridable per service, resolved into every
// service when the configuration is loaded; a scope cannot set it.
namespace promptwall::gateway {
namespace {

const Service& service_named(const GatewayConfig& c, std::string_view name) {
  const auto it = std::find_if(c.services.begin(), c.services.end(), [&](const Service& s) { return s.name == name; });
  REQUIRE(it != c.services.end());
  return *it;
}

std::string config_error(const std::string& yaml) {
  try {
    parse_gateway_config(yaml, "test.yaml", "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kTwoServices =
    "services:\n"
    "  - {name: a, prefix: /a, upstream: https://a.example}\n"
    "  - {name: b, prefix: /b, upstream: https://b.example, policy: {files: block}}\n";

}  // namespace

TEST_CASE("policy.files: block by default, allow globally, a service's own value wins", "[inspector][body][config]") {
  const GatewayConfig by_default = parse_gateway_config("listen: {gateway: 127.0.0.1:8080}\n" + kTwoServices, "test.yaml", "/base");
  CHECK(by_default.files == FilePolicy::block);
  CHECK(service_named(by_default, "a").files == FilePolicy::block);
  // Given after the services: still their default.
  const GatewayConfig allowed =
      parse_gateway_config("listen: {gateway: 127.0.0.1:8080}\n" + kTwoServices + "policy: {files: allow}\n", "test.yaml", "/base");
  CHECK(allowed.files == FilePolicy::allow);
  CHECK(service_named(allowed, "a").files == FilePolicy::allow);
  CHECK(service_named(allowed, "b").files == FilePolicy::block);
  CHECK(config_error("listen: {gateway: 127.0.0.1:8080}\npolicy: {files: maybe}\n") ==
        "test.yaml:2: key `policy.files`: expected block, warn or allow, got 'maybe'");
  // Per cause, over `files`; a service's own entries win over the global ones.
  const GatewayConfig causes = parse_gateway_config(
      "listen: {gateway: 127.0.0.1:8080}\n" + kTwoServices +
          "  - {name: c, prefix: /c, upstream: https://c.example, policy: {unscannable: {encrypted: allow}}}\n"
          "policy: {files: warn, unscannable: {encrypted: block, image_only: allow}}\n",
      "test.yaml", "/base");
  CHECK(service_named(causes, "a").file_policy("encrypted") == FilePolicy::block);
  CHECK(service_named(causes, "a").file_policy("image_only") == FilePolicy::allow);
  CHECK(service_named(causes, "a").file_policy("zip_bomb") == FilePolicy::warn);
  CHECK(service_named(causes, "c").file_policy("encrypted") == FilePolicy::allow);
  CHECK(service_named(causes, "b").file_policy("truncated") == FilePolicy::block);
  CHECK(config_error("listen: {gateway: 127.0.0.1:8080}\npolicy: {unscannable: {encryted: allow}}\n").starts_with(
      "test.yaml:2: key `policy.unscannable.encryted`: unknown key"));
  // Every cause the extractors name is a key the configuration accepts.
  for (uint8_t i = 1; i <= static_cast<uint8_t>(extractors::Unscannable::unscanned_reference); ++i) {
    const std::string cause(extractors::to_string(static_cast<extractors::Unscannable>(i)));
    INFO(cause);
    CHECK_NOTHROW(parse_gateway_config("listen: {gateway: 127.0.0.1:8080}\npolicy: {unscannable: {" + cause + ": warn}}\n",
                                       "test.yaml", "/base"));
  }
}

TEST_CASE("documents: limits and the sandbox's size, with their ranges", "[config]") {
  const GatewayConfig c = parse_gateway_config(
      "listen: {gateway: 127.0.0.1:8080}\n"
      "documents: {max_file_bytes: 8MiB, max_text_bytes: 2MiB, max_entries: 500, max_nesting: 1, time_per_file: 3s,\n"
      "            worker_memory: 512MiB, files_per_request: 4, workers: 3, spares: 1}\n",
      "test.yaml", "/base");
  CHECK(c.documents.limits.max_file_bytes == 8u << 20);
  CHECK(c.documents.limits.max_text_bytes == 2u << 20);
  CHECK(c.documents.limits.max_entries == 500);
  CHECK(c.documents.limits.max_nesting == 1);
  CHECK(c.documents.limits.time_per_file == std::chrono::seconds(3));
  CHECK(c.documents.limits.worker_memory_bytes == 512u << 20);
  CHECK(c.documents.limits.files_per_request == 4);
  CHECK(c.documents.workers == 3);
  CHECK(c.documents.spares == 1);
  const GatewayConfig d = parse_gateway_config("listen: {gateway: 127.0.0.1:8080}\n", "test.yaml", "/base");
  CHECK(d.documents.limits.max_file_bytes == extractors::ExtractionLimits{}.max_file_bytes);
  CHECK(config_error("listen: {gateway: 127.0.0.1:8080}\ndocuments: {worker_memory: 1MiB}\n").starts_with(
      "test.yaml:2: key `documents.worker_memory`"));
}

}  // namespace promptwall::gateway
