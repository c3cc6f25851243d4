// parse_multipart_form (gateway/adapters/multipart_form.h): the parts of a strict
// multipart/form-data body, and everything a lenient reader might split differently refused.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/adapters/multipart_form.h"

using promptwall::gateway::MultipartForm;
using promptwall::gateway::MultipartKind;
using promptwall::gateway::parse_multipart_form;

namespace {
const std::string kType = "multipart/form-data; boundary=XyZ";
std::string content(const std::string& body, const promptwall::gateway::MultipartPart& p) {
  return body.substr(p.content_begin, p.content_end - p.content_begin);
}
}  // namespace

TEST_CASE("multipart/form-data: names, filenames, types and contents", "[multipart]") {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
      "--XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"b\\\"c.pdf\"\r\nContent-Type: Application/PDF\r\n\r\n%PDF-1.7\r\n\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=note\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nline 1\r\nline 2\r\n"
      "--XyZ--\r\n";
  const MultipartForm f = parse_multipart_form(kType, body);
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.parts.size() == 3);
  CHECK(f.parts[0].name == "purpose");
  CHECK_FALSE(f.parts[0].filename);
  CHECK(content(body, f.parts[0]) == "assistants");
  CHECK(f.parts[1].filename == "b\"c.pdf");
  CHECK(f.parts[1].content_type == "application/pdf");
  CHECK(content(body, f.parts[1]) == "%PDF-1.7\r\n");  // a CRLF inside the content stays
  CHECK(f.parts[2].name == "note");
  CHECK(f.parts[2].charset == "utf-8");
  CHECK(content(body, f.parts[2]) == "line 1\r\nline 2");
  // A quoted boundary, no final CRLF.
  CHECK(parse_multipart_form("multipart/form-data; boundary=\"a b\"",
                             "--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--a b--").ok);
}

TEST_CASE("multipart/form-data: what could be read two ways is refused", "[multipart]") {
  const std::string part = "Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
  for (const auto& [type, body] : std::initializer_list<std::pair<std::string, std::string>>{
           {"multipart/form-data", "--XyZ\r\n" + part + "--XyZ--"},                       // no boundary
           {"multipart/form-data; boundary=" + std::string(71, 'b'), "--" + std::string(71, 'b')},
           {kType, "preamble\r\n--XyZ\r\n" + part + "--XyZ--"},                           // a preamble
           {kType, "--XyZ\r\n" + part + "--XyZ--\r\nepilogue"},                           // an epilogue
           {kType, "--XyZ\r\n" + part},                                                   // never closed
           {kType, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--"},         // no name
           {kType, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--"},
           {kType, "--XyZ\r\nX-Broken\r\n" + part + "--XyZ--"},                           // header without ':'
           {kType, "--XyZ\r\nContent-Transfer-Encoding: base64\r\n" + part + "--XyZ--"},  // hidden text
           {kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--"},  // unclosed quote
           {kType, "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--XyZ--"},
       }) {
    INFO(body);
    const MultipartForm f = parse_multipart_form(type, body);
    CHECK_FALSE(f.ok);
    CHECK_FALSE(f.error.empty());
  }
}

TEST_CASE("multipart/related (Google's multipart upload): parts need no Content-Disposition", "[multipart]") {
  const std::string body =
      "--bnd\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"file\":{\"displayName\":\"bc.docx\"}}\r\n"
      "--bnd\r\nContent-Type: application/octet-stream\r\n\r\nPK\x03\x04 bytes\r\n--bnd--\r\n";
  const MultipartForm f = parse_multipart_form("multipart/related; boundary=bnd", body, MultipartKind::related);
  REQUIRE(f.ok);
  REQUIRE(f.parts.size() == 2);
  CHECK(f.parts[0].name.empty());
  CHECK(f.parts[0].content_type == "application/json");
  CHECK(f.parts[1].content_type == "application/octet-stream");
  // The same body as form-data is refused: its parts have no name.
  CHECK_FALSE(parse_multipart_form("multipart/form-data; boundary=bnd", body).ok);
  // Framing stays strict in related mode.
  CHECK_FALSE(parse_multipart_form("multipart/related; boundary=bnd", "pre\r\n" + body, MultipartKind::related).ok);
}
