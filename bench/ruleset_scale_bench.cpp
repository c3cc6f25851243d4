// ruleset_scale_bench: what a large organisation term list costs to compile, to load from the
// database cache and to keep in memory (issue 14: 10,000 rules in <= 10 s and <= 1 GB, loaded from
// the cache in <= 1 s). See bench/README.md ("ruleset_scale_bench").
//
//   ruleset_scale_bench [--rules 1000,10000,50000] [--seed N] [--max-gb N] [--examples]
//                       [--write-pack DIR]
//
// For each N a pack of N term rules is generated the way an organisation writes its list (project,
// unit, person and code names in Vietnamese with diacritics, in the four styles rule authors use:
// raw with (?i), folded, folded + compact, and a name with its code), deterministic for a seed.
// Each phase runs in its own forked child so its peak RSS (getrusage ru_maxrss) is its own and a
// child that runs out of memory (RLIMIT_AS, --max-gb) is reported instead of taking the machine:
//   compile  parse the YAML, compile into an empty cache directory (what a first start does)
//   load     parse the YAML, compile again from that cache (what every later start does)
//   examples (with --examples) load from the cache and run every rule's examples (ExampleRunner,
//            what `serve` runs before it accepts a set)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/normalizer.h"
#include "rules/example_runner.h"
#include "rules/pack_loader.h"
#include "rules/ruleset.h"

namespace pw = promptwall;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::vector<size_t> sizes{1000, 10000, 50000};
  uint64_t seed = 20261207;
  double max_gb = 8;  // RLIMIT_AS of each child: a shared machine must survive a blow-up
  bool examples = false;
  std::string write_pack;
};

[[noreturn]] void usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: ruleset_scale_bench [--rules N,N,...] [--seed N] [--max-gb N] [--examples] "
               "[--write-pack DIR]\n"
               "  --rules       rule counts to measure (default 1000,10000,50000)\n"
               "  --seed        generator seed (default 20261207)\n"
               "  --max-gb      address-space limit of each measuring child (default 8)\n"
               "  --examples    also time running every rule's examples on the cached set\n"
               "  --write-pack  write each generated pack to DIR/terms-N.yaml and stop\n");
  std::exit(status);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--rules") {
      o.sizes.clear();
      std::string list = value();
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        o.sizes.push_back(std::stoul(list.substr(p, c - p)));
        p = c + 1;
      }
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--max-gb") {
      o.max_gb = std::stod(value());
    } else if (a == "--examples") {
      o.examples = true;
    } else if (a == "--write-pack") {
      o.write_pack = value();
    } else if (a == "--help" || a == "-h") {
      usage(0);
    } else {
      usage(2);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// The generator: names the way a Vietnamese organisation's term list reads.

const std::vector<std::string> kSyllables = {
    "An",    "Bình",  "Minh",  "Hòa",   "Phúc",  "Thành", "Long",  "Hải",   "Sơn",   "Hà",    "Lan",   "Mai",
    "Sen",   "Đào",   "Cúc",   "Trúc",  "Tùng",  "Bách",  "Quang", "Huy",   "Khánh", "Ngọc",  "Thủy",  "Yến",
    "Đông",  "Tây",   "Nam",   "Bắc",   "Trung", "Việt",  "Hưng",  "Thịnh", "Phát",  "Lộc",   "Tín",   "Nghĩa",
    "Đức",   "Trí",   "Dũng",  "Cường", "Vinh",  "Quý",   "Hiền",  "Thảo",  "Nhung", "Oanh",  "Phượng", "Hồng",
    "Xuân",  "Hạ",    "Thu",   "Đăng",  "Kiên",  "Lâm",   "Sáng",  "Tâm",   "Thiện", "Uyên",  "Vân",   "Ánh",
    "Bảo",   "Châu",  "Diệp",  "Giang", "Hiếu",  "Khoa",  "Luân",  "Mỹ",    "Nhân",  "Phong", "Quyết", "Rạng",
    "Sương", "Toàn",  "Ước",   "Vũ",    "Xanh",  "Yên",   "Bạch",  "Đằng",  "Trường", "Hoàng", "Kim",  "Ngân"};
const std::vector<std::string> kFamilies = {"Nguyễn", "Trần", "Lê",   "Phạm", "Hoàng", "Huỳnh", "Phan",
                                            "Vũ",     "Võ",   "Đặng", "Bùi",  "Đỗ",    "Hồ",    "Ngô",
                                            "Dương",  "Lý",   "Đinh", "Trịnh", "Mai",  "Tạ"};
const std::vector<std::string> kMiddles = {"Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Xuân", "Thu"};
const std::vector<std::string> kUnitKinds = {"Phòng", "Ban", "Cục", "Vụ", "Trung tâm", "Chi nhánh", "Tổ", "Văn phòng"};
const std::vector<std::string> kUnitWords = {
    "Kế hoạch",  "Tổng hợp",  "Tài chính", "Kế toán",  "Nhân sự",  "Pháp chế", "Thanh tra", "Kiểm toán",
    "Đầu tư",    "Xây dựng",  "Công nghệ", "Thông tin", "Dữ liệu", "An ninh",  "Đối ngoại", "Hợp tác",
    "Quản lý",   "Rủi ro",    "Tín dụng",  "Thẩm định", "Nguồn vốn", "Hạ tầng", "Vận hành", "Khách hàng"};
const std::vector<std::string> kCodeKinds = {"Chiến dịch", "Kế hoạch", "Mật danh", "Đề án", "Hợp đồng"};

// Lower case ASCII without marks: the folded view's form of a generated term (the bench also
// checks it against the real Normalizer below, so a mismatch stops the run).
std::string ascii_code(const std::string& s) {
  std::string out;
  for (char c : s)
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out.push_back(c);
  return out;
}

struct Term {
  std::string written;  // as people write it, with diacritics
  std::string code;     // a short code the name also goes by (style 3 only)
};

class TermGenerator {
 public:
  explicit TermGenerator(uint64_t seed) : rng_(seed) {}

  Term next() {
    for (;;) {
      Term t = candidate();
      if (seen_.insert(t.written).second) return t;
    }
  }

 private:
  const std::string& pick(const std::vector<std::string>& v) { return v[rng_() % v.size()]; }
  std::string syllables(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + pick(kSyllables);
    return s;
  }

  Term candidate() {
    Term t;
    switch (rng_() % 4) {
      case 0:  // a project
        t.written = "Dự án " + syllables(2 + static_cast<int>(rng_() % 2));
        if (rng_() % 3 == 0) t.written += " " + std::to_string(2020 + rng_() % 8);
        break;
      case 1:  // a unit
        t.written = pick(kUnitKinds) + " " + pick(kUnitWords) + " " + pick(kUnitWords);
        if (rng_() % 2) t.written += " " + pick(kSyllables);
        break;
      case 2:  // a person
        t.written = pick(kFamilies) + " " + pick(kMiddles) + " " + syllables(1 + static_cast<int>(rng_() % 2));
        break;
      default:  // a code name
        t.written = pick(kCodeKinds) + " " + syllables(1 + static_cast<int>(rng_() % 2)) + " " +
                    std::to_string(1 + rng_() % 99);
        break;
    }
    return t;
  }

  std::mt19937_64 rng_;
  std::set<std::string> seen_;
};

// The term as a pattern: regex metacharacters escaped (terms hold '.', '-' and digits at most).
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c)) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

// One pack of `n` rules. Four styles, in the proportions an organisation list shows:
//   0 (40 %) raw, case-insensitive, diacritics as written:    (?i){b}Dự án Sao Mai{b}
//   1 (30 %) folded, so marks and case do not matter:          {b}du an sao mai{b}
//   2 (20 %) folded + compact, also spelt without spaces:      {b}du ?an ?sao ?mai{b}
//   3 (10 %) raw, the name and the code it goes by:            (?i){b}Dự án Sao Mai{b}, {b}DASM-17{b}
std::string generate_pack(size_t n, uint64_t seed, const pw::Normalizer& normalizer) {
  TermGenerator gen(seed);
  std::string y = "pack: org-terms\nversion: '1'\ndescription: Generated organisation term list.\nrules:\n";
  y.reserve(n * 420);
  for (size_t i = 0; i < n; ++i) {
    const Term t = gen.next();
    const pw::TextViews v = normalizer.normalize(t.written, pw::view_bit(pw::ViewKind::folded));
    const std::string folded = v.view(pw::ViewKind::folded)->text;
    const unsigned style = static_cast<unsigned>((i * 7) % 10);  // 0-3 raw, 4-6 folded, 7-8 compact, 9 code
    std::string views, patterns, match, ignore;
    if (style <= 3) {
      views = "[raw]";
      patterns = "['" + std::string("(?i){b}") + escaped(t.written) + "{b}']";
    } else if (style <= 6) {
      views = "[folded]";
      patterns = "['{b}" + escaped(folded) + "{b}']";
    } else if (style <= 8) {
      views = "[folded, compact]";
      std::string spaced;
      for (char c : escaped(folded)) spaced += c == ' ' ? std::string(" ?") : std::string(1, c);
      patterns = "['{b}" + spaced + "{b}']";
    } else {
      views = "[raw]";
      const std::string code = ascii_code(t.written) + "-" + std::to_string(10 + i % 90);
      patterns = "['(?i){b}" + escaped(t.written) + "{b}', '{b}" + escaped(code) + "{b}']";
    }
    match = yaml_quoted("Báo cáo tuần về " + t.written + ", gửi trước thứ Sáu.");
    ignore = yaml_quoted("Báo cáo tuần về " + t.written + "xyz, gửi trước thứ Sáu.");
    char id[32];
    std::snprintf(id, sizeof id, "org.term.t%06zu", i);
    y += "  - id: ";
    y += id;
    y += "\n    description: Tên nội bộ\n    category: custom_term\n    severity: high\n    action: block\n";
    y += "    views: " + views + "\n    patterns: " + patterns + "\n";
    y += "    message: {vi: 'Tên nội bộ không được gửi ra ngoài.', en: 'An internal name.'}\n";
    y += "    examples:\n      match: [" + match + "]\n      ignore: [" + ignore + "]\n";
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Measuring, one child per phase.

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of this process: on a shared machine the steadier figure (wall includes waiting).
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

long max_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

enum class Phase { compile, load, examples };

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::compile: return "compile";
    case Phase::load: return "load";
    case Phase::examples: return "examples";
  }
  return "?";
}

// Runs in the child: the generated YAML is rebuilt here, so the parent's memory never counts.
nlohmann::json measure(Phase phase, size_t n, const Options& opt, const std::string& cache_dir) {
  auto normalizer = std::make_shared<const pw::Normalizer>();
  std::string yaml = generate_pack(n, opt.seed, *normalizer);
  nlohmann::json out{{"rules", n}, {"phase", phase_name(phase)}, {"yaml_bytes", yaml.size()},
                     {"rss_before_kb", max_rss_kb()}};
  auto t0 = Clock::now();
  pw::LoadedPack loaded = pw::PackLoader::load_text("terms.yaml", std::move(yaml));
  out["parse_s"] = seconds_since(t0);
  if (!loaded.pack || pw::has_errors(loaded.diagnostics)) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", pw::to_string(d).c_str());
    throw std::runtime_error("the generated pack does not load");
  }
  std::vector<pw::RulePack> packs{std::move(*loaded.pack)};
  t0 = Clock::now();
  const double c0 = cpu_seconds();
  pw::CompileResult r = pw::RuleSetCompiler(normalizer).compile(std::move(packs), pw::CompileOptions{cache_dir});
  out["compile_s"] = seconds_since(t0);
  out["compile_cpu_s"] = cpu_seconds() - c0;
  if (!r.ruleset) {
    for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", pw::to_string(d).c_str());
    throw std::runtime_error("the generated pack does not compile");
  }
  out["from_cache"] = r.ruleset->loaded_from_cache();
  out["database_bytes"] = r.ruleset->database_bytes();
  size_t patterns = 0;
  for (const auto& cr : r.ruleset->rules()) patterns += cr.patterns.size();
  out["patterns"] = patterns;
  if (phase == Phase::examples) {
    t0 = Clock::now();
    const double e0 = cpu_seconds();
    pw::ExampleReport report = pw::ExampleRunner::run(r.ruleset);
    out["examples_s"] = seconds_since(t0);
    out["examples_cpu_s"] = cpu_seconds() - e0;
    out["examples_run"] = report.examples_run;
    out["examples_failed"] = report.failures.size();
    for (size_t i = 0; i < report.failures.size() && i < 5; ++i)
      std::fprintf(stderr, "%s\n", pw::to_string(report.failures[i]).c_str());
  }
  out["max_rss_kb"] = max_rss_kb();
  return out;
}

// Forks, runs `measure` under the address-space limit, and reads its one JSON line back.
nlohmann::json in_child(Phase phase, size_t n, const Options& opt, const std::string& cache_dir) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = static_cast<rlim_t>(opt.max_gb * 1024 * 1024 * 1024);
    setrlimit(RLIMIT_AS, &lim);
    int status = 0;
    std::string line;
    try {
      line = measure(phase, n, opt, cache_dir).dump() + "\n";
    } catch (const std::bad_alloc&) {
      line = nlohmann::json{{"error", "out of memory (--max-gb)"}}.dump() + "\n";
      status = 3;
    } catch (const std::exception& e) {
      line = nlohmann::json{{"error", e.what()}}.dump() + "\n";
      status = 1;
    }
    if (write(fds[1], line.data(), line.size()) < 0) status = 4;
    _exit(status);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t k; (k = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(k));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (text.empty())
    return nlohmann::json{{"error", WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                        : "exited " + std::to_string(WEXITSTATUS(status))}};
  return nlohmann::json::parse(text);
}

std::string cell(const nlohmann::json& j, const char* key, const char* format, double scale = 1) {
  if (!j.contains(key)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, format, j[key].get<double>() * scale);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_options(argc, argv);
  if (!opt.write_pack.empty()) {
    const pw::Normalizer normalizer;
    std::filesystem::create_directories(opt.write_pack);
    for (size_t n : opt.sizes) {
      const std::string path = opt.write_pack + "/terms-" + std::to_string(n) + ".yaml";
      std::ofstream(path, std::ios::binary) << generate_pack(n, opt.seed, normalizer);
      std::printf("%s\n", path.c_str());
    }
    return 0;
  }

  std::printf("ruleset_scale_bench: generated term packs (seed %llu), each phase in its own process, "
              "address space limited to %.1f GB\n\n",
              static_cast<unsigned long long>(opt.seed), opt.max_gb);
  std::printf("%8s %9s %8s %17s %10s %15s %8s %11s %15s %10s\n", "rules", "patterns", "parse s",
              "compile s (cpu)", "compile MB", "load s (cpu)", "load MB", "database MB", "examples s (cpu)",
              "example MB");
  nlohmann::json all = nlohmann::json::array();
  for (size_t n : opt.sizes) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "promptwall-scale-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    const std::string cache_dir = tmpl;
    nlohmann::json row{{"rules", n}};
    row["compile"] = in_child(Phase::compile, n, opt, cache_dir);
    const bool compiled = !row["compile"].contains("error");
    if (compiled) {
      row["load"] = in_child(Phase::load, n, opt, cache_dir);
      if (row["load"].contains("from_cache") && !row["load"]["from_cache"].get<bool>())
        row["load"]["error"] = "CACHE MISS: the second compile did not load from the cache";
      if (opt.examples) row["examples"] = in_child(Phase::examples, n, opt, cache_dir);
    }
    std::error_code ec;
    std::filesystem::remove_all(cache_dir, ec);

    const nlohmann::json empty = nlohmann::json::object();
    const auto& c = row["compile"];
    const auto& l = row.contains("load") ? row["load"] : empty;
    const auto& e = row.contains("examples") ? row["examples"] : empty;
    auto pair = [&](const nlohmann::json& j, const char* wall, const char* cpu, const char* format) {
      return cell(j, wall, format) + " (" + cell(j, cpu, format) + ")";
    };
    std::printf("%8zu %9s %8s %17s %10s %15s %8s %11s %15s %10s\n", n, cell(c, "patterns", "%.0f").c_str(),
                cell(c, "parse_s", "%.2f").c_str(), pair(c, "compile_s", "compile_cpu_s", "%.2f").c_str(),
                cell(c, "max_rss_kb", "%.0f", 1.0 / 1024).c_str(), pair(l, "compile_s", "compile_cpu_s", "%.3f").c_str(),
                cell(l, "max_rss_kb", "%.0f", 1.0 / 1024).c_str(),
                cell(c, "database_bytes", "%.1f", 1.0 / (1024 * 1024)).c_str(),
                pair(e, "examples_s", "examples_cpu_s", "%.2f").c_str(), cell(e, "max_rss_kb", "%.0f", 1.0 / 1024).c_str());
    for (const char* phase : {"compile", "load", "examples"})
      if (row.contains(phase) && row[phase].contains("error"))
        std::printf("         %s: %s\n", phase, row[phase]["error"].get<std::string>().c_str());
    if (e.contains("examples_failed") && e["examples_failed"].get<size_t>() > 0)
      std::printf("         examples: %zu of %zu failed\n", e["examples_failed"].get<size_t>(),
                  e["examples_run"].get<size_t>());
    std::fflush(stdout);
    all.push_back(row);
  }
  std::printf("\nparse s: PackLoader on the YAML; compile s: RuleSetCompiler::compile into an empty cache; load s: "
              "the same\ncompile from that cache; examples s: every rule's examples on the cached set; (cpu): the "
              "process's CPU\nseconds for the same step; MB: the peak RSS of the phase's process, YAML and parse "
              "included\n");
  std::printf("BENCH %s\n", nlohmann::json{{"bench", "ruleset_scale"}, {"seed", opt.seed}, {"sizes", all}}.dump().c_str());
  return 0;
}
