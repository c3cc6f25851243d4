// The scanner reads context through a segment's structure (issue 19): a cell's column header and a
// value's key count as if they stood right before it, and a table cell or JSON value is judged
// without its neighbours. Each case is one the issue reported failing with the built-in packs.
#include <catch2/catch.hpp>

#include <map>

#include "classifiers/scanner.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

// category -> the texts found in it
std::multimap<std::string, std::string> found(const std::string& text) {
  Scanner s(builtin_ruleset());
  std::multimap<std::string, std::string> out;
  for (const auto& f : s.scan(text).findings)
    out.emplace(f.category, text.substr(f.span.begin, f.span.end - f.span.begin));
  return out;
}

bool has(const std::multimap<std::string, std::string>& m, const std::string& category, const std::string& value) {
  auto [b, e] = m.equal_range(category);
  for (auto it = b; it != e; ++it)
    if (it->second == value) return true;
  return false;
}

}  // namespace

TEST_CASE("a passport column is judged under its header ten lines above") {
  std::string text = "Danh sách đoàn công tác\nHọ và tên\tSố hộ chiếu\tMã nhân viên\tGhi chú\n";
  std::vector<std::string> passports, codes;
  for (int i = 0; i < 10; ++i) {
    passports.push_back("C71234" + std::to_string(10 + i));
    codes.push_back("B30056" + std::to_string(10 + i));
    text += "Cán bộ số " + std::to_string(i) + "\t" + passports.back() + "\t" + codes.back() +
            "\tđi công tác nước ngoài theo quyết định của Giám đốc\n";
  }
  const auto f = found(text);
  for (const auto& p : passports) {
    INFO(p);
    CHECK(has(f, "passport", p));
  }
  // Passport-shaped staff codes in the next column: the passport header is not theirs.
  for (const auto& c : codes) {
    INFO(c);
    CHECK_FALSE(has(f, "passport", c));
  }
  CHECK(f.count("passport") == passports.size());
}

TEST_CASE("a JSON value is read under its camelCase key") {
  const auto f = found("Viết email xác nhận từ bản ghi: {\"hoTen\": \"Lê Văn Tâm\", \"hoChieuSo\": \"C1234567\"}");
  CHECK(has(f, "passport", "C1234567"));
  // The same shape under a key that names no passport is a code, not a passport.
  CHECK(found("{\"hoTen\": \"Lê Văn Tâm\", \"maNhanVien\": \"C1234567\", \"hoChieuSo\": null}").count("passport") == 0);
}

TEST_CASE("YAML keys in snake_case and camelCase give their values the context they need") {
  const auto f = found(
      "Chuẩn hoá cấu hình hồ sơ nhân sự sau:\nnhan_vien:\n  ho_ten: Le Thi Thu\n  so_the_bhyt: HS4010123456789\n"
      "  bhxhCode: 4012875530\n  stk_nhan: 0071000456789\n");
  CHECK(has(f, "social_insurance", "HS4010123456789"));
  CHECK(has(f, "social_insurance", "4012875530"));  // BHXH needs its keyword: the key is it
}

TEST_CASE("a tax code column is not lent to the bank-account column beside it") {
  const std::string text =
      "| Họ tên | MST | Số tài khoản | Ngân hàng |\n|---|---|---|---|\n"
      "| Nguyễn Văn An | 0102345677 | 0071000456789 | Vietcombank |\n"
      "| Trần Thị Bình | 0201456787 | 19036578123019 | Techcombank |\n";
  const auto f = found(text);
  CHECK(has(f, "tax_code", "0102345677"));
  CHECK(has(f, "tax_code", "0201456787"));
  CHECK(has(f, "bank_account", "0071000456789"));
  CHECK(has(f, "bank_account", "19036578123019"));
  CHECK_FALSE(has(f, "bank_account", "0102345677"));
  CHECK_FALSE(has(f, "bank_account", "0201456787"));
  CHECK(f.size() == 4);
}

TEST_CASE("a version column's dotted numbers are not addresses, an IP column's are") {
  const std::string text =
      "Thiết bị\tPhiên bản\tĐịa chỉ IP\nRouter tầng 3\t10.2.1.4\t10.20.30.41\nSwitch lõi\t12.4.2.1\t10.20.30.42\n";
  const auto f = found(text);
  CHECK(has(f, "ip_address", "10.20.30.41"));
  CHECK(has(f, "ip_address", "10.20.30.42"));
  CHECK_FALSE(has(f, "ip_address", "10.2.1.4"));
  CHECK_FALSE(has(f, "ip_address", "12.4.2.1"));
}

TEST_CASE("space-aligned columns are judged under their headers too") {
  const std::string text =
      "Summarise this roster:\nName              Passport No.  BHXH        Note\n"
      "Vu Thi Hanh       N9908920      4666449837  on leave\nDang Quoc Huy     C5581612      4562132931  -\n"
      "Bui Thanh Huong   C6295977      0219186557  -\nDo Manh Cuong     N4333285      0152634501  -\n";
  const auto f = found(text);
  for (const std::string p : {"N9908920", "C5581612", "C6295977", "N4333285"}) {
    INFO(p);
    CHECK(has(f, "passport", p));  // the last rows are beyond the passport rule's 120-code-point window
  }
  for (const std::string b : {"4666449837", "4562132931", "0219186557", "0152634501"}) {
    INFO(b);
    CHECK(has(f, "social_insurance", b));
  }
}

TEST_CASE("a value's own key decides, the key that holds it counts only when the own key says nothing") {
  // "server" (an IPv4 boost) holds both values; "firmware" (a penalty) keys the build, "ip" the address.
  const std::string xml =
      "<servers>\n  <server><ip>10.20.74.213</ip><firmware>2.4.1.10</firmware></server>\n</servers>";
  const auto f = found(xml);
  CHECK(has(f, "ip_address", "10.20.74.213"));
  CHECK_FALSE(has(f, "ip_address", "2.4.1.10"));
  // A neutral own key still takes its parent's words: `so` under `hoChieu` is a passport number.
  CHECK(has(found("Hồ sơ mẫu:\nhoChieu:\n  so: C1234567\n  noiCap: Hà Nội"), "passport", "C1234567"));
  CHECK(has(found("{\"hoChieu\": {\"so\": \"C1234567\"}}"), "passport", "C1234567"));
}

TEST_CASE("a one-column sheet is judged under its header however long it is") {
  std::string text = "Kiểm tra giúp cột này có số nào trùng không:\nSố hộ chiếu\n";
  std::vector<std::string> passports;
  for (int i = 0; i < 16; ++i) passports.push_back("C71234" + std::to_string(10 + i));
  for (const auto& p : passports) text += p + "\n";
  const auto f = found(text);
  // The last rows lie beyond the passport rule's 120-code-point window from the header.
  for (const auto& p : passports) {
    INFO(p);
    CHECK(has(f, "passport", p));
  }
  // The same codes under a header that names no passport stay codes.
  std::string codes = "Mã nhân viên\n";
  for (const auto& p : passports) codes += p + "\n";
  CHECK(found(codes).count("passport") == 0);
}
