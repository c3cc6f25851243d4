// Issue 15, secrets at rest and in logs: after the end-to-end tests, no log, trail, SQLite index or
// SIEM output any of their gateways wrote holds a raw sensitive value the suite sent
// (sensitive_values.h), in any spelling (evidence_scan.h).
//
// ctest runs it as a fixture around every e2e test (tests/CMakeLists.txt):
//   e2e.evidence_setup   (FIXTURES_SETUP)   empties $PROMPTWALL_E2E_EVIDENCE
//   every e2e test       (FIXTURES_REQUIRED) keeps what its gateways wrote there (evidence.h)
//   e2e.no_raw_secrets   (FIXTURES_CLEANUP)  scans it; runs after all of them, with -j2 too
// With ctest -R only the selected tests' output exists, and the check is exact over that: every
// process says how many keepers it started, and each of them must have left its copies.
// Listeners are part of Catch2 v2's external interfaces: defined before its first inclusion in this file.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "evidence_scan.h"
#include "gateway_fixture.h"

using namespace promptwall::e2e;

namespace {

// Each e2e test process records, when its test case ends, which test it ran and how many keepers
// (gateways, SIEM receivers) it started; their copies are made later, as they are destroyed.
class EvidenceListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    const auto root = evidence_root();
    if (!root || stats.testInfo.isHidden()) return;  // the setup and the check themselves
    std::error_code ec;
    std::filesystem::create_directories(*root / "processes", ec);
    const json record = {{"test", stats.testInfo.name}, {"keepers", evidence_counters().keepers}};
    std::ofstream(*root / "processes" / (evidence_run_id() + ".json")) << record.dump() << "\n";
  }
};

std::vector<std::pair<std::string, std::string>> the_sent_values() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : sent_sensitive_values()) out.emplace_back(std::string(v.text), std::string(v.what));
  return out;
}

// Where each scanned file came from: a keeper's copy (under the evidence directory) or a dead
// process's source, and the test that wrote it.
struct ScanRoot {
  fs::path path;
  std::string test;
};

std::string report(const std::vector<EvidenceHit>& hits, const std::vector<ScanRoot>& roots) {
  std::ostringstream out;
  size_t shown = 0;
  for (const auto& h : hits) {
    if (++shown > 60) {
      out << "... and " << hits.size() - 60 << " more\n";
      break;
    }
    std::string test = "?";
    for (const auto& r : roots)
      if (h.file.string().rfind(r.path.string(), 0) == 0) test = r.test;
    out << h.file.string() << " (test: " << test << ")\n  holds '" << h.value << "' (" << h.what << ") " << h.how << " at byte "
        << h.offset << ": ..." << h.context << "...\n";
  }
  return out.str();
}

}  // namespace

CATCH_REGISTER_LISTENER(EvidenceListener)

TEST_CASE("e2e evidence setup: an empty evidence directory for this ctest run", "[.][evidence_setup]") {
  const auto root = evidence_root();
  REQUIRE(root);  // set by tests/CMakeLists.txt
  std::error_code ec;
  fs::remove_all(*root, ec);
  REQUIRE_FALSE(ec);
  fs::create_directories(*root / "kept");
  fs::create_directories(*root / "processes");
}

TEST_CASE("no log, trail, index or SIEM output of the e2e tests holds a raw sensitive value they sent", "[.][no_raw_secrets]") {
  const auto root = evidence_root();
  REQUIRE(root);
  const auto values = the_sent_values();
  REQUIRE(values.size() >= 10);
  for (const auto& [value, what] : values) REQUIRE(value.size() >= 6);  // a short value would hit by chance

  // What the test processes say they kept.
  std::map<std::string, int> expected_keepers;  // run id -> keepers
  std::map<std::string, std::string> test_of_run;
  if (fs::exists(*root / "processes"))
    for (const auto& entry : fs::directory_iterator(*root / "processes")) {
      const json record = json::parse(read_text(entry.path()), nullptr, false);
      REQUIRE(record.is_object());
      expected_keepers[entry.path().stem().string()] = record.value("keepers", -1);
      test_of_run[entry.path().stem().string()] = record.value("test", "");
    }
  INFO("evidence directory: " << root->string());
  if (expected_keepers.empty())
    FAIL("no e2e test process recorded itself in " << (*root / "processes").string()
                                                     << ": either no e2e test ran in this ctest run (run it with them: ctest -L e2e), "
                                                        "or PROMPTWALL_E2E_EVIDENCE did not reach them");

  // What is there: one directory per keeper, each finished (its manifest is written last). A
  // keeper whose process died before copying (a crash, a signal) left watching.json: its sources
  // are scanned where they are, since the dead process removed nothing.
  std::map<std::string, int> found_keepers;
  std::vector<std::string> problems;
  std::vector<ScanRoot> scan_roots;  // the keepers' copies, and the live sources of dead ones
  size_t gateways = 0, siem_outputs = 0, logs_with_lines = 0, uncopied = 0;
  if (fs::exists(*root / "kept"))
    for (const auto& entry : fs::directory_iterator(*root / "kept")) {
      const std::string name = entry.path().filename().string();
      const std::string run = name.substr(0, name.rfind('-'));
      ++found_keepers[run];
      const bool finished = fs::exists(entry.path() / "manifest.json");
      const auto description_file = entry.path() / (finished ? "manifest.json" : "watching.json");
      const json manifest = json::parse(read_text(description_file), nullptr, false);
      if (!manifest.is_object()) {
        problems.push_back(name + ": neither manifest.json nor watching.json");
        continue;
      }
      for (const auto& e : manifest.value("errors", json::array())) problems.push_back(name + ": " + e.get<std::string>());
      std::vector<fs::path> files;  // where each source is to be read
      for (const auto& source : manifest.value("sources", json::array())) {
        const fs::path original = source.get<std::string>();
        files.push_back(finished ? entry.path() / original.relative_path() : original);
      }
      if (finished) {
        scan_roots.push_back({entry.path(), manifest.value("test", "")});
      } else {
        ++uncopied;
        WARN("test process " << run << " (" << manifest.value("test", "")
                             << ") ended before its keeper copied anything: its sources are scanned where they are");
        for (const auto& f : files)
          if (fs::exists(f)) scan_roots.push_back({f, manifest.value("test", "")});
      }
      if (manifest.value("what", "") == "gateway") {
        ++gateways;
        // Every gateway wrote a log (it logs its start): a keeper that found none is a bug.
        bool has_log = false;
        for (const auto& f : files)
          if (f.filename() == "gateway.log" && fs::exists(f) && fs::file_size(f) > 0) has_log = true;
        if (has_log) ++logs_with_lines;
        else problems.push_back(name + " (" + manifest.value("test", "") + "): the gateway's log was not kept or is empty");
      } else {
        ++siem_outputs;
      }
    }
  for (const auto& [run, n] : expected_keepers)
    if (found_keepers[run] != n)
      problems.push_back("test process " + run + " (" + test_of_run[run] + ") started " + std::to_string(n) + " keepers, " +
                         std::to_string(found_keepers[run]) + " left their copies");
  INFO("problems:\n" << [&] {
    std::string s;
    for (const auto& p : problems) s += "  " + p + "\n";
    return s;
  }());
  CHECK(problems.empty());

  int processes_with_keepers = 0;
  for (const auto& [run, n] : expected_keepers) processes_with_keepers += n > 0;
  if (gateways == 0) {
    WARN("SKIPPED: " << expected_keepers.size() << " e2e test process(es) ran in this ctest run, none started a gateway: nothing to scan");
    return;
  }

  std::vector<EvidenceHit> hits;
  ScanTotals totals;
  const auto searched = searched_values(values);
  size_t spellings = 0;
  for (const auto& v : searched) spellings += v.spellings.size();
  for (const auto& [scan_root, test] : scan_roots) {
    // Everything the keeper copied (its own manifest and watching.json, test names and paths, are
    // not product output), or a dead process's source as it is.
    std::vector<fs::path> files;
    if (fs::is_directory(scan_root)) {
      for (const auto& file : fs::recursive_directory_iterator(scan_root))
        if (file.is_regular_file() && file.path() != scan_root / "manifest.json" && file.path() != scan_root / "watching.json")
          files.push_back(file.path());
    } else {
      files.push_back(scan_root);
    }
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ++totals.files;
      totals.bytes += bytes.size();
      scan_bytes(file, bytes, searched, hits);
    }
  }
  WARN("scanned " << totals.files << " files (" << totals.bytes / 1024 << " KiB) kept from " << gateways << " gateways and "
                  << siem_outputs << " SIEM receivers of " << processes_with_keepers << " test processes (" << expected_keepers.size()
                  << " ran to their end; " << uncopied << " keepers read in place) for " << values.size() << " values in " << spellings << " spellings");
  REQUIRE(logs_with_lines == gateways);
  REQUIRE(totals.bytes > 0);
  INFO("raw sensitive values found:\n" << report(hits, scan_roots));
  CHECK(hits.empty());
}

// The check's own machinery, so it cannot pass by not looking: a planted value is found in each
// spelling a leak could take, and masked evidence is not a hit.
TEST_CASE("the evidence scan finds a raw value in every spelling and passes masked evidence", "[e2e][harness]") {
  TempDir dir;
  const auto searched = searched_values(the_sent_values());
  REQUIRE_FALSE(searched.empty());
  const std::vector<std::pair<std::string, std::string>> leaks = {
      {"nfc.log", "x Độ mật: TUYỆT MẬT y"},
      {"nfd.log", "x " + evidence_detail::normalized(icu::UnicodeString::fromUTF8("TUYỆT MẬT"), true) + " y"},
      {"lower.log", "x tuyệt mật y"},
      {"escaped.jsonl", R"({"text":"TUY\u1ec6T M\u1eacT"})"},
      {"escaped-upper.jsonl", R"({"text":"T\u1ED0I M\u1EACT"})"},
      {"percent.log", "GET /v1/TUY%E1%BB%86T%20M%E1%BA%ACT"},
      {"form.log", "q=tuy%e1%bb%87t+m%e1%ba%adt"},
      {"folded.log", "view=Tuyet Mat"},
      {"cccd.sqlite", std::string("\x00\x01", 2) + "001203004567" + std::string("\x00", 1)},
      {"phone.cef", "cs1=0912345678"},
      {"key.log", "authorization: Bearer sk-e2e-test"},
      {"password.log", "proxy user an.nguyen:đúng-mật-khẩu"}};
  for (const auto& [name, content] : leaks) dir.file(name, content);
  // What the trail legitimately holds: masked excerpts (first and last two characters), keyed
  // hashes, rule ids.
  dir.file("masked.jsonl",
           R"({"excerpt":"Độ mật: «TU••• •ẬT»","hmac":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",)"
           R"("rule":"vn.secret.degree-field","cccd":"«00••••••••67»","phone":"«09••••••78»"})");
  std::vector<EvidenceHit> hits;
  const auto totals = scan_tree(dir.path(), searched, hits);
  CHECK(totals.files == leaks.size() + 1);
  std::set<std::string> files_hit;
  for (const auto& h : hits) files_hit.insert(h.file.filename().string());
  for (const auto& [name, content] : leaks) {
    INFO(name);
    CHECK(files_hit.count(name) == 1);
  }
  CHECK(files_hit.count("masked.jsonl") == 0);
  for (const auto& h : hits)
    if (h.file.filename() == "cccd.sqlite") CHECK(h.value == kCccd);
}
