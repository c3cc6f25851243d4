// promptwall rules bundle | bundle-key | verify-bundle: signed rule bundles (rules/rule_bundle.h,
// docs/rule-bundles.md). A bundle is made only from packs that lint without errors, compile, and
// pass every example, exactly as a gateway will load them (RuleSetLoader over the same texts), so
// authors find a broken bundle here rather than on every gateway of the fleet.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audit/signing_key.h"
#include "cli/commands.h"
#include "classifiers/normalizer.h"
#include "rules/pack_loader.h"
#include "rules/rule_bundle.h"
#include "rules/rule_linter.h"
#include "rules/ruleset.h"
#include "rules/ruleset_loader.h"

namespace promptwall::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBundleUsage =
    "usage: promptwall rules bundle --key PRIVATE.pem --version V --out FILE [--scoped PACK.yaml ...] PACK|DIR|builtin ...\n"
    "       promptwall rules bundle-key --out DIR\n"
    "       promptwall rules verify-bundle --public-key PUBLIC.pem FILE\n"
    "  rules bundle         lint, compile and test the packs, then write one signed bundle (Ed25519) of them;\n"
    "                       --scoped marks a pack that counts only for the units or groups naming it\n"
    "  rules bundle-key     make an Ed25519 key pair: DIR/bundle-signing.pem (private, 0600) and .pub\n"
    "  rules verify-bundle  check a bundle's signature, contents and examples; print its version and packs\n"
    "  V: 1 to 64 of A-Z a-z 0-9 . _ - (e.g. 2026.12.07-1); gateways take only a newer version than theirs.\n";

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::optional<std::string> read_file(const fs::path& file, std::string& why) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = file.string() + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `bytes` to `file` through a temporary file and a rename: a reader (a gateway watching the
// directory) never sees half a bundle.
bool write_atomically(const fs::path& file, const std::string& bytes, std::string& why) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = tmp.string() + ": cannot create: " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == bytes.size() && ::fsync(fd) == 0;
  if (!ok) why = tmp.string() + ": cannot write: " + std::strerror(errno);
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), file.c_str()) != 0) {
    why = file.string() + ": cannot write: " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

// Lint (errors refuse; warnings are printed) and load as a gateway would. Prints diagnostics.
std::shared_ptr<const RuleSet> check_packs(const std::vector<PackText>& texts, const std::string& version,
                                           size_t& examples_run) {
  RuleSetLoader loader = RuleSetLoader::from_texts(texts, version, RuleSetCompiler::default_cache_dir());
  PackRead read = loader.read();
  std::vector<Diagnostic> diags = std::move(read.diagnostics);
  std::vector<Diagnostic> lint = RuleLinter(std::make_shared<const Normalizer>()).lint(read.packs);
  diags.insert(diags.end(), lint.begin(), lint.end());
  size_t errors = 0;
  for (const auto& d : diags) {
    if (d.level == Diagnostic::Level::error) {
      std::cerr << to_string(d) << "\n";
      ++errors;
    }
  }
  if (errors) return nullptr;
  RuleLoad load = loader.load();
  if (!load.ok()) {
    std::cerr << load.error_text() << "\n";
    return nullptr;
  }
  examples_run = load.examples_run;
  return load.ruleset;
}

int make(int argc, char** argv) {
  std::string key_file, version, out;
  std::vector<std::string> packs, scoped;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) return false;
      into = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--key" && value(v)) key_file = v;
    else if (arg == "--version" && value(v)) version = v;
    else if (arg == "--out" && value(v)) out = v;
    else if (arg == "--scoped" && value(v)) scoped.push_back(v);
    else if (arg.starts_with("--")) {
      std::cerr << "rules bundle: unknown option or missing value: " << arg << "\n" << kBundleUsage;
      return 2;
    } else packs.push_back(arg);
  }
  if (key_file.empty() || version.empty() || out.empty() || (packs.empty() && scoped.empty())) {
    std::cerr << "rules bundle: needs --key, --version, --out and at least one pack\n" << kBundleUsage;
    return 2;
  }
  if (!valid_bundle_version(version)) {
    std::cerr << "rules bundle: version '" << version << "': use 1 to 64 of A-Z a-z 0-9 . _ -\n";
    return 2;
  }
  // `builtin` bundles the embedded packs (as `rules lint builtin` reads them).
  const bool with_builtin = std::erase(packs, std::string(RuleSetLoader::kBuiltin)) > 0;
  std::vector<Diagnostic> expand;
  std::vector<std::string> files = packs.empty() ? std::vector<std::string>{} : PackLoader::expand_paths(packs, expand);
  std::vector<RulePack> builtin;
  if (with_builtin) builtin = builtin_packs(expand);
  for (const auto& d : expand) std::cerr << to_string(d) << "\n";
  if (has_errors(expand)) return 2;

  BundleContents contents{version, now_utc(), {}};
  std::vector<PackText> texts;
  std::set<std::string> names;
  auto add = [&](const std::string& file, bool is_scoped, std::optional<std::string> text = std::nullopt) {
    std::string why;
    if (!text) text = read_file(file, why);
    if (!text) {
      std::cerr << "rules bundle: " << why << "\n";
      return false;
    }
    std::string name = fs::path(file).stem().string();
    if (name.starts_with("builtin:")) name.erase(0, 8);  // an embedded pack: "builtin:NAME.yaml"
    const std::string path = "packs/" + name + ".yaml";
    if (!valid_bundle_pack_path(path)) {
      std::cerr << "rules bundle: " << file << ": a pack's file name must be NAME.yaml with NAME of A-Z a-z 0-9 . _ -\n";
      return false;
    }
    if (!names.insert(name).second) {
      std::cerr << "rules bundle: two packs named " << name << ".yaml; a bundle holds one of each name\n";
      return false;
    }
    texts.push_back({file, *text, is_scoped});  // diagnostics name the author's file
    contents.packs.push_back({path, std::move(*text), is_scoped});
    return true;
  };
  for (const auto& pack : builtin)
    if (!add(pack.file, false, pack.content)) return 2;
  for (const auto& f : files)
    if (!add(f, false)) return 2;
  for (const auto& f : scoped)
    if (!add(f, true)) return 2;

  size_t examples = 0;
  auto rules = check_packs(texts, version, examples);
  if (!rules) {
    std::cerr << "rules bundle: refused: the packs must lint, compile and pass every example (nothing written)\n";
    return 1;
  }
  try {
    const audit::SigningKey key = audit::SigningKey::load(key_file);
    const std::string bytes = make_bundle(contents, key);
    std::string why;
    if (!write_atomically(out, bytes, why)) {
      std::cerr << "rules bundle: " << why << "\n";
      return 2;
    }
    std::cout << "bundle " << version << ": " << contents.packs.size() << " pack(s), " << rules->rules().size()
              << " rule(s), " << examples << " example(s) passed; signed by key " << key.key_id() << "; " << out
              << " (" << bytes.size() << " bytes)\n";
  } catch (const std::exception& e) {
    std::cerr << "rules bundle: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

int make_key(int argc, char** argv) {
  std::string dir;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--out" && i + 1 < argc) dir = argv[++i];
    else {
      std::cerr << "rules bundle-key: unexpected argument: " << arg << "\n" << kBundleUsage;
      return 2;
    }
  }
  if (dir.empty()) {
    std::cerr << "rules bundle-key: needs --out DIR\n" << kBundleUsage;
    return 2;
  }
  const fs::path priv = fs::path(dir) / "bundle-signing.pem", pub = fs::path(dir) / "bundle-signing.pub";
  std::error_code ec;
  if (fs::exists(priv, ec) || fs::exists(pub, ec)) {
    std::cerr << "rules bundle-key: " << priv.string() << " or " << pub.string()
              << " already exists; a key is never overwritten (every gateway trusts it)\n";
    return 2;
  }
  try {
    const audit::SigningKey key = audit::SigningKey::load_or_create(priv);  // O_EXCL, 0600
    std::string why;
    if (!write_atomically(pub, key.public_pem(), why)) {
      std::cerr << "rules bundle-key: " << why << "\n";
      return 2;
    }
    std::cout << "bundle signing key " << key.key_id() << "\n  private: " << priv.string()
              << " (0600; keep it with the rule authors, off the gateways)\n  public:  " << pub.string()
              << " (rules.bundle.public_key on every gateway)\n";
  } catch (const std::exception& e) {
    std::cerr << "rules bundle-key: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

int verify(int argc, char** argv) {
  std::string key_file, file;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--public-key" && i + 1 < argc) key_file = argv[++i];
    else if (!arg.starts_with("--") && file.empty()) file = arg;
    else {
      std::cerr << "rules verify-bundle: unexpected argument: " << arg << "\n" << kBundleUsage;
      return 2;
    }
  }
  if (key_file.empty() || file.empty()) {
    std::cerr << "rules verify-bundle: needs --public-key PUBLIC.pem and a bundle FILE\n" << kBundleUsage;
    return 2;
  }
  try {
    const audit::VerifyingKey key = audit::VerifyingKey::load(key_file);
    const BundleLimits limits;
    std::error_code ec;
    if (const auto size = fs::file_size(file, ec); !ec && size > limits.max_bundle_bytes) {
      std::cout << file << ": refused: " << size << " bytes, over the bundle limit of " << limits.max_bundle_bytes << "\n";
      return 1;
    }
    std::string why;
    auto bytes = read_file(file, why);
    if (!bytes) {
      std::cerr << "rules verify-bundle: " << why << "\n";
      return 2;
    }
    BundleRead read = read_bundle(*bytes, key, limits);
    if (!read.ok()) {
      std::cout << file << ": refused: " << read.error << "\n";
      return 1;
    }
    const RuleBundle& b = *read.bundle;
    std::vector<PackText> texts;
    for (const auto& p : b.packs) texts.push_back({"bundle:" + b.version + "/" + p.path, p.content, p.scoped});
    size_t examples = 0;
    auto rules = check_packs(texts, b.version, examples);
    if (!rules) {
      std::cout << file << ": refused: signed and complete, but its packs do not load or an example fails\n";
      return 1;
    }
    std::cout << "bundle " << b.version << " (created " << b.created << ", signed by key " << b.signed_by << ")\n";
    for (const auto& p : b.packs) std::cout << "  " << p.path << (p.scoped ? "  (scoped)" : "") << "\n";
    std::cout << rules->rules().size() << " rule(s), " << examples << " example(s) passed; ruleset "
              << rules->version().substr(0, 12) << "; sha256 " << b.sha256 << "\n";
  } catch (const std::exception& e) {
    std::cerr << "rules verify-bundle: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

int rules_bundle_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (is_help(argv[i])) {
      std::cout << kBundleUsage;
      return 0;
    }
  const std::string sub = argv[1];
  if (sub == "bundle") return make(argc, argv);
  if (sub == "bundle-key") return make_key(argc, argv);
  return verify(argc, argv);
}

}  // namespace promptwall::cli
