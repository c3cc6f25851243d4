// StreamScanner: a stream scanned in small chunks gives exactly the findings of one whole-text
// scan: items planted across every chunk edge are neither lost, cut nor duplicated, and a context
// word on the other side of an edge still counts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <tuple>

#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "classifiers/stream_scanner.h"
#include "test_support.h"

using namespace promptwall;
using namespace promptwall::test;

namespace {

struct Streamed {
  std::vector<Finding> findings;  // spans absolute
  std::vector<StreamPiece> pieces;  // findings and text dropped: offsets and edges only
  std::string redacted;
  std::optional<uint64_t> invalid_utf8_at;
  std::string rejoined;  // the pieces' texts in order
};

// Pushes `text` in slices of an awkward size, as a reader would.
Streamed stream(Scanner& scanner, const std::string& text, size_t chunk_bytes, size_t slice = 1237) {
  StreamScanner streamer(scanner, chunk_bytes);
  Redactor redactor(scanner.ruleset());
  Streamed out;
  auto sink = [&](const StreamPiece& piece) {
    for (Finding f : piece.findings) {
      CHECK(f.span.end <= piece.text.size());  // a piece never cuts a finding
      f.span.begin += static_cast<uint32_t>(piece.offset);
      f.span.end += static_cast<uint32_t>(piece.offset);
      out.findings.push_back(std::move(f));
    }
    out.redacted += redactor.redact(piece.text, piece.findings);
    if (piece.invalid_utf8_at) {
      CHECK_FALSE(out.invalid_utf8_at);
      out.invalid_utf8_at = piece.offset + *piece.invalid_utf8_at;
    }
    CHECK(piece.offset == out.rejoined.size());  // pieces tile the stream in order
    out.rejoined += piece.text;
    StreamPiece edges;
    edges.offset = piece.offset;
    edges.scanned_begin = piece.scanned_begin;
    edges.scanned_end = piece.scanned_end;
    edges.text = std::string_view(text).substr(piece.offset, piece.text.size());
    out.pieces.push_back(edges);
  };
  for (size_t at = 0; at < text.size(); at += slice)
    streamer.push(std::string_view(text).substr(at, slice), sink);
  streamer.finish(sink);
  return out;
}

using Key = std::tuple<std::string, uint32_t, uint32_t, double, ViewKind>;
std::vector<Key> keys(const std::vector<Finding>& findings) {
  std::vector<Key> out;
  for (const auto& f : findings) out.emplace_back(f.rule_id, f.span.begin, f.span.end, f.confidence, f.view);
  return out;
}

// The stream's findings, redaction and first bad byte are the whole text's.
void check_same_as_whole(Scanner& scanner, const std::string& text, const Streamed& s) {
  const ScanResult whole = scanner.scan(text);
  CHECK(s.rejoined == text);
  CHECK(keys(s.findings) == keys(whole.findings));
  std::set<std::tuple<std::string, uint32_t, uint32_t>> seen;
  for (const auto& f : s.findings) CHECK(seen.emplace(f.rule_id, f.span.begin, f.span.end).second);
  CHECK(s.redacted == Redactor(scanner.ruleset()).redact(text, whole.findings));
  CHECK(s.invalid_utf8_at == (whole.invalid_utf8_at ? std::optional<uint64_t>(*whole.invalid_utf8_at) : std::nullopt));
}

enum class Edge { scanned_end, scanned_begin, piece_end };

// Where chunks were cut: every chunk's end (but the last), every chunk's start (but the first) and
// every piece's end (but the last).
std::vector<uint64_t> edges(const Streamed& s, Edge kind) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i + 1 < s.pieces.size(); ++i) {
    if (kind == Edge::scanned_end) out.push_back(s.pieces[i].scanned_end);
    if (kind == Edge::scanned_begin) out.push_back(s.pieces[i + 1].scanned_begin);
    if (kind == Edge::piece_end) out.push_back(s.pieces[i].offset + s.pieces[i].text.size());
  }
  return out;
}

// Filler that holds nothing any rule finds: Vietnamese words (multi-byte characters, so cuts meet
// UTF-8 sequences), in lines or as one endless line without sentence ends.
std::string filler(size_t bytes, bool lines) {
  static const std::vector<std::string> words = {"báo", "cáo", "tổng", "hợp", "kết", "quả", "công", "tác",
                                                 "quý", "một", "năm", "nay", "đơn", "vị", "phòng", "ban",
                                                 "triển", "khai", "nhiệm", "vụ", "trọng", "tâm", "tuần", "tới"};
  std::string text;
  uint32_t state = 12345;
  size_t line = 0;
  while (text.size() < bytes) {
    state = state * 1103515245u + 12345u;
    text += words[(state >> 16) % words.size()];
    line += 1;
    if (lines && line % (9 + (state >> 8) % 9) == 0) {
      text += "\n";
      line = 0;
    } else {
      text += " ";
    }
  }
  return text;
}

struct Item {
  std::string text;  // planted between spaces
  bool own_line;     // a stamp: only as a line alone
};

const std::vector<Item>& items() {
  static const std::vector<Item> list = {
      {"038090001234", false},            // CCCD
      {"0327 669 018", false},            // phone
      {"hanh.nt@hanoi.gov.vn", false},    // e-mail
      {"AKIA4IABULQHGGHB2VBN", false},    // AWS access key id
      {"Quyết định số 211-QĐ/TU", false}, // party document number
      {"TỐI MẬT", true},                  // stamp
  };
  return list;
}

// Overwrites bytes of `text` so that `item` straddles `edge` (split as `n` says), keeping the
// length: the chunking before the edge does not move. Returns whether it found room.
bool plant(std::string& text, const Item& item, uint64_t edge, size_t n) {
  {
    const std::string planted = item.own_line ? "\n" + item.text + "\n" : " " + item.text + " ";
    const size_t inner = item.text.size();
    const size_t split = 1 + (n * 7) % (inner - 1);  // 1 .. inner-1 bytes before the edge
    if (edge < split + 2) return false;
    const size_t at = edge - split - 1;              // where `planted` starts
    if (at + planted.size() + 1 >= text.size() || at == 0) return false;
    // No blank line appears (a cut would prefer it). A line break overwritten near a chunk end
    // moves no cut: cuts are searched for a right margin before it, chunk starts a left margin
    // before the piece end.
    if (item.own_line && (text[at - 1] == '\n' || text[at + planted.size()] == '\n')) return false;
    // Whole characters only at both ends.
    auto boundary = [&](size_t i) { return (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80; };
    if (!boundary(at) || !boundary(at + planted.size())) return false;
    text.replace(at, planted.size(), planted);
    return true;
  }
  return false;
}

bool straddled(const std::vector<Finding>& findings, uint64_t edge) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.span.begin < edge && edge < f.span.end; });
}

// A chunk end or start is covered when a finding straddles it. A piece never cuts a finding: a cut
// that fell inside one moved to its end, so a piece end is covered when a finding ends there.
bool covered(const std::vector<Finding>& findings, uint64_t edge, Edge kind) {
  if (kind != Edge::piece_end) return straddled(findings, edge);
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.span.begin < edge && edge == f.span.end; });
}

// Plants items across every edge of `kinds`, one edge at a time in stream order (planting never
// moves an earlier edge), until every edge is covered by a finding; then compares with the whole.
void plant_across_every_edge(bool lines, std::vector<Edge> kinds, const Item& item) {
  Scanner scanner(builtin_ruleset());
  const size_t chunk = StreamScanner::minimum_chunk_bytes(scanner.ruleset());
  std::string text = filler(chunk * 6 + chunk / 3, lines);
  size_t planted = 0;
  for (int round = 0; round < 200; ++round) {
    const Streamed s = stream(scanner, text, chunk);
    std::optional<uint64_t> next;
    for (Edge kind : kinds)
      for (uint64_t e : edges(s, kind))
        if (!covered(s.findings, e, kind) && (!next || e < *next)) next = e;
    if (!next) break;
    // A planted item that is not found across its edge would repeat forever: give it a few tries.
    bool ok = false;
    for (size_t n = planted; !ok && n < planted + 24; ++n) {
      std::string attempt = text;
      if (!plant(attempt, item, *next, n)) continue;
      if (straddled(scanner.scan(attempt).findings, *next)) {
        text = std::move(attempt);
        ok = true;
      }
    }
    INFO("no item found across the edge at " << *next << ": ..." << text.substr(*next - 40, 80) << "...");
    REQUIRE(ok);
    ++planted;
  }
  const Streamed s = stream(scanner, text, chunk);
  INFO("chunk " << chunk << " bytes, " << s.pieces.size() << " pieces, " << planted << " items planted");
  CHECK(planted >= s.pieces.size() - 1);
  REQUIRE(s.pieces.size() >= 6);
  for (Edge kind : kinds)
    for (uint64_t e : edges(s, kind)) CHECK(covered(s.findings, e, kind));
  check_same_as_whole(scanner, text, s);
}

}  // namespace

TEST_CASE("stream: items across every chunk end, in lines, are found once and whole", "[stream]") {
  // Cuts fall at line breaks, so chunk starts and piece ends are line starts; chunk ends fall
  // anywhere, inside items.
  for (const Item& item : items()) {
    INFO(item.text);
    plant_across_every_edge(true, {Edge::scanned_end}, item);
  }
}

TEST_CASE("stream: items across every edge of one endless line are found once and whole", "[stream]") {
  // No line break and no sentence end: every cut falls at a character boundary, inside items.
  for (const Item& item : items()) {
    if (item.own_line) continue;  // a stamp is a line alone
    INFO(item.text);
    plant_across_every_edge(false, {Edge::scanned_end, Edge::scanned_begin, Edge::piece_end}, item);
  }
}

TEST_CASE("stream: a context word before an edge still lends its requirement and boost", "[stream]") {
  auto r = compile_yaml(one_rule_pack(
      "    confidence: 0.6\n    patterns: ['{b}(\\d{9}){b}']\n    validate: cmnd\n"
      "    context: {window: 30, require: [cmnd], boost: [số]}\n"));
  REQUIRE(r.ruleset);
  Scanner scanner(r.ruleset);
  const size_t chunk = StreamScanner::minimum_chunk_bytes(scanner.ruleset());
  std::string text = filler(chunk * 3, true);
  // The first piece ends at a line start: its line ends with the words, the next begins with the
  // number, which the next chunk owns.
  const uint64_t edge = stream(scanner, text, chunk).pieces.at(0).text.size();
  const std::string words = "Số CMND:";
  const std::string number = "123456789 ";
  REQUIRE(text[edge - 1] == '\n');
  text.replace(edge - 1 - words.size(), words.size(), words);
  text.replace(edge, number.size(), number);
  const Streamed s = stream(scanner, text, chunk);
  REQUIRE(s.pieces.at(0).text.size() == edge);  // the edge did not move
  REQUIRE(s.findings.size() == 1);
  CHECK(s.findings[0].span.begin == edge);
  CHECK(s.findings[0].confidence == Approx(0.75));  // 0.6 + the boost of "số"
  check_same_as_whole(scanner, text, s);
  // Without the required word there is nothing: the word across the edge is what counted.
  std::string bare = text;
  bare.replace(edge - 1 - words.size(), words.size(), std::string(words.size(), 'x'));
  CHECK(stream(scanner, bare, chunk).findings.empty());
}

TEST_CASE("stream: the first byte that is not UTF-8 is reported once, where a whole scan puts it", "[stream]") {
  Scanner scanner(builtin_ruleset());
  const size_t chunk = StreamScanner::minimum_chunk_bytes(scanner.ruleset());
  std::string text = filler(chunk * 3, true);
  const Streamed clean = stream(scanner, text, chunk);
  CHECK_FALSE(clean.invalid_utf8_at);
  // Right after the first chunk's end, then again in the second chunk's margin.
  const uint64_t edge = clean.pieces.at(0).scanned_end;
  text[edge + 1] = '\xFF';
  text[clean.pieces.at(1).scanned_begin + 3] = '\xC3';
  check_same_as_whole(scanner, text, stream(scanner, text, chunk));
}

TEST_CASE("stream: short and empty streams are one piece, a chunk below the margins is refused", "[stream]") {
  Scanner scanner(builtin_ruleset());
  const Streamed empty = stream(scanner, "", StreamScanner::kDefaultChunkBytes);
  REQUIRE(empty.pieces.size() == 1);
  CHECK(empty.findings.empty());
  const std::string text = "Tóm tắt:\nTỐI MẬT\nSố CCCD: 066087004913, gọi 0912.345.678\n";
  const Streamed s = stream(scanner, text, StreamScanner::kDefaultChunkBytes);
  CHECK(s.pieces.size() == 1);
  check_same_as_whole(scanner, text, s);
  CHECK_THROWS_AS(StreamScanner(scanner, StreamScanner::minimum_chunk_bytes(scanner.ruleset()) - 1),
                  std::invalid_argument);
}
