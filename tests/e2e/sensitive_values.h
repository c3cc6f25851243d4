// The raw sensitive values the end-to-end suite sends through the gateway, in one list: the texts
// the tests put in requests (and in the documents they upload), the client's own API key, and the
// passwords and tokens they sign in with. `e2e.no_raw_secrets` (no_raw_secrets_test.cpp) greps
// every log, trail, index and SIEM output the suite's gateways wrote for each of them, in every
// spelling a leak could take (evidence_scan.h), and fails naming the file and the value.
//
// Invariants: every entry is a value no product output may hold in clear (an audit event keeps a
// masked excerpt and a keyed hash; a log line keeps a rule id); a test that sends a new sensitive
// value adds it here (or takes one of the named constants below), so the check looks for it. Not
// listed: names and other context words, which a masked excerpt legitimately shows around a
// finding. Plain constants: no state, any thread.
#pragma once

#include <string_view>
#include <vector>

namespace promptwall::e2e {

// Texts the built-in packs act on (checked with `promptwall scan`).
inline constexpr const char* kClean = "Viết bài thơ về mùa thu Hà Nội";
inline constexpr const char* kSecrecyStamp = "TUYỆT MẬT";                  // vn.secret.degree-stamp when alone on a line
inline constexpr const char* kSecretLine = "Độ mật: TUYỆT MẬT";             // vn.secret.degree-field, block
inline constexpr const char* kCccd = "001203004567";
inline constexpr const char* kCccdText = "Số CCCD của anh Nam là 001203004567";  // vn.pii.cccd, redact
inline constexpr const char* kPhone = "0912345678";                          // vn.pii.phone, redact
inline constexpr const char* kDocNumber = "Số 123/QĐ-UBND ngày 5/3";         // vn.doc.admin-number, warn
// The key every client sends as its own credential for the service: transport, never logged.
inline constexpr const char* kClientApiKey = "sk-e2e-test";
// The admin listener's bearer token (admin.token in the fixture's configuration).
inline constexpr const char* kAdminToken = "test-token";

struct SensitiveValue {
  std::string_view text;  // as the test sends it (NFC UTF-8)
  std::string_view what;  // why it is sensitive, for the check's report
};

inline const std::vector<SensitiveValue>& sent_sensitive_values() {
  static const std::vector<SensitiveValue> values = {
      {kSecrecyStamp, "secrecy stamp (every test's block case)"},
      {"TỐI MẬT", "secrecy stamp (the documents, sdk_files and webapps tests)"},
      {kCccd, "CCCD (kCccd)"},
      {"001099012345", "CCCD in the test documents (report-stamped.docx, staff-list.xlsx, letters)"},
      {"001099012346", "CCCD in the test documents (rosters)"},
      {"079201004321", "CCCD in staff-list.xlsx"},
      {kPhone, "phone number (kPhone)"},
      {"Hoa$Sen2024", "password in the test documents (slides, rosters, the e-mail)"},
      {"Sen@2024", "password in the test documents (archive, attached text)"},
      {kClientApiKey, "the client's API key (Authorization: Bearer)"},
      {kAdminToken, "the admin bearer token"},
      {"đúng-mật-khẩu", "a proxy user's password (identity_test)"},
      {"sai-mật-khẩu", "a wrong proxy password (identity_test)"},
      {"pw-binh", "a proxy user's password (identity_test)"},
      {"Mật-khẩu e2e 7", "the review officer's password (review_test)"},
  };
  return values;
}

}  // namespace promptwall::e2e
