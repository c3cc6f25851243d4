// Files inside JSON, sent by the official SDKs as applications send them (sdk_file_client.js). Since
// issue 13 every file is read: a readable clean document (a PDF LibreOffice printed) reaches the
// upstream untouched; one holding a classification marking is refused as sensitive, as is a text
// file holding one (decoded and scanned like any text); a file that cannot be read (a PNG: an image,
// no text) is refused as "file not inspected" naming its cause. Either way the SDK raises a 403
// whose message a person reads in Vietnamese and English, the audit trail records the reason, and
// the fake upstream receives nothing (issues 12 and 13).
#include "expectations.h"
#include "json_positions.h"

using namespace promptwall::e2e;

namespace {

struct Files {
  TempDir dir;
  fs::path pdf, stamped_pdf, png, secret_text;
  std::string pdf_bytes;
  Files() {
    const fs::path documents = fs::path(PROMPTWALL_SOURCE_DIR) / "tests/data/documents";
    pdf = documents / "requests/report-clean.pdf";            // make_request_documents.py
    stamped_pdf = documents / "requests/report-stamped.pdf";  // TỐI MẬT in the header, a CCCD
    png = documents / "hostile/picture.png";                  // make_hostile_documents.py: image_only
    pdf_bytes = read_text(pdf);
    if (pdf_bytes.empty() || read_text(png).empty()) throw std::runtime_error("missing fixtures under " + documents.string());
    secret_text = dir.path() / "bien-ban.txt";
    write_text(secret_text, std::string("Biên bản họp tổ\n") + kSecretLine + "\nNội dung: kế hoạch quý.\n");
  }
};

json sdk_file(const std::string& sdk, const std::string& shape, const std::string& base_url, const fs::path& file,
              const std::string& mime) {
  return run_node("sdk_file_client.js",
                  {"--sdk", sdk, "--shape", shape, "--base-url", base_url, "--file", file.string(), "--mime", mime});
}

// The SDK raised a 403 in Vietnamese and English, the trail holds the reason, nothing left.
void check_refused(const GatewayFixture& gw, const GatewayFixture::Mark& m, const json& r, const std::string& reason,
                   const std::string& sensitive = "TUYỆT MẬT") {
  INFO("client: " << r.dump());
  CHECK(r.value("ok", true) == false);
  CHECK(r.value("status", json()) == 403);
  const std::string message = r.value("message", "");
  if (reason == "file_not_inspected") {
    // The PNG: named cause in both languages (extractors' words for image_only).
    CHECK(contains(message, "không kiểm tra được nội dung tệp"));
    CHECK(contains(message, "tệp chỉ có hình ảnh, không có chữ để kiểm tra"));
    CHECK(contains(message, "could not be checked (the file holds only images, no text to check)"));
  } else {
    check_refusal_message(message, "vn.secret.", sensitive);
  }
  check_nothing_forwarded(gw, m);
  auto d = gw.decisions_since(m);
  INFO("decisions: " << json(d).dump());
  REQUIRE(d.size() == 1);
  CHECK(d[0].value("reason", "") == reason);
  CHECK(d[0].value("forwarded", true) == false);
  if (reason == "file_not_inspected") {
    REQUIRE(d[0].contains("files"));
    REQUIRE(d[0]["files"].size() == 1);
    CHECK(d[0]["files"][0].value("unscannable", "") == "image_only");
  }
}

// The SDK's call succeeded and the upstream received the file's bytes exactly, as the base64 the
// SDK put in the body (the gateway read the file and forwarded the body untouched).
void check_passed(const GatewayFixture& gw, const GatewayFixture::Mark& m, const json& r, const std::string& file_bytes) {
  INFO("client: " << r.dump());
  CHECK(r.value("ok", false) == true);
  const json rec = single_forward(gw, m);
  REQUIRE(rec.is_object());
  CHECK(contains(body_of(rec), base64(file_bytes)));
  auto d = gw.decisions_since(m);
  INFO("decisions: " << json(d).dump());
  REQUIRE(d.size() == 1);
  CHECK(d[0].value("forwarded", false) == true);
  REQUIRE(d[0].contains("files"));
  REQUIRE(d[0]["files"].size() == 1);
  CHECK(d[0]["files"][0].value("type", "") == "pdf");
  CHECK(d[0]["files"][0].value("size", uint64_t{0}) == file_bytes.size());
  CHECK(d[0]["files"][0].value("findings", -1) == 0);
  CHECK_FALSE(d[0]["files"][0].contains("unscannable"));
}

}  // namespace

TEST_CASE("openai SDK: files in chat and Responses are read and scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  SECTION("chat `file` part, file_data a readable clean PDF: forwarded untouched") {
    auto m = gw.mark();
    check_passed(gw, m, sdk_file("openai", "chat-file", gw.openai_base(), files.pdf, "application/pdf"), files.pdf_bytes);
  }
  SECTION("chat `file` part, file_data the stamped PDF: refused as sensitive, naming the file and page") {
    auto m = gw.mark();
    auto r = sdk_file("openai", "chat-file", gw.openai_base(), files.stamped_pdf, "application/pdf");
    check_refused(gw, m, r, "sensitive_content", "TỐI MẬT");
    CHECK(r.value("code", "") == "promptwall_sensitive_content");
    CHECK(contains(r.value("message", ""), "trong tệp \"report-stamped.pdf\" (trang 1)"));
    CHECK(contains(r.value("message", ""), "in the file \"report-stamped.pdf\" (page 1)"));
  }
  SECTION("chat `file` part, file_data a text file holding a marking: decoded, scanned, refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "chat-file", gw.openai_base(), files.secret_text, "text/plain"), "sensitive_content");
  }
  SECTION("chat `image_url` data URL of a PNG: file not inspected (image_only)") {
    auto m = gw.mark();
    auto r = sdk_file("openai", "chat-image", gw.openai_base(), files.png, "image/png");
    check_refused(gw, m, r, "file_not_inspected");
    CHECK(r.value("code", "") == "promptwall_file_not_inspected");
  }
  SECTION("Responses `input_file` with a readable clean PDF: forwarded untouched") {
    auto m = gw.mark();
    check_passed(gw, m, sdk_file("openai", "responses-file", gw.openai_base(), files.pdf, "application/pdf"), files.pdf_bytes);
  }
  SECTION("Responses `input_file` with a text file holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "responses-file", gw.openai_base(), files.secret_text, "text/plain"),
                  "sensitive_content");
  }
}

TEST_CASE("anthropic SDK: documents and images are read and scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  const auto base = gw.url("/anthropic");
  SECTION("document with a text source holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("anthropic", "document-text", base, files.secret_text, "text/plain"), "sensitive_content");
  }
  SECTION("document with a base64 source, a readable clean PDF: forwarded untouched") {
    auto m = gw.mark();
    check_passed(gw, m, sdk_file("anthropic", "document-base64", base, files.pdf, "application/pdf"), files.pdf_bytes);
  }
  SECTION("image with a base64 PNG source: file not inspected (image_only)") {
    auto m = gw.mark();
    auto r = sdk_file("anthropic", "image", base, files.png, "image/png");
    check_refused(gw, m, r, "file_not_inspected");
    CHECK(r.value("code", "") == "permission_error");
  }
}

TEST_CASE("google genai SDK: inlineData is read and scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  const auto base = gw.url("/gemini");
  SECTION("inlineData of a readable clean PDF: forwarded untouched") {
    auto m = gw.mark();
    check_passed(gw, m, sdk_file("genai", "inline-data", base, files.pdf, "application/pdf"), files.pdf_bytes);
  }
  SECTION("inlineData of a PNG: file not inspected (image_only)") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("genai", "inline-data", base, files.png, "image/png"), "file_not_inspected");
  }
  SECTION("inlineData text/plain holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("genai", "inline-data", base, files.secret_text, "text/plain"), "sensitive_content");
  }
}
