// `promptwall scan` and `promptwall rules` as users and tools run them: exit statuses, output
// formats, byte offsets, error messages naming the input and line.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "process.h"

using promptwall::test::run_promptwall;
using promptwall::test::shell_quote;
using promptwall::test::TempDir;
using nlohmann::json;

namespace {

// Tests share the build tree's cache of compiled databases (entries are checked before use and
// written atomically, so concurrent test processes are safe).
std::string cache_opt(const TempDir&) { return "--cache-dir " + shell_quote(PROMPTWALL_TEST_CACHE_DIR); }

std::vector<json> jsonl(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("scan exits 0 on clean text and 1 on findings") {
  TempDir dir;
  auto clean = run_promptwall("scan " + cache_opt(dir), "Viết bài giới thiệu về mật ong rừng.\n");
  CHECK(clean.status == 0);
  CHECK(clean.out.empty());
  auto dirty = run_promptwall("scan " + cache_opt(dir), "Tóm tắt:\nTỐI MẬT\nBáo cáo quý I\n");
  CHECK(dirty.status == 1);
  CHECK(dirty.out.find("<stdin>:2:1: vn.secret.degree-stamp [classification_marking") != std::string::npos);
  // The text output never repeats the sensitive text itself.
  auto id = run_promptwall("scan " + cache_opt(dir), "Số CCCD: 066087004913\n");
  CHECK(id.status == 1);
  CHECK(id.out.find("vn.pii.cccd") != std::string::npos);
  CHECK(id.out.find("066087004913") == std::string::npos);
}

TEST_CASE("scan --format jsonl echoes fields and gives byte offsets into the text as given") {
  TempDir dir;
  // NFD "MẬT" (M + A + combining dot below + combining circumflex + T) after a two-byte character.
  const std::string text = "đ\nM\u0041\u0323\u0302T\nx";
  json in = {{"id", "n1"}, {"text", text}, {"lang", "vi"}};
  json clean = {{"id", "n2"}, {"text", "mật ong"}};
  auto r = run_promptwall("scan --format jsonl " + cache_opt(dir), in.dump() + "\n\n" + clean.dump() + "\n");
  CHECK(r.status == 1);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["id"] == "n1");
  CHECK(lines[0]["lang"] == "vi");
  CHECK_FALSE(lines[0].contains("text"));
  REQUIRE(lines[0]["findings"].size() == 1);
  const auto& f = lines[0]["findings"][0];
  CHECK(f["rule"] == "vn.secret.degree-stamp");
  CHECK(f["category"] == "classification_marking");
  CHECK(f["severity"] == "critical");
  CHECK(f["action"] == "block");
  CHECK(f["start"] == 3);
  CHECK(f["end"] == 3 + std::string("M\u0041\u0323\u0302T").size());
  CHECK(lines[1]["id"] == "n2");
  CHECK(lines[1]["findings"].empty());
}

TEST_CASE("scan --format jsonl reports bad lines by number and goes on") {
  TempDir dir;
  auto r = run_promptwall("scan --format jsonl " + cache_opt(dir),
                          "{\"id\":1,\"text\":\"ok\"}\nnot json\n{\"id\":3}\n{\"id\":4,\"text\":\"MST 0201456787\"}\n");
  CHECK(r.status == 2);
  CHECK(r.err.find("<stdin>:2: not valid JSON") != std::string::npos);
  CHECK(r.err.find("<stdin>:3: expected a JSON object with a string field 'text'") != std::string::npos);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 4);  // one output line per input line, errors included
  CHECK(lines[1]["line"] == 2);
  CHECK(lines[3]["id"] == 4);
  CHECK(lines[3]["findings"][0]["rule"] == "vn.pii.tax-code");
}

TEST_CASE("scan --redact replaces each finding and nothing else") {
  TempDir dir;
  const std::string text = "Gửi anh Khánh 0327 669 018, email tuyen.pv@ninhbinh.gov.vn về lịch trực.\n";
  auto r = run_promptwall("scan --redact " + cache_opt(dir), text);
  CHECK(r.status == 1);
  CHECK(r.out.find("0327 669 018") == std::string::npos);
  CHECK(r.out.find("tuyen.pv@ninhbinh.gov.vn") == std::string::npos);
  CHECK(r.out.find("Gửi anh Khánh ") == 0);
  CHECK(r.out.find(" về lịch trực.\n") != std::string::npos);
  auto j = run_promptwall("scan --redact --format jsonl " + cache_opt(dir), json{{"text", text}}.dump() + "\n");
  auto lines = jsonl(j.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["text"] == r.out);
}

TEST_CASE("scan --format json reads files and names them") {
  TempDir dir;
  auto a = dir.file("a.txt", "Quyết định số 211-QĐ/TU\n");
  auto b = dir.file("b.txt", "không có gì\n");
  auto r = run_promptwall("scan --format json " + cache_opt(dir) + " " + shell_quote(a) + " " + shell_quote(b));
  CHECK(r.status == 1);
  json doc = json::parse(r.out);
  CHECK(doc["ruleset"].get<std::string>().size() == 64);
  REQUIRE(doc["inputs"].size() == 2);
  CHECK(doc["inputs"][0]["input"] == a);
  CHECK(doc["inputs"][0]["findings"][0]["rule"].get<std::string>().rfind("vn.doc", 0) == 0);
  CHECK(doc["inputs"][0]["findings"][0]["line"] == 1);
  CHECK(doc["inputs"][1]["findings"].empty());
}

TEST_CASE("scan errors: missing file, invalid UTF-8, bad options, broken rules") {
  TempDir dir;
  auto missing = run_promptwall("scan " + cache_opt(dir) + " /nonexistent/file.txt");
  CHECK(missing.status == 2);
  CHECK(missing.err.find("/nonexistent/file.txt: cannot read the file") != std::string::npos);

  auto bad = run_promptwall("scan " + cache_opt(dir), std::string("dòng 1\nabc \xFF def\n"));
  CHECK(bad.status == 2);
  CHECK(bad.err.find("<stdin>:2: invalid UTF-8 at byte") != std::string::npos);

  CHECK(run_promptwall("scan --format xml " + cache_opt(dir)).status == 2);
  CHECK(run_promptwall("scan --bogus " + cache_opt(dir)).status == 2);

  auto broken = dir.file("broken.yaml", "pack: b\nversion: '1'\nrules:\n  - id: b.x\n    description: d\n");
  auto r = run_promptwall("scan --rules " + shell_quote(broken) + " " + cache_opt(dir), "text");
  CHECK(r.status == 2);
  CHECK(r.err.find("broken.yaml:4") != std::string::npos);
}

TEST_CASE("rules lint and rules test pass on the built-in packs") {
  TempDir dir;
  auto lint = run_promptwall("rules lint");
  CHECK(lint.status == 0);
  CHECK(lint.out.find(" 0 error(s)") != std::string::npos);
  auto test = run_promptwall("rules test " + cache_opt(dir));
  CHECK(test.status == 0);
  CHECK(test.out.find(" 0 failed") != std::string::npos);
  auto dir_arg = run_promptwall("rules lint " + shell_quote(std::string(PROMPTWALL_SOURCE_DIR) + "/rules/packs"));
  CHECK(dir_arg.status == 0);
}

TEST_CASE("rules lint and rules test fail clearly on broken packs") {
  TempDir dir;
  auto pack = dir.file("bad.yaml",
                       "pack: bad\nversion: '1'\nrules:\n"
                       "  - id: bad.unbounded\n    description: d\n    category: secret\n    severity: high\n"
                       "    action: block\n    patterns: ['sk-[a-z]+']\n    message: {vi: 'a', en: 'b'}\n"
                       "    examples: {match: ['sk-abc'], ignore: ['x']}\n");
  auto lint = run_promptwall("rules lint " + shell_quote(pack));
  CHECK(lint.status != 0);
  CHECK(lint.err.find("bad.yaml:9: error: rule bad.unbounded: pattern 'sk-[a-z]+': unbounded repeat") !=
        std::string::npos);

  auto failing = dir.file("failing.yaml",
                          "pack: failing\nversion: '1'\nrules:\n"
                          "  - id: failing.word\n    description: d\n    category: custom_term\n    severity: low\n"
                          "    action: warn\n    patterns: ['(?i){b}falcon{b}']\n    message: {vi: 'a', en: 'b'}\n"
                          "    examples:\n      match: ['Falcon', 'Eagle']\n      ignore: ['falcons']\n");
  auto test = run_promptwall("rules test " + cache_opt(dir) + " " + shell_quote(failing));
  CHECK(test.status == 1);
  CHECK(test.err.find("failing.yaml:12: error: rule failing.word: match example not found: \"Eagle\"") !=
        std::string::npos);
  CHECK(test.out.find("2 passed, 1 failed") != std::string::npos);
}

TEST_CASE("rules compile fills the cache that the next start loads") {
  TempDir dir;
  const std::string cache = "--cache-dir " + shell_quote((dir.path() / "cache").string());
  auto first = run_promptwall("rules compile " + cache);
  CHECK(first.status == 0);
  CHECK(first.out.find("compiled into") != std::string::npos);
  auto second = run_promptwall("rules compile " + cache);
  CHECK(second.status == 0);
  CHECK(second.out.find("loaded from") != std::string::npos);
  CHECK(run_promptwall("rules compile --no-cache").status == 2);
}

TEST_CASE("scan reads documents in the sandbox and names the place of each finding") {
  TempDir dir;
  const std::string docs = std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/";
  auto stamped = run_promptwall("scan " + cache_opt(dir) + " " + shell_quote(docs + "requests/report-stamped.docx"), "");
  CHECK(stamped.status == 1);
  CHECK(stamped.out.find("report-stamped.docx: page header: vn.secret.degree-stamp [classification_marking, critical, block]") !=
        std::string::npos);
  CHECK(stamped.out.find(": table: vn.pii.cccd [national_id") != std::string::npos);
  CHECK(stamped.out.find("TỐI MẬT") == std::string::npos);  // places and rules, never the text

  auto sheet = run_promptwall("scan --format json " + cache_opt(dir) + " " + shell_quote(docs + "requests/staff-list.xlsx"), "");
  CHECK(sheet.status == 1);
  const json doc = json::parse(sheet.out);
  REQUIRE(doc["inputs"].size() == 1);
  const json& input = doc["inputs"][0];
  CHECK(input["type"] == "xlsx");
  CHECK(input["sha256"].get<std::string>().size() == 64);
  std::vector<std::string> cells;
  for (const auto& f : input["findings"]) {
    CHECK(f["place"] == "sheet");
    CHECK(f["page"] == 1);
    cells.push_back(f["cell"].get<std::string>());
  }
  CHECK(cells == std::vector<std::string>{"C2", "C3"});  // C3 typed as a number, its leading 0 kept

  auto jsonl_out = run_promptwall("scan --format jsonl " + cache_opt(dir) + " " + shell_quote(docs + "requests/report-stamped.pdf"), "");
  CHECK(jsonl_out.status == 1);
  const auto lines = jsonl(jsonl_out.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["type"] == "pdf");
  CHECK(lines[0]["findings"][0]["where"] == "page 1");

  auto clean = run_promptwall("scan " + cache_opt(dir) + " " + shell_quote(docs + "requests/report-clean.docx"), "");
  CHECK(clean.status == 0);
  CHECK(clean.out.empty());
}

TEST_CASE("scan says why a document could not be read and exits 2") {
  TempDir dir;
  const std::string hostile = std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/hostile/";
  for (const auto& [file, cause] : std::initializer_list<std::pair<const char*, const char*>>{
           {"encrypted.pdf", "encrypted"}, {"flat_bomb.zip", "zip_bomb"}, {"billion_laughs.docx", "xml_bomb"},
           {"truncated.docx", "truncated"}, {"picture.png", "image_only"}}) {
    INFO(file);
    auto r = run_promptwall("scan --format json " + cache_opt(dir) + " " + shell_quote(hostile + file), "");
    CHECK(r.status == 2);
    CHECK(r.err.find("could not be read completely: " + std::string(cause)) != std::string::npos);
    const json doc = json::parse(r.out);
    CHECK(doc["inputs"][0]["unscannable"] == cause);
  }
}

namespace {

// Lines of prose with items planted every few lines: a file several chunks long at a small
// --chunk-bytes, holding stamps, identifiers, a label for each kind of redaction and a bad byte.
std::string long_text(size_t lines) {
  static const std::vector<std::string> items = {
      "Lê Văn Tâm – 038090001234 – xã Quảng Phú.", "TỐI MẬT", "Liên hệ anh Khánh 0327 669 018 về lịch trực.",
      "Gửi hanh.nt@hanoi.gov.vn bản thảo.", "AWS_ACCESS_KEY_ID=AKIA4IABULQHGGHB2VBN", "Quyết định số 211-QĐ/TU"};
  std::string text;
  for (size_t i = 0; i < lines; ++i) {
    text += "Dòng " + std::to_string(i) + ": báo cáo tổng hợp kết quả công tác tuần của các phòng ban trực thuộc";
    text += i % 7 == 3 ? "\n" + items[(i / 7) % items.size()] + "\n" : "\n";
    if (i == lines / 2) text += "byte \xFF here\n";
  }
  return text;
}

}  // namespace

TEST_CASE("scan streams a long text in chunks with the output of one whole scan") {
  TempDir dir;
  const std::string text = long_text(4000);  // ~430 KB: 14 chunks of 32 KiB
  REQUIRE(text.size() > 400000);
  const std::string file = dir.file("long.txt", text);
  for (std::string args : {"", "--format json", "--redact", "--redact --format json"}) {
    INFO(args);
    // One chunk holding the whole file against chunks of 32 KiB.
    auto whole = run_promptwall("scan " + args + " --chunk-bytes 100000000 " + cache_opt(dir) + " " + shell_quote(file));
    auto chunked = run_promptwall("scan " + args + " --chunk-bytes 32768 " + cache_opt(dir) + " " + shell_quote(file));
    CHECK(whole.status == 2);  // the bad byte
    CHECK(chunked.status == whole.status);
    CHECK(chunked.out == whole.out);
    CHECK(chunked.err == whole.err);
    CHECK(whole.out.size() > 1000);
  }
  // The same through standard input.
  auto piped = run_promptwall("scan --chunk-bytes 32768 " + cache_opt(dir), text);
  auto named = run_promptwall("scan --chunk-bytes 100000000 " + cache_opt(dir) + " -", text);
  CHECK(piped.out == named.out);
  CHECK(piped.out.find("<stdin>:") != std::string::npos);
  // A chunk too small for the rules' margins is refused.
  auto tiny = run_promptwall("scan --chunk-bytes 1000 " + cache_opt(dir) + " " + shell_quote(file));
  CHECK(tiny.status == 2);
  CHECK(tiny.err.find("--chunk-bytes must be at least") != std::string::npos);
}

TEST_CASE("scan walks a directory, files in sorted order, the same with -j 2 as with -j 1") {
  TempDir dir;
  std::filesystem::create_directories(dir / "tree" / "sub" / "deeper");
  dir.file("tree/b.txt", "Tóm tắt:\nTỐI MẬT\n");
  dir.file("tree/a.txt", "Số CCCD: 066087004913\n");
  dir.file("tree/sub/c.txt", "không có gì\n");
  dir.file("tree/sub/deeper/d.txt", long_text(600));
  dir.file("tree/sub/e.jsonl", "{\"text\": \"MST 0201456787\"}\n");
  dir.file("outside.txt", "Gửi hanh.nt@hanoi.gov.vn\n");
  // Links are not followed: neither a linked file nor a linked directory is read.
  std::filesystem::create_symlink(dir / "outside.txt", dir / "tree" / "link.txt");
  std::filesystem::create_symlink(dir / "tree" / "sub", dir / "tree" / "loop");
  const std::string tree = shell_quote((dir / "tree").string());
  for (std::string format : {"text", "json"}) {
    INFO(format);
    auto one = run_promptwall("scan --format " + format + " -j 1 " + cache_opt(dir) + " " + tree);
    auto two = run_promptwall("scan --format " + format + " -j 2 " + cache_opt(dir) + " " + tree);
    CHECK(one.status == 2);  // d.txt's bad byte
    CHECK(two.status == one.status);
    CHECK(two.out == one.out);
    CHECK(two.err == one.err);
    CHECK(one.out.find("outside") == std::string::npos);
    CHECK(one.out.find("link.txt") == std::string::npos);
    CHECK(one.out.find("loop") == std::string::npos);
    // Sorted paths: a, b, sub/c, sub/deeper/d, sub/e.
    const size_t a = one.out.find("tree/a.txt"), b = one.out.find("tree/b.txt"), d = one.out.find("deeper/d.txt");
    REQUIRE(a != std::string::npos);
    REQUIRE(b != std::string::npos);
    REQUIRE(d != std::string::npos);
    CHECK(a < b);
    CHECK(b < d);
    if (format == "json") {
      const json doc = json::parse(one.out);
      REQUIRE(doc["inputs"].size() == 5);
      CHECK(doc["inputs"][2]["input"].get<std::string>().ends_with("sub/c.txt"));
      CHECK(doc["inputs"][2]["findings"].empty());
    }
  }
  // Nothing but clean files: 0; -j more than files is fine.
  auto clean = run_promptwall("scan -j 4 " + cache_opt(dir) + " " + shell_quote((dir / "tree" / "sub" / "c.txt").string()));
  CHECK(clean.status == 0);
  CHECK(clean.out.empty());
  auto bad = run_promptwall("scan -j 0 " + cache_opt(dir) + " " + tree);
  CHECK(bad.status == 2);
}

TEST_CASE("scan draws a progress line only on a terminal or when asked") {
  TempDir dir;
  const std::string file = dir.file("t.txt", "TỐI MẬT\n");
  // Tests run with standard error redirected to a file: no status line.
  auto quiet = run_promptwall("scan " + cache_opt(dir) + " " + shell_quote(file));
  CHECK(quiet.err.empty());
  // --progress forces it: drawn at once, then erased (carriage return, erase to the end of line).
  auto forced = run_promptwall("scan --progress " + cache_opt(dir) + " " + shell_quote(file));
  CHECK(forced.status == 1);
  CHECK(forced.out.find("vn.secret.degree-stamp") != std::string::npos);
  CHECK(forced.err.find("\rscan: ") != std::string::npos);
  CHECK(forced.err.find("/1 files, ") != std::string::npos);
  CHECK(forced.err.find(" MB/s, ") != std::string::npos);
  CHECK(forced.err.find(" findings") != std::string::npos);
  CHECK(forced.err.size() >= 4);
  CHECK(forced.err.substr(forced.err.size() - 4) == "\r\033[K");
  auto off = run_promptwall("scan --no-progress " + cache_opt(dir) + " " + shell_quote(file));
  CHECK(off.err.empty());
}
