#include "gateway/adapters/block_response.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "encoding/web_text.h"

namespace promptwall::gateway {

namespace {

using Reason = Refusal::Reason;

// Text shown in one language and its counterpart; kept apart so the HTML page can put each in its
// own lang section while the API message joins them.
struct Bilingual {
  std::string vi, en;
};

struct CategoryWords {
  std::string_view id, vi, en;
};

// The categories of rules/packs/*.yaml and rule.h's is_known_category, in plain words.
constexpr std::array<CategoryWords, 15> kCategoryWords{{
    {"classification_marking", "dấu độ mật của văn bản", "a classified-document marking"},
    {"restricted_marking", "dấu hạn chế phổ biến", "a restricted-distribution marking"},
    {"doc_number", "số, ký hiệu văn bản", "an official document number"},
    {"national_id", "số định danh cá nhân (CCCD/CMND)", "a national ID number"},
    {"passport", "số hộ chiếu", "a passport number"},
    {"tax_code", "mã số thuế", "a tax code"},
    {"social_insurance", "số bảo hiểm xã hội", "a social insurance number"},
    {"phone", "số điện thoại", "a phone number"},
    {"email", "địa chỉ email", "an email address"},
    {"bank_account", "số tài khoản ngân hàng", "a bank account number"},
    {"credit_card", "số thẻ thanh toán", "a payment card number"},
    {"secret", "khoá bí mật hoặc mã truy cập", "a secret key or access token"},
    {"ip_address", "địa chỉ IP", "an IP address"},
    {"credential", "thông tin đăng nhập", "login credentials"},
    {"custom_term", "thuật ngữ nội bộ cần bảo vệ", "a protected internal term"},
}};

Bilingual category_words(std::string_view category) {
  for (const auto& c : kCategoryWords)
    if (c.id == category) return {std::string(c.vi), std::string(c.en)};
  return {std::string(category), std::string(category)};
}

// Joins distinct values in first-seen order.
std::string join_distinct(const std::vector<std::string>& values, std::string_view sep) {
  std::vector<std::string_view> seen;
  std::string out;
  for (const auto& v : values) {
    if (v.empty() || std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
    if (!seen.empty()) out += sep;
    out += v;
    seen.push_back(v);
  }
  return out;
}

size_t count_distinct(const std::vector<std::string>& values) {
  std::vector<std::string_view> seen;
  for (const auto& v : values)
    if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  return seen.size();
}

Bilingual sensitive_content_text(const Refusal& r) {
  std::vector<std::string> vi_words, en_words;
  for (const auto& c : r.categories) {
    Bilingual w = category_words(c);
    vi_words.push_back(std::move(w.vi));
    en_words.push_back(std::move(w.en));
  }
  Bilingual what{join_distinct(vi_words, ", "), join_distinct(en_words, ", ")};
  if (what.vi.empty()) what = {"thông tin mật hoặc dữ liệu cá nhân", "classified information or personal data"};

  Bilingual rules;
  if (std::string ids = join_distinct(r.rule_ids, ", "); !ids.empty()) {
    rules.vi = " (quy tắc " + ids + ")";
    rules.en = (count_distinct(r.rule_ids) > 1 ? " (rules " : " (rule ") + ids + ")";
  }
  // In a file: which one, and where in it ("report.docx, page header: ...").
  Bilingual in_file;
  if (!r.file_name.empty()) {
    in_file.vi = " trong tệp \"" + r.file_name + "\"" + (r.file_place_vi.empty() ? "" : " (" + r.file_place_vi + ")");
    in_file.en = " in the file \"" + r.file_name + "\"" + (r.file_place_en.empty() ? "" : " (" + r.file_place_en + ")");
  }
  const Bilingual override = r.may_not_override
                                ? Bilingual{" Quy định yêu cầu nêu lý do để gửi nội dung này, nhưng đơn vị hoặc nhóm "
                                            "của bạn không được phép tự xác nhận gửi tiếp.",
                                            " The policy asks for a justification to send this, and your unit or "
                                            "group may not override it."}
                                : Bilingual{};
  return {"promptwall đã chặn yêu cầu này: nội dung" + in_file.vi + " có thể chứa " + what.vi + rules.vi + "." +
              override.vi +
              " Hãy xoá hoặc thay thế các thông tin đó rồi gửi lại; nếu cho rằng đây là nhầm lẫn, "
              "hãy liên hệ bộ phận an ninh thông tin.",
          "promptwall blocked this request: the content" + in_file.en + " may contain " + what.en + rules.en + "." +
              override.en +
              " Remove or replace that information and send it again; if you think this is a mistake, "
              "contact the information security office."};
}

// Why a presented justification did not count (coaching::TokenProblem's spellings).
Bilingual problem_text(const Refusal::Coaching& c) {
  const std::string& p = c.problem;
  if (p.empty()) return {};
  if (p == "expired")
    return {"Mã xác nhận bạn gửi đã hết hạn; hãy dùng mã mới dưới đây.",
            "The justification token you sent has expired; use the new one below."};
  if (p == "replayed")
    return {"Mã xác nhận bạn gửi đã được dùng rồi (mỗi mã chỉ dùng một lần); hãy dùng mã mới dưới đây.",
            "The justification token you sent has been used already (each works once); use the new one below."};
  if (p == "other_requester")
    return {"Mã xác nhận bạn gửi được cấp cho người khác; hãy dùng mã mới dưới đây.",
            "The justification token you sent was issued to someone else; use the new one below."};
  if (p == "other_request")
    return {"Mã xác nhận bạn gửi được cấp cho một yêu cầu khác: nội dung đã thay đổi so với lần gửi trước, nên "
            "cần xác nhận lại.",
            "The justification token you sent was issued for a different request: the content changed since, "
            "so it needs a new justification."};
  if (p == "reason_missing")
    return {"Bạn cần nêu lý do (ít nhất " + std::to_string(c.min_reason_chars) + " ký tự) để gửi tiếp.",
            "A reason is required to go on (at least " + std::to_string(c.min_reason_chars) + " characters)."};
  if (p == "ledger_full")
    return {"promptwall đang có quá nhiều xác nhận chờ xử lý; hãy thử lại sau ít phút.",
            "promptwall has too many justifications in progress; try again in a few minutes."};
  return {"Mã xác nhận bạn gửi không hợp lệ (bị sửa hoặc sai định dạng); hãy dùng mã mới dưới đây.",
          "The justification token you sent is not valid (altered or malformed); use the new one below."};
}

// What was found, one finding after another: "quy tắc X (thông điệp): số CCCD; đoạn «…»".
Bilingual coached_findings_text(const Refusal::Coaching& c) {
  Bilingual out;
  for (size_t i = 0; i < c.findings.size(); ++i) {
    const auto& f = c.findings[i];
    const Bilingual words = category_words(f.category);
    const std::string sep = i == 0 ? "" : "; ";
    out.vi += sep + words.vi + " (quy tắc " + f.rule_id + (f.message_vi.empty() ? "" : ": " + f.message_vi) + ")" +
              (f.excerpt.empty() ? "" : ", đoạn: " + f.excerpt);
    out.en += sep + words.en + " (rule " + f.rule_id + (f.message_en.empty() ? "" : ": " + f.message_en) + ")" +
              (f.excerpt.empty() ? "" : ", excerpt: " + f.excerpt);
  }
  if (out.vi.empty()) out = {"thông tin cần xem lại", "information to review"};
  return out;
}

Bilingual coaching_text(const Refusal& r) {
  const Refusal::Coaching& c = r.coaching;
  const Bilingual found = coached_findings_text(c);
  const Bilingual problem = problem_text(c);
  Bilingual guidance;
  if (!c.guidance_url.empty())
    guidance = {" Hướng dẫn của tổ chức: " + c.guidance_url + ".", " Your organisation's guidance: " + c.guidance_url + "."};
  const std::string minutes = std::to_string(c.lifetime_minutes);
  const Bilingual reason =
      c.reason_required
          ? Bilingual{"lý do của bạn, bắt buộc, ít nhất " + std::to_string(c.min_reason_chars) + " ký tự",
                      "your reason, required, at least " + std::to_string(c.min_reason_chars) + " characters"}
          : Bilingual{"lý do của bạn, không bắt buộc", "your reason, optional"};
  Bilingual how;
  if (!c.token.empty()) {
    how.vi = " Nếu vẫn cần gửi, hãy gửi lại đúng yêu cầu này kèm header X-Promptwall-Justification-Token: " +
             c.token + " và header X-Promptwall-Justification: <" + reason.vi + ", UTF-8 hoặc mã hoá %XX>" +
             (c.justify_url.empty() ? "" : "; hoặc mở " + c.justify_url + " trong trình duyệt để nêu lý do rồi gửi lại") +
             ". Mã này dùng được một lần trong " + minutes + " phút; việc gửi tiếp và lý do được ghi vào nhật ký "
             "kiểm toán.";
    how.en = " If you still need to send it, send the same request again with the header "
             "X-Promptwall-Justification-Token: " + c.token + " and the header X-Promptwall-Justification: <" +
             reason.en + ", UTF-8 or %XX-encoded>" +
             (c.justify_url.empty() ? "" : "; or open " + c.justify_url + " in a browser, give your reason, and send it again") +
             ". The token works once within " + minutes + " minutes; going on and your reason are recorded in the "
             "audit trail.";
  }
  const Bilingual lead = c.reason_required
                             ? Bilingual{"promptwall tạm dừng yêu cầu này: theo quy định, cần nêu lý do trước khi gửi nội dung có thể chứa ",
                                         "promptwall paused this request: the policy asks for a reason before sending content that may contain "}
                             : Bilingual{"promptwall tạm dừng yêu cầu này để bạn xem lại trước khi gửi: nội dung có thể chứa ",
                                         "promptwall paused this request so you can review it before it is sent: the content may contain "};
  return {lead.vi + found.vi + "." + (problem.vi.empty() ? "" : " " + problem.vi) + guidance.vi + how.vi,
          lead.en + found.en + "." + (problem.en.empty() ? "" : " " + problem.en) + guidance.en + how.en};
}

Bilingual service_name(const Refusal& r) {
  if (r.service.empty()) return {"dịch vụ AI", "the AI service"};
  return {"dịch vụ AI \"" + r.service + "\"", "the AI service \"" + r.service + "\""};
}

Bilingual reason_text(const Refusal& r) {
  switch (r.reason) {
    case Reason::sensitive_content:
      return sensitive_content_text(r);
    case Reason::unapproved_service: {
      Bilingual s = service_name(r);
      if (!r.scope_kind.empty()) {
        const Bilingual scope = r.scope_kind == "unit" ? Bilingual{"đơn vị \"" + r.scope_name + "\"", "the unit \"" + r.scope_name + "\""}
                                                       : Bilingual{"nhóm \"" + r.scope_name + "\"", "the group \"" + r.scope_name + "\""};
        return {"promptwall đã chặn yêu cầu này: " + s.vi + " không được phép sử dụng đối với " + scope.vi +
                    " của bạn. Hãy dùng một dịch vụ được phép hoặc liên hệ bộ phận an ninh thông tin.",
                "promptwall blocked this request: " + s.en + " is not allowed for " + scope.en +
                    " you belong to. Use an allowed service or contact the information security office."};
      }
      return {"promptwall đã chặn yêu cầu này: " + s.vi +
                  " chưa được tổ chức phê duyệt. Hãy dùng một dịch vụ đã được phê duyệt hoặc liên hệ bộ "
                  "phận an ninh thông tin.",
              "promptwall blocked this request: " + s.en +
                  " is not approved by your organisation. Use an approved service or contact the "
                  "information security office."};
    }
    case Reason::unreadable_body:
      return {"promptwall đã chặn yêu cầu này: không đọc được nội dung yêu cầu để kiểm tra (định dạng hoặc "
              "mã hoá không được hỗ trợ) nên không thể gửi đi.",
              "promptwall blocked this request: its content could not be read for checking (unsupported "
              "format or encoding), so it cannot be sent."};
    case Reason::body_too_large:
      return {"promptwall đã chặn yêu cầu này: nội dung quá lớn để kiểm tra. Hãy gửi nội dung ngắn hơn.",
              "promptwall blocked this request: its content is too large to be checked. Send less at a time."};
    case Reason::header_too_large:
      return {"promptwall đã chặn yêu cầu này: phần tiêu đề (header) của yêu cầu quá lớn.",
              "promptwall blocked this request: its headers are too large."};
    case Reason::unsupported_request:
      return {"promptwall không thể chuyển tiếp yêu cầu này theo cách nó được gửi. Hãy kiểm tra cấu hình "
              "địa chỉ gateway của ứng dụng hoặc liên hệ bộ phận CNTT.",
              "promptwall cannot forward this request as it was made. Check the application's gateway "
              "settings or contact IT support."};
    case Reason::malformed_request:
      return {"promptwall đã chặn yêu cầu này: yêu cầu HTTP không đúng định dạng (độ dài nội dung, mã hoá "
              "truyền hoặc Host không rõ ràng) nên không thể chuyển tiếp an toàn.",
              "promptwall blocked this request: it is not well-formed HTTP (its length, transfer coding or Host "
              "can be read more than one way), so it cannot be forwarded safely."};
    case Reason::upstream_unavailable: {
      Bilingual s = service_name(r);
      return {"promptwall không kết nối được tới " + s.vi +
                  " (lỗi kết nối hoặc không xác minh được chứng chỉ). Hãy thử lại sau.",
              "promptwall could not reach " + s.en +
                  " (the connection failed or its certificate could not be verified). Try again later."};
    }
    case Reason::upstream_timeout: {
      Bilingual s = service_name(r);
      return {"promptwall không nhận được phản hồi kịp thời từ " + s.vi + ". Hãy thử lại sau.",
              "promptwall did not get an answer in time from " + s.en + ". Try again later."};
    }
    case Reason::internal_error:
      return {"promptwall gặp lỗi khi kiểm tra yêu cầu này nên đã chặn để bảo đảm an toàn. Hãy thử lại; "
              "nếu lỗi lặp lại, hãy liên hệ bộ phận CNTT.",
              "promptwall hit an error while checking this request and stopped it to be safe. Try again; "
              "if it happens again, contact IT support."};
    case Reason::overloaded:
      return {"promptwall đang quá tải nên chưa xử lý được yêu cầu này. Hãy thử lại sau ít phút.",
              "promptwall is overloaded and could not handle this request. Try again in a few minutes."};
    case Reason::audit_unavailable:
      return {"promptwall tạm thời không gửi được yêu cầu tới dịch vụ AI vì không ghi được nhật ký kiểm "
              "toán; mọi yêu cầu đều phải được ghi lại trước khi gửi đi. Hãy thử lại sau ít phút; nếu lỗi "
              "kéo dài, hãy liên hệ bộ phận CNTT.",
              "promptwall cannot send requests to AI services right now because its audit trail cannot be "
              "written, and every request must be recorded before it leaves. Try again in a few minutes; "
              "if it persists, contact IT support."};
    case Reason::rules_unavailable:
      return {"promptwall tạm thời không gửi được yêu cầu tới dịch vụ AI vì chưa nhận được bộ quy tắc "
              "kiểm tra đã ký hợp lệ; không yêu cầu nào được gửi đi khi chưa được kiểm tra. Hãy thử lại "
              "sau ít phút; nếu lỗi kéo dài, hãy liên hệ bộ phận CNTT.",
              "promptwall cannot send requests to AI services right now because it has no verified, signed "
              "rule bundle yet, and no request leaves unchecked. Try again in a few minutes; if it "
              "persists, contact IT support."};
    case Reason::proxy_auth_required:
      return {"promptwall cần biết bạn là ai trước khi chuyển tiếp yêu cầu: hãy đăng nhập proxy bằng tài "
              "khoản của tổ chức (tên đăng nhập hoặc mật khẩu chưa đúng, hoặc chưa được nhập). Nếu cần "
              "trợ giúp, hãy liên hệ bộ phận CNTT.",
              "promptwall needs to know who you are before it forwards this request: sign in to the proxy "
              "with your organisation account (the user name or password was missing or wrong). If you "
              "need help, contact IT support."};
    case Reason::file_not_inspected:
      if (!r.file_name.empty() || !r.file_cause_en.empty()) {
        const std::string vi_name = r.file_name.empty() ? "" : " \"" + r.file_name + "\"";
        const std::string en_name = r.file_name.empty() ? "" : " \"" + r.file_name + "\"";
        return {"promptwall đã chặn yêu cầu này: không kiểm tra được nội dung tệp" + vi_name +
                    (r.file_cause_vi.empty() ? "" : " (" + r.file_cause_vi + ")") +
                    ", nên không thể gửi đi. Hãy gửi tệp ở dạng đọc được (không đặt mật khẩu, có lớp chữ) "
                    "hoặc dán phần văn bản cần dùng, hoặc liên hệ bộ phận an ninh thông tin.",
                "promptwall blocked this request: the content of the file" + en_name +
                    (r.file_cause_en.empty() ? "" : " could not be checked (" + r.file_cause_en + ")") +
                    (r.file_cause_en.empty() ? " could not be checked" : "") +
                    ", so it cannot be sent. Send the file in a readable form (no password, with a text "
                    "layer) or paste the text you need, or contact the information security office."};
      }
      return {"promptwall đã chặn yêu cầu này: yêu cầu có kèm tệp (tài liệu, ảnh hoặc dữ liệu mã hoá) mà "
              "promptwall chưa kiểm tra được nội dung, nên không thể gửi đi. Hãy dán phần văn bản cần dùng "
              "thay cho tệp, hoặc liên hệ bộ phận an ninh thông tin.",
              "promptwall blocked this request: it carries a file (a document, an image or encoded data) "
              "whose content promptwall cannot check yet, so it cannot be sent. Paste the text you need "
              "instead of the file, or contact the information security office."};
    case Reason::forbidden_destination:
      return {"promptwall đã chặn yêu cầu này: địa chỉ đích là mạng nội bộ, chính gateway hoặc nằm ngoài "
              "đường dẫn của dịch vụ, nên không được đi qua proxy.",
              "promptwall blocked this request: its destination is an internal network, the gateway "
              "itself, or outside the service's path, which the proxy does not reach."};
    case Reason::justification_required:
      return coaching_text(r);
    case Reason::override_cap_reached:
      return {"promptwall đã chặn yêu cầu này: hôm nay bạn đã tự xác nhận gửi tiếp nội dung bị cảnh báo đủ số lần "
              "tối đa tổ chức cho phép. Hãy xoá hoặc thay thế thông tin bị cảnh báo, chờ đến ngày mai (giờ UTC), "
              "hoặc liên hệ bộ phận an ninh thông tin.",
              "promptwall blocked this request: you have overridden warnings as many times today as your "
              "organisation allows. Remove or replace the flagged information, wait until tomorrow (UTC), or "
              "contact the information security office."};
    case Reason::uninspectable_connection:
      return {"promptwall đã chặn kết nối này: nó tới một dịch vụ AI nhưng không nêu tên máy chủ nên không "
              "thể kiểm tra. Hãy truy cập dịch vụ bằng tên miền của nó (không dùng địa chỉ IP).",
              "promptwall blocked this connection: it goes to an AI service without naming the host, so it "
              "cannot be checked. Reach the service by its domain name, not by its IP address."};
  }
  return {"promptwall đã chặn yêu cầu này.", "promptwall blocked this request."};
}

enum class StatusClass : uint8_t { policy, bad_request, too_large, server };

StatusClass status_class(unsigned status) {
  if (status == 403) return StatusClass::policy;
  if (status == 413) return StatusClass::too_large;
  if (status >= 500) return StatusClass::server;
  return StatusClass::bad_request;
}

std::string_view openai_type(unsigned status) {
  switch (status_class(status)) {
    case StatusClass::policy: return "promptwall_blocked";
    case StatusClass::server: return "server_error";
    case StatusClass::bad_request:
    case StatusClass::too_large: return "invalid_request_error";
  }
  return "promptwall_blocked";
}

// google.rpc.Code names as Gemini returns them.
std::string_view gemini_status(const Refusal& r) {
  switch (r.reason) {
    case Reason::sensitive_content:
    case Reason::unapproved_service:
    case Reason::file_not_inspected:
    case Reason::forbidden_destination:
    case Reason::justification_required:
    case Reason::override_cap_reached:
    case Reason::uninspectable_connection: return "PERMISSION_DENIED";
    case Reason::unreadable_body:
    case Reason::body_too_large:
    case Reason::header_too_large:
    case Reason::unsupported_request:
    case Reason::malformed_request: return "INVALID_ARGUMENT";
    case Reason::upstream_unavailable: return "UNAVAILABLE";
    case Reason::upstream_timeout: return "DEADLINE_EXCEEDED";
    case Reason::internal_error: return "INTERNAL";
    case Reason::overloaded: return "RESOURCE_EXHAUSTED";
    case Reason::audit_unavailable:
    case Reason::rules_unavailable: return "UNAVAILABLE";
    case Reason::proxy_auth_required: return "UNAUTHENTICATED";
  }
  return "INTERNAL";
}

std::string_view anthropic_type(const Refusal& r) {
  switch (r.reason) {
    case Reason::sensitive_content:
    case Reason::unapproved_service:
    case Reason::file_not_inspected:
    case Reason::forbidden_destination:
    case Reason::justification_required:
    case Reason::override_cap_reached:
    case Reason::uninspectable_connection: return "permission_error";
    case Reason::unreadable_body:
    case Reason::header_too_large:
    case Reason::unsupported_request:
    case Reason::malformed_request: return "invalid_request_error";
    case Reason::body_too_large: return "request_too_large";
    case Reason::upstream_unavailable:
    case Reason::internal_error: return "api_error";
    case Reason::upstream_timeout: return "timeout_error";
    case Reason::overloaded: return "overloaded_error";
    case Reason::audit_unavailable:
    case Reason::rules_unavailable: return "api_error";
    case Reason::proxy_auth_required: return "authentication_error";
  }
  return "api_error";
}

// Ids come from configuration, not from the request, but are escaped like any text: a stray
// invalid byte is replaced rather than failing the refusal.
std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Length of a chunk as the app's JavaScript counts it (String.length: UTF-16 code units).
size_t utf16_length(std::string_view utf8) {
  size_t units = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) ++units;  // a lead byte starts a code point
    if ((c & 0xF8) == 0xF0) ++units;  // 4-byte sequences are surrogate pairs
  }
  return units;
}

// A StreamGenerate answer whose reply is the notice, in the recorded shape: the `)]}'` guard, then
// length-prefixed chunks; the reply chunk is [["wrb.fr",null,"<JSON>"]] where the JSON's [1] holds
// the conversation and response ids and [4] the candidates, each [rcid, [text, ...], ...]. The app
// renders candidate text as Gemini's answer, which is where a person reads it; an HTTP error would
// show only the app's generic "something went wrong". The ids are ours, not a real conversation's,
// so the app does not continue a conversation the notice is not part of.
std::string gemini_web_body(const std::string& message) {
  using Json = nlohmann::ordered_json;
  // Built element by element: a braced list of two strings would become an object.
  Json ids = Json::array();
  ids.push_back("c_promptwall");
  ids.push_back("r_promptwall");
  Json text = Json::array();
  text.push_back(message);
  Json candidate = Json::array();
  candidate.push_back("rc_promptwall");
  candidate.push_back(std::move(text));
  Json candidates = Json::array();
  candidates.push_back(std::move(candidate));
  Json inner = Json::array();
  inner.push_back(nullptr);
  inner.push_back(std::move(ids));
  inner.push_back(nullptr);
  inner.push_back(nullptr);
  inner.push_back(std::move(candidates));
  Json row = Json::array();
  row.push_back("wrb.fr");
  row.push_back(nullptr);
  row.push_back(dump(inner));
  Json envelope = Json::array();
  envelope.push_back(std::move(row));
  const std::string chunk = dump(envelope);
  return ")]}'\n\n" + std::to_string(utf16_length(chunk)) + "\n" + chunk + "\n";
}

std::string json_body(Schema schema, const Refusal& r, unsigned status) {
  const std::string message = refusal_message(r);
  nlohmann::ordered_json j;
  switch (schema) {
    case Schema::gemini:
      j["error"] = {{"code", status}, {"message", message}, {"status", gemini_status(r)}};
      break;
    case Schema::anthropic:
      j["type"] = "error";
      j["error"] = {{"type", anthropic_type(r)}, {"message", message}};
      break;
    case Schema::chatgpt_web:
      // The app shows an error response's `detail` string to the user (as for its own 403/429s).
      j["detail"] = message;
      break;
    case Schema::gemini_web:
      return gemini_web_body(message);
    case Schema::openai:
    case Schema::json:
    case Schema::text:
      j["error"] = {{"message", message},
                    {"type", openai_type(status)},
                    {"param", nullptr},
                    {"code", "promptwall_" + std::string(to_string(r.reason))}};
      break;
  }
  return dump(j);
}

// The same escaping as the review site's pages.
using encoding::html_escape;

Bilingual heading(const Refusal& r, unsigned status) {
  if (r.reason == Reason::justification_required)
    return {"Cần xác nhận trước khi gửi", "Confirm before sending"};
  if (status >= 500) return {"Yêu cầu chưa được xử lý", "Request not completed"};
  return {"Yêu cầu đã bị chặn", "Request blocked"};
}

std::string html_section(std::string_view lang, std::string_view title, std::string_view text,
                         std::string_view id_label, const std::string& request_id) {
  std::string s = "<section lang=\"" + std::string(lang) + "\">\n<h1>" + html_escape(title) + "</h1>\n<p>" +
                  html_escape(text) + "</p>\n";
  if (!request_id.empty())
    s += "<p class=\"id\">" + html_escape(id_label) + ": <code>" + html_escape(request_id) + "</code></p>\n";
  return s + "</section>\n";
}

// The coaching page's body in one language: what was found (a list), why a justification did not
// count, the guidance link, and the form (both languages post the same form; it is shown once,
// between the sections, labelled in both).
std::string coaching_section(std::string_view lang, const Refusal& r, bool vi) {
  const Refusal::Coaching& c = r.coaching;
  std::string s = "<section lang=\"" + std::string(lang) + "\">\n<h1>" +
                  html_escape(vi ? "Cần xác nhận trước khi gửi" : "Confirm before sending") + "</h1>\n<p>" +
                  html_escape(c.reason_required
                                  ? (vi ? "Theo quy định, cần nêu lý do trước khi gửi nội dung này tới dịch vụ AI."
                                        : "The policy asks for a reason before this content is sent to the AI service.")
                                  : (vi ? "Hãy xem lại trước khi gửi: nội dung này có thể chứa thông tin cần bảo vệ."
                                        : "Review this before it is sent: the content may hold information to protect.")) +
                  "</p>\n<ul>\n";
  for (const auto& f : c.findings) {
    const Bilingual words = category_words(f.category);
    const std::string& message = vi ? f.message_vi : f.message_en;
    s += "<li>" + html_escape(vi ? words.vi : words.en) + " (<code>" + html_escape(f.rule_id) + "</code>" +
         (message.empty() ? "" : ": " + html_escape(message)) + ")" +
         (f.excerpt.empty() ? "" : "<br><code>" + html_escape(f.excerpt) + "</code>") + "</li>\n";
  }
  s += "</ul>\n";
  const Bilingual problem = problem_text(c);
  if (!problem.vi.empty()) s += "<p class=\"problem\">" + html_escape(vi ? problem.vi : problem.en) + "</p>\n";
  if (!c.guidance_url.empty())
    s += "<p>" + html_escape(vi ? "Hướng dẫn của tổ chức: " : "Your organisation's guidance: ") + "<a href=\"" +
         html_escape(c.guidance_url) + "\" rel=\"noreferrer\">" + html_escape(c.guidance_url) + "</a></p>\n";
  if (!r.request_id.empty())
    s += "<p class=\"id\">" + html_escape(vi ? "Mã yêu cầu" : "Request id") + ": <code>" + html_escape(r.request_id) +
         "</code></p>\n";
  return s + "</section>\n";
}

std::string coaching_form(const Refusal::Coaching& c) {
  if (c.token.empty() || c.form_action.empty()) return {};
  const std::string required = c.reason_required ? " required minlength=\"" + std::to_string(c.min_reason_chars) + "\"" : "";
  return "<form method=\"post\" action=\"" + html_escape(c.form_action) + "\">\n"
         "<input type=\"hidden\" name=\"t\" value=\"" + html_escape(c.token) + "\">\n"
         "<input type=\"hidden\" name=\"s\" value=\"" + html_escape(c.form_secret) + "\">\n"
         "<label for=\"reason\">" +
         html_escape(c.reason_required ? "Lý do (bắt buộc) / Reason (required)" : "Lý do (không bắt buộc) / Reason (optional)") +
         "</label>\n<textarea id=\"reason\" name=\"reason\" rows=\"3\" maxlength=\"2000\"" + required + "></textarea>\n"
         "<p>" + html_escape("Sau khi gửi lý do, hãy gửi lại yêu cầu trong ứng dụng trong vòng " +
                             std::to_string(c.lifetime_minutes) + " phút. / After submitting, send the request again "
                             "in the application within " + std::to_string(c.lifetime_minutes) + " minutes.") +
         "</p>\n<button type=\"submit\">" + html_escape("Xác nhận và tiếp tục / Confirm and continue") +
         "</button>\n</form>\n";
}

std::string page_head(const Bilingual& title, std::string_view colour) {
  return "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"referrer\" content=\"no-referrer\">\n<title>promptwall: " +
         html_escape(title.vi) + " / " + html_escape(title.en) +
         "</title>\n<style>\n"
         "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;background:#f5f5f4;"
         "color:#1c1917;margin:0;padding:2rem}\n"
         "main{max-width:42rem;margin:0 auto;background:#fff;border-top:6px solid " + std::string(colour) +
         ";border-radius:6px;padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}\n"
         "section+section,form{border-top:1px solid #e7e5e4;margin-top:1.5rem;padding-top:1rem}\n"
         "h1{font-size:1.3rem;margin:.2rem 0 .8rem}p{line-height:1.5}\n"
         ".id code,li code{background:#f5f5f4;padding:.1rem .4rem;border-radius:3px}\n"
         "textarea{width:100%;box-sizing:border-box}.problem{color:#b91c1c}\n"
         "</style>\n</head>\n<body>\n<main>\n";
}

std::string html_coaching_body(const Refusal& r) {
  std::string page = page_head(heading(r, 403), "#d97706");
  page += coaching_section("vi", r, true);
  page += coaching_form(r.coaching);
  page += coaching_section("en", r, false);
  page += "</main>\n</body>\n</html>\n";
  return page;
}

std::string html_body(const Refusal& r, unsigned status) {
  if (r.reason == Reason::justification_required) return html_coaching_body(r);
  const Bilingual text = reason_text(r);
  const Bilingual title = heading(r, status);
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>promptwall: " +
      html_escape(title.vi) + " / " + html_escape(title.en) +
      "</title>\n<style>\n"
      "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;background:#f5f5f4;"
      "color:#1c1917;margin:0;padding:2rem}\n"
      "main{max-width:42rem;margin:0 auto;background:#fff;border-top:6px solid #b91c1c;border-radius:6px;"
      "padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}\n"
      "section+section{border-top:1px solid #e7e5e4;margin-top:1.5rem;padding-top:1rem}\n"
      "h1{font-size:1.3rem;margin:.2rem 0 .8rem}p{line-height:1.5}\n"
      ".id code{background:#f5f5f4;padding:.1rem .4rem;border-radius:3px}\n"
      "</style>\n</head>\n<body>\n<main>\n";
  page += html_section("vi", title.vi, text.vi, "Mã yêu cầu", r.request_id);
  page += html_section("en", title.en, text.en, "Request id", r.request_id);
  page += "</main>\n</body>\n</html>\n";
  return page;
}

// --- Accept header ---------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct MediaRange {
  std::string_view type;  // "text/html", "text/*", "*/*"
  double q = 1;
};

MediaRange parse_media_range(std::string_view item) {
  MediaRange m;
  size_t semi = item.find(';');
  m.type = trim(item.substr(0, semi));
  while (semi != std::string_view::npos) {
    item.remove_prefix(semi + 1);
    semi = item.find(';');
    std::string_view param = trim(item.substr(0, semi));
    size_t eq = param.find('=');
    if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "q")) continue;
    std::string_view value = trim(param.substr(eq + 1));
    double q = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    // An unreadable q counts as 0: a range the client did not express clearly is not preferred.
    m.q = (ec == std::errc() && end == value.data() + value.size()) ? std::clamp(q, 0.0, 1.0) : 0.0;
  }
  return m;
}

// How a client ranks one media type: the most specific range that names it, as RFC 9110 says.
struct Preference {
  int specificity = 0;  // 0: no range matches, 1: */*, 2: type/*, 3: exact
  double q = 0;
  size_t position = 0;
};

int specificity(std::string_view range, std::string_view type_wildcard,
                std::initializer_list<std::string_view> exact) {
  if (range == "*/*") return 1;
  if (iequals(range, type_wildcard)) return 2;
  for (auto e : exact)
    if (iequals(range, e)) return 3;
  return 0;
}

}  // namespace

Refusal Refusal::because(Reason reason, std::string request_id, std::string service) {
  Refusal r;
  r.reason = reason;
  r.request_id = std::move(request_id);
  r.service = std::move(service);
  return r;
}

Refusal Refusal::unapproved(std::string service, std::string request_id, std::string scope_kind,
                            std::string scope_name) {
  Refusal r = because(Reason::unapproved_service, std::move(request_id), std::move(service));
  r.scope_kind = std::move(scope_kind);
  r.scope_name = std::move(scope_name);
  return r;
}

Refusal Refusal::sensitive(std::vector<std::string> rule_ids, std::vector<std::string> categories,
                           std::string request_id) {
  Refusal r = because(Reason::sensitive_content, std::move(request_id));
  r.rule_ids = std::move(rule_ids);
  r.categories = std::move(categories);
  return r;
}

Refusal Refusal::coaching_answer(Coaching coaching, std::string service, std::string request_id) {
  Refusal r = because(Reason::justification_required, std::move(request_id), std::move(service));
  for (const auto& f : coaching.findings) {
    r.rule_ids.push_back(f.rule_id);
    r.categories.push_back(f.category);
  }
  r.coaching = std::move(coaching);
  return r;
}

Refusal Refusal::unreadable_file(std::string file_name, std::string cause_vi, std::string cause_en,
                                 std::string request_id) {
  Refusal r = because(Reason::file_not_inspected, std::move(request_id));
  r.file_name = std::move(file_name);
  r.file_cause_vi = std::move(cause_vi);
  r.file_cause_en = std::move(cause_en);
  return r;
}

std::string_view to_string(Refusal::Reason r) {
  switch (r) {
    case Reason::sensitive_content: return "sensitive_content";
    case Reason::unapproved_service: return "unapproved_service";
    case Reason::unreadable_body: return "unreadable_body";
    case Reason::body_too_large: return "body_too_large";
    case Reason::header_too_large: return "header_too_large";
    case Reason::unsupported_request: return "unsupported_request";
    case Reason::upstream_unavailable: return "upstream_unavailable";
    case Reason::upstream_timeout: return "upstream_timeout";
    case Reason::internal_error: return "internal_error";
    case Reason::overloaded: return "overloaded";
    case Reason::audit_unavailable: return "audit_unavailable";
    case Reason::rules_unavailable: return "rules_unavailable";
    case Reason::proxy_auth_required: return "proxy_auth_required";
    case Reason::file_not_inspected: return "file_not_inspected";
    case Reason::forbidden_destination: return "forbidden_destination";
    case Reason::uninspectable_connection: return "uninspectable_connection";
    case Reason::malformed_request: return "malformed_request";
    case Reason::justification_required: return "justification_required";
    case Reason::override_cap_reached: return "override_cap_reached";
  }
  return "internal_error";
}

unsigned status_code(const Refusal& r) {
  switch (r.reason) {
    case Reason::sensitive_content:
    case Reason::unapproved_service:
    case Reason::file_not_inspected:
    case Reason::forbidden_destination:
    case Reason::justification_required:
    case Reason::override_cap_reached:
    case Reason::uninspectable_connection: return 403;
    case Reason::unreadable_body:
    case Reason::unsupported_request:
    case Reason::malformed_request: return 400;
    case Reason::body_too_large: return 413;
    case Reason::header_too_large: return 431;
    case Reason::upstream_unavailable: return 502;
    case Reason::upstream_timeout: return 504;
    case Reason::internal_error: return 500;
    case Reason::overloaded:
    case Reason::audit_unavailable:
    case Reason::rules_unavailable: return 503;
    case Reason::proxy_auth_required: return 407;
  }
  return 500;
}

std::string refusal_message(const Refusal& r) {
  Bilingual text = reason_text(r);
  if (!r.request_id.empty()) {
    text.vi += " Mã yêu cầu: " + r.request_id + ".";
    text.en += " Request id: " + r.request_id + ".";
  }
  return text.vi + " | " + text.en;
}

RefusalResponse render_refusal(Schema schema, bool html, const Refusal& r) {
  RefusalResponse out;
  out.status = status_code(r);
  if (html) {
    out.content_type = "text/html; charset=utf-8";
    out.body = html_body(r, out.status);
  } else {
    out.content_type = "application/json";
    out.body = json_body(schema, r, out.status);
    if (schema == Schema::gemini_web) {
      // The app reads a 200 stream and shows its reply; see gemini_web_body().
      out.status = 200;
      out.content_type = "application/json; charset=utf-8";
    }
  }
  return out;
}

std::string websocket_close_reason(const Refusal& r) {
  std::string what;
  switch (r.reason) {
    case Reason::sensitive_content: what = "đã chặn: nội dung nhạy cảm | blocked: sensitive content"; break;
    case Reason::justification_required: what = "tạm dừng: cần xác nhận | paused: justification needed"; break;
    case Reason::unreadable_body: what = "đã chặn: không đọc được | blocked: unreadable message"; break;
    case Reason::file_not_inspected: what = "đã chặn: tệp chưa kiểm tra | blocked: file not inspected"; break;
    case Reason::body_too_large: what = "đã chặn: quá lớn | blocked: message too large"; break;
    case Reason::audit_unavailable: what = "tạm dừng: nhật ký lỗi | paused: audit unavailable"; break;
    case Reason::rules_unavailable: what = "tạm dừng: chưa có quy tắc | paused: no rules"; break;
    default: what = "đã chặn | refused"; break;
  }
  std::string out = "promptwall " + what;
  if (!r.request_id.empty()) out += " (ID " + r.request_id + ")";
  // RFC 6455 §5.5: a control frame's payload is at most 125 bytes, 2 of them the code. Cut on a
  // code point boundary so the reason stays UTF-8.
  if (out.size() > kMaxCloseReasonBytes) {
    size_t cut = kMaxCloseReasonBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string justification_accepted_page(const std::string& request_id) {
  const Bilingual title{"Đã ghi nhận lý do", "Justification recorded"};
  std::string page = page_head(title, "#15803d");
  page += html_section("vi", title.vi,
                       "Lý do của bạn đã được ghi nhận. Hãy quay lại ứng dụng và gửi lại đúng yêu cầu vừa rồi; "
                       "việc gửi tiếp và lý do được ghi vào nhật ký kiểm toán.",
                       "Mã yêu cầu", request_id);
  page += html_section("en", title.en,
                       "Your justification has been recorded. Go back to the application and send the same request "
                       "again; going on and your reason are recorded in the audit trail.",
                       "Request id", request_id);
  page += "</main>\n</body>\n</html>\n";
  return page;
}

bool prefers_html(std::string_view accept_header) {
  Preference html, json;
  size_t position = 0;
  auto consider = [](Preference& p, int spec, double q, size_t pos) {
    if (spec > p.specificity) p = {spec, q, pos};
  };
  while (!accept_header.empty()) {
    size_t comma = accept_header.find(',');
    std::string_view item = trim(accept_header.substr(0, comma));
    accept_header.remove_prefix(comma == std::string_view::npos ? accept_header.size() : comma + 1);
    if (item.empty()) continue;
    MediaRange m = parse_media_range(item);
    consider(html, specificity(m.type, "text/*", {"text/html", "application/xhtml+xml"}), m.q, position);
    consider(json, specificity(m.type, "application/*", {"application/json"}), m.q, position);
    ++position;
  }
  if (html.specificity == 0 || html.q <= 0) return false;
  if (json.specificity == 0) return true;
  if (html.q != json.q) return html.q > json.q;
  if (html.specificity != json.specificity) return html.specificity > json.specificity;
  return html.position < json.position;
}

}  // namespace promptwall::gateway
