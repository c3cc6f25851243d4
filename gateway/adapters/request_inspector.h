// RequestInspector: the decision for one request body, with no network code.
//
//   body ─► decode Content-Encoding ─► SegmentExtractor (the service's schema) ─► Scanner per
//   segment ─► drop findings of hidden scoped packs ─► Policy (global, service, unit, group layers;
//   mode) ─► forward as is | forward redacted | refuse
//
// Fail closed: a body that cannot be decoded or parsed (not strict JSON, bytes invalid in its
// charset, an unknown charset) is refused as unreadable_body, whatever the service's `unparseable`
// says: nothing is scanned as raw text in place of a parse. A redact on a segment that is not
// rewritable (an object key, decoded base64, a body decoded from another charset) acts as a block.
//
// Files (issue 13, docs/architecture.md "Documents"): every file the request carries (the body
// itself, a multipart file part, a base64 file in JSON: Extraction::files) is read by a
// DocumentReader (extractors/; in the gateway a sandboxed worker process) and each part of its text
// (body, header, sheet, page, ...) is scanned as its own segment (kind document, never rewritable:
// a redact in a file acts as a block, nothing is rewritten inside a docx or pdf). A file that could
// not be read completely gets the service's policy for its cause (`policy.unscannable`, else
// `policy.files`, block by default): block refuses as file_not_inspected naming the file and the
// cause; warn forwards with the decision at least warn; allow forwards; all are recorded
// (Inspection::files). More files than `files_per_request` are refused the same way (cause
// too_many_entries).
//
// Two steps, so the gateway can read files off its worker thread between them:
//   read_body()  decode + extract: the segments and the files (pure, cheap)
//   decide()     the documents' text as segments, scan, policy, rewrite (pure)
// inspect() does both, reading files with the given reader on the calling thread.
// Invariants: a redacted body differs from the original only inside the replaced segments' tokens
// (and is sent decoded, without Content-Encoding); in monitor mode the body is never changed.
//
// The request head (InspectionRequest::head, adapters/head_segments.h: query, path segments,
// headers and trailers) is scanned in one pass as its own step, whatever the body. Its findings
// get Segments after the body's (from Inspection::first_head_segment on, with an empty byte range:
// they are never rewritten), located "query:q", "path[2]", "header:x-title". The head cannot be
// rewritten safely, so a redact there acts as a block; warn and log forward.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/finding.h"
#include "classifiers/label_numbering.h"
#include "extractors/extracted_document.h"
#include "classifiers/scanner.h"
#include "gateway/adapters/block_response.h"
#include "gateway/adapters/head_segments.h"
#include "gateway/adapters/segment_extractor.h"
#include "gateway/catalog/service.h"
#include "gateway/config/default_limits.h"
#include "rules/policy.h"

namespace promptwall::gateway {

class FileRegistry;  // gateway/uploads/file_registry.h

// What an upload request's bytes are (gateway/uploads/upload_step.h): pieces of a file held until
// the upload completes are not read now (a piece of a .docx is no document); the whole file is
// read by the request that completes it.
enum class UploadPieces : uint8_t {
  none,   // the body and its files are what they are
  body,   // the whole body is a piece (a Google resumable chunk, sent labelled application/json)
  files,  // the body's files are pieces (an OpenAI upload part's `data`); its fields are read
};

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
  // Upload flows: pieces not read now, and the assembled file this request completes (read as one
  // more file of the request, located "upload").
  UploadPieces pieces = UploadPieces::none;
  const CarriedFile* completed_upload = nullptr;
  // The name a client gave the file this body is, in an earlier step (ChatGPT's announce before
  // its blob PUT): names the body's file when the body itself names none.
  std::string_view body_file_name = {};
  // File ids the body cites (uploads/file_references.h) are judged by what the registry knows: a
  // file never scanned is unscannable as unscanned_reference. Null: citations are not checked.
  const FileRegistry* registry = nullptr;
  // Numbers `pseudonym` redactions for this requester (gateway/pseudonyms/pseudonym_vault.h) and
  // records the labels issued; null: they act as `label`.
  LabelNumbering* pseudonyms = nullptr;
};

// A finding and the segment it was found in.
struct LocatedFinding {
  Finding finding;
  size_t segment = 0;  // index into Inspection::segments
  // Where exactly, when finer than the segment's location: in a document, the part's place at the
  // finding ("file report.docx: sheet 2, cell B3"); empty otherwise.
  std::string location = {};
};

// Reads one file's text: extractors::DocumentExtractor in process (tests, `scan`), or the
// gateway's sandboxed pool. Must not throw for a bad file (an unscannable document instead).
using DocumentReader =
    std::function<extractors::ExtractedDocument(std::string_view bytes, std::string_view name)>;

// One file a request carried, as the decision and the audit trail see it (never its text).
struct InspectedFile {
  std::string location;     // in the request: "body", "file (part)", "messages[0].content[1].file.file_data"
  std::string name;         // the client's file name ("" none); `display_name` is what people see
  std::string display_name; // name, or "[*]" when the name itself holds a finding, or "tệp 1 / file 1"-style index
  std::string type;         // extractors' FileType spelling ("docx"); "" when never read
  extractors::FileType file_type = extractors::FileType::unknown;
  std::string media_type;   // as declared or sniffed by the body reader
  uint64_t size = 0;
  std::string sha256;       // hex
  extractors::Unscannable unscannable = extractors::Unscannable::none;
  std::string detail;       // English, no text: why it was not read completely
  std::optional<FilePolicy> policy;  // when unscannable: what the service's policy said
  size_t findings = 0;      // findings in its text
  bool cited_with_findings = false;  // a file id cited whose upload had findings (judged then)
  double seconds = 0;       // time spent reading it
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
  std::vector<InspectedFile> files;      // every file the request carried, in body order, then the
                                         // completed upload, then cited file ids not known clean
  std::vector<CarriedFile> held_files;   // UploadPieces::files: the pieces, kept for the upload store
  double extract_seconds = 0;            // reading them (the slowest, as they are read in parallel)

  // Rule ids whose effective action equals `action`, de-duplicated, in first-seen order.
  std::vector<std::string> rules_acting(Action action) const;
};

struct InspectorLimits {
  size_t max_decoded_body_bytes = default_limits::max_decoded_body_bytes;
  size_t max_json_depth = default_limits::max_json_depth;
};

// Step one's result: the body decoded and read, with the files it carries (their bytes).
struct BodyReading {
  std::optional<Inspection> refused;  // set: the request is refused already (unreadable, too large)
  Extraction extraction;              // segments and files (the completed upload last)
  std::vector<CarriedFile> held;      // UploadPieces::files: the pieces, not read
  std::string decoded;                // the body without Content-Encoding, when it had one
  bool encoded = false;

  // The files to read, in order (Extraction::files).
  const std::vector<CarriedFile>& files() const { return extraction.files; }
};

class RequestInspector {
 public:
  explicit RequestInspector(InspectorLimits limits, uint32_t files_per_request = 16);

  // Both steps; files are read with `reader` on this thread (none: every file is unscannable as
  // extractor_failed, so the policy decides). `scanner` must belong to the calling thread;
  // `layers` are the policy layers most general first (the service's own layer is appended
  // here). `request_id` goes into a refusal.
  Inspection inspect(const InspectionRequest& request, Scanner& scanner, std::span<const PolicyLayer* const> layers,
                     std::string_view request_id, const DocumentReader* reader = nullptr) const;

  // Step one: decode and read the body. request.body must outlive step two.
  BodyReading read_body(const InspectionRequest& request, std::string_view request_id) const;
  // Step two: `documents[i]` is the text of reading.files()[i] (the same count, or fewer when
  // files past files_per_request were not read).
  Inspection decide(const InspectionRequest& request, BodyReading reading,
                    std::vector<extractors::ExtractedDocument> documents, Scanner& scanner,
                    std::span<const PolicyLayer* const> layers, std::string_view request_id) const;

  uint32_t files_per_request() const { return files_per_request_; }

 private:
  InspectorLimits limits_;
  uint32_t files_per_request_;
  SegmentExtractor extractor_;
};

}  // namespace promptwall::gateway
