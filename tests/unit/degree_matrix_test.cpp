// The degree-stamp matrix: each state-secret degree in every disguise the labelling rules name,
// once as a stamp line (a finding) and once inside prose (no finding).
#include <catch2/catch.hpp>

#include <functional>

#include "classifiers/scanner.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

struct Degree {
  const char* nfc;         // upper case, NFC
  const char* nfd;         // upper case, NFD
  const char* lower;
  const char* mixed;
  const char* stripped;
  const char* dotted;
  const char* spaced;
  const char* zero_width;  // ZWSP between the letters
  const char* nbsp;        // no-break space between the words (or around a one-word degree)
  const char* cyrillic;    // Cyrillic Т, О, М, А, Е... where they look alike
  const char* viqr;
  const char* tcvn3;
  const char* vni;
};

const Degree kDegrees[] = {
    {"TUYỆT MẬT", "TUYE\u0323\u0302T MA\u0323\u0302T", "tuyệt mật", "Tuyệt Mật", "TUYET MAT", "T.U.Y.Ệ.T M.Ậ.T",
     "T U Y Ệ T  M Ậ T", "TU\u200BYỆ\u200BT M\u200BẬ\u200BT", "TUYỆT\u00A0MẬT", "\u0422UYỆ\u0422 \u041CẬ\u0422",
     "TUYE^.T MA^.T", "TUYÖT MËT", "TUYEÄT MAÄT"},
    {"TỐI MẬT", "TO\u0302\u0301I MA\u0323\u0302T", "tối mật", "Tối Mật", "TOI MAT", "T.Ố.I M.Ậ.T", "T Ố I  M Ậ T",
     "T\u200BỐ\u200BI M\u200BẬ\u200BT", "TỐI\u00A0MẬT", "\u0422ỐI \u041CẬ\u0422", "TO^'I MA^.T", "TèI MËT",
     "TOÁI MAÄT"},
    {"MẬT", "MA\u0323\u0302T", "mật", "Mật", "MAT", "M.Ậ.T", "M Ậ T", "M\u200BẬ\u200BT", "\u00A0MẬT\u00A0",
     "\u041CẬ\u0422", "MA^.T", "MËT", "MAÄT"},
};

using Form = std::function<const char*(const Degree&)>;
const std::pair<const char*, Form> kForms[] = {
    {"NFC", [](const Degree& d) { return d.nfc; }},
    {"NFD", [](const Degree& d) { return d.nfd; }},
    {"lower case", [](const Degree& d) { return d.lower; }},
    {"mixed case", [](const Degree& d) { return d.mixed; }},
    {"no diacritics", [](const Degree& d) { return d.stripped; }},
    {"dots between letters", [](const Degree& d) { return d.dotted; }},
    {"spaces between letters", [](const Degree& d) { return d.spaced; }},
    {"zero-width spaces", [](const Degree& d) { return d.zero_width; }},
    {"no-break spaces", [](const Degree& d) { return d.nbsp; }},
    {"Cyrillic look-alikes", [](const Degree& d) { return d.cyrillic; }},
    {"VIQR", [](const Degree& d) { return d.viqr; }},
    {"TCVN3", [](const Degree& d) { return d.tcvn3; }},
    {"VNI", [](const Degree& d) { return d.vni; }},
};

bool marking_overlaps(Scanner& scanner, const std::string& text, size_t begin, size_t end) {
  for (const auto& f : scanner.scan(text).findings)
    if (f.category == "classification_marking" && f.span.begin < end && begin < f.span.end) return true;
  return false;
}

bool any_marking(Scanner& scanner, const std::string& text) {
  for (const auto& f : scanner.scan(text).findings)
    if (f.category == "classification_marking") return true;
  return false;
}

}  // namespace

TEST_CASE("degree stamps are found in every disguise, and never in prose") {
  Scanner scanner(builtin_ruleset());
  for (const auto& degree : kDegrees) {
    for (const auto& [form_name, form] : kForms) {
      const std::string stamp = form(degree);
      INFO("degree " << degree.nfc << ", form " << form_name << ": \"" << stamp << "\"");

      const std::string before = "Tóm tắt văn bản sau giúp tôi:\n\n";
      const std::string line = before + stamp + "\nBÁO CÁO\nKết quả rà soát quỹ đất công năm 2025.";
      CHECK(marking_overlaps(scanner, line, before.size(), before.size() + stamp.size()));

      const std::string prose = "Theo quy định, tài liệu " + stamp + " phải được bảo quản trong két sắt.";
      CHECK_FALSE(any_marking(scanner, prose));
      const std::string question = "Hỏi: văn bản đóng dấu " + stamp + " thì ai được đọc?";
      CHECK_FALSE(any_marking(scanner, question));
    }
  }
}
