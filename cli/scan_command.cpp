// promptwall scan: the detection core on files or standard input. Its output is a stable
// interface that rule authors and other tools build on (docs/scan-output.md).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "classifiers/redactor.h"
#include "classifiers/scanner.h"
#include "cli/commands.h"
#include "cli/ruleset_options.h"
#include "extractors/file_type.h"
#include "extractors/sandbox/extraction_pool.h"
#include "gateway/adapters/document_places.h"

namespace promptwall::cli {
namespace {

using nlohmann::json;

enum class Format { text, json, jsonl };

constexpr int kClean = 0, kFindings = 1, kError = 2;

constexpr std::string_view kScanUsage =
    "usage: promptwall scan [--rules PACK|DIR ...] [--cache-dir DIR | --no-cache] [--format text|json|jsonl]\n"
    "                       [--redact] [FILE ...]\n"
    "  Find classified markings, identifiers and secrets in FILEs (standard input when none, or -).\n"
    "  --rules PACK|DIR  a rule pack, or a directory of *.yaml packs (repeatable; default: built-in)\n"
    "  --format          text (default), json, or jsonl (one {\"text\": ...} object per line)\n"
    "  --redact          print the text with each finding replaced (findings go to stderr in text)\n"
    "  Documents (.docx .xlsx .pptx .odt .ods .odp .pdf .rtf .doc .xls .ppt .eml .zip, by their bytes)\n"
    "  are read in a sandboxed worker as the gateway reads them; findings name their place\n"
    "  (\"page header\", \"sheet 2, cell B3\"). A document that cannot be read completely is an error.\n"
    "  Exit: 0 no findings, 1 findings, 2 error (docs/scan-output.md).\n";

struct Input {
  std::string name;
  std::string content;
};

bool read_input(const std::string& path, Input& out) {
  if (path == "-") {
    out.name = "<stdin>";
    std::ostringstream s;
    s << std::cin.rdbuf();
    out.content = s.str();
    return true;
  }
  out.name = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out.content = s.str();
  return !in.bad();
}

// 1-based line and column (in bytes) of byte offsets in one text; the line starts are found once.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) starts_.push_back(i + 1);
  }
  std::pair<size_t, size_t> at(size_t offset) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - starts_.begin());
    return {line, offset - starts_[line - 1] + 1};
  }

 private:
  std::vector<size_t> starts_;
};

json finding_json(const Finding& f) {
  return json{{"rule", f.rule_id},       {"category", f.category},   {"severity", to_string(f.severity)},
              {"action", to_string(f.action)}, {"start", f.span.begin}, {"end", f.span.end},
              {"confidence", std::round(f.confidence * 100) / 100}, {"view", to_string(f.view)}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

class ScanRun {
 public:
  ScanRun(std::shared_ptr<const RuleSet> rules, Format format, bool redact)
      : scanner_(std::move(rules)), format_(format), redact_(redact) {}

  void text_or_json(const Input& input) {
    ScanResult r = scanner_.scan(input.content);
    note(r);
    const LineIndex lines(input.content);
    std::string redacted;
    if (redact_) redacted = Redactor(scanner_.ruleset()).redact(input.content, r.findings);
    if (r.invalid_utf8_at) {
      auto [line, col] = lines.at(*r.invalid_utf8_at);
      error(input.name + ":" + std::to_string(line) + ": invalid UTF-8 at byte " + std::to_string(*r.invalid_utf8_at) +
            " (column " + std::to_string(col) + "); the rest was scanned with it replaced");
    }
    if (format_ == Format::json) {
      json findings = json::array();
      for (const auto& f : r.findings) {
        json j = finding_json(f);
        auto [line, col] = lines.at(f.span.begin);
        j["line"] = line;
        j["column"] = col;
        findings.push_back(std::move(j));
      }
      json entry{{"input", input.name}, {"findings", std::move(findings)}};
      if (redact_) entry["redacted"] = redacted;
      if (r.invalid_utf8_at) entry["invalid_utf8_at"] = *r.invalid_utf8_at;
      json_inputs_.push_back(std::move(entry));
      return;
    }
    // Text: findings as compiler-style lines; with --redact the redacted text goes to standard
    // output and the findings to standard error.
    std::ostream& out = redact_ ? std::cerr : std::cout;
    for (const auto& f : r.findings) {
      auto [line, col] = lines.at(f.span.begin);
      out << input.name << ":" << line << ":" << col << ": " << f.rule_id << " [" << f.category << ", "
          << to_string(f.severity) << ", " << to_string(f.action) << "] bytes " << f.span.begin << "-" << f.span.end
          << " (" << to_string(f.view) << " view)\n";
    }
    if (redact_) std::cout << redacted;
  }

  // A document (extractors/): read in the sandbox, each part of its text scanned, findings named
  // by their place. Text files keep text_or_json()'s line and column.
  void document(const Input& input, const extractors::ExtractedDocument& doc) {
    json findings = json::array();
    std::vector<std::string> lines;
    for (const auto& part : doc.parts) {
      const PlaceMap places = gateway::place_map(part);  // a stamp rule weighs the header
      ScanResult r = scanner_.scan(part.text, &places);
      note(r);
      for (const auto& f : r.findings) {
        const extractors::SpanPlace& place = part.place_at(f.span.begin);
        const std::string where = extractors::describe_en(place);
        json j = finding_json(f);
        j.erase("start");
        j.erase("end");
        j["place"] = std::string(extractors::to_string(place.place));
        j["where"] = where;
        if (place.page) j["page"] = place.page;
        if (!place.cell.empty()) j["cell"] = place.cell;
        if (!place.inner.empty()) j["inner"] = place.inner;
        if (place.prominent) j["prominent"] = true;
        findings.push_back(std::move(j));
        lines.push_back(input.name + ": " + where + ": " + f.rule_id + " [" + f.category + ", " +
                        std::string(to_string(f.severity)) + ", " + std::string(to_string(f.action)) + "] (" +
                        std::string(to_string(f.view)) + " view)");
      }
    }
    if (!doc.complete())
      error(input.name + ": the " + std::string(extractors::to_string(doc.type)) + " could not be read completely: " +
            std::string(extractors::to_string(doc.unscannable)) + (doc.detail.empty() ? "" : " (" + doc.detail + ")"));
    json entry{{"input", input.name}, {"type", extractors::to_string(doc.type)}, {"sha256", doc.sha256},
               {"findings", std::move(findings)}};
    if (!doc.complete()) {
      entry["unscannable"] = extractors::to_string(doc.unscannable);
      entry["detail"] = doc.detail;
    }
    if (format_ == Format::json) {
      json_inputs_.push_back(std::move(entry));
    } else if (format_ == Format::jsonl) {
      std::cout << dump(entry) << "\n";
    } else {
      for (const auto& line : lines) std::cout << line << "\n";
    }
  }

  void jsonl(const Input& input) {
    std::istringstream lines(input.content);
    std::string line;
    size_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json obj;
      try {
        obj = json::parse(line);
      } catch (const json::parse_error& e) {
        line_error(input, number, std::string("not valid JSON: ") + e.what());
        continue;
      }
      if (!obj.is_object() || !obj.contains("text") || !obj["text"].is_string()) {
        line_error(input, number, "expected a JSON object with a string field 'text'");
        continue;
      }
      const std::string text = obj["text"].get<std::string>();
      ScanResult r = scanner_.scan(text);
      note(r);
      json out = obj;
      out.erase("text");
      json findings = json::array();
      for (const auto& f : r.findings) findings.push_back(finding_json(f));
      out["findings"] = std::move(findings);
      if (redact_) out["text"] = Redactor(scanner_.ruleset()).redact(text, r.findings);
      if (r.invalid_utf8_at) {
        out["invalid_utf8_at"] = *r.invalid_utf8_at;
        error(input.name + ":" + std::to_string(number) + ": invalid UTF-8 in 'text' at byte " +
              std::to_string(*r.invalid_utf8_at));
      }
      std::cout << dump(out) << "\n";
    }
  }

  int finish() {
    if (format_ == Format::json) {
      json doc{{"ruleset", scanner_.ruleset().version()}, {"inputs", std::move(json_inputs_)}};
      std::cout << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    }
    std::cout.flush();
    if (failed_) return kError;
    return any_findings_ ? kFindings : kClean;
  }

  void error(const std::string& message) {
    std::cerr << "promptwall scan: " << message << "\n";
    failed_ = true;
  }

 private:
  void note(const ScanResult& r) { any_findings_ = any_findings_ || !r.findings.empty(); }

  void line_error(const Input& input, size_t number, const std::string& why) {
    error(input.name + ":" + std::to_string(number) + ": " + why);
    std::cout << dump(json{{"error", why}, {"line", number}}) << "\n";
  }

  Scanner scanner_;
  Format format_;
  bool redact_;
  bool any_findings_ = false;
  bool failed_ = false;
  json json_inputs_ = json::array();
};

}  // namespace

int scan_command(int argc, char** argv) {
  RulesetOptions rules;
  Format format = Format::text;
  bool redact = false;
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
      if (f == "text") format = Format::text;
      else if (f == "json") format = Format::json;
      else if (f == "jsonl") format = Format::jsonl;
      else {
        std::cerr << "promptwall scan: unknown format '" << f << "' (text, json, jsonl)\n";
        return kError;
      }
    } else if (arg == "--redact") {
      redact = true;
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
  ScanRun run(ruleset, format, redact);
  std::unique_ptr<extractors::sandbox::ExtractionPool> pool;  // started for the first document
  for (const auto& path : paths) {
    Input input;
    if (!read_input(path, input)) {
      run.error(path + ": cannot read the file");
      continue;
    }
    const extractors::FileType type = extractors::detect_file_type(input.content).type;
    const bool text = type == extractors::FileType::text || type == extractors::FileType::json ||
                      type == extractors::FileType::xml || type == extractors::FileType::html;
    if (!text && !input.content.empty()) {
      if (redact) {
        run.error(input.name + ": --redact rewrites text; a " + std::string(extractors::to_string(type)) +
                  " is not rewritten (its findings are listed without --redact)");
        continue;
      }
      if (!pool) {
        extractors::sandbox::ExtractionPool::Options options;
        options.worker_executable = "/proc/self/exe";  // this very binary, as `serve` does
        options.concurrency = 1;
        options.spares = 0;
        pool = std::make_unique<extractors::sandbox::ExtractionPool>(std::move(options));
      }
      run.document(input, pool->extract(input.content, input.name));
      continue;
    }
    if (format == Format::jsonl) run.jsonl(input);
    else run.text_or_json(input);
  }
  return run.finish();
}

}  // namespace promptwall::cli
