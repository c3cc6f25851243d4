// promptwall audit verify: walks the trail's chain, checkpoints and signed head (TrailVerifier) and
// names the first problem. Exit 0 intact (a torn last record is only a warning: it is what a crash
// leaves and the next start repairs it), 1 not intact, 2 the check could not be made.
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "audit/signing_key.h"
#include "audit/trail_format.h"
#include "audit/trail_verifier.h"
#include "cli/commands.h"
#include "cli/trail_options.h"

namespace promptwall::cli {
namespace {

constexpr int kIntact = 0, kNotIntact = 1, kError = 2;

constexpr std::string_view kVerifyUsage =
    "usage: promptwall audit verify [DIR] [--dir DIR] [--config FILE] [--public-key FILE] [--json]\n"
    "  Walks the audit trail's hash chain, checkpoints and signed head and names the first edited,\n"
    "  deleted, inserted, reordered or truncated record or missing file.\n"
    "  DIR (or --dir): the trail; else audit.dir of --config FILE; else the state directory's audit/.\n"
    "  --public-key FILE  check signatures against this key (kept apart from the trail: stronger evidence)\n"
    "  --json             the result as one JSON object\n"
    "  Exit: 0 intact, 1 not intact, 2 error.\n";

nlohmann::json problem_json(const std::optional<audit::TrailProblem>& p) {
  if (!p) return nullptr;
  nlohmann::json j = {{"kind", p->kind}, {"message", p->message}};
  j["file"] = p->file.empty() ? nlohmann::json(nullptr) : nlohmann::json(p->file.filename().string());
  j["line"] = p->line ? nlohmann::json(p->line) : nlohmann::json(nullptr);
  j["seq"] = p->seq ? nlohmann::json(p->seq) : nlohmann::json(nullptr);
  return j;
}

void print_json(const std::filesystem::path& dir, const audit::TrailReport& r, const std::string& key_source) {
  nlohmann::json j = {{"dir", dir.string()},
                      {"intact", r.intact()},
                      {"files", r.files},
                      {"records", r.records},
                      {"last_seq", r.last_seq},
                      {"checkpoints_verified", r.checkpoints},
                      {"records_after_last_checkpoint", r.unsigned_tail},
                      {"key_id", r.key_id},
                      {"key_source", key_source},
                      {"seconds", r.seconds}};
  j["head"] = r.head_present ? nlohmann::json{{"seq", r.head_seq}, {"verified", r.head_verified}} : nlohmann::json(nullptr);
  j["problem"] = problem_json(r.problem);
  j["warning"] = problem_json(r.warning);
  std::cout << j.dump(2) << "\n";
}

void print_text(const std::filesystem::path& dir, const audit::TrailReport& r, const std::string& key_source, bool default_key) {
  std::cout << "trail " << dir.string() << "\n"
            << "  files " << r.files << ", records " << r.records << " (last seq " << r.last_seq << "), checkpoints verified "
            << r.checkpoints << "\n"
            << "  head: "
            << (!r.head_present ? std::string("none (no checkpoint written yet)")
                                : "seq " + std::to_string(r.head_seq) + (r.head_verified ? ", signature verified" : ", NOT verified"))
            << "\n"
            << "  key " << r.key_id << " from " << key_source << "\n";
  if (default_key)
    std::cout << "  note: this key was read from the trail directory itself; a copy of the public key kept elsewhere "
                 "(--public-key) is stronger evidence\n";
  if (r.unsigned_tail > 0 && r.intact())
    std::cout << "  note: the last " << r.unsigned_tail << " record(s) come after the last checkpoint and are not yet signed\n";
  if (r.warning) std::cout << "WARNING: " << r.warning->message << "\n";
  if (r.problem)
    std::cout << "NOT INTACT (" << r.problem->kind << "): " << r.problem->message << "\n";
  else
    std::cout << "intact\n";
}

}  // namespace

int audit_verify_command(int argc, char** argv) {
  TrailOptions trail;
  std::string public_key;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string error;
    if (trail.parse(argc, argv, i, error)) {
      if (!error.empty()) {
        std::cerr << "promptwall audit verify: " << error << "\n";
        return kError;
      }
    } else if (arg == "--public-key" && i + 1 < argc) {
      public_key = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (is_help(arg)) {
      std::cout << kVerifyUsage;
      return kIntact;
    } else if (!arg.empty() && arg[0] != '-' && trail.dir.empty()) {
      trail.dir = std::string(arg);
    } else {
      std::cerr << "promptwall audit verify: unexpected argument '" << arg
                << "' (usage: promptwall audit verify [DIR] [--dir DIR] [--config FILE] [--public-key FILE] [--json])\n";
      return kError;
    }
  }
  try {
    const std::filesystem::path dir = trail.trail_dir();
    if (!std::filesystem::is_directory(dir)) {
      std::cerr << "promptwall audit verify: " << dir.string() << " is not a directory\n";
      return kError;
    }
    const bool default_key = public_key.empty();
    const std::filesystem::path key_path = default_key ? dir / audit::kPublicKeyFileName : std::filesystem::path(public_key);
    const audit::VerifyingKey key = audit::VerifyingKey::load(key_path);
    const audit::TrailReport report = audit::TrailVerifier(dir, key).verify();
    if (json)
      print_json(dir, report, key_path.string());
    else
      print_text(dir, report, key_path.string(), default_key);
    return report.intact() ? kIntact : kNotIntact;
  } catch (const std::exception& e) {
    std::cerr << "promptwall audit verify: " << e.what() << "\n";
    return kError;
  }
}

}  // namespace promptwall::cli
