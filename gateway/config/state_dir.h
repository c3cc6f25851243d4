// Where promptwall keeps state by default (the organisation CA, `promptwall ca init`'s output):
// $PROMPTWALL_STATE_DIR, else /var/lib/promptwall when running as root, else
// $XDG_DATA_HOME/promptwall or ~/.local/share/promptwall. Empty when none can be determined.
#pragma once

#include <filesystem>

#include "gateway/config/config.h"

namespace promptwall::gateway {

std::filesystem::path default_state_dir();

// Where the audit trail and its keys are: the configured paths, with the empty ones filled in under
// default_state_dir() (audit/, audit-signing.pem, audit-evidence.key). Throws std::runtime_error
// when a path is needed and there is no state directory.
struct AuditPaths {
  std::filesystem::path dir, signing_key, evidence_key;
};
AuditPaths resolve_audit_paths(const AuditConfig& audit);

}  // namespace promptwall::gateway
