// read_odf on LibreOffice's conversions of the python-docx and openpyxl documents
// (tests/data/documents/make_office_documents.py): exact texts, exact places.
#include <catch2/catch.hpp>

#include "extractors/odf_reader.h"
#include "office_test_support.h"

using namespace promptwall::extractors;
using namespace promptwall::extractors::testing;

namespace {

OfficeRead read(const std::string& name, FileType type) {
  return read_office(office_fixture("office/" + name), type, read_odf);
}

}  // namespace

TEST_CASE("odt: paragraphs with their spans joined, a table as TSV, prominent first lines", "[extractors][odf]") {
  const OfficeRead r = read("word.odt", FileType::odt);
  REQUIRE(r.outcome.good());
  const TextPart* body = r.part("content.xml");
  REQUIRE(body != nullptr);
  CHECK(body->text ==
        "TỐI MẬT\n"
        "Số: 12/QĐ-UBND\n"
        "Kính gửi:\tBan Giám đốc\n"
        "Ông Nguyễn Văn An mật khẩu: Hoa$Sen2024 đã ký.\n"
        "Dòng một\ndòng hai\n"
        "Họ tên\tSố CCCD\n"
        "Nguyễn Văn An Phòng Kế toán\t001099012345\n"
        "Hết.\n");
  CHECK(body->place_at(0) == SpanPlace{Place::body, 0, "", "", true});
  CHECK(body->place_at(body->text.find("Ban Giám đốc")).prominent);
  CHECK(body->place_at(body->text.find("Ông")) == SpanPlace{Place::body, 0, "", "", false});
  CHECK(body->place_at(body->text.find("Họ tên")) == SpanPlace{Place::table, 0, "", "", true});
  CHECK(body->place_at(body->text.find("Số CCCD")) == SpanPlace{Place::table, 0, "", "", false});
  CHECK(body->place_at(body->text.find("Hết")) == SpanPlace{Place::body, 0, "", "", false});
}

TEST_CASE("odt: master page header and footer from styles.xml, meta.xml properties", "[extractors][odf]") {
  const OfficeRead r = read("word.odt", FileType::odt);
  REQUIRE(r.outcome.good());
  REQUIRE(r.places_of("TỐI MẬT\n").size() == 3);  // body, header, subject
  CHECK(r.text_at(Place::header) == "TỐI MẬT\n");
  CHECK(r.places_of("TỐI MẬT")[1] == SpanPlace{Place::header, 0, "", "", true});
  CHECK(r.text_at(Place::footer) == "Số: 12/QĐ-UBND\n");
  const TextPart* meta = r.part("meta.xml");
  REQUIRE(meta != nullptr);
  CHECK(meta->place.place == Place::properties);
  CHECK(meta->text.find("Kế hoạch kiểm tra\nTỐI MẬT\nNguyễn Văn An\n") == 0);
}

TEST_CASE("ods: sheets as TSV with cells anchored, the CCCD as shown, names, comments", "[extractors][odf]") {
  const OfficeRead r = read("sheet.ods", FileType::ods);
  REQUIRE(r.outcome.good());
  REQUIRE(r.parts.size() >= 4);
  const TextPart& sheet1 = r.parts[0];
  CHECK(sheet1.place == SpanPlace{Place::sheet, 1, "", "", false});
  // LibreOffice declares the empty rest of each row and of the sheet with repeat counts: none of
  // it is expanded. C6 is =LEN(A3), read from office:value; B6 is TRUE() stored as 1.
  CHECK(sheet1.text ==
        "Họ tên\tSố CCCD\tGhi chú\n"
        "Trần Thị Bình\t079088001234\tTỐI MẬT\n"
        "Nguyễn Văn An\t001099012345\tTỐI MẬT\n"
        "mật khẩu\t\t\tHoa$Sen2024\n"
        "1.5\t1\t13\n");
  CHECK(sheet1.place_at(0) == SpanPlace{Place::sheet, 1, "A1", "", true});
  CHECK(sheet1.place_at(sheet1.text.find("001099012345")) == SpanPlace{Place::sheet, 1, "B3", "", false});
  CHECK(sheet1.place_at(sheet1.text.find("Hoa$Sen2024")).cell == "D5");
  const TextPart& sheet2 = r.parts[1];
  CHECK(sheet2.text == "Lương tháng\t15000000\nGấp đôi\t30000000\tSố: 12/QĐ-UBND\n");
  CHECK(sheet2.place_at(sheet2.text.find("30000000")) == SpanPlace{Place::sheet, 2, "B2", "", false});
  CHECK(r.text_at(Place::sheet_name) == "Nhân sự\nLương\n");
  REQUIRE(r.places_of("Lương\n").size() == 1);
  CHECK(r.places_of("Lương\n")[0] == SpanPlace{Place::sheet_name, 2, "", "", false});
  CHECK(r.text_at(Place::comment) == "CCCD của ông An\n");
  CHECK(r.places_of("CCCD của ông An")[0] == SpanPlace{Place::comment, 1, "B3", "", false});
  CHECK(r.text_at(Place::header) == "TỐI MẬT\n");
  CHECK(r.text_at(Place::footer) == "Số: 12/QĐ-UBND\n");
}

TEST_CASE("odf refusals: not a package, a missing content.xml", "[extractors][odf]") {
  // An OOXML zip read as ODF has no content.xml.
  const OfficeRead r = read("word.docx", FileType::odt);
  CHECK(r.outcome.cause == Unscannable::truncated);
  CHECK(r.outcome.detail == "content.xml is missing");
}
