// ReviewSite: the security officers' review page as a pure request → response function (no
// sockets; gateway/server/ carries the bytes). Pages: /review/login, /review (violations, filtered
// and paginated), /review/event/<id> (detail and triage), /review/charts, /review/usage (requests,
// share with findings and violations per unit and week: "did the training work?") and its CSV
// /review/usage.csv; POST /review/logout and POST /review/event/<id>/triage.
//
// What it reads is an EventStore (event_store.h): the SQLite index of this gateway's trail by
// default, or the central PostgreSQL store of the whole fleet (audit.central.review). Times are
// shown in the organisation's time zone (LocalTime), day/month/year.
//
// Invariants:
//   - without a live session every /review address answers a redirect to /review/login (or the
//     login page itself): nothing from the trail is shown to anyone not signed in;
//   - every POST but the login carries the session's CSRF token or is refused (403), changing
//     nothing;
//   - a triage is an event appended to the local trail through AuditWriter::append_and_wait; only
//     when it is durable does the page report success (303 back to the event), otherwise nothing
//     changed; a central store is then given the same record (idempotent on gateway and seq, as
//     the shipper's copy), so every officer sees the state at once;
//   - the store is refreshed before each page (the index synced with the trail), so a page shows
//     what the trail holds;
//   - every response is no-store, framed by nobody (X-Frame-Options DENY, frame-ancestors 'none'),
//     and under a Content-Security-Policy that allows only the page's own inline style and script.
//
// Threading: handle() may be called from several threads; the store is used under a mutex (the
// gateway calls from one pool thread, as SQLite and PostgreSQL block).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit_index.h"
#include "audit/audit_writer.h"
#include "audit/event_store.h"
#include "audit/local_time.h"
#include "audit/officer_auth.h"
#include "audit/review_pages.h"
#include "audit/trail_reader.h"

namespace promptwall::audit {

struct ReviewRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path?query as received, e.g. "/review?user=an&page=2"
  std::string cookie;  // the Cookie header, "" when none
  std::string body;    // application/x-www-form-urlencoded for POSTs
  std::string client;  // the client's address, "ip" or "ip:port" ("[v6]:port")
  // A POST another site made the browser send is refused by these (audit/README.md, "Security of
  // the review page"); `secure` also marks the cookies Secure.
  std::string host = {};            // the Host header
  std::string origin = {};          // the Origin header, "" when none
  std::string sec_fetch_site = {};  // the Sec-Fetch-Site header, "" when none (older browsers, scripts)
  bool secure = false;              // reached over HTTPS: the listener's TLS, or X-Forwarded-Proto: https
};

// What happened that the operational log should say (audit/ has no logger). Never the note text.
struct ReviewActivity {
  enum class Kind { login, login_failed, login_locked, logout, triage };
  Kind kind = Kind::login;
  std::string officer;   // the name given (login_failed: as typed)
  std::string client;
  std::string event_id;  // triage: the event triaged
  std::string state;     // triage: the new state
};
std::string_view to_string(ReviewActivity::Kind kind);

struct ReviewResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie may repeat
  std::optional<ReviewActivity> activity;
  std::string problem;  // for the operational log: why a page failed (503s), "" otherwise

  std::string header(std::string_view name) const;  // the first one so named, "" when none
};

class ReviewSite {
 public:
  static constexpr size_t kPageSize = 50;
  static constexpr size_t kMaxNoteChars = 2000;  // code points

  // True for a POST the browser says another site made: Sec-Fetch-Site other than same-origin (or
  // none), else an Origin whose host is not the Host header. Pure.
  static bool sent_from_another_site(const ReviewRequest& request);

  // Opens the store the pages read; called on the first page and again after a page failed (a
  // broken index or an unreachable server makes pages fail, not the gateway).
  using StoreOpener = std::function<std::unique_ptr<EventStore>()>;

  // `trail_dir` is the local trail `writer` writes (triage records are read back from it).
  ReviewSite(OfficerAuthOptions auth, std::filesystem::path trail_dir, StoreOpener open_store, AuditWriter& writer,
             LocalTime local_time = LocalTime());
  // Over the SQLite index `index_file` of the trail, times in Vietnam's zone.
  ReviewSite(OfficerAuthOptions auth, std::filesystem::path trail_dir, std::filesystem::path index_file,
             AuditWriter& writer);
  ~ReviewSite();
  ReviewSite(const ReviewSite&) = delete;
  ReviewSite& operator=(const ReviewSite&) = delete;

  // False when no officer is configured: the server answers 404 with a hint instead.
  bool enabled() const { return auth_.enabled(); }

  // Whether `target` is the site's: "/review", "/review?..." or "/review/...".
  static bool serves(std::string_view target);

  ReviewResponse handle(const ReviewRequest& request);

 private:
  struct Call;  // one request being answered
  ReviewResponse login_get(Call& call);
  ReviewResponse login_post(Call& call);
  ReviewResponse logout(Call& call);
  ReviewResponse list(Call& call);
  ReviewResponse detail(Call& call, const std::string& event_id);
  ReviewResponse triage(Call& call, const std::string& event_id);
  ReviewResponse charts(Call& call);
  ReviewResponse usage(Call& call, bool csv);
  ReviewResponse error(Call& call, int status, Msg title, Msg detail, std::string back_href);
  ReviewResponse html(Call& call, int status, std::string body);
  EventStore& refreshed_store();  // under store_mutex_
  // The triage record with this id, read back from the local trail after `after_seq`.
  std::optional<TrailRecord> find_triage_record(uint64_t after_seq, const std::string& triage_id) const;

  OfficerAuth auth_;
  std::filesystem::path trail_dir_;
  StoreOpener open_store_;
  AuditWriter& writer_;
  const LocalTime local_time_;
  std::mutex store_mutex_;
  std::unique_ptr<EventStore> store_;
};

}  // namespace promptwall::audit
