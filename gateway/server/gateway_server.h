// GatewayServer: `promptwall serve`. Owns the listeners (base-URL gateway, forward proxy, admin),
// one worker thread per core, signal handling (SIGHUP reloads the rules, SIGINT/SIGTERM stop) and
// the active RuleSet. Beast and Asio stay behind this interface (pImpl): they cost ~30 s per
// translation unit to compile.
#pragma once

#include <memory>

#include "gateway/config/config.h"

namespace promptwall::gateway {

class GatewayServer {
 public:
  // Loads the rules (compile + examples), the organisation CA, the audit trail (and its keys), and binds every
  // listener. Throws std::runtime_error with a reason a network team can act on ("cannot listen on
  // 127.0.0.1:8080: Address already in use"); nothing is left running then.
  explicit GatewayServer(GatewayConfig config);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Serves until SIGINT or SIGTERM. Returns the process exit status.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promptwall::gateway
