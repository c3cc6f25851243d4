// BundleSource: where a gateway's signed rule bundles come from (rules.bundle: a URL or a watched
// directory), which of them may replace the one served, and the last good bundle kept on disk.
// It decides; it does not compile: the server asks RuleSetLoader (bundle_loader() below) whether
// a candidate's packs compile and their examples pass, then calls accept() or refuse().
//
// A candidate must (in this order): verify (rules/rule_bundle.h: signature over the manifest first,
// then every file's SHA-256, nothing unlisted, bounded sizes); be newer than the bundle served
// (compare_bundle_versions), so a replayed older bundle cannot roll the rules back (publish a
// rollback under a new version); carry exactly the scoped packs the configuration's policy scopes
// name (a scoped pack no scope names would count for everyone; a named one missing would be a
// silent gap). A refused bundle is logged and counted once (by its SHA-256), not at every poll.
//
// Directory: the *.bundle files in `dir` (other names are ignored, so copy in under another name
// and rename), each at most BundleLimits::max_bundle_bytes; the valid one of the highest version is
// the candidate. URL: BundleDownload (below; HTTP(S) with If-None-Match/If-Modified-Since, in
// gateway/server/) fetches it; a source that cannot be reached is no refusal: the served bundle
// stays and the next poll tries again.
//
// The last good bundle: accept() writes it to `<state_dir>/current.bundle` (temporary file, fsync,
// rename, fsync of the directory), so a restart without the source serves it (last_good() verifies
// it again with the configured key: a file changed on disk is refused like any other).
//
// Threads: poll(), accept(), refuse() and last_good() run on one thread at a time (the server's
// reload thread); problem() and served_version() may be called from any thread. Errors are
// values; file system errors in accept() throw std::runtime_error (the caller logs and keeps the
// new rules: the bundle is verified, only its copy for the next start is missing).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/signing_key.h"
#include "rules/rule_bundle.h"
#include "rules/ruleset_loader.h"

namespace promptwall::gateway {

// Fetches the bundle at a URL. Implementations remember the validators (ETag, Last-Modified) of
// the last answer and send them, so an unchanged bundle costs a 304.
class BundleDownload {
 public:
  struct Result {
    enum class Kind : uint8_t { bytes, not_modified, failed } kind = Kind::failed;
    std::string bytes;  // kind bytes: the body, at most the limit
    std::string error;  // kind failed: why (connection, TLS, status, too big)
  };
  virtual ~BundleDownload() = default;
  virtual Result fetch() = 0;
  virtual std::string where() const = 0;  // the URL, for messages
};

struct BundleCandidate {
  RuleBundle bundle;
  std::string bytes;   // the file as verified, for current.bundle
  std::string origin;  // the file or URL it came from
};

struct BundlePoll {
  std::optional<BundleCandidate> candidate;  // newer, verified, scoped packs as configured
  std::vector<std::string> refusals;         // bundles refused for the first time: log and count each
  std::string unreachable;                   // the source could not be read (not a refusal)
};

class BundleSource {
 public:
  struct Options {
    std::filesystem::path dir;                 // exactly one of dir and download
    std::unique_ptr<BundleDownload> download;
    std::filesystem::path state_dir;           // current.bundle lives here (created when missing)
    std::set<std::string> scoped_pack_names;   // the packs the configuration's policy scopes name
    BundleLimits limits;
  };

  // Throws std::runtime_error naming the key file when the public key cannot be loaded.
  BundleSource(Options options, const std::filesystem::path& public_key);

  BundlePoll poll();
  // The last good bundle on disk, verified again; nullopt (and problem() says why) when none.
  std::optional<BundleCandidate> last_good();
  // The candidate's rules compiled and passed their examples and now serve: remember it, keep it.
  void accept(const BundleCandidate& candidate);
  // The candidate's rules failed (compile or examples): remember it so it is reported once.
  // Returns the message to log and count.
  std::string refuse(const BundleCandidate& candidate, const std::string& why);

  std::string served_version() const;
  // Why no bundle serves yet ("" once one does): for /readyz and the refusals of AI requests.
  std::string problem() const;
  void set_problem(std::string why);

  std::string where() const;  // "directory /x" or the URL

 private:
  std::optional<std::string> check(const RuleBundle& bundle) const;  // the scoped packs
  std::optional<BundleCandidate> newest_in_dir(BundlePoll& out);
  // Whether the refusal of this file (by SHA-256) is new; remembers it.
  bool first_refusal(const std::string& sha256);

  Options options_;
  audit::VerifyingKey key_;
  std::string served_sha256_;  // of the bundle serving now ("" before one)
  std::set<std::string> refused_;               // SHA-256 of files refused, reported once
  std::map<std::string, BundleRead> verified_;  // directory files by SHA-256: verified once
  mutable std::mutex status_mutex_;
  std::string served_version_;  // guarded by status_mutex_
  std::string problem_;         // guarded by status_mutex_
};

// The loader for a verified bundle's packs (in memory; sources named "bundle:VERSION/packs/x.yaml").
RuleSetLoader bundle_loader(const RuleBundle& bundle, const std::string& cache_dir);

}  // namespace promptwall::gateway
