// extraction_bench: how fast DocumentExtractor reads each format, against what Debian's own tools
// take on the same files in the same run, and what the sandbox adds per document.
//
//   extraction_bench [--seconds S] [--dump XML_TEXT_DUMP] [--worker PROMPTWALL_BINARY] FILE...
//
// Per file: DocumentExtractor::extract, in-process, repeated for S seconds (3 runs at least); the
// median run gives MB/s of the file's bytes. The baseline is a shell pipeline run the same way:
//   pdf                 pdftotext -layout FILE -   (our reader prints poppler's physical layout too)
//   docx/xlsx/pptx/odt  unzip -p FILE <the parts holding the text> | xml_text_dump
//   rtf, eml            none in Debian worth the name: the column is empty
// so the ratio is ours / baseline (above 1: we are faster). With --worker, each file also goes
// through ExtractionPool (a fresh `promptwall extract-worker` process per document, as the gateway
// runs it), in-process and sandboxed runs alternating (a shared machine's load drifts), and the
// table gives the median per-document time of both and their difference.
// The limits are the defaults with max_text_bytes raised to 256 MiB (a 10 MB docx holds more than
// the default 16 MiB of text): the bench measures reading, not the refusal. A file that does not
// read completely is reported with its cause and no speed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "extractors/document_extractor.h"
#include "extractors/sandbox/extraction_pool.h"

using namespace promptwall::extractors;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Median seconds of `run` repeated for at least `seconds` and at least 3 times.
template <typename Run>
double median_seconds(double seconds, Run run) {
  std::vector<double> times;
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (times.size() < 3 || Clock::now() < until) {
    const auto start = Clock::now();
    if (!run()) return -1;
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::optional<std::string> baseline_command(const std::string& format, const std::string& file, const std::string& dump) {
  const std::string f = quoted(file);
  const std::string pipe = " | " + quoted(dump) + " > /dev/null";
  if (format == "pdf") return "pdftotext -q -layout " + f + " - > /dev/null";
  if (format == "docx") return "unzip -p " + f + " word/document.xml" + pipe;
  if (format == "xlsx") return "unzip -p " + f + " 'xl/sharedStrings*.xml' 'xl/worksheets/sheet*.xml' 2>/dev/null" + pipe;
  if (format == "pptx") return "unzip -p " + f + " 'ppt/slides/slide*.xml' 'ppt/notesSlides/notesSlide*.xml'" + pipe;
  if (format == "odt") return "unzip -p " + f + " content.xml" + pipe;
  return std::nullopt;
}

std::string fixed(double v, int decimals) {
  char out[32];
  std::snprintf(out, sizeof out, "%.*f", decimals, v);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::string dump;
  std::string worker;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--dump" && i + 1 < argc) dump = argv[++i];
    else if (a == "--worker" && i + 1 < argc) worker = argv[++i];
    else if (!a.empty() && a[0] == '-') {
      std::cerr << "usage: extraction_bench [--seconds S] [--dump XML_TEXT_DUMP] [--worker PROMPTWALL_BINARY] FILE...\n";
      return 2;
    } else files.push_back(a);
  }
  if (dump.empty()) dump = (fs::path(argv[0]).parent_path() / "xml_text_dump").string();

  ExtractionLimits limits;
  limits.max_text_bytes = 256ull << 20;
  limits.time_per_file = std::chrono::milliseconds(120'000);
  const DocumentExtractor extractor(limits);

  std::cout << "| file | size MB | text MB | ours MB/s | baseline MB/s | ours / baseline |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: |\n";
  std::map<std::string, double> in_process;  // file → median seconds
  for (const auto& file : files) {
    const std::string bytes = slurp(file);
    const std::string name = fs::path(file).filename().string();
    const std::string format = fs::path(file).extension().string().substr(1);
    const double mb = static_cast<double>(bytes.size()) / 1e6;
    const auto probe = extractor.extract(bytes, name);
    if (!probe.complete()) {
      std::cout << "| " << name << " | " << fixed(mb, 2) << " | — | " << to_string(probe.unscannable) << " ("
                << probe.detail << ") | | |\n";
      continue;
    }
    const double ours = median_seconds(seconds, [&] { return extractor.extract(bytes, name).complete(); });
    in_process[file] = ours;
    std::string base_cell = "—", ratio_cell = "—";
    if (const auto command = baseline_command(format, file, dump)) {
      const double base = median_seconds(seconds, [&] { return std::system(command->c_str()) == 0; });
      if (base < 0) {
        base_cell = "failed: " + *command;
      } else {
        base_cell = fixed(mb / base, 1);
        ratio_cell = fixed(base / ours, 2);
      }
    }
    std::cout << "| " << name << " | " << fixed(mb, 2) << " | " << fixed(probe.text_bytes() / 1e6, 2) << " | "
              << fixed(mb / ours, 1) << " | " << base_cell << " | " << ratio_cell << " |\n"
              << std::flush;
  }

  if (worker.empty()) return 0;
  sandbox::ExtractionPool::Options options;
  options.worker_executable = worker;
  options.concurrency = 1;
  options.spares = 2;
  options.limits = limits;
  sandbox::ExtractionPool pool(options);
  std::cout << "\n| file | in-process ms | sandboxed ms | overhead ms | sandboxed / in-process |\n"
               "| --- | ---: | ---: | ---: | ---: |\n";
  for (const auto& file : files) {
    if (!in_process.count(file)) continue;
    const std::string bytes = slurp(file);
    const std::string name = fs::path(file).filename().string();
    // In-process and sandboxed runs alternate, so both sides see the same load on a shared machine.
    std::vector<double> local, pooled;
    std::string failure;
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (failure.empty() && (local.size() < 3 || Clock::now() < until)) {
      const auto t0 = Clock::now();
      const bool read = extractor.extract(bytes, name).complete();
      const auto t1 = Clock::now();
      const auto doc = pool.extract(bytes, name);
      const auto t2 = Clock::now();
      if (!read || !doc.complete()) failure = std::string(to_string(doc.unscannable)) + " (" + doc.detail + ")";
      local.push_back(std::chrono::duration<double>(t1 - t0).count());
      pooled.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    if (!failure.empty()) {
      std::cout << "| " << name << " | | " << failure << " | | |\n";
      continue;
    }
    std::sort(local.begin(), local.end());
    std::sort(pooled.begin(), pooled.end());
    const double l = local[local.size() / 2], p = pooled[pooled.size() / 2];
    std::cout << "| " << name << " | " << fixed(l * 1e3, 1) << " | " << fixed(p * 1e3, 1) << " | "
              << fixed((p - l) * 1e3, 1) << " | " << fixed(p / l, 2) << " |\n"
              << std::flush;
  }
  return 0;
}
