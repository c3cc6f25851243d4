// Files inside JSON, sent by the official SDKs as applications send them (sdk_file_client.js):
// a file the gateway cannot read (a PDF, an image) is refused as "file not inspected"; a text file
// is decoded and scanned like any text, so one holding a classification marking is refused as
// sensitive. Either way the SDK raises a 403 whose message a person reads in Vietnamese and
// English, the audit trail records the reason, and the fake upstream receives nothing (issue 12).
#include "expectations.h"

using namespace promptwall::e2e;

namespace {

struct Files {
  TempDir dir;
  fs::path pdf, png, secret_text;
  Files() {
    pdf = dir.path() / "bao-cao.pdf";
    png = dir.path() / "anh.png";
    secret_text = dir.path() / "bien-ban.txt";
    // A small but well-formed PDF: header, one page, a text stream, xref-less trailer.
    write_text(pdf,
               "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
               "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>endobj\n"
               "4 0 obj<</Length 44>>stream\nBT /F1 12 Tf 20 100 Td (Bao cao quy) Tj ET\nendstream endobj\n"
               "trailer<</Root 1 0 R>>\n%%EOF\n");
    // A 1×1 PNG.
    auto png_bytes = run_command({"base64", "-d"},
                                 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=");
    if (png_bytes.exit_code != 0) throw std::runtime_error("base64 -d failed");
    write_text(png, png_bytes.out);
    write_text(secret_text, std::string("Biên bản họp tổ\n") + kSecretLine + "\nNội dung: kế hoạch quý.\n");
  }
};

json sdk_file(const std::string& sdk, const std::string& shape, const std::string& base_url, const fs::path& file,
              const std::string& mime) {
  return run_node("sdk_file_client.js",
                  {"--sdk", sdk, "--shape", shape, "--base-url", base_url, "--file", file.string(), "--mime", mime});
}

// The SDK raised a 403 in Vietnamese and English, the trail holds the reason, nothing left.
void check_refused(const GatewayFixture& gw, const GatewayFixture::Mark& m, const json& r, const std::string& reason) {
  INFO("client: " << r.dump());
  CHECK(r.value("ok", true) == false);
  CHECK(r.value("status", json()) == 403);
  const std::string message = r.value("message", "");
  if (reason == "file_not_inspected") {
    CHECK(contains(message, "tệp"));             // the Vietnamese text: "a file"
    CHECK(contains(message, "chưa kiểm tra"));   // "not checked yet"
    CHECK(contains(message, "carries a file"));  // the English text
    CHECK(contains(message, "cannot check"));
  } else {
    check_refusal_message(message, "vn.secret.", "TUYỆT MẬT");
  }
  check_nothing_forwarded(gw, m);
  auto d = gw.decisions_since(m);
  INFO("decisions: " << json(d).dump());
  REQUIRE(d.size() == 1);
  CHECK(d[0].value("reason", "") == reason);
  CHECK(d[0].value("forwarded", true) == false);
}

}  // namespace

TEST_CASE("openai SDK: files in chat and Responses are refused unless read, and then scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  SECTION("chat `file` part, file_data a base64 PDF: file not inspected") {
    auto m = gw.mark();
    auto r = sdk_file("openai", "chat-file", gw.openai_base(), files.pdf, "application/pdf");
    check_refused(gw, m, r, "file_not_inspected");
    CHECK(r.value("code", "") == "promptwall_file_not_inspected");
  }
  SECTION("chat `file` part, file_data a text file holding a marking: decoded, scanned, refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "chat-file", gw.openai_base(), files.secret_text, "text/plain"), "sensitive_content");
  }
  SECTION("chat `image_url` data URL of a PNG: file not inspected") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "chat-image", gw.openai_base(), files.png, "image/png"), "file_not_inspected");
  }
  SECTION("Responses `input_file` with a PDF: file not inspected") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "responses-file", gw.openai_base(), files.pdf, "application/pdf"), "file_not_inspected");
  }
  SECTION("Responses `input_file` with a text file holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("openai", "responses-file", gw.openai_base(), files.secret_text, "text/plain"),
                  "sensitive_content");
  }
}

TEST_CASE("anthropic SDK: documents and images are refused unless read, and then scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  const auto base = gw.url("/anthropic");
  SECTION("document with a text source holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("anthropic", "document-text", base, files.secret_text, "text/plain"), "sensitive_content");
  }
  SECTION("document with a base64 PDF source: file not inspected") {
    auto m = gw.mark();
    auto r = sdk_file("anthropic", "document-base64", base, files.pdf, "application/pdf");
    check_refused(gw, m, r, "file_not_inspected");
    CHECK(r.value("code", "") == "permission_error");
  }
  SECTION("image with a base64 PNG source: file not inspected") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("anthropic", "image", base, files.png, "image/png"), "file_not_inspected");
  }
}

TEST_CASE("google genai SDK: inlineData is refused unless read, and then scanned", "[e2e][files]") {
  auto& gw = shared_gateway();
  INFO(gw.where_to_look());
  Files files;
  const auto base = gw.url("/gemini");
  SECTION("inlineData of a PDF: file not inspected") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("genai", "inline-data", base, files.pdf, "application/pdf"), "file_not_inspected");
  }
  SECTION("inlineData text/plain holding a marking: refused as sensitive") {
    auto m = gw.mark();
    check_refused(gw, m, sdk_file("genai", "inline-data", base, files.secret_text, "text/plain"), "sensitive_content");
  }
}
