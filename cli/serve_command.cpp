// promptwall serve [--config FILE] [--check]
#include <filesystem>
#include <iostream>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "audit/evidence.h"
#include "audit/signing_key.h"
#include "cli/commands.h"
#include "gateway/config/config.h"
#include "gateway/config/state_dir.h"
#include "gateway/server/gateway_server.h"
#include "gateway/tls/certificate_authority.h"
#include "rules/ruleset.h"
#include "rules/ruleset_loader.h"

namespace promptwall::cli {

namespace {

constexpr std::string_view kServeUsage =
    "usage: promptwall serve [--config FILE] [--check]\n"
    "  --config FILE  the gateway configuration (docs/configuration.md); the embedded default without it\n"
    "  --check        validate the configuration, compile and test the rule packs, load the CA and the\n"
    "                 audit keys, then exit\n";

// --check: everything the server would refuse to start on, without binding anything.
int check(const gateway::GatewayConfig& config) {
  std::string rules_summary;
  if (config.rules.bundle.enabled()) {
    // The rules come from signed bundles at run time (a gateway with none yet starts and refuses
    // AI traffic until one verifies): only the key that verifies them can be checked here.
    try {
      const audit::VerifyingKey key = audit::VerifyingKey::load(config.rules.bundle.public_key);
      rules_summary = "rules from signed bundles at " +
                      (config.rules.bundle.url.empty() ? config.rules.bundle.dir.string() : config.rules.bundle.url) +
                      ", key " + key.key_id();
    } catch (const std::exception& e) {
      std::cerr << "promptwall serve: " << config.source << ": rules.bundle.public_key: " << e.what() << "\n";
      return 2;
    }
  } else {
    const std::string cache = config.rules.cache_dir.empty() ? RuleSetCompiler::default_cache_dir() : config.rules.cache_dir;
    RuleLoad load = RuleSetLoader(config.rules.packs, cache, config.rules.scoped_packs).load();
    if (!load.ok()) {
      std::cerr << "promptwall serve: " << config.source << ": the rule packs cannot be served:\n"
                << load.error_text() << "\n";
      return 2;
    }
    rules_summary = std::to_string(load.ruleset->rules().size()) + " rules, ruleset " +
                    load.ruleset->version().substr(0, 12) + ", " + std::to_string(load.examples_run) +
                    " rule examples passed";
  }
  if (!config.tls.ca_cert.empty()) {
    try {
      gateway::CertificateAuthority::load(config.tls.ca_cert, config.tls.ca_key, config.tls.leaf_validity);
    } catch (const std::exception& e) {
      std::cerr << "promptwall serve: " << config.source << ": tls: " << e.what() << "\n";
      return 2;
    }
  }
  // The trail's keys: an existing key must load (a missing one is made at start). Whether the
  // directory is writable is the writer's business at run time (it retries; /readyz says why).
  try {
    const gateway::AuditPaths paths = gateway::resolve_audit_paths(config.audit);
    if (std::filesystem::exists(paths.signing_key)) audit::SigningKey::load(paths.signing_key);
    if (std::filesystem::exists(paths.evidence_key)) audit::EvidenceMaker::load_or_create(paths.evidence_key);
  } catch (const std::exception& e) {
    std::cerr << "promptwall serve: " << config.source << ": audit: " << e.what() << "\n";
    return 2;
  }
  std::cout << config.source << ": OK (" << config.services.size() << " services, " << rules_summary << ")\n";
  return 0;
}

}  // namespace

int serve_command(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kServeUsage;
      return 0;
    } else {
      std::cerr << "promptwall serve: unknown argument '" << arg << "'\n" << kServeUsage;
      return 2;
    }
  }

  gateway::GatewayConfig config;
  try {
    config = gateway::load_gateway_config_or_default(config_path);
  } catch (const gateway::ConfigError& e) {
    std::cerr << "promptwall serve: invalid configuration:\n" << e.what() << "\n";
    return 2;
  }
  if (check_only) return check(config);

  auto logger = spdlog::stderr_color_mt("promptwall");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  try {
    spdlog::info("promptwall serve: configuration {}", config.source);
    gateway::GatewayServer server(std::move(config));
    return server.run();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 2;
  }
}

}  // namespace promptwall::cli
