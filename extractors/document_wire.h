// The wire format between the gateway's ExtractionPool and an extraction worker process
// (sandbox/extraction_pool.h): one request (a file and the limits to read it under) goes to the
// worker, one ExtractedDocument comes back, each as one frame over a pipe or socket.
//
//   frame   = magic (4 bytes: "PWXQ" request, "PWXA" answer) · version u16 · reserved u16 (0)
//             · payload length u64 · payload
//   integers are little-endian; a string is u32 length · bytes; a double is its IEEE-754 bits as u64;
//   an enum is u8, a bool u8 0/1; a list is u32 count · items.
//   request = limits (every ExtractionLimits field, time_per_file in ms) · name · file bytes (u64 length)
//   answer  = name · type · size · sha256 · unscannable · detail · pages · seconds · parts
//             part = place · source · text · anchors;  anchor = offset u32 · place
//             place = place u8 · page u32 · cell · inner · prominent
//
// Why strict: the answer is untrusted input. A worker that a hostile file subverted may write
// anything, so decode_document() accepts only what a DocumentExtractor could have produced: known
// enum values, valid UTF-8 in every string, anchors ascending inside their text with the first at 0,
// counts no larger than the bytes that remain could hold, text within max_text_bytes, nothing after
// the payload. Every length is checked before anything is allocated for it. Anything else is a
// decode error with a short English reason (no document text), never undefined behaviour.
//
// Versioning: kWireVersion changes whenever the layout does; gateway and worker are the same binary,
// so a mismatch means a stale worker executable and is refused rather than guessed at.
//
// Pure functions, thread-safe, no I/O (the pool and the worker do the reading and writing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "extractors/extracted_document.h"
#include "extractors/extraction_limits.h"

namespace promptwall::extractors::wire {

inline constexpr uint16_t kWireVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 16;

enum class FrameKind : uint8_t { request, answer };

struct ExtractionRequest {
  ExtractionLimits limits;
  std::string name;   // the client's file name, recorded only
  std::string bytes;  // the file
};

// What a reader of frames needs to know before reading the payload: how long it is. Returns
// std::nullopt (and `error`) for a wrong magic, version or reserved field, or a payload longer
// than `max_payload` (the caller's bound: it never allocates for a length it has not checked).
std::optional<uint64_t> decode_frame_header(std::string_view header, FrameKind kind,
                                            uint64_t max_payload, std::string* error);

// Whole frames (header and payload).
std::string encode_request(const ExtractionRequest& request);
std::string encode_document(const ExtractedDocument& document);

// `frame` must be exactly one frame. A request's file may be at most its own limits'
// max_file_bytes plus `max_file_bytes_bound` caps that too (the worker's own ceiling).
std::optional<ExtractionRequest> decode_request(std::string_view frame, uint64_t max_file_bytes_bound,
                                                std::string* error);

// Bounds on an answer: text across all parts at most max_text_bytes (the limits the request
// carried), structural strings (name, detail, source, cell, inner) at most max_string_bytes each.
struct AnswerBounds {
  uint64_t max_text_bytes = ExtractionLimits{}.max_text_bytes;
  uint32_t max_string_bytes = 64 * 1024;
};
// The largest answer frame a document within `bounds` can make: the pool refuses to read more.
uint64_t max_answer_frame_bytes(const AnswerBounds& bounds);

std::optional<ExtractedDocument> decode_document(std::string_view frame, const AnswerBounds& bounds,
                                                 std::string* error);

}  // namespace promptwall::extractors::wire
