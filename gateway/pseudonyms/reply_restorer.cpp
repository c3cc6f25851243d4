#include "gateway/pseudonyms/reply_restorer.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include "encoding/web_text.h"

namespace promptwall::gateway {

namespace {

constexpr size_t kMaxEventBytes = 1 << 20;  // an SSE event larger than this is restored byte by byte

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The label with every non-ASCII character as \uXXXX (UTF-16 units), hex in `digits`.
std::optional<std::string> escape_non_ascii(std::string_view text, const char* digits) {
  std::string out;
  bool changed = false;
  auto unit = [&](uint32_t u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(digits[(u >> shift) & 0xF]);
  };
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (i + len > text.size()) return std::nullopt;
    uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
    changed = true;
    i += len;
  }
  if (!changed) return std::nullopt;
  return out;
}

// Where `text` may be cut without splitting a UTF-8 sequence: its size, or the start of an
// incomplete sequence at its end (never before `from`).
size_t utf8_cut(std::string_view text, size_t from) {
  const size_t size = text.size();
  for (size_t back = 1; back <= 3 && back <= size - from; ++back) {
    const auto c = static_cast<unsigned char>(text[size - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? size - back : size;
  }
  return size;
}

// The first of two bytes in `s` from `from` on (find_first_of calls memchr once per byte).
size_t find_either(std::string_view s, char a, char b, size_t from = 0) {
  for (size_t i = from; i < s.size(); ++i)
    if (s[i] == a || s[i] == b) return i;
  return std::string_view::npos;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A JSON string token's content (without quotes) decoded; nullopt when it is not valid JSON
// (a bad escape, a lone surrogate: such a string is left as it was).
std::optional<std::string> json_decoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto unit_at = [&](size_t i) -> int {
    if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
    int u = 0;
    for (size_t k = 2; k < 6; ++k) {
      const int h = hex(s[i + k]);
      if (h < 0) return -1;
      u = u * 16 + h;
    }
    return u;
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c != '\\') {
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    switch (s[i + 1]) {
      case '"': out.push_back('"'); i += 2; continue;
      case '\\': out.push_back('\\'); i += 2; continue;
      case '/': out.push_back('/'); i += 2; continue;
      case 'b': out.push_back('\b'); i += 2; continue;
      case 'f': out.push_back('\f'); i += 2; continue;
      case 'n': out.push_back('\n'); i += 2; continue;
      case 'r': out.push_back('\r'); i += 2; continue;
      case 't': out.push_back('\t'); i += 2; continue;
      case 'u': break;
      default: return std::nullopt;
    }
    const int u = unit_at(i);
    if (u < 0) return std::nullopt;
    if (u >= 0xD800 && u < 0xDC00) {
      const int low = unit_at(i + 6);
      if (low < 0xDC00 || low >= 0xE000) return std::nullopt;
      append_utf8(out, 0x10000 + ((static_cast<uint32_t>(u) - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00));
      i += 12;
    } else if (u >= 0xDC00 && u < 0xE000) {
      return std::nullopt;
    } else {
      append_utf8(out, static_cast<uint32_t>(u));
      i += 6;
    }
  }
  return out;
}

// A string in a JSON document, as the walk reports it.
struct JsonString {
  std::string_view name;  // the member it is the value of ("" in an array)
  size_t begin = 0;       // the opening quote
  size_t end = 0;         // one past the closing quote
};

// Walks one complete JSON text, calling `on_string(string, path)` for every string value (not
// keys); `path()` makes the string's path ("[0]#0.delta.content": keys, positions and the "index"
// members met), only when asked (most strings never need it). False when the text is not JSON
// (what was reported before stays reported).
template <class OnString>
bool walk_json(std::string_view doc, OnString&& on_string) {
  struct Frame {
    bool array = false;
    size_t position = 0;
    std::string key;
    // What tells this object's stream apart, from the members met before the string: "index" and
    // "*_index" numbers (a choice, a content block, a Responses output) and the "type" string (a
    // Responses text delta and a function-call arguments delta share the path "delta").
    std::string index;
  };
  std::vector<Frame> stack;
  bool expect_key = false;
  auto path = [&]() {
    std::string p;
    for (const Frame& f : stack) {
      if (f.array) {
        p.push_back('[');
        p.append(std::to_string(f.position)).push_back(']');
        continue;
      }
      if (!f.index.empty()) p.append("#").append(f.index);
      p.append(".").append(f.key);
    }
    return p;
  };
  size_t i = 0;
  auto skip_space = [&]() {
    while (i < doc.size() && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r')) ++i;
  };
  auto string_end = [&](size_t from) -> size_t {  // from: the opening quote
    for (size_t k = from + 1; k < doc.size(); ++k) {
      if (doc[k] == '\\') ++k;
      else if (doc[k] == '"') return k + 1;
    }
    return std::string_view::npos;
  };
  skip_space();
  if (i >= doc.size()) return false;
  for (;;) {
    skip_space();
    if (i >= doc.size()) return stack.empty();
    const char c = doc[i];
    if (expect_key) {
      if (c == '}') {
        stack.pop_back();
        ++i;
        expect_key = false;
        continue;
      }
      if (c != '"') return false;
      const size_t end = string_end(i);
      if (end == std::string_view::npos) return false;
      const std::string_view raw_key = doc.substr(i + 1, end - i - 2);
      if (raw_key.find('\\') == std::string_view::npos) {
        stack.back().key.assign(raw_key);  // nothing to decode (most keys)
      } else {
        std::optional<std::string> key = json_decoded(raw_key);
        if (!key) return false;
        stack.back().key = std::move(*key);
      }
      i = end;
      skip_space();
      if (i >= doc.size() || doc[i] != ':') return false;
      ++i;
      expect_key = false;
      continue;
    }
    if (c == ',') {
      if (stack.empty()) return false;
      ++i;
      if (stack.back().array) ++stack.back().position;
      else expect_key = true;
      continue;
    }
    if (c == ']' || c == '}') {
      if (stack.empty() || stack.back().array != (c == ']')) return false;
      stack.pop_back();
      ++i;
      continue;
    }
    if (c == '[' || c == '{') {
      stack.push_back(Frame{c == '[', 0, {}, {}});
      ++i;
      if (c == '{') expect_key = true;
      continue;
    }
    if (c == '"') {
      const size_t end = string_end(i);
      if (end == std::string_view::npos) return false;
      const std::string_view name = stack.empty() || stack.back().array ? std::string_view() : stack.back().key;
      on_string(JsonString{name, i, end}, path);
      if (name == "type") stack.back().index.append("@").append(doc.substr(i + 1, end - i - 2));
      i = end;
      continue;
    }
    // A number, true, false or null: up to the next delimiter. An object's "index" number keys
    // the paths after it (a choice's or a content block's stream).
    const size_t start = i;
    while (i < doc.size() && doc[i] != ',' && doc[i] != ']' && doc[i] != '}' && doc[i] != ' ' && doc[i] != '\n' &&
           doc[i] != '\r' && doc[i] != '\t')
      ++i;
    if (i == start) return false;
    if (!stack.empty() && !stack.back().array &&
        (stack.back().key == "index" || std::string_view(stack.back().key).ends_with("_index")))
      stack.back().index.append(stack.back().key).append("=").append(doc.substr(start, i - start));
  }
}

bool is_json_text(std::string_view name, std::string_view first_text) {
  if (name == "arguments" || name == "partial_json") return true;
  const size_t p = first_text.find_first_not_of(" \t\r\n");
  return p != std::string_view::npos && first_text[p] == '{';
}

// One JSON text restored string by string. With `carry`, each path's TextRestorer persists (SSE:
// the text of one path continues in the next event), `seen` gets the paths met among `held` (the
// paths whose restorers hold text from an earlier event), and `holding` the output offset and
// length of each token whose restorer holds text at the end. A string that cannot hold or start
// a label (no '[', no escape, not JSON text) on a path holding nothing is left as it is, unread.
struct DocumentResult {
  bool changed = false;  // false: `out` is empty and the text stays exactly as it was
  std::string out;
  std::set<std::string> seen;
  std::map<std::string, std::pair<size_t, size_t>> holding;
  size_t restored = 0;
};

template <class Held>
std::optional<DocumentResult> restore_document(const PseudonymSpellings& spellings, std::string_view doc,
                                               std::map<std::string, TextRestorer>* carry, const Held* held) {
  DocumentResult r;
  size_t copied = 0;
  const bool ok = walk_json(doc, [&](const JsonString& s, const auto& path_of) {
    const std::string_view raw = doc.substr(s.begin + 1, s.end - s.begin - 2);
    const bool plain = find_either(raw, '[', '\\') == std::string_view::npos && !raw.starts_with('{') &&
                       s.name != "arguments" && s.name != "partial_json";
    const bool any_held = carry && held && !held->empty();
    if (plain && !any_held) return;
    std::string path;
    if (any_held) {
      path = path_of();
      const bool was_held = held->contains(path);
      if (was_held) r.seen.insert(path);
      if (plain && !was_held) return;
    }
    std::optional<std::string> decoded = json_decoded(raw);
    if (!decoded) return;
    std::optional<TextRestorer> local;
    TextRestorer* restorer = nullptr;
    if (carry) {
      if (path.empty()) path = path_of();
      auto it = carry->find(path);
      if (it == carry->end())
        it = carry->emplace(path, TextRestorer(spellings, 0, is_json_text(s.name, *decoded))).first;
      restorer = &it->second;
    } else {
      local.emplace(spellings, 0, is_json_text(s.name, *decoded));
      restorer = &*local;
    }
    const bool held_before = restorer->holding();
    const size_t before = restorer->restored();
    std::string text = restorer->push(*decoded);
    if (!carry) text += restorer->finish();
    r.restored += restorer->restored() - before;
    if (!held_before && !restorer->holding() && text == *decoded) return;  // unchanged: the bytes as sent
    r.out.append(doc.substr(copied, s.begin - copied));
    const size_t at = r.out.size();
    r.out += '"';
    r.out += json_escaped(text);
    r.out += '"';
    if (restorer->holding()) r.holding[path] = {at, r.out.size() - at};
    copied = s.end;
  });
  if (!ok) return std::nullopt;
  r.changed = copied != 0;
  if (r.changed) r.out.append(doc.substr(copied));
  return r;
}

}  // namespace

std::string json_escaped(std::string_view text, int times) {
  std::string out(text);
  for (int t = 0; t < times; ++t) {
    const std::string token = encoding::json_string_token(out);
    out.assign(token, 1, token.size() - 2);
  }
  return out;
}

PseudonymSpellings::PseudonymSpellings(std::span<const Pseudonym> pseudonyms) {
  for (const Pseudonym& p : pseudonyms) {
    const size_t value = values_.size();
    values_.push_back(p.value);
    auto add = [&](std::string text, int escapes) {
      const bool known = std::any_of(spellings_.begin(), spellings_.end(),
                                     [&](const Spelling& s) { return s.text == text; });
      if (known) return;
      longest_ = std::max(longest_, text.size());
      spellings_.push_back(Spelling{std::move(text), value, escapes});
    };
    add(p.label, 0);
    for (const char* digits : {"0123456789abcdef", "0123456789ABCDEF"}) {
      const std::optional<std::string> escaped = escape_non_ascii(p.label, digits);
      if (!escaped) continue;
      std::string twice;
      for (const char c : *escaped) {
        if (c == '\\') twice += '\\';
        twice += c;
      }
      add(*escaped, 1);
      add(std::move(twice), 2);
    }
  }
}

TextRestorer::TextRestorer(const PseudonymSpellings& spellings, int escapes, bool json_text)
    : spellings_(&spellings), escapes_(escapes), json_text_(json_text) {}

void TextRestorer::pass(std::string_view text, std::string& out) {
  out.append(text);
  if (!json_text_) return;
  for (const char c : text) {
    if (!in_string_) {
      in_string_ = c == '"';
    } else if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
  }
}

std::string TextRestorer::push(std::string_view piece) {
  held_.append(piece);
  std::string out;
  size_t done = 0;  // held_[0, done) is in `out` already
  size_t from = 0;
  for (;;) {
    const size_t open = held_.find('[', from);
    if (open == std::string::npos) break;
    const std::string_view rest = std::string_view(held_).substr(open);
    const PseudonymSpellings::Spelling* whole = nullptr;
    bool partial = false;
    for (const auto& s : spellings_->spellings()) {
      if (rest.size() >= s.text.size()) {
        if (rest.starts_with(s.text)) {
          whole = &s;
          break;
        }
      } else if (std::string_view(s.text).starts_with(rest)) {
        partial = true;
      }
    }
    if (whole) {
      pass(std::string_view(held_).substr(done, open - done), out);
      const int inner = json_text_ && in_string_ ? escapes_ + 1 : 0;
      out += json_escaped(spellings_->values()[whole->value], std::max({escapes_, whole->escapes, inner}));
      ++restored_;
      done = from = open + whole->text.size();
      continue;
    }
    if (partial) {  // could still become a label: hold it (and everything after it)
      pass(std::string_view(held_).substr(done, open - done), out);
      held_.erase(0, open);
      return out;
    }
    from = open + 1;
  }
  const size_t cut = utf8_cut(held_, done);
  pass(std::string_view(held_).substr(done, cut - done), out);
  held_.erase(0, cut);
  return out;
}

std::string TextRestorer::finish() {
  std::string out;
  pass(held_, out);
  held_.clear();
  return out;
}

// SSE: whole events, each event's JSON restored with the paths' text carried between events.
struct ReplyRestorer::Events {
  explicit Events(const PseudonymSpellings& s) : spellings(s) {}

  const PseudonymSpellings& spellings;
  std::string pending;                       // bytes of the event not complete yet
  std::map<std::string, TextRestorer> carry; // per string path
  // For a path whose restorer holds text: its last event, split around the string token, so the
  // held text can be sent in a copy of that event when the next one does not continue the path.
  std::map<std::string, std::pair<std::string, std::string>> templates;
  size_t restored = 0;

  // Held text of every path the event does not continue, each in a copy of its last event.
  std::string flush_except(const std::set<std::string>& seen) {
    std::string out;
    for (auto it = templates.begin(); it != templates.end();) {
      if (seen.contains(it->first)) {
        ++it;
        continue;
      }
      TextRestorer& r = carry.at(it->first);
      out += it->second.first + '"' + json_escaped(r.finish()) + '"' + it->second.second;
      it = templates.erase(it);
    }
    return out;
  }

  std::string event(std::string_view ev) {
    // One data line holding JSON (what the three APIs send); anything else is restored as bytes.
    size_t data = std::string_view::npos;
    size_t lines_with_data = 0;
    for (size_t line = 0; line < ev.size();) {
      size_t eol = find_either(ev, '\r', '\n', line);
      if (eol == std::string_view::npos) eol = ev.size();
      if (ev.substr(line, eol - line).starts_with("data:")) {
        ++lines_with_data;
        data = line;
      }
      line = eol + 1;
    }
    if (lines_with_data == 1) {
      size_t json_begin = data + 5;
      if (json_begin < ev.size() && ev[json_begin] == ' ') ++json_begin;
      size_t json_end = find_either(ev, '\r', '\n', json_begin);
      if (json_end == std::string_view::npos) json_end = ev.size();
      const std::string_view json = ev.substr(json_begin, json_end - json_begin);
      if (std::optional<DocumentResult> doc = restore_document(spellings, json, &carry, &templates)) {
        std::string out = flush_except(doc->seen);
        restored += doc->restored;
        const std::string_view head = ev.substr(0, json_begin), tail = ev.substr(json_end);
        for (const std::string& path : doc->seen)
          if (!doc->holding.contains(path)) templates.erase(path);
        for (const auto& [path, at] : doc->holding)
          templates[path] = {std::string(head) + doc->out.substr(0, at.first),
                             doc->out.substr(at.first + at.second) + std::string(tail)};
        if (!doc->changed) return out.append(ev);
        out.append(head);
        out += doc->out;
        out.append(tail);
        return out;
      }
    }
    std::string out = flush_except({});
    TextRestorer bytes(spellings, 1, false);
    out += bytes.push(ev);
    out += bytes.finish();
    restored += bytes.restored();
    return out;
  }

  // The end of the first complete event in `pending` from `from` on (after its blank line), or npos.
  size_t event_end(size_t from = 0) const {
    size_t best = std::string::npos;
    for (std::string_view sep : {"\n\n", "\r\n\r\n", "\r\r"}) {
      const size_t at = pending.find(sep, from);
      if (at != std::string::npos && (best == std::string::npos || at + sep.size() < best)) best = at + sep.size();
    }
    return best;
  }
};

ReplyRestorer::Framing ReplyRestorer::framing_of(std::string_view content_type) {
  std::string lower(content_type.substr(0, content_type.find(';')));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("text/event-stream") != std::string::npos) return Framing::sse;
  if (lower.find("json") != std::string::npos) return Framing::json;
  return Framing::text;
}

ReplyRestorer::ReplyRestorer(std::shared_ptr<const PseudonymSpellings> spellings, Framing framing)
    : spellings_(std::move(spellings)), framing_(framing) {
  if (framing_ == Framing::sse) events_ = std::make_unique<Events>(*spellings_);
  else bytes_ = std::make_unique<TextRestorer>(*spellings_, framing_ == Framing::json ? 1 : 0, false);
}

ReplyRestorer::~ReplyRestorer() = default;
ReplyRestorer::ReplyRestorer(ReplyRestorer&&) noexcept = default;

std::string ReplyRestorer::push(std::string_view piece) {
  if (bytes_) return bytes_->push(piece);
  Events& ev = *events_;
  ev.pending.append(piece);
  std::string out;
  size_t done = 0;  // pending[0, done) are events handled in this call, erased once at the end
  for (size_t end = ev.event_end(done); end != std::string::npos; end = ev.event_end(done)) {
    out += ev.event(std::string_view(ev.pending).substr(done, end - done));
    done = end;
  }
  ev.pending.erase(0, done);
  if (ev.pending.size() > kMaxEventBytes) {
    // Not events we can read whole: the rest of the reply at byte level.
    out += ev.flush_except({});
    bytes_ = std::make_unique<TextRestorer>(*spellings_, 1, false);
    out += bytes_->push(ev.pending);
    ev.pending.clear();
  }
  return out;
}

std::string ReplyRestorer::finish() {
  std::string out;
  if (events_ && !bytes_) {
    if (!events_->pending.empty()) out += events_->event(events_->pending);
    events_->pending.clear();
    out += events_->flush_except({});
  }
  if (bytes_) out += bytes_->finish();
  return out;
}

size_t ReplyRestorer::restored() const {
  return (events_ ? events_->restored : 0) + (bytes_ ? bytes_->restored() : 0);
}

std::string ReplyRestorer::restore_whole(const PseudonymSpellings& spellings, Framing framing, std::string_view body,
                                         size_t* restored) {
  if (framing == Framing::json) {
    if (std::optional<DocumentResult> doc =
            restore_document<std::map<std::string, std::pair<std::string, std::string>>>(spellings, body, nullptr, nullptr)) {
      if (restored) *restored = doc->restored;
      return doc->changed ? std::move(doc->out) : std::string(body);
    }
  }
  // Not JSON after all, SSE, or text: the streaming path over the one piece. It only reads the
  // spellings during the calls, so a non-owning pointer is enough.
  ReplyRestorer r(std::shared_ptr<const PseudonymSpellings>(&spellings, [](const PseudonymSpellings*) {}),
                  framing == Framing::sse ? Framing::sse : framing);
  std::string out = r.push(body);
  out += r.finish();
  if (restored) *restored = r.restored();
  return out;
}

}  // namespace promptwall::gateway
