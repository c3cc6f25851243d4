// scanner_bench: single-thread throughput of the detection pipeline on the built-in rule packs,
// against the engines it is built from. See bench/README.md for what each figure means.
//
//   scanner_bench [--mb N] [--re2-mb N] [--set-mb N] [--reps N] [--warmup-mb N] [--item-kb N]
//                 [--seed N] [--corpus DIR] [--per-pattern] [--profile STAGE] [--re2-set-mem MB]
//   (--help describes each option)
//
// Corpus: prompt-sized documents (1-8 KB) interleaving runs of lines from the Vietnamese and
// English corpora, with synthetic sensitive items injected at a fixed average rate and a fixed
// seed, so two runs see byte-identical input. Each document is scanned on its own, as the gateway
// scans one segment at a time.
#include <hs/hs.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <malloc.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/normalizer.h"
#include "classifiers/scanner.h"
#include "classifiers/structure_map.h"
#include "rules/pack_loader.h"
#include "rules/pattern_dialect.h"
#include "rules/ruleset.h"

namespace pw = promptwall;
using Clock = std::chrono::steady_clock;

namespace {

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  double mb = 64;          // corpus size
  double re2_mb = 4;       // slice for RE2 rule by rule
  double set_mb = 8;       // slice for RE2::Set
  double warmup_mb = 0;    // 0: warm up over the whole corpus
  double item_kb = 4;      // one injected item per this many KB on average
  int reps = 3;
  uint64_t seed = 20261126;
  std::string corpus_dir = "/work/shared/corpus";
  bool per_pattern = false;  // also time each raw-view pattern alone
  std::string profile;       // run only this stage, for perf / callgrind
  bool keep_corpus_emails = false;  // measure the corpus's own e-mail addresses too
  int64_t re2_set_mem_mb = 8;  // first RE2::Set memory budget tried (RE2's default)
};

[[noreturn]] void usage(const char* argv0, int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: %s [--mb N] [--re2-mb N] [--set-mb N] [--reps N] [--warmup-mb N] [--item-kb N] [--seed N] "
               "[--corpus DIR] [--per-pattern] [--profile STAGE] [--re2-set-mem MB]\n"
               "  --mb N         corpus size in MB (default 64)\n"
               "  --re2-mb N     slice scanned by the slow RE2 rule-by-rule baseline (default 4)\n"
               "  --set-mb N     slice scanned by the RE2::Set baseline (default 8)\n"
               "  --reps N       repetitions per throughput figure, best reported (default 3)\n"
               "  --warmup-mb N  warm-up slice (default 0 = the whole corpus; the full-pipeline\n"
               "                 warm-up is also the pass that checks findings against injected items)\n"
               "  --item-kb N    one injected sensitive item per N KB on average (default 4)\n"
               "  --seed N       RNG seed (default 20261126)\n"
               "  --corpus DIR   directory holding vi-ui.txt.gz and en-docs.txt.gz\n"
               "  --keep-corpus-emails  keep the real e-mail addresses of en-docs (by default their '@'\n"
               "                 is broken so the hit rate is the injected one)\n"
               "  --re2-set-mem MB  first RE2::Set max_mem tried (default 8 = RE2's default; raised 8x\n"
               "                 at a time until the set compiles)\n"
               "  --per-pattern  also time every raw-view pattern alone (Hyperscan compile + scan,\n"
               "                 RE2 confirmer) on the --re2-mb slice\n"
               "  --profile STAGE  run only STAGE (pipeline, normalizer, structure, hyperscan, re2set, re2rules)\n"
               "                 --reps times over the corpus, for perf or callgrind; the RuleSet comes\n"
               "                 from the default database cache so the compile stays out of the profile\n",
               argv0);
  std::exit(rc);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0], 2);
      return argv[++i];
    };
    try {
      if (a == "--mb") o.mb = std::stod(value());
      else if (a == "--re2-mb") o.re2_mb = std::stod(value());
      else if (a == "--set-mb") o.set_mb = std::stod(value());
      else if (a == "--warmup-mb") o.warmup_mb = std::stod(value());
      else if (a == "--item-kb") o.item_kb = std::stod(value());
      else if (a == "--reps") o.reps = std::stoi(value());
      else if (a == "--seed") o.seed = std::stoull(value());
      else if (a == "--corpus") o.corpus_dir = value();
      else if (a == "--per-pattern") o.per_pattern = true;
      else if (a == "--profile") o.profile = value();
      else if (a == "--keep-corpus-emails") o.keep_corpus_emails = true;
      else if (a == "--re2-set-mem") o.re2_set_mem_mb = std::stoll(value());
      else if (a == "-h" || a == "--help") usage(argv[0], 0);
      else usage(argv[0], 2);
    } catch (const std::logic_error&) {
      usage(argv[0], 2);
    }
  }
  if (o.mb <= 0 || o.re2_mb <= 0 || o.set_mb <= 0 || o.item_kb <= 0 || o.reps < 1 || o.warmup_mb < 0) usage(argv[0], 2);
  if (!o.profile.empty() && o.profile != "pipeline" && o.profile != "normalizer" && o.profile != "structure" && o.profile != "hyperscan" &&
      o.profile != "re2set" && o.profile != "re2rules")
    usage(argv[0], 2);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (std::mt19937_64 is fully specified; the helpers below avoid the
// implementation-defined std distributions so the corpus is identical on every standard library).

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t next() { return g_(); }
  uint64_t below(uint64_t n) { return n ? g_() % n : 0; }
  int range(int lo, int hi) { return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1))); }
  double unit() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  int poisson(double mean) {  // Knuth; means here are small (~1)
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = unit(); p > limit; p *= unit()) ++k;
    return k;
  }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
  std::string digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + below(10)));
    return s;
  }

 private:
  std::mt19937_64 g_;
};

// ---------------------------------------------------------------------------------------------
// Corpus

std::string read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string what = failed ? std::string(msg) : std::string();
  gzclose(f);
  if (failed) throw std::runtime_error("cannot read " + path + ": " + what);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) lines.emplace_back(text, pos, nl - pos);
    pos = nl + 1;
  }
  return lines;
}

enum Kind : int { kCccd, kPhone, kEmail, kIpv4, kMst, kCard, kAws, kStamp, kParty, kKinds };
constexpr const char* kKindNames[kKinds] = {"cccd", "phone", "email", "ipv4", "mst", "card", "aws_key", "stamp", "party_no"};
// Relative frequency of each kind among injected items.
constexpr int kKindWeights[kKinds] = {14, 20, 18, 10, 8, 6, 6, 10, 8};

struct Injected {
  Kind kind;
  pw::Span span;  // bytes of the item itself in its document
};

struct Document {
  std::string text;
  std::vector<Injected> items;
};

// Province codes of the CCCD (same table as classifiers/validators.cpp).
const std::vector<int> kProvinces = {1,  2,  4,  6,  8,  10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25,
                                     26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48,
                                     49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75,
                                     77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96};

std::string three(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%03d", v);
  return b;
}

std::string group(const std::string& d, const std::vector<int>& sizes, char sep) {
  std::string s;
  size_t p = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i) s.push_back(sep);
    s.append(d, p, static_cast<size_t>(sizes[i]));
    p += static_cast<size_t>(sizes[i]);
  }
  return s;
}

std::string make_cccd(Rng& r) {
  std::string d = three(r.pick(kProvinces)) + static_cast<char>('0' + r.below(4)) + r.digits(8);
  const double f = r.unit();
  if (f < 0.7) return d;
  return group(d, {3, 3, 3, 3}, f < 0.85 ? ' ' : '.');
}

std::string make_phone(Rng& r) {
  static const std::vector<std::string> mobile = {"90", "91", "93", "94", "96", "97", "98", "99", "32", "33", "34",
                                                  "35", "36", "37", "38", "39", "70", "76", "77", "78", "79", "81",
                                                  "82", "83", "84", "85", "86", "88", "89", "56", "58", "52", "59"};
  if (r.chance(0.1)) {  // Hà Nội / TP.HCM landline
    const std::string area = r.chance(0.5) ? "24" : "28";
    const std::string sub = r.digits(8);
    return r.chance(0.7) ? "0" + area + " " + sub.substr(0, 4) + " " + sub.substr(4) : "+84 " + area + " " + sub.substr(0, 4) + " " + sub.substr(4);
  }
  const std::string p = r.pick(mobile) + r.digits(7);  // 9 digits after the trunk 0
  switch (r.below(6)) {
    case 0: return "0" + p.substr(0, 3) + " " + p.substr(3, 3) + " " + p.substr(6);  // 0912 345 678
    case 1: return "0" + p;                                                          // 0912345678
    case 2: return "0" + p.substr(0, 3) + "." + p.substr(3, 3) + "." + p.substr(6);  // 0912.345.678
    case 3: return "+84 " + p.substr(0, 3) + " " + p.substr(3, 3) + " " + p.substr(6);
    case 4: return "+84" + p;
    default: return "84" + p;
  }
}

std::string make_email(Rng& r) {
  static const std::vector<std::string> family = {"nguyen", "tran", "le", "pham", "hoang", "vu", "dang", "bui", "do", "ho", "ngo"};
  static const std::vector<std::string> given = {"an", "binh", "cuong", "dung", "hanh", "hoa", "hung", "lan", "minh", "nam", "phuong", "tuyen", "thu", "trang"};
  static const std::vector<std::string> domains = {"gmail.com", "yahoo.com.vn", "hanoi.gov.vn", "ninhbinh.gov.vn", "tphcm.gov.vn",
                                                   "moet.edu.vn", "vnpt.vn", "fpt.com.vn", "viettel.com.vn", "outlook.com", "hust.edu.vn"};
  std::string local;
  switch (r.below(4)) {
    case 0: local = r.pick(given) + "." + r.pick(family); break;
    case 1: local = r.pick(given) + r.pick(family).substr(0, 1) + r.digits(2); break;
    case 2: local = r.pick(family) + "." + r.pick(given) + "." + r.pick(given); break;
    default: local = "vanthu." + r.pick(given); break;
  }
  return local + "@" + r.pick(domains);
}

std::string make_ipv4(Rng& r) {
  auto o = [&](int lo, int hi) { return std::to_string(r.range(lo, hi)); };
  switch (r.below(5)) {
    case 0: return "10." + o(0, 255) + "." + o(0, 255) + "." + o(1, 254);
    case 1: return "192.168." + o(0, 255) + "." + o(1, 254);
    case 2: return "172." + o(16, 31) + "." + o(0, 255) + "." + o(1, 254);
    case 3: return "113.160." + o(0, 255) + "." + o(1, 254);
    default: return "14.225." + o(0, 255) + "." + o(1, 254);
  }
}

// Check digit of a 10-digit MST, -1 when none exists (check would be 10).
int mst_check(const std::string& nine) {
  static const int w[9] = {31, 29, 23, 19, 17, 13, 7, 5, 3};
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (nine[static_cast<size_t>(i)] - '0') * w[i];
  const int check = 10 - sum % 11;
  return check <= 9 ? check : -1;
}

std::string make_mst(Rng& r) {
  // Prefixes of real tax-office ranges that are not shaped like a mobile number (those belong to
  // the keyword-only rule vn.pii.tax-code.phone-shaped).
  static const std::vector<std::string> prefix = {"0100", "0101", "0102", "0104", "0106", "0108", "0109", "0200", "0201",
                                                  "0300", "0301", "0302", "0303", "0304", "0305", "0309", "0310", "0311",
                                                  "0312", "0313", "0314", "0315", "0316", "0400", "0401", "0600", "2500",
                                                  "0800", "0801", "2800", "3600", "3700", "3702", "4100", "4200", "5800"};
  for (;;) {
    const std::string nine = r.pick(prefix) + r.digits(5);
    const int c = mst_check(nine);
    if (c < 0) continue;
    std::string s = nine + static_cast<char>('0' + c);
    if (r.chance(0.15)) s += "-00" + std::to_string(r.range(1, 9));
    return s;
  }
}

std::string make_card(Rng& r) {
  static const std::vector<std::string> iin = {"4", "51", "52", "53", "54", "55", "3528", "3566", "9704", "4111", "4024"};
  std::string d = r.pick(iin);
  while (d.size() < 15) d.push_back(static_cast<char>('0' + r.below(10)));
  // Luhn: choose the last digit so the total is a multiple of 10.
  int sum = 0;
  for (size_t i = 0; i < 15; ++i) {
    int v = d[14 - i] - '0';
    if (i % 2 == 0) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  d.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  const double f = r.unit();
  if (f < 0.5) return d;
  return group(d, {4, 4, 4, 4}, f < 0.8 ? ' ' : '-');
}

std::string make_aws(Rng& r) {
  static const char* b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  for (;;) {
    std::string s = "AKIA";
    for (int i = 0; i < 16; ++i) s.push_back(b32[r.below(32)]);
    if (s.find("XXXX") == std::string::npos && s.find("ABCDEFG") == std::string::npos && s.find("EXAMPLE") == std::string::npos)
      return s;
  }
}

std::string make_stamp(Rng& r) {
  static const std::vector<std::string> v = {"TỐI MẬT", "TỐI MẬT", "TỐI MẬT", "MẬT", "TUYỆT MẬT", "TỐI MẬT - HỎA TỐC", "**MẬT**"};
  return r.pick(v);
}

std::string make_party(Rng& r) {
  static const std::vector<std::string> type = {"QĐ", "NQ", "CT", "KH", "TB", "BC", "HD"};
  static const std::vector<std::string> body = {"TU", "HU", "ĐU", "BCSĐ", "BTGTU"};
  return std::to_string(r.range(1, 999)) + "-" + r.pick(type) + "/" + r.pick(body);
}

// Sentences carrying an item ("{}"): some name it (a context keyword), some do not.
const std::vector<std::string>& templates(Kind k) {
  static const std::vector<std::vector<std::string>> t = {
      {"Soạn giấy giới thiệu cho bà Nguyễn Thị Hạnh, số CCCD: {}, đến liên hệ công tác.",
       "Căn cước công dân {} cấp ngày 12/8/2021 tại Cục Cảnh sát QLHC về TTXH.",
       "Kiểm tra giúp danh sách: Lê Văn Tâm – {} – xã Quảng Phú, Thanh Hóa.",
       "Applicant: Tran Minh Duc, citizen ID {}, please draft a reference letter.", "{}"},
      {"Liên hệ đồng chí Hải, SĐT {}, để nhận tài liệu.", "Gửi Zalo số {} danh sách cán bộ trực.",
       "Please call me back on {} before noon.", "Hotline hỗ trợ {}, viết lại thông báo cho gọn.",
       "Người liên hệ: anh Tuấn ({})."},
      {"Gửi email cho {} đề nghị cung cấp số liệu.", "Contact: {}", "Liên hệ văn thư: {} (giờ hành chính).",
       "Please reply to {} and CC the secretariat.", "From: {}"},
      {"Máy chủ {} không truy cập được cổng 8443 từ sáng nay.", "ping {} bị timeout, hướng dẫn kiểm tra giúp.",
       "The VPN gateway {} drops connections after 10 minutes.", "Cấu hình tường lửa chặn truy cập từ {}.",
       "ssh admin@{} -p 22"},
      {"Soạn biên bản nghiệm thu với Công ty TNHH Cơ khí Hải An, MST {}.", "Mã số thuế: {}",
       "Please draft an invoice request to Hoa Binh Trading JSC, tax code {}.",
       "Bên B: Công ty CP Xây dựng Sông Hồng (MST {}), đại diện ông Trần Văn Nam."},
      {"Thanh toán bằng thẻ Visa {}, viết thư xác nhận đặt phòng.", "Card number {}, please write a dispute letter to the bank.",
       "Thẻ tín dụng số {} bị trừ tiền hai lần.", "{}"},
      {"aws_access_key_id = {}", "Access key của tài khoản sao lưu là {}, phân quyền S3 chỉ đọc thế nào?",
       "export AWS_ACCESS_KEY_ID={}", "My boto3 client uses {} and gets AccessDenied, why?"},
      {"{}"},  // a stamp is a line of its own
      {"Thực hiện Quyết định số {} ngày 05/3/2024 của Ban Thường vụ.", "Căn cứ văn bản {}, soạn kế hoạch triển khai.",
       "Số: {}"},
  };
  return t[static_cast<size_t>(k)];
}

std::string make_item(Kind k, Rng& r) {
  switch (k) {
    case kCccd: return make_cccd(r);
    case kPhone: return make_phone(r);
    case kEmail: return make_email(r);
    case kIpv4: return make_ipv4(r);
    case kMst: return make_mst(r);
    case kCard: return make_card(r);
    case kAws: return make_aws(r);
    case kStamp: return make_stamp(r);
    default: return make_party(r);
  }
}

Kind pick_kind(Rng& r) {
  int total = 0;
  for (int w : kKindWeights) total += w;
  int x = static_cast<int>(r.below(static_cast<uint64_t>(total)));
  for (int k = 0; k < kKinds; ++k) {
    if (x < kKindWeights[k]) return static_cast<Kind>(k);
    x -= kKindWeights[k];
  }
  return kParty;
}

struct Corpus {
  std::vector<Document> docs;
  size_t bytes = 0;
  size_t items = 0;
  std::array<size_t, kKinds> per_kind{};
};

// The corpus README promises no sensitive items, but en-docs (Debian changelogs) holds some
// 15,000 real maintainer e-mail addresses, nine times the injected rate. Breaking their '@'
// keeps the measured hit rate the stated one (--keep-corpus-emails measures them as they are).
std::string without_emails(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '@') out += " (at) ";
    else out.push_back(c);
  }
  return out;
}

Corpus build_corpus(const Options& o) {
  const std::vector<std::string> vi = split_lines(read_gz(o.corpus_dir + "/vi-ui.txt.gz"));
  const std::string en_text = read_gz(o.corpus_dir + "/en-docs.txt.gz");
  const std::vector<std::string> en = split_lines(o.keep_corpus_emails ? en_text : without_emails(en_text));
  if (vi.empty() || en.empty()) throw std::runtime_error("empty corpus in " + o.corpus_dir);
  Rng r(o.seed);
  Corpus c;
  const size_t want = static_cast<size_t>(o.mb * 1024 * 1024);
  constexpr size_t kMin = 1024, kMax = 8192;
  while (c.bytes < want) {
    const size_t target = kMin + r.below(kMax - kMin + 1);
    // Per document, how Vietnamese it is: some prompts are all one language, most are mixed.
    static const std::vector<double> kViShares = {0.1, 0.5, 0.5, 0.7, 0.9};
    const double vi_share = r.pick(kViShares);
    struct Line {
      std::string text;
      int item = -1;         // index into `kinds` when the line carries an item
      size_t item_at = 0;    // byte offset of the item in the line
      size_t item_len = 0;
    };
    std::vector<Line> lines;
    size_t size = 0;
    while (size < target) {
      const auto& src = r.chance(vi_share) ? vi : en;
      const size_t start = r.below(src.size());
      const int run = r.range(1, 6);
      bool full = false;
      for (int i = 0; i < run && size < target; ++i) {
        const std::string& l = src[(start + static_cast<size_t>(i)) % src.size()];
        if (size + l.size() + 1 > kMax) {
          full = size >= kMin;
          break;
        }
        lines.push_back(Line{l});
        size += l.size() + 1;
      }
      if (full) break;
    }
    // Items: Poisson with mean size / item_kb, each a line of its own at a random position.
    const int n_items = r.poisson(static_cast<double>(size) / (o.item_kb * 1024));
    std::vector<Kind> kinds;
    for (int i = 0; i < n_items; ++i) {
      const Kind k = pick_kind(r);
      const std::string item = make_item(k, r);
      const std::string& tpl = r.pick(templates(k));
      const size_t hole = tpl.find("{}");
      Line l{tpl.substr(0, hole) + item + tpl.substr(hole + 2), static_cast<int>(kinds.size()), hole, item.size()};
      kinds.push_back(k);
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(r.below(lines.size() + 1)), std::move(l));
    }
    Document d;
    d.text.reserve(size + 256);
    for (const auto& l : lines) {
      if (l.item >= 0) {
        const auto b = static_cast<uint32_t>(d.text.size() + l.item_at);
        d.items.push_back(Injected{kinds[static_cast<size_t>(l.item)], pw::Span{b, b + static_cast<uint32_t>(l.item_len)}});
      }
      d.text += l.text;
      d.text.push_back('\n');
    }
    c.bytes += d.text.size();
    c.items += d.items.size();
    for (const auto& it : d.items) ++c.per_kind[it.kind];
    c.docs.push_back(std::move(d));
  }
  return c;
}

// The documents whose bytes add up to at most `mb` (at least one).
size_t docs_in(const Corpus& c, double mb) {
  const size_t limit = static_cast<size_t>(mb * 1024 * 1024);
  size_t n = 0, bytes = 0;
  while (n < c.docs.size() && (n == 0 || bytes + c.docs[n].text.size() <= limit)) bytes += c.docs[n++].text.size();
  return n;
}

size_t bytes_of(const Corpus& c, size_t n) {
  size_t b = 0;
  for (size_t i = 0; i < n; ++i) b += c.docs[i].text.size();
  return b;
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Wall time (steady_clock, the figure reported) and this thread's CPU time (what the wall time
// would be on an idle core: the machine is shared, so the two differ when others run).
struct Times {
  double wall = 0, cpu = 0;
};

class Stopwatch {
 public:
  Stopwatch() : wall_(Clock::now()), cpu_(thread_cpu_seconds()) {}
  Times elapsed() const {
    return {std::chrono::duration<double>(Clock::now() - wall_).count(), thread_cpu_seconds() - cpu_};
  }

 private:
  Clock::time_point wall_;
  double cpu_;
};

double mbps(size_t bytes, double seconds) { return seconds > 0 ? static_cast<double>(bytes) / (1024.0 * 1024.0) / seconds : 0; }

// Runs `pass` `reps` times; returns the best wall and the best CPU time (each its own minimum).
// A pass that must leave work out of the measurement adds its own intervals to `own` and returns
// true; otherwise the whole call is measured.
Times best_of(int reps, const std::function<bool(Times& own)>& pass) {
  Times best{1e300, 1e300};
  for (int i = 0; i < reps; ++i) {
    Times own;
    const Stopwatch sw;
    const bool self_timed = pass(own);
    const Times t = self_timed ? own : sw.elapsed();
    best.wall = std::min(best.wall, t.wall);
    best.cpu = std::min(best.cpu, t.cpu);
  }
  return best;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

int count_hit(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  ++*static_cast<uint64_t*>(ctx);
  return 0;
}

struct HsScratch {
  hs_scratch_t* s = nullptr;
  explicit HsScratch(const hs_scratch_t* proto) {
    if (hs_clone_scratch(proto, &s) != HS_SUCCESS) throw std::runtime_error("hs_clone_scratch failed");
  }
  explicit HsScratch(const hs_database_t* db) {
    if (hs_alloc_scratch(db, &s) != HS_SUCCESS) throw std::runtime_error("hs_alloc_scratch failed");
  }
  ~HsScratch() { hs_free_scratch(s); }
  HsScratch(const HsScratch&) = delete;
  HsScratch& operator=(const HsScratch&) = delete;
};

uint64_t hs_count(const hs_database_t* db, std::string_view text, hs_scratch_t* scratch) {
  uint64_t n = 0;
  if (!db) return 0;  // a view whose patterns are all literals has no regex database, or none
  if (hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch, count_hit, &n) != HS_SUCCESS)
    throw std::runtime_error("hs_scan failed");
  return n;
}

// A view's two databases (rules/ruleset.h): the regex prefilters and the plain-text literals.
uint64_t hs_count(const pw::RuleSet::ViewDatabase& db, std::string_view text, hs_scratch_t* scratch) {
  return hs_count(db.db, text, scratch) + hs_count(db.literals, text, scratch);
}

// RE2 "find all": leftmost matches, advancing past each (one submatch: the whole match).
uint64_t re2_find_all(const re2::RE2& re, const std::string& text) {
  uint64_t n = 0;
  re2::StringPiece m;
  const re2::StringPiece subject(text.data(), text.size());
  size_t pos = 0;
  while (pos < text.size() && re.Match(subject, pos, text.size(), re2::RE2::UNANCHORED, &m, 1)) {
    ++n;
    const size_t end = static_cast<size_t>(m.data() - text.data()) + m.size();
    pos = end > pos ? end : pos + 1;
  }
  return n;
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::shared_ptr<const pw::RuleSet> compile_or_die(const pw::RuleSetCompiler& compiler, const pw::CompileOptions& opts) {
  std::vector<pw::Diagnostic> diags;
  std::vector<pw::RulePack> packs = pw::builtin_packs(diags);
  if (pw::has_errors(diags)) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", pw::to_string(d).c_str());
    throw std::runtime_error("built-in packs do not load");
  }
  pw::CompileResult r = compiler.compile(std::move(packs), opts);
  if (!r.ruleset) {
    for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", pw::to_string(d).c_str());
    throw std::runtime_error("built-in packs do not compile");
  }
  return r.ruleset;
}

// The raw view's patterns: rule id, the author's text and the compiled confirmer, in slot order
// (the regex database's expression ids).
struct RawPattern {
  std::string rule_id;
  std::string text;
  const re2::RE2* confirm;
};

std::vector<RawPattern> raw_patterns(const pw::RuleSet& rs) {
  std::vector<RawPattern> out;
  for (const auto& ref : rs.database(pw::ViewKind::raw)->refs) {
    const pw::CompiledRule& cr = rs.rules()[ref.rule];
    out.push_back({cr.rule.id, cr.rule.patterns[ref.pattern].text, cr.patterns[ref.pattern].confirm.get()});
  }
  return out;
}

re2::RE2::Options set_options(int64_t max_mem) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  o.set_max_mem(max_mem);
  return o;
}

// An RE2::Set of the RE2 form of every raw-view pattern. RE2's default memory budget (8 MB) may be
// too small for the set; the budget is raised step by step until it compiles.
struct Re2SetBuild {
  std::unique_ptr<re2::RE2::Set> set;
  int64_t max_mem = 0;
  size_t added = 0;
  std::vector<std::string> rejected;
  std::vector<int64_t> failed_budgets;
  double compile_s = 0;
};

Re2SetBuild build_re2_set(const std::vector<RawPattern>& raw, int64_t first_mb) {
  Re2SetBuild b;
  for (int64_t mem = first_mb << 20; mem <= (first_mb << 20) * 512; mem *= 8) {
    b.set = std::make_unique<re2::RE2::Set>(set_options(mem), re2::RE2::UNANCHORED);
    b.added = 0;
    b.rejected.clear();
    for (const auto& p : raw) {
      const pw::DialectResult t = pw::PatternDialect::translate(p.text);
      std::string err;
      if (!t.errors.empty() || b.set->Add(t.pattern.re2, &err) < 0) b.rejected.push_back(p.rule_id + ": " + err);
      else ++b.added;
    }
    const auto t0 = Clock::now();
    const bool ok = b.set->Compile();
    b.compile_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (ok) {
      b.max_mem = mem;
      return b;
    }
    b.failed_budgets.push_back(mem);
  }
  b.set.reset();
  return b;
}

// ---------------------------------------------------------------------------------------------
// --profile: one stage only, RuleSet from the cache, for perf record / callgrind.

int run_profile(const Options& opt) {
  auto normalizer = std::make_shared<const pw::Normalizer>();
  const auto rs = compile_or_die(pw::RuleSetCompiler(normalizer), pw::CompileOptions{pw::RuleSetCompiler::default_cache_dir()});
  const Corpus corpus = build_corpus(opt);
  const auto raw = raw_patterns(*rs);
  HsScratch scratch(rs->scratch_prototype());
  pw::Scanner scanner(rs);
  Re2SetBuild set;
  if (opt.profile == "re2set") {
    set = build_re2_set(raw, opt.re2_set_mem_mb);
    if (!set.set) throw std::runtime_error("RE2::Set does not compile");
  }
  uint64_t sink = 0;
  std::vector<int> which;
  pw::TextViews views;  // reused as a Scanner reuses its own
  const Stopwatch sw;
  for (int r = 0; r < opt.reps; ++r) {
    for (const auto& d : corpus.docs) {
      if (opt.profile == "pipeline") sink += scanner.scan(d.text).findings.size();
      else if (opt.profile == "normalizer") normalizer->normalize(d.text, rs->views(), views), sink += views.slots.size();
      else if (opt.profile == "structure") sink += pw::StructureReader(*normalizer).read(d.text).fields().size();
      else if (opt.profile == "hyperscan") sink += hs_count(*rs->database(pw::ViewKind::raw), d.text, scratch.s);
      else if (opt.profile == "re2set") sink += set.set->Match(d.text, &which) ? which.size() : 0;
      else
        for (const auto& p : raw) sink += re2_find_all(*p.confirm, d.text);
    }
  }
  const Times t = sw.elapsed();
  if (set.set) std::printf("RE2::Set max_mem %lld MB\n", static_cast<long long>(set.max_mem >> 20));
  std::printf("profile %s: %d x %.1f MB, %.1f MB/s wall, %.1f MB/s cpu (loaded_from_cache=%s, sink %llu)\n", opt.profile.c_str(),
              opt.reps, static_cast<double>(corpus.bytes) / 1048576.0, mbps(corpus.bytes * static_cast<size_t>(opt.reps), t.wall),
              mbps(corpus.bytes * static_cast<size_t>(opt.reps), t.cpu), rs->loaded_from_cache() ? "true" : "false",
              static_cast<unsigned long long>(sink));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// --per-pattern: every raw-view pattern alone, Hyperscan and RE2, on the slice.

constexpr unsigned kHyperscanFlags = HS_FLAG_UTF8 | HS_FLAG_MULTILINE;  // as rules/ruleset_compiler.cpp

nlohmann::json per_pattern(const pw::RuleSet& rs, const Corpus& corpus, size_t slice_n, size_t slice_b) {
  struct Row {
    std::string rule_id, text;
    double compile_ms = 0, hs_mbps = 0, re2_mbps = 0;
    uint64_t hs_hits = 0, re2_matches = 0;
    size_t db_bytes = 0;
    std::string error;
  };
  std::vector<Row> rows;
  for (const auto& p : raw_patterns(rs)) {
    Row row{p.rule_id, p.text};
    // What the view database holds for the pattern, as it holds it: its literals if it has them;
    // else from its {a} anchor on, if it has one; byte by byte if it reads ASCII only.
    const pw::TranslatedPattern translated = pw::PatternDialect::translate(p.text).pattern;
    const std::string& hs_form = translated.prefilter;
    const unsigned flags = translated.ascii_prefilter ? kHyperscanFlags & ~HS_FLAG_UTF8 : kHyperscanFlags;
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const Stopwatch sw;
    std::vector<const char*> lits;
    std::vector<size_t> lengths;
    std::vector<unsigned> lit_flags, ids;
    for (const auto& l : translated.literals) {
      lits.push_back(l.data());
      lengths.push_back(l.size());
      lit_flags.push_back(translated.literals_caseless ? HS_FLAG_CASELESS : 0);
      ids.push_back(0);
    }
    const hs_error_t compiled =
        lits.empty() ? hs_compile(hs_form.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err)
                     : hs_compile_lit_multi(lits.data(), lit_flags.data(), ids.data(), lengths.data(),
                                            static_cast<unsigned>(lits.size()), HS_MODE_BLOCK, nullptr, &db, &err);
    if (compiled != HS_SUCCESS) {
      row.error = err->message;
      hs_free_compile_error(err);
    } else {
      row.compile_ms = sw.elapsed().cpu * 1e3;
      hs_database_size(db, &row.db_bytes);
      HsScratch scratch(db);
      const Times t = best_of(2, [&](Times&) {
        row.hs_hits = 0;
        for (size_t i = 0; i < slice_n; ++i) row.hs_hits += hs_count(db, corpus.docs[i].text, scratch.s);
        return false;
      });
      row.hs_mbps = mbps(slice_b, t.cpu);
      hs_free_database(db);
    }
    const Times t = best_of(2, [&](Times&) {
      row.re2_matches = 0;
      for (size_t i = 0; i < slice_n; ++i) row.re2_matches += re2_find_all(*p.confirm, corpus.docs[i].text);
      return false;
    });
    row.re2_mbps = mbps(slice_b, t.cpu);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.hs_mbps < b.hs_mbps; });
  std::printf("\nEach raw-view pattern alone, on the first %.1f MB (CPU time, best of 2), slowest Hyperscan first\n",
              static_cast<double>(slice_b) / 1048576.0);
  std::printf("  %9s %9s %9s %9s %9s %9s  %-32s %s\n", "HS MB/s", "HS cb", "compile", "db KB", "RE2 MB/s", "RE2 hits", "rule",
              "pattern");
  nlohmann::json j = nlohmann::json::array();
  for (const auto& r : rows) {
    std::string shown = r.text.size() > 70 ? r.text.substr(0, 67) + "..." : r.text;
    std::printf("  %9.1f %9llu %7.0fms %9.1f %9.1f %9llu  %-32s %s%s\n", r.hs_mbps, static_cast<unsigned long long>(r.hs_hits),
                r.compile_ms, static_cast<double>(r.db_bytes) / 1024.0, r.re2_mbps, static_cast<unsigned long long>(r.re2_matches),
                r.rule_id.c_str(), shown.c_str(), r.error.empty() ? "" : ("  ERROR " + r.error).c_str());
    j.push_back({{"rule", r.rule_id}, {"pattern", r.text}, {"hs_mbps", r.hs_mbps}, {"hs_callbacks", r.hs_hits},
                 {"hs_compile_ms", r.compile_ms}, {"hs_db_bytes", r.db_bytes}, {"re2_mbps", r.re2_mbps},
                 {"re2_matches", r.re2_matches}});
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse_args(argc, argv);
  if (!opt.profile.empty()) return run_profile(opt);
  nlohmann::json J;
  J["config"] = {{"mb", opt.mb}, {"re2_mb", opt.re2_mb}, {"set_mb", opt.set_mb}, {"reps", opt.reps}, {"item_kb", opt.item_kb},
                 {"seed", opt.seed}, {"warmup_mb", opt.warmup_mb}, {"threads", 1}};

  // ---- 7. RuleSet compile, cache and memory ------------------------------------------------
  auto normalizer = std::make_shared<const pw::Normalizer>();
  const pw::RuleSetCompiler compiler(normalizer);
  const long rss0 = rss_kb();
  Stopwatch sw;
  std::shared_ptr<const pw::RuleSet> rs = compile_or_die(compiler, pw::CompileOptions{});
  const Times compile_t = sw.elapsed();
  const long rss1 = rss_kb();
  // What stays once glibc returns its free heap: the compile's transient peak vs what the set keeps.
  malloc_trim(0);
  const long rss1_trim = rss_kb();

  const std::filesystem::path cache_dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "promptwall-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return std::filesystem::path(tmpl);
  }();
  sw = Stopwatch();
  auto cold = compile_or_die(compiler, pw::CompileOptions{cache_dir.string()});
  const Times cache_cold_t = sw.elapsed();
  sw = Stopwatch();
  auto warm = compile_or_die(compiler, pw::CompileOptions{cache_dir.string()});
  const Times cache_warm_t = sw.elapsed();
  const bool cold_from_cache = cold->loaded_from_cache(), warm_from_cache = warm->loaded_from_cache();
  cold.reset();
  warm.reset();
  std::error_code ec;
  std::filesystem::remove_all(cache_dir, ec);

  // What the set holds.
  size_t rule_count = rs->rules().size(), pattern_count = 0;
  for (const auto& r : rs->rules()) pattern_count += r.patterns.size();
  std::map<std::string, size_t> per_view, per_view_bytes;
  std::vector<std::pair<std::string, const hs_database_t*>> all_dbs;
  for (size_t v = 0; v < pw::kViewKinds; ++v) {
    const auto kind = static_cast<pw::ViewKind>(v);
    if (const auto* d = rs->database(kind)) {
      const std::string name(pw::to_string(kind));
      per_view[name] = d->refs.size();
      for (const hs_database_t* db : {d->db, d->literals}) {
        size_t bytes = 0;
        if (db && hs_database_size(db, &bytes) == HS_SUCCESS) per_view_bytes[name] += bytes;
        if (db) all_dbs.emplace_back(name, db);
      }
    }
  }
  const pw::RuleSet::ViewDatabase* raw_db = rs->database(pw::ViewKind::raw);
  if (!raw_db) throw std::runtime_error("the built-in packs have no raw-view rules");

  std::printf("promptwall scanner_bench — built-in packs, one thread\n\n");
  std::printf("RuleSet: %zu rules, %zu patterns; Hyperscan expressions (database KB) per view:", rule_count, pattern_count);
  for (const auto& [v, n] : per_view) std::printf(" %s=%zu (%.0f)", v.c_str(), n, static_cast<double>(per_view_bytes[v]) / 1024.0);
  std::printf("\n");
  std::printf("  %-34s %9.1f ms wall %9.1f ms cpu\n", "compile (cache off)", compile_t.wall * 1e3, compile_t.cpu * 1e3);
  std::printf("  %-34s %9.1f ms wall %9.1f ms cpu   loaded_from_cache=%s\n", "compile into an empty cache dir", cache_cold_t.wall * 1e3,
              cache_cold_t.cpu * 1e3, cold_from_cache ? "true" : "false");
  std::printf("  %-34s %9.1f ms wall %9.1f ms cpu   loaded_from_cache=%s%s\n", "same again: load from cache", cache_warm_t.wall * 1e3,
              cache_warm_t.cpu * 1e3, warm_from_cache ? "true" : "false", warm_from_cache ? "" : "   <-- CACHE MISS");
  std::printf("  %-34s %9.1f KB\n", "database_bytes()", static_cast<double>(rs->database_bytes()) / 1024.0);
  std::printf("  %-34s %9.1f MB   (VmRSS %ld -> %ld kB; %.1f MB after malloc_trim)\n\n", "RSS growth across the first compile",
              static_cast<double>(rss1 - rss0) / 1024.0, rss0, rss1, static_cast<double>(rss1_trim - rss0) / 1024.0);
  J["ruleset"] = {{"rules", rule_count}, {"patterns", pattern_count}, {"expressions_per_view", per_view},
                  {"database_bytes_per_view", per_view_bytes},
                  {"compile_ms", compile_t.wall * 1e3}, {"compile_cpu_ms", compile_t.cpu * 1e3},
                  {"cache_cold_compile_ms", cache_cold_t.wall * 1e3}, {"cache_load_ms", cache_warm_t.wall * 1e3},
                  {"cache_load_cpu_ms", cache_warm_t.cpu * 1e3},
                  {"cache_cold_loaded_from_cache", cold_from_cache}, {"cache_warm_loaded_from_cache", warm_from_cache},
                  {"database_bytes", rs->database_bytes()}, {"rss_before_kb", rss0}, {"rss_after_kb", rss1},
                  {"rss_growth_kb", rss1 - rss0},
                  {"rss_growth_after_trim_kb", rss1_trim - rss0}};

  // ---- 1. Corpus -----------------------------------------------------------------------------
  sw = Stopwatch();
  const Corpus corpus = build_corpus(opt);
  const double build_s = sw.elapsed().wall;
  const size_t N = corpus.docs.size(), B = corpus.bytes;
  const double MB = static_cast<double>(B) / (1024.0 * 1024.0);
  std::printf("Corpus: %.1f MB in %zu documents (avg %.0f B, 1-8 KB), VI/EN lines interleaved, seed %llu, built in %.1f s\n",
              MB, N, static_cast<double>(B) / static_cast<double>(N), static_cast<unsigned long long>(opt.seed), build_s);
  std::printf("  injected %zu items (1 per %.1f KB on average = %.2f per document):", corpus.items, opt.item_kb,
              static_cast<double>(corpus.items) / static_cast<double>(N));
  for (int k = 0; k < kKinds; ++k) std::printf(" %s=%zu", kKindNames[k], corpus.per_kind[static_cast<size_t>(k)]);
  std::printf("\n\n");
  nlohmann::json injected_kinds;
  for (int k = 0; k < kKinds; ++k) injected_kinds[kKindNames[k]] = corpus.per_kind[static_cast<size_t>(k)];
  J["corpus"] = {{"bytes", B}, {"documents", N}, {"injected_items", corpus.items}, {"injected_per_kind", injected_kinds}};

  // The full pipeline warms up on the whole corpus (unless --warmup-mb), as that pass also checks
  // the findings; the other stages warm up on a 4 MB slice (the corpus pages are hot by then).
  const size_t warm_n = opt.warmup_mb > 0 ? docs_in(corpus, opt.warmup_mb) : N;
  const size_t small_warm_n = docs_in(corpus, opt.warmup_mb > 0 ? opt.warmup_mb : 4);
  HsScratch scratch(rs->scratch_prototype());

  // ---- 2. Full pipeline ------------------------------------------------------------------------
  // The warm-up pass (whole corpus unless --warmup-mb) doubles as the correctness pass: which
  // injected items a finding covers, and which findings cover none (hits in the corpus text).
  pw::Scanner scanner(rs);
  std::array<size_t, kKinds> detected{};
  std::map<std::string, size_t> findings_per_rule, stray_per_rule;
  std::map<std::string, std::map<std::string, size_t>> rule_by_kind;
  size_t warm_findings = 0;
  for (size_t i = 0; i < warm_n; ++i) {
    const Document& d = corpus.docs[i];
    const pw::ScanResult res = scanner.scan(d.text);
    warm_findings += res.findings.size();
    std::vector<bool> seen(d.items.size(), false);
    for (const auto& f : res.findings) {
      ++findings_per_rule[f.rule_id];
      bool stray = true;
      for (size_t j = 0; j < d.items.size(); ++j) {
        const pw::Span s = d.items[j].span;
        if (f.span.begin < s.end && s.begin < f.span.end) {
          stray = false;
          ++rule_by_kind[kKindNames[d.items[j].kind]][f.rule_id];
          if (!seen[j]) {
            seen[j] = true;
            ++detected[d.items[j].kind];
          }
        }
      }
      if (stray) ++stray_per_rule[f.rule_id];
    }
  }
  size_t checked_items = 0;
  std::array<size_t, kKinds> checked_per_kind{};
  for (size_t i = 0; i < warm_n; ++i)
    for (const auto& it : corpus.docs[i].items) ++checked_items, ++checked_per_kind[it.kind];

  size_t findings = 0;
  const Times full_t = best_of(opt.reps, [&](Times&) {
    findings = 0;
    for (const auto& d : corpus.docs) findings += scanner.scan(d.text).findings.size();
    return false;
  });

  // ---- 8. Normaliser alone ------------------------------------------------------------------
  // With every view the rules need, and with fewer views to show what each costs.
  size_t view_bytes = 0, legacy_docs = 0;
  pw::TextViews v;  // reused as a Scanner reuses its own
  auto norm_pass = [&](pw::ViewMask mask, size_t n) {
    view_bytes = legacy_docs = 0;
    for (size_t i = 0; i < n; ++i) {
      normalizer->normalize(corpus.docs[i].text, mask, v);
      for (size_t k = 0; k < pw::kViewKinds; ++k)
        if (const auto* x = v.view(static_cast<pw::ViewKind>(k))) view_bytes += x->text.size();
      legacy_docs += v.view(pw::ViewKind::legacy) != nullptr;
    }
  };
  auto time_norm = [&](pw::ViewMask mask) {
    norm_pass(mask, small_warm_n);
    return best_of(opt.reps, [&](Times&) {
      norm_pass(mask, N);
      return false;
    });
  };
  const pw::ViewMask no_legacy = rs->views() & static_cast<pw::ViewMask>(~pw::view_bit(pw::ViewKind::legacy));
  const Times norm_raw_t = time_norm(pw::view_bit(pw::ViewKind::raw));
  const Times norm_nolegacy_t = time_norm(no_legacy);
  const Times norm_t = time_norm(rs->views());  // last: leaves view_bytes / legacy_docs for all views

  // ---- 8b. Structure pass alone -------------------------------------------------------------
  // StructureReader::read over every document: an upper bound of its share, since Scanner::scan
  // reads a segment's structure only once a candidate's rule has context words to look up.
  const pw::StructureReader structure_reader(*normalizer);
  size_t structured_docs = 0, structure_fields = 0;
  for (size_t i = 0; i < small_warm_n; ++i) (void)structure_reader.read(corpus.docs[i].text);
  const Times structure_t = best_of(opt.reps, [&](Times&) {
    structured_docs = structure_fields = 0;
    for (const auto& d : corpus.docs) {
      const pw::StructureMap m = structure_reader.read(d.text);
      structured_docs += !m.empty();
      structure_fields += m.fields().size();
    }
    return false;
  });

  // Each view's database over that view's real text (normalised outside the measurement): the
  // Hyperscan share of the pipeline.
  uint64_t view_hits = 0;
  const Times hs_views_t = best_of(opt.reps, [&](Times& own) {
    view_hits = 0;
    for (const auto& d : corpus.docs) {
      const pw::TextViews v = normalizer->normalize(d.text, rs->views());
      const Stopwatch t;
      for (size_t k = 0; k < pw::kViewKinds; ++k) {
        const auto kind = static_cast<pw::ViewKind>(k);
        const auto* db = rs->database(kind);
        const auto* view = v.view(kind);
        if (db && view && !view->text.empty()) view_hits += hs_count(*db, view->text, scratch.s);
      }
      const Times e = t.elapsed();
      own.wall += e.wall;
      own.cpu += e.cpu;
    }
    return true;
  });

  // ---- 3. Raw Hyperscan ------------------------------------------------------------------------
  uint64_t raw_hits = 0;
  for (size_t i = 0; i < small_warm_n; ++i) (void)hs_count(*raw_db, corpus.docs[i].text, scratch.s);
  const Times hs_raw_t = best_of(opt.reps, [&](Times&) {
    raw_hits = 0;
    for (const auto& d : corpus.docs) raw_hits += hs_count(*raw_db, d.text, scratch.s);
    return false;
  });
  uint64_t all_hits = 0;
  const Times hs_all_t = best_of(opt.reps, [&](Times&) {
    all_hits = 0;
    for (const auto& d : corpus.docs)
      for (const auto& [name, db] : all_dbs) all_hits += hs_count(db, d.text, scratch.s);
    return false;
  });

  // ---- 4. RE2::Set baseline ------------------------------------------------------------------
  const std::vector<RawPattern> raw = raw_patterns(*rs);
  const Re2SetBuild set_build = build_re2_set(raw, opt.re2_set_mem_mb);
  const bool set_ok = set_build.set != nullptr;
  const size_t set_added = set_build.added;
  const std::vector<std::string>& set_errors = set_build.rejected;
  const double set_compile_s = set_build.compile_s;
  const size_t set_n = docs_in(corpus, opt.set_mb), set_b = bytes_of(corpus, set_n);
  size_t set_docs_matched = 0, set_matches = 0, set_failures = 0;
  Times set_t{};
  if (set_ok) {
    std::vector<int> which;
    auto pass = [&](size_t n) {
      set_docs_matched = set_matches = set_failures = 0;
      for (size_t i = 0; i < n; ++i) {
        re2::RE2::Set::ErrorInfo info{};
        const auto& text = corpus.docs[i].text;
        if (set_build.set->Match(re2::StringPiece(text.data(), text.size()), &which, &info)) {
          ++set_docs_matched;
          set_matches += which.size();
        } else if (info.kind != re2::RE2::Set::kNoError) {
          ++set_failures;
        }
      }
    };
    pass(std::min(small_warm_n, set_n));
    set_t = best_of(opt.reps, [&](Times&) {
      pass(set_n);
      return false;
    });
  }

  // ---- 5. RE2 rule by rule on a slice --------------------------------------------------------
  const size_t slice_n = docs_in(corpus, opt.re2_mb);
  const size_t slice_b = bytes_of(corpus, slice_n);
  uint64_t rbr_matches = 0;
  auto rbr_pass = [&] {
    rbr_matches = 0;
    for (size_t i = 0; i < slice_n; ++i)
      for (const auto& p : raw) rbr_matches += re2_find_all(*p.confirm, corpus.docs[i].text);
  };
  rbr_pass();  // warm-up (the slice is small)
  const Times rbr_t = best_of(opt.reps, [&](Times&) {
    rbr_pass();
    return false;
  });

  // ---- Report --------------------------------------------------------------------------------
  struct Fig {
    double wall, cpu;
  };
  auto fig = [](size_t bytes, const Times& t) { return Fig{mbps(bytes, t.wall), mbps(bytes, t.cpu)}; };
  const Fig full = fig(B, full_t), norm = fig(B, norm_t), hs_views = fig(B, hs_views_t), hs_raw = fig(B, hs_raw_t),
            hs_all = fig(B, hs_all_t), set_f = set_ok ? fig(set_b, set_t) : Fig{0, 0}, rbr = fig(slice_b, rbr_t);
  // Shares of the pipeline from CPU time: wall time on a shared machine mixes in other processes.
  const double rest_cpu = std::max(0.0, full_t.cpu - norm_t.cpu - hs_views_t.cpu);
  auto share = [&](double cpu) { return 100.0 * cpu / full_t.cpu; };

  std::printf("Throughput, one thread, best of %d; MB = 2^20 bytes of original document text. 'wall' is\n"
              "steady_clock (the figure the ratios use); 'cpu' is the thread's CPU time (= wall on an idle core).\n",
              opt.reps);
  std::printf("  %-62s %9s %9s %9s\n", "stage", "MB/s wall", "MB/s cpu", "ms/MB cpu");
  auto row = [&](const std::string& name, Fig f, const std::string& note = "") {
    std::printf("  %-62s %9.1f %9.1f %9.2f%s\n", name.c_str(), f.wall, f.cpu, f.cpu > 0 ? 1e3 / f.cpu : 0.0, note.c_str());
  };
  std::string view_names;
  for (const auto& [name, n] : per_view) view_names += (view_names.empty() ? "" : "+") + name;
  row("2. full pipeline: Scanner::scan, one document at a time", full);
  row("8. normaliser alone (" + view_names + ")", norm, "  " + fmt("%.0f%%", share(norm_t.cpu)) + " of pipeline");
  row("   normaliser, raw view only (NFC check / copy)", fig(B, norm_raw_t));
  row("   normaliser, all views but legacy", fig(B, norm_nolegacy_t));
  std::printf("  %-62s %9s %9s %9.2f  %.0f%% of pipeline (by difference)\n", "   => legacy view (LegacyDecoder + fold of its output)", "", "",
              std::max(0.0, norm_t.cpu - norm_nolegacy_t.cpu) * 1e3 / MB, share(std::max(0.0, norm_t.cpu - norm_nolegacy_t.cpu)));
  row("8b. structure pass alone (StructureReader::read, every document)", fig(B, structure_t),
      "  " + fmt("%.1f%%", share(structure_t.cpu)) + " of pipeline (upper bound: scan reads it lazily); " +
          std::to_string(structured_docs) + "/" + std::to_string(corpus.docs.size()) + " docs hold a shape, " +
          std::to_string(structure_fields) + " fields");
  row("   Hyperscan: each view's db over its normalised view", hs_views, "  " + fmt("%.0f%%", share(hs_views_t.cpu)) + " of pipeline");
  std::printf("  %-62s %9s %9s %9.2f  %.0f%% of pipeline (by difference)\n", "   rest: RE2 confirm, validators, context, merge", "", "",
              rest_cpu * 1e3 / MB, share(rest_cpu));
  row("3. raw Hyperscan: 'raw' db over raw bytes, no-op callback", hs_raw);
  row("3b. all " + std::to_string(all_dbs.size()) + " view dbs, each over the same RAW bytes (sum of scans)", hs_all, "  not the real views");
  if (set_ok)
    row("4. RE2::Set, " + std::to_string(set_added) + " raw-view patterns, which-matched, first " +
            fmt("%.1f", static_cast<double>(set_b) / 1048576.0) + " MB",
        set_f);
  else std::printf("  4. RE2::Set: did not compile\n");
  row("5. RE2 rule by rule, " + std::to_string(raw.size()) + " confirmers, first " + fmt("%.1f", static_cast<double>(slice_b) / 1048576.0) + " MB only",
      rbr);
  std::printf("\nRatios (wall; cpu in brackets)\n");
  std::printf("  full pipeline / RE2 rule by rule   %8.2fx  (%.2fx)\n", full.wall / rbr.wall, full.cpu / rbr.cpu);
  if (set_ok) std::printf("  full pipeline / RE2::Set           %8.2fx  (%.2fx)\n", full.wall / set_f.wall, full.cpu / set_f.cpu);
  std::printf("  full pipeline / raw Hyperscan      %8.3fx  (%.3fx)\n", full.wall / hs_raw.wall, full.cpu / hs_raw.cpu);
  std::printf("  pipeline CPU per average document (%.0f B): %.0f us\n", static_cast<double>(B) / static_cast<double>(N),
              full_t.cpu * 1e6 / static_cast<double>(N));

  std::printf("\nMatches and findings\n");
  std::printf("  findings (merged, after confirm/validators/context): %zu = %.1f per MB; injected items: %zu = %.1f per MB\n", findings,
              static_cast<double>(findings) / MB, corpus.items, static_cast<double>(corpus.items) / MB);
  std::printf("  Hyperscan callbacks: raw db on raw bytes %llu (%.0f/MB); every db on its view %llu (%.0f/MB)\n",
              static_cast<unsigned long long>(raw_hits), static_cast<double>(raw_hits) / MB,
              static_cast<unsigned long long>(view_hits), static_cast<double>(view_hits) / MB);
  std::printf("  normalised view bytes per input byte: %.2f; legacy view produced for %zu of %zu documents\n",
              static_cast<double>(view_bytes) / static_cast<double>(B), legacy_docs, N);
  if (set_ok)
    std::printf("  RE2::Set: %zu of %zu documents match some pattern, %zu pattern hits, %zu DFA failures; compile %.1f ms\n",
                set_docs_matched, set_n, set_matches, set_failures, set_compile_s * 1e3);
  for (int64_t m : set_build.failed_budgets)
    std::printf("  RE2::Set did not compile with max_mem %lld MB%s\n", static_cast<long long>(m >> 20), set_ok ? "; raised it" : "");
  if (set_ok) std::printf("  RE2::Set compiled with max_mem %lld MB (RE2 default: 8 MB)\n", static_cast<long long>(set_build.max_mem >> 20));
  for (const auto& e : set_errors) std::printf("    RE2::Set rejected: %s\n", e.c_str());
  std::printf("  RE2 rule by rule: %llu matches on the slice (%zu documents)\n", static_cast<unsigned long long>(rbr_matches), slice_n);

  std::printf("\nInjected items covered by a finding (checked on the warm-up pass: %zu documents)\n", warm_n);
  std::printf("  %-9s %8s %8s %7s   rules whose findings covered them\n", "kind", "injected", "found", "recall");
  size_t found_total = 0;
  nlohmann::json recall_json;
  for (int k = 0; k < kKinds; ++k) {
    const size_t inj = checked_per_kind[static_cast<size_t>(k)], got = detected[static_cast<size_t>(k)];
    found_total += got;
    std::string rules;
    for (const auto& [id, n] : rule_by_kind[kKindNames[k]]) rules += (rules.empty() ? "" : ", ") + id + "=" + std::to_string(n);
    std::printf("  %-9s %8zu %8zu %6.1f%%   %s\n", kKindNames[k], inj, got,
                inj ? 100.0 * static_cast<double>(got) / static_cast<double>(inj) : 0.0, rules.empty() ? "-" : rules.c_str());
    recall_json[kKindNames[k]] = {{"injected", inj}, {"found", got}};
  }
  std::printf("  %-9s %8zu %8zu %6.1f%%\n", "all", checked_items, found_total,
              100.0 * static_cast<double>(found_total) / static_cast<double>(std::max<size_t>(1, checked_items)));
  size_t stray_total = 0;
  for (const auto& [id, n] : stray_per_rule) stray_total += n;
  std::printf("  findings covering no injected item (matches in the corpus text itself): %zu\n", stray_total);
  for (const auto& [id, n] : stray_per_rule) std::printf("    %-36s %zu\n", id.c_str(), n);

  auto fj = [](Fig f) { return nlohmann::json{{"wall", f.wall}, {"cpu", f.cpu}}; };
  J["throughput_mbps"] = {{"full_pipeline", fj(full)},
                          {"normalizer", fj(norm)},
                          {"normalizer_raw_only", fj(fig(B, norm_raw_t))},
                          {"normalizer_without_legacy", fj(fig(B, norm_nolegacy_t))},
                          {"hyperscan_views_on_normalized_text", fj(hs_views)},
                          {"hyperscan_raw_db", fj(hs_raw)},
                          {"hyperscan_all_dbs_on_raw_bytes", fj(hs_all)},
                          {"re2_set", set_ok ? fj(set_f) : nlohmann::json(nullptr)},
                          {"re2_rule_by_rule", fj(rbr)}};
  J["re2_rule_by_rule_slice_bytes"] = slice_b;
  J["re2_set_slice_bytes"] = set_b;
  J["legacy_view_documents"] = legacy_docs;
  J["ratios"] = {{"full_over_re2_rule_by_rule", full.wall / rbr.wall},
                 {"full_over_re2_set", set_ok ? nlohmann::json(full.wall / set_f.wall) : nlohmann::json(nullptr)},
                 {"full_over_hyperscan_raw", full.wall / hs_raw.wall}};
  J["pipeline_cpu_share"] = {{"normalizer", norm_t.cpu / full_t.cpu}, {"hyperscan", hs_views_t.cpu / full_t.cpu}, {"rest", rest_cpu / full_t.cpu}};
  J["findings"] = {{"count", findings},
                   {"per_mb", static_cast<double>(findings) / MB},
                   {"per_rule", findings_per_rule},
                   {"stray_per_rule", stray_per_rule},
                   {"checked_items", checked_items},
                   {"injected_found", found_total},
                   {"recall_per_kind", recall_json}};
  J["hyperscan_callbacks"] = {{"raw_db_raw_bytes", raw_hits}, {"all_dbs_views", view_hits}, {"all_dbs_raw_bytes", all_hits}};
  J["re2_set"] = {{"patterns", set_added}, {"max_mem_mb", set_build.max_mem >> 20}, {"rejected", set_errors.size()}, {"compile_ms", set_compile_s * 1e3},
                  {"docs_matched", set_docs_matched}, {"pattern_hits", set_matches}, {"dfa_failures", set_failures}};
  J["re2_rule_by_rule_matches"] = rbr_matches;
  if (opt.per_pattern) J["per_pattern"] = per_pattern(*rs, corpus, slice_n, slice_b);
  std::printf("\nBENCH %s\n", J.dump().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scanner_bench: %s\n", e.what());
  return 2;
}
