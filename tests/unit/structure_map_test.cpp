// StructureReader: tables and key-value forms found in a segment, each cell or value mapped (as
// bytes of the original text) to its header or key, split and folded.
#include <catch2/catch.hpp>

#include "classifiers/structure_map.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

StructureMap read(const std::string& text) { return StructureReader(*shared_normalizer()).read(text); }

std::string value_of(const std::string& text, const StructureField& f) {
  return text.substr(f.value.begin, f.value.end - f.value.begin);
}

// The label of the field whose value is exactly `value`, or "<none>".
std::string label_of(const std::string& text, const StructureMap& map, const std::string& value) {
  const size_t at = text.find(value);
  REQUIRE(at != std::string::npos);
  const StructureField* f = map.field_at(Span{static_cast<uint32_t>(at), static_cast<uint32_t>(at + value.size())});
  if (!f) return "<none>";
  CHECK(value_of(text, *f) == value);
  return StructureReader(*shared_normalizer()).label(text, *f);
}

}  // namespace

TEST_CASE("keys are split at camelCase, snake_case and kebab-case before folding") {
  CHECK(StructureReader::split_key("hoChieuSo") == "ho Chieu So");
  CHECK(StructureReader::split_key("so_the_bhyt") == "so the bhyt");
  CHECK(StructureReader::split_key("stk-nhan") == "stk nhan");
  CHECK(StructureReader::split_key("BHXHCode") == "BHXH Code");
  CHECK(StructureReader::split_key("taiKhoanNhan") == "tai Khoan Nhan");
  CHECK(StructureReader::split_key("Số hộ chiếu") == "Số hộ chiếu");
  // Folded like context words: what `hoChieuSo` becomes is what "Hộ chiếu số" becomes.
  const std::string text = "{\"hoChieuSo\": \"C1234567\"}";
  CHECK(label_of(text, read(text), "C1234567") == shared_normalizer()->fold_text("Hộ chiếu Số"));
}

TEST_CASE("a tab-separated table maps each cell to its column header, however far below it") {
  std::string text = "Danh sách đoàn\nHọ tên\tSố hộ chiếu\tGhi chú\n";
  for (int i = 0; i < 10; ++i) text += "Người " + std::to_string(i) + "\tC123456" + std::to_string(i) + "\tđi công tác\n";
  const StructureMap map = read(text);
  REQUIRE(map.fields().size() == 30);
  CHECK(label_of(text, map, "C1234569") == "so ho chieu");
  CHECK(label_of(text, map, "Người 9") == "ho ten");
  const size_t at = text.find("C1234569");
  const StructureField* f = map.field_at(Span{static_cast<uint32_t>(at), static_cast<uint32_t>(at + 8)});
  REQUIRE(f);
  CHECK(f->column == 1);
  CHECK(f->bounded);
  CHECK(f->form == StructureField::Form::tsv);
  // The title line and the header row are no cells.
  CHECK(label_of(text, map, "Danh sách đoàn") == "<none>");
  CHECK(label_of(text, map, "Số hộ chiếu") == "<none>");
}

TEST_CASE("CSV cells honour quotes, markdown tables skip their rule row") {
  const std::string csv = "ma_nv,ho_ten,\"so_bhxh\"\nNV01,\"Lê, Thị Thu\",0122334455\nNV02,Phạm Văn Trí,0133445566\n";
  const StructureMap c = read(csv);
  CHECK(c.fields().size() == 6);
  CHECK(label_of(csv, c, "Lê, Thị Thu") == "ho ten");
  CHECK(label_of(csv, c, "0133445566") == "so bhxh");
  CHECK(c.fields().front().form == StructureField::Form::csv);

  const std::string md = "| Họ tên | MST | Số tài khoản |\n|---|:---:|---|\n| Nguyễn Văn A | 0102345677 | 0071000456789 |\n";
  const StructureMap m = read(md);
  CHECK(m.fields().size() == 3);
  CHECK(label_of(md, m, "0102345677") == "mst");
  CHECK(label_of(md, m, "0071000456789") == "so tai khoan");
  CHECK(m.fields().front().form == StructureField::Form::markdown);
}

TEST_CASE("space-aligned columns are cells apart by two spaces or more, with two rows at least") {
  const std::string text =
      "Danh sách in từ phần mềm:\nHọ tên                Số hộ chiếu   Hết hạn\n"
      "Trần Thị Bích Ngọc    B1096910      23/03/2029\nLê Hoàng Long         C9299865      28/04/2032\n";
  const StructureMap map = read(text);
  CHECK(map.fields().size() == 6);
  CHECK(label_of(text, map, "C9299865") == "so ho chieu");
  CHECK(label_of(text, map, "Trần Thị Bích Ngọc") == "ho ten");
  CHECK(map.fields().front().form == StructureField::Form::aligned);
  // One row is not enough: a sentence spaced twice after its full stop would read as one.
  CHECK(read("Họ tên                Số hộ chiếu\nTrần Thị Bích Ngọc    B1096910\n").empty());
}

TEST_CASE("separators are counted line by line wherever lines fall in the text's 16-byte blocks") {
  // The reader counts every line's separators in one pass over the text, 16 bytes at a time: the
  // same table must read the same after any prefix, with Windows line ends, indentation and
  // trailing white space, and a last line without a break.
  const std::string aligned =
      "  Họ tên                Số hộ chiếu   \r\n"
      "\tTrần Thị Bích Ngọc    B1096910  \r\n"
      "  Lê Hoàng Long         C9299865";
  const std::string piped = "| Họ tên | Số hộ chiếu |\n|---|---|\n| Trần Thị B | B1096910 |\n| Lê Long | C9299865 |";
  const std::string tabbed = "Họ tên\tSố hộ chiếu\r\nTrần Thị B\tB1096910\r\nLê Long\tC9299865\n";
  for (const std::string& table : {aligned, piped, tabbed}) {
    for (size_t prefix = 0; prefix < 40; ++prefix) {
      const std::string text = std::string(prefix, 'x') + "\n" + table;
      INFO(text);
      const StructureMap map = read(text);
      REQUIRE(map.fields().size() == 4);
      CHECK(label_of(text, map, "C9299865") == "so ho chieu");
    }
  }
}

TEST_CASE("a table needs a header row that reads as names") {
  // Two data rows: the first holds identifiers, so it is no header and nothing is a cell.
  const std::string text = "Nguyễn Văn A\tC1234567\t2030\nTrần Thị B\tC7654321\t2029\n";
  CHECK(read(text).empty());
}

TEST_CASE("JSON values are labelled with their key and the key that holds them") {
  const std::string text =
      "Kiểm tra bản ghi: {\"nhanVien\": {\"hoTen\": \"Lê Văn Tâm\", \"hoChieuSo\": \"C1234567\", \"luong\": 15000000,"
      " \"dsTaiKhoan\": [\"0071000456789\", \"19036578123019\"], \"active\": true}}";
  const StructureMap map = read(text);
  CHECK(label_of(text, map, "C1234567") == "nhan vien ho chieu so");
  CHECK(label_of(text, map, "15000000") == "nhan vien luong");
  CHECK(label_of(text, map, "19036578123019") == "nhan vien ds tai khoan");
  CHECK(label_of(text, map, "Lê Văn Tâm") == "nhan vien ho ten");
  CHECK(map.fields().size() == 5);  // `true` is no value anyone labels
  CHECK(map.fields().front().form == StructureField::Form::json);
  CHECK(map.fields().front().bounded);
}

TEST_CASE("XML elements and attributes are labelled, HTML tags are not") {
  const std::string text =
      "<nhanVien><soHoChieu>C1234567</soHoChieu><giayTo loai=\"bhxh\" so_so='4012875530'/></nhanVien>"
      "<p>Hộ chiếu C7654321</p>";
  const StructureMap map = read(text);
  CHECK(label_of(text, map, "C1234567") == "nhan vien so ho chieu");
  CHECK(label_of(text, map, "4012875530") == "giay to so so");
  CHECK(label_of(text, map, "bhxh") == "giay to loai");
  CHECK(label_of(text, map, "Hộ chiếu C7654321") == "<none>");
  CHECK(map.fields().size() == 3);
}

TEST_CASE("YAML and Key: value lines label their value, nested keys included") {
  const std::string text =
      "nhan_vien:\n  ho_ten: Le Thi Thu\n  - so_the_bhyt: HS4010123456789\n  bhxhCode: \"4012875530\"\n"
      "ghi chú: đi công tác\nSố hộ chiếu: C1234567\n";
  const StructureMap map = read(text);
  CHECK(label_of(text, map, "HS4010123456789") == "nhan vien so the bhyt");
  CHECK(label_of(text, map, "4012875530") == "nhan vien bhxh code");
  CHECK(label_of(text, map, "đi công tác") == "ghi chu");  // the block ended at the unindented line
  CHECK(label_of(text, map, "C1234567") == "so ho chieu");
  CHECK(map.fields().size() == 5);
  auto bounded = [&](const std::string& value) {
    const auto at = static_cast<uint32_t>(text.find(value));
    return map.field_at(Span{at, at + static_cast<uint32_t>(value.size())})->bounded;
  };
  CHECK(bounded("Le Thi Thu"));       // nested
  CHECK(bounded("4012875530"));       // nested, camelCase
  CHECK_FALSE(bounded("C1234567"));   // a key in words: only added to the window
  CHECK_FALSE(bounded("đi công tác"));
}

TEST_CASE("prose gives no structure") {
  CHECK(read("Kính gửi anh Nam, chị Hoa, phòng Tổ chức.\nTôi gửi lại danh sách, nhờ anh chị xem giúp, cảm ơn.\n"
             "Theo quy định tại khoản 2, Điều 5, Nghị định 13/2023, dữ liệu cá nhân cần được bảo vệ.")
            .empty());
  CHECK(read("Giá trị x < y và y > z; gọi hàm f(\"a\") rồi in \"kết quả\" ra màn hình.").empty());
  CHECK(read("Lúc 10:30 họp tại http://intranet/hop, mang theo hồ sơ.").empty());
}

TEST_CASE("a one-column list under a header line is read when its values share one shape") {
  std::string text = "Kiểm tra giúp cột này có số nào trùng không:\nSố hộ chiếu\n";
  for (const char* p : {"P0818365", "N4929414", "C5415409", "C0264112"}) text += std::string(p) + "\n";
  text += "Cảm ơn.";
  const StructureMap map = read(text);
  CHECK(map.fields().size() == 4);
  CHECK(label_of(text, map, "C0264112") == "so ho chieu");
  const size_t at = text.find("P0818365");
  const StructureField* f = map.field_at(Span{static_cast<uint32_t>(at), static_cast<uint32_t>(at + 8)});
  REQUIRE(f);
  CHECK(f->form == StructureField::Form::list);
  CHECK_FALSE(f->bounded);  // the header only adds to the usual window
  // Two values are not a list; nor are values of different shapes, nor lines of words.
  CHECK(read("Số hộ chiếu\nP0818365\nN4929414\n").empty());
  CHECK(read("Số hộ chiếu\nP0818365\n0937113580890\nN4929414\nhết\n").empty());
  CHECK(read("Ghi chú\nđi công tác\nnghỉ phép\nhọc tập\n").empty());
  // A header line with digits is a sentence or a value, not a column name.
  CHECK(read("Danh sách năm 2025\nP0818365\nN4929414\nC5415409\n").empty());
}

TEST_CASE("a StructureLookup finds, for every span, the field the whole read gives") {
  // The scanner asks a StructureLookup, which reads JSON and XML once and the line forms only
  // around a span's line: every span of every text here, from one byte to a line, must get the
  // field of the whole read (the same field, not only one as good), or none where it has none.
  const std::string texts[] = {
      "Họ tên\tCCCD\tSĐT\nNguyễn Văn An\t079203012345\t0912345678\nTrần Thị Bình\t001203004567\t0987654321\n",
      "| Họ tên | CMND |\n|---|---|\n| An | 171234567 |\n| Bình | 280123456 |\n",
      "ma_nv,ho_ten,so_bhxh\nNV01,Nguyen Van An,0123456789\nNV02,Tran Binh,9876543210\n",
      "Name      Phone         City\nAn        0912345678    Hanoi\nBinh      0987654321    Hue\n",
      "CCCD: 079203012345\n  - so: C1234567\nhoChieu:\n  so: C7654321\nGhi chú, xem thêm: 0912345678\n",
      "Số CCCD\n079203012345\n001203004567\n038095001234\nhết danh sách\n",
      "Xin chào, tôi là An, số CCCD 079203012345, điện thoại 0912345678.\nHẹn gặp lại, cảm ơn.\r\n"
      "Một dòng khác 0987654321 không có dấu phẩy\nA,B 12\nC,D 34\n",
      "Dòng trước  có hai khoảng\nvà  dòng này 0912345678 cũng vậy\n",
      "{\"cccd\": \"079203012345\", \"ten\": \"An\"}\n",
      "<ho_so><cmnd>171234567</cmnd></ho_so>\nsố 0912345678\n",
      "",
      "\n\n:\n - \n",
      // Where each form's state comes from lines away: a table under prose with commas, one table
      // right after another with another separator, a YAML block across a blank line and under a
      // list item, a list after a list of another shape, JSON beside key lines.
      "Ghi chú, xem, thêm\nHọ tên,SĐT\nAn,0912345678\nBình,0987654321\n\nMã;Số\nA1;079203012345\nB2;001203004567\n",
      "ho_so:\n  ca_nhan:\n\n    so_cccd: 079203012345\n  - so_dt: 0912345678\nghi_chu: xong\n  so: 0987654321\n",
      "Mã\nA123\nB456\nC789\nSố\n0912345678\n0987654321\n0911111111\nP0818365\n",
      "Mã\nA123\nB456\nC789\n0912345678\n0987654321\n0911111111\n",
      "ten: An\r\n{\"so\": \"0912345678\",\r\n \"cccd\": \"079203012345\"}\r\nso: 0987654321\r\n",
      "a\tb\tc\n1\t2\t3\n4\t5\t6\nx|y\n7|8\n9|0\n\t\nk  l\n1  2\n3  4\n",
  };
  auto same = [](const StructureField* whole, const std::optional<StructureField>& looked_up) {
    REQUIRE(looked_up.has_value() == (whole != nullptr));
    if (!whole) return;
    CHECK(looked_up->value == whole->value);
    CHECK(looked_up->key == whole->key);
    CHECK(looked_up->parent == whole->parent);
    CHECK(looked_up->form == whole->form);
    CHECK(looked_up->bounded == whole->bounded);
    CHECK(looked_up->column == whole->column);
  };
  size_t held = 0, none = 0;
  for (const std::string& text : texts) {
    INFO(text);
    const StructureMap map = read(text);
    for (uint32_t b = 0; b < text.size(); ++b) {
      for (uint32_t e = b + 1; e <= text.size() && e <= b + 40; ++e) {
        const Span span{b, e};
        INFO(b << ".." << e);
        // A lookup of its own for each span, so that each reads only around it.
        const StructureField* field = map.field_at(span);
        same(field, StructureLookup(*shared_normalizer(), text).field_at(span));
        ++(field ? held : none);
      }
    }
  }
  // One lookup for all the texts in one, as a scan makes it: later spans take their fields from
  // the reads earlier ones made, asked front to back, then back to front with another. The texts
  // stand apart, after a line that closes every form, with 100 KB of prose between them that no
  // span asks about, so the reads stay local throughout.
  std::string all;
  std::vector<Span> parts;
  for (const std::string& text : texts) {
    all += "x\n" + std::string(100 * 1000, 'y') + "\nx\n";
    parts.push_back({static_cast<uint32_t>(all.size()), static_cast<uint32_t>(all.size() + text.size())});
    all += text;
  }
  const StructureMap map = read(all);
  StructureLookup forward(*shared_normalizer(), all);
  for (const Span& part : parts)
    for (uint32_t b = part.begin; b < part.end; ++b)
      for (uint32_t e = b + 1; e <= part.end && e <= b + 40; ++e) {
        INFO(b << ".." << e);
        same(map.field_at(Span{b, e}), forward.field_at(Span{b, e}));
      }
  StructureLookup backward(*shared_normalizer(), all);
  for (auto part = parts.rbegin(); part != parts.rend(); ++part)
    for (uint32_t b = part->end; b-- > part->begin;)
      for (uint32_t e = b + 1; e <= part->end && e <= b + 40; ++e) {
        INFO(b << ".." << e);
        same(map.field_at(Span{b, e}), backward.field_at(Span{b, e}));
      }
  // Both answers occur: fields are found, and prose is turned down.
  CHECK(held > 1000);
  CHECK(none > 1000);
}

TEST_CASE("a line form around a span is read from the lines it needs, and none for prose") {
  using Form = StructureReader::LineForm;
  const StructureReader reader(*shared_normalizer());
  // A number in a sentence of prose, after a line with no comma: no form reads anything. Only its
  // line and the one before (which a table row would share a separator with) are looked at.
  const std::string prose = "Kính gửi anh Lộc\nXin gọi số 0912345678, cảm ơn anh.\n";
  const auto at = static_cast<uint32_t>(prose.find("0912345678"));
  for (const Form form : {Form::table, Form::key_line, Form::list}) {
    const auto read = reader.read_around(prose, Span{at, at + 10}, form);
    CHECK(read.fields.empty());
    CHECK(read.exact.begin == read.exact.end);
    CHECK(read.seen.end - read.seen.begin <= prose.size() - 1);
  }
  // A cell of a table after a page of prose reads the table, not the page, and covers its lines.
  const std::string page(20000, 'x');
  const std::string table = "Họ tên\tSĐT\nAn\t0912345678\n";
  const std::string text = page + "\n\n" + table + "\n" + page;
  const auto cell = static_cast<uint32_t>(text.find("0912345678"));
  const auto read = reader.read_around(text, Span{cell, cell + 10}, Form::table);
  REQUIRE(read.fields.field_at(Span{cell, cell + 10}) != nullptr);
  CHECK(read.exact == Span{static_cast<uint32_t>(page.size() + 2), static_cast<uint32_t>(page.size() + 1 + table.size())});
  CHECK(read.seen.end - read.seen.begin <= table.size() + 2);  // and the blank lines around it
  // A key line's read starts at the last unindented line, across a blank line and a list item.
  const std::string yaml = "x: 1\nho_so:\n\n  - ca_nhan:\n      so_cccd: 079203012345\n";
  const auto value = static_cast<uint32_t>(yaml.find("0792"));
  const auto key_read = reader.read_around(yaml, Span{value, value + 12}, Form::key_line);
  CHECK(key_read.exact.begin == yaml.find("ho_so"));
  const StructureField* field = key_read.fields.field_at(Span{value, value + 12});
  REQUIRE(field != nullptr);
  CHECK(yaml.substr(field->parent.begin, field->parent.end - field->parent.begin) == "ca_nhan");
  // A span across a line break lies in no line form.
  for (const Form form : {Form::table, Form::key_line, Form::list})
    CHECK(reader.read_around(table, Span{0, 12}, form).fields.empty());
}
