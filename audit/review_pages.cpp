#include "audit/review_pages.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <set>

#include "encoding/web_text.h"

namespace promptwall::audit {

// ---------------------------------------------------------------------------------------------
// Messages

namespace {

struct Message {
  Msg id;
  std::string_view vi, en;
};

constexpr Message kMessages[] = {
    {Msg::app_title, "Rà soát vi phạm dữ liệu — promptwall", "Data violation review — promptwall"},
    {Msg::nav_list, "Danh sách vi phạm", "Violations"},
    {Msg::nav_charts, "Biểu đồ", "Charts"},
    {Msg::logout, "Đăng xuất", "Log out"},
    {Msg::signed_in_as, "Cán bộ:", "Officer:"},
    {Msg::switch_language, "English", "Tiếng Việt"},
    {Msg::login_title, "Đăng nhập dành cho cán bộ rà soát", "Sign-in for review officers"},
    {Msg::login_name, "Tên đăng nhập", "User name"},
    {Msg::login_password, "Mật khẩu", "Password"},
    {Msg::login_submit, "Đăng nhập", "Sign in"},
    {Msg::login_failed, "Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong user name or password."},
    {Msg::login_locked, "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.",
     "Too many failed sign-ins. Please try again in 15 minutes."},
    {Msg::login_needed, "Vui lòng đăng nhập.", "Please sign in."},
    {Msg::review_off,
     "Trang rà soát đang tắt: hãy khai báo audit.review.officers trong cấu hình (tạo mã băm mật khẩu bằng "
     "`promptwall audit passwd`).",
     "The review page is off: configure audit.review.officers (make a password hash with `promptwall audit "
     "passwd`)."},
    {Msg::filter_title, "Bộ lọc", "Filter"},
    {Msg::filter_from, "Từ ngày", "From"},
    {Msg::filter_to, "Đến ngày", "To"},
    {Msg::filter_apply, "Lọc", "Apply"},
    {Msg::filter_clear, "Bỏ lọc", "Clear"},
    {Msg::any, "(tất cả)", "(any)"},
    {Msg::col_time, "Thời gian", "Time"},
    {Msg::col_user, "Người dùng", "User"},
    {Msg::col_unit, "Đơn vị", "Unit"},
    {Msg::col_service, "Dịch vụ", "Service"},
    {Msg::col_rule, "Quy tắc", "Rule"},
    {Msg::col_category, "Loại dữ liệu", "Category"},
    {Msg::col_decision, "Quyết định", "Decision"},
    {Msg::col_severity, "Mức độ", "Severity"},
    {Msg::col_min_severity, "Mức độ từ", "Severity at least"},
    {Msg::col_triage, "Trạng thái xử lý", "Triage"},
    {Msg::col_findings, "Phát hiện", "Findings"},
    {Msg::col_event, "Sự kiện", "Event"},
    {Msg::total, "Tổng số vi phạm:", "Total violations:"},
    {Msg::page, "Trang", "Page"},
    {Msg::page_prev, "← Trang trước", "← Previous"},
    {Msg::page_next, "Trang sau →", "Next →"},
    {Msg::no_events, "Không có vi phạm nào khớp với bộ lọc.", "No violation matches the filter."},
    {Msg::view, "Xem", "View"},
    {Msg::detail_title, "Chi tiết sự kiện", "Event detail"},
    {Msg::field_event_id, "Mã sự kiện", "Event id"},
    {Msg::field_request_id, "Mã yêu cầu", "Request id"},
    {Msg::field_client, "Máy khách", "Client"},
    {Msg::field_method, "Phương thức", "Method"},
    {Msg::field_path, "Đường dẫn", "Path"},
    {Msg::field_mode, "Chế độ", "Mode"},
    {Msg::field_reason, "Lý do", "Reason"},
    {Msg::field_forwarded, "Đã chuyển tiếp", "Forwarded"},
    {Msg::field_ruleset, "Phiên bản bộ quy tắc", "Ruleset version"},
    {Msg::field_rules_bundle, "Gói quy tắc đã ký", "Signed rule bundle"},
    {Msg::field_bytes_in, "Số byte nhận", "Bytes received"},
    {Msg::field_bytes_forwarded, "Số byte chuyển tiếp", "Bytes forwarded"},
    {Msg::field_latency, "Độ trễ (ms)", "Latency (ms)"},
    {Msg::field_scan, "Thời gian quét (ms)", "Scan time (ms)"},
    {Msg::field_seq, "Số thứ tự bản ghi", "Record number"},
    {Msg::yes, "Có", "Yes"},
    {Msg::no, "Không", "No"},
    {Msg::field_justification, "Lý do người dùng nêu để gửi tiếp", "Justification given"},
    {Msg::field_justified_by, "Người xác nhận gửi tiếp", "Justified by"},
    {Msg::field_justification_via, "Xác nhận qua", "Given through"},
    {Msg::field_justification_token, "Mã xác nhận (id)", "Justification token id"},
    {Msg::field_justification_refused, "Xác nhận không được chấp nhận vì", "Justification refused because"},
    {Msg::col_justified, "Có xác nhận gửi tiếp", "Justified"},
    {Msg::justified_only, "Chỉ yêu cầu đã xác nhận gửi tiếp", "Justified requests only"},
    {Msg::findings, "Phát hiện", "Findings"},
    {Msg::f_action, "Hành động", "Action"},
    {Msg::f_count, "Số lần", "Count"},
    {Msg::f_locations, "Vị trí", "Locations"},
    {Msg::f_evidence, "Bằng chứng (đã che)", "Evidence (masked)"},
    {Msg::f_where, "Ở đâu", "Where"},
    {Msg::f_excerpt, "Trích đoạn", "Excerpt"},
    {Msg::f_hmac, "HMAC (rút gọn)", "HMAC (short)"},
    {Msg::no_findings, "Không có phát hiện.", "No findings."},
    {Msg::triage_history, "Lịch sử xử lý", "Triage history"},
    {Msg::triage_none, "Chưa có thay đổi nào.", "No changes yet."},
    {Msg::officer, "Cán bộ", "Officer"},
    {Msg::note, "Ghi chú", "Note"},
    {Msg::triage_update, "Cập nhật trạng thái xử lý", "Update the triage"},
    {Msg::triage_save, "Lưu", "Save"},
    {Msg::note_limit, "tối đa 2000 ký tự", "at most 2000 characters"},
    {Msg::chars_left, "ký tự còn lại", "characters left"},
    {Msg::state_new, "Mới", "New"},
    {Msg::state_confirmed, "Đã xác nhận", "Confirmed"},
    {Msg::state_false_positive, "Báo nhầm", "False positive"},
    {Msg::state_closed, "Đã đóng", "Closed"},
    {Msg::decision_allow, "Cho qua", "Allowed"},
    {Msg::decision_warn, "Cảnh báo", "Warned"},
    {Msg::decision_redact, "Che dữ liệu", "Redacted"},
    {Msg::decision_block, "Chặn", "Blocked"},
    {Msg::decision_refused, "Từ chối", "Refused"},
    {Msg::decision_justify, "Cần lý do", "Justification required"},
    {Msg::severity_low, "Thấp", "Low"},
    {Msg::severity_medium, "Trung bình", "Medium"},
    {Msg::severity_high, "Cao", "High"},
    {Msg::severity_critical, "Nghiêm trọng", "Critical"},
    {Msg::charts_title, "Biểu đồ vi phạm", "Violation charts"},
    {Msg::per_day_category, "Vi phạm mỗi ngày theo loại dữ liệu", "Violations per day by category"},
    {Msg::per_day_unit, "Vi phạm mỗi ngày theo đơn vị", "Violations per day by unit"},
    {Msg::top_rules, "10 quy tắc bị vi phạm nhiều nhất", "Top 10 rules"},
    {Msg::top_users, "10 người dùng vi phạm nhiều nhất", "Top 10 users"},
    {Msg::violations, "Số vi phạm", "Violations"},
    {Msg::no_data, "Không có dữ liệu trong khoảng thời gian này.", "No data in this period."},
    {Msg::show, "Xem", "Show"},
    {Msg::other, "khác", "other"},
    {Msg::unknown, "(không rõ)", "(unknown)"},
    {Msg::err_not_found, "Không tìm thấy", "Not found"},
    {Msg::err_no_event, "Không có sự kiện này trong nhật ký kiểm toán.", "There is no such event in the audit trail."},
    {Msg::err_forbidden, "Yêu cầu bị từ chối", "Request refused"},
    {Msg::err_csrf, "Mã chống giả mạo (CSRF) không hợp lệ. Hãy tải lại trang rồi thử lại.",
     "The anti-forgery (CSRF) token is not valid. Reload the page and try again."},
    {Msg::err_cross_site, "Yêu cầu này được gửi từ một trang web khác nên bị từ chối. Hãy mở trang duyệt rồi thử lại.",
     "This request was sent from another web site, so it was refused. Open the review page and try again."},
    {Msg::err_bad_request, "Yêu cầu không hợp lệ", "Bad request"},
    {Msg::err_bad_state, "Trạng thái xử lý không hợp lệ.", "Not a valid triage state."},
    {Msg::err_note_long, "Ghi chú dài hơn 2000 ký tự.", "The note is longer than 2000 characters."},
    {Msg::err_not_durable,
     "Nhật ký kiểm toán không ghi được thay đổi này nên không có gì thay đổi. Vui lòng thử lại sau.",
     "The audit trail could not record this change, so nothing was changed. Please try again later."},
    {Msg::err_unavailable, "Tạm thời không phục vụ được", "Temporarily unavailable"},
    {Msg::err_index, "Không đọc được chỉ mục của nhật ký kiểm toán.", "The audit trail's index cannot be read."},
    {Msg::err_method, "Phương thức không được phép cho địa chỉ này.", "Method not allowed for this address."},
    {Msg::back, "Quay lại", "Back"},
    {Msg::times_in, "Thời gian theo múi giờ", "Times in the time zone"},
    {Msg::nav_usage, "Sử dụng theo đơn vị", "Usage by unit"},
    {Msg::usage_intro, "Sử dụng và vi phạm theo đơn vị", "Usage and violations by unit"},
    {Msg::col_gateway, "Cổng kiểm soát", "Gateway"},
    {Msg::col_province, "Tỉnh/thành phố", "Province"},
    {Msg::col_week, "Tuần", "Week"},
    {Msg::col_requests, "Số yêu cầu", "Requests"},
    {Msg::col_with_findings, "Có phát hiện", "With findings"},
    {Msg::col_rate, "Tỷ lệ có phát hiện", "Share with findings"},
    {Msg::col_violations, "Vi phạm", "Violations"},
    {Msg::col_first_rate, "Tỷ lệ các tuần đầu", "Rate, first weeks"},
    {Msg::col_last_rate, "Tỷ lệ các tuần cuối", "Rate, last weeks"},
    {Msg::col_trend, "Diễn biến theo tuần", "Weekly trend"},
    {Msg::training_question, "Việc tập huấn có hiệu quả không?", "Did the training work?"},
    {Msg::training_explain,
     "So sánh tỷ lệ yêu cầu có phát hiện trong các tuần đầu và các tuần cuối của khoảng thời gian đã chọn (giảm từ 10% trở lên là có cải thiện).",
     "The share of requests with findings in the first weeks of the chosen range against the last weeks (down by a tenth or more is an improvement)."},
    {Msg::verdict_better, "Giảm — có cải thiện", "Down — improved"},
    {Msg::verdict_worse, "Tăng — xấu đi", "Up — worse"},
    {Msg::verdict_unchanged, "Không thay đổi rõ", "No clear change"},
    {Msg::verdict_unknown, "Chưa đủ dữ liệu", "Not enough data"},
    {Msg::weekly_rate_chart, "Tỷ lệ có phát hiện theo tuần", "Share with findings per week"},
    {Msg::all_units, "Tất cả đơn vị", "All units"},
    {Msg::download_csv, "Tải về CSV", "Download CSV"},
    {Msg::more_in_csv, "Bảng chỉ hiện các đơn vị có nhiều yêu cầu nhất; tệp CSV có đủ.",
     "The table shows the units with the most requests; the CSV has them all."},
};

constexpr bool messages_in_order() {
  if (std::size(kMessages) != static_cast<size_t>(Msg::count_)) return false;
  for (size_t i = 0; i < std::size(kMessages); ++i) {
    if (static_cast<size_t>(kMessages[i].id) != i || kMessages[i].vi.empty() || kMessages[i].en.empty()) return false;
  }
  return true;
}
static_assert(messages_in_order(), "kMessages: one entry per Msg, in enum order, both languages non-empty");

}  // namespace

std::string_view message(Msg m, Lang lang) {
  const auto& entry = kMessages[static_cast<size_t>(m)];
  return lang == Lang::vi ? entry.vi : entry.en;
}

std::string label_of(std::string_view value, Lang lang) {
  static constexpr std::pair<std::string_view, Msg> kLabels[] = {
      {"new", Msg::state_new},          {"confirmed", Msg::state_confirmed}, {"false_positive", Msg::state_false_positive},
      {"closed", Msg::state_closed},    {"allow", Msg::decision_allow},      {"warn", Msg::decision_warn},
      {"redact", Msg::decision_redact}, {"block", Msg::decision_block},      {"refused", Msg::decision_refused},
      {"justify", Msg::decision_justify}, {"yes", Msg::justified_only},
      {"low", Msg::severity_low},       {"medium", Msg::severity_medium},    {"high", Msg::severity_high},
      {"critical", Msg::severity_critical},
  };
  for (const auto& [key, msg] : kLabels)
    if (key == value) return std::string(message(msg, lang));
  return std::string(value);
}

// ---------------------------------------------------------------------------------------------
// Escaping: html_escape and percent_encode are encoding/web_text.h's, shared with the gateway.

std::string content_security_policy(std::string_view nonce) {
  const std::string n(nonce);
  return "default-src 'none'; style-src 'nonce-" + n + "'; script-src 'nonce-" + n +
         "'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
}

// ---------------------------------------------------------------------------------------------
// The frame every page shares

namespace {

using H = std::string;  // markup built here; every piece of data in it went through html_escape

std::string esc(std::string_view s) { return encoding::html_escape(s); }
std::string t(Msg m, Lang lang) { return esc(message(m, lang)); }

constexpr std::string_view kStyle = R"CSS(
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#1d2433;background:#f5f6f8}
header{display:flex;gap:1.2em;align-items:center;background:#1f3a5f;color:#fff;padding:.6em 1.2em;flex-wrap:wrap}
header a,header button{color:#fff}
header .brand{font-weight:600;margin-right:auto}
header form{display:inline;margin:0}
header button{background:none;border:1px solid #9fb3cc;border-radius:4px;padding:.15em .6em;cursor:pointer;font:inherit}
main{padding:1em 1.2em;max-width:1280px;margin:auto}
h1{font-size:1.35em;margin:.3em 0 .8em}
h2{font-size:1.1em;margin:1.4em 0 .5em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #dde1e7;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
tr:hover td{background:#f9fafc}
.filters{display:flex;flex-wrap:wrap;gap:.6em 1em;background:#fff;padding:.8em;border:1px solid #dde1e7;border-radius:6px}
.filters label{display:flex;flex-direction:column;font-size:.85em;color:#4a5568}
.filters select,.filters input{font:inherit;padding:.2em;min-width:9em}
.filters .actions{display:flex;align-items:flex-end;gap:.6em}
button.primary{background:#1f3a5f;color:#fff;border:0;border-radius:4px;padding:.4em 1em;font:inherit;cursor:pointer}
.pager{display:flex;gap:1em;align-items:center;margin:.8em 0}
.total{margin:.8em 0;font-weight:600}
.tag{display:inline-block;padding:0 .45em;border-radius:3px;font-size:.85em;background:#e2e8f0}
.d-block,.d-refused{background:#fed7d7}.d-redact{background:#feebc8}.d-warn{background:#fefcbf}.d-justify{background:#fbd38d}
.justified{font-size:.8em;color:#2f855a;font-weight:600}
.s-critical{background:#c53030;color:#fff}.s-high{background:#fed7d7}.s-medium{background:#feebc8}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em;background:#fff;padding:.8em;border:1px solid #dde1e7}
dl.fields dt{color:#4a5568}dl.fields dd{margin:0;word-break:break-all}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em}
.note{white-space:pre-wrap}
.error{background:#fff5f5;border:1px solid #feb2b2;padding:.6em .8em;border-radius:4px}
.login{max-width:24em;margin:3em auto;background:#fff;padding:1.5em;border:1px solid #dde1e7;border-radius:8px}
.login label{display:block;margin:.6em 0}.login input{width:100%;font:inherit;padding:.35em}
textarea{width:100%;min-height:6em;font:inherit}
.triage{background:#fff;padding:.8em;border:1px solid #dde1e7;display:grid;gap:.5em;max-width:40em}
.muted{color:#718096;font-size:.85em}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1em;list-style:none;padding:0;font-size:.85em}
.chart{background:#fff;border:1px solid #dde1e7;padding:.5em;overflow-x:auto}
.v-better{background:#c6f6d5}.v-worse{background:#fed7d7}.v-unknown{color:#718096}
.explain{max-width:60em}
)CSS";

// Auto-submits the filter drop-downs, counts the note's characters (code points, as the server
// does).
constexpr std::string_view kScript = R"JS(
document.querySelectorAll('form.filters select').forEach(function(s){
  s.addEventListener('change',function(){s.form.submit();});
});
var note=document.getElementById('note'),left=document.getElementById('note-left');
if(note&&left){var upd=function(){left.textContent=String(2000-Array.from(note.value).length);};
  note.addEventListener('input',upd);upd();}
)JS";

std::string page(const PageFrame& f, std::string_view title, const std::string& content) {
  const Lang l = f.lang;
  H out;
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += l == Lang::vi ? "vi" : "en";
  out += "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<link rel=\"icon\" href=\"data:,\">";  // no /favicon.ico request (the admin listener has none)
  out += "<title>" + esc(title) + " · " + t(Msg::app_title, l) + "</title>";
  out += "<style nonce=\"" + esc(f.nonce) + "\">" + std::string(kStyle) + "</style></head><body><header>";
  out += "<span class=\"brand\">" + t(Msg::app_title, l) + "</span>";
  if (!f.officer.empty()) {
    out += "<a href=\"/review\">" + t(Msg::nav_list, l) + "</a>";
    out += "<a href=\"/review/charts\">" + t(Msg::nav_charts, l) + "</a>";
    out += "<a href=\"/review/usage\">" + t(Msg::nav_usage, l) + "</a>";
    out += "<span>" + t(Msg::signed_in_as, l) + " <b id=\"officer\">" + esc(f.officer) + "</b></span>";
    out += "<form method=\"post\" action=\"/review/logout\"><input type=\"hidden\" name=\"csrf\" value=\"" +
           esc(f.csrf_token) + "\"><button type=\"submit\" id=\"logout\">" + t(Msg::logout, l) + "</button></form>";
  }
  out += "<a id=\"lang-switch\" href=\"" + esc(f.switch_href) + "\" hreflang=\"" + (l == Lang::vi ? "en" : "vi") + "\">" +
         t(Msg::switch_language, l) + "</a>";
  out += "</header><main>" + content;
  if (!f.officer.empty()) {
    const auto now = Clock::now();
    out += "<p class=\"muted\" id=\"time-zone\">" + t(Msg::times_in, l) + " " +
           (f.local_time ? esc(f.local_time->zone()) + " (" + esc(f.local_time->utc_offset(now)) + ")" : std::string("UTC")) +
           "</p>";
  }
  out += "</main><script nonce=\"" + esc(f.nonce) + "\">" + std::string(kScript) +
         "</script></body></html>\n";
  return out;
}

// dd/mm/yyyy HH:MM in the frame's zone, or 2026-11-26 08:15:02 (UTC) without one.
std::string short_time(const PageFrame& f, const Clock::time_point& tp) {
  if (f.local_time) return f.local_time->date_time(tp);
  std::string s = format_time(tp);  // 2026-11-26T08:15:02.123Z
  if (s.size() >= 19) s = s.substr(0, 10) + " " + s.substr(11, 8);
  return s;
}

std::string tag(std::string_view css_prefix, std::string_view value, Lang l) {
  return "<span class=\"tag " + esc(std::string(css_prefix) + std::string(value)) + "\">" + esc(label_of(value, l)) +
         "</span>";
}

std::string or_unknown(std::string_view value, Lang l) {
  return value.empty() ? "<span class=\"muted\">" + t(Msg::unknown, l) + "</span>" : esc(value);
}

std::string param(const ListView& v, std::string_view key) {
  auto it = v.params.find(key);
  return it == v.params.end() ? "" : it->second;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pages

std::string login_page(const PageFrame& f, std::optional<Msg> error, std::string_view name) {
  const Lang l = f.lang;
  H c = "<div class=\"login\"><h1>" + t(Msg::login_title, l) + "</h1>";
  if (error) c += "<p class=\"error\" id=\"login-error\">" + t(*error, l) + "</p>";
  c += "<form method=\"post\" action=\"/review/login\">";
  c += "<label>" + t(Msg::login_name, l) + "<input name=\"name\" id=\"name\" autocomplete=\"username\" required value=\"" +
       esc(name) + "\"></label>";
  c += "<label>" + t(Msg::login_password, l) +
       "<input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>";
  c += "<button class=\"primary\" type=\"submit\" id=\"login-submit\">" + t(Msg::login_submit, l) + "</button></form></div>";
  return page(f, message(Msg::login_title, l), c);
}

std::string list_page(const PageFrame& f, const ListView& v) {
  const Lang l = f.lang;
  H c = "<h1>" + t(Msg::nav_list, l) + "</h1>";

  // The filter form: GET, so a filtered list is a link an officer can keep.
  c += "<form class=\"filters\" method=\"get\" action=\"/review\">";
  c += "<label>" + t(Msg::filter_from, l) + "<input type=\"date\" name=\"from\" value=\"" + esc(param(v, "from")) + "\"></label>";
  c += "<label>" + t(Msg::filter_to, l) + "<input type=\"date\" name=\"to\" value=\"" + esc(param(v, "to")) + "\"></label>";
  static constexpr std::pair<std::string_view, Msg> kSelects[] = {
      {"user", Msg::col_user},         {"unit", Msg::col_unit},         {"service", Msg::col_service},
      {"rule", Msg::col_rule},         {"category", Msg::col_category}, {"decision", Msg::col_decision},
      {"severity", Msg::col_min_severity}, {"triage", Msg::col_triage}, {"justified", Msg::col_justified},
      {"gateway", Msg::col_gateway},   {"province", Msg::col_province},
  };
  for (const auto& [name, label] : kSelects) {
    // Where events were decided: only from a store holding several gateways.
    if ((name == "gateway" || name == "province") && !v.options.count(name)) continue;
    const std::string chosen = param(v, name);
    c += "<label>" + t(label, l) + "<select name=\"" + esc(name) + "\" id=\"filter-" + esc(name) + "\"><option value=\"\">" +
         t(Msg::any, l) + "</option>";
    auto it = v.options.find(name);
    std::vector<std::string> values = it == v.options.end() ? std::vector<std::string>{} : it->second;
    // A value given in the link but no longer among the options stays selectable.
    if (!chosen.empty() && std::find(values.begin(), values.end(), chosen) == values.end()) values.push_back(chosen);
    for (const auto& value : values) {
      c += "<option value=\"" + esc(value) + "\"" + (value == chosen ? " selected" : "") + ">" + esc(label_of(value, l)) +
           "</option>";
    }
    c += "</select></label>";
  }
  if (f.lang == Lang::en) c += "<input type=\"hidden\" name=\"lang\" value=\"en\">";
  c += "<span class=\"actions\"><button class=\"primary\" type=\"submit\" id=\"filter-apply\">" + t(Msg::filter_apply, l) +
       "</button><a href=\"/review\">" + t(Msg::filter_clear, l) + "</a></span></form>";

  c += "<p class=\"total\">" + t(Msg::total, l) + " <span id=\"total\">" + std::to_string(v.total) + "</span></p>";
  if (v.events.empty()) {
    c += "<p id=\"no-events\">" + t(Msg::no_events, l) + "</p>";
  } else {
    c += "<table id=\"events\"><thead><tr><th>" + t(Msg::col_time, l) + "</th><th>" + t(Msg::col_user, l) + "</th><th>" +
         t(Msg::col_unit, l) + "</th><th>" + t(Msg::col_service, l) + "</th><th>" + t(Msg::col_decision, l) + "</th><th>" +
         t(Msg::col_severity, l) + "</th><th>" + t(Msg::col_findings, l) + "</th><th>" + t(Msg::col_triage, l) +
         "</th><th></th></tr></thead><tbody>";
    for (const auto& ie : v.events) {
      const auto& e = ie.event;
      const std::string href = "/review/event/" + encoding::percent_encode(e.event_id);
      std::string rules;
      std::set<std::string> seen;
      for (const auto& finding : e.findings) {
        if (!seen.insert(finding.rule_id).second) continue;
        if (!rules.empty()) rules += "<br>";
        rules += "<span class=\"mono rule\">" + esc(finding.rule_id) + "</span> <span class=\"muted\">" +
                 esc(finding.category) + "</span>";
      }
      c += "<tr class=\"event\" data-event-id=\"" + esc(e.event_id) + "\"><td>" + esc(short_time(f, e.time)) + "</td><td>" +
           or_unknown(e.user, l) + "</td><td>" + or_unknown(e.unit, l) + "</td><td>" + esc(e.service) + "</td><td>" +
           tag("d-", e.decision, l) +
           (e.justification.via.empty() ? "" : " <span class=\"justified\">" + t(Msg::col_justified, l) + "</span>") +
           "</td><td>" + (ie.max_severity.empty() ? "" : tag("s-", ie.max_severity, l)) +
           "</td><td>" + rules + "</td><td class=\"triage-state\">" + esc(label_of(ie.triage_state, l)) + "</td><td><a href=\"" +
           esc(href) + "\">" + t(Msg::view, l) + "</a></td></tr>";
    }
    c += "</tbody></table>";
  }
  c += "<nav class=\"pager\">";
  if (!v.prev_href.empty()) c += "<a id=\"prev\" href=\"" + esc(v.prev_href) + "\">" + t(Msg::page_prev, l) + "</a>";
  c += "<span>" + t(Msg::page, l) + " " + std::to_string(v.page) + " / " + std::to_string(v.pages) + "</span>";
  if (!v.next_href.empty()) c += "<a id=\"next\" href=\"" + esc(v.next_href) + "\">" + t(Msg::page_next, l) + "</a>";
  c += "</nav>";
  return page(f, message(Msg::nav_list, l), c);
}

std::string detail_page(const PageFrame& f, const DetailView& v) {
  const Lang l = f.lang;
  const auto& ie = v.event;
  const auto& e = ie.event;
  H c = "<h1>" + t(Msg::detail_title, l) + " <span class=\"mono\">" + esc(e.event_id) + "</span></h1>";

  auto row = [&](Msg label, const std::string& value_html) { c += "<dt>" + t(label, l) + "</dt><dd>" + value_html + "</dd>"; };
  char number[64];
  c += "<dl class=\"fields\">";
  row(Msg::col_time, esc(short_time(f, e.time)) + " <span class=\"muted mono\">" + esc(format_time(e.time)) + "</span>");
  if (!ie.gateway.empty()) row(Msg::col_gateway, "<span id=\"gateway\">" + esc(ie.gateway) + "</span>");
  if (!ie.province.empty()) row(Msg::col_province, esc(ie.province));
  row(Msg::field_event_id, "<span class=\"mono\">" + esc(e.event_id) + "</span>");
  row(Msg::field_request_id, "<span class=\"mono\">" + esc(e.request_id) + "</span>");
  row(Msg::field_seq, std::to_string(ie.seq));
  row(Msg::col_user, or_unknown(e.user, l));
  row(Msg::col_unit, or_unknown(e.unit, l));
  row(Msg::field_client, esc(e.client));
  row(Msg::col_service, esc(e.service));
  row(Msg::field_method, esc(e.method));
  row(Msg::field_path, "<span class=\"mono\">" + esc(e.path) + "</span>");
  row(Msg::col_decision, tag("d-", e.decision, l));
  row(Msg::field_mode, esc(e.mode));
  if (!e.reason.empty()) row(Msg::field_reason, esc(e.reason));
  row(Msg::field_forwarded, t(e.forwarded ? Msg::yes : Msg::no, l));
  // The coaching step: the reason the person gave (masked in the trail), who, how, the token's id.
  if (!e.justification.via.empty()) {
    row(Msg::field_justification, "<span id=\"justification\">" + esc(e.justification.reason) + "</span>");
    row(Msg::field_justified_by, "<span id=\"justified-by\">" + esc(e.justification.by) + "</span>");
    row(Msg::field_justification_via, esc(e.justification.via));
  }
  if (!e.justification.token.empty())
    row(Msg::field_justification_token, "<span class=\"mono\">" + esc(e.justification.token) + "</span>");
  if (!e.justification.refused.empty()) row(Msg::field_justification_refused, esc(e.justification.refused));
  row(Msg::col_severity, ie.max_severity.empty() ? "" : tag("s-", ie.max_severity, l));
  row(Msg::col_triage, "<span id=\"triage-state\">" + esc(label_of(ie.triage_state, l)) + "</span>");
  row(Msg::field_ruleset, "<span class=\"mono\">" + esc(e.ruleset) + "</span>");
  // Which signed bundle those rules came from (issue 17), when the gateway ran one.
  if (!e.rules_bundle.empty()) row(Msg::field_rules_bundle, "<span id=\"rules-bundle\" class=\"mono\">" + esc(e.rules_bundle) + "</span>");
  row(Msg::field_bytes_in, std::to_string(e.bytes_in));
  row(Msg::field_bytes_forwarded, std::to_string(e.bytes_forwarded));
  std::snprintf(number, sizeof number, "%.2f", e.latency_ms);
  row(Msg::field_latency, number);
  std::snprintf(number, sizeof number, "%.2f", e.scan_ms);
  row(Msg::field_scan, number);
  c += "</dl>";

  c += "<h2>" + t(Msg::findings, l) + "</h2>";
  if (e.findings.empty()) {
    c += "<p>" + t(Msg::no_findings, l) + "</p>";
  } else {
    c += "<table id=\"findings\"><thead><tr><th>" + t(Msg::col_rule, l) + "</th><th>" + t(Msg::col_category, l) + "</th><th>" +
         t(Msg::col_severity, l) + "</th><th>" + t(Msg::f_action, l) + "</th><th>" + t(Msg::f_count, l) + "</th><th>" +
         t(Msg::f_locations, l) + "</th><th>" + t(Msg::f_evidence, l) + "</th></tr></thead><tbody>";
    for (const auto& finding : e.findings) {
      std::string locations;
      for (const auto& where : finding.locations) locations += "<div class=\"mono\">" + esc(where) + "</div>";
      std::string evidence;
      for (const auto& m : finding.evidence) {
        evidence += "<div class=\"evidence\"><span class=\"muted mono\">" + esc(m.where) + "</span> <code class=\"excerpt\">" +
                    esc(m.excerpt) + "</code> <span class=\"muted mono\" title=\"" + esc(m.hmac) + "\">" + t(Msg::f_hmac, l) +
                    " " + esc(m.hmac.substr(0, 12)) + "</span></div>";
      }
      c += "<tr><td class=\"mono\">" + esc(finding.rule_id) + "</td><td>" + esc(finding.category) + "</td><td>" +
           tag("s-", finding.severity, l) + "</td><td>" + esc(label_of(finding.action, l)) + "</td><td>" +
           std::to_string(finding.count) + "</td><td>" + locations + "</td><td>" + evidence + "</td></tr>";
    }
    c += "</tbody></table>";
  }

  c += "<h2>" + t(Msg::triage_history, l) + "</h2>";
  if (v.history.empty()) {
    c += "<p id=\"triage-none\">" + t(Msg::triage_none, l) + "</p>";
  } else {
    c += "<table id=\"triage-history\"><thead><tr><th>" + t(Msg::col_time, l) + "</th><th>" + t(Msg::officer, l) +
         "</th><th>" + t(Msg::col_triage, l) + "</th><th>" + t(Msg::note, l) + "</th></tr></thead><tbody>";
    for (const auto& r : v.history) {
      c += "<tr><td>" + esc(short_time(f, r.triage.time)) + "</td><td>" + esc(r.triage.officer) + "</td><td>" +
           esc(label_of(r.triage.state, l)) + "</td><td class=\"note\">" + esc(r.triage.note) + "</td></tr>";
    }
    c += "</tbody></table>";
  }

  c += "<h2>" + t(Msg::triage_update, l) + "</h2>";
  c += "<form class=\"triage\" method=\"post\" action=\"/review/event/" + esc(encoding::percent_encode(e.event_id)) + "/triage" +
       (l == Lang::en ? "?lang=en" : "") + "\">";
  c += "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(f.csrf_token) + "\">";
  c += "<label>" + t(Msg::col_triage, l) + " <select name=\"state\" id=\"state\">";
  for (std::string_view state : kTriageStates) {
    c += "<option value=\"" + esc(state) + "\"" + (state == ie.triage_state ? " selected" : "") + ">" +
         esc(label_of(state, l)) + "</option>";
  }
  c += "</select></label>";
  c += "<label>" + t(Msg::note, l) + " <span class=\"muted\">(" + t(Msg::note_limit, l) +
       ")</span><textarea name=\"note\" id=\"note\" maxlength=\"2000\"></textarea></label>";
  c += "<span class=\"muted\"><span id=\"note-left\">2000</span> " + t(Msg::chars_left, l) + "</span>";
  c += "<button class=\"primary\" type=\"submit\" id=\"triage-save\">" + t(Msg::triage_save, l) + "</button></form>";
  return page(f, message(Msg::detail_title, l), c);
}

// ---------------------------------------------------------------------------------------------
// Charts: inline SVG drawn here, so the page needs no script library and no network.

namespace {

constexpr std::string_view kPalette[] = {"#2b6cb0", "#c05621", "#2f855a", "#b7791f", "#6b46c1",
                                         "#c53030", "#319795", "#d53f8c", "#718096"};
constexpr size_t kMaxSeries = std::size(kPalette) - 1;  // the last colour is "other"

// "2026-12-07" → "07/12" (day/month, as Vietnamese write it); other labels as they are.
std::string day_label(const std::string& day) {
  if (day.size() == 10 && day[4] == '-' && day[7] == '-') return day.substr(8, 2) + "/" + day.substr(5, 2);
  return day;
}

std::string swatch(std::string_view colour) {
  return "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"" +
         std::string(colour) + "\"/></svg>";
}

// Stacked bars, one per day; the biggest series get their own colour, the rest share "other".
std::string stacked_chart(const std::vector<std::string>& days, const std::vector<EventStore::DayCount>& counts,
                          Lang l, std::string_view id) {
  if (counts.empty()) return "<p class=\"muted\">" + t(Msg::no_data, l) + "</p>";
  std::map<std::string, uint64_t> totals;
  for (const auto& c : counts) totals[c.key] += c.count;
  std::vector<std::pair<std::string, uint64_t>> ranked(totals.begin(), totals.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::map<std::string, size_t> series;  // key → colour index
  for (size_t i = 0; i < ranked.size() && i < kMaxSeries; ++i) series[ranked[i].first] = i;
  const bool has_other = ranked.size() > kMaxSeries;

  std::map<std::string, size_t> day_index;
  for (size_t i = 0; i < days.size(); ++i) day_index[days[i]] = i;
  // stack[day][colour]
  std::vector<std::vector<uint64_t>> stack(days.size(), std::vector<uint64_t>(std::size(kPalette), 0));
  for (const auto& c : counts) {
    auto d = day_index.find(c.day);
    if (d == day_index.end()) continue;
    auto s = series.find(c.key);
    stack[d->second][s == series.end() ? kMaxSeries : s->second] += c.count;
  }
  uint64_t max_total = 1;
  for (const auto& day : stack) {
    uint64_t sum = 0;
    for (auto n : day) sum += n;
    max_total = std::max(max_total, sum);
  }

  const double width = 880, height = 260, left = 40, bottom = 28, top = 10;
  const double plot_w = width - left - 10, plot_h = height - bottom - top;
  const double slot = plot_w / static_cast<double>(std::max<size_t>(days.size(), 1));
  const double bar = std::max(1.0, slot * 0.75);
  char buf[256];
  H svg = "<div class=\"chart\"><svg id=\"" + esc(id) + "\" role=\"img\" width=\"" + std::to_string(static_cast<int>(width)) +
          "\" height=\"" + std::to_string(static_cast<int>(height)) + "\" viewBox=\"0 0 " +
          std::to_string(static_cast<int>(width)) + " " + std::to_string(static_cast<int>(height)) + "\">";
  // Axis and three gridlines with their values.
  for (int i = 0; i <= 2; ++i) {
    const double y = top + plot_h - plot_h * i / 2.0;
    const uint64_t value = max_total * static_cast<uint64_t>(i) / 2;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dde1e7\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#4a5568\">%llu</text>",
                  left, y, width - 10, y, left - 4, y + 4, static_cast<unsigned long long>(value));
    svg += buf;
  }
  for (size_t d = 0; d < days.size(); ++d) {
    const double x = left + slot * static_cast<double>(d) + (slot - bar) / 2;
    double y = top + plot_h;
    for (size_t s = 0; s < std::size(kPalette); ++s) {
      const uint64_t n = stack[d][s];
      if (n == 0) continue;
      const double h = plot_h * static_cast<double>(n) / static_cast<double>(max_total);
      y -= h;
      std::string name;
      if (s == kMaxSeries) {
        name = std::string(message(Msg::other, l));
      } else {
        for (const auto& [key, colour] : series)
          if (colour == s) name = key.empty() ? std::string(message(Msg::unknown, l)) : key;
      }
      std::snprintf(buf, sizeof buf, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                    x, y, bar, h, std::string(kPalette[s]).c_str());
      svg += buf;
      svg += "<title>" + esc(days[d]) + " · " + esc(name) + ": " + std::to_string(n) + "</title></rect>";
    }
    // A date label every few bars, so they do not overlap.
    const size_t every = std::max<size_t>(1, days.size() / 10);
    if (d % every == 0) {
      std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\">",
                    x + bar / 2, height - 10);
      svg += buf;
      svg += esc(day_label(days[d])) + "</text>";
    }
  }
  svg += "</svg><ul class=\"legend\">";
  for (size_t i = 0; i < ranked.size() && i < kMaxSeries; ++i) {
    svg += "<li>" + swatch(kPalette[i]) + " " + (ranked[i].first.empty() ? t(Msg::unknown, l) : esc(ranked[i].first)) + " (" +
           std::to_string(ranked[i].second) + ")</li>";
  }
  if (has_other) svg += "<li>" + swatch(kPalette[kMaxSeries]) + " " + t(Msg::other, l) + "</li>";
  svg += "</ul></div>";
  return svg;
}

std::string top_table(const std::vector<std::pair<std::string, uint64_t>>& rows, Msg key_label, Lang l, std::string_view id) {
  if (rows.empty()) return "<p class=\"muted\">" + t(Msg::no_data, l) + "</p>";
  uint64_t max = 1;
  for (const auto& r : rows) max = std::max(max, r.second);
  H out = "<table id=\"" + esc(id) + "\"><thead><tr><th>" + t(key_label, l) + "</th><th>" + t(Msg::violations, l) +
          "</th><th></th></tr></thead><tbody>";
  for (const auto& [key, n] : rows) {
    const int w = static_cast<int>(200.0 * static_cast<double>(n) / static_cast<double>(max));
    out += "<tr><td class=\"mono\">" + (key.empty() ? t(Msg::unknown, l) : esc(key)) + "</td><td>" + std::to_string(n) +
           "</td><td><svg width=\"200\" height=\"12\" aria-hidden=\"true\"><rect width=\"" + std::to_string(std::max(w, 1)) +
           "\" height=\"12\" fill=\"#2b6cb0\"/></svg></td></tr>";
  }
  return out + "</tbody></table>";
}

}  // namespace

std::string charts_page(const PageFrame& f, const ChartsView& v) {
  const Lang l = f.lang;
  H c = "<h1>" + t(Msg::charts_title, l) + "</h1>";
  c += "<form class=\"filters\" method=\"get\" action=\"/review/charts\">";
  c += "<label>" + t(Msg::filter_from, l) + "<input type=\"date\" name=\"from\" value=\"" + esc(v.from) + "\"></label>";
  c += "<label>" + t(Msg::filter_to, l) + "<input type=\"date\" name=\"to\" value=\"" + esc(v.to) + "\"></label>";
  if (l == Lang::en) c += "<input type=\"hidden\" name=\"lang\" value=\"en\">";
  c += "<span class=\"actions\"><button class=\"primary\" type=\"submit\">" + t(Msg::show, l) + "</button></span></form>";
  c += "<h2>" + t(Msg::per_day_category, l) + "</h2>" + stacked_chart(v.days, v.by_category, l, "chart-category");
  c += "<h2>" + t(Msg::per_day_unit, l) + "</h2>" + stacked_chart(v.days, v.by_unit, l, "chart-unit");
  c += "<h2>" + t(Msg::top_rules, l) + "</h2>" + top_table(v.top_rules, Msg::col_rule, l, "top-rules");
  c += "<h2>" + t(Msg::top_users, l) + "</h2>" + top_table(v.top_users, Msg::col_user, l, "top-users");
  return page(f, message(Msg::charts_title, l), c);
}

namespace {

// "12,5%" (Vietnamese decimal comma) or "12.5%"; "–" without a rate.
std::string percent(std::optional<double> rate, Lang l) {
  if (!rate) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", *rate * 100.0);
  std::string out = buf;
  if (l == Lang::vi) std::replace(out.begin(), out.end(), '.', ',');
  return out;
}

Msg verdict_message(UsageTrend::Verdict v) {
  switch (v) {
    case UsageTrend::Verdict::better: return Msg::verdict_better;
    case UsageTrend::Verdict::worse: return Msg::verdict_worse;
    case UsageTrend::Verdict::unchanged: return Msg::verdict_unchanged;
    case UsageTrend::Verdict::unknown: break;
  }
  return Msg::verdict_unknown;
}

// One line per series over the weeks, y = the share with findings; weeks without requests break
// the line. The first series is "all units".
std::string rate_lines(const std::vector<std::string>& weeks, const std::vector<const UsageTrend*>& series,
                       const std::vector<std::string>& names, Lang l) {
  double max_rate = 0.01;
  for (const auto* s : series)
    for (const auto& r : s->weekly_rate)
      if (r) max_rate = std::max(max_rate, *r);
  const double width = 880, height = 260, left = 48, bottom = 28, top = 10;
  const double plot_w = width - left - 20, plot_h = height - bottom - top;
  const double step = weeks.size() > 1 ? plot_w / static_cast<double>(weeks.size() - 1) : 0;
  auto x_of = [&](size_t i) { return left + step * static_cast<double>(i) + (weeks.size() > 1 ? 0 : plot_w / 2); };
  auto y_of = [&](double r) { return top + plot_h - plot_h * r / max_rate; };
  char buf[256];
  H svg = "<div class=\"chart\"><svg id=\"chart-usage\" role=\"img\" width=\"880\" height=\"260\" viewBox=\"0 0 880 260\">";
  for (int i = 0; i <= 2; ++i) {
    const double r = max_rate * i / 2.0, y = y_of(r);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dde1e7\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#4a5568\">",
                  left, y, width - 10, y, left - 4, y + 4);
    svg += buf + esc(percent(r, l)) + "</text>";
  }
  const size_t every = std::max<size_t>(1, weeks.size() / 12);
  for (size_t i = 0; i < weeks.size(); i += every) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#4a5568\">",
                  x_of(i), height - 10);
    svg += buf + esc(weeks[i].size() > 5 ? weeks[i].substr(5) : weeks[i]) + "</text>";
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string colour = s == 0 ? "#1d2433" : std::string(kPalette[(s - 1) % std::size(kPalette)]);
    std::string points;
    auto flush = [&] {
      if (!points.empty())
        svg += "<polyline class=\"rate-line\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"" +
               (s == 0 ? "3" : "1.5") + "\" points=\"" + points + "\"/>";
      points.clear();
    };
    const auto& rates = series[s]->weekly_rate;
    for (size_t i = 0; i < rates.size() && i < weeks.size(); ++i) {
      if (!rates[i]) {
        flush();
        continue;
      }
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x_of(i), y_of(*rates[i]));
      points += buf;
    }
    flush();
    for (size_t i = 0; i < rates.size() && i < weeks.size(); ++i) {
      if (!rates[i]) continue;
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", x_of(i), y_of(*rates[i]),
                    colour.c_str());
      svg += buf;
      svg += "<title>" + esc(weeks[i]) + " · " + esc(names[s]) + ": " + esc(percent(rates[i], l)) + "</title></circle>";
    }
  }
  svg += "</svg><ul class=\"legend\">";
  for (size_t s = 0; s < series.size(); ++s)
    svg += "<li>" + swatch(s == 0 ? "#1d2433" : kPalette[(s - 1) % std::size(kPalette)]) + " " + esc(names[s]) + "</li>";
  return svg + "</ul></div>";
}

// A small line of one key's weekly rates (same scale for every row: 0 to its own maximum).
std::string sparkline(const UsageTrend& trend) {
  double max_rate = 0.01;
  for (const auto& r : trend.weekly_rate)
    if (r) max_rate = std::max(max_rate, *r);
  const double w = 120, h = 24;
  const size_t n = trend.weekly_rate.size();
  const double step = n > 1 ? w / static_cast<double>(n - 1) : 0;
  std::string points;
  char buf[64];
  for (size_t i = 0; i < n; ++i) {
    if (!trend.weekly_rate[i]) continue;
    std::snprintf(buf, sizeof buf, "%.1f,%.1f ", step * static_cast<double>(i), h - 2 - (h - 4) * *trend.weekly_rate[i] / max_rate);
    points += buf;
  }
  return "<svg class=\"spark\" width=\"120\" height=\"24\" aria-hidden=\"true\"><polyline fill=\"none\" stroke=\"#2b6cb0\" "
         "stroke-width=\"1.5\" points=\"" + points + "\"/></svg>";
}

}  // namespace

std::string usage_page(const PageFrame& f, const UsageView& v) {
  const Lang l = f.lang;
  auto param_of = [&](std::string_view key) {
    auto it = v.params.find(key);
    return it == v.params.end() ? std::string() : it->second;
  };
  H c = "<h1>" + t(Msg::usage_intro, l) + "</h1>";
  c += "<form class=\"filters\" method=\"get\" action=\"/review/usage\">";
  c += "<label>" + t(Msg::filter_from, l) + "<input type=\"date\" name=\"from\" value=\"" + esc(param_of("from")) + "\"></label>";
  c += "<label>" + t(Msg::filter_to, l) + "<input type=\"date\" name=\"to\" value=\"" + esc(param_of("to")) + "\"></label>";
  static constexpr std::pair<std::string_view, Msg> kSelects[] = {
      {"unit", Msg::col_unit}, {"service", Msg::col_service}, {"province", Msg::col_province}, {"gateway", Msg::col_gateway}};
  for (const auto& [name, label] : kSelects) {
    auto it = v.options.find(name);
    if (it == v.options.end()) continue;
    const std::string chosen = param_of(name);
    std::vector<std::string> values = it->second;
    if (!chosen.empty() && std::find(values.begin(), values.end(), chosen) == values.end()) values.push_back(chosen);
    c += "<label>" + t(label, l) + "<select name=\"" + esc(name) + "\" id=\"usage-" + esc(name) + "\"><option value=\"\">" +
         t(Msg::any, l) + "</option>";
    for (const auto& value : values)
      c += "<option value=\"" + esc(value) + "\"" + (value == chosen ? " selected" : "") + ">" + esc(value) + "</option>";
    c += "</select></label>";
  }
  if (l == Lang::en) c += "<input type=\"hidden\" name=\"lang\" value=\"en\">";
  c += "<span class=\"actions\"><button class=\"primary\" type=\"submit\">" + t(Msg::show, l) + "</button><a id=\"usage-csv\" href=\"" +
       esc(v.csv_href) + "\" download>" + t(Msg::download_csv, l) + "</a></span></form>";

  const auto& sum = v.summary;
  c += "<h2>" + t(Msg::weekly_rate_chart, l) + "</h2>";
  if (sum.all.requests == 0 && sum.all.violations == 0) {
    c += "<p class=\"muted\" id=\"usage-none\">" + t(Msg::no_data, l) + "</p>";
    return page(f, message(Msg::usage_intro, l), c);
  }
  std::vector<const UsageTrend*> series = {&sum.all};
  std::vector<std::string> names = {std::string(message(Msg::all_units, l))};
  for (size_t i = 0; i < sum.keys.size() && series.size() < 7; ++i) {
    if (sum.keys[i].requests == 0) continue;
    series.push_back(&sum.keys[i]);
    names.push_back(sum.keys[i].key.empty() ? std::string(message(Msg::unknown, l)) : sum.keys[i].key);
  }
  c += rate_lines(sum.weeks, series, names, l);

  c += "<h2 id=\"training\">" + t(Msg::training_question, l) + "</h2><p class=\"explain\">" + t(Msg::training_explain, l) + "</p>";
  c += "<table id=\"usage-table\"><thead><tr><th>" + t(Msg::col_unit, l) + "</th><th>" + t(Msg::col_requests, l) + "</th><th>" +
       t(Msg::col_with_findings, l) + "</th><th>" + t(Msg::col_violations, l) + "</th><th>" + t(Msg::col_first_rate, l) +
       "</th><th>" + t(Msg::col_last_rate, l) + "</th><th>" + t(Msg::training_question, l) + "</th><th>" + t(Msg::col_trend, l) +
       "</th></tr></thead><tbody>";
  auto row = [&](const UsageTrend& u, const std::string& name_html, bool all) {
    c += std::string("<tr class=\"") + (all ? "usage-all" : "usage-unit") + "\" data-verdict=\"" + std::string(to_string(u.verdict)) +
         "\"><td>" + name_html + "</td><td>" + std::to_string(u.requests) + "</td><td>" + std::to_string(u.with_findings) +
         "</td><td>" + std::to_string(u.violations) + "</td><td>" + esc(percent(u.first_rate, l)) + "</td><td>" +
         esc(percent(u.last_rate, l)) + "</td><td><span class=\"tag v-" + std::string(to_string(u.verdict)) + "\">" +
         t(verdict_message(u.verdict), l) + "</span></td><td>" + sparkline(u) + "</td></tr>";
  };
  row(sum.all, "<b>" + t(Msg::all_units, l) + "</b>", true);
  for (size_t i = 0; i < sum.keys.size() && i < v.shown; ++i) row(sum.keys[i], or_unknown(sum.keys[i].key, l), false);
  c += "</tbody></table>";
  if (sum.keys.size() > v.shown) c += "<p class=\"muted\" id=\"usage-more\">" + t(Msg::more_in_csv, l) + "</p>";
  return page(f, message(Msg::usage_intro, l), c);
}

std::string error_page(const PageFrame& f, Msg title, Msg detail, std::string_view back_href) {
  const Lang l = f.lang;
  H c = "<h1>" + t(title, l) + "</h1><p class=\"error\" id=\"error\">" + t(detail, l) + "</p><p><a href=\"" +
        esc(back_href) + "\">" + t(Msg::back, l) + "</a></p>";
  return page(f, message(title, l), c);
}

}  // namespace promptwall::audit
