// Where promptwall keeps state by default (the organisation CA, `promptwall ca init`'s output):
// $PROMPTWALL_STATE_DIR, else /var/lib/promptwall when running as root, else
// $XDG_DATA_HOME/promptwall or ~/.local/share/promptwall. Empty when none can be determined.
#pragma once

#include <filesystem>

namespace promptwall::gateway {

std::filesystem::path default_state_dir();

}  // namespace promptwall::gateway
