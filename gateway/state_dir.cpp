#include "gateway/state_dir.h"

#include <unistd.h>

#include <cstdlib>

namespace promptwall::gateway {

std::filesystem::path default_state_dir() {
  if (const char* dir = std::getenv("PROMPTWALL_STATE_DIR"); dir && *dir) return dir;
  if (geteuid() == 0) return "/var/lib/promptwall";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "promptwall";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".local" / "share" / "promptwall";
  return {};
}

}  // namespace promptwall::gateway
