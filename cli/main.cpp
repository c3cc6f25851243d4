// promptwall: one binary, several subcommands. See `promptwall help`.
#include <iostream>
#include <string_view>

#include "cli/commands.h"

namespace {

constexpr std::string_view kUsage = R"(promptwall: a data-security gateway for AI use

usage:
  promptwall scan [--rules PACK|DIR ...] [--format text|json|jsonl] [--redact] [FILE ...]
      Find classified markings, identifiers and secrets in files (or standard input).
      Exit status: 0 no findings, 1 findings, 2 error.
  promptwall rules lint [PACK|DIR ...]   check rule packs (the built-in packs when none given)
  promptwall rules test [PACK|DIR ...]   run every rule's examples through the full scanner
  promptwall rules compile [PACK|DIR ...] compile into the database cache (a restart then loads it)
  promptwall rules list [PACK|DIR ...]   list the rules and the ruleset version
  promptwall rules bundle --key PRIVATE.pem --version V --out FILE [--scoped PACK] PACK|DIR ...
      One signed file of the packs (lint, compile and every example pass first) for the gateways'
      rules.bundle; `rules bundle-key --out DIR` makes the Ed25519 key pair, `rules verify-bundle
      --public-key PUBLIC.pem FILE` checks a bundle. Exit status: 0 done, 1 refused, 2 error.
  promptwall serve [--config FILE] [--check]
      Run the gateway (base-URL gateway, forward proxy, admin listener) from FILE, or from the
      embedded default (loopback listeners, built-in packs, the public AI APIs as upstreams).
      --check validates the configuration, rule packs and CA, then exits (0 good, 2 bad).
  promptwall ca init [--dir DIR] [--cert FILE] [--key FILE] [--name CN] [--org O] [--days N]
      Create the organisation CA the forward proxy signs its leaf certificates with: DIR/ca.crt and
      DIR/ca.key (DIR: $PROMPTWALL_STATE_DIR, else /var/lib/promptwall as root, else
      ~/.local/share/promptwall). Never overwrites a file; prints how to make clients trust it.
  promptwall ca show [--dir DIR] [--cert FILE]   the CA's subject, validity and SHA-256 fingerprint
  promptwall audit verify [DIR] [--public-key FILE]
      Walk the audit trail's hash chain, checkpoints and signed head; name the first edited,
      deleted, inserted, reordered or truncated record or missing file. Exit: 0 intact, 1 not, 2 error.
      --central URL --gateway ID checks the fleet's central copy of that gateway's trail instead.
  promptwall audit query [filters] [--format table|json|csv] [--limit N]
  promptwall audit export [filters] [--format jsonl|csv|cef] [--output FILE]
      Filters: --since/--until TIME (RFC 3339 or YYYY-MM-DD), --user, --unit, --service, --rule,
      --category, --decision, --severity, --triage, --violations. The trail is DIR, or --dir DIR, or
      audit.dir of --config FILE, or the state directory's audit/; --central URL reads the fleet's
      central PostgreSQL store instead (then also --gateway ID, --province NAME).
  promptwall audit usage [filters] [--by unit|service] [--time-zone ZONE] [--format table|csv]
      Requests, share with findings and violations per unit and ISO week (local time), and per
      unit whether the rate fell over the range: did the training work?
  promptwall audit passwd [NAME]   print a crypt(3) hash for an officer of the review page
  promptwall nft-set [--config FILE] [--table "inet promptwall"]
      Print the nft commands that refill the AI-service address sets of ops/nftables/promptwall.nft
      (QUIC to them is dropped): promptwall nft-set --config FILE | nft -f -
      Exit: 0 every host resolved, 1 some did not (the sets are only added to), 2 error.
  promptwall extract-worker [--self-test]
      Internal: the gateway runs one per document to read it in a confined process. --self-test
      checks that this host enforces that confinement (exit 0 it does, 1 it does not).
  promptwall version
  promptwall COMMAND --help   that command's usage (also -h)

Options for commands that load rules:
  --rules PACK|DIR   a rule pack file, or a directory of *.yaml packs (repeatable; `builtin` for the
                     embedded packs, the default). Loaded as `serve` loads them: packs whose rule
                     examples fail are refused.
  --cache-dir DIR    where compiled databases are cached (default ~/.cache/promptwall)
  --no-cache         compile every time
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string_view command = argv[1];
  try {
    if (command == "scan") return promptwall::cli::scan_command(argc - 1, argv + 1);
    if (command == "rules") return promptwall::cli::rules_command(argc - 1, argv + 1);
    if (command == "ca") return promptwall::cli::ca_command(argc - 1, argv + 1);
    if (command == "serve") return promptwall::cli::serve_command(argc - 1, argv + 1);
    if (command == "audit") return promptwall::cli::audit_command(argc - 1, argv + 1);
    if (command == "nft-set") return promptwall::cli::nft_set_command(argc - 1, argv + 1);
    if (command == "extract-worker") return promptwall::cli::extract_worker_command(argc - 1, argv + 1);
    if (command == "version" || command == "--version") {
      std::cout << "promptwall 0.1.0\n";
      return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
      std::cout << kUsage;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "promptwall " << command << ": " << e.what() << "\n";
    return 2;
  }
  std::cerr << "promptwall: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
