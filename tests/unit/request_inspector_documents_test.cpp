// RequestInspector with files (issue 13): a file a request carries is read (here in process, by
// extractors::DocumentExtractor, as the sandboxed worker reads it) and each part of its text is
// scanned; a finding refuses naming the file and its place; an unscannable file follows its
// cause's policy; the decision records every file (type, size, SHA-256, cause, policy), never text.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gateway/adapters/block_response.h"
#include "gateway/adapters/request_inspector.h"
#include "document_inspection_support.h"

namespace promptwall::gateway {
namespace {

std::string fixture(const std::string& name) { return test::document_fixture("requests", name); }

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(n >> k) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

using Setup = test::DocumentInspection;
using test::upload_form;

}  // namespace

TEST_CASE("a stamped docx uploaded as a file part is refused naming the file and the page header", "[inspector][documents]") {
  Setup s;
  const std::string docx = fixture("report-stamped.docx");
  const Inspection in = s.inspect(upload_form("bao-cao-quy-3.docx", "application/octet-stream", docx),
                                  "multipart/form-data; boundary=XyZ", "/v1/files");
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  REQUIRE(in.refusal);
  CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
  CHECK(in.refusal->file_name == "bao-cao-quy-3.docx");
  CHECK(in.refusal->file_place_en == "page header");
  CHECK(in.refusal->file_place_vi == "đầu trang");
  const std::string message = refusal_message(*in.refusal);
  CHECK(message.find("trong tệp \"bao-cao-quy-3.docx\" (đầu trang)") != std::string::npos);
  CHECK(message.find("in the file \"bao-cao-quy-3.docx\" (page header)") != std::string::npos);
  CHECK(message.find("TỐI MẬT") == std::string::npos);  // never the text

  REQUIRE(in.files.size() == 1);
  const InspectedFile& f = in.files[0];
  CHECK(f.type == "docx");
  CHECK(f.size == docx.size());
  CHECK(f.sha256.size() == 64);
  CHECK(f.unscannable == extractors::Unscannable::none);
  CHECK(f.findings >= 2);  // the stamp and the CCCD in the table
  // Findings are located to the place in the file.
  bool header = false, table = false;
  for (const auto& lf : in.findings) {
    if (lf.finding.rule_id == "vn.secret.degree-stamp") header = header || lf.location == "file bao-cao-quy-3.docx: page header";
    if (lf.finding.rule_id == "vn.pii.cccd") table = table || lf.location.starts_with("file bao-cao-quy-3.docx: table");
  }
  CHECK(header);
  CHECK(table);
}

TEST_CASE("files in JSON (OpenAI file_data, Anthropic base64 document) are read like uploads", "[inspector][documents]") {
  Setup s;
  const std::string pdf = fixture("report-stamped.pdf");
  const std::string openai = R"({"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Tóm tắt"},)"
                             R"({"type":"file","file":{"filename":"bc.pdf","file_data":"data:application/pdf;base64,)" +
                             base64(pdf) + R"("}}]}]})";
  Inspection in = s.inspect(openai, "application/json");
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
  CHECK(in.refusal->file_name == "bc.pdf");
  CHECK(in.refusal->file_place_en == "page 1");
  REQUIRE(in.files.size() == 1);
  CHECK(in.files[0].type == "pdf");
  CHECK(in.files[0].location == "messages[0].content[1].file.file_data");

  s.service.schema = Schema::anthropic;
  const std::string clean = fixture("report-clean.docx");
  const std::string anthropic = R"({"model":"claude","max_tokens":10,"messages":[{"role":"user","content":[)"
                                R"({"type":"document","source":{"type":"base64","media_type":"application/vnd.openxmlformats-officedocument.wordprocessingml.document","data":")" +
                                base64(clean) + R"("}},{"type":"text","text":"Tóm tắt"}]}]})";
  in = s.inspect(anthropic, "application/json", "/v1/messages");
  CHECK(in.outcome == Inspection::Outcome::forward);
  REQUIRE(in.files.size() == 1);
  CHECK(in.files[0].type == "docx");
  CHECK(in.files[0].findings == 0);
}

TEST_CASE("a number-typed CCCD in a sheet is found in its cell", "[inspector][documents]") {
  Setup s;
  const Inspection in = s.inspect(fixture("staff-list.xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                  "/v1/uploads/upload_abc/parts");
  // vn.pii.cccd redacts in text; in a file nothing is rewritten, so it blocks.
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  CHECK(in.refusal->reason == Refusal::Reason::sensitive_content);
  CHECK(in.refusal->file_name == "file 1");  // a raw body names no file
  std::vector<std::string> places;
  for (const auto& lf : in.findings)
    if (lf.finding.rule_id == "vn.pii.cccd") places.push_back(lf.location);
  CHECK(std::find(places.begin(), places.end(), "file file 1: sheet 1, cell C2") != places.end());
  CHECK(std::find(places.begin(), places.end(), "file file 1: sheet 1, cell C3") != places.end());  // 001099012345
}

TEST_CASE("an unscannable file follows its cause's policy: block names the cause, warn and allow forward", "[inspector][documents]") {
  Setup s;
  const std::string pdf = fixture("report-stamped.pdf");
  const std::string truncated = pdf.substr(0, pdf.size() / 3);
  const std::string body = upload_form("cut.pdf", "application/pdf", truncated);
  Inspection in = s.inspect(body, "multipart/form-data; boundary=XyZ", "/v1/files");
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  CHECK(in.refusal->reason == Refusal::Reason::file_not_inspected);
  CHECK(in.refusal->file_name == "cut.pdf");
  CHECK(in.refusal->file_cause_en == extractors::describe_en(in.files[0].unscannable));
  CHECK(in.files[0].unscannable != extractors::Unscannable::none);
  CHECK(in.files[0].policy == FilePolicy::block);

  s.service.unscannable[std::string(extractors::to_string(in.files[0].unscannable))] = FilePolicy::warn;
  in = s.inspect(body, "multipart/form-data; boundary=XyZ", "/v1/files");
  CHECK(in.outcome == Inspection::Outcome::forward);
  CHECK(in.decision.verdict == Verdict::warn);
  CHECK(in.files[0].policy == FilePolicy::warn);
  CHECK(in.note.find("not read completely") != std::string::npos);

  s.service.unscannable.clear();
  s.service.files = FilePolicy::allow;  // the default for every cause not named
  in = s.inspect(body, "multipart/form-data; boundary=XyZ", "/v1/files");
  CHECK(in.outcome == Inspection::Outcome::forward);
  CHECK(in.decision.verdict == Verdict::allow);
}

TEST_CASE("a clean docx passes and more files than files_per_request are refused", "[inspector][documents]") {
  Setup s;
  const std::string clean = fixture("report-clean.docx");
  Inspection in = s.inspect(upload_form("bien-ban.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", clean),
                            "multipart/form-data; boundary=XyZ", "/v1/files");
  CHECK(in.outcome == Inspection::Outcome::forward);
  REQUIRE(in.files.size() == 1);
  CHECK(in.files[0].unscannable == extractors::Unscannable::none);

  std::string many;
  for (int i = 0; i < 5; ++i)
    many += "--XyZ\r\nContent-Disposition: form-data; name=\"f" + std::to_string(i) + "\"; filename=\"n" +
            std::to_string(i) + ".txt\"\r\nContent-Type: text/plain\r\n\r\nghi chú\r\n";
  many += "--XyZ--\r\n";
  in = s.inspect(many, "multipart/form-data; boundary=XyZ", "/v1/files");
  REQUIRE(in.outcome == Inspection::Outcome::refuse);
  CHECK(in.refusal->reason == Refusal::Reason::file_not_inspected);
  REQUIRE(in.files.size() == 5);
  CHECK(in.files[4].unscannable == extractors::Unscannable::too_many_entries);
  CHECK(in.files[0].unscannable == extractors::Unscannable::none);
}

}  // namespace promptwall::gateway
