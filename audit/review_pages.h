// The review page's HTML: pure functions from what a page shows to its markup, in Vietnamese or
// English. ReviewSite (review_site.h) decides which page and gathers the data; nothing here reads
// the trail, the index or a request.
//
// Invariants:
//   - every value that comes from the trail, the index, the request or the configuration passes
//     through html_escape (encoding/web_text.h) before it reaches the markup (a user named
//     "<script>" is text);
//   - the markup loads nothing from elsewhere: one inline <style> and one inline <script>, both
//     carrying the page's CSP nonce, no style="" or on*="" attributes (the policy forbids them);
//   - every visible string comes from the message table, which has both languages for each entry
//     (Vietnamese with its diacritics).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/event_store.h"
#include "audit/local_time.h"
#include "audit/usage_report.h"

namespace promptwall::audit {

enum class Lang { vi, en };

// One entry per visible string; message(m, lang) gives its text.
enum class Msg {
  app_title, nav_list, nav_charts, logout, signed_in_as, switch_language,
  login_title, login_name, login_password, login_submit, login_failed, login_locked, login_needed,
  review_off,
  filter_title, filter_from, filter_to, filter_apply, filter_clear, any,
  col_time, col_user, col_unit, col_service, col_rule, col_category, col_decision, col_severity,
  col_min_severity,
  col_triage, col_findings, col_event,
  total, page, page_prev, page_next, no_events, view,
  detail_title, field_event_id, field_request_id, field_client, field_method, field_path, field_mode,
  field_reason, field_forwarded, field_ruleset, field_rules_bundle, field_bytes_in, field_bytes_forwarded, field_latency,
  field_scan, field_seq, yes, no,
  field_justification, field_justified_by, field_justification_via, field_justification_token,
  field_justification_refused, col_justified, justified_only,
  findings, f_action, f_count, f_locations, f_evidence, f_where, f_excerpt, f_hmac, no_findings,
  triage_history, triage_none, officer, note, triage_update, triage_save, note_limit, chars_left,
  state_new, state_confirmed, state_false_positive, state_closed,
  decision_allow, decision_warn, decision_redact, decision_block, decision_refused, decision_justify,
  severity_low, severity_medium, severity_high, severity_critical,
  charts_title, per_day_category, per_day_unit, top_rules, top_users, violations, no_data, show, other,
  unknown,
  err_not_found, err_no_event, err_forbidden, err_csrf, err_cross_site, err_bad_request, err_bad_state, err_note_long,
  err_not_durable, err_unavailable, err_index, err_method, back,
  times_in, nav_usage, usage_intro, col_gateway, col_province, col_week, col_requests, col_with_findings, col_rate,
  col_violations, col_first_rate, col_last_rate, col_trend, training_question, training_explain, verdict_better,
  verdict_worse, verdict_unchanged, verdict_unknown, weekly_rate_chart, all_units, download_csv, more_in_csv,
  count_  // not a message: the number of messages
};

std::string_view message(Msg m, Lang lang);
// The label of a triage state, decision or severity value; the value itself when it has none.
std::string label_of(std::string_view value, Lang lang);

// What every page shares.
struct PageFrame {
  Lang lang = Lang::vi;
  std::string nonce;         // the response's CSP nonce
  std::string officer;       // empty: not signed in (no navigation, no logout)
  std::string csrf_token;    // for the logout form
  std::string switch_href;   // this page in the other language
  const LocalTime* local_time = nullptr;  // the zone times are shown in; null: UTC
};

// The Content-Security-Policy matching pages rendered with `nonce`.
std::string content_security_policy(std::string_view nonce);

std::string login_page(const PageFrame& frame, std::optional<Msg> error, std::string_view name);

struct ListView {
  std::map<std::string, std::string, std::less<>> params;  // the filter as given (from, to, user, ...)
  std::map<std::string, std::vector<std::string>, std::less<>> options;  // drop-down values per filter
  std::vector<IndexedEvent> events;
  uint64_t total = 0;
  size_t page = 1, pages = 1;
  std::string prev_href, next_href;  // empty when there is no such page
};
std::string list_page(const PageFrame& frame, const ListView& view);

struct DetailView {
  IndexedEvent event;
  std::vector<TriageRecord> history;
};
std::string detail_page(const PageFrame& frame, const DetailView& view);

struct ChartsView {
  std::string from, to;  // "YYYY-MM-DD", inclusive
  std::vector<std::string> days;  // every day of the range, in order
  std::vector<EventStore::DayCount> by_category, by_unit;
  std::vector<std::pair<std::string, uint64_t>> top_rules, top_users;
};
std::string charts_page(const PageFrame& frame, const ChartsView& view);

struct UsageView {
  std::map<std::string, std::string, std::less<>> params;  // from, to, unit, service, province, gateway
  std::map<std::string, std::vector<std::string>, std::less<>> options;  // drop-down values per filter
  UsageSummary summary;
  size_t shown = 50;      // rows of the table (the units with the most requests); the CSV has all
  std::string csv_href;   // the same table as CSV
};
std::string usage_page(const PageFrame& frame, const UsageView& view);

// An error page: a title, a sentence, and a link back to `back_href`.
std::string error_page(const PageFrame& frame, Msg title, Msg detail, std::string_view back_href);

}  // namespace promptwall::audit
