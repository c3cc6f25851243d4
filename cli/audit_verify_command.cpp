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
#include "central/central_connection.h"
#include "central/central_trail.h"
#include "cli/commands.h"
#include "cli/trail_options.h"

namespace promptwall::cli {
namespace {

constexpr int kIntact = 0, kNotIntact = 1, kError = 2;

constexpr std::string_view kVerifyUsage =
    "usage: promptwall audit verify [DIR] [--dir DIR] [--config FILE] [--public-key FILE] [--json]\n"
    "       promptwall audit verify --central URL --gateway ID [--password-file FILE] [--public-key FILE] [--json]\n"
    "  Walks the audit trail's hash chain, checkpoints and signed head and names the first edited,\n"
    "  deleted, inserted, reordered or truncated record or missing file.\n"
    "  DIR (or --dir): the trail; else audit.dir of --config FILE; else the state directory's audit/.\n"
    "  --central URL      check the central store's copy (PostgreSQL, pw_records) of gateway ID's trail\n"
    "                     instead, against its checkpoints; without --public-key, with the key the\n"
    "                     gateway registered there (weaker: whoever can write the store can change it)\n"
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

void print_json(const std::string& dir, const audit::TrailReport& r, const std::string& key_source) {
  nlohmann::json j = {{"dir", dir},
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

// `default_key_place`: where a key not given with --public-key was read from ("" when it was given).
void print_text(const std::string& dir, const audit::TrailReport& r, const std::string& key_source,
                const std::string& default_key_place) {
  std::cout << "trail " << dir << "\n"
            << "  files " << r.files << ", records " << r.records << " (last seq " << r.last_seq << "), checkpoints verified "
            << r.checkpoints << "\n"
            << "  head: "
            << (r.files == 0 && !r.head_present ? std::string("not kept centrally (the end checked against the shipped seq)")
                : !r.head_present ? std::string("none (no checkpoint written yet)")
                                : "seq " + std::to_string(r.head_seq) + (r.head_verified ? ", signature verified" : ", NOT verified"))
            << "\n"
            << "  key " << r.key_id << " from " << key_source << "\n";
  if (!default_key_place.empty())
    std::cout << "  note: this key was read from " << default_key_place
              << "; a copy of the public key kept elsewhere (--public-key) is stronger evidence\n";
  if (r.unsigned_tail > 0 && r.intact())
    std::cout << "  note: the last " << r.unsigned_tail << " record(s) come after the last checkpoint and are not yet signed\n";
  if (r.warning) std::cout << "WARNING: " << r.warning->message << "\n";
  if (r.problem)
    std::cout << "NOT INTACT (" << r.problem->kind << "): " << r.problem->message << "\n";
  else
    std::cout << "intact\n";
}

// The central store's copy of one gateway's trail (pw_records), with the same checks.
int verify_central(const std::string& url, const std::string& gateway, const std::string& password_file,
                   const std::string& public_key, bool json) {
  try {
    const std::string password = password_file.empty() ? "" : central::read_password_file(password_file);
    central::CentralTrail trail(central::make_conninfo(url, password), gateway);
    const bool default_key = public_key.empty();
    if (default_key && trail.registered_key().empty()) {
      std::cerr << "promptwall audit verify: the central store has no public key for gateway " << gateway
                << "; give --public-key FILE\n";
      return kError;
    }
    const audit::VerifyingKey key =
        default_key ? audit::VerifyingKey::from_pem(trail.registered_key()) : audit::VerifyingKey::load(public_key);
    const std::string source = "pw_records(" + gateway + ")";
    const audit::TrailReport report = audit::verify_record_lines([&] { return trail.next_line(); }, source, key,
                                                                 trail.shipped_seq());
    const std::string where = central::describe_target(url) + " gateway " + gateway;
    const std::string key_source = default_key ? "pw_gateways (registered by " + gateway + ")" : public_key;
    if (json)
      print_json(where, report, key_source);
    else
      print_text(where, report, key_source, default_key ? "the central store itself (pw_gateways)" : "");
    return report.intact() ? kIntact : kNotIntact;
  } catch (const std::exception& e) {
    std::cerr << "promptwall audit verify: " << e.what() << "\n";
    return kError;
  }
}

}  // namespace

int audit_verify_command(int argc, char** argv) {
  std::string central_url, gateway, password_file;
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
    } else if (arg == "--central" && i + 1 < argc) {
      central_url = argv[++i];
    } else if (arg == "--gateway" && i + 1 < argc) {
      gateway = argv[++i];
    } else if (arg == "--password-file" && i + 1 < argc) {
      password_file = argv[++i];
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
  if (!central_url.empty() || !gateway.empty()) {
    if (central_url.empty() || gateway.empty() || !trail.dir.empty()) {
      std::cerr << "promptwall audit verify: --central URL and --gateway ID go together, without a trail directory\n";
      return kError;
    }
    return verify_central(central_url, gateway, password_file, public_key, json);
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
      print_json(dir.string(), report, key_path.string());
    else
      print_text(dir.string(), report, key_path.string(), default_key ? "the trail directory itself" : "");
    return report.intact() ? kIntact : kNotIntact;
  } catch (const std::exception& e) {
    std::cerr << "promptwall audit verify: " << e.what() << "\n";
    return kError;
  }
}

}  // namespace promptwall::cli
