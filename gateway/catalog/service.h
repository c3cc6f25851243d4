// Service: one AI (or other) service the gateway knows, as the configuration describes it.
// Shared vocabulary of gateway/: the catalog routes to a Service, the schema decides what text
// its requests carry, its policy adjusts decisions, and its upstream is where requests go.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/policy.h"
#include "rules/rule.h"

namespace promptwall::gateway {

// How a service's request bodies are read (gateway/adapters/segment_extractor.h). chatgpt_web and
// gemini_web are the web apps (chatgpt.com, gemini.google.com) seen through interception.
// Adding a schema: the enum and kEverySchema here, its name in service.cpp, where its text is in
// adapters/segment_extractor.cpp, its error shape in adapters/block_response.cpp.
enum class Schema : uint8_t { openai, gemini, anthropic, json, text, chatgpt_web, gemini_web };
inline constexpr Schema kEverySchema[] = {Schema::openai, Schema::gemini,      Schema::anthropic, Schema::json,
                                         Schema::text,   Schema::chatgpt_web, Schema::gemini_web};
std::string_view to_string(Schema s);
std::optional<Schema> schema_from_string(std::string_view s);
// "openai, gemini, ... or gemini_web": what a configuration may say, for its error messages.
std::string schema_names();

// Where a service's requests are forwarded.
struct UpstreamTarget {
  bool tls = true;
  std::string host;     // name to connect to, verify the certificate against and send as SNI/Host
  uint16_t port = 443;
  std::string base_path;  // prefix put before the request path ("" or "/v1beta" etc., no trailing '/')
};

// What to do with a body that cannot be parsed or decoded. Since issue 12 both values refuse it
// (unreadable_body): scanning malformed JSON as raw text left escapes encoded, so an escaped stamp
// passed. The key is still read so that existing configurations load (docs/configuration.md).
enum class UnparseablePolicy : uint8_t { scan_raw_or_block, block };

// What to do with a file the gateway could not read completely (extractors/: encrypted, image
// only, too big, a zip bomb, a file id never scanned... each cause is an extractors::Unscannable).
// block: refused as file_not_inspected, naming the file and the cause; warn: forwarded, the
// decision is warn and the audit trail records the file and cause; allow: forwarded, recorded.
// A finding in what WAS read counts whatever this says.
enum class FilePolicy : uint8_t { block, warn, allow };
std::string_view to_string(FilePolicy p);

// Where a request for `host` (one of the service's hosts, as the client named it) goes: when the
// service's upstream host is itself one of its `hosts`, the service is a set of real public names
// and each goes to itself (a host under one of its "*.x" wildcards too) (chat.openai.com to chat.openai.com, same scheme, port and base path);
// otherwise (a relay, a test double) every host goes to the configured upstream.
struct Service;
UpstreamTarget upstream_for_host(const Service& service, std::string_view host);

struct Service {
  std::string name;                 // "openai"; used in metrics, logs and decisions
  std::string prefix;               // base-URL gateway path prefix ("/openai"); may be empty
  std::vector<std::string> hosts;   // hosts that are this service in forward-proxy mode (lower case)
  std::optional<UpstreamTarget> upstream;  // unset for services that are only refused
  Schema schema = Schema::json;
  bool approved = true;             // false: every request and CONNECT to it is refused
  bool inspect = true;              // false: tunnelled/forwarded untouched (known, not an AI service)
  PolicyLayer policy;
  UnparseablePolicy unparseable = UnparseablePolicy::scan_raw_or_block;
  // The service's `policy.files`: the default for every cause; unset: the global `policy.files`
  // (the loader fills it in), and block when neither says.
  std::optional<FilePolicy> files;
  // `policy.unscannable`: per cause (its extractors::to_string spelling, "encrypted"), the
  // service's own over the global ones (the loader merges them); a cause not named follows `files`.
  std::map<std::string, FilePolicy, std::less<>> unscannable = {};

  // What to do with a file unscannable for `cause` ("encrypted", "unscanned_reference", ...).
  FilePolicy file_policy(std::string_view cause) const;
};

}  // namespace promptwall::gateway
