#include <catch2/catch.hpp>

#include "classifiers/normalizer.h"

using namespace promptwall;

namespace {

const Normalizer& normalizer() {
  static const Normalizer n;  // building the fold table once keeps the suite fast
  return n;
}

constexpr ViewMask kAll = view_bit(ViewKind::raw) | view_bit(ViewKind::folded) | view_bit(ViewKind::compact) |
                          view_bit(ViewKind::legacy);

std::string view_text(const TextViews& v, ViewKind k) { return v.view(k) ? v.view(k)->text : "<absent>"; }

// The original bytes a span of a view maps back to.
std::string original_of(const std::string& original, const TextViews& v, ViewKind k, size_t b, size_t e) {
  Span s = v.to_original(k, Span{static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
  return original.substr(s.begin, s.end - s.begin);
}

}  // namespace

TEST_CASE("raw view is NFC and maps NFD input back to its combining sequences") {
  const std::string nfd = "T\xE1\xBB\x90I M\x41\xCC\xA3\xCC\x82T";  // "TỐI" NFC Ố, then "MẬT" as A + dot below + circumflex
  TextViews v = normalizer().normalize(nfd, kAll);
  CHECK(view_text(v, ViewKind::raw) == "TỐI MẬT");
  // "MẬT" in the raw view is bytes [6, 11); in the original it is the 6 bytes "MẬT" in NFD form + T.
  CHECK(original_of(nfd, v, ViewKind::raw, 6, 11) == "M\x41\xCC\xA3\xCC\x82T");
  CHECK(view_text(v, ViewKind::folded) == "toi mat");
  CHECK(original_of(nfd, v, ViewKind::folded, 4, 7) == "M\x41\xCC\xA3\xCC\x82T");
}

TEST_CASE("ASCII text keeps an identity raw view") {
  TextViews v = normalizer().normalize("Plain text 123", kAll);
  CHECK(view_text(v, ViewKind::raw) == "Plain text 123");
  CHECK(v.slots[0]->map.identity());
  CHECK(view_text(v, ViewKind::folded) == "plain text 123");
  CHECK(view_text(v, ViewKind::compact) == "plaintext123");
  CHECK(v.view(ViewKind::legacy) == nullptr);
}

TEST_CASE("folded view removes diacritics, case, zero-width characters and look-alikes") {
  struct Case {
    const char* in;
    const char* folded;
  };
  const Case cases[] = {
      {"TUYỆT MẬT", "tuyet mat"},
      {"Độ mật: Tối mật", "do mat: toi mat"},
      {"đường Đ", "duong d"},
      {"M\u200BẬ\u200BT", "mat"},              // zero-width spaces dropped
      {"TỐI\u00A0MẬT", "toi mat"},              // no-break space is a space
      {"\u041C\u1EACT", "mat"},                 // Cyrillic М
      {"\u0422\u00D4I M\u1EAC\u0422", "toi mat"},  // Cyrillic Т
      {"\u03A4\u1ED0\u0399 \u039C\u1EAC\u03A4", "toi mat"},  // Greek Τ Ι Μ: capital iota is i, not l
      {"\u0406", "i"},                         // Cyrillic capital І
      {"\u043C\u1EAD\u0442", "mat"},          // small-capital look-alikes м т
      {"\uFF34\uFF2F\uFF30", "top"},            // full-width letters
      {"a   b\t\tc", "a b c"},                  // space runs collapse
      {"a \n\n  b", "a\nb"},                    // a white-space run with a line break is one '\n'
      {"M....Ậ----T", "m.a-t"},                 // punctuation runs collapse
      {"“quoted” — dash", "\"quoted\" - dash"},
      {"lực lượng ơ ư", "luc luong o u"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    TextViews v = normalizer().normalize(c.in, kAll);
    CHECK(view_text(v, ViewKind::folded) == c.folded);
  }
}

TEST_CASE("compact view drops the separators people put between letters") {
  TextViews v = normalizer().normalize("T.Ố.I  M.Ậ.T\nT Ố I - M Ậ T", kAll);
  CHECK(view_text(v, ViewKind::compact) == "toimat\ntoimat");
  // Each compact letter maps to its original letter.
  const std::string orig = "T.Ố.I  M.Ậ.T\nT Ố I - M Ậ T";
  CHECK(original_of(orig, v, ViewKind::compact, 3, 6) == "M.Ậ.T");
}

TEST_CASE("legacy view decodes VIQR and TCVN3 and maps back") {
  const std::string viqr = "Chuyen:\nTUYE^.T MA^.T\n";
  TextViews v = normalizer().normalize(viqr, kAll);
  REQUIRE(v.view(ViewKind::legacy) != nullptr);
  CHECK(view_text(v, ViewKind::legacy) == "chuyen:\ntuyet mat\n");
  CHECK(original_of(viqr, v, ViewKind::legacy, 8, 17) == "TUYE^.T MA^.T");

  const std::string tcvn3 = "TUYÖT MËT - §Ò ¸n";
  v = normalizer().normalize(tcvn3, kAll);
  REQUIRE(v.view(ViewKind::legacy) != nullptr);
  CHECK(view_text(v, ViewKind::legacy) == "tuyet mat - de an");
  CHECK(original_of(tcvn3, v, ViewKind::legacy, 0, 9) == "TUYÖT MËT");
}

TEST_CASE("invalid UTF-8 is flagged and replaced, never passed on") {
  const std::string bad = std::string("abc \xFF\xFE def MẬT");
  TextViews v = normalizer().normalize(bad, kAll);
  REQUIRE(v.invalid_utf8_at.has_value());
  CHECK(*v.invalid_utf8_at == 4);
  CHECK(view_text(v, ViewKind::raw) == "abc \uFFFD\uFFFD def MẬT");
  // Spans after the bad bytes still map to the right original bytes.
  const std::string raw = view_text(v, ViewKind::raw);
  size_t pos = raw.find("MẬT");
  CHECK(original_of(bad, v, ViewKind::raw, pos, pos + std::string("MẬT").size()) == "MẬT");
  // A truncated sequence at the end.
  v = normalizer().normalize("xyz \xE1\xBB", kAll);
  REQUIRE(v.invalid_utf8_at.has_value());
  CHECK(*v.invalid_utf8_at == 4);
}

TEST_CASE("offset maps merge linear runs and keep atomic units whole") {
  OffsetMap m;
  m.append(3, 0, 3, false);
  m.append(2, 3, 2, false);  // merges with the first
  m.append(1, 5, 3, true);   // "ậ" -> "a"
  m.append(4, 8, 4, false);
  CHECK(m.to_source(Span{0, 5}) == Span{0, 5});
  CHECK(m.to_source(Span{5, 6}) == Span{5, 8});
  CHECK(m.to_source(Span{4, 7}) == Span{4, 9});
  CHECK(m.to_source(Span{6, 10}) == Span{8, 12});
  OffsetMap identity;
  CHECK(identity.to_source(Span{2, 9}) == Span{2, 9});
}
