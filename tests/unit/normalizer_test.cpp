#include <catch2/catch.hpp>

#include "classifiers/normalizer.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <vector>

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

TEST_CASE("in Unicode text the legacy view holds only the legacy lines, each still a line") {
  // A chunk of a large file or a long prompt is Unicode with a legacy line here and there: the
  // view is those lines, not a second copy of the whole text.
  const std::string text = "Câu hỏi: tối mật - là gì?\nChuyển font:\n  TUYÖT MËT - §Ò ¸n\nCảm ơn.\nMA^.T\n";
  TextViews v = normalizer().normalize(text, kAll);
  REQUIRE(v.view(ViewKind::legacy) != nullptr);
  CHECK(view_text(v, ViewKind::legacy) == "\ntuyet mat - de an\nmat\n");
  const size_t at = text.find("TUYÖT");
  CHECK(original_of(text, v, ViewKind::legacy, 1, 10) == "TUYÖT MËT");
  CHECK(v.to_original(ViewKind::legacy, Span{1, 10}).begin == at);
  CHECK(original_of(text, v, ViewKind::legacy, 19, 22) == "MA^.T");
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

TEST_CASE("a kept-bytes map gives what the units of its kept runs give") {
  // Source texts of up to five blocks, kept bits drawn at several densities (a block that kept
  // nothing, one that kept everything, runs across block edges); every span, empty ones and
  // those reaching past the view's end included, maps as the linear unit per kept run does.
  std::mt19937 rng(64);
  for (int round = 0; round < 400; ++round) {
    const uint32_t n = rng() % 260;
    const unsigned density = rng() % 5;  // 0: nothing kept ... 4: everything kept
    std::vector<bool> kept(n);
    for (uint32_t i = 0; i < n; ++i) kept[i] = density == 4 || (density > 0 && rng() % 4 < density);
    if (n > 130 && rng() % 2) std::fill(kept.begin() + 64, kept.begin() + 128, rng() % 2 == 0);
    OffsetMap bits, units;
    for (uint32_t block = 0; block < n; block += 64) {
      uint64_t word = 0;
      for (uint32_t i = block; i < std::min(n, block + 64); ++i) word |= uint64_t{kept[i]} << (i - block);
      bits.append_kept(word);
    }
    uint32_t size = 0;
    for (uint32_t i = 0; i < n;) {
      if (!kept[i]) { ++i; continue; }
      uint32_t j = i;
      while (j < n && kept[j]) ++j;
      units.append(j - i, i, j - i, false);
      size += j - i;
      i = j;
    }
    INFO("round " << round << ", " << n << " source bytes, " << size << " kept");
    CHECK(bits.identity() == (size == 0));
    CHECK(units.identity() == (size == 0));
    // Counted rather than checked one by one: tens of thousands of spans a round.
    size_t differ = 0;
    Span first_differing{};
    for (uint32_t a = 0; a <= size + 2; ++a)
      for (uint32_t b = a; b <= size + 3; ++b)
        if (!(bits.to_source(Span{a, b}) == units.to_source(Span{a, b})) && differ++ == 0) first_differing = Span{a, b};
    INFO("first differing span [" << first_differing.begin << ", " << first_differing.end << ")");
    CHECK(differ == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// The fast paths (16-byte ASCII blocks in the fold, the NFC check, the compact copy, reused
// buffers) against a reference fold written here from the rules in fold_table.h, byte by byte.

namespace {

// What the fold makes of the characters the cases below use, with the original span of every
// output byte. ASCII by the FoldTable's rules; the few non-ASCII characters by their entries.
struct Folded {
  std::string text;
  std::vector<Span> spans;  // per output byte
};

Folded reference_fold(const std::string& s) {
  Folded f;
  bool pending = false, pending_newline = false;
  uint32_t pending_begin = 0, pending_end = 0;
  std::string last_punct;  // empty: the last thing emitted was no punctuation
  auto put = [&](const std::string& out, Span span) {
    for (char c : out) {
      f.text.push_back(c);
      f.spans.push_back(span);
    }
  };
  auto flush = [&] {
    if (!pending) return;
    put(pending_newline ? "\n" : " ", Span{pending_begin, pending_end});
    pending = pending_newline = false;
    last_punct.clear();
  };
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<uint32_t>(i);
    const auto c = static_cast<unsigned char>(s[i]);
    enum { text, punct, space, newline, drop } cls = drop;
    std::string out;
    size_t n = 1;
    if (s.compare(i, 3, "ệ") == 0) cls = text, out = "e", n = 3;
    else if (s.compare(i, 3, "Ệ") == 0) cls = text, out = "e", n = 3;
    else if (s.compare(i, 3, "\u200B") == 0) cls = drop, n = 3;
    else if (s.compare(i, 2, "\u00A0") == 0) cls = space, n = 2;
    else if (s.compare(i, 3, "\u2013") == 0) cls = punct, out = "-", n = 3;
    else if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C) cls = newline;
    else if (c == ' ' || c == '\t') cls = space;
    else if (c < 0x20 || c == 0x7F) cls = drop;
    else if (std::isalnum(c)) cls = text, out = std::string(1, static_cast<char>(std::tolower(c)));
    else if (c < 0x80) cls = punct, out = std::string(1, static_cast<char>(c));
    else FAIL("reference_fold: no rule for byte " << int(c));
    i += n;
    const Span span{b, static_cast<uint32_t>(i)};
    if (cls == drop) continue;
    if (cls == space || cls == newline) {
      if (!pending) pending_begin = b;
      pending = true;
      pending_newline = pending_newline || cls == newline;
      pending_end = span.end;
      continue;
    }
    flush();
    if (cls == punct) {
      if (last_punct == out) continue;
      last_punct = out;
    } else {
      last_punct.clear();
    }
    put(out, span);
  }
  flush();
  return f;
}

constexpr bool compact_drop(char c) {
  return std::string_view(" .-_*,'\"~`+=").find(c) != std::string_view::npos;
}

// Checks the folded and compact views of `s` byte by byte against the reference.
void check_against_reference(const std::string& s, const TextViews& v) {
  INFO("input: \"" << s << "\"");
  const Folded want = reference_fold(s);
  REQUIRE(view_text(v, ViewKind::folded) == want.text);
  for (size_t p = 0; p < want.text.size(); ++p) {
    INFO("folded byte " << p);
    CHECK(v.to_original(ViewKind::folded, Span{uint32_t(p), uint32_t(p + 1)}) == want.spans[p]);
  }
  std::string compact;
  std::vector<Span> compact_spans;
  for (size_t p = 0; p < want.text.size(); ++p) {
    if (compact_drop(want.text[p])) continue;
    compact.push_back(want.text[p]);
    compact_spans.push_back(want.spans[p]);
  }
  REQUIRE(view_text(v, ViewKind::compact) == compact);
  for (size_t p = 0; p < compact.size(); ++p) {
    INFO("compact byte " << p);
    CHECK(v.to_original(ViewKind::compact, Span{uint32_t(p), uint32_t(p + 1)}) == compact_spans[p]);
  }
}

}  // namespace

TEST_CASE("ASCII runs fold 16 bytes at a time exactly as byte by byte, at every alignment") {
  // Each piece lands on every offset of a 16-byte block (and straddles two), after a prefix of
  // 0..40 plain letters: single and double spaces, a space at a block's last byte, tabs, line
  // breaks, control characters, repeated and alternating punctuation, upper case.
  const char* pieces[] = {"Ab Cd", "a  b", "x\ty", "p\nq", "a \n b", "u\x01v", "..", "a..b", "a.,.b", "--x--",
                          "A.B.C", " ", "  ", "\x7F", "a\x01.\x01.b", "Q \r\nR", "!!?!", "z ", "\"'\"", "a- -b"};
  for (const char* piece : pieces) {
    for (size_t prefix = 0; prefix <= 40; ++prefix) {
      for (size_t suffix : {0, 1, 2, 17, 33}) {
        const std::string s = std::string(prefix, 'k') + piece + std::string(suffix, 'M');
        check_against_reference(s, normalizer().normalize(s, kAll));
      }
    }
  }
}

TEST_CASE("a non-ASCII character at each position of a 32-byte block stops the ASCII fast path there") {
  const std::string base = "Tai Lieu, so 12 -- MAT.  Ke hoach trien khai!! (ban 2)";
  for (const char* ch : {"ệ", "Ệ", "\u200B", "\u00A0", "\u2013", "\t", "\x01"}) {
    for (size_t pos = 0; pos <= base.size(); ++pos) {
      std::string s = base;
      s.insert(pos, ch);
      check_against_reference(s, normalizer().normalize(s, kAll));
    }
  }
}

TEST_CASE("random printable text folds as the reference does") {
  std::mt19937 rng(14);
  const std::string alphabet = "aB9 .,-_*  \t\n..--!!\x01xyzXYZ";
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    const size_t len = rng() % 70;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    if (rng() % 2) s.insert(rng() % (s.size() + 1), rng() % 2 ? "ệ" : "\u00A0");
    check_against_reference(s, normalizer().normalize(s, kAll));
  }
}

TEST_CASE("NFC text is recognised as NFC without ICU and copied, anything else still goes through ICU") {
  // Precomposed Vietnamese is NFC: identity map, the input byte for byte (and so is text outside
  // the BMP, which ICU is asked about).
  for (const std::string s : {"Tiếng Việt có dấu: Độ mật, TUYỆT MẬT", "日本語 and emoji 😀 (outside the BMP)"}) {
    const TextViews v = normalizer().normalize(s, kAll);
    CHECK(view_text(v, ViewKind::raw) == s);
    CHECK(v.slots[0]->map.identity());
  }
  // A combining mark after a letter at every position of a block: composed, mapped back.
  for (size_t prefix = 0; prefix <= 33; ++prefix) {
    const std::string s = std::string(prefix, 'x') + "MA\u0323\u0302T";  // MẬT in NFD
    const TextViews v = normalizer().normalize(s, kAll);
    INFO(prefix);
    CHECK(view_text(v, ViewKind::raw) == std::string(prefix, 'x') + "MẬT");
    CHECK(original_of(s, v, ViewKind::raw, prefix, prefix + std::string("MẬT").size()) == "MA\u0323\u0302T");
  }
  // Hangul jamo compose too (the second is not an NFC starter).
  CHECK(view_text(normalizer().normalize("\u1100\u1161", kAll), ViewKind::raw) == "\uAC00");
}

TEST_CASE("views rebuilt into a reused TextViews equal freshly built ones") {
  const std::string texts[] = {
      "Plain ASCII text, 123.",
      "Chuyen:\nTUYE^.T MA^.T\n",           // a legacy view appears
      "Tiếng Việt thường, không có gì.",    // and is gone again
      std::string("abc \xFF\xFE def MẬT"),   // the repaired slot appears
      "MA\u0323\u0302T in NFD",             // and is gone; raw has a map
      "TUYÖT MËT - §Ò ¸n",
      "",
      std::string(5000, 'a') + " T.Ố.I  M.Ậ.T " + std::string(3000, '-'),
      "short",
  };
  TextViews reused;
  for (int round = 0; round < 2; ++round) {
    for (const auto& s : texts) {
      INFO(s);
      normalizer().normalize(s, kAll, reused);
      const TextViews fresh = normalizer().normalize(s, kAll);
      CHECK(reused.invalid_utf8_at == fresh.invalid_utf8_at);
      for (size_t slot = 0; slot < fresh.slots.size(); ++slot) {
        INFO("slot " << slot);
        REQUIRE(reused.slots[slot].has_value() == fresh.slots[slot].has_value());
        if (!fresh.slots[slot]) continue;
        const View& a = *reused.slots[slot];
        const View& b = *fresh.slots[slot];
        CHECK(a.text == b.text);
        CHECK(a.parent == b.parent);
        CHECK(a.map.identity() == b.map.identity());
        for (uint32_t p = 0; p < b.text.size(); ++p) CHECK(a.map.to_source(Span{p, p + 1}) == b.map.to_source(Span{p, p + 1}));
      }
    }
  }
}

TEST_CASE("a character whose fold does not fit is dropped, and the white space around it collapses") {
  // Found by the normalizer fuzz target: a Hangul syllable with a final consonant folds to three
  // jamo (9 bytes), more than a fold table entry holds, and was a text of no bytes, so the spaces
  // on its two sides stayed two.
  const TextViews v = normalizer().normalize("MẬT 한 löc, TỐI 쟘 MẬT", kAll);
  CHECK(view_text(v, ViewKind::folded) == "mat loc, toi mat");
  CHECK(view_text(v, ViewKind::folded).find("  ") == std::string::npos);
  // A syllable that fits (two jamo) is still there.
  CHECK(view_text(normalizer().normalize("TỐI 가 MẬT", kAll), ViewKind::folded) != "toi mat");
}

TEST_CASE("the NFC check a fold makes on its way agrees with the one made without a fold") {
  // With a folded view wanted, the fold tells whether the text is its own raw view; without one,
  // a pass of its own does. Both must reach the same raw view.
  for (const std::string& s : {std::string("Tiếng Việt có dấu: TUYỆT MẬT"), std::string("MA\u0323\u0302T in NFD"),
                              std::string("e\u0301 \u1100\u1161 Å"), std::string("emoji 😀 \U0001D400"),
                              std::string("abc \xFF\xFE def"), std::string("xyz \xE1\xBB"), std::string("\xED\xA0\x80"),
                              std::string(40, 'a') + "\u0301" + std::string(40, ' '), std::string("")}) {
    INFO(s);
    const TextViews alone = normalizer().normalize(s, view_bit(ViewKind::raw));
    const TextViews folded = normalizer().normalize(s, kAll);
    CHECK(view_text(folded, ViewKind::raw) == view_text(alone, ViewKind::raw));
    CHECK(folded.invalid_utf8_at == alone.invalid_utf8_at);
    CHECK(folded.slots[0]->map.identity() == alone.slots[0]->map.identity());
    CHECK(folded.slots[0]->parent == alone.slots[0]->parent);
  }
}
