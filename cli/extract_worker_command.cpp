// promptwall extract-worker: internal. The gateway's ExtractionPool starts one per document
// (extractors/sandbox/extraction_pool.h): a request on standard input, the answer on standard
// output, then exit. `--self-test` lets an operator check that this host's kernel enforces the
// worker's confinement.
#include <unistd.h>

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "extractors/sandbox/confinement.h"
#include "extractors/sandbox/extraction_worker.h"

namespace promptwall::cli {
namespace {

constexpr std::string_view kUsage = R"(usage:
  promptwall extract-worker              internal: the gateway starts it to read one document
                                         (a request on standard input, the answer on standard output)
  promptwall extract-worker --self-test  confine this process as a worker is confined and check that
                                         socket(), ptrace, signalling the parent and writing a file fail
                                         while reading files and memory still work
      Exit: 0 the confinement holds on this host, 1 it does not, 2 usage error.
)";

}  // namespace

int extract_worker_command(int argc, char** argv) {
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (is_help(arg)) {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--self-test") {
      self_test = true;
      continue;
    }
    std::cerr << "promptwall extract-worker: unknown argument '" << arg << "'\n" << kUsage;
    return 2;
  }
  // A confined process leaves with _exit: nothing of a one-document process needs tearing down,
  // and exit handlers that need what the filter refuses (LeakSanitizer's ptrace in the sanitizer
  // build) would turn a good answer into a failed exit status.
  if (!self_test) ::_exit(extractors::sandbox::run_extraction_worker(0, 1));

  std::vector<std::string> report;
  const bool held = extractors::sandbox::self_test_confinement(report);
  for (const std::string& line : report) std::cout << line << "\n";
  std::cout << (held ? "the extraction worker's confinement holds on this host\n"
                     : "the extraction worker's confinement does NOT hold on this host\n");
  std::cout.flush();
  ::_exit(held ? 0 : 1);
}

}  // namespace promptwall::cli
