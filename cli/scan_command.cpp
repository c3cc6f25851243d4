// promptwall scan: the detection core on files, directories or standard input. Its output is a
// stable interface that rule authors and other tools build on (docs/scan-output.md).
//
// Text is streamed: read() into a reused buffer, scanned by classifiers/StreamScanner in chunks of
// 256 KiB, findings and redacted text written as each piece is final, so memory stays bounded
// whatever the file's size. Documents (.docx, .pdf...) are read whole and handed to the sandboxed
// extraction worker, as before. Directories are walked; with -j N, N threads scan files (one
// Scanner each, the RuleSet shared) and OrderedOutput keeps the output in the inputs' order.
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "classifiers/stream_scanner.h"
#include "cli/commands.h"
#include "cli/ordered_output.h"
#include "cli/progress_line.h"
#include "cli/ruleset_options.h"
#include "extractors/file_type.h"
#include "extractors/sandbox/extraction_pool.h"
#include "gateway/adapters/document_places.h"

namespace promptwall::cli {
namespace {

using nlohmann::json;
using Stream = OrderedOutput::Stream;

enum class Format { text, json, jsonl };

constexpr int kClean = 0, kFindings = 1, kError = 2;

// Bytes read at once into each thread's buffer.
constexpr size_t kReadBytes = size_t{1} << 20;
// The head judged for a document's magic bytes and for text: more than detect_file_type's 64 KiB
// text sample, so a streamed file is judged exactly as the whole file would be.
constexpr size_t kHeadBytes = size_t{256} << 10;
// What an input not yet first in line may hold back before it waits (per input; see OrderedOutput).
constexpr size_t kOutputBufferBytes = size_t{8} << 20;

constexpr std::string_view kScanUsage =
    "usage: promptwall scan [--rules PACK|DIR ...] [--cache-dir DIR | --no-cache] [--format text|json|jsonl]\n"
    "                       [--redact] [-j N] [--progress | --no-progress] [--chunk-bytes N] [FILE|DIR ...]\n"
    "  Find classified markings, identifiers and secrets in FILEs (standard input when none, or -).\n"
    "  A DIR is walked recursively: its regular files, in sorted order; symbolic links are not followed\n"
    "  (a link named on the command line is).\n"
    "  --rules PACK|DIR  a rule pack, or a directory of *.yaml packs (repeatable; default: built-in)\n"
    "  --format          text (default), json, or jsonl (one {\"text\": ...} object per line)\n"
    "  --redact          print the text with each finding replaced (findings go to stderr in text)\n"
    "  -j N              scan N files at once (default 1); the output is the same, in the same order\n"
    "  --progress, --no-progress\n"
    "                    a status line on stderr (bytes, files, MB/s, findings); default: when stderr\n"
    "                    is a terminal\n"
    "  --chunk-bytes N   text is scanned in chunks of N bytes (default 262144), overlapped so that no\n"
    "                    finding is lost or repeated at an edge; memory grows with N, not the file\n"
    "  Documents (.docx .xlsx .pptx .odt .ods .odp .pdf .rtf .doc .xls .ppt .eml .zip, by their bytes)\n"
    "  are read in a sandboxed worker as the gateway reads them; findings name their place\n"
    "  (\"page header\", \"sheet 2, cell B3\"). A document that cannot be read completely is an error.\n"
    "  Exit: 0 no findings, 1 findings, 2 error (docs/scan-output.md).\n";

struct Options {
  Format format = Format::text;
  bool redact = false;
  unsigned jobs = 1;
  std::optional<bool> progress;  // unset: when stderr is a terminal
  size_t chunk_bytes = StreamScanner::kDefaultChunkBytes;
};

// One input: a file (named or found in a directory), standard input, or a problem found while
// listing them (reported in its place in the order).
struct Input {
  std::string path;  // "-" for standard input
  std::string name;  // as reported
  std::string listing_error;
};

// The inputs the arguments name, directories walked (regular files only; links not followed),
// each directory's files sorted by path.
std::vector<Input> list_inputs(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<Input> inputs;
  for (const auto& arg : args) {
    std::error_code ec;
    if (arg == "-") {
      inputs.push_back({"-", "<stdin>", {}});
      continue;
    }
    if (!fs::is_directory(arg, ec)) {
      inputs.push_back({arg, arg, {}});
      continue;
    }
    std::vector<Input> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::none, ec), end;
    if (ec) {
      inputs.push_back({arg, arg, "cannot read the directory: " + ec.message()});
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        found.push_back({arg, arg, "cannot read the directory: " + ec.message()});
        break;
      }
      const fs::file_status status = it->symlink_status(ec);
      if (!ec && fs::is_regular_file(status)) found.push_back({it->path().string(), it->path().string(), {}});
    }
    std::stable_sort(found.begin(), found.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
    inputs.insert(inputs.end(), found.begin(), found.end());
  }
  return inputs;
}

json finding_json(const Finding& f, uint64_t offset) {
  return json{{"rule", f.rule_id},
              {"category", f.category},
              {"severity", to_string(f.severity)},
              {"action", to_string(f.action)},
              {"start", offset + f.span.begin},
              {"end", offset + f.span.end},
              {"confidence", std::round(f.confidence * 100) / 100},
              {"view", to_string(f.view)}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// `j` pretty-printed as nlohmann prints it `depth` levels deep in a document (json format): the
// document is written piece by piece, so each piece is indented to where it stands. JSON strings
// hold no raw line breaks, so every '\n' is a line of the layout.
std::string dump_at(const json& j, size_t depth) {
  const std::string flat = j.dump(2, ' ', false, json::error_handler_t::replace);
  const std::string indent(2 * depth, ' ');
  std::string out;
  out.reserve(flat.size() + flat.size() / 8);
  for (char c : flat) {
    out.push_back(c);
    if (c == '\n') out += indent;
  }
  return out;
}

// The body of a JSON string holding `text` (no quotes), escaped as dump() escapes it.
std::string json_string_body(std::string_view text) {
  const std::string quoted = dump(json(std::string(text)));
  return quoted.substr(1, quoted.size() - 2);
}

// A file descriptor read to its end with read(): no mapping, no copy of the whole.
class Source {
 public:
  explicit Source(const Input& input) {
    if (input.path == "-") {
      fd_ = STDIN_FILENO;
      return;
    }
    fd_ = ::open(input.path.c_str(), O_RDONLY | O_CLOEXEC);
    owned_ = true;
    if (fd_ >= 0) ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~Source() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  bool open() const { return fd_ >= 0; }
  // Appends up to `max` bytes to `out`; 0 at the end; -1 on an error (errno set).
  ssize_t read_into(std::string& out, size_t max) {
    const size_t at = out.size();
    out.resize(at + max);
    ssize_t n;
    do n = ::read(fd_, out.data() + at, max);
    while (n < 0 && errno == EINTR);
    out.resize(at + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    return n;
  }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

// 1-based line and column (in bytes) of offsets met in increasing order, counting line breaks as
// the text goes by: nothing of the text is kept.
class LineCounter {
 public:
  // Moves to `offset` (relative to `text`, which starts at stream offset `text_offset`).
  std::pair<uint64_t, uint64_t> at(uint64_t text_offset, std::string_view text, size_t offset) {
    advance(text_offset, text, offset);
    return {line_, text_offset + offset - line_start_ + 1};
  }
  void advance(uint64_t text_offset, std::string_view text, size_t to) {
    size_t from = static_cast<size_t>(std::max(counted_, text_offset) - text_offset);
    while (from < to) {
      const void* nl = std::memchr(text.data() + from, '\n', to - from);
      if (!nl) break;
      from = static_cast<size_t>(static_cast<const char*>(nl) - text.data()) + 1;
      ++line_;
      line_start_ = text_offset + from;
    }
    counted_ = std::max(counted_, text_offset + to);
  }

 private:
  uint64_t line_ = 1, line_start_ = 0, counted_ = 0;
};

// What every scanning thread shares: options, the rule set, the output, the counters, the
// extraction pool (started for the first document) and the run's outcome.
class ScanRun {
 public:
  ScanRun(Options options, std::shared_ptr<const RuleSet> rules, OrderedOutput& output,
          ProgressLine::Counters& counters)
      : options_(options), rules_(std::move(rules)), output_(output), counters_(counters) {}

  const Options& options() const { return options_; }
  const std::shared_ptr<const RuleSet>& rules() const { return rules_; }
  OrderedOutput& output() { return output_; }
  ProgressLine::Counters& counters() { return counters_; }

  void error(size_t input, const std::string& message) {
    output_.write(input, Stream::err, "promptwall scan: " + message + "\n");
    failed_ = true;
  }
  void found(size_t n) {
    if (n) any_findings_ = true;
    counters_.findings += n;
  }
  extractors::sandbox::ExtractionPool& pool() {
    std::lock_guard lock(pool_mutex_);
    if (!pool_) {
      extractors::sandbox::ExtractionPool::Options options;
      options.worker_executable = "/proc/self/exe";  // this very binary, as `serve` does
      options.concurrency = options_.jobs;
      options.spares = 0;
      pool_ = std::make_unique<extractors::sandbox::ExtractionPool>(std::move(options));
    }
    return *pool_;
  }
  int status() const { return failed_ ? kError : any_findings_ ? kFindings : kClean; }

 private:
  Options options_;
  std::shared_ptr<const RuleSet> rules_;
  OrderedOutput& output_;
  ProgressLine::Counters& counters_;
  std::mutex pool_mutex_;
  std::unique_ptr<extractors::sandbox::ExtractionPool> pool_;
  std::atomic<bool> failed_{false}, any_findings_{false};
};

// One thread's scanning: its own Scanner and read buffer, one input at a time.
class InputScan {
 public:
  explicit InputScan(ScanRun& run) : run_(run), scanner_(run.rules()) { buffer_.reserve(kHeadBytes + kReadBytes); }

  void scan(size_t index, const Input& input) {
    index_ = index;
    input_ = &input;
    if (!input.listing_error.empty()) return run_.error(index, input.name + ": " + input.listing_error);
    Source source(input);
    if (!source.open()) return run_.error(index, input.path + ": cannot read the file");
    // The head decides: a document is read whole for the extraction worker, text is streamed.
    buffer_.clear();
    bool at_end = false;
    while (buffer_.size() < kHeadBytes) {
      const ssize_t n = source.read_into(buffer_, kHeadBytes - buffer_.size());
      if (n < 0) return run_.error(index, input.path + ": cannot read the file");
      if (n == 0) {
        at_end = true;
        break;
      }
    }
    const extractors::FileType type = extractors::detect_file_type(buffer_).type;
    const bool text = type == extractors::FileType::text || type == extractors::FileType::json ||
                      type == extractors::FileType::xml || type == extractors::FileType::html;
    if (!text && !buffer_.empty()) {
      if (run_.options().redact)
        return run_.error(index, input.name + ": --redact rewrites text; a " + std::string(extractors::to_string(type)) +
                                     " is not rewritten (its findings are listed without --redact)");
      std::string whole = std::move(buffer_);
      buffer_ = std::string();
      buffer_.reserve(kHeadBytes + kReadBytes);
      while (!at_end) {
        const ssize_t n = source.read_into(whole, kReadBytes);
        if (n < 0) return run_.error(index, input.path + ": cannot read the file");
        at_end = n == 0;
      }
      return document(whole);
    }
    if (run_.options().format == Format::jsonl) return jsonl(source, at_end);
    stream_text(source, at_end);
  }

 private:
  void out(std::string_view bytes) { run_.output().write(index_, Stream::out, bytes); }
  void err(std::string_view bytes) { run_.output().write(index_, Stream::err, bytes); }
  // json: an entry of "inputs", after a "," when an earlier input wrote one.
  void entry_start(std::string_view bytes) { run_.output().write_separated(index_, ",", bytes); }

  // Text and json formats: the text streamed through a StreamScanner, each piece's findings (and
  // redacted text) written as the piece is final.
  void stream_text(Source& source, bool at_end) {
    const Options& options = run_.options();
    const std::string& name = input_->name;
    StreamScanner streamer(scanner_, options.chunk_bytes);
    Redactor redactor(scanner_.ruleset());
    LineCounter lines;
    std::optional<uint64_t> invalid_utf8_at;
    bool any_finding = false;
    // json with --redact: the redacted text comes after "invalid_utf8_at", which only the end
    // knows, so it waits in a temporary file rather than in memory.
    std::unique_ptr<FILE, int (*)(FILE*)> redacted_json(nullptr, &std::fclose);
    if (options.format == Format::json && options.redact) {
      redacted_json.reset(std::tmpfile());
      if (!redacted_json) return run_.error(index_, name + ": cannot create a temporary file for --redact");
    }
    if (options.format == Format::json) entry_start("\n    {\n      \"findings\": [");

    auto sink = [&](const StreamPiece& piece) {
      // Text: with --redact the redacted text goes to standard output and the findings to standard
      // error.
      std::string findings_out;
      auto write_findings = [&] {
        if (options.format == Format::text && options.redact) err(findings_out);
        else out(findings_out);
        findings_out.clear();
      };
      // Lines are counted forward only, so the bad byte takes its turn among the findings; its
      // message comes in that order too (after the findings before it, when they share stderr).
      auto invalid_up_to = [&](size_t offset) {
        if (!piece.invalid_utf8_at || *piece.invalid_utf8_at > offset || invalid_utf8_at) return;
        invalid_utf8_at = piece.offset + *piece.invalid_utf8_at;
        const auto [line, col] = lines.at(piece.offset, piece.text, *piece.invalid_utf8_at);
        write_findings();
        run_.error(index_, name + ":" + std::to_string(line) + ": invalid UTF-8 at byte " +
                               std::to_string(*invalid_utf8_at) + " (column " + std::to_string(col) +
                               "); the rest was scanned with it replaced");
      };
      for (const Finding& f : piece.findings) {
        invalid_up_to(f.span.begin);
        const auto [line, col] = lines.at(piece.offset, piece.text, f.span.begin);
        if (options.format == Format::json) {
          json j = finding_json(f, piece.offset);
          j["line"] = line;
          j["column"] = col;
          findings_out += any_finding ? ",\n        " : "\n        ";
          findings_out += dump_at(j, 4);
        } else {
          findings_out += name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + f.rule_id + " [" +
                          f.category + ", " + std::string(to_string(f.severity)) + ", " +
                          std::string(to_string(f.action)) + "] bytes " + std::to_string(piece.offset + f.span.begin) +
                          "-" + std::to_string(piece.offset + f.span.end) + " (" + std::string(to_string(f.view)) +
                          " view)\n";
        }
        any_finding = true;
      }
      invalid_up_to(piece.text.size());
      lines.advance(piece.offset, piece.text, piece.text.size());
      write_findings();
      if (options.redact) {
        const std::string redacted = redactor.redact(piece.text, piece.findings);
        if (redacted_json) {
          const std::string body = json_string_body(redacted);
          std::fwrite(body.data(), 1, body.size(), redacted_json.get());
        } else {
          out(redacted);
        }
      }
      run_.found(piece.findings.size());
      run_.counters().bytes += piece.text.size();
    };

    bool read_failed = false;
    try {
      streamer.push(buffer_, sink);
      while (!at_end) {
        buffer_.clear();
        const ssize_t n = source.read_into(buffer_, kReadBytes);
        if (n < 0) {
          read_failed = true;
          break;
        }
        at_end = n == 0;
        streamer.push(buffer_, sink);
      }
      streamer.finish(sink);
    } catch (const std::exception& e) {
      run_.error(index_, name + ": " + e.what());
    }
    if (read_failed) run_.error(index_, input_->path + ": cannot read the file to its end (" + std::strerror(errno) + ")");

    if (options.format == Format::json) {
      std::string tail = any_finding ? "\n      ]" : "]";
      tail += ",\n      \"input\": " + dump(json(name));
      if (invalid_utf8_at) tail += ",\n      \"invalid_utf8_at\": " + std::to_string(*invalid_utf8_at);
      if (redacted_json) {
        tail += ",\n      \"redacted\": \"";
        out(tail);
        tail.clear();
        copy_to_output(redacted_json.get());
        tail += "\"";
      }
      tail += "\n    }";
      out(tail);
    }
  }

  void copy_to_output(FILE* file) {
    std::rewind(file);
    std::string block(kReadBytes, '\0');
    size_t n;
    while ((n = std::fread(block.data(), 1, block.size(), file)) > 0) out(std::string_view(block.data(), n));
  }

  // A document (extractors/): read in the sandbox, each part of its text scanned, findings named
  // by their place. Text files keep stream_text()'s line and column.
  void document(const std::string& content) {
    const std::string& name = input_->name;
    const extractors::ExtractedDocument doc = run_.pool().extract(content, name);
    run_.counters().bytes += content.size();
    json findings = json::array();
    std::string lines;
    for (const auto& part : doc.parts) {
      const PlaceMap places = gateway::place_map(part);  // a stamp rule weighs the header
      ScanResult r = scanner_.scan(part.text, &places);
      run_.found(r.findings.size());
      for (const auto& f : r.findings) {
        const extractors::SpanPlace& place = part.place_at(f.span.begin);
        const std::string where = extractors::describe_en(place);
        json j = finding_json(f, 0);
        j.erase("start");
        j.erase("end");
        j["place"] = std::string(extractors::to_string(place.place));
        j["where"] = where;
        if (place.page) j["page"] = place.page;
        if (!place.cell.empty()) j["cell"] = place.cell;
        if (!place.inner.empty()) j["inner"] = place.inner;
        if (place.prominent) j["prominent"] = true;
        findings.push_back(std::move(j));
        lines += name + ": " + where + ": " + f.rule_id + " [" + f.category + ", " + std::string(to_string(f.severity)) +
                 ", " + std::string(to_string(f.action)) + "] (" + std::string(to_string(f.view)) + " view)\n";
      }
    }
    if (!doc.complete())
      run_.error(index_, name + ": the " + std::string(extractors::to_string(doc.type)) +
                             " could not be read completely: " + std::string(extractors::to_string(doc.unscannable)) +
                             (doc.detail.empty() ? "" : " (" + doc.detail + ")"));
    json entry{{"input", name}, {"type", extractors::to_string(doc.type)}, {"sha256", doc.sha256},
               {"findings", std::move(findings)}};
    if (!doc.complete()) {
      entry["unscannable"] = extractors::to_string(doc.unscannable);
      entry["detail"] = doc.detail;
    }
    switch (run_.options().format) {
      case Format::json: entry_start("\n    " + dump_at(entry, 2)); break;
      case Format::jsonl: out(dump(entry) + "\n"); break;
      case Format::text: out(lines); break;
    }
  }

  // jsonl: one JSON object per line, each line's text its own segment. Lines are read as they come;
  // only the longest line is held.
  void jsonl(Source& source, bool at_end) {
    std::string pending;
    size_t number = 0;
    auto line_done = [&](std::string_view line) {
      ++number;
      run_.counters().bytes += line.size() + 1;
      jsonl_line(line, number);
    };
    std::string_view rest(buffer_);
    for (;;) {
      size_t nl;
      while ((nl = rest.find('\n')) != std::string_view::npos) {
        if (pending.empty()) {
          line_done(rest.substr(0, nl));
        } else {
          pending.append(rest.substr(0, nl));
          line_done(pending);
          pending.clear();
        }
        rest.remove_prefix(nl + 1);
      }
      pending.append(rest);
      if (at_end) break;
      buffer_.clear();
      const ssize_t n = source.read_into(buffer_, kReadBytes);
      if (n < 0) {
        run_.error(index_, input_->path + ": cannot read the file to its end (" + std::strerror(errno) + ")");
        return;
      }
      at_end = n == 0;
      rest = buffer_;
    }
    if (!pending.empty()) line_done(pending);
  }

  void jsonl_line(std::string_view line, size_t number) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    json obj;
    try {
      obj = json::parse(line);
    } catch (const json::parse_error& e) {
      return line_error(number, std::string("not valid JSON: ") + e.what());
    }
    if (!obj.is_object() || !obj.contains("text") || !obj["text"].is_string())
      return line_error(number, "expected a JSON object with a string field 'text'");
    const std::string text = obj["text"].get<std::string>();
    ScanResult r = scanner_.scan(text);
    run_.found(r.findings.size());
    json result = obj;
    result.erase("text");
    json findings = json::array();
    for (const auto& f : r.findings) findings.push_back(finding_json(f, 0));
    result["findings"] = std::move(findings);
    if (run_.options().redact) result["text"] = Redactor(scanner_.ruleset()).redact(text, r.findings);
    if (r.invalid_utf8_at) {
      result["invalid_utf8_at"] = *r.invalid_utf8_at;
      run_.error(index_, input_->name + ":" + std::to_string(number) + ": invalid UTF-8 in 'text' at byte " +
                             std::to_string(*r.invalid_utf8_at));
    }
    out(dump(result) + "\n");
  }

  void line_error(size_t number, const std::string& why) {
    run_.error(index_, input_->name + ":" + std::to_string(number) + ": " + why);
    out(dump(json{{"error", why}, {"line", number}}) + "\n");
  }

  ScanRun& run_;
  Scanner scanner_;
  std::string buffer_;
  size_t index_ = 0;
  const Input* input_ = nullptr;
};

std::optional<size_t> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return static_cast<size_t>(std::stoull(s));
}

}  // namespace

int scan_command(int argc, char** argv) {
  RulesetOptions rules;
  Options options;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string error;
    if (rules.parse(argc, argv, i, error)) {
      if (!error.empty()) {
        std::cerr << "promptwall scan: " << error << "\n";
        return kError;
      }
    } else if (arg == "--format") {
      if (i + 1 >= argc) {
        std::cerr << "promptwall scan: --format needs text, json or jsonl\n";
        return kError;
      }
      std::string f = argv[++i];
      if (f == "text") options.format = Format::text;
      else if (f == "json") options.format = Format::json;
      else if (f == "jsonl") options.format = Format::jsonl;
      else {
        std::cerr << "promptwall scan: unknown format '" << f << "' (text, json, jsonl)\n";
        return kError;
      }
    } else if (arg == "--redact") {
      options.redact = true;
    } else if (arg == "-j" || arg == "--jobs" || (arg.size() > 2 && arg.starts_with("-j"))) {
      std::string value;
      if (arg.size() > 2 && arg.starts_with("-j")) value = arg.substr(2);  // -j4
      else if (i + 1 < argc) value = argv[++i];
      const auto n = parse_count(value);
      if (!n || *n < 1 || *n > 256) {
        std::cerr << "promptwall scan: -j needs a number of files to scan at once (1 to 256)\n";
        return kError;
      }
      options.jobs = static_cast<unsigned>(*n);
    } else if (arg == "--progress") {
      options.progress = true;
    } else if (arg == "--no-progress") {
      options.progress = false;
    } else if (arg == "--chunk-bytes") {
      const auto n = i + 1 < argc ? parse_count(argv[++i]) : std::nullopt;
      if (!n) {
        std::cerr << "promptwall scan: --chunk-bytes needs a number of bytes\n";
        return kError;
      }
      options.chunk_bytes = *n;
    } else if (is_help(arg)) {
      std::cout << kScanUsage;
      return kClean;
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      std::cerr << "promptwall scan: unknown option '" << arg << "'\n" << kScanUsage;
      return kError;
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) paths.push_back("-");

  // Examples run here as in `serve` (about 0.1 s on the built-in packs, cached databases): a set
  // the gateway would refuse is refused here too, so `scan --rules X` never vouches for packs that
  // cannot be served.
  auto ruleset = rules.load();
  if (!ruleset) return kError;
  const size_t minimum_chunk = StreamScanner::minimum_chunk_bytes(*ruleset);
  if (options.chunk_bytes < minimum_chunk) {
    std::cerr << "promptwall scan: --chunk-bytes must be at least " << minimum_chunk
              << " for these rules (their widest pattern and context window, on both sides of each edge)\n";
    return kError;
  }

  const std::vector<Input> inputs = list_inputs(paths);
  std::cout.flush();  // nothing else of this command writes through std::cout from here on
  ProgressLine::Counters counters;
  std::unique_ptr<ProgressLine> progress;
  if (options.progress.value_or(::isatty(STDERR_FILENO) == 1))
    progress = std::make_unique<ProgressLine>(counters, inputs.size(), stderr);
  OrderedOutput output(inputs.size(), kOutputBufferBytes, progress.get());
  ScanRun run(options, ruleset, output, counters);

  // json: one document, {"inputs": [...], "ruleset": ...} laid out as nlohmann lays it out (keys
  // sorted), written as the entries are final.
  if (options.format == Format::json) output.write_now(Stream::out, "{\n  \"inputs\": [");
  std::atomic<size_t> next{0};
  auto work = [&] {
    InputScan scan(run);
    for (size_t i = next++; i < inputs.size(); i = next++) {
      try {
        scan.scan(i, inputs[i]);
      } catch (const std::exception& e) {
        run.error(i, inputs[i].name + ": " + e.what());
      }
      counters.files += 1;
      output.done(i);
    }
  };
  const unsigned threads = static_cast<unsigned>(std::min<size_t>(options.jobs, std::max<size_t>(inputs.size(), 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  progress.reset();  // erases the status line before the last lines
  if (options.format == Format::json)
    output.write_now(Stream::out, std::string(output.any_separated() ? "\n  ]" : "]") + ",\n  \"ruleset\": " +
                                      dump(json(ruleset->version())) + "\n}\n");
  std::fflush(stdout);
  std::fflush(stderr);
  return run.status();
}

}  // namespace promptwall::cli
