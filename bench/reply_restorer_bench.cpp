// reply_restorer_bench: what restoring pseudonyms costs on a streamed reply (issue 16), against
// relaying the same bytes untouched, in the same run.
//
// The reply: an OpenAI chat.completions SSE stream of Vietnamese text in deltas of 3-9 characters
// (as models stream tokens), holding the labels [TÊN-1], [CCCD-1] and [SĐT-1], [CCCD-1] split
// across two events; --sse-bytes sets its size on the wire (default 2048: a short answer of some
// 200 bytes of text; each delta's event carries ~150 bytes of JSON around its few characters).
// Fed one event per piece, as the relay reads them. Lines:
//   untouched      each piece appended to an output buffer (what the relay does without labels:
//                  the bytes pass, nothing is parsed)
//   restored SSE   the same pieces through ReplyRestorer (events walked, deltas restored, the
//                  split label carried into the next event)
//   restored JSON  the same text as one non-streamed JSON body through restore_whole
// Each line: microseconds per reply (best of --rounds, each the mean of --replies replies) and the
// ratio to the untouched line.
//
//   reply_restorer_bench [--sse-bytes B] [--replies N] [--rounds R]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/pseudonyms/reply_restorer.h"

using namespace promptwall::gateway;
using Clock = std::chrono::steady_clock;

namespace {

std::string escape_json(const std::string& s) { return nlohmann::json(s).dump(); }

// The reply's deltas: Vietnamese prose with the labels, cut every 3-9 characters (code points).
std::vector<std::string> deltas(size_t text_bytes) {
  const std::string sentence =
      "Kính gửi anh [TÊN-1], CCCD [CCCD-1], số điện thoại [SĐT-1]: "
      "chúng tôi xin xác nhận yêu cầu cấp lại thẻ đã được tiếp nhận và sẽ được xử lý trong năm ngày "
      "làm việc. ";
  std::string text = sentence.substr(0, sentence.find(':') + 1);
  while (text.size() < text_bytes) text += sentence;
  std::vector<std::string> out;
  size_t at = 0;
  unsigned n = 3;
  while (at < text.size()) {
    size_t end = at;
    for (unsigned k = 0; k < n && end < text.size(); ++k) {
      ++end;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
    out.push_back(text.substr(at, end - at));
    at = end;
    n = 3 + (n * 7 + 1) % 7;
  }
  return out;
}

std::vector<std::string> sse_events(const std::vector<std::string>& parts) {
  std::vector<std::string> out;
  for (const auto& p : parts)
    out.push_back(R"(data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":)" +
                  escape_json(p) + R"(},"finish_reason":null}]})" + "\n\n");
  out.push_back("data: [DONE]\n\n");
  return out;
}

template <class F>
double best_us(int rounds, int replies, F&& one) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < replies; ++i) one();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / replies;
    best = std::min(best, us);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int replies = 20000, rounds = 5;
  size_t sse_bytes = 2048;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sse-bytes")) sse_bytes = static_cast<size_t>(std::atol(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--replies")) replies = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  const std::vector<Pseudonym> issued = {
      {"[TÊN-1]", "Nguyễn Văn An"}, {"[CCCD-1]", "001203004567"}, {"[SĐT-1]", "0912 345 678"}};
  const auto spellings = std::make_shared<const PseudonymSpellings>(issued);

  // The text that makes about sse_bytes of events (each event ~150 bytes for ~6 characters).
  std::vector<std::string> parts;
  for (size_t text_bytes = 16;; text_bytes += 16) {
    parts = deltas(text_bytes);
    size_t wire = 0;
    for (const auto& e : sse_events(parts)) wire += e.size();
    if (wire >= sse_bytes) break;
  }
  // One label split across two events: "[CC" ends a delta, "CD-1]..." starts the next.
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const size_t at = parts[i].find("[CCCD-1]");
    if (at == std::string::npos) continue;
    parts[i + 1] = parts[i].substr(at + 3) + parts[i + 1];
    parts[i] = parts[i].substr(0, at + 3);
    break;
  }
  const std::vector<std::string> events = sse_events(parts);
  size_t reply_bytes = 0, text_bytes = 0;
  for (const auto& e : events) reply_bytes += e.size();
  std::string text;
  for (const auto& p : parts) text += p;
  text_bytes = text.size();
  const std::string json_body = R"({"id":"chatcmpl-b","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":)" +
                                escape_json(text) + R"(},"finish_reason":"stop"}]})";

  // Check once that the restorer does what is measured.
  {
    ReplyRestorer r(spellings, ReplyRestorer::Framing::sse);
    std::string out;
    for (const auto& e : events) out += r.push(e);
    out += r.finish();
    if (r.restored() == 0 || out.find("001203004567") == std::string::npos || out.find("[CCCD-1]") != std::string::npos) {
      std::fprintf(stderr, "reply_restorer_bench: the reply was not restored\n");
      return 1;
    }
  }

  volatile size_t sink = 0;
  std::string out;
  out.reserve(8192);
  const double untouched = best_us(rounds, replies, [&] {
    out.clear();
    for (const auto& e : events) out.append(e);
    sink = sink + out.size();
  });
  const double sse = best_us(rounds, replies, [&] {
    ReplyRestorer r(spellings, ReplyRestorer::Framing::sse);
    out.clear();
    for (const auto& e : events) out += r.push(e);
    out += r.finish();
    sink = sink + out.size();
  });
  const double json = best_us(rounds, replies, [&] {
    sink = sink + ReplyRestorer::restore_whole(*spellings, ReplyRestorer::Framing::json, json_body).size();
  });

  std::printf("reply: %zu bytes of SSE in %zu events, %zu bytes of text, 3 labels (one split across events)\n",
              reply_bytes, events.size(), text_bytes);
  std::printf("%-16s %10s %10s\n", "line", "us/reply", "x untouched");
  std::printf("%-16s %10.2f %10.1f\n", "untouched", untouched, 1.0);
  std::printf("%-16s %10.2f %10.1f\n", "restored SSE", sse, sse / untouched);
  std::printf("%-16s %10.2f %10.1f\n", "restored JSON", json, json / untouched);
  return 0;
}
