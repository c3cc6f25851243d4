#include "cli/trail_options.h"

#include <string_view>

#include "gateway/config/config.h"
#include "gateway/config/state_dir.h"

namespace promptwall::cli {

bool TrailOptions::parse(int argc, char** argv, int& i, std::string& error) {
  const std::string_view arg = argv[i];
  if (arg != "--dir" && arg != "--config") return false;
  if (i + 1 >= argc) {
    error = std::string(arg) + " needs a value";
    return true;
  }
  (arg == "--dir" ? dir : config) = argv[++i];
  return true;
}

std::filesystem::path TrailOptions::trail_dir() const {
  if (!dir.empty()) return dir;
  gateway::AuditConfig audit;
  if (!config.empty()) audit = gateway::load_gateway_config(config).audit;
  return gateway::resolve_audit_paths(audit).dir;
}

}  // namespace promptwall::cli
