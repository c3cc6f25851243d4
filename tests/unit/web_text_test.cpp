// encoding/web_text.h: the escaping and form encodings the refusal page, the review site and the
// gateway's form bodies share.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "encoding/web_text.h"

using namespace promptwall::encoding;

TEST_CASE("html_escape escapes the five characters markup and attributes care about", "[web_text]") {
  CHECK(html_escape("") == "");
  CHECK(html_escape("Xin chào") == "Xin chào");
  CHECK(html_escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  CHECK(html_escape("a & b \"c\"") == "a &amp; b &quot;c&quot;");
  // Already-escaped text is escaped again: the input is text, never markup.
  CHECK(html_escape("&amp;") == "&amp;amp;");
}

TEST_CASE("hex_digit_value", "[web_text]") {
  CHECK(hex_digit_value('0') == 0);
  CHECK(hex_digit_value('9') == 9);
  CHECK(hex_digit_value('a') == 10);
  CHECK(hex_digit_value('F') == 15);
  CHECK(hex_digit_value('g') == -1);
  CHECK(hex_digit_value('%') == -1);
}

TEST_CASE("percent_encode keeps only the unreserved characters", "[web_text]") {
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
  CHECK(percent_encode("đ") == "%C4%91");
  CHECK(percent_encode("+*") == "%2B%2A");
}

TEST_CASE("form_encode is the WHATWG serializer", "[web_text]") {
  CHECK(form_encode("Xin chào & a=b+c%") == "Xin+ch%C3%A0o+%26+a%3Db%2Bc%25");
  CHECK(form_encode("A-z_0.9*~") == "A-z_0.9*%7E");
}

TEST_CASE("form_decode: '+' is a space, %XX a byte, a malformed escape stays", "[web_text]") {
  CHECK(form_decode("Xin+ch%C3%A0o+%26+a%3Db%2bc%25") == "Xin chào & a=b+c%");
  CHECK(form_decode("100%") == "100%");
  CHECK(form_decode("%4") == "%4");
  CHECK(form_decode("%zz%41") == "%zzA");
  CHECK(form_decode("%%41") == "%A");
  CHECK(form_decode("") == "");
  for (const std::string& s : std::vector<std::string>{"", "a b", "&=+%", "Tài liệu MẬT\n\t\"x\"", std::string("\0\xff", 2)})
    CHECK(form_decode(form_encode(s)) == s);
}

TEST_CASE("form_decode maps each decoded byte back to the escape it came from", "[web_text]") {
  std::vector<size_t> at;
  const std::string text = "a+%41%zz";
  CHECK(form_decode(text, &at) == "a A%zz");
  CHECK(at == std::vector<size_t>{0, 1, 2, 5, 6, 7, 8});
  // A decoded range [b, e) is the source range [at[b], at[e]).
  CHECK(text.substr(at[2], at[3] - at[2]) == "%41");
  CHECK(form_decode("", &at).empty());
  CHECK(at == std::vector<size_t>{0});
}
