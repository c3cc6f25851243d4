// The default limits, defined once: what `limits:` means when a configuration leaves a key out
// (docs/configuration.md, "limits"), and what the parts that enforce a limit start from when they
// are built without a configuration (tests, tools). config.h's Limits, RequestInspector's
// InspectorLimits and SegmentExtractor's ExtractorLimits take their defaults from here, so the
// three can no longer disagree.
//
// Invariants: max_decoded_body_bytes >= max_body_bytes (the configuration reader requires it of
// every configuration, so the default must meet it too); each value lies within the range the
// reader accepts for its key. Plain constants: no dependencies, safe to include anywhere.
#pragma once

#include <chrono>
#include <cstddef>

namespace promptwall::gateway::default_limits {

inline constexpr size_t max_header_bytes = 16 * 1024;
inline constexpr size_t max_body_bytes = 10 * 1024 * 1024;
inline constexpr size_t max_decoded_body_bytes = 32 * 1024 * 1024;
// Nested objects and arrays; a top-level object is depth 1.
inline constexpr size_t max_json_depth = 64;
inline constexpr size_t max_connections = 4096;

inline constexpr std::chrono::milliseconds header_timeout{10'000};
inline constexpr std::chrono::milliseconds body_timeout{30'000};
inline constexpr std::chrono::milliseconds idle_timeout{60'000};
inline constexpr std::chrono::milliseconds upstream_connect_timeout{10'000};
inline constexpr std::chrono::milliseconds upstream_response_timeout{120'000};

static_assert(max_decoded_body_bytes >= max_body_bytes, "a decoded body may be no smaller than the body as received");

}  // namespace promptwall::gateway::default_limits
