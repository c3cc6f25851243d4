#include "extractors/sandbox/extraction_worker.h"

#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <system_error>

#include "extractors/document_extractor.h"
#include "extractors/document_wire.h"
#include "extractors/sandbox/confinement.h"

namespace promptwall::extractors::sandbox {
namespace {

// The largest file a request may carry whatever limits it names: the gateway is trusted, but a
// stray writer on the worker's stdin must not make it allocate without end.
constexpr uint64_t kMaxRequestFileBytes = uint64_t{1} << 30;

bool read_exactly(int fd, std::string& out, size_t n) {
  const size_t start = out.size();
  out.resize(start + n);
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out.data() + start + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

ExtractedDocument failed(const wire::ExtractionRequest& request, std::string detail) {
  ExtractedDocument d;
  d.name = request.name;
  d.size = request.bytes.size();
  d.unscannable = Unscannable::extractor_failed;
  d.detail = std::move(detail);
  return d;
}

}  // namespace

int run_extraction_worker(int in_fd, int out_fd) {
  std::string frame;
  std::string error;
  if (!read_exactly(in_fd, frame, wire::kFrameHeaderBytes)) return 2;
  const auto length = wire::decode_frame_header(frame, wire::FrameKind::request,
                                                kMaxRequestFileBytes + (1 << 20), &error);
  if (!length || !read_exactly(in_fd, frame, static_cast<size_t>(*length))) return 2;
  auto request = wire::decode_request(frame, kMaxRequestFileBytes, &error);
  frame.clear();
  frame.shrink_to_fit();
  if (!request) return 2;

  try {
    confine_extraction_worker(request->limits);
  } catch (const std::system_error&) {
    return 3;
  }

  std::string answer;
  try {
    const DocumentExtractor extractor(request->limits);
    answer = wire::encode_document(extractor.extract(request->bytes, request->name));
  } catch (const std::bad_alloc&) {
    const size_t size = request->bytes.size();
    answer.clear();
    answer.shrink_to_fit();
    request->bytes.clear();
    request->bytes.shrink_to_fit();
    try {
      ExtractedDocument out_of_memory = failed(*request, "out of memory: over the worker's limit of " +
                                                          std::to_string(request->limits.worker_memory_bytes >> 20) +
                                                          " MiB");
      out_of_memory.size = size;
      answer = wire::encode_document(out_of_memory);
    } catch (const std::bad_alloc&) {
      return 4;
    }
  } catch (const std::exception&) {
    // A reader broke its promise not to throw; its message may quote the file, so it is not kept.
    answer = wire::encode_document(failed(*request, "the reader threw an exception"));
  }
  return write_all(out_fd, answer) ? 0 : 4;
}

}  // namespace promptwall::extractors::sandbox
