// detect_file_type: each format from real files (LibreOffice, Python's zipfile and email, qpdf),
// text in its charsets and kinds, and bytes that are no format.
#include <catch2/catch.hpp>

#include <string>

#include "extractors/file_type.h"
#include "other_documents_support.h"

using namespace promptwall::extractors;
using promptwall::test::other_document;

namespace {

FileType type_of(std::string_view bytes) { return detect_file_type(bytes).type; }

// A literal's bytes, NULs included.
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

}  // namespace

TEST_CASE("file type: documents made by LibreOffice, qpdf and Python", "[extractors][file_type]") {
  CHECK(type_of(other_document("letter.pdf")) == FileType::pdf);
  CHECK(type_of(other_document("locked.pdf")) == FileType::pdf);
  CHECK(type_of(other_document("letter.rtf")) == FileType::rtf);
  CHECK(type_of(other_document("letter.docx")) == FileType::docx);
  CHECK(type_of(other_document("roster.xlsx")) == FileType::xlsx);
  CHECK(type_of(other_document("slides.pptx")) == FileType::pptx);
  CHECK(type_of(other_document("letter.odt")) == FileType::odt);
  CHECK(type_of(other_document("roster.ods")) == FileType::ods);
  CHECK(type_of(other_document("slides.odp")) == FileType::odp);
  CHECK(type_of(other_document("letter.doc")) == FileType::doc);
  CHECK(type_of(other_document("roster.xls")) == FileType::xls);
  CHECK(type_of(other_document("slides.ppt")) == FileType::ppt);
  CHECK(type_of(other_document("archive.zip")) == FileType::zip);
  CHECK(type_of(other_document("message.eml")) == FileType::eml);
  for (const char* name : {"letter.doc", "roster.xls", "slides.ppt", "letter.docx"})
    CHECK_FALSE(detect_file_type(other_document(name)).encrypted);
}

TEST_CASE("file type: a PDF after junk, a zip cut before its directory, an OLE2 file of no Office kind",
          "[extractors][file_type]") {
  const std::string pdf = other_document("letter.pdf");
  CHECK(type_of(std::string(1000, 'x') + pdf) == FileType::pdf);
  CHECK(type_of(std::string(1100, 'x') + pdf) == FileType::unknown);  // past the 1 KiB readers allow

  const std::string docx = other_document("letter.docx");
  CHECK(type_of(docx.substr(0, docx.size() / 2)) == FileType::zip);  // no directory: the zip reader says why

  // The .doc's compound file with its directory's stream names overwritten: no Office stream left.
  std::string doc = other_document("letter.doc");
  const std::string word = bytes("W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t\0");
  const size_t at = doc.find(word);
  REQUIRE(at != std::string::npos);
  doc.replace(at, 2, std::string("X\0", 2));
  CHECK(type_of(doc) == FileType::unknown);
}

TEST_CASE("file type: an encrypted OOXML package in its OLE2 container", "[extractors][file_type]") {
  // LibreOffice's password-protected docx (tests/data/documents/make_hostile_documents.py).
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/hostile/encrypted.docx", std::ios::binary);
  if (!in.good()) {
    WARN("SKIPPED: tests/data/documents/hostile/encrypted.docx is not there");
    return;
  }
  const std::string data(std::istreambuf_iterator<char>(in), {});
  const DetectedType t = detect_file_type(data);
  CHECK(t.type == FileType::docx);
  CHECK(t.encrypted);
}

TEST_CASE("file type: image signatures", "[extractors][file_type]") {
  CHECK(type_of(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)) == FileType::image);
  CHECK(type_of(std::string("\xFF\xD8\xFF\xE0\0\x10JFIF", 10)) == FileType::image);
  CHECK(type_of("GIF89a\x01\x00") == FileType::image);
  CHECK(type_of(std::string("RIFF\x24\0\0\0WEBPVP8 ", 16)) == FileType::image);
  CHECK(type_of(std::string("II*\0\x08\0\0\0", 8)) == FileType::image);
  CHECK(type_of(std::string("\0\0\0\x18" "ftypheic\0\0\0\0", 16)) == FileType::image);
  CHECK(type_of(std::string("\0\0\0\x1c" "ftypavif\0\0\0\0", 16)) == FileType::image);
  // "BM" opening a sentence is text; a BMP's header names its pixel data inside the file.
  CHECK(type_of("BM is a file format, said Nguyễn Văn An.") == FileType::text);
  std::string bmp("BM", 2);
  bmp += std::string("\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", 16);
  bmp += std::string(40, '\0');
  CHECK(type_of(bmp) == FileType::image);
}

TEST_CASE("file type: e-mail header blocks", "[extractors][file_type]") {
  CHECK(type_of("From: an@example.vn\r\nTo: binh@example.vn\r\nSubject: =?UTF-8?B?VOG7kEkgTeG6rFQ=?=\r\n\r\nbody") ==
        FileType::eml);
  CHECK(type_of("Received: from mx\n  by relay\nDate: Mon, 2 Sep 2024 08:30:00 +0700\nMessage-ID: <1@x>\n\nbody") ==
        FileType::eml);
  // A note that starts like a header but is prose, or has one field only, is text.
  CHECK(type_of("Subject: họp giao ban\nSáng mai 8 giờ họp tại phòng 3.\n") == FileType::text);
  CHECK(type_of("Subject: họp giao ban\n\nSáng mai 8 giờ.\n") == FileType::text);
}

TEST_CASE("file type: text in its charsets, and its kinds", "[extractors][file_type]") {
  CHECK(type_of("TỐI MẬT\nSố: 12/QĐ-UBND\nCCCD 001099012345, mật khẩu Hoa$Sen2024\n") == FileType::text);
  CHECK(type_of("\xEF\xBB\xBFTỐI MẬT\n") == FileType::text);
  // UTF-16LE with its BOM: "<html><p>TỐI MẬT</p></html>".
  std::string utf16("\xFF\xFE", 2);
  for (char16_t c : std::u16string(u"<html><p>TỐI MẬT</p></html>")) {
    utf16 += static_cast<char>(c & 0xFF);
    utf16 += static_cast<char>(c >> 8);
  }
  CHECK(type_of(utf16) == FileType::html);
  // TCVN3 look-alikes as Latin-1 bytes, as a legacy Vietnamese editor saves "TèI MËT, mËt khÈu".
  CHECK(type_of("T\xE8I M\xCBT\nTr\xAD\xEAng h\xEEp: m\xCBt kh\xC8u c\xF1" "a \xAE\xF5n v\xDE l\xE0 001099012345.\n") ==
        FileType::text);
  CHECK(type_of("<!DOCTYPE html>\n<html><body>TỐI MẬT</body></html>") == FileType::html);
  CHECK(type_of("  <HTML lang=\"vi\"><p>x</p></HTML>") == FileType::html);
  CHECK(type_of("<?xml version=\"1.0\"?>\n<hoso><cccd>001099012345</cccd></hoso>") == FileType::xml);
  CHECK(type_of("<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<html></html>") == FileType::html);
  CHECK(type_of("{\"ho_ten\": \"Nguyễn Văn An\", \"cccd\": \"001099012345\"}\n") == FileType::json);
  CHECK(type_of("[{\"cccd\": \"001099012345\"}]") == FileType::json);
  CHECK(type_of("[1, 2, 3]\n") == FileType::json);
  CHECK(type_of("[]") == FileType::json);
  CHECK(type_of("[1] Mở đầu\nNội dung chính [2]") == FileType::text);
  CHECK(type_of("{{ten}} thân mến}") == FileType::text);
}

TEST_CASE("file type: bytes of no format", "[extractors][file_type]") {
  CHECK(type_of("") == FileType::unknown);
  CHECK(type_of(bytes("\x01\x02\x03\x00\x10\x11 binary \xFE\xFF\x00")) == FileType::unknown);
  CHECK(type_of(bytes("TỐI MẬT\0\0\0\x01")) == FileType::unknown);  // NULs are not text
  // An OLE2 signature on a file too short to hold a directory.
  CHECK(type_of(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + std::string(100, '\0')) == FileType::unknown);
}
