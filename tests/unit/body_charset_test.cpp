// BodyCharset (gateway/adapters/body_charset.h): which charset a body is in, and its text as UTF-8,
// strictly: anything that is not a character of the charset is an error, never a replacement.
#include <catch2/catch.hpp>

#include <string>

#include "gateway/adapters/body_charset.h"

using promptwall::gateway::BodyCharset;

TEST_CASE("the charset: a byte order mark, then the charset parameter, then UTF-8", "[body_charset]") {
  CHECK(BodyCharset::of("", "{}").name() == "utf-8");
  CHECK(BodyCharset::of("application/json", "{}").is_utf8());
  CHECK(BodyCharset::of("text/plain; charset=US-ASCII", "x").is_utf8());
  CHECK(BodyCharset::of("text/plain;charset=\"UTF8\"", "x").is_utf8());
  CHECK(BodyCharset::of("text/plain; format=flowed; Charset=Windows-1258", "x").name() == "windows-1258");
  // A byte order mark wins over the label.
  const BodyCharset le = BodyCharset::of("application/json; charset=utf-8", "\xFF\xFE{\0");
  CHECK(le.name() == "utf-16le");
  CHECK(le.bom_size() == 2);
  CHECK(BodyCharset::of("", "\xFE\xFF\0{").name() == "utf-16be");
  CHECK(BodyCharset::of("", std::string("\xFF\xFE\0\0{\0\0\0", 8)).name() == "utf-32le");
  CHECK(BodyCharset::of("", std::string("\0\0\xFE\xFF", 4)).name() == "utf-32be");
  const BodyCharset utf8_bom = BodyCharset::of("text/plain; charset=latin1", "\xEF\xBB\xBFx");
  CHECK(utf8_bom.is_utf8());
  CHECK(utf8_bom.bom_size() == 3);
}

TEST_CASE("to_utf8: decoded exactly, or an error naming the charset and the byte", "[body_charset]") {
  const auto utf16 = BodyCharset::of("", std::string("\xFF\xFE" "T\0\xAC\x1E" "T\0", 8)).to_utf8(std::string("\xFF\xFE" "T\0\xAC\x1E" "T\0", 8));
  REQUIRE(utf16.ok);
  CHECK(utf16.utf8 == "TẬT");  // BOM dropped
  const auto cp1252 = BodyCharset::of("text/plain; charset=windows-1252", "").to_utf8("caf\xe9");
  REQUIRE(cp1252.ok);
  CHECK(cp1252.utf8 == "café");
  // A lone surrogate, a truncated code unit, an unknown name, a lenient suffix, bad UTF-8.
  const auto lone = BodyCharset::of("", std::string("\xFF\xFE\x00\xD8\x41\x00", 6)).to_utf8(std::string("\xFF\xFE\x00\xD8\x41\x00", 6));
  CHECK_FALSE(lone.ok);
  CHECK(lone.error == "bytes invalid in utf-16le at byte 2");
  CHECK_FALSE(BodyCharset::of("", std::string("\xFF\xFE\x41\x00\x42", 5)).to_utf8(std::string("\xFF\xFE\x41\x00\x42", 5)).ok);
  CHECK(BodyCharset::of("text/plain; charset=x-nope", "").to_utf8("a").error == "unknown charset x-nope");
  CHECK_FALSE(BodyCharset::of("text/plain; charset=latin1//TRANSLIT", "").to_utf8("a").ok);
  CHECK_FALSE(BodyCharset::of("text/plain; charset=utf-8", "").to_utf8("caf\xe9").ok);
  // windows-1258's combining marks are flushed at the end: "MẬ" ends in a mark.
  const auto vn = BodyCharset::of("text/plain; charset=windows-1258", "").to_utf8("M\xC2\xF2");
  REQUIRE(vn.ok);
  CHECK(vn.utf8 == "MẬ");
}
