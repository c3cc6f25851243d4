// Hostile documents (tests/data/documents/hostile/, made by make_hostile_documents.py beside it):
// each file must stop with the cause hostile/expected.json names, leak nothing it should not
// (entry names in details, /etc/passwd through an external entity), and cost bounded memory:
// a reader that inflates a bomb before checking it would show up in the process's peak RSS.
// The same files then go through the sandboxed pool and the real worker (PROMPTWALL_BINARY).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <unicode/utf8.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "extractors/document_extractor.h"
#include "extractors/sandbox/extraction_pool.h"

using namespace promptwall::extractors;
namespace fs = std::filesystem;

namespace {

// AddressSanitizer keeps freed memory in quarantine (256 MB by default) and maps shadow for what is
// used (ThreadSanitizer maps shadow too): the peak-RSS bounds below measure the readers only in a
// build without them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

fs::path hostile_dir() { return fs::path(PROMPTWALL_SOURCE_DIR) / "tests/data/documents/hostile"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// file name → cause spelling, as committed.
std::map<std::string, std::string> expected_causes() {
  const auto j = nlohmann::json::parse(slurp(hostile_dir() / "expected.json"));
  std::map<std::string, std::string> out;
  for (const auto& [name, cause] : j.items()) out.emplace(name, cause.get<std::string>());
  return out;
}

// Peak resident set of this process so far (kB), from /proc/self/status.
uint64_t peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  FAIL("no VmHWM in /proc/self/status");
  return 0;
}

bool valid_utf8(const std::string& s) {
  int32_t i = 0;
  const auto n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s.data(), i, n, c);
    if (c < 0) return false;
  }
  return true;
}

std::string all_text(const ExtractedDocument& d) {
  std::string s;
  for (const auto& p : d.parts) s += p.text;
  return s;
}

const TextPart* part_containing(const ExtractedDocument& d, std::string_view needle) {
  for (const auto& p : d.parts)
    if (p.text.find(needle) != std::string::npos) return &p;
  return nullptr;
}

ExtractedDocument extract_file(const std::string& name, ExtractionLimits limits = {}) {
  return DocumentExtractor(limits).extract(slurp(hostile_dir() / name), name);
}

}  // namespace

TEST_CASE("hostile manifest names every hostile file once, with a cause spelling that exists or none", "[extractors][hostile]") {
  const auto expected = expected_causes();
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(hostile_dir())) {
    const auto name = entry.path().filename().string();
    if (name == "expected.json") continue;
    ++files;
    INFO(name);
    CHECK(expected.count(name) == 1);
  }
  CHECK(files == expected.size());
  for (const auto& [name, cause] : expected) {
    INFO(name << " → " << cause);
    CHECK((cause == "none" || unscannable_from_string(cause).has_value()));
  }
}

TEST_CASE("hostile documents each stop with their expected cause, within bounded memory", "[extractors][hostile]") {
  const auto expected = expected_causes();
  REQUIRE(expected.size() >= 26);
  const DocumentExtractor extractor;
  const uint64_t before = peak_rss_kb();
  for (const auto& [name, cause] : expected) {
    const std::string bytes = slurp(hostile_dir() / name);
    const auto doc = extractor.extract(bytes, name);
    INFO(name << ": " << to_string(doc.unscannable) << " (" << doc.detail << ")");
    CHECK(to_string(doc.unscannable) == cause);
    CHECK(doc.size == bytes.size());
    CHECK(doc.name == name);
    for (const auto& p : doc.parts) CHECK(valid_utf8(p.text));  // whatever the file held
  }
  // 1 GiB of zeros, 400 MiB of overlapping entries and 10^9 laughs later: the whole set may not
  // raise this process's peak by more than the limits let one honest file cost.
  const uint64_t growth_mb = (peak_rss_kb() - before) / 1024;
  INFO("peak RSS grew by " << growth_mb << " MB");
  if (kSanitized) WARN("the sanitizer build does not check the peak-RSS bound (" << growth_mb << " MB)");
  else CHECK(growth_mb < 256);
}

TEST_CASE("hostile details name no entry and external entities are never resolved", "[extractors][hostile]") {
  // Entry names are document text (extracted_document.h): a refusal's detail may not carry them.
  const std::map<std::string, std::string> entry_names = {
      {"flat_bomb.zip", "bao-cao"},           {"flat_bomb_lying.zip", "bao-cao"},
      {"nested_depth4.zip", "level"},         {"nested_depth8.zip", "level"},
      {"duplicate_names.zip", "notes"},       {"encrypted_entry.zip", "luong"},
      {"overlap_bomb.zip", "0001.txt"},       {"duplicate_document.docx", "document.xml"}};
  for (const auto& [file, entry] : entry_names) {
    const auto doc = extract_file(file);
    INFO(file << ": " << doc.detail);
    CHECK_FALSE(doc.complete());
    CHECK_FALSE(doc.detail.empty());
    CHECK(doc.detail.find(entry) == std::string::npos);
  }
  for (const char* file : {"xxe_document.docx", "xxe_properties.docx"}) {
    const auto doc = extract_file(file);
    INFO(file);
    CHECK(doc.unscannable == Unscannable::xml_bomb);
    const auto text = all_text(doc);
    CHECK(text.find("root:") == std::string::npos);
    CHECK(text.find("/bin/") == std::string::npos);
  }
  const auto laughs = extract_file("billion_laughs.docx");
  CHECK(laughs.unscannable == Unscannable::xml_bomb);
  CHECK(all_text(laughs).find("lollol") == std::string::npos);
}

TEST_CASE("hostile boundaries: what is just inside the limits is read completely", "[extractors][hostile]") {
  SECTION("three files deep: the secret in level2.zip is read, under its inner path") {
    const auto doc = extract_file("nested_depth3.zip");
    REQUIRE(doc.complete());
    const TextPart* p = part_containing(doc, "001099012345");
    REQUIRE(p != nullptr);
    CHECK(p->place.inner == "level1.zip/level2.zip/secret.txt");
    CHECK(p->text.find("TỐI MẬT\n") != std::string::npos);
  }
  SECTION("10,000 entries: every one is read, the last included") {
    const auto doc = extract_file("entries_10000.zip");
    REQUIRE(doc.complete());
    const auto last = std::find_if(doc.parts.begin(), doc.parts.end(), [](const TextPart& p) {
      return p.place.inner == "9999" && p.place.place != Place::file_name;
    });
    REQUIRE(last != doc.parts.end());
    CHECK(last->text == "9999\n");
  }
  SECTION("a PDF with only an owner password opens without one and is read") {
    const auto doc = extract_file("owner_password_only.pdf");
    REQUIRE(doc.complete());
    CHECK(doc.type == FileType::pdf);
    const auto text = all_text(doc);
    CHECK(text.find("TỐI MẬT") != std::string::npos);
    CHECK(text.find("001099012345") != std::string::npos);
  }
  SECTION("the password-protected docx is named a docx, refused as encrypted") {
    const auto doc = extract_file("encrypted.docx");
    CHECK(doc.unscannable == Unscannable::encrypted);
    CHECK(doc.type == FileType::docx);
  }
  SECTION("the image-only PDF: its document information is read, and no page text") {
    const auto doc = extract_file("image_only.pdf");
    CHECK(doc.unscannable == Unscannable::image_only);
    for (const auto& p : doc.parts) CHECK(p.place.place == Place::properties);
    CHECK(part_containing(doc, "Writer") != nullptr);  // LibreOffice's Creator: the info was read
  }
}

TEST_CASE("hostile limits: each limit stops its bomb on its own", "[extractors][hostile]") {
  SECTION("inflated bytes alone (ratio and entry size out of the way) stop the flat bomb") {
    ExtractionLimits limits;
    limits.max_ratio = 1'000'000;
    limits.max_file_bytes = 4ull << 30;  // else the 1 GiB the entry declares is refused first, too_big
    limits.max_inflated_bytes = 8ull << 20;
    const uint64_t before = peak_rss_kb();
    const auto doc = extract_file("flat_bomb.zip", limits);
    CHECK(doc.unscannable == Unscannable::zip_bomb);
    if (!kSanitized) CHECK((peak_rss_kb() - before) / 1024 < 256);
  }
  SECTION("with no ratio or budget limit the 1 GiB entry is still over max_file_bytes (as declared)") {
    ExtractionLimits limits;
    limits.max_ratio = 1'000'000;
    limits.max_inflated_bytes = 4ull << 30;
    limits.max_file_bytes = 16ull << 20;
    const auto doc = extract_file("flat_bomb.zip", limits);
    CHECK(doc.unscannable == Unscannable::too_big);
  }
  SECTION("max_entries is read as configured") {
    ExtractionLimits limits;
    limits.max_entries = 9'999;
    CHECK(extract_file("entries_10000.zip", limits).unscannable == Unscannable::too_many_entries);
  }
  SECTION("max_nesting is read as configured") {
    ExtractionLimits limits;
    limits.max_nesting = 2;
    CHECK(extract_file("nested_depth3.zip", limits).unscannable == Unscannable::too_deep);
    limits.max_nesting = 4;
    CHECK(extract_file("nested_depth4.zip", limits).complete());
  }
  SECTION("max_text_bytes stops a readable PDF as too_big") {
    ExtractionLimits limits;
    limits.max_text_bytes = 16;
    CHECK(extract_file("owner_password_only.pdf", limits).unscannable == Unscannable::too_big);
  }
}

TEST_CASE("hostile documents through the sandboxed pool and the real worker stop with the same causes", "[extractors][hostile][sandbox]") {
  // The real worker is the `promptwall` binary, which extractor_tests does not depend on: a full
  // build (CI, ctest) has it; without it this says SKIPPED.
  if (!fs::exists(PROMPTWALL_BINARY)) {
    WARN("SKIPPED: " PROMPTWALL_BINARY " is not built (cmake --build build --target promptwall)");
    return;
  }
  sandbox::ExtractionPool::Options options;
  options.worker_executable = PROMPTWALL_BINARY;
  options.concurrency = 2;
  sandbox::ExtractionPool pool(options);
  const auto expected = expected_causes();
  const DocumentExtractor in_process;
  for (const auto& [name, cause] : expected) {
    const std::string bytes = slurp(hostile_dir() / name);
    const auto doc = pool.extract(bytes, name);
    INFO(name << ": " << to_string(doc.unscannable) << " (" << doc.detail << ")");
    CHECK(to_string(doc.unscannable) == cause);
    // The worker answers what the in-process reader reads, part for part.
    const auto local = in_process.extract(bytes, name);
    CHECK(doc.type == local.type);
    CHECK(doc.sha256 == local.sha256);
    REQUIRE(doc.parts.size() == local.parts.size());
    for (size_t i = 0; i < doc.parts.size(); ++i) {
      CHECK(doc.parts[i].text == local.parts[i].text);
      CHECK(doc.parts[i].place == local.parts[i].place);
    }
  }
  const auto stats = pool.stats();
  CHECK(stats.completed == expected.size());
  CHECK(stats.crashed == 0);
  CHECK(stats.timed_out == 0);
}

TEST_CASE("hostile bombs meet the worker's memory limit, not the gateway's", "[extractors][hostile][sandbox]") {
  if (!fs::exists(PROMPTWALL_BINARY)) {
    WARN("SKIPPED: " PROMPTWALL_BINARY " is not built (cmake --build build --target promptwall)");
    return;
  }
  if (kSanitized) {
    WARN("SKIPPED: the sanitizer build runs workers without RLIMIT_AS");
    return;
  }
  // Every library-level limit off: only the sandbox stands between the flat bomb and memory. The
  // worker must die or answer inside its address space (the default 1 GiB); this process must not
  // grow.
  sandbox::ExtractionPool::Options options;
  options.worker_executable = PROMPTWALL_BINARY;
  options.concurrency = 1;
  options.limits.max_ratio = 1'000'000;
  options.limits.max_file_bytes = 4ull << 30;
  options.limits.max_inflated_bytes = 4ull << 30;
  options.limits.max_text_bytes = 4ull << 30;
  options.limits.time_per_file = std::chrono::milliseconds(20'000);
  sandbox::ExtractionPool pool(options);
  // The same worker reads an honest file: a refusal below is the bomb's, not a worker that
  // cannot start under these limits.
  REQUIRE(pool.extract(slurp(hostile_dir() / "nested_depth3.zip"), "nested_depth3.zip").complete());
  const uint64_t before = peak_rss_kb();
  const auto doc = pool.extract(slurp(hostile_dir() / "flat_bomb.zip"), "flat_bomb.zip");
  INFO(to_string(doc.unscannable) << " (" << doc.detail << ")");
  CHECK_FALSE(doc.complete());
  CHECK((doc.unscannable == Unscannable::extractor_failed || doc.unscannable == Unscannable::too_big));
  CHECK((peak_rss_kb() - before) / 1024 < 64);
}
