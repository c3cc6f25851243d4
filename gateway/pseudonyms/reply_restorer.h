// ReplyRestorer: an upstream's reply with the request's pseudonyms ([CCCD-1]) put back to the
// values they replaced, fed in pieces as they arrive (gateway/pseudonyms/README.md).
//
//   pieces ─► framing: SSE events │ a JSON body │ text
//        SSE: each complete event's JSON is walked; every string is decoded and restored as text,
//             and the text of one string path ("choices[0].delta.content", keyed by the "index",
//             "*_index" and "type" members met before it) continues in the next event: a label the model split over two
//             deltas ("[CC" then "CD-1]") is restored whole in the later one; what it held is
//             sent in a copy of its event when the next event does not continue that path
//        JSON (whole body): every string decoded, restored, re-encoded; other bytes unchanged
//        text, and anything else streamed: byte level (raw and escaped spellings)
//
// Labels are found as written raw (`[SĐT-2]`), JSON-escaped (`[S\u0110T-2]`, either hex case, as
// Python's json.dumps writes non-ASCII) and escaped twice (`[S\\u0110T-2]`: JSON text inside a
// JSON string, as tool-call arguments are). The value goes in escaped for where it was found:
// plain text raw, inside a JSON string escaped (`"`, `\`, control characters), inside a JSON
// string nested in a JSON string escaped twice. Only the labels given are restored (the ones this
// request's redaction issued: pseudonym_vault.h says why that stops forgery).
//
// Invariants: what push()es return, concatenated with finish(), is the restored reply; no
// returned piece ends inside a label, holds part of one, or ends inside a UTF-8 sequence; bytes are
// held back only while they could still be the start of a label (at byte level at most the longest
// spelling of a label, minus one), or until an SSE event is complete. A body that is not what its
// framing says (broken JSON, an SSE event too large) is restored at byte level, never dropped.
// Threads: one instance belongs to one reply. Errors: none; it never throws on input.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/pseudonyms/pseudonym_vault.h"

namespace promptwall::gateway {

// Every spelling of every label, and the value it stands for. Immutable; shared by a reply's parts.
class PseudonymSpellings {
 public:
  explicit PseudonymSpellings(std::span<const Pseudonym> pseudonyms);

  struct Spelling {
    std::string text;   // "[S\\u0110T-2]"
    size_t value = 0;   // index into values()
    int escapes = 0;    // 0 raw, 1 JSON-escaped, 2 escaped twice
  };
  const std::vector<Spelling>& spellings() const { return spellings_; }
  const std::vector<std::string>& values() const { return values_; }
  size_t longest() const { return longest_; }
  bool empty() const { return spellings_.empty(); }

 private:
  std::vector<Spelling> spellings_;
  std::vector<std::string> values_;
  size_t longest_ = 0;
};

// `text` escaped as the content of a JSON string (no quotes), `times` times.
std::string json_escaped(std::string_view text, int times = 1);

// Restores labels in a stream of text (decoded text, or raw bytes at byte level).
//   `escapes`: how deep in JSON strings the text sits (0 plain text or decoded string content;
//   1 the raw bytes of a JSON body). `json_text`: the text is JSON itself (tool-call arguments), so
//   a label inside one of its strings gets its value escaped once more.
class TextRestorer {
 public:
  TextRestorer(const PseudonymSpellings& spellings, int escapes, bool json_text);

  // The restored text that can be released now; the rest is held (a possible label start, an
  // incomplete UTF-8 sequence).
  std::string push(std::string_view piece);
  // Everything held, restored or as it was.
  std::string finish();
  bool holding() const { return !held_.empty(); }
  size_t restored() const { return restored_; }

 private:
  void pass(std::string_view text, std::string& out);  // un-labelled text: tracks JSON-text strings

  const PseudonymSpellings* spellings_;
  int escapes_;
  bool json_text_;
  bool in_string_ = false;  // json_text: inside one of its strings
  bool escaped_ = false;    // json_text: after a backslash there
  std::string held_;
  size_t restored_ = 0;
};

class ReplyRestorer {
 public:
  enum class Framing { sse, json, text };
  // By Content-Type: text/event-stream → sse, anything JSON → json, else text.
  static Framing framing_of(std::string_view content_type);

  ReplyRestorer(std::shared_ptr<const PseudonymSpellings> spellings, Framing framing);
  ~ReplyRestorer();
  ReplyRestorer(ReplyRestorer&&) noexcept;

  std::string push(std::string_view piece);
  std::string finish();
  // How many labels were put back (for the log line; never which).
  size_t restored() const;

  // A whole body at once: JSON walked string by string, SSE as its events, text as text.
  static std::string restore_whole(const PseudonymSpellings& spellings, Framing framing, std::string_view body,
                                   size_t* restored = nullptr);

 private:
  struct Events;
  std::shared_ptr<const PseudonymSpellings> spellings_;
  Framing framing_;
  std::unique_ptr<Events> events_;      // sse
  std::unique_ptr<TextRestorer> bytes_; // json streamed, text, and SSE past its limits
};

}  // namespace promptwall::gateway
