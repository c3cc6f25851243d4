// BlockResponse: what a client receives when the gateway refuses its request, shaped so that the
// person behind the client reads why. API clients get their API's own error JSON (the official
// SDKs raise an error carrying our message: openai reads body.error.message, Anthropic
// error.error.message, Gemini clients error.message); browsers get a self-contained HTML page.
//
// Invariants: a refusal never carries request content, only ids the configuration and the gateway
// chose (rule ids, categories, service name, request id), with one exception: a coaching answer
// (justification_required) shows each finding's masked excerpt exactly as the audit trail records
// it (audit/evidence: the match's letters and digits masked, context digits masked), so the person
// can see which part of their text was meant. Every message is in Vietnamese then English; the
// same Refusal always renders the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/catalog/service.h"

namespace promptwall::gateway {

struct Refusal {
  // Status codes chosen (status_code()):
  //   sensitive_content, unapproved_service          403  the organisation's policy says no
  //   unreadable_body                                400  not 422: the body is not one the gateway
  //                                                       can read at all (fail closed), and SDKs
  //                                                       neither retry 400 nor treat it specially
  //   body_too_large 413, header_too_large 431
  //   unsupported_request                            400  the request as made cannot pass (bad
  //                                                       target, CONNECT without an organisation CA);
  //                                                       the fix is in the client's configuration
  //   malformed_request                              400  a head Beast cannot parse, or framing a
  //                                                       reader could take two ways (RFC 9112:
  //                                                       server/request_framing.h); closes
  //   upstream_unavailable 502, upstream_timeout 504, internal_error 500, overloaded 503
  //   proxy_auth_required                            407  (the caller adds Proxy-Authenticate)
  //   file_not_inspected, forbidden_destination,
  //   uninspectable_connection                       403  the organisation's policy says no
  //   justification_required, override_cap_reached   403  not 428 (Precondition Required, closer in
  //                                                       meaning): the SDKs raise both as errors whose
  //                                                       message the user reads and retry neither,
  //                                                       but the web apps show a 403's `detail` and
  //                                                       treat other 4xx as a generic failure; the
  //                                                       code `promptwall_justification_required`
  //                                                       tells a program which it is
  enum class Reason : uint8_t {
    sensitive_content,    // findings with a block action
    unapproved_service,   // the catalog marks the service unapproved
    unreadable_body,      // cannot be parsed/decoded and so cannot be scanned
    body_too_large,       // over max_body_bytes or max_decoded_body_bytes
    header_too_large,
    unsupported_request,  // CONNECT to an AI host without an organisation CA, bad request target
    upstream_unavailable, // connect or TLS verification failure
    upstream_timeout,
    internal_error,       // scanner failure etc.
    overloaded,           // too many connections
    audit_unavailable,    // the audit trail cannot be written: nothing leaves unrecorded
    rules_unavailable,    // no verified rule bundle yet (rules.bundle): nothing leaves unscanned
    proxy_auth_required,  // 407: the forward proxy needs (valid) credentials
    file_not_inspected,   // a file inside the request (data URL, base64 field, upload) that the
                          // gateway cannot read yet; the `files` policy knob says block
    forbidden_destination,  // loopback, link-local, unspecified, internal networks, the gateway's
                            // own listeners, or a path that leaves the service's base path (SSRF)
    uninspectable_connection,  // TLS to an AI address that names no host (no SNI, ECH), a CONNECT
                               // to an AI service's IP address that cannot be intercepted
    malformed_request,    // request smuggling's raw material: two Content-Lengths, a Transfer-Encoding
                          // other than chunked, no Host, obs-fold, a bad chunk (request_framing.h)
    justification_required,  // the coaching step: warn or justify findings; send it again with a
                             // justification (gateway/coaching/)
    override_cap_reached,    // the requester has overridden coaching answers coaching.daily_override_cap
                             // times today (UTC)
  };
  Reason reason = Reason::sensitive_content;
  std::vector<std::string> rule_ids;    // sensitive_content: the rules that blocked (ids only)
  std::vector<std::string> categories;  // their categories ("classification_marking", "national_id")
  std::string service;                  // e.g. "openai" (unapproved_service names it)
  std::string request_id;               // shown so staff can quote it to the security office
  // unapproved_service refused by a policy scope's deny: "unit" or "group" and its name.
  std::string scope_kind{}, scope_name{};
  // A refusal about a file the request carried: its name as people see it (the client's name, or
  // "[*]" when the name itself held a finding); for sensitive_content where in it ("đầu trang" /
  // "page header"), for file_not_inspected why it was not read ("tệp được bảo vệ bằng mật khẩu" /
  // "the file is password-protected"). Structure and names only, never the file's text.
  std::string file_name{};
  std::string file_place_vi{}, file_place_en{};
  std::string file_cause_vi{}, file_cause_en{};
  // sensitive_content: a justify finding for a requester who may not justify (coaching.justify_*):
  // the message says they may not override.
  bool may_not_override = false;

  // justification_required: what was found and how to go on (Refusal::coaching).
  struct CoachedFinding {
    std::string rule_id, category;
    std::string message_vi, message_en;  // the rule's own message, when it has one
    std::string excerpt;                 // masked, as audit/evidence makes it
  };
  struct Coaching {
    std::vector<CoachedFinding> findings;
    std::string guidance_url;       // coaching.guidance_url ("" none)
    std::string token;              // present it with the same request (JustificationToken)
    std::string form_secret;        // the justification form's anti-forgery value
    std::string justify_url;        // the form on the requested host ("https://chatgpt.com/.promptwall/justify?t=...")
    std::string form_action;        // where the HTML page's form posts ("/.promptwall/justify")
    bool reason_required = false;   // justify (warn: an acknowledgment, the reason is optional)
    size_t min_reason_chars = 0;
    unsigned lifetime_minutes = 10;
    // Why a justification presented with this request did not count (TokenProblem's spelling:
    // "expired", "replayed", "other_request", ...); "" on the first answer.
    std::string problem;
  };
  Coaching coaching{};

  // The ways to make one: named, so a call says which refusal it is (no positional aggregates).
  //
  // For `reason`, answering request `request_id`; `service` names the service where the message
  // should say which one (an outage or a refused upstream), empty otherwise.
  static Refusal because(Reason reason, std::string request_id, std::string service = {});
  // A service that is not approved, or that a policy scope of the requester denies: `scope_kind`
  // ("unit" or "group") and `scope_name` say which scope, both empty for the catalog's own flag.
  static Refusal unapproved(std::string service, std::string request_id, std::string scope_kind = {},
                            std::string scope_name = {});
  // Findings whose action is block: their rules (ids only) and categories, never the text.
  static Refusal sensitive(std::vector<std::string> rule_ids, std::vector<std::string> categories,
                           std::string request_id);
  // A file that could not be read completely, and whose cause the policy blocks
  // (file_not_inspected): its name and the cause in both languages (extractors' describe_*).
  static Refusal unreadable_file(std::string file_name, std::string cause_vi, std::string cause_en,
                                 std::string request_id);
  // The coaching answer: findings that warn or need a justification, and how to send it again.
  static Refusal coaching_answer(Coaching coaching, std::string service, std::string request_id);
};

// "sensitive_content", ...: the reason's name in codes, metrics and logs.
std::string_view to_string(Refusal::Reason r);
unsigned status_code(const Refusal& r);

// One message, Vietnamese then English, separated by " | ", each ending with the request id:
// "promptwall đã chặn yêu cầu này: ... (quy tắc vn-markings/degree-stamp). ... Mã yêu cầu: X. |
//  promptwall blocked this request: ... (rule vn-markings/degree-stamp). ... Request id: X."
// Categories are put in plain words in both languages; unknown ones are shown as they are.
std::string refusal_message(const Refusal& r);

struct RefusalResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// API-shaped error for the service's schema (M = refusal_message):
//  openai, json, text: {"error":{"message":M,"type":T,"param":null,"code":"promptwall_<reason>"}}
//     T: "promptwall_blocked" for refusals (403), "invalid_request_error" for 400/413/431,
//        "server_error" for 5xx
//  gemini: {"error":{"code":<status>,"message":M,"status":"PERMISSION_DENIED"|"INVALID_ARGUMENT"|
//     "UNAVAILABLE"|"DEADLINE_EXCEEDED"|"INTERNAL"|"RESOURCE_EXHAUSTED"}}
//  anthropic: {"type":"error","error":{"type":"permission_error"|"invalid_request_error"|
//     "request_too_large"|"api_error"|"timeout_error"|"overloaded_error","message":M}}
//  chatgpt_web: {"detail":M} with the status above: the ChatGPT app shows an error's `detail`
//     string, also for a conversation request that asked for text/event-stream (it checks the
//     status before it reads the stream).
//  gemini_web: status 200, a StreamGenerate answer whose reply text is M (gemini.google.com shows
//     that; see gemini_web_body in the .cpp for the recorded shape).
// html=true: a self-contained page (inline CSS, no external resources), a lang="vi" section then
// a lang="en" one, everything HTML-escaped, with the request id. A coaching answer's page carries
// the justification form (the token and form secret hidden, a reason box, POST to form_action).
// A coaching answer's API message names each finding (rule id, its message, the category in plain
// words, the masked excerpt), the guidance link, the token and the two headers to resend with, and
// the form's link for browsers.
RefusalResponse render_refusal(Schema schema, bool html, const Refusal& r);

// A WebSocket close frame's reason for a refused message (sent with code 1008, policy violation):
// short Vietnamese and English and the request id, never content; at most kMaxCloseReasonBytes of
// UTF-8, as RFC 6455 allows.
inline constexpr size_t kMaxCloseReasonBytes = 123;
std::string websocket_close_reason(const Refusal& r);

// Whether an Accept header prefers text/html over application/json: by q-value, then by the more
// specific media range, then by position. "*/*" alone or an empty header prefer JSON.
bool prefers_html(std::string_view accept_header);

// The page shown after the justification form was accepted: go back and send the request again.
std::string justification_accepted_page(const std::string& request_id);

}  // namespace promptwall::gateway
