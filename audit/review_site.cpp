#include "audit/review_site.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <exception>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "audit/usage_report.h"
#include "encoding/web_text.h"

namespace promptwall::audit {

std::string_view to_string(ReviewActivity::Kind kind) {
  switch (kind) {
    case ReviewActivity::Kind::login: return "login";
    case ReviewActivity::Kind::login_failed: return "login_failed";
    case ReviewActivity::Kind::login_locked: return "login_locked";
    case ReviewActivity::Kind::logout: return "logout";
    case ReviewActivity::Kind::triage: return "triage";
  }
  return "unknown";
}

std::string ReviewResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return "";
}

namespace {

constexpr std::string_view kLangCookie = "pw_lang";
constexpr std::string_view kFilterKeys[] = {"from",     "to",       "user",     "unit",   "service",   "rule",    "category",
                                            "decision", "severity", "triage",   "justified", "gateway", "province"};
constexpr std::string_view kDecisions[] = {"warn", "redact", "justify", "block", "refused"};  // the violations
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};

using Params = std::map<std::string, std::string, std::less<>>;

// "a=1&b=2" → {a:1, b:2}; the first of repeated names wins.
Params parse_form(std::string_view s) {
  Params out;
  while (!s.empty()) {
    const size_t amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    out.emplace(encoding::form_decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : encoding::form_decode(pair.substr(eq + 1)));
  }
  return out;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
  }
  return "";
}

// "10.0.0.5:51234" → "10.0.0.5", "[::1]:51234" → "::1"; a bare address stays as is.
std::string address_of(std::string_view client) {
  if (!client.empty() && client.front() == '[') {
    const size_t close = client.find(']');
    return std::string(client.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = client.find(':');
  if (colon != std::string_view::npos && client.find(':', colon + 1) == std::string_view::npos)
    return std::string(client.substr(0, colon));
  return std::string(client);
}

size_t code_points(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// "YYYY-MM-DD" → that day's first instant (UTC), nullopt when it is not a date.
std::optional<std::chrono::sys_days> parse_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string new_triage_id(Clock::time_point now) {
  uint8_t random[10];
  if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
  return new_event_id(now, random);
}

}  // namespace

// One request being answered: what was parsed from it and what every response to it carries.
struct ReviewSite::Call {
  const ReviewRequest& request;
  std::string path;
  Params query;
  Lang lang = Lang::vi;
  bool remember_lang = false;  // ?lang= was given: set the cookie
  std::string nonce;
  std::optional<OfficerAuth::Session> session;
  const LocalTime* local_time = nullptr;  // the site's

  explicit Call(const ReviewRequest& r) : request(r) {
    const size_t q = r.target.find('?');
    path = r.target.substr(0, q);
    if (q != std::string::npos) query = parse_form(std::string_view(r.target).substr(q + 1));
    std::string chosen;
    if (auto it = query.find("lang"); it != query.end() && (it->second == "en" || it->second == "vi")) {
      chosen = it->second;
      remember_lang = true;
    } else {
      chosen = cookie_value(r.cookie, kLangCookie);
    }
    lang = chosen == "en" ? Lang::en : Lang::vi;
    nonce = random_hex(16);
  }

  // This page with the other language (the query kept, its `lang` replaced).
  std::string switch_href() const {
    std::string href = path + "?";
    for (const auto& [k, v] : query)
      if (k != "lang") href += encoding::percent_encode(k) + "=" + encoding::percent_encode(v) + "&";
    return href + "lang=" + (lang == Lang::vi ? "en" : "vi");
  }

  PageFrame frame() const {
    PageFrame f;
    f.lang = lang;
    f.nonce = nonce;
    if (session) {
      f.officer = session->officer;
      f.csrf_token = session->csrf_token;
    }
    f.switch_href = switch_href();
    f.local_time = local_time;
    return f;
  }

  std::string param(std::string_view key) const {
    auto it = query.find(key);
    return it == query.end() ? "" : it->second;
  }
};

ReviewSite::ReviewSite(OfficerAuthOptions auth, std::filesystem::path trail_dir, StoreOpener open_store,
                       AuditWriter& writer, LocalTime local_time)
    : auth_(std::move(auth)),
      trail_dir_(std::move(trail_dir)),
      open_store_(std::move(open_store)),
      writer_(writer),
      local_time_(std::move(local_time)) {}

ReviewSite::ReviewSite(OfficerAuthOptions auth, std::filesystem::path trail_dir, std::filesystem::path index_file,
                       AuditWriter& writer)
    : ReviewSite(std::move(auth), trail_dir,
                 [trail_dir, index_file]() -> std::unique_ptr<EventStore> {
                   return std::make_unique<AuditIndex>(trail_dir, index_file);
                 },
                 writer) {}

ReviewSite::~ReviewSite() = default;

bool ReviewSite::serves(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/review" || path.starts_with("/review/");
}

EventStore& ReviewSite::refreshed_store() {
  if (!store_) store_ = open_store_();
  try {
    store_->refresh();
  } catch (...) {
    store_.reset();  // opened afresh for the next page
    throw;
  }
  return *store_;
}

std::optional<TrailRecord> ReviewSite::find_triage_record(uint64_t after_seq, const std::string& triage_id) const {
  TrailReader reader(trail_dir_, after_seq + 1);
  while (auto record = reader.next()) {
    if (record->line.find(triage_id) == std::string::npos) continue;  // ids are unique ULIDs: cheap first
    const auto j = nlohmann::json::parse(record->line);
    if (j.value("type", std::string()) == "triage" && j.value("event_id", std::string()) == triage_id) return record;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Responses

namespace {

void secure(ReviewResponse& r, std::string_view nonce) {
  r.headers.emplace_back("Content-Security-Policy", content_security_policy(nonce));
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

ReviewResponse ReviewSite::html(Call& call, int status, std::string body) {
  ReviewResponse r;
  r.status = status;
  r.body = std::move(body);
  secure(r, call.nonce);
  r.headers.emplace_back("Content-Language", call.lang == Lang::vi ? "vi" : "en");
  if (call.remember_lang)
    r.headers.emplace_back("Set-Cookie", std::string(kLangCookie) + "=" + (call.lang == Lang::vi ? "vi" : "en") +
                                             "; Path=/review; HttpOnly; SameSite=Strict; Max-Age=31536000" +
                                             (call.request.secure ? "; Secure" : ""));
  return r;
}

namespace {

ReviewResponse redirect(std::string_view nonce, std::string location) {
  ReviewResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "→ " + location + "\n";
  secure(r, nonce);
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

}  // namespace

ReviewResponse ReviewSite::error(Call& call, int status, Msg title, Msg detail, std::string back_href) {
  return html(call, status, error_page(call.frame(), title, detail, back_href));
}

// ---------------------------------------------------------------------------------------------
// Routing

bool ReviewSite::sent_from_another_site(const ReviewRequest& request) {
  // Fetch metadata is the browser's own verdict and survives a reverse proxy that rewrites Host;
  // "none" is the officer's own action (a bookmark, the address bar).
  if (!request.sec_fetch_site.empty()) return request.sec_fetch_site != "same-origin" && request.sec_fetch_site != "none";
  if (request.origin.empty()) return false;  // neither header: not a browser that would be forged into it
  if (request.origin == "null") return true;   // a sandboxed frame, a data: URL
  const size_t scheme_end = request.origin.find("://");
  if (scheme_end == std::string::npos) return true;
  const std::string_view origin_host = std::string_view(request.origin).substr(scheme_end + 3);
  return !std::equal(origin_host.begin(), origin_host.end(), request.host.begin(), request.host.end(),
                     [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
}

ReviewResponse ReviewSite::handle(const ReviewRequest& request) {
  Call call(request);
  call.local_time = &local_time_;
  if (!serves(call.path)) return error(call, 404, Msg::err_not_found, Msg::err_not_found, "/review");
  if (!enabled()) return error(call, 404, Msg::err_not_found, Msg::review_off, "/review");

  const bool get = request.method == "GET", post = request.method == "POST";
  auto not_allowed = [&](std::string allow) {
    auto r = error(call, 405, Msg::err_bad_request, Msg::err_method, "/review");
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  };

  // Before anything else, the sign-in included (it has no session to bind a token to): a POST the
  // browser says another site made is refused. The CSRF token below still guards every POST of a
  // session, for browsers that send neither header.
  if (post && sent_from_another_site(request)) return error(call, 403, Msg::err_forbidden, Msg::err_cross_site, "/review");

  call.session = auth_.session(cookie_value(request.cookie, OfficerAuth::kSessionCookie));
  try {
    if (call.path == "/review/login") {
      if (get) return call.session ? redirect(call.nonce, "/review") : login_get(call);
      if (post) return login_post(call);
      return not_allowed("GET, POST");
    }
    // Everything else is for signed-in officers only.
    if (!call.session) return redirect(call.nonce, "/review/login");

    if (call.path == "/review/logout") return post ? logout(call) : not_allowed("POST");
    if (call.path == "/review" || call.path == "/review/") return get ? list(call) : not_allowed("GET");
    if (call.path == "/review/charts") return get ? charts(call) : not_allowed("GET");
    if (call.path == "/review/usage") return get ? usage(call, false) : not_allowed("GET");
    if (call.path == "/review/usage.csv") return get ? usage(call, true) : not_allowed("GET");
    constexpr std::string_view kEventPrefix = "/review/event/", kTriageSuffix = "/triage";
    if (call.path.starts_with(kEventPrefix)) {
      std::string_view rest = std::string_view(call.path).substr(kEventPrefix.size());
      if (rest.ends_with(kTriageSuffix)) {
        rest.remove_suffix(kTriageSuffix.size());
        return post ? triage(call, encoding::form_decode(rest)) : not_allowed("POST");
      }
      if (!rest.empty() && rest.find('/') == std::string_view::npos) return get ? detail(call, encoding::form_decode(rest)) : not_allowed("GET");
    }
    return error(call, 404, Msg::err_not_found, Msg::err_not_found, "/review");
  } catch (const std::exception& e) {
    // The index cannot be opened or queried (the trail files are what matter; they are untouched).
    auto r = error(call, 503, Msg::err_unavailable, Msg::err_index, "/review");
    r.problem = e.what();
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

ReviewResponse ReviewSite::login_get(Call& call) { return html(call, 200, login_page(call.frame(), std::nullopt, "")); }

ReviewResponse ReviewSite::login_post(Call& call) {
  const Params form = parse_form(call.request.body);
  auto field = [&](std::string_view k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string name = field("name");
  const auto result = auth_.login(name, field("password"), address_of(call.request.client));
  ReviewActivity activity{ReviewActivity::Kind::login, name, call.request.client, "", ""};
  if (result.outcome == OfficerAuth::LoginOutcome::ok) {
    auto r = redirect(call.nonce, "/review");
    r.headers.emplace_back("Set-Cookie", auth_.session_cookie(*result.session, call.request.secure));
    r.activity = activity;
    return r;
  }
  const bool locked = result.outcome == OfficerAuth::LoginOutcome::locked_out;
  activity.kind = locked ? ReviewActivity::Kind::login_locked : ReviewActivity::Kind::login_failed;
  auto r = html(call, locked ? 429 : 401, login_page(call.frame(), locked ? Msg::login_locked : Msg::login_failed, name));
  r.activity = activity;
  return r;
}

ReviewResponse ReviewSite::logout(Call& call) {
  const Params form = parse_form(call.request.body);
  auto csrf = form.find("csrf");
  if (csrf == form.end() || !OfficerAuth::csrf_matches(*call.session, csrf->second))
    return error(call, 403, Msg::err_forbidden, Msg::err_csrf, "/review");
  auth_.logout(call.session->id);
  auto r = redirect(call.nonce, "/review/login");
  r.headers.emplace_back("Set-Cookie", OfficerAuth::expired_session_cookie(call.request.secure));
  r.activity = ReviewActivity{ReviewActivity::Kind::logout, call.session->officer, call.request.client, "", ""};
  return r;
}

// ---------------------------------------------------------------------------------------------
// Pages

ReviewResponse ReviewSite::list(Call& call) {
  ListView view;
  EventFilter filter;
  filter.violations_only = true;
  for (std::string_view key : kFilterKeys) {
    std::string value = call.param(key);
    if (value.empty()) continue;
    // Values the index would refuse (a hand-edited link) filter nothing.
    if (key == "severity" && std::find(std::begin(kSeverities), std::end(kSeverities), value) == std::end(kSeverities))
      continue;
    if (key == "triage" && !is_triage_state(value)) continue;
    if (key == "justified" && value != "yes") continue;
    if (key == "from" || key == "to") {
      const auto day = parse_day(value);
      if (!day) continue;  // not a date: no bound (the field shows empty)
      // Local days: "to" includes its day.
      if (key == "from") filter.since = local_time_.start_of(std::chrono::year_month_day{*day});
      else filter.until = local_time_.start_of(std::chrono::year_month_day{*day + std::chrono::days{1}});
    }
    else if (key == "user") filter.user = value;
    else if (key == "unit") filter.unit = value;
    else if (key == "service") filter.service = value;
    else if (key == "rule") filter.rule = value;
    else if (key == "category") filter.category = value;
    else if (key == "decision") filter.decision = value;
    else if (key == "severity") filter.severity = value;
    else if (key == "triage") filter.triage = value;
    else if (key == "justified") filter.justified_only = true;
    else if (key == "gateway") filter.gateway = value;
    else if (key == "province") filter.province = value;
    view.params.emplace(std::string(key), std::move(value));
  }

  std::lock_guard lock(store_mutex_);
  EventStore& index = refreshed_store();
  for (std::string_view column : {"user", "unit", "service", "rule", "category", "gateway", "province"})
    if (auto values = index.distinct(column); !values.empty() || (column != "gateway" && column != "province"))
      view.options[std::string(column)] = std::move(values);
  view.options["decision"] = {std::begin(kDecisions), std::end(kDecisions)};
  view.options["severity"] = {std::begin(kSeverities), std::end(kSeverities)};
  view.options["triage"] = {std::begin(kTriageStates), std::end(kTriageStates)};
  view.options["justified"] = {"yes"};

  view.total = index.count(filter);
  view.pages = std::max<size_t>(1, static_cast<size_t>((view.total + kPageSize - 1) / kPageSize));
  size_t page = 1;
  if (const auto p = call.param("page"); !p.empty() && p.size() < 10 && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    page = std::clamp<size_t>(std::stoul(p), 1, view.pages);
  view.page = page;
  view.events = index.query(filter, EventPage{kPageSize, (page - 1) * kPageSize, true});

  auto href = [&](size_t n) {
    std::string h = "/review?";
    for (const auto& [k, v] : view.params) h += encoding::percent_encode(k) + "=" + encoding::percent_encode(v) + "&";
    return h + "page=" + std::to_string(n);
  };
  if (page > 1) view.prev_href = href(page - 1);
  if (page < view.pages) view.next_href = href(page + 1);
  return html(call, 200, list_page(call.frame(), view));
}

ReviewResponse ReviewSite::detail(Call& call, const std::string& event_id) {
  std::lock_guard lock(store_mutex_);
  EventStore& index = refreshed_store();
  auto event = index.event(event_id);
  if (!event) return error(call, 404, Msg::err_not_found, Msg::err_no_event, "/review");
  DetailView view{std::move(*event), index.triage_history(event_id)};
  return html(call, 200, detail_page(call.frame(), view));
}

ReviewResponse ReviewSite::triage(Call& call, const std::string& event_id) {
  const Params form = parse_form(call.request.body);
  auto field = [&](std::string_view k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string back = "/review/event/" + encoding::percent_encode(event_id);
  if (!OfficerAuth::csrf_matches(*call.session, field("csrf")))
    return error(call, 403, Msg::err_forbidden, Msg::err_csrf, back);
  const std::string state = field("state"), note = field("note");
  if (!is_triage_state(state)) return error(call, 400, Msg::err_bad_request, Msg::err_bad_state, back);
  if (code_points(note) > kMaxNoteChars) return error(call, 400, Msg::err_bad_request, Msg::err_note_long, back);

  std::lock_guard lock(store_mutex_);
  EventStore& index = refreshed_store();
  if (!index.event(event_id)) return error(call, 404, Msg::err_not_found, Msg::err_no_event, "/review");

  TriageEvent t;
  t.time = Clock::now();
  t.event_id = new_triage_id(t.time);
  t.target = event_id;
  t.state = state;
  t.note = note;
  t.officer = call.session->officer;
  t.client = call.request.client;
  const uint64_t before = writer_.durable_seq();
  if (!writer_.append_and_wait(to_json_object(t))) {
    auto r = error(call, 503, Msg::err_unavailable, Msg::err_not_durable, back);
    r.problem = "the audit trail is unavailable: " + writer_.health().error;
    return r;
  }
  // So the page the officer is sent back to shows the new state: the local index reads it from
  // the trail; a central store gets the very record (the shipper's copy of it changes nothing).
  std::string problem;
  if (index.indexes_local_trail()) {
    index.refresh();
  } else if (auto record = find_triage_record(before, t.event_id)) {
    index.record_triage(record->seq, record->line, t);
  } else {
    problem = "triage " + t.event_id + " is durable but was not found in the trail after seq " + std::to_string(before) +
              "; the central store gets it from the shipper";
  }
  auto r = redirect(call.nonce, back);
  r.activity = ReviewActivity{ReviewActivity::Kind::triage, t.officer, t.client, event_id, state};
  r.problem = std::move(problem);
  return r;
}

ReviewResponse ReviewSite::charts(Call& call) {
  using namespace std::chrono;
  const sys_days today{local_time_.day_of(Clock::now())};
  sys_days to = parse_day(call.param("to")).value_or(today);
  sys_days from = parse_day(call.param("from")).value_or(to - days{29});
  if (from > to) std::swap(from, to);
  if (to - from > days{366}) from = to - days{366};  // a year of bars at most

  ChartsView view;
  view.from = format_day(from);
  view.to = format_day(to);
  const TimeBuckets buckets = local_time_.days(year_month_day{from}, year_month_day{to});
  view.days = buckets.labels;
  EventFilter filter;
  filter.violations_only = true;
  filter.since = buckets.edges.front();
  filter.until = buckets.edges.back();

  std::lock_guard lock(store_mutex_);
  EventStore& index = refreshed_store();
  view.by_category = index.per_bucket(filter, "category", buckets);
  view.by_unit = index.per_bucket(filter, "unit", buckets);
  view.top_rules = index.top(filter, "rule", 10);
  view.top_users = index.top(filter, "user", 10);
  return html(call, 200, charts_page(call.frame(), view));
}

ReviewResponse ReviewSite::usage(Call& call, bool csv) {
  using namespace std::chrono;
  const sys_days today{local_time_.day_of(Clock::now())};
  sys_days to = parse_day(call.param("to")).value_or(today);
  sys_days from = parse_day(call.param("from")).value_or(to - days{7 * 12 - 1});  // twelve weeks
  if (from > to) std::swap(from, to);
  if (to - from > days{7 * 106}) from = to - days{7 * 106};  // two years of weeks at most

  UsageView view;
  view.params["from"] = format_day(from);
  view.params["to"] = format_day(to);
  EventFilter filter;
  for (std::string_view key : {"unit", "service", "province", "gateway"}) {
    const std::string value = call.param(key);
    if (value.empty()) continue;
    if (key == "unit") filter.unit = value;
    else if (key == "service") filter.service = value;
    else if (key == "province") filter.province = value;
    else filter.gateway = value;
    view.params.emplace(std::string(key), value);
  }
  const TimeBuckets weeks = local_time_.weeks(year_month_day{from}, year_month_day{to});

  std::lock_guard lock(store_mutex_);
  EventStore& store = refreshed_store();
  const auto rows = store.usage(filter, "unit", weeks);
  if (csv) {
    ReviewResponse r;
    r.content_type = "text/csv; charset=utf-8";
    // The byte order mark lets spreadsheet programs read the Vietnamese names as UTF-8.
    r.body = "\xEF\xBB\xBF" + usage_csv(rows, weeks, "unit", local_time_);
    secure(r, call.nonce);
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"promptwall-usage-" + view.params["from"] + "-" +
                                                      view.params["to"] + ".csv\"");
    return r;
  }
  for (std::string_view column : {"unit", "service", "province", "gateway"})
    if (auto values = store.distinct(column); !values.empty() || column == "unit" || column == "service")
      view.options[std::string(column)] = std::move(values);
  view.summary = summarize_usage(rows, weeks);
  view.csv_href = "/review/usage.csv?";
  for (const auto& [k, v] : view.params) view.csv_href += encoding::percent_encode(k) + "=" + encoding::percent_encode(v) + "&";
  view.csv_href.pop_back();
  return html(call, 200, usage_page(call.frame(), view));
}

}  // namespace promptwall::audit
