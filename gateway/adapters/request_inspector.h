// RequestInspector: the decision for one request body, with no network code.
//
//   body ─► decode Content-Encoding ─► SegmentExtractor (the service's schema) ─► Scanner per
//   segment ─► drop findings of hidden scoped packs ─► Policy (global, service, unit, group layers;
//   mode) ─► forward as is | forward redacted | refuse
//
// Fail closed: a body that cannot be decoded or parsed (not strict JSON, bytes invalid in its
// charset, an unknown charset) is refused as unreadable_body, whatever the service's `unparseable`
// says: nothing is scanned as raw text in place of a parse. A body that is a file, or a JSON body
// carrying a file the extractor could not read as text (Extraction::files), is refused as
// file_not_inspected unless the service's `policy.files` (or the global one) is allow, in which
// case it is forwarded unread and `note` says so. A redact on a segment that is not rewritable (an
// object key, decoded base64, a body decoded from another charset) acts as a block.
// Invariants: a redacted body differs from the original only inside the replaced segments' tokens
// (and is sent decoded, without Content-Encoding); in monitor mode the body is never changed.
//
// The request head (InspectionRequest::head, adapters/head_segments.h: query, path segments,
// headers and trailers) is scanned in one pass as its own step, whatever the body. Its findings
// get Segments after the body's (from Inspection::first_head_segment on, with an empty byte range:
// they are never rewritten), located "query:q", "path[2]", "header:x-title". The head cannot be
// rewritten safely, so a redact there acts as a block; warn and log forward.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "classifiers/scanner.h"
#include "gateway/adapters/block_response.h"
#include "gateway/adapters/head_segments.h"
#include "gateway/adapters/segment_extractor.h"
#include "gateway/catalog/service.h"
#include "gateway/config/default_limits.h"
#include "rules/policy.h"

namespace promptwall::gateway {

struct InspectionRequest {
  const Service* service = nullptr;
  std::string_view path;              // after the service prefix, with the query
  std::string_view content_type;
  std::string_view content_encoding;
  std::string_view body;              // as received (possibly compressed)
  // The requester's scopes (gateway/identity/policy_scopes.h): layers applied after the service's own
  // (unit, then groups), and scoped packs whose findings do not count for this requester.
  std::span<const PolicyLayer* const> scope_layers{};
  std::span<const std::string> hidden_packs{};
  // The request head's text (query, path segments, headers, trailers); null: nothing to scan there
  // (a WebSocket message).
  const HeadText* head = nullptr;
};

// A finding and the segment it was found in.
struct LocatedFinding {
  Finding finding;
  size_t segment = 0;  // index into Inspection::segments
};

struct Inspection {
  enum class Outcome : uint8_t { forward, forward_rewritten, refuse };
  Outcome outcome = Outcome::forward;
  Decision decision;                     // over `findings`, in that order
  std::vector<Segment> segments;
  // segments[first_head_segment...] are head pieces with findings (see the head step above).
  size_t first_head_segment = 0;
  std::vector<LocatedFinding> findings;
  std::optional<Refusal> refusal;        // when outcome == refuse
  std::string body;                      // when forward_rewritten: the decoded, redacted body
  std::string note;                      // English, for the operational log (never request text)
  double scan_seconds = 0;

  // Rule ids whose effective action equals `action`, de-duplicated, in first-seen order.
  std::vector<std::string> rules_acting(Action action) const;
};

struct InspectorLimits {
  size_t max_decoded_body_bytes = default_limits::max_decoded_body_bytes;
  size_t max_json_depth = default_limits::max_json_depth;
};

class RequestInspector {
 public:
  explicit RequestInspector(InspectorLimits limits);

  // `scanner` must belong to the calling thread; `layers` are the policy layers most general first
  // (the service's own layer is appended here). `request_id` goes into a refusal.
  Inspection inspect(const InspectionRequest& request, Scanner& scanner,
                     std::span<const PolicyLayer* const> layers, std::string_view request_id) const;

 private:
  InspectorLimits limits_;
  SegmentExtractor extractor_;
};

}  // namespace promptwall::gateway
