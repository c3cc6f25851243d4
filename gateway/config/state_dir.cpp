#include "gateway/config/state_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace promptwall::gateway {

std::filesystem::path default_state_dir() {
  if (const char* dir = std::getenv("PROMPTWALL_STATE_DIR"); dir && *dir) return dir;
  if (geteuid() == 0) return "/var/lib/promptwall";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "promptwall";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "share" / "promptwall";
  return {};
}

AuditPaths resolve_audit_paths(const AuditConfig& audit) {
  AuditPaths paths{audit.dir, audit.signing_key, audit.evidence_key};
  if (!paths.dir.empty() && !paths.signing_key.empty() && !paths.evidence_key.empty()) return paths;
  const std::filesystem::path state = default_state_dir();
  if (state.empty())
    throw std::runtime_error(
        "no state directory for the audit trail: set audit.dir, audit.signing_key and audit.evidence_key, or "
        "PROMPTWALL_STATE_DIR, or HOME");
  if (paths.dir.empty()) paths.dir = state / "audit";
  if (paths.signing_key.empty()) paths.signing_key = state / "audit-signing.pem";
  if (paths.evidence_key.empty()) paths.evidence_key = state / "audit-evidence.key";
  return paths;
}

}  // namespace promptwall::gateway
