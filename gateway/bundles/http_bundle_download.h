// HttpBundleDownload: rules.bundle.url fetched with HTTP/1.1 GET over TCP or TLS (Beast), for
// BundleSource (bundle_source.h). TLS is verified against the system store plus tls.upstream_ca,
// with the URL's host as SNI and certificate name. It sends the last 200 answer's ETag and
// Last-Modified as If-None-Match/If-Modified-Since, so an unchanged bundle costs a 304. A body over
// `max_bytes` (declared or as read) is cut off and reported; every step (resolve, connect,
// handshake, write, read) has a 30 s limit, so a stalled server cannot hold the reload thread.
//
// Blocking: each fetch() runs its own io_context on the calling thread (the server's reload
// thread), never on a worker. Not thread-safe (the validators); one caller at a time. Beast stays
// in the .cpp.
#pragma once

#include <filesystem>
#include <memory>

#include "gateway/bundles/bundle_source.h"
#include "gateway/config/config.h"

namespace promptwall::gateway {

// Throws std::runtime_error when `upstream_ca` cannot be loaded.
std::unique_ptr<BundleDownload> make_http_bundle_download(const RulesBundleConfig& config,
                                                          const std::filesystem::path& upstream_ca, uint64_t max_bytes);

}  // namespace promptwall::gateway
