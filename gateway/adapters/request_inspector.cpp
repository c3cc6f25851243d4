#include "gateway/adapters/request_inspector.h"

#include <algorithm>
#include <string>
#include <chrono>
#include <utility>

#include "classifiers/redactor.h"
#include "gateway/adapters/body_rewriter.h"
#include "gateway/adapters/document_places.h"
#include "gateway/adapters/content_decoder.h"
#include "gateway/uploads/file_references.h"
#include "gateway/uploads/file_registry.h"

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

RequestInspector::RequestInspector(InspectorLimits limits, uint32_t files_per_request)
    : limits_(limits), files_per_request_(files_per_request), extractor_(ExtractorLimits{limits.max_json_depth}) {}

Inspection RequestInspector::inspect(const InspectionRequest& request, Scanner& scanner,
                                     std::span<const PolicyLayer* const> layers, std::string_view request_id,
                                     const DocumentReader* reader) const {
  BodyReading reading = read_body(request, request_id);
  std::vector<extractors::ExtractedDocument> documents;
  if (!reading.refused) {
    const size_t n = std::min<size_t>(reading.files().size(), files_per_request_);
    for (size_t i = 0; i < n; ++i) {
      const CarriedFile& file = reading.files()[i];
      if (reader && file.decoded) {
        documents.push_back((*reader)(file.bytes, file.name));
      } else {
        extractors::ExtractedDocument unread;
        unread.name = file.name;
        unread.size = file.size;
        unread.unscannable = extractors::Unscannable::extractor_failed;
        unread.detail = "no document reader";
        documents.push_back(std::move(unread));
      }
    }
  }
  return decide(request, std::move(reading), std::move(documents), scanner, layers, request_id);
}

BodyReading RequestInspector::read_body(const InspectionRequest& request, std::string_view request_id) const {
  BodyReading reading;
  const Service& service = *request.service;

  // 1. The bytes as the client meant them.
  std::string_view body = request.body;
  reading.encoded = !is_identity(request.content_encoding);
  if (reading.encoded) {
    DecodedBody decoded = decode_content(request.content_encoding, request.body, limits_.max_decoded_body_bytes);
    switch (decoded.status) {
      case DecodedBody::Status::ok: break;
      case DecodedBody::Status::too_large:
        reading.refused = refuse(Inspection{}, Refusal::Reason::body_too_large, request_id, decoded.error);
        return reading;
      case DecodedBody::Status::unsupported:
      case DecodedBody::Status::corrupt:
        reading.refused = refuse(Inspection{}, Refusal::Reason::unreadable_body, request_id, decoded.error);
        return reading;
    }
    reading.decoded = std::move(decoded.body);
    body = reading.decoded;
  }

  // 2. The text that leaves, and the files. A body that is a piece of an upload is not read: the
  // whole file is, when the upload completes.
  if (request.pieces != UploadPieces::body)
    reading.extraction = extractor_.extract(service.schema, request.content_type, request.path, body);
  // Nothing is scanned as raw text in place of a parse any more (`unparseable` only reads as
  // block): raw JSON keeps its escapes, so an escaped stamp would pass.
  if (reading.extraction.status == Extraction::Status::unparseable)
    reading.refused = refuse(Inspection{}, Refusal::Reason::unreadable_body, request_id,
                             "body cannot be parsed: " + reading.extraction.error);
  if (request.pieces == UploadPieces::files) {
    reading.held = std::move(reading.extraction.files);
    reading.extraction.files.clear();
    if (reading.extraction.status == Extraction::Status::file) reading.extraction.status = Extraction::Status::ok;
  }
  if (!request.body_file_name.empty())
    for (CarriedFile& f : reading.extraction.files)
      if (f.location == "body" && f.name.empty()) f.name = std::string(request.body_file_name);
  if (request.completed_upload) {
    reading.extraction.files.push_back(*request.completed_upload);
    reading.extraction.files.back().location = "upload";
  }
  return reading;
}

namespace {

// "report.docx", or "file 2" when the client named none: how a file is called in locations.
std::string file_label(const CarriedFile& file, size_t index) {
  return file.name.empty() ? "file " + std::to_string(index + 1) : file.name;
}

// The record of one file, before its text is scanned.
InspectedFile record_file(const CarriedFile& file, size_t index, const extractors::ExtractedDocument* doc) {
  InspectedFile rec;
  rec.location = file.location;
  rec.name = file.name;
  rec.display_name = file_label(file, index);
  rec.media_type = file.media_type;
  rec.size = file.size;
  if (doc) {
    rec.type = std::string(extractors::to_string(doc->type));
    rec.file_type = doc->type;
    rec.sha256 = doc->sha256;
    rec.unscannable = doc->unscannable;
    rec.detail = doc->detail;
    rec.seconds = doc->seconds;
  }
  return rec;
}

}  // namespace

Inspection RequestInspector::decide(const InspectionRequest& request, BodyReading reading,
                                    std::vector<extractors::ExtractedDocument> documents, Scanner& scanner,
                                    std::span<const PolicyLayer* const> layers, std::string_view request_id) const {
  if (reading.refused) return std::move(*reading.refused);
  Inspection out;
  const Service& service = *request.service;
  Extraction& extraction = reading.extraction;
  const std::string_view body = reading.encoded ? std::string_view(reading.decoded) : request.body;
  if (!extraction.transcoded.empty()) out.note = "body decoded from " + extraction.charset + " to be scanned";
  out.segments = std::move(extraction.segments);
  out.held_files = std::move(reading.held);

  // 2b. Files: each part of each file's text is a segment of its own (kind document).
  struct DocumentSegment {
    size_t file, part;
  };
  std::vector<DocumentSegment> document_segments;  // for out.segments[first_document_segment + k]
  const size_t first_document_segment = out.segments.size();
  for (size_t i = 0; i < extraction.files.size(); ++i) {
    const CarriedFile& file = extraction.files[i];
    extractors::ExtractedDocument* doc = i < documents.size() ? &documents[i] : nullptr;
    InspectedFile rec = record_file(file, i, doc);
    if (i >= files_per_request_) {
      rec.unscannable = extractors::Unscannable::too_many_entries;
      rec.detail = "file " + std::to_string(i + 1) + " of the request, over files_per_request (" +
                   std::to_string(files_per_request_) + ")";
    } else if (!file.decoded) {
      rec.unscannable = extractors::Unscannable::truncated;
      rec.detail = "a data: URL whose base64 does not decode";
    } else if (!doc) {
      rec.unscannable = extractors::Unscannable::extractor_failed;
      rec.detail = "not read";
    }
    out.extract_seconds = std::max(out.extract_seconds, rec.seconds);
    if (doc && i < files_per_request_) {
      for (size_t k = 0; k < doc->parts.size(); ++k) {
        Segment segment;
        // Moved, not copied (a sheet's text can be tens of MB): only the part's places are read later.
        segment.text = std::move(doc->parts[k].text);
        segment.location = "file " + rec.display_name + ": " + extractors::describe_en(doc->parts[k].place);
        segment.kind = Segment::Kind::document;
        segment.rewritable = false;  // nothing is rewritten inside a document: a redact blocks
        segment.raw_begin = segment.raw_end = 0;
        out.segments.push_back(std::move(segment));
        document_segments.push_back({i, k});
      }
    }
    out.files.push_back(std::move(rec));
  }

  // 2c. Files the body cites by id: judged by what the gateway learned when they were uploaded.
  // One never scanned here is unscannable (unscanned_reference: block by default); one that was
  // not read completely keeps its cause; one whose upload had findings (it passed then only under
  // a monitor or warn policy) counts as sensitive here, under this request's policy. Only a file
  // scanned clean passes by its id.
  std::optional<size_t> cited_sensitive;  // index into out.files of the first such citation
  if (request.registry) {
    for (const FileReference& ref : find_file_references(service.schema, out.segments)) {
      const std::optional<FileRecord> known = request.registry->find(service.schema, ref.id);
      if (known && known->verdict == FileRecord::Verdict::clean) continue;
      if (known && known->verdict == FileRecord::Verdict::findings) {
        InspectedFile rec;
        rec.location = ref.location;
        rec.name = known->name;
        rec.display_name = known->name.empty() ? "file id " + std::to_string(out.files.size() + 1) : known->name;
        rec.type = std::string(extractors::to_string(known->type));
        rec.file_type = known->type;
        rec.size = known->size;
        rec.sha256 = known->sha256;
        rec.findings = 1;
        rec.cited_with_findings = true;
        rec.detail = "cited by id; at upload: " + known->note;
        out.files.push_back(std::move(rec));
        if (!cited_sensitive) cited_sensitive = out.files.size() - 1;
        continue;
      }
      InspectedFile rec;
      rec.location = ref.location;
      rec.name = known ? known->name : "";
      rec.display_name = known && !known->name.empty() ? known->name : "file id " + std::to_string(out.files.size() + 1);
      rec.type = known ? std::string(extractors::to_string(known->type)) : "";
      rec.file_type = known ? known->type : extractors::FileType::unknown;
      rec.size = known ? known->size : 0;
      rec.sha256 = known ? known->sha256 : "";
      rec.unscannable = known ? known->cause : extractors::Unscannable::unscanned_reference;
      rec.detail = known ? "cited by id; at upload: " + known->note : "a file id this gateway never saw uploaded";
      out.files.push_back(std::move(rec));
    }
  }

  // 3. Findings, segment by segment (each scanned whole: no matches lost at chunk edges).
  const auto scan_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < out.segments.size(); ++i) {
    // A document's part is scanned knowing where its runs sit (a stamp rule weighs the header).
    std::optional<PlaceMap> places;
    if (i >= first_document_segment) {
      const DocumentSegment& ds = document_segments[i - first_document_segment];
      places = place_map(documents[ds.file].parts[ds.part]);
    }
    ScanResult result = scanner.scan(out.segments[i].text, places ? &*places : nullptr);
    for (auto& f : result.findings) {
      if (is_hidden(scanner.ruleset(), f, request.hidden_packs)) continue;
      LocatedFinding located{std::move(f), i};
      if (i >= first_document_segment) {
        // Where in the document: the part's place refined by its anchors (a page, a cell).
        const DocumentSegment& ds = document_segments[i - first_document_segment];
        const extractors::TextPart& part = documents[ds.file].parts[ds.part];
        located.location = "file " + out.files[ds.file].display_name + ": " +
                           extractors::describe_en(part.place_at(located.finding.span.begin));
        ++out.files[ds.file].findings;
      }
      out.findings.push_back(std::move(located));
    }
  }
  out.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - scan_start).count();
  // A file's name that holds a finding is withheld wherever the file is named (refusal, audit, log).
  for (auto& rec : out.files) {
    if (rec.name.empty()) continue;
    const bool named_in_finding = std::any_of(out.findings.begin(), out.findings.end(), [&](const LocatedFinding& f) {
      return out.segments[f.segment].text == rec.name;
    });
    if (named_in_finding) rec.display_name = "[*]";
  }

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

  // 4a. A cited file whose upload had findings: a block, naming the file (its findings are not
  // known here, only that there were some).
  const InspectedFile* sensitive_citation = cited_sensitive ? &out.files[*cited_sensitive] : nullptr;
  if (sensitive_citation && out.decision.verdict != Verdict::block) out.decision.verdict = Verdict::block;

  // 4b. Files not read completely: their cause's policy (block by default). A finding in what was
  // read has counted above whatever this says.
  const InspectedFile* blocked_file = nullptr;
  for (auto& rec : out.files) {
    if (rec.unscannable == extractors::Unscannable::none) continue;
    rec.policy = service.file_policy(extractors::to_string(rec.unscannable));
    if (!out.note.empty()) out.note += "; ";
    out.note += "file " + rec.location + " (" + (rec.type.empty() ? "unknown" : rec.type) + ", " +
                std::to_string(rec.size) + " bytes) not read completely: " +
                std::string(extractors::to_string(rec.unscannable)) + (rec.detail.empty() ? "" : " (" + rec.detail + ")") +
                ", policy " + std::string(to_string(*rec.policy));
    if (*rec.policy == FilePolicy::block && !blocked_file) blocked_file = &rec;
    if (*rec.policy == FilePolicy::warn && out.decision.verdict == Verdict::allow) out.decision.verdict = Verdict::warn;
  }

  // justify is decided here like warn (forwarded, with its redactions): whether it may leave yet
  // is the gateway's coaching step (gateway/coaching/), which knows the requester.
  const bool any_redaction =
      std::find(out.decision.actions.begin(), out.decision.actions.end(), Action::redact) != out.decision.actions.end();
  if (out.decision.mode == Mode::monitor ||
      ((out.decision.verdict == Verdict::allow || out.decision.verdict == Verdict::warn ||
        (out.decision.verdict == Verdict::justify && !any_redaction)) &&
       !blocked_file)) {
    out.outcome = Inspection::Outcome::forward;
    return out;
  }
  if (out.decision.verdict == Verdict::block) {
    std::vector<std::string> categories;
    const LocatedFinding* first_in_file = nullptr;
    for (size_t i = 0; i < out.findings.size(); ++i) {
      if (out.decision.actions[i] != Action::block) continue;
      const std::string& c = out.findings[i].finding.category;
      if (std::find(categories.begin(), categories.end(), c) == categories.end()) categories.push_back(c);
      // The file's place to name: its most severe blocking finding (a stamp in the header before a
      // CCCD in a table whose redaction a file turned into a block), the first of equals.
      if (out.findings[i].segment >= first_document_segment && out.findings[i].segment < out.first_head_segment &&
          (!first_in_file || out.findings[i].finding.severity > first_in_file->finding.severity))
        first_in_file = &out.findings[i];
    }
    Refusal blocked = Refusal::sensitive(out.rules_acting(Action::block), std::move(categories), std::string(request_id));
    blocked.service = service.name;
    if (!first_in_file && sensitive_citation) blocked.file_name = sensitive_citation->display_name;
    if (first_in_file) {
      // Name the file and the place of the first blocking finding in one ("report.docx, page header").
      const DocumentSegment& ds = document_segments[first_in_file->segment - first_document_segment];
      const extractors::SpanPlace& place = documents[ds.file].parts[ds.part].place_at(first_in_file->finding.span.begin);
      blocked.file_name = out.files[ds.file].display_name;
      blocked.file_place_vi = extractors::describe_vi(place);
      blocked.file_place_en = extractors::describe_en(place);
    }
    out.outcome = Inspection::Outcome::refuse;
    out.refusal = std::move(blocked);
    return out;
  }
  if (blocked_file) {
    out.decision.verdict = Verdict::block;
    Refusal refused = Refusal::unreadable_file(blocked_file->display_name,
                                               std::string(extractors::describe_vi(blocked_file->unscannable)),
                                               std::string(extractors::describe_en(blocked_file->unscannable)),
                                               std::string(request_id));
    refused.service = service.name;
    out.outcome = Inspection::Outcome::refuse;
    out.refusal = std::move(refused);
    return out;
  }

  // 5. Redact: each segment with findings to redact gets its new text; one Redactor for the whole
  // request keeps [LABEL-n] numbers consistent across segments.
  Redactor redactor(scanner.ruleset(), request.pseudonyms);
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
