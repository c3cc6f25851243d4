// promptwall audit <verb>: the security officers' tools over the trail.
#include <iostream>
#include <string_view>

#include "cli/commands.h"

namespace promptwall::cli {

namespace {

constexpr std::string_view kAuditUsage =
    "usage: promptwall audit verify|query|export|usage|passwd ...\n"
    "  audit verify [DIR] [--dir DIR] [--config FILE] [--public-key FILE] [--json]\n"
    "      walk the trail's hash chain, checkpoints and signed head; exit 0 intact, 1 not, 2 error\n"
    "  audit query [filters] [--format table|json|csv] [--limit N] [--offset N] [--oldest-first]\n"
    "  audit export [filters] [--format jsonl|csv|cef] [--output FILE]\n"
    "      the trail's decision events through its SQLite index, or the fleet's (--central URL)\n"
    "  audit usage [filters] [--by unit|service] [--time-zone ZONE] [--format table|csv]\n"
    "      requests, share with findings and violations per unit and week; did the training work\n"
    "  audit passwd [NAME]   print a crypt(3) hash for an officer of the review page\n"
    "  `promptwall audit VERB --help` for each verb's options.\n";

}  // namespace

int audit_command(int argc, char** argv) {
  const std::string_view verb = argc >= 2 ? argv[1] : "";
  if (is_help(verb)) {
    std::cout << kAuditUsage;
    return 0;
  }
  if (verb == "verify") return audit_verify_command(argc - 1, argv + 1);
  if (verb == "query") return audit_query_command(argc - 1, argv + 1);
  if (verb == "export") return audit_export_command(argc - 1, argv + 1);
  if (verb == "usage") return audit_usage_command(argc - 1, argv + 1);
  if (verb == "passwd") return audit_passwd_command(argc - 1, argv + 1);
  std::cerr << (verb.empty() ? "promptwall audit: which one?" : "promptwall audit: unknown verb '" + std::string(verb) + "'")
            << " (verify, query, export, usage, passwd; see `promptwall help`)\n";
  return 2;
}

}  // namespace promptwall::cli
