#include "gateway/adapters/content_decoder.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

namespace promptwall::gateway {
namespace {

using Status = DecodedBody::Status;

enum class Coding : uint8_t { gzip, deflate, br };

// Output is produced in chunks of this size, so a bomb costs at most one chunk past the limit
// in a buffer that is never kept.
constexpr size_t kChunk = 64 * 1024;

struct StepError {
  Status status;
  std::string message;
};

std::string lower_trimmed(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); });
  return out;
}

// The codings in the order they were applied; identity and empty list items are no-ops.
std::variant<std::vector<Coding>, std::string> parse_codings(std::string_view header) {
  std::vector<Coding> codings;
  while (true) {
    const size_t comma = header.find(',');
    const std::string name = lower_trimmed(header.substr(0, comma));
    if (name == "gzip" || name == "x-gzip") {
      codings.push_back(Coding::gzip);
    } else if (name == "deflate") {
      codings.push_back(Coding::deflate);
    } else if (name == "br") {
      codings.push_back(Coding::br);
    } else if (!name.empty() && name != "identity") {
      return name;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return codings;
}

StepError too_large(size_t limit) {
  return {Status::too_large, "decoded body over " + std::to_string(limit) + " bytes"};
}

// Appends while keeping both the size and the capacity of `out` within `limit`
// (std::string's own growth could reserve up to twice what is needed).
bool append_bounded(std::string& out, const char* data, size_t n, size_t limit) {
  if (n > limit - out.size()) return false;
  if (out.size() + n > out.capacity())
    out.reserve(std::min(limit, std::max(out.capacity() * 2, out.size() + n)));
  out.append(data, n);
  return true;
}

// A zlib header (RFC 1950 §2.2): deflate method, window at most 32K, check bits. Raw deflate
// data passing this test by chance would be a block with reserved bits set, which zlib refuses.
bool has_zlib_header(std::string_view in) {
  if (in.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(in[0]);
  const auto flg = static_cast<unsigned char>(in[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

bool starts_gzip_member(std::string_view in) {
  return in.size() >= 2 && static_cast<unsigned char>(in[0]) == 0x1f && static_cast<unsigned char>(in[1]) == 0x8b;
}

// window_bits: 15 + 32 (gzip or zlib, detected), 15 (zlib) or -15 (raw deflate).
std::optional<StepError> inflate_into(std::string_view in, int window_bits, std::string_view name, size_t limit,
                                      std::string& out) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return StepError{Status::corrupt, std::string(name) + ": zlib init failed"};
  const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  const bool gzip = window_bits > 15;
  size_t fed = 0;  // bytes of `in` handed to zlib so far
  std::array<char, kChunk> chunk;
  while (true) {
    if (zs.avail_in == 0 && fed < in.size()) {
      // avail_in is 32 bits: hand a huge body over in pieces.
      const size_t n = std::min<size_t>(in.size() - fed, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t produced = chunk.size() - zs.avail_out;
    if (!append_bounded(out, chunk.data(), produced, limit)) return too_large(limit);
    if (rc == Z_STREAM_END) {
      const size_t rest = zs.avail_in + (in.size() - fed);
      if (rest == 0) return std::nullopt;
      if (gzip && starts_gzip_member(in.substr(in.size() - rest))) {
        inflateReset(&zs);
        continue;
      }
      return StepError{Status::corrupt, std::string(name) + ": data after the end of the compressed stream"};
    }
    if (rc == Z_BUF_ERROR) return StepError{Status::corrupt, std::string(name) + ": unexpected end of data"};
    if (rc != Z_OK) {
      const char* msg = zs.msg != nullptr ? zs.msg : zError(rc);
      return StepError{Status::corrupt, std::string(name) + ": " + msg};
    }
  }
}

std::optional<StepError> brotli_into(std::string_view in, size_t limit, std::string& out) {
  const std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return StepError{Status::corrupt, "br: decoder init failed"};
  size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  std::array<uint8_t, kChunk> chunk;
  while (true) {
    size_t avail_out = chunk.size();
    uint8_t* next_out = chunk.data();
    const BrotliDecoderResult r =
        BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    const size_t produced = chunk.size() - avail_out;
    if (!append_bounded(out, reinterpret_cast<const char*>(chunk.data()), produced, limit)) return too_large(limit);
    switch (r) {
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      case BROTLI_DECODER_RESULT_SUCCESS:
        if (avail_in == 0) return std::nullopt;
        return StepError{Status::corrupt, "br: data after the end of the compressed stream"};
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        return StepError{Status::corrupt, "br: unexpected end of data"};
      case BROTLI_DECODER_RESULT_ERROR:
        break;
    }
    // The library names the error tersely ("PADDING_2"); say what it is a name of.
    return StepError{Status::corrupt, std::string("br: invalid data (") +
                                          BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())) + ")"};
  }
}

std::optional<StepError> undo(Coding coding, std::string_view in, size_t limit, std::string& out) {
  switch (coding) {
    case Coding::gzip:
      return inflate_into(in, 15 + 32, "gzip", limit, out);
    case Coding::deflate:
      return inflate_into(in, has_zlib_header(in) ? 15 : -15, "deflate", limit, out);
    case Coding::br:
      return brotli_into(in, limit, out);
  }
  return StepError{Status::unsupported, "unknown coding"};
}

}  // namespace

DecodedBody decode_content(std::string_view content_encoding, std::string_view body, size_t max_decoded_bytes) {
  DecodedBody result;
  auto parsed = parse_codings(content_encoding);
  if (auto* unknown = std::get_if<std::string>(&parsed)) {
    result.status = Status::unsupported;
    result.error = "unsupported content encoding '" + *unknown + "'";
    return result;
  }
  const auto& codings = std::get<std::vector<Coding>>(parsed);
  if (codings.empty()) {
    if (body.size() > max_decoded_bytes) {
      StepError e = too_large(max_decoded_bytes);
      result.status = e.status;
      result.error = std::move(e.message);
      return result;
    }
    result.body.assign(body);
    return result;
  }
  // The last coding listed was applied last, so it is undone first.
  std::string input;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    std::string output;
    const std::string_view in = it == codings.rbegin() ? body : std::string_view(input);
    if (auto error = undo(*it, in, max_decoded_bytes, output)) {
      result.status = error->status;
      result.error = std::move(error->message);
      return result;
    }
    input = std::move(output);
  }
  result.body = std::move(input);
  return result;
}

}  // namespace promptwall::gateway
