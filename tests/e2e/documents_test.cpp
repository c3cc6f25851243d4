// Documents through every transport (issue 13), the real binary between the official SDKs or curl
// and the fake upstream: a stamped document is refused in the API's error shape naming the file and
// the place in it, in Vietnamese and English, never its text, and nothing of that request reaches
// the upstream (for the APIs that upload in pieces: the step that makes the file usable, OpenAI's
// complete and Google's finalize, never leaves); a clean one arrives byte for byte and its id,
// cited later, passes; an id the gateway never saw is refused (unscanned_reference); hostile files
// are refused as not inspected with their cause in the audit event, and the gateway keeps serving.
//
// Transports: OpenAI files.create and Uploads (openai SDK), Anthropic Files API (@anthropic-ai/sdk),
// Gemini resumable uploads (@google/genai, and curl for several chunks), ChatGPT web's announce +
// blob PUT + conversation (curl through the intercepting proxy), a plain multipart/form-data and a
// raw octet-stream body (curl). Documents: tests/data/documents/requests (make_request_documents.py)
// and tests/data/documents/hostile (make_hostile_documents.py, expected.json).
#include <set>

#include "expectations.h"
#include "json_positions.h"
#include "webapp_requests.h"

using namespace promptwall::e2e;

namespace {

// ---------------------------------------------------------------------------------------------
// Documents and what must never leave them.

struct Document {
  std::string name;  // the file's name, as the client sends it
  fs::path path;
  std::string bytes;
  std::string sha256;  // lower-case hex, by coreutils (not by the code under test)
};

Document document(const std::string& dir, const std::string& name) {
  Document d;
  d.name = name;
  d.path = fs::path(PROMPTWALL_SOURCE_DIR) / "tests/data/documents" / dir / name;
  d.bytes = read_text(d.path);
  if (d.bytes.empty() && name != "empty.bin") throw std::runtime_error("missing document " + d.path.string());
  auto sum = run_command({"sha256sum", d.path.string()});
  if (sum.exit_code != 0) throw std::runtime_error("sha256sum failed");
  d.sha256 = sum.out.substr(0, 64);
  return d;
}

Document request_doc(const std::string& name) { return document("requests", name); }
Document hostile_doc(const std::string& name) { return document("hostile", name); }

// What report-stamped.docx (and its PDF) hold that no answer may repeat: the stamp, the CCCD, and
// the name beside it. The audit event's evidence is a masked excerpt with some words around the
// finding (issue 12's design), so only the findings themselves are checked there.
const std::vector<std::string> kStampedSecrets = {"TỐI MẬT", "001099012345", "Nguyễn Văn An"};
const std::vector<std::string> kStampedFindings = {"TỐI MẬT", "001099012345"};
// staff-list.xlsx's CCCD numbers and a name.
const std::vector<std::string> kStaffSecrets = {"079201004321", "001099012345", "Trần Thị Bình"};
const std::vector<std::string> kStaffFindings = {"079201004321", "001099012345"};

constexpr const char* kDocxMime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
constexpr const char* kXlsxMime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// The bytes a fake's record received (its body_base64), decoded.
std::string received_bytes(const json& record) {
  return decode_data_url("data:x;base64," + record.value("body_base64", "")).value_or("<bad base64>");
}

// ---------------------------------------------------------------------------------------------
// The gateway: the fixture's services plus ChatGPT web and its blob host through the intercepting
// proxy (both answered by the HTTPS fake, whose certificate is for localhost: the gateway connects
// to the upstream it is configured with, whatever host the client named), and room for the larger
// hostile files (flat_bomb.zip is 1 MB).

GatewayFixture& documents_gateway() {
  static GatewayFixture fixture([] {
    GatewayOptions o;
    o.limits = "{max_body_bytes: 4MiB, timeouts: {header: 2s, upstream_response: 10s}}";
    o.extra_services =
        "  - {name: chatgpt-web, hosts: [chatgpt.com], upstream: \"{UPSTREAM_TLS}\", schema: chatgpt_web}\n"
        "  - {name: chatgpt-uploads, hosts: [files.oaiusercontent.com, \"*.oaiusercontent.com\"], upstream: \"{UPSTREAM_TLS}\", "
        "schema: json}\n";
    return o;
  }());
  return fixture;
}

json sdk(const std::vector<std::string>& args) {
  return run_node("sdk_file_client.js", args, std::chrono::seconds(40));
}

json sdk_upload(const std::string& sdk_name, const std::string& shape, const std::string& base_url, const Document& d,
                const std::string& mime, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--sdk", sdk_name, "--shape", shape, "--base-url", base_url, "--file", d.path.string(), "--mime", mime};
  args.insert(args.end(), extra.begin(), extra.end());
  return sdk(args);
}

json sdk_cite(const std::string& sdk_name, const std::string& shape, const std::string& base_url, const std::string& file_id,
              const std::string& mime = "application/pdf") {
  return sdk({"--sdk", sdk_name, "--shape", shape, "--base-url", base_url, "--file-id", file_id, "--mime", mime});
}

// The message a person reads, out of what the SDK raised. @google/genai 1.0 puts the answer's JSON
// after "got status: 403 Forbidden. ", and @anthropic-ai/sdk's message is "403 " and the answer's
// JSON (its error object sits one level down, in `error`), so the message is read from there.
std::string person_message(const json& r) {
  const std::string message = r.value("message", "");
  const auto brace = message.find('{');
  if (brace != std::string::npos) {
    const json j = json::parse(message.substr(brace), nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) return j["error"].value("message", message);
  }
  return message;
}

// A refusal of a finding in a file: 403, the file and the place named in both languages, none of
// the file's sensitive text.
void check_sensitive_in_file(const std::string& message, const std::string& file, const std::string& place_vi,
                             const std::string& place_en, const std::vector<std::string>& secrets) {
  INFO("message: " << message);
  CHECK(contains(message, "trong tệp \"" + file + "\" (" + place_vi + ")"));
  CHECK(contains(message, "in the file \"" + file + "\" (" + place_en + ")"));
  for (const auto& s : secrets) CHECK_FALSE(contains(message, s));
}

// The English words extractors give each cause (extractors/extracted_document.cpp): a refusal of a
// file not inspected names its cause with them.
std::string cause_words_en(const std::string& cause) {
  static const std::map<std::string, std::string> words = {
      {"encrypted", "the file is password-protected"},
      {"image_only", "the file holds only images, no text to check"},
      {"truncated", "the file is damaged or incomplete"},
      {"zip_bomb", "the compressed file is built to exhaust resources (zip bomb)"},
      {"xml_bomb", "the file holds a dangerous XML construct"},
      {"too_many_entries", "the file holds too many entries"},
      {"too_deep", "files are nested too deeply"},
      {"unscanned_reference", "the file referred to was never checked"},
  };
  return words.at(cause);
}
std::string cause_words_vi(const std::string& cause) {
  static const std::map<std::string, std::string> words = {
      {"encrypted", "tệp được bảo vệ bằng mật khẩu"},
      {"image_only", "tệp chỉ có hình ảnh, không có chữ để kiểm tra"},
      {"truncated", "tệp bị hỏng hoặc không đầy đủ"},
      {"zip_bomb", "tệp nén có cấu trúc nguy hiểm (bom nén)"},
      {"xml_bomb", "tệp chứa cấu trúc XML nguy hiểm"},
      {"too_many_entries", "tệp chứa quá nhiều thành phần"},
      {"too_deep", "tệp lồng nhau quá nhiều cấp"},
      {"unscanned_reference", "tệp được nhắc đến chưa từng được kiểm tra"},
  };
  return words.at(cause);
}

void check_not_inspected_message(const std::string& message, const std::string& cause) {
  INFO("message: " << message);
  CHECK(contains(message, "không kiểm tra được nội dung tệp"));
  CHECK(contains(message, cause_words_vi(cause)));
  CHECK(contains(message, "could not be checked (" + cause_words_en(cause) + ")"));
}

// The decision events since a mark, waiting for `n`.
std::vector<json> events_since(const GatewayFixture& gw, const GatewayFixture::Mark& m, size_t n) {
  std::vector<json> events;
  for (int tries = 0; tries < 7 && (events = gw.decisions_since(m, n)).size() < n; ++tries) {
  }
  return events;
}

// The one refusal among the events since a mark (a flow of several requests has one).
json the_refusal(const GatewayFixture& gw, const GatewayFixture::Mark& m, size_t events_expected) {
  const auto events = events_since(gw, m, events_expected);
  INFO("decisions: " << json(events).dump());
  std::vector<json> refused;
  for (const auto& e : events)
    if (e.value("forwarded", true) == false) refused.push_back(e);
  REQUIRE(refused.size() == 1);
  return refused.front();
}

// The event's one file entry: the file's type, size and SHA-256, never a byte of its text.
json the_file(const json& event, const Document& d, const std::string& type, const std::vector<std::string>& secrets) {
  INFO("event: " << event.dump());
  REQUIRE(event.contains("files"));
  REQUIRE(event["files"].size() == 1);
  const json f = event["files"][0];
  CHECK(f.value("type", "") == type);
  CHECK(f.value("size", uint64_t{0}) == d.bytes.size());
  CHECK(f.value("sha256", "") == d.sha256);
  CHECK_FALSE(f.contains("text"));
  for (const auto& s : secrets) CHECK_FALSE(contains(event.dump(), s));
  return f;
}

void check_sensitive_event(const json& event, const Document& d, const std::string& type, const std::vector<std::string>& secrets) {
  CHECK(event.value("reason", "") == "sensitive_content");
  CHECK(event.value("forwarded", true) == false);
  const json f = the_file(event, d, type, secrets);
  CHECK(f.value("findings", 0) >= 1);
  CHECK_FALSE(f.contains("unscannable"));
}

// A request that cites a file id the gateway never saw: refused as not inspected, cause
// unscanned_reference, and nothing leaves.
void check_unscanned_reference(const GatewayFixture& gw, const GatewayFixture::Mark& m, const json& r) {
  INFO("client: " << r.dump());
  CHECK(r.value("ok", true) == false);
  CHECK(r.value("status", json()) == 403);
  check_not_inspected_message(person_message(r), "unscanned_reference");
  check_nothing_forwarded(gw, m);
  const json e = the_refusal(gw, m, 1);
  CHECK(e.value("reason", "") == "file_not_inspected");
  REQUIRE(e.contains("files"));
  REQUIRE(e["files"].size() == 1);
  CHECK(e["files"][0].value("unscannable", "") == "unscanned_reference");
  CHECK(e["files"][0].value("policy", "") == "block");
}

// A clean SDK call that forwarded one request.
void check_passed(const GatewayFixture& gw, const GatewayFixture::Mark& m, const json& r) {
  INFO("client: " << r.dump());
  CHECK(r.value("ok", false) == true);
  CHECK(gw.forwarded_since(m).size() == 1);
  const auto events = events_since(gw, m, 1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("forwarded", false) == true);
}

// multipart/form-data as a browser or a script builds it.
std::string multipart(const std::string& boundary, const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& file_field, const Document& d, const std::string& mime) {
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field + "\"; filename=\"" + d.name +
          "\"\r\nContent-Type: " + mime + "\r\n\r\n" + d.bytes + "\r\n--" + boundary + "--\r\n";
  return body;
}

HttpResponse post_file(const std::string& url, const Document& d, const std::string& mime, std::vector<std::string> headers = {}) {
  headers.push_back("Content-Type: multipart/form-data; boundary=e2e-boundary-7MA4YWxkTrZu0gW");
  return post(url, multipart("e2e-boundary-7MA4YWxkTrZu0gW", {{"purpose", "assistants"}}, "file", d, mime), headers);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("OpenAI files.create: a stamped docx is refused, a clean one arrives whole and its id passes in a chat",
          "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto stamped = request_doc("report-stamped.docx");
  const auto clean = request_doc("report-clean.docx");

  SECTION("the stamped docx: 403 naming the file and its page header, nothing leaves") {
    auto m = gw.mark();
    auto r = sdk_upload("openai", "files-create", gw.openai_base(), stamped, kDocxMime);
    INFO("client: " << r.dump());
    CHECK(r.value("ok", true) == false);
    CHECK(r.value("status", json()) == 403);
    CHECK(r.value("code", "") == "promptwall_sensitive_content");
    check_sensitive_in_file(person_message(r), "report-stamped.docx", "đầu trang", "page header", kStampedSecrets);
    check_nothing_forwarded(gw, m);
    const json e = the_refusal(gw, m, 1);
    check_sensitive_event(e, stamped, "docx", kStampedFindings);
    CHECK(e["files"][0].value("name", "") == "report-stamped.docx");
  }
  SECTION("the clean docx reaches the upstream byte for byte, its id then passes, an unknown id does not") {
    auto m = gw.mark();
    auto r = sdk_upload("openai", "files-create", gw.openai_base(), clean, kDocxMime);
    INFO("client: " << r.dump());
    REQUIRE(r.value("ok", false) == true);
    const std::string file_id = r.value("file_id", "");
    CHECK(file_id.rfind("file-", 0) == 0);
    const json rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(rec["url"] == "/v1/files");
    CHECK(contains(received_bytes(rec), clean.bytes));
    const auto events = events_since(gw, m, 1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].value("decision", "") == "allow");
    const json f = the_file(events[0], clean, "docx", {});
    CHECK(f.value("findings", -1) == 0);

    m = gw.mark();
    check_passed(gw, m, sdk_cite("openai", "chat-file-id", gw.openai_base(), file_id));

    m = gw.mark();
    check_unscanned_reference(gw, m, sdk_cite("openai", "chat-file-id", gw.openai_base(), "file-NeverUploadedHere42"));
  }
}

TEST_CASE("a file id whose upload had findings is not accepted by an enforcing service", "[e2e][documents]") {
  // The `monitored` service (openai schema, mode monitor) forwards the stamped docx and records it;
  // the file id it got is then cited through `openai`, which enforces. Only a file scanned clean may
  // pass by its id: the citing request is judged under its own policy, and this file would have
  // been refused there.
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto stamped = request_doc("report-stamped.docx");
  auto m = gw.mark();
  auto up = sdk_upload("openai", "files-create", gw.url("/monitored/v1"), stamped, kDocxMime);
  INFO("monitored upload: " << up.dump());
  REQUIRE(up.value("ok", false) == true);  // monitor mode: forwarded, and seen
  const auto events = events_since(gw, m, 1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].value("forwarded", false) == true);
  REQUIRE(events[0].contains("files"));
  CHECK(events[0]["files"][0].value("findings", 0) >= 1);

  m = gw.mark();
  auto r = sdk_cite("openai", "chat-file-id", gw.openai_base(), up.value("file_id", ""));
  INFO("enforcing chat citing it: " << r.dump());
  CHECK(r.value("ok", true) == false);
  CHECK(r.value("status", json()) == 403);
  check_nothing_forwarded(gw, m);
}

TEST_CASE("OpenAI Uploads: parts pass unread, complete reads the whole file and is refused or forwarded",
          "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto stamped = request_doc("report-stamped.docx");
  const auto clean = request_doc("report-clean.docx");
  const size_t part = 10000;  // 4 parts of each docx
  const size_t parts = (stamped.bytes.size() + part - 1) / part;

  SECTION("stamped: the parts are forwarded, the complete is refused and never forwarded") {
    auto m = gw.mark();
    auto r = sdk_upload("openai", "uploads", gw.openai_base(), stamped, kDocxMime, {"--part-size", std::to_string(part)});
    INFO("client: " << r.dump());
    CHECK(r.value("ok", true) == false);
    CHECK(r.value("step", "") == "complete");
    CHECK(r.value("status", json()) == 403);
    const std::string message = person_message(r);
    INFO("message: " << message);
    CHECK(contains(message, "(đầu trang)"));
    CHECK(contains(message, "(page header)"));
    for (const auto& s : kStampedSecrets) CHECK_FALSE(contains(message, s));
    const auto got = gw.forwarded_since(m);
    INFO("forwarded: " << json(got).dump().substr(0, 2000));
    REQUIRE(got.size() == 1 + parts);  // create and every part
    CHECK(got[0]["url"] == "/v1/uploads");
    for (size_t i = 1; i < got.size(); ++i) {
      CHECK(contains(got[i]["url"].get<std::string>(), "/parts"));
      CHECK(contains(received_bytes(got[i]), stamped.bytes.substr((i - 1) * part, part)));
    }
    for (const auto& rec : got) CHECK_FALSE(contains(rec["url"].get<std::string>(), "/complete"));
    const json e = the_refusal(gw, m, 2 + parts);
    check_sensitive_event(e, stamped, "docx", kStampedFindings);
    CHECK(e["files"][0].value("location", "") == "upload");
  }
  SECTION("clean: the complete is forwarded, the parts together are the file, its id passes") {
    auto m = gw.mark();
    auto r = sdk_upload("openai", "uploads", gw.openai_base(), clean, kDocxMime, {"--part-size", std::to_string(part)});
    INFO("client: " << r.dump());
    REQUIRE(r.value("ok", false) == true);
    CHECK(r.value("status", "") == "completed");
    const std::string file_id = r.value("file_id", "");
    const auto got = gw.forwarded_since(m);
    REQUIRE(got.size() == 2 + (clean.bytes.size() + part - 1) / part);
    std::string assembled;
    for (size_t i = 1; i + 1 < got.size(); ++i) {
      const std::string piece = clean.bytes.substr((i - 1) * part, part);
      CHECK(contains(received_bytes(got[i]), piece));
      assembled += piece;
    }
    CHECK(assembled == clean.bytes);
    CHECK(contains(got.back()["url"].get<std::string>(), "/complete"));
    const auto events = events_since(gw, m, got.size());
    REQUIRE(events.size() == got.size());
    const json complete = events.back();
    CHECK(complete.value("decision", "") == "allow");
    the_file(complete, clean, "docx", {});

    m = gw.mark();
    check_passed(gw, m, sdk_cite("openai", "chat-file-id", gw.openai_base(), file_id));
  }
}

TEST_CASE("Anthropic Files API: a stamped docx is refused, a clean one arrives whole and its id passes in a document",
          "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto base = gw.url("/anthropic");
  const auto stamped = request_doc("report-stamped.docx");
  const auto clean = request_doc("report-clean.docx");

  SECTION("stamped: permission_error naming the file and its page header, nothing leaves") {
    auto m = gw.mark();
    auto r = sdk_upload("anthropic", "files-upload", base, stamped, kDocxMime);
    INFO("client: " << r.dump());
    CHECK(r.value("ok", true) == false);
    CHECK(r.value("status", json()) == 403);
    CHECK(r.value("code", "") == "permission_error");
    check_sensitive_in_file(person_message(r), "report-stamped.docx", "đầu trang", "page header", kStampedSecrets);
    check_nothing_forwarded(gw, m);
    check_sensitive_event(the_refusal(gw, m, 1), stamped, "docx", kStampedFindings);
  }
  SECTION("clean: byte for byte upstream, the file id passes, an unknown one is refused") {
    auto m = gw.mark();
    auto r = sdk_upload("anthropic", "files-upload", base, clean, kDocxMime);
    INFO("client: " << r.dump());
    REQUIRE(r.value("ok", false) == true);
    const std::string file_id = r.value("file_id", "");
    CHECK(file_id.rfind("file_", 0) == 0);
    const json rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(rec["url"] == "/v1/files");
    CHECK(contains(received_bytes(rec), clean.bytes));

    m = gw.mark();
    check_passed(gw, m, sdk_cite("anthropic", "document-file-id", base, file_id));
    m = gw.mark();
    check_unscanned_reference(gw, m, sdk_cite("anthropic", "document-file-id", base, "file_011CNeverUploadedHere"));
  }
}

TEST_CASE("Gemini resumable upload: the finalize reads the file, refused ones never finalize, a clean uri passes",
          "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto base = gw.url("/gemini");
  const auto stamped = request_doc("report-stamped.pdf");
  const auto clean = request_doc("report-clean.docx");

  SECTION("the SDK's upload of the stamped PDF: the start leaves, the finalizing chunk does not") {
    auto m = gw.mark();
    auto r = sdk_upload("genai", "files-upload", base, stamped, "application/pdf");
    INFO("client: " << r.dump());
    CHECK(r.value("ok", true) == false);
    CHECK(r.value("status", json()) == 403);
    const std::string message = person_message(r);
    INFO("message: " << message);
    CHECK(contains(message, "(trang 1)"));
    CHECK(contains(message, "(page 1)"));
    for (const auto& s : kStampedSecrets) CHECK_FALSE(contains(message, s));
    const auto got = gw.forwarded_since(m);
    INFO("forwarded: " << json(got).dump().substr(0, 2000));
    REQUIRE(got.size() == 1);  // the start: metadata only
    CHECK(got[0]["headers"].value("x-goog-upload-command", "") == "start");
    check_sensitive_event(the_refusal(gw, m, 2), stamped, "pdf", kStampedFindings);
  }
  SECTION("the SDK's upload of a clean docx: through the gateway, byte for byte, and its uri then passes") {
    auto m = gw.mark();
    auto r = sdk_upload("genai", "files-upload", base, clean, kDocxMime);
    INFO("client: " << r.dump());
    REQUIRE(r.value("ok", false) == true);
    const std::string uri = r.value("file_uri", "");
    CHECK(r.value("file_id", "").rfind("files/", 0) == 0);
    const auto got = gw.forwarded_since(m);
    REQUIRE(got.size() == 2);
    CHECK(contains(got[1]["url"].get<std::string>(), "upload_id="));
    CHECK(received_bytes(got[1]) == clean.bytes);
    // Both went through the gateway (the start's X-Goog-Upload-URL was pointed back at it): two events.
    const auto events = events_since(gw, m, 2);
    REQUIRE(events.size() == 2);
    CHECK(events[1].value("forwarded", false) == true);
    the_file(events[1], clean, "docx", {});

    m = gw.mark();
    check_passed(gw, m, sdk_cite("genai", "file-data", base, uri, kDocxMime));
    m = gw.mark();
    check_unscanned_reference(
        gw, m, sdk_cite("genai", "file-data", base, "https://generativelanguage.googleapis.com/v1beta/files/never-uploaded-1"));
  }
  SECTION("curl in three chunks: each chunk is kept and forwarded, the file spans them, the finalize is refused") {
    const auto xlsx = request_doc("staff-list.xlsx");
    auto m = gw.mark();
    HttpRequest start;
    start.method = "POST";
    start.url = gw.url("/gemini/upload/v1beta/files");
    start.headers = {"Content-Type: application/json", "X-Goog-Upload-Protocol: resumable", "X-Goog-Upload-Command: start",
                     "X-Goog-Upload-Header-Content-Length: " + std::to_string(xlsx.bytes.size()),
                     "X-Goog-Upload-Header-Content-Type: " + std::string(kXlsxMime), "x-goog-api-key: e2e-test-key"};
    start.body = R"({"file":{"displayName":"danh-sach.xlsx","mimeType":")" + std::string(kXlsxMime) + R"("}})";
    auto s = http(start);
    INFO(tail(s.log, 2000));
    REQUIRE(s.status == 200);
    const std::string upload_url = s.header("X-Goog-Upload-URL");
    CHECK(upload_url.rfind(gw.url("/gemini/upload/v1beta/files?upload_id="), 0) == 0);
    const size_t third = xlsx.bytes.size() / 3 + 1;
    HttpResponse last;
    for (size_t offset = 0, i = 0; offset < xlsx.bytes.size(); offset += third, ++i) {
      const bool final_chunk = offset + third >= xlsx.bytes.size();
      HttpRequest chunk;
      chunk.method = "POST";
      chunk.url = upload_url;
      chunk.body = xlsx.bytes.substr(offset, third);
      chunk.headers = {"Content-Type: application/json", std::string("X-Goog-Upload-Command: upload") + (final_chunk ? ", finalize" : ""),
                       "X-Goog-Upload-Offset: " + std::to_string(offset)};
      last = http(chunk);
      INFO("chunk " << i << ": " << last.status << " " << last.body);
      if (!final_chunk) CHECK(last.status == 200);
      if (!final_chunk) CHECK(last.header("X-Goog-Upload-Status") == "active");
    }
    INFO("finalize answer: " << last.body);
    CHECK(last.status == 403);
    const json j = last.json_body();
    REQUIRE(j.contains("error"));
    CHECK(j["error"].value("status", "") == "PERMISSION_DENIED");
    const std::string message = j["error"].value("message", "");
    CHECK(contains(message, "(trang tính 1, ô C"));
    CHECK(contains(message, "(sheet 1, cell C"));
    for (const auto& secret : kStaffSecrets) CHECK_FALSE(contains(message, secret));
    const auto got = gw.forwarded_since(m);
    REQUIRE(got.size() == 3);  // the start and the two chunks before the finalize
    for (const auto& rec : got) CHECK_FALSE(contains(rec["headers"].value("x-goog-upload-command", ""), "finalize"));
    CHECK(received_bytes(got[1]) + received_bytes(got[2]) == xlsx.bytes.substr(0, 2 * third));
    check_sensitive_event(the_refusal(gw, m, 4), xlsx, "xlsx", kStaffFindings);
  }
}

TEST_CASE("Gemini one-request uploads (raw and multipart/related, by curl): the file in them is read", "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto stamped = request_doc("report-stamped.docx");
  const auto clean = request_doc("report-clean.docx");
  const std::string url = gw.url("/gemini/upload/v1beta/files");
  // Google's multipart upload: JSON metadata, then the file, in multipart/related.
  auto related = [](const Document& d) {
    return "--e2e-related\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"file\":{\"displayName\":\"" + d.name +
           "\"}}\r\n--e2e-related\r\nContent-Type: " + std::string(kDocxMime) + "\r\n\r\n" + d.bytes + "\r\n--e2e-related--\r\n";
  };
  const std::vector<std::string> raw_headers = {"X-Goog-Upload-Protocol: raw", "Content-Type: " + std::string(kDocxMime),
                                                "x-goog-api-key: e2e-test-key"};
  const std::vector<std::string> related_headers = {"X-Goog-Upload-Protocol: multipart",
                                                    "Content-Type: multipart/related; boundary=e2e-related",
                                                    "x-goog-api-key: e2e-test-key"};
  // A clean upload's answer names the file; citing its uri then passes.
  auto check_clean_upload = [&](const HttpResponse& r, const GatewayFixture::Mark& m, const std::string& sent) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == 200);
    const json rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(received_bytes(rec) == sent);
    const std::string uri = r.json_body()["file"].value("uri", "");
    REQUIRE_FALSE(uri.empty());
    auto m2 = gw.mark();
    check_passed(gw, m2, sdk_cite("genai", "file-data", gw.url("/gemini"), uri, kDocxMime));
  };

  SECTION("raw, stamped: refused naming the page header, nothing leaves") {
    auto m = gw.mark();
    auto r = post(url, stamped.bytes, raw_headers);
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    const std::string message = r.json_body()["error"].value("message", "");
    CHECK(contains(message, "(đầu trang)"));
    CHECK(contains(message, "(page header)"));
    check_nothing_forwarded(gw, m);
    check_sensitive_event(the_refusal(gw, m, 1), stamped, "docx", kStampedFindings);
  }
  SECTION("raw, clean: forwarded byte for byte, its uri passes") {
    auto m = gw.mark();
    check_clean_upload(post(url, clean.bytes, raw_headers), m, clean.bytes);
  }
  SECTION("multipart/related, stamped: refused as sensitive naming the page header (the file part is read)") {
    auto m = gw.mark();
    auto r = post(url, related(stamped), related_headers);
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    const std::string message = r.json_body()["error"].value("message", "");
    CHECK(contains(message, "(đầu trang)"));
    CHECK(contains(message, "(page header)"));
    check_nothing_forwarded(gw, m);
    check_sensitive_event(the_refusal(gw, m, 1), stamped, "docx", kStampedFindings);
  }
  SECTION("multipart/related, clean: forwarded byte for byte, its uri passes") {
    auto m = gw.mark();
    const std::string body = related(clean);
    check_clean_upload(post(url, body, related_headers), m, body);
  }
}

TEST_CASE("ChatGPT web through the intercepting proxy: announce, blob PUT read, conversation judged by the file id",
          "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  auto through_proxy = [&](const std::string& method, const std::string& url, const std::string& body,
                           std::vector<std::string> headers) {
    headers.push_back("Cookie: __Secure-next-auth.session-token=e2e");
    return http(gw.via_proxy(method, url, body, std::move(headers)));
  };
  // The three steps of an attachment; returns {file_id, the PUT's answer}.
  auto attach = [&](const Document& d, const std::string& mime) {
    const json announce = {{"file_name", d.name}, {"file_size", d.bytes.size()}, {"use_case", "my_files"},
                           {"timezone_offset_min", -420}, {"reset_rate_limits", false}};
    auto a = through_proxy("POST", "https://chatgpt.com/backend-api/files", announce.dump(),
                           {"Content-Type: application/json", "Origin: https://chatgpt.com"});
    INFO("announce: " << a.status << " " << a.body << tail(a.log, 1500));
    REQUIRE(a.status == 200);
    const json answer = a.json_body();
    const std::string upload_url = answer.value("upload_url", "");
    REQUIRE(upload_url.rfind("https://files.oaiusercontent.com/files/", 0) == 0);
    auto put = through_proxy("PUT", upload_url, d.bytes,
                             {"Content-Type: " + mime, "x-ms-blob-type: BlockBlob", "x-ms-version: 2020-04-08",
                              "Origin: https://chatgpt.com"});
    return std::make_pair(answer.value("file_id", ""), put);
  };
  auto conversation = [&](const std::string& file_id) {
    std::string body = promptwall::webapps::chatgpt_body("chatgpt-conversation-multimodal.json", "Tóm tắt tệp này giúp tôi");
    body = replace_all(body, "file-7GkQyPz2aXcVbN1mLq9RtW", file_id);
    return through_proxy("POST", "https://chatgpt.com/backend-api/conversation", body,
                         {"Content-Type: application/json", "Accept: text/event-stream", "Origin: https://chatgpt.com"});
  };

  SECTION("stamped docx: the blob PUT is refused in ChatGPT's shape, nothing reaches the blob host, the id is refused later") {
    const auto stamped = request_doc("report-stamped.docx");
    auto m = gw.mark();
    auto [file_id, put] = attach(stamped, kDocxMime);
    INFO("PUT: " << put.status << " " << put.body);
    CHECK(put.status == 403);
    check_decision(put, "block");
    const auto got = gw.forwarded_since(m);
    REQUIRE(got.size() == 1);  // the announce only
    CHECK(got[0]["url"] == "/backend-api/files");
    const json e = the_refusal(gw, m, 2);
    check_sensitive_event(e, stamped, "docx", kStampedFindings);
    for (const auto& s : kStampedSecrets) CHECK_FALSE(contains(put.body, s));
    CHECK(contains(put.body, "(đầu trang)"));
    CHECK(contains(put.body, "(page header)"));

    m = gw.mark();
    auto c = conversation(file_id);
    INFO("conversation: " << c.status << " " << c.body);
    CHECK(c.status == 403);
    check_nothing_forwarded(gw, m);
    const json ce = the_refusal(gw, m, 1);
    CHECK(ce.value("reason", "") == "file_not_inspected");
  }
  SECTION("clean docx: the PUT arrives byte for byte, the conversation citing it passes, an unknown id does not") {
    const auto clean = request_doc("report-clean.docx");
    auto m = gw.mark();
    auto [file_id, put] = attach(clean, kDocxMime);
    INFO("PUT: " << put.status << " " << put.body << tail(put.log, 1500));
    CHECK(put.status == 201);
    const auto got = gw.forwarded_since(m);
    REQUIRE(got.size() == 2);
    CHECK(got[1]["method"] == "PUT");
    CHECK(contains(got[1]["url"].get<std::string>(), "/files/"));
    CHECK(received_bytes(got[1]) == clean.bytes);
    const auto events = events_since(gw, m, 2);
    REQUIRE(events.size() == 2);
    CHECK(events[1].value("service", "") == "chatgpt-uploads");
    the_file(events[1], clean, "docx", {});

    m = gw.mark();
    auto c = conversation(file_id);
    INFO("conversation: " << c.status << " " << c.body.substr(0, 500));
    CHECK(c.status == 200);
    CHECK(gw.forwarded_since(m).size() == 1);

    m = gw.mark();
    auto unknown = conversation("file-NeverAnnouncedHere9");
    INFO("unknown: " << unknown.status << " " << unknown.body);
    CHECK(unknown.status == 403);
    check_nothing_forwarded(gw, m);
    const json ue = the_refusal(gw, m, 1);
    CHECK(ue.value("reason", "") == "file_not_inspected");
    REQUIRE(ue.contains("files"));
    std::set<std::string> causes;
    for (const auto& f : ue["files"]) causes.insert(f.value("unscannable", ""));
    CHECK(causes == std::set<std::string>{"unscanned_reference"});
  }
}

TEST_CASE("ChatGPT web: the app's `uploaded` call is judged by the file id's verdict", "[e2e][documents]") {
  // gateway/uploads/README.md: chatgpt_file_uploaded (POST /backend-api/files/{id}/uploaded) is
  // decided by FileRegistry::find(id). An id whose blob PUT was refused, or that was never seen,
  // must not be reported ready to the app's backend; a clean one is.
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  auto through_proxy = [&](const std::string& method, const std::string& url, const std::string& body,
                           std::vector<std::string> headers) {
    headers.push_back("Cookie: __Secure-next-auth.session-token=e2e");
    headers.push_back("Origin: https://chatgpt.com");
    return http(gw.via_proxy(method, url, body, std::move(headers)));
  };
  auto announce_and_put = [&](const Document& d) {
    const json announce = {{"file_name", d.name}, {"file_size", d.bytes.size()}, {"use_case", "my_files"}};
    auto a = through_proxy("POST", "https://chatgpt.com/backend-api/files", announce.dump(), {"Content-Type: application/json"});
    REQUIRE(a.status == 200);
    const json answer = a.json_body();
    auto put = through_proxy("PUT", answer.value("upload_url", ""), d.bytes, {"Content-Type: " + std::string(kDocxMime), "x-ms-blob-type: BlockBlob"});
    return std::make_pair(answer.value("file_id", ""), put.status);
  };
  auto uploaded = [&](const std::string& file_id) {
    return through_proxy("POST", "https://chatgpt.com/backend-api/files/" + file_id + "/uploaded", "{}", {"Content-Type: application/json"});
  };

  SECTION("clean: its blob PUT passed, `uploaded` passes") {
    auto [file_id, put_status] = announce_and_put(request_doc("report-clean.docx"));
    CHECK(put_status == 201);
    auto m = gw.mark();
    auto r = uploaded(file_id);
    INFO(r.status << " " << r.body);
    CHECK(r.status == 200);
    CHECK(gw.forwarded_since(m).size() == 1);
  }
  SECTION("stamped: its blob PUT was refused, `uploaded` is refused and not forwarded") {
    auto [file_id, put_status] = announce_and_put(request_doc("report-stamped.docx"));
    CHECK(put_status == 403);
    auto m = gw.mark();
    auto r = uploaded(file_id);
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    check_nothing_forwarded(gw, m);
  }
  SECTION("never announced: `uploaded` is refused and not forwarded") {
    auto m = gw.mark();
    auto r = uploaded("file-NeverAnnouncedHere7");
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    check_nothing_forwarded(gw, m);
  }
}

TEST_CASE("curl: a multipart/form-data file and a raw octet-stream body to an inspected service", "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  SECTION("multipart with the stamped PDF: refused naming the file and page 1") {
    const auto pdf = request_doc("report-stamped.pdf");
    auto m = gw.mark();
    auto r = post_file(gw.url("/generic/upload"), pdf, "application/pdf");
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    check_decision(r, "block");
    const json j = r.json_body();
    REQUIRE(j.contains("error"));
    check_sensitive_in_file(j["error"].value("message", ""), "report-stamped.pdf", "trang 1", "page 1", kStampedSecrets);
    check_nothing_forwarded(gw, m);
    check_sensitive_event(the_refusal(gw, m, 1), pdf, "pdf", kStampedFindings);
  }
  SECTION("raw octet-stream of the staff list: refused naming the cell") {
    const auto xlsx = request_doc("staff-list.xlsx");
    auto m = gw.mark();
    auto r = post(gw.url("/generic/upload"), xlsx.bytes, {"Content-Type: application/octet-stream"});
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    CHECK(contains(r.body, "(trang tính 1, ô C"));
    CHECK(contains(r.body, "(sheet 1, cell C"));
    for (const auto& s : kStaffSecrets) CHECK_FALSE(contains(r.body, s));
    check_nothing_forwarded(gw, m);
    check_sensitive_event(the_refusal(gw, m, 1), xlsx, "xlsx", kStaffFindings);
  }
  SECTION("the clean docx, multipart then raw: forwarded byte for byte") {
    const auto clean = request_doc("report-clean.docx");
    auto m = gw.mark();
    const std::string body = multipart("e2e-boundary-7MA4YWxkTrZu0gW", {{"purpose", "assistants"}}, "file", clean, kDocxMime);
    auto r = post(gw.url("/generic/upload"), body, {"Content-Type: multipart/form-data; boundary=e2e-boundary-7MA4YWxkTrZu0gW"});
    CHECK(r.status == 200);
    json rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(received_bytes(rec) == body);
    m = gw.mark();
    r = post(gw.url("/generic/upload"), clean.bytes, {"Content-Type: application/octet-stream"});
    CHECK(r.status == 200);
    rec = single_forward(gw, m);
    REQUIRE(rec.is_object());
    CHECK(received_bytes(rec) == clean.bytes);
    const auto events = events_since(gw, m, 1);
    REQUIRE(events.size() == 1);
    the_file(events[0], clean, "docx", {});
  }
}

TEST_CASE("each format the gateway reads, uploaded through OpenAI's files endpoint, is refused naming its place",
          "[e2e][documents]") {
  // tests/data/documents/other (make_other_documents.py: LibreOffice over UNO, Python's email):
  // slides hold a password on slide 1 and a stamp on slide 2; letters a stamp in the body and
  // CCCDs; rosters a secret degree in column C. The place named is that of the most severe
  // blocking finding (the stamp or degree, critical, over a CCCD or password, high).
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  struct Case {
    const char* name;
    const char* type;
    const char* place_vi;
    const char* place_en;
  };
  const std::vector<Case> cases = {
      {"slides.pptx", "pptx", "trang chiếu 2", "slide 2"},
      {"slides.odp", "odp", "trang chiếu 2", "slide 2"},
      {"slides.ppt", "ppt", "trang chiếu 2", "slide 2"},
      {"letter.doc", "doc", "nội dung", "body"},
      {"letter.odt", "odt", "nội dung", "body"},
      {"letter.rtf", "rtf", "nội dung", "body"},
      {"roster.ods", "ods", "trang tính 1, ô C3", "sheet 1, cell C3"},
      {"roster.xlsx", "xlsx", "trang tính 1, ô C3", "sheet 1, cell C3"},
  };
  for (const auto& c : cases) {
    const auto d = document("other", c.name);
    INFO(c.name);
    auto m = gw.mark();
    auto r = post_file(gw.openai_base() + "/files", d, "application/octet-stream", {"Authorization: Bearer sk-e2e-test"});
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    const json j = r.json_body();
    REQUIRE(j.contains("error"));
    CHECK(j["error"].value("code", "") == "promptwall_sensitive_content");
    const std::string message = j["error"].value("message", "");
    CHECK(contains(message, std::string("trong tệp \"") + c.name + "\" (" + c.place_vi + ")"));
    CHECK(contains(message, std::string("in the file \"") + c.name + "\" (" + c.place_en + ")"));
    check_nothing_forwarded(gw, m);
    const json e = the_refusal(gw, m, 1);
    CHECK(e.value("reason", "") == "sensitive_content");
    REQUIRE(e.contains("files"));
    CHECK(e["files"][0].value("type", "") == c.type);
    CHECK(e["files"][0].value("sha256", "") == d.sha256);
  }
}

TEST_CASE("hostile files are refused as not inspected with their cause, and the gateway keeps serving", "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const std::string docx_read = "promptwall_files_total{type=\"docx\",verdict=\"read\"}";
  const double docx_read_before = gw.metric(docx_read);
  std::map<std::string, double> cause_before;
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"flat_bomb.zip", "zip_bomb"},     {"billion_laughs.docx", "xml_bomb"}, {"encrypted.pdf", "encrypted"},
      {"truncated.docx", "truncated"},   {"entries_10001.zip", "too_many_entries"}, {"ratio_bomb.docx", "zip_bomb"},
      {"nested_depth4.zip", "too_deep"}, {"image_only.pdf", "image_only"},
  };
  std::map<std::string, std::string> type_of;  // as the audit event names it, for the metric below
  for (const auto& [name, cause] : hostile) {
    const auto d = hostile_doc(name);
    INFO(name << " (" << cause << ")");
    auto m = gw.mark();
    auto r = post_file(gw.openai_base() + "/files", d, "application/octet-stream",
                       {"Authorization: Bearer sk-e2e-test"});
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    const json j = r.json_body();
    CHECK(j["error"].value("code", "") == "promptwall_file_not_inspected");
    const std::string message = j["error"].value("message", "");
    CHECK(contains(message, "\"" + name + "\""));
    check_not_inspected_message(message, cause);
    check_nothing_forwarded(gw, m);
    const json e = the_refusal(gw, m, 1);
    CHECK(e.value("reason", "") == "file_not_inspected");
    REQUIRE(e.contains("files"));
    REQUIRE(e["files"].size() == 1);
    const json f = e["files"][0];
    CHECK(f.value("unscannable", "") == cause);
    CHECK(f.value("policy", "") == "block");
    CHECK(f.value("size", uint64_t{0}) == d.bytes.size());
    CHECK(f.value("sha256", "") == d.sha256);
    CHECK(f.value("name", "") == name);
    type_of[name] = f.value("type", "");
  }
  // Still serving, and still reading documents.
  {
    auto m = gw.mark();
    auto r = post(gw.openai_base() + "/chat/completions", chat_body(kClean));
    CHECK(r.status == 200);
    CHECK(gw.forwarded_since(m).size() == 1);
    const auto clean = request_doc("report-clean.docx");
    m = gw.mark();
    r = post_file(gw.openai_base() + "/files", clean, kDocxMime);
    CHECK(r.status == 200);
    CHECK(gw.forwarded_since(m).size() == 1);
  }
  // /metrics counted each file by type and verdict.
  CHECK(gw.metric(docx_read) >= docx_read_before + 1);
  CHECK(gw.metric("promptwall_files_total{type=\"" + type_of["flat_bomb.zip"] + "\",verdict=\"zip_bomb\"}") >= 1);
  CHECK(gw.metric("promptwall_files_total{type=\"" + type_of["encrypted.pdf"] + "\",verdict=\"encrypted\"}") >= 1);
  CHECK(gw.metric("promptwall_files_total{type=\"" + type_of["entries_10001.zip"] + "\",verdict=\"too_many_entries\"}") >= 1);
  CHECK(gw.metric("promptwall_extraction_duration_seconds_count") >= hostile.size() + 1);
}

TEST_CASE("/metrics: promptwall_files_total counts files by type and verdict, exactly", "[e2e][documents]") {
  auto& gw = documents_gateway();
  INFO(gw.where_to_look());
  const auto clean = request_doc("report-clean.docx");
  const auto encrypted = hostile_doc("encrypted.docx");
  const std::string read = "promptwall_files_total{type=\"docx\",verdict=\"read\"}";
  const double read_before = gw.metric(read);
  auto r = post(gw.url("/generic/upload"), clean.bytes, {"Content-Type: application/octet-stream"});
  CHECK(r.status == 200);
  r = post(gw.url("/generic/upload"), clean.bytes, {"Content-Type: application/octet-stream"});
  CHECK(r.status == 200);
  CHECK(gw.metric(read) == read_before + 2);
  auto m = gw.mark();
  r = post(gw.url("/generic/upload"), encrypted.bytes, {"Content-Type: application/octet-stream"});
  CHECK(r.status == 403);
  const json e = the_refusal(gw, m, 1);
  REQUIRE(e.contains("files"));
  const std::string type = e["files"][0].value("type", "");
  const std::string series = "promptwall_files_total{type=\"" + type + "\",verdict=\"encrypted\"}";
  const double before = gw.metric(series);
  r = post(gw.url("/generic/upload"), encrypted.bytes, {"Content-Type: application/octet-stream"});
  CHECK(r.status == 403);
  CHECK(gw.metric(series) == before + 1);
  CHECK(gw.metric(read) == read_before + 2);
}
