// ExtractionLimits: how much a file may cost to read. Every reader and the sandbox take these as
// values (the configuration's `documents:` section, docs/configuration.md); the defaults are the
// documented ones. A limit reached makes the file unscannable with its own cause, never a crash
// and never a silently shorter text.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace promptwall::extractors {

struct ExtractionLimits {
  uint64_t max_file_bytes = 64ull << 20;       // a file (and each file inside an archive)   → too_big
  uint64_t max_text_bytes = 64ull << 20;       // text extracted from one top file, all parts → too_big
                                               // (a 10 MB docx holds ~33 MB of text: bench/README.md)
  uint32_t max_entries = 10'000;               // entries in one zip (OOXML, ODF, archive)   → too_many_entries
  uint64_t max_inflated_bytes = 512ull << 20;  // bytes inflated from one top file, counted as they come → zip_bomb
  uint32_t max_ratio = 200;                    // inflated / compressed of one entry, checked past 1 MiB inflated → zip_bomb
  uint32_t max_nesting = 3;                    // archives and attachments inside a file         → too_deep
  std::chrono::milliseconds time_per_file{15'000};  // wall clock in the sandbox                  → timeout
  uint64_t worker_memory_bytes = 1ull << 30;   // the worker's address space (RLIMIT_AS)          → extractor_failed
  uint32_t files_per_request = 16;             // files in one request (the gateway)              → too_many_entries
};

}  // namespace promptwall::extractors
