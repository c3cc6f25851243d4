// The subcommands of the one `promptwall` binary. Each returns the process exit status.
#pragma once

namespace promptwall::cli {

// promptwall scan [--rules PACK|DIR ...] [--format text|json|jsonl] [--redact] [FILE ...]
// Exit: 0 no findings, 1 findings, 2 error.
int scan_command(int argc, char** argv);

// promptwall rules lint|test|compile|list [PACK|DIR ...]
int rules_command(int argc, char** argv);

}  // namespace promptwall::cli
