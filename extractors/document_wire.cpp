#include "extractors/document_wire.h"

#include <unicode/utf8.h>

#include <bit>
#include <cmath>
#include <cstring>

namespace promptwall::extractors::wire {
namespace {

constexpr char kRequestMagic[4] = {'P', 'W', 'X', 'Q'};
constexpr char kAnswerMagic[4] = {'P', 'W', 'X', 'A'};

// The smallest encoded sizes, so a count is checked against the bytes that remain before any
// vector is sized by it.
constexpr size_t kMinPlaceBytes = 1 + 4 + 4 + 4 + 1;
constexpr size_t kMinAnchorBytes = 4 + kMinPlaceBytes;
constexpr size_t kMinPartBytes = kMinPlaceBytes + 4 + 4 + 4;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void f64(double v) { u64(std::bit_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void bytes64(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void place(const SpanPlace& p) {
    u8(static_cast<uint8_t>(p.place));
    u32(p.page);
    str(p.cell);
    str(p.inner);
    u8(p.prominent ? 1 : 0);
  }
  std::string frame(const char (&magic)[4]) && {
    Writer header;
    header.out_.append(magic, 4);
    header.u16(kWireVersion);
    header.u16(0);
    header.u64(out_.size());
    header.out_.append(out_);
    return std::move(header.out_);
  }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) return false;
  }
  return true;
}

// Reads the payload; the first failure sticks and names itself, later reads return zeros.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return in_.size() - pos_; }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  uint64_t le(int n, const char* what) {
    if (!ok()) return 0;
    if (remaining() < static_cast<size_t>(n)) {
      fail(std::string("truncated at ") + what);
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += n;
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(le(4, what)); }
  uint64_t u64(const char* what) { return le(8, what); }
  bool boolean(const char* what) {
    const uint8_t v = u8(what);
    if (v > 1) fail(std::string(what) + " is not 0 or 1");
    return v == 1;
  }
  template <typename E>
  E enumeration(E last, const char* what) {
    const uint8_t v = u8(what);
    if (v > static_cast<uint8_t>(last)) fail(std::string(what) + " out of range");
    return ok() ? static_cast<E>(v) : E{};
  }
  // A u32-length string of at most `max` bytes, valid UTF-8.
  std::string text(uint64_t max, const char* what) {
    const uint64_t n = u32(what);
    return take(n, max, what, true);
  }
  // A u64-length byte string (a file), not checked for UTF-8.
  std::string bytes64(uint64_t max, const char* what) {
    const uint64_t n = u64(what);
    return take(n, max, what, false);
  }
  // A list count, refused when the remaining bytes could not hold that many items.
  uint32_t count(size_t min_item_bytes, const char* what) {
    const uint32_t n = u32(what);
    if (ok() && n > remaining() / min_item_bytes) fail(std::string(what) + " count exceeds the payload");
    return ok() ? n : 0;
  }
  void finish() {
    if (ok() && remaining() != 0) fail("trailing bytes after the payload");
  }

 private:
  std::string take(uint64_t n, uint64_t max, const char* what, bool utf8) {
    if (!ok()) return {};
    if (n > max) {
      fail(std::string(what) + " longer than its bound");
      return {};
    }
    if (n > remaining()) {
      fail(std::string("truncated in ") + what);
      return {};
    }
    std::string out(in_.substr(pos_, n));
    pos_ += n;
    if (utf8 && !valid_utf8(out)) {
      fail(std::string(what) + " is not valid UTF-8");
      return {};
    }
    return out;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

SpanPlace read_place(Reader& r, const AnswerBounds& b) {
  SpanPlace p;
  p.place = r.enumeration(Place::attachment, "place");
  p.page = r.u32("page");
  p.cell = r.text(b.max_string_bytes, "cell");
  p.inner = r.text(b.max_string_bytes, "inner path");
  p.prominent = r.boolean("prominent");
  return p;
}

bool is_lower_hex_sha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The payload of a frame of `kind`, or nullopt with `error`.
std::optional<std::string_view> payload_of(std::string_view frame, FrameKind kind, uint64_t max_payload,
                                           std::string* error) {
  if (frame.size() < kFrameHeaderBytes) {
    if (error) *error = "truncated frame header";
    return std::nullopt;
  }
  const auto length = decode_frame_header(frame.substr(0, kFrameHeaderBytes), kind, max_payload, error);
  if (!length) return std::nullopt;
  if (frame.size() - kFrameHeaderBytes != *length) {
    if (error)
      *error = frame.size() - kFrameHeaderBytes < *length ? "truncated payload" : "trailing bytes after the frame";
    return std::nullopt;
  }
  return frame.substr(kFrameHeaderBytes);
}

}  // namespace

std::optional<uint64_t> decode_frame_header(std::string_view header, FrameKind kind, uint64_t max_payload,
                                            std::string* error) {
  auto fail = [&](const char* why) -> std::optional<uint64_t> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (header.size() != kFrameHeaderBytes) return fail("truncated frame header");
  const char* magic = kind == FrameKind::request ? kRequestMagic : kAnswerMagic;
  if (std::memcmp(header.data(), magic, 4) != 0) return fail("not a promptwall extraction frame");
  Reader r(header.substr(4));
  const auto version = static_cast<uint16_t>(r.le(2, "version"));
  const auto reserved = static_cast<uint16_t>(r.le(2, "reserved"));
  const uint64_t length = r.u64("length");
  if (version != kWireVersion) return fail("unsupported wire version");
  if (reserved != 0) return fail("reserved field set");
  if (length > max_payload) return fail("payload longer than its bound");
  return length;
}

std::string encode_request(const ExtractionRequest& request) {
  Writer w;
  const ExtractionLimits& l = request.limits;
  w.u64(l.max_file_bytes);
  w.u64(l.max_text_bytes);
  w.u32(l.max_entries);
  w.u64(l.max_inflated_bytes);
  w.u32(l.max_ratio);
  w.u32(l.max_nesting);
  w.u64(static_cast<uint64_t>(l.time_per_file.count()));
  w.u64(l.worker_memory_bytes);
  w.u32(l.files_per_request);
  w.str(request.name);
  w.bytes64(request.bytes);
  return std::move(w).frame(kRequestMagic);
}

std::optional<ExtractionRequest> decode_request(std::string_view frame, uint64_t max_file_bytes_bound,
                                                std::string* error) {
  // The limits (56 bytes), a name of up to 64 KiB and its length, the file's length and the file.
  constexpr uint64_t kFixed = 8 + 8 + 4 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + (64 << 10) + 8;
  const auto payload = payload_of(frame, FrameKind::request, kFixed + max_file_bytes_bound, error);
  if (!payload) return std::nullopt;
  Reader r(*payload);
  ExtractionRequest q;
  ExtractionLimits& l = q.limits;
  l.max_file_bytes = r.u64("max_file_bytes");
  l.max_text_bytes = r.u64("max_text_bytes");
  l.max_entries = r.u32("max_entries");
  l.max_inflated_bytes = r.u64("max_inflated_bytes");
  l.max_ratio = r.u32("max_ratio");
  l.max_nesting = r.u32("max_nesting");
  const uint64_t ms = r.u64("time_per_file");
  if (ms > uint64_t{24} * 3600 * 1000) r.fail("time_per_file out of range");
  l.time_per_file = std::chrono::milliseconds(static_cast<int64_t>(ms));
  l.worker_memory_bytes = r.u64("worker_memory_bytes");
  l.files_per_request = r.u32("files_per_request");
  q.name = r.text(64 << 10, "name");
  q.bytes = r.bytes64(std::min(max_file_bytes_bound, l.max_file_bytes), "file");
  r.finish();
  if (!r.ok()) {
    if (error) *error = r.error();
    return std::nullopt;
  }
  return q;
}

std::string encode_document(const ExtractedDocument& d) {
  Writer w;
  w.str(d.name);
  w.u8(static_cast<uint8_t>(d.type));
  w.u64(d.size);
  w.str(d.sha256);
  w.u8(static_cast<uint8_t>(d.unscannable));
  w.str(d.detail);
  w.u32(d.pages);
  w.f64(d.seconds);
  w.u32(static_cast<uint32_t>(d.parts.size()));
  for (const TextPart& part : d.parts) {
    w.place(part.place);
    w.str(part.source);
    w.str(part.text);
    w.u32(static_cast<uint32_t>(part.anchors.size()));
    for (const Anchor& a : part.anchors) {
      w.u32(a.offset);
      w.place(a.place);
    }
  }
  return std::move(w).frame(kAnswerMagic);
}

uint64_t max_answer_frame_bytes(const AnswerBounds& bounds) {
  // Place records (a cell name and an inner path on every anchor of a sheet) can outweigh the
  // text they locate (a sheet of one-digit cells): room for three times the text in place records,
  // plus 1 MiB for the fixed fields, and still a bound on what a subverted worker makes us hold.
  return kFrameHeaderBytes + (uint64_t{1} << 20) + 4 * bounds.max_text_bytes;
}

std::optional<ExtractedDocument> decode_document(std::string_view frame, const AnswerBounds& bounds,
                                                 std::string* error) {
  const auto payload =
      payload_of(frame, FrameKind::answer, max_answer_frame_bytes(bounds) - kFrameHeaderBytes, error);
  if (!payload) return std::nullopt;
  Reader r(*payload);
  ExtractedDocument d;
  d.name = r.text(bounds.max_string_bytes, "name");
  d.type = r.enumeration(FileType::image, "file type");
  d.size = r.u64("size");
  d.sha256 = r.text(64, "sha256");
  if (r.ok() && !d.sha256.empty() && !is_lower_hex_sha256(d.sha256)) r.fail("sha256 is not 64 lower-case hex digits");
  d.unscannable = r.enumeration(Unscannable::unscanned_reference, "unscannable cause");
  d.detail = r.text(bounds.max_string_bytes, "detail");
  d.pages = r.u32("pages");
  d.seconds = std::bit_cast<double>(r.u64("seconds"));
  if (r.ok() && !(std::isfinite(d.seconds) && d.seconds >= 0)) r.fail("seconds is not a finite non-negative number");
  const uint32_t parts = r.count(kMinPartBytes, "parts");
  d.parts.reserve(parts);
  uint64_t text_bytes = 0;
  for (uint32_t i = 0; i < parts && r.ok(); ++i) {
    TextPart part;
    part.place = read_place(r, bounds);
    part.source = r.text(bounds.max_string_bytes, "source");
    part.text = r.text(bounds.max_text_bytes - text_bytes, "text");
    if (r.ok() && part.text.empty()) r.fail("empty part");
    text_bytes += part.text.size();
    const uint32_t anchors = r.count(kMinAnchorBytes, "anchors");
    part.anchors.reserve(anchors);
    for (uint32_t k = 0; k < anchors && r.ok(); ++k) {
      Anchor a;
      a.offset = r.u32("anchor offset");
      a.place = read_place(r, bounds);
      if (!r.ok()) break;
      if (a.offset > part.text.size()) r.fail("anchor offset past its text");
      else if (k == 0 && a.offset != 0) r.fail("first anchor not at offset 0");
      else if (k > 0 && a.offset < part.anchors.back().offset) r.fail("anchors out of order");
      part.anchors.push_back(std::move(a));
    }
    d.parts.push_back(std::move(part));
  }
  r.finish();
  if (!r.ok()) {
    if (error) *error = r.error();
    return std::nullopt;
  }
  return d;
}

}  // namespace promptwall::extractors::wire
