// The coverage test's generator (tests/e2e/json_positions.h): every body is strict JSON holding the
// text exactly once at its position, in the spelling asked for, and no position is missed or
// repeated. The e2e coverage test's verdicts are only as good as these variants.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../e2e/json_positions.h"

using namespace promptwall::e2e;

namespace {

const std::string kStamp = "TUYỆT MẬT";
const std::vector<Spelling> kEvery(std::begin(kAllSpellings), std::end(kAllSpellings));

// Every string and key the document holds, JSON inside strings decoded.
void texts_of(const OrderedJson& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    // A string holding JSON counts by what it decodes to (its raw text holds the same letters).
    auto inner = OrderedJson::parse(v.get<std::string>(), nullptr, false);
    if (!inner.is_discarded() && inner.is_structured()) texts_of(inner, out);
    else if (auto file = decode_data_url(v.get<std::string>())) out.push_back(*file);
    else out.push_back(v.get<std::string>());
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out.push_back(key);
      texts_of(value, out);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) texts_of(item, out);
  }
}

size_t occurrences(const OrderedJson& doc, const std::string& text) {
  std::vector<std::string> texts;
  texts_of(doc, texts);
  size_t n = 0;
  for (const auto& t : texts)
    for (size_t at = 0; (at = t.find(text, at)) != std::string::npos; at += text.size()) ++n;
  return n;
}

const OrderedJson kBase = OrderedJson::parse(R"({"a":"x","b":{"c":["y"]},"d":"{\"e\":\"z\"}"})");

}  // namespace

TEST_CASE("json_variants: every position once, every body strict JSON holding the text once", "[json_positions]") {
  const auto vs = json_variants(kBase, kStamp, kEvery);
  // 20 positions: the root's add_key, add_field and 3 renames; a and d replaced and appended to;
  // b's add_key, add_field, rename of c; c's new item; y replaced and appended to; inside d's JSON:
  // add_key, add_field, rename of e, z replaced and appended to; and each of the 5 keys repeated.
  // Six spellings each, and the data: URL at the 8 where a value goes (4 replaced, 3 new fields,
  // 1 new item).
  CHECK(vs.size() == 6 * 25 + 8);
  std::set<std::string> where;
  for (const auto& v : vs) {
    INFO(v.where << "\n" << v.body);
    CHECK(where.insert(v.where).second);
    auto doc = OrderedJson::parse(v.body, nullptr, false);  // strict: no comments, no trailing commas
    REQUIRE_FALSE(doc.is_discarded());
    const bool nfd = v.spelling == Spelling::utf8_nfd || v.spelling == Spelling::escaped_nfd;
    const std::string spelled = json_positions_detail::normalized(kStamp, nfd);
    CHECK(occurrences(doc, spelled) == 1);
    CHECK(v.string_depth == (v.position.find(" → ") != std::string::npos ? 1 : 0));
  }
}

TEST_CASE("json_variants: placements change only their position", "[json_positions]") {
  const auto vs = json_variants(kBase, kStamp, {Spelling::utf8_nfc});
  auto body_at = [&](const std::string& where) {
    auto it = std::find_if(vs.begin(), vs.end(), [&](const JsonVariant& v) { return v.where == where; });
    REQUIRE(it != vs.end());
    return it->body;
  };
  CHECK(body_at("/ [b] rename_key utf8_nfc") == R"({"a":"x","TUYỆT MẬT":{"c":["y"]},"d":"{\"e\":\"z\"}"})");
  CHECK(body_at("/a append_line utf8_nfc") == R"({"a":"x\nTUYỆT MẬT","b":{"c":["y"]},"d":"{\"e\":\"z\"}"})");
  CHECK(body_at("/b/c add_array_item utf8_nfc") == R"({"a":"x","b":{"c":["y","TUYỆT MẬT"]},"d":"{\"e\":\"z\"}"})");
  CHECK(body_at("/b add_field utf8_nfc") == R"({"a":"x","b":{"c":["y"],"x_note":"TUYỆT MẬT"},"d":"{\"e\":\"z\"}"})");
  CHECK(body_at("/d → / add_key utf8_nfc") == R"({"a":"x","b":{"c":["y"]},"d":"{\"e\":\"z\",\"TUYỆT MẬT\":\"ok\"}"})");
  CHECK(body_at("/d → /e replace_value utf8_nfc") == R"({"a":"x","b":{"c":["y"]},"d":"{\"e\":\"TUYỆT MẬT\"}"})");
  CHECK(body_at("/b [c] duplicate_key utf8_nfc") == R"({"a":"x","b":{"c":["y"],"c":"TUYỆT MẬT"},"d":"{\"e\":\"z\"}"})");
  // The repeated key is spelled with escapes, so only an unescaped comparison finds the duplicate.
  const auto role = json_variants(OrderedJson::parse(R"({"role":"user"})"), kStamp, {Spelling::utf8_nfc});
  auto dup = std::find_if(role.begin(), role.end(), [](const JsonVariant& v) { return v.placement == Placement::duplicate_key; });
  REQUIRE(dup != role.end());
  CHECK(dup->body == R"({"role":"user","r\u006Fl\u0065":"TUYỆT MẬT"})");
}

TEST_CASE("spell: escapes as written, NFD decomposed, JSON inside a string escaped once more", "[json_positions]") {
  CHECK(spell(kStamp, Spelling::utf8_nfc) == kStamp);
  CHECK(spell(kStamp, Spelling::escaped_nfc) == "TUY\\u1EC6T M\\u1EACT");
  CHECK(spell(kStamp, Spelling::utf8_nfd) == "TUYE\xCC\xA3\xCC\x82T MA\xCC\xA3\xCC\x82T");  // E + dot below + circumflex
  CHECK(spell(kStamp, Spelling::escaped_nfd) == "TUYE\\u0323\\u0302T MA\\u0323\\u0302T");
  CHECK(spell(kStamp, Spelling::all_escaped) == "\\u0054\\u0055\\u0059\\u1EC6\\u0054\\u0020\\u004D\\u1EAC\\u0054");
  CHECK(spell(kStamp, Spelling::split_escapes) == "T\\u0055Y\\u1ec6T\\u0020M\\u1eacT");
  CHECK(spell("\xF0\x9F\x98\x80", Spelling::escaped_nfc) == "\\uD83D\\uDE00");  // above the BMP: a surrogate pair
  CHECK(spell("a\"b\\", Spelling::utf8_nfc) == "a\\\"b\\\\");
  CHECK(spell(kStamp, Spelling::base64_data_url) == "data:text/plain;base64,VFVZ4buGVCBN4bqsVA==");
  CHECK(decode_data_url(spell(kStamp, Spelling::base64_data_url)) == kStamp);
  CHECK_FALSE(decode_data_url("data:text/plain,TUY").has_value());
  const auto vs = json_variants(kBase, kStamp, {Spelling::escaped_nfc});
  auto nested = std::find_if(vs.begin(), vs.end(), [](const JsonVariant& v) { return v.string_depth == 1; });
  REQUIRE(nested != vs.end());
  CHECK(nested->body.find("\\\\u1EC6") != std::string::npos);  // once for the inner JSON, once for the outer
}

TEST_CASE("json_variants: ASCII text drops spellings that change nothing, files are marked, the placeholder is refused", "[json_positions]") {
  // A CCCD has no non-ASCII letter: escaped_nfc, utf8_nfd and escaped_nfd would repeat utf8_nfc.
  CHECK(json_variants(kBase, "001203004567", kEvery).size() == 3 * 25 + 8);
  const auto with_file = OrderedJson::parse(R"({"file_data":"data:text/plain;base64,SGVsbG8="})");
  for (const auto& v : json_variants(with_file, kStamp, {Spelling::utf8_nfc}))
    CHECK(v.in_file == (v.placement == Placement::append_line));
  CHECK_THROWS_AS(json_variants(OrderedJson::parse(R"({"QzxPromptwallPositionQzx":1})"), kStamp, kEvery), std::invalid_argument);
}
