// ReviewSite: the security officers' review page as a pure request → response function (no
// sockets; gateway/server/ carries the bytes). Pages: /review/login, /review (violations, filtered
// and paginated), /review/event/<id> (detail and triage), /review/charts; POST /review/logout and
// POST /review/event/<id>/triage.
//
// Invariants:
//   - without a live session every /review address answers a redirect to /review/login (or the
//     login page itself): nothing from the trail is shown to anyone not signed in;
//   - every POST but the login carries the session's CSRF token or is refused (403), changing
//     nothing;
//   - a triage is an event appended to the trail through AuditWriter::append_and_wait; only when it
//     is durable does the page report success (303 back to the event), otherwise nothing changed;
//   - the index is synced with the trail before each page, so a page shows what the trail holds;
//   - every response is no-store, framed by nobody (X-Frame-Options DENY, frame-ancestors 'none'),
//     and under a Content-Security-Policy that allows only the page's own inline style and script.
//
// Threading: handle() may be called from several threads; the index is used under a mutex (the
// gateway calls from one pool thread, as SQLite blocks).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit_index.h"
#include "audit/audit_writer.h"
#include "audit/officer_auth.h"
#include "audit/review_pages.h"

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

  // The index is opened on the first page (a broken index makes pages fail, not the gateway).
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
  ReviewResponse error(Call& call, int status, Msg title, Msg detail, std::string back_href);
  ReviewResponse html(Call& call, int status, std::string body);
  AuditIndex& synced_index();  // under index_mutex_

  OfficerAuth auth_;
  std::filesystem::path trail_dir_, index_file_;
  AuditWriter& writer_;
  std::mutex index_mutex_;
  std::unique_ptr<AuditIndex> index_;
};

}  // namespace promptwall::audit
