#include "gateway/adapters/request_inspector.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "classifiers/redactor.h"
#include "gateway/adapters/body_rewriter.h"
#include "gateway/adapters/content_decoder.h"

namespace promptwall::gateway {

namespace {

bool is_identity(std::string_view encoding) {
  while (!encoding.empty() && (encoding.front() == ' ' || encoding.front() == '\t')) encoding.remove_prefix(1);
  while (!encoding.empty() && (encoding.back() == ' ' || encoding.back() == '\t')) encoding.remove_suffix(1);
  return encoding.empty() || encoding == "identity";
}

Inspection refuse(Inspection out, Refusal::Reason reason, std::string_view request_id, std::string note) {
  out.outcome = Inspection::Outcome::refuse;
  out.refusal = Refusal::because(reason, std::string(request_id));
  out.note = std::move(note);
  return out;
}

// A finding of a scoped pack none of the requester's scopes names: it does not count.
bool is_hidden(const RuleSet& rules, const Finding& f, std::span<const std::string> hidden_packs) {
  if (hidden_packs.empty() || f.rule_index >= rules.rules().size()) return false;
  const std::string& pack = rules.rules()[f.rule_index].rule.pack;
  return std::find(hidden_packs.begin(), hidden_packs.end(), pack) != hidden_packs.end();
}

// "2 files in the body not read: messages[0].content[1].image_url.url (image/png, 5120 bytes), ..."
// Locations withhold keys that look like data; sizes and media types are not content.
std::string describe_files(const std::vector<CarriedFile>& files) {
  std::string out = std::to_string(files.size()) + (files.size() == 1 ? " file" : " files") + " in the body not read: ";
  for (size_t i = 0; i < files.size() && i < 5; ++i) {
    if (i > 0) out += ", ";
    out += files[i].location + " (" + (files[i].media_type.empty() ? "unknown type" : files[i].media_type) + ", " +
           std::to_string(files[i].size) + " bytes)";
  }
  if (files.size() > 5) out += ", ...";
  return out;
}

// A key, decoded base64, a transcoded body or the request head cannot be rewritten
// (segment_extractor.h, scan_head()): a rewritten key can collide with a sibling or break the API,
// decoded bytes or another charset cannot be spliced back, a changed header or path is read
// differently upstream. A redact there acts as a block, so nothing is forwarded half-redacted.
void escalate_unrewritable_redactions(Inspection& out) {
  for (size_t i = 0; i < out.findings.size() && i < out.decision.actions.size(); ++i) {
    if (out.decision.actions[i] != Action::redact || out.segments[out.findings[i].segment].rewritable) continue;
    out.decision.actions[i] = Action::block;
    out.decision.verdict = Verdict::block;
    out.note += out.note.empty() ? "" : "; ";
    out.note += "redaction in " + out.segments[out.findings[i].segment].location + " escalated to block (not rewritable)";
  }
}

// ---- The request head (head_segments.h) ---------------------------------------------------
// One scan over the head's text: the query, path segments, headers and trailers leave with the
// request whatever its body is. Only pieces with findings become Segments (after the body's), so a
// clean head costs one scan and no allocation per header. Returns the seconds spent.
double scan_head(const HeadText& head, Scanner& scanner, std::span<const std::string> hidden_packs, Inspection& out) {
  out.first_head_segment = out.segments.size();
  if (head.pieces.empty()) return 0;
  const auto start = std::chrono::steady_clock::now();
  ScanResult result = scanner.scan(head.text);
  std::vector<std::pair<const HeadText::Piece*, size_t>> made;  // piece → its segment
  for (auto& f : result.findings) {
    if (is_hidden(scanner.ruleset(), f, hidden_packs)) continue;
    const HeadText::Piece* piece = head.piece_at(f.span.begin);
    if (!piece) piece = &head.pieces.back();  // a finding on the last line break: still the head's
    // The span within the piece (a finding that runs on into the next piece is cut at its end).
    const uint32_t begin = std::max(f.span.begin, piece->begin), end = std::min(f.span.end, piece->end);
    f.span.begin = begin - piece->begin;
    f.span.end = std::max(begin, end) - piece->begin;
    auto it = std::find_if(made.begin(), made.end(), [&](const auto& m) { return m.first == piece; });
    if (it == made.end()) {
      Segment segment;
      segment.text = std::string(head.piece_text(*piece));
      segment.location = head.location(*piece);
      segment.encoding = Segment::Encoding::raw;  // raw_begin == raw_end == 0: not in the body
      // The head cannot be rewritten safely (a header or path the upstream reads differently once
      // changed): a redact here acts as a block; warn and log still forward.
      segment.rewritable = false;
      out.segments.push_back(std::move(segment));
      made.emplace_back(piece, out.segments.size() - 1);
      it = made.end() - 1;
    }
    out.findings.push_back({std::move(f), it->second});
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- end of the request head ----------------------------------------------------------------

}  // namespace

std::vector<std::string> Inspection::rules_acting(Action action) const {
  std::vector<std::string> ids;
  for (size_t i = 0; i < findings.size() && i < decision.actions.size(); ++i) {
    if (decision.actions[i] != action) continue;
    const std::string& id = findings[i].finding.rule_id;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

RequestInspector::RequestInspector(InspectorLimits limits)
    : limits_(limits), extractor_(ExtractorLimits{limits.max_json_depth}) {}

Inspection RequestInspector::inspect(const InspectionRequest& request, Scanner& scanner,
                                     std::span<const PolicyLayer* const> layers, std::string_view request_id) const {
  Inspection out;
  const Service& service = *request.service;

  // 1. The bytes as the client meant them.
  std::string decoded_storage;
  std::string_view body = request.body;
  const bool encoded = !is_identity(request.content_encoding);
  if (encoded) {
    DecodedBody decoded = decode_content(request.content_encoding, request.body, limits_.max_decoded_body_bytes);
    switch (decoded.status) {
      case DecodedBody::Status::ok: break;
      case DecodedBody::Status::too_large:
        return refuse(std::move(out), Refusal::Reason::body_too_large, request_id, decoded.error);
      case DecodedBody::Status::unsupported:
      case DecodedBody::Status::corrupt:
        return refuse(std::move(out), Refusal::Reason::unreadable_body, request_id, decoded.error);
    }
    decoded_storage = std::move(decoded.body);
    body = decoded_storage;
  }

  // 2. The text that leaves.
  Extraction extraction = extractor_.extract(service.schema, request.content_type, request.path, body);
  // Nothing is scanned as raw text in place of a parse any more (`unparseable` only reads as
  // block): raw JSON keeps its escapes, so an escaped stamp would pass.
  if (extraction.status == Extraction::Status::unparseable)
    return refuse(std::move(out), Refusal::Reason::unreadable_body, request_id,
                  "body cannot be parsed: " + extraction.error);
  // Files the gateway cannot read (the body itself, or base64 files in it): `policy.files`.
  const bool files_allowed = service.files.value_or(FilePolicy::block) == FilePolicy::allow;
  if (extraction.status == Extraction::Status::file || !extraction.files.empty()) {
    std::string what = extraction.status == Extraction::Status::file ? "body is a file (" + extraction.error + ")"
                                                                     : describe_files(extraction.files);
    if (!files_allowed)
      return refuse(std::move(out), Refusal::Reason::file_not_inspected, request_id, what + ": not inspected");
    out.note = what + ": forwarded unread (policy.files: allow)";
  }
  if (!extraction.transcoded.empty()) {
    if (!out.note.empty()) out.note += "; ";
    out.note += "body decoded from " + extraction.charset + " to be scanned";
  }
  out.segments = std::move(extraction.segments);

  // 3. Findings, segment by segment (each scanned whole: no matches lost at chunk edges).
  const auto scan_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < out.segments.size(); ++i) {
    ScanResult result = scanner.scan(out.segments[i].text);
    for (auto& f : result.findings)
      if (!is_hidden(scanner.ruleset(), f, request.hidden_packs)) out.findings.push_back({std::move(f), i});
  }
  out.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();

  // 3b. The request head (query, path segments, headers, trailers): its own step, see scan_head().
  out.first_head_segment = out.segments.size();
  if (request.head) out.scan_seconds += scan_head(*request.head, scanner, request.hidden_packs, out);

  // 4. The decision: the configured layers, then the service's own, then the requester's scopes.
  std::vector<const PolicyLayer*> all_layers(layers.begin(), layers.end());
  all_layers.push_back(&service.policy);
  all_layers.insert(all_layers.end(), request.scope_layers.begin(), request.scope_layers.end());
  std::vector<Finding> plain;
  plain.reserve(out.findings.size());
  for (const auto& lf : out.findings) plain.push_back(lf.finding);
  out.decision = Policy::decide(plain, all_layers);
  escalate_unrewritable_redactions(out);

  if (out.decision.mode == Mode::monitor || out.decision.verdict == Verdict::allow ||
      out.decision.verdict == Verdict::warn) {
    out.outcome = Inspection::Outcome::forward;
    return out;
  }
  if (out.decision.verdict == Verdict::block) {
    std::vector<std::string> categories;
    for (size_t i = 0; i < out.findings.size(); ++i) {
      if (out.decision.actions[i] != Action::block) continue;
      const std::string& c = out.findings[i].finding.category;
      if (std::find(categories.begin(), categories.end(), c) == categories.end()) categories.push_back(c);
    }
    Refusal blocked = Refusal::sensitive(out.rules_acting(Action::block), std::move(categories), std::string(request_id));
    blocked.service = service.name;
    out.outcome = Inspection::Outcome::refuse;
    out.refusal = std::move(blocked);
    return out;
  }

  // 5. Redact: each segment with findings to redact gets its new text; one Redactor for the whole
  // request keeps [LABEL-n] numbers consistent across segments.
  Redactor redactor(scanner.ruleset());
  std::vector<std::vector<Finding>> per_segment(out.segments.size());
  for (size_t i = 0; i < out.findings.size(); ++i)
    if (out.decision.actions[i] == Action::redact) per_segment[out.findings[i].segment].push_back(out.findings[i].finding);
  std::vector<SegmentReplacement> replacements;
  for (size_t s = 0; s < out.segments.size(); ++s) {
    if (per_segment[s].empty()) continue;
    replacements.push_back({&out.segments[s], redactor.redact(out.segments[s].text, per_segment[s])});
  }
  out.body = rewrite_body(body, std::move(replacements));
  out.outcome = Inspection::Outcome::forward_rewritten;
  return out;
}

}  // namespace promptwall::gateway
