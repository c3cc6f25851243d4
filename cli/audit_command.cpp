// promptwall audit <verb>: the security officers' tools over the trail.
#include <iostream>
#include <string_view>

#include "cli/commands.h"

namespace promptwall::cli {

int audit_command(int argc, char** argv) {
  const std::string_view verb = argc >= 2 ? argv[1] : "";
  if (verb == "verify") return audit_verify_command(argc - 1, argv + 1);
  if (verb == "query") return audit_query_command(argc - 1, argv + 1);
  if (verb == "export") return audit_export_command(argc - 1, argv + 1);
  if (verb == "passwd") return audit_passwd_command(argc - 1, argv + 1);
  std::cerr << (verb.empty() ? "promptwall audit: which one?" : "promptwall audit: unknown verb '" + std::string(verb) + "'")
            << " (verify, query, export, passwd; see `promptwall help`)\n";
  return 2;
}

}  // namespace promptwall::cli
