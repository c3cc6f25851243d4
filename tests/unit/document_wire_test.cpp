// The wire format between the extraction pool and a worker: a document with every field survives
// the round trip; the decoder refuses whatever a subverted worker might write instead.
#include "extractors/document_wire.h"

#include <catch2/catch.hpp>

#include <cstring>

namespace {

using namespace promptwall::extractors;
using namespace promptwall::extractors::wire;

ExtractedDocument every_field() {
  ExtractedDocument d;
  d.name = "Công văn Số 12/QĐ-UBND.docx";
  d.type = FileType::docx;
  d.size = 48213;
  d.sha256 = std::string(64, 'a');
  d.unscannable = Unscannable::zip_bomb;
  d.detail = "inflated 600 MiB over the 512 MiB limit";
  d.pages = 3;
  d.seconds = 0.25;
  TextPart header;
  header.place = SpanPlace{Place::header, 1, "", "", true};
  header.source = "word/header1.xml";
  header.text = "TỐI MẬT\n";
  d.parts.push_back(header);
  TextPart sheet;
  sheet.place = SpanPlace{Place::sheet, 2, "A1", "lists/q3.xlsx", false};
  sheet.source = "xl/worksheets/sheet2.xml";
  sheet.text = "Số CCCD\tmật khẩu\n001099012345\thunter2\n";
  sheet.anchors.push_back(Anchor{0, SpanPlace{Place::sheet, 2, "A1", "lists/q3.xlsx", true}});
  sheet.anchors.push_back(Anchor{8, SpanPlace{Place::sheet, 2, "B1", "lists/q3.xlsx", false}});
  sheet.anchors.push_back(Anchor{static_cast<uint32_t>(sheet.text.size()), SpanPlace{Place::sheet, 2, "B2", "", false}});
  d.parts.push_back(sheet);
  return d;
}

std::string decode_error(std::string_view frame, AnswerBounds bounds = {}) {
  std::string error;
  const auto d = decode_document(frame, bounds, &error);
  return d ? std::string("decoded") : error;
}

// Offsets into the answer frame of every_field(), found by searching for the encoded fields.
size_t find(const std::string& frame, std::string_view needle) {
  const size_t at = frame.find(needle);
  REQUIRE(at != std::string::npos);
  return at;
}

void put_u32(std::string& frame, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) frame[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

TEST_CASE("wire: a document with every field survives the round trip", "[extractors][wire]") {
  const ExtractedDocument d = every_field();
  std::string error;
  const auto back = decode_document(encode_document(d), {}, &error);
  REQUIRE(back);
  CHECK(error.empty());
  CHECK(back->name == d.name);
  CHECK(back->type == FileType::docx);
  CHECK(back->size == 48213);
  CHECK(back->sha256 == d.sha256);
  CHECK(back->unscannable == Unscannable::zip_bomb);
  CHECK(back->detail == d.detail);
  CHECK(back->pages == 3);
  CHECK(back->seconds == 0.25);
  REQUIRE(back->parts.size() == 2);
  CHECK(back->parts[0].place == d.parts[0].place);
  CHECK(back->parts[0].source == "word/header1.xml");
  CHECK(back->parts[0].text == "TỐI MẬT\n");
  CHECK(back->parts[0].anchors.empty());
  const TextPart& sheet = back->parts[1];
  CHECK(sheet.place == d.parts[1].place);
  CHECK(sheet.text == d.parts[1].text);
  REQUIRE(sheet.anchors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(sheet.anchors[i].offset == d.parts[1].anchors[i].offset);
    CHECK(sheet.anchors[i].place == d.parts[1].anchors[i].place);
  }
  CHECK(sheet.place_at(9).cell == "B1");
}

TEST_CASE("wire: a request carries the limits, the name and the file", "[extractors][wire]") {
  ExtractionRequest q;
  q.limits.max_file_bytes = 1000;
  q.limits.max_text_bytes = 77;
  q.limits.max_entries = 5;
  q.limits.max_inflated_bytes = 9999;
  q.limits.max_ratio = 11;
  q.limits.max_nesting = 2;
  q.limits.time_per_file = std::chrono::milliseconds(1234);
  q.limits.worker_memory_bytes = 256 << 20;
  q.limits.files_per_request = 4;
  q.name = "mật khẩu.txt";
  q.bytes = std::string("TỐI MẬT\0binary", 17);
  std::string error;
  const auto back = decode_request(encode_request(q), 1 << 20, &error);
  REQUIRE(back);
  CHECK(back->limits.max_file_bytes == 1000);
  CHECK(back->limits.max_text_bytes == 77);
  CHECK(back->limits.max_entries == 5);
  CHECK(back->limits.max_inflated_bytes == 9999);
  CHECK(back->limits.max_ratio == 11);
  CHECK(back->limits.max_nesting == 2);
  CHECK(back->limits.time_per_file == std::chrono::milliseconds(1234));
  CHECK(back->limits.worker_memory_bytes == (256u << 20));
  CHECK(back->limits.files_per_request == 4);
  CHECK(back->name == q.name);
  CHECK(back->bytes == q.bytes);

  // A file over the request's own max_file_bytes, or the worker's ceiling, is refused.
  q.bytes = std::string(1001, 'x');
  CHECK_FALSE(decode_request(encode_request(q), 1 << 20, &error));
  CHECK(error == "file longer than its bound");
  q.limits.max_file_bytes = 1 << 20;
  CHECK_FALSE(decode_request(encode_request(q), 1000, &error));
  // And an answer frame is no request.
  CHECK_FALSE(decode_request(encode_document(every_field()), 1 << 20, &error));
  CHECK(error == "not a promptwall extraction frame");
}

TEST_CASE("wire: truncated answers are refused at every length", "[extractors][wire]") {
  const std::string frame = encode_document(every_field());
  for (size_t n = 0; n < frame.size(); ++n) {
    INFO("length " << n);
    CHECK(decode_error(std::string_view(frame).substr(0, n)) != "decoded");
  }
  CHECK(decode_error(frame + "x") == "trailing bytes after the frame");
}

TEST_CASE("wire: a wrong version, magic or reserved field is refused", "[extractors][wire]") {
  std::string frame = encode_document(every_field());
  std::string v2 = frame;
  v2[4] = 2;
  CHECK(decode_error(v2) == "unsupported wire version");
  std::string magic = frame;
  magic[3] = 'Q';
  CHECK(decode_error(magic) == "not a promptwall extraction frame");
  std::string reserved = frame;
  reserved[6] = 1;
  CHECK(decode_error(reserved) == "reserved field set");
}

TEST_CASE("wire: anchors outside their text or out of order are refused", "[extractors][wire]") {
  const std::string text = every_field().parts[1].text;
  ExtractedDocument d = every_field();
  d.parts[1].anchors[2].offset = static_cast<uint32_t>(text.size() + 1);
  CHECK(decode_error(encode_document(d)) == "anchor offset past its text");
  d = every_field();
  d.parts[1].anchors[1].offset = 0xffffffffu;
  CHECK(decode_error(encode_document(d)) == "anchor offset past its text");
  d = every_field();
  d.parts[1].anchors[0].offset = 3;
  CHECK(decode_error(encode_document(d)) == "first anchor not at offset 0");
  d = every_field();
  d.parts[1].anchors[2].offset = 4;
  CHECK(decode_error(encode_document(d)) == "anchors out of order");
}

TEST_CASE("wire: invalid UTF-8 in any string is refused", "[extractors][wire]") {
  for (const char* bad : {"\xff", "T\xe1\xbb", "\xc0\xaf", "\xed\xa0\x80"}) {  // stray, cut, overlong, surrogate
    INFO("bytes " << bad);
    ExtractedDocument d = every_field();
    d.parts[0].text = std::string("TỐI ") + bad + "\n";
    CHECK(decode_error(encode_document(d)) == "text is not valid UTF-8");
    d = every_field();
    d.detail = bad;
    CHECK(decode_error(encode_document(d)) == "detail is not valid UTF-8");
    d = every_field();
    d.parts[1].anchors[1].place.inner = bad;
    CHECK(decode_error(encode_document(d)) == "inner path is not valid UTF-8");
  }
}

TEST_CASE("wire: counts, sizes and enums over their bounds are refused", "[extractors][wire]") {
  const std::string frame = encode_document(every_field());
  // The parts count sits just before the first part's place (u8 header=1, page 1).
  const size_t parts_at = find(frame, std::string("\x02\x00\x00\x00\x01\x01\x00\x00\x00", 9));
  std::string many = frame;
  put_u32(many, parts_at, 0x7fffffff);
  CHECK(decode_error(many) == "parts count exceeds the payload");

  const std::string text = every_field().parts[1].text;
  std::string anchors = frame;
  put_u32(anchors, find(frame, text) + text.size(), 0xffffffffu);
  CHECK(decode_error(anchors) == "anchors count exceeds the payload");

  std::string long_text = frame;
  put_u32(long_text, find(frame, text) - 4, 0xfffffff0u);
  CHECK(decode_error(long_text) == "text longer than its bound");

  // Text across all parts within max_text_bytes: the two parts hold 10 + 45 bytes.
  CHECK(decode_error(frame, AnswerBounds{every_field().parts[0].text.size() + text.size(), 64}) == "decoded");
  CHECK(decode_error(frame, AnswerBounds{every_field().parts[0].text.size() + text.size() - 1, 64}) ==
        "text longer than its bound");

  ExtractedDocument d = every_field();
  d.type = static_cast<FileType>(200);
  CHECK(decode_error(encode_document(d)) == "file type out of range");
  d = every_field();
  d.unscannable = static_cast<Unscannable>(99);
  CHECK(decode_error(encode_document(d)) == "unscannable cause out of range");
  d = every_field();
  d.parts[0].place.place = static_cast<Place>(50);
  CHECK(decode_error(encode_document(d)) == "place out of range");
  d = every_field();
  d.seconds = -1;
  CHECK(decode_error(encode_document(d)) == "seconds is not a finite non-negative number");
  d = every_field();
  d.sha256 = "ABC";
  CHECK(decode_error(encode_document(d)) == "sha256 is not 64 lower-case hex digits");
  d = every_field();
  d.parts[0].text.clear();
  CHECK(decode_error(encode_document(d)) == "empty part");
  d = every_field();
  d.detail = std::string(70000, 'x');
  CHECK(decode_error(encode_document(d)) == "detail longer than its bound");

  // A bool other than 0/1.
  std::string prominent = frame;
  const size_t header_place = parts_at + 4;  // place u8, page u32, cell "", inner "", prominent
  REQUIRE(prominent[header_place + 1 + 4 + 4 + 4] == 1);
  prominent[header_place + 1 + 4 + 4 + 4] = 7;
  CHECK(decode_error(prominent) == "prominent is not 0 or 1");

  // A frame header claiming more than the bound is refused before anything is read or held.
  std::string huge = frame.substr(0, kFrameHeaderBytes);
  for (int i = 8; i < 16; ++i) huge[i] = '\xff';
  std::string error;
  CHECK_FALSE(decode_frame_header(huge, FrameKind::answer, max_answer_frame_bytes({}), &error));
  CHECK(error == "payload longer than its bound");
}
