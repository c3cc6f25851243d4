// read_mime_message: a message written by Python's email package (encoded-word headers, a
// quoted-printable alternative, a docx attachment named by RFC 2231), and small messages for
// each rule of the MIME structure: charsets, nesting, cut-off multiparts, counts.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "extractors/mime_message_reader.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;
using promptwall::test::RecordingContext;
using promptwall::test::run_reader;
using promptwall::test::text_at;

namespace {

using Read = promptwall::test::ReaderRun;

Read read(std::string_view bytes, RecordingContext& rc) {
  return run_reader(rc.limits.max_text_bytes, [&](TextCollector& out) { return read_mime_message(bytes, out, rc.ctx); });
}

std::string multipart(const std::string& boundary, const std::vector<std::string>& parts, bool close = true) {
  std::string s = "This is a multi-part message in MIME format.\r\n";
  for (const auto& p : parts) s += "--" + boundary + "\r\n" + p + "\r\n";
  if (close) s += "--" + boundary + "--\r\nepilogue\r\n";
  return s;
}

}  // namespace

TEST_CASE("e-mail: Python's message, headers decoded, both alternatives, the attachment handed back", "[extractors][eml]") {
  RecordingContext rc;
  const Read r = read(other_document("message.eml"), rc);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 3);
  const TextPart& headers = r.parts[0];
  CHECK(headers.place.place == Place::email_header);
  CHECK(headers.text ==
        "Subject: Gửi mật khẩu hệ thống - TỐI MẬT\n"
        "From: Nguyễn Văn An <an.nguyen@ubnd.example.vn>\n"
        "To: Trần Thị Bình <binh.tran@ubnd.example.vn>\n"
        "Cc: van.thu@ubnd.example.vn\n"
        "Date: Mon, 02 Sep 2024 08:30:00 +0700\n");
  CHECK(headers.place_at(0).prominent);
  CHECK_FALSE(headers.place_at(headers.text.find("From:")).prominent);

  CHECK(r.parts[1].place.place == Place::body);
  CHECK(r.parts[1].source == "text/plain");
  CHECK(r.parts[1].text == "Chào chị Bình,\nMật khẩu mới của hệ thống là Hoa$Sen2024.\nSố CCCD của tôi: 001099012345.\n");
  CHECK(r.parts[2].source == "text/html");
  CHECK(r.parts[2].text == "Chào chị Bình,\nMật khẩu mới: Hoa$Sen2024\n");

  REQUIRE(rc.inner.size() == 1);
  CHECK(rc.inner[0].name == "danh sách.docx");
  CHECK(rc.inner[0].bytes.substr(0, 4) == std::string("PK\x03\x04", 4));
  CHECK(rc.inner[0].bytes.find("word/document.xml") != std::string::npos);
}

TEST_CASE("e-mail: encoded-words (B and Q, adjacent, split characters, unknown)", "[extractors][eml]") {
  RecordingContext rc;
  const Read r = read(
      "From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_An?= <an@example.vn>\r\n"
      "To: =?utf-8?B?VOG7kEkg?= =?utf-8?B?TeG6rFQ=?= <x@example.vn>\r\n"  // adjacent: the space between is dropped
      "Subject: =?utf-8?q?T=E1=BB?= =?utf-8?q?=90I_M=E1=BA=ACT?= and =?x-unknown?q?caf=E9?= =?utf-8?X?bad?= =?broken\r\n"
      "Reply-To: =?windows-1258?q?M=E2=F2t?= <r@example.vn>\r\n"
      "\r\nbody\r\n",
      rc);
  REQUIRE(r.outcome.good());
  const std::string h = text_at(r.parts, Place::email_header);
  CHECK(h == "Subject: TỐI MẬT and café =?utf-8?X?bad?= =?broken\n"
             "From: Nguyễn Văn An <an@example.vn>\n"
             "To: TỐI MẬT <x@example.vn>\n"
             "Reply-To: M\xC3\xA2\xCC\xA3t <r@example.vn>\n");
  CHECK(text_at(r.parts, Place::body) == "body\n");
}

TEST_CASE("e-mail: transfer encodings and charsets of text parts", "[extractors][eml]") {
  RecordingContext rc;
  const std::string msg =
      "From: a@example.vn\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
      multipart("b1", {"Content-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                       "M=E2=F2t kh=E2=D2u: Sen=3D2024 d=E0i=\r\n d=F4ng",
                       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                       "VOG7kEkgTeG6rFQKU+G7kTogMTIvUcSQLVVCTkQ=",
                       "Content-Type: text/html; charset=utf-8\r\n\r\n<p>CCCD&nbsp;<b>001099012345</b></p>"});
  const Read r = read(msg, rc);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() == 4);
  // windows-1258 keeps its tone marks as combining characters; the classifiers normalise to NFC.
  CHECK(r.parts[1].text == "M\xC3\xA2\xCC\xA3t kh\xC3\xA2\xCC\x89u: Sen=2024 d\xC3\xA0i d\xC3\xB4ng\n");
  CHECK(r.parts[2].text == "TỐI MẬT\nSố: 12/QĐ-UBND\n");
  CHECK(r.parts[3].text == "CCCD\xC2\xA0" "001099012345\n");
  CHECK(rc.inner.empty());
}

TEST_CASE("e-mail: attachments and attached messages go to read_inner by name", "[extractors][eml]") {
  RecordingContext rc;
  const std::string msg =
      "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
      multipart("b", {"Content-Type: text/plain\r\n\r\nxem tệp",
                      "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=\"ghi chu.txt\"\r\n\r\nmật khẩu",
                      "Content-Type: application/octet-stream;\r\n name*0*=utf-8''T%E1%BB%90I;\r\n name*1*=%20M%E1%BA%ACT.bin\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\nAAEC",
                      "Content-Type: message/rfc822\r\n\r\nFrom: b@example.vn\r\nSubject: chuyển tiếp\r\n\r\nnội dung",
                      "Content-Type: image/png\r\nContent-Disposition: inline\r\n\r\n\x89PNG"});
  const Read r = read(msg, rc);
  REQUIRE(r.outcome.good());
  CHECK(text_at(r.parts, Place::body) == "xem tệp\n");
  REQUIRE(rc.inner.size() == 4);
  CHECK(rc.inner[0].name == "ghi chu.txt");
  CHECK(rc.inner[0].bytes == "mật khẩu");
  CHECK(rc.inner[1].name == "TỐI MẬT.bin");
  CHECK(rc.inner[1].bytes == std::string("\x00\x01\x02", 3));
  CHECK(rc.inner[2].name == "message-3.eml");
  CHECK(rc.inner[2].bytes == "From: b@example.vn\r\nSubject: chuyển tiếp\r\n\r\nnội dung");
  CHECK(rc.inner[3].name == "attachment-4");

  // The first attachment that cannot be read stops the message with its cause.
  RecordingContext failing;
  failing.answer = ReadOutcome::stop(Unscannable::encrypted, "inner");
  const Read f = read(msg, failing);
  CHECK(f.outcome.cause == Unscannable::encrypted);
  CHECK(failing.inner.size() == 1);
}

TEST_CASE("e-mail: a cut-off multipart is truncated after what it held, a missing boundary too", "[extractors][eml]") {
  RecordingContext rc;
  const Read cut = read("Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
                            multipart("b", {"\r\nphần một", "\r\nphần hai bị cắt"}, false),
                        rc);
  CHECK(cut.outcome.cause == Unscannable::truncated);
  CHECK(cut.outcome.detail == "multipart without its closing boundary");
  CHECK(text_at(cut.parts, Place::body) == "phần một\nphần hai bị cắt\n");

  const Read none = read("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ntext\r\n--x--\r\n", rc);
  CHECK(none.outcome.cause == Unscannable::truncated);
  // A boundary that only starts a longer line is not a delimiter.
  const Read lookalike = read("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nmột\r\n--bb\r\nhai\r\n--b--\r\n", rc);
  REQUIRE(lookalike.outcome.good());
  CHECK(text_at(lookalike.parts, Place::body) == "một\n--bb\nhai\n");
}

TEST_CASE("e-mail: nesting and part counts are bounded", "[extractors][eml]") {
  RecordingContext rc;
  std::string deep = "\r\nđáy";
  for (int i = 0; i < 40; ++i) {
    std::string b = "b";
    b += std::to_string(i);
    // (appends, not chains of operator+: GCC 12's -Wrestrict misjudges those at -O3)
    std::string wrapped = "Content-Type: multipart/mixed; boundary=";
    wrapped.append(b).append("\r\n\r\n--").append(b).append("\r\n").append(deep).append("\r\n--").append(b).append("--\r\n");
    deep = std::move(wrapped);
  }
  const Read d = read(deep, rc);
  CHECK(d.outcome.cause == Unscannable::too_deep);

  std::vector<std::string> many(kMimeMaxParts + 5, "\r\nx");
  const Read m = read("Content-Type: multipart/mixed; boundary=b\r\n\r\n" + multipart("b", many), rc);
  CHECK(m.outcome.cause == Unscannable::too_many_entries);

  // Nothing but bytes: read as a text body, never a crash.
  CHECK(read("", rc).outcome.good());
  CHECK(read("no headers at all", rc).outcome.good());
}
