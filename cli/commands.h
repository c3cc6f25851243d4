// The subcommands of the one `promptwall` binary. Each returns the process exit status.
#pragma once

#include <string_view>

namespace promptwall::cli {

// Every subcommand answers these with its usage on standard output and exit status 0, wherever
// they stand among its arguments (a user adds --help to the command line that just failed).
inline bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

// promptwall scan [--rules PACK|DIR ...] [--format text|json|jsonl] [--redact] [FILE ...]
// Exit: 0 no findings, 1 findings, 2 error.
int scan_command(int argc, char** argv);

// promptwall rules lint|test|compile|list [PACK|DIR ...]
int rules_command(int argc, char** argv);
// promptwall rules bundle | bundle-key | verify-bundle (argv[1] is the subcommand), from rules_command.
// Exit: 0 done (verify: the bundle is good), 1 refused (packs failing, a bundle that does not verify), 2 error.
int rules_bundle_command(int argc, char** argv);

// promptwall ca init|show [--dir DIR] [--cert FILE] [--key FILE] [--name CN] [--org O] [--days N]
// Exit: 0 done, 2 error (including a CA file that already exists: it is never overwritten).
int ca_command(int argc, char** argv);

// promptwall serve [--config FILE] [--check]
// Exit: 0 stopped cleanly (or the check passed), 2 bad configuration or cannot start.
int serve_command(int argc, char** argv);

// promptwall audit verify|query|export|passwd ...: dispatches to the audit_* commands below.
int audit_command(int argc, char** argv);

// promptwall audit verify [DIR] [--dir DIR] [--config FILE] [--public-key FILE]
// Exit: 0 the trail is intact, 1 it is not (the first problem is named), 2 error.
int audit_verify_command(int argc, char** argv);

// promptwall audit query|export [filters] [--central URL]: see `promptwall help`. Exit: 0 done, 2 error.
int audit_query_command(int argc, char** argv);
int audit_export_command(int argc, char** argv);
// promptwall audit usage [filters]: usage and violation rates per unit and week. Exit: 0 done, 2 error.
int audit_usage_command(int argc, char** argv);

// promptwall audit passwd [NAME]: reads a password (twice, without echo on a terminal) and prints
// a yescrypt crypt(3) hash for `audit.review.officers`. Exit: 0 done, 2 error.
int audit_passwd_command(int argc, char** argv);

// promptwall nft-set [--config FILE] [--table "inet promptwall"]: prints the nft commands that refill
// the AI-service address sets of ops/nftables/promptwall.nft. Exit: 0 done, 1 some host did not
// resolve (the sets are only added to), 2 error.
int nft_set_command(int argc, char** argv);

// promptwall extract-worker [--self-test]: internal, one document read in a confined process
// (extractors/sandbox/extraction_worker.h); exit status as run_extraction_worker(). --self-test
// checks the confinement on this host. Exit: 0 it holds, 1 it does not, 2 usage error.
int extract_worker_command(int argc, char** argv);

}  // namespace promptwall::cli
