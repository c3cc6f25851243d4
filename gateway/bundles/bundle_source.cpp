#include "gateway/bundles/bundle_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "rules/sha256.h"

namespace promptwall::gateway {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxDirFiles = 200;        // *.bundle files looked at per poll
constexpr size_t kMaxRemembered = 1'000;    // refused and verified files remembered

// The file's bytes when it is a regular file of at most `max` bytes; else why not.
std::optional<std::string> read_bounded(const fs::path& file, uint64_t max, std::string& why) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) {
    why = file.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (size > max) {
    why = file.string() + ": " + std::to_string(size) + " bytes, over the bundle limit of " + std::to_string(max);
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = file.string() + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

void write_all(int fd, const std::string& bytes, const fs::path& file) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(file.string() + ": cannot write: " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

// Replaces `file` with `bytes` so that a crash leaves the old file or the new one, whole.
void replace_file(const fs::path& file, const std::string& bytes) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw std::runtime_error(tmp.string() + ": cannot create: " + std::strerror(errno));
  try {
    write_all(fd, bytes, tmp);
    if (::fsync(fd) != 0) throw std::runtime_error(tmp.string() + ": cannot fsync: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error(file.string() + ": cannot replace: " + why);
  }
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace

BundleSource::BundleSource(Options options, const fs::path& public_key)
    : options_(std::move(options)), key_([&] {
        try {
          return audit::VerifyingKey::load(public_key);
        } catch (const std::exception& e) {
          throw std::runtime_error(std::string("rules.bundle.public_key: ") + e.what());
        }
      }()) {
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  if (ec) throw std::runtime_error("rule bundles: cannot create " + options_.state_dir.string() + ": " + ec.message());
  set_problem("no rule bundle verified yet from " + where());
}

std::string BundleSource::where() const {
  return options_.download ? options_.download->where() : "directory " + options_.dir.string();
}

bool BundleSource::first_refusal(const std::string& sha256) {
  if (refused_.size() >= kMaxRemembered) refused_.clear();
  return refused_.insert(sha256).second;
}

std::optional<std::string> BundleSource::check(const RuleBundle& bundle) const {
  std::set<std::string> scoped;
  for (const auto& pack : bundle.packs)
    if (pack.scoped) scoped.insert(fs::path(pack.path).stem().string());
  for (const auto& name : scoped)
    if (!options_.scoped_pack_names.contains(name))
      return "scoped pack '" + name + "' is named by no policy scope of this gateway (it would count for everyone)";
  for (const auto& name : options_.scoped_pack_names)
    if (!scoped.contains(name))
      return "the policy scopes name pack '" + name + "', which the bundle does not carry as a scoped pack";
  return std::nullopt;
}

std::optional<BundleCandidate> BundleSource::newest_in_dir(BundlePoll& out) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".bundle" || !it->is_regular_file(ec)) continue;
    files.push_back(it->path());
    if (files.size() >= kMaxDirFiles) break;
  }
  if (ec) {
    out.unreachable = "directory " + options_.dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  std::optional<BundleCandidate> best;
  for (const auto& file : files) {
    std::string why;
    auto bytes = read_bounded(file, options_.limits.max_bundle_bytes, why);
    if (!bytes) {
      if (first_refusal("file:" + file.string())) out.refusals.push_back(why);
      continue;
    }
    BundleRead read;
    const std::string sha = Sha256().update(*bytes).hex_digest();
    if (auto it = verified_.find(sha); it != verified_.end()) {
      read = it->second;
    } else {
      read = read_bundle(*bytes, key_, options_.limits);
      if (verified_.size() >= kMaxRemembered) verified_.clear();
      verified_.emplace(sha, read);
    }
    if (!read.ok()) {
      if (first_refusal(sha)) out.refusals.push_back(file.string() + ": " + read.error);
      continue;
    }
    // Refused before (examples, scoped packs): the next newest valid one may still serve.
    if (refused_.contains(sha)) continue;
    if (!best || compare_bundle_versions(read.bundle->version, best->bundle.version) > 0)
      best = BundleCandidate{std::move(*read.bundle), std::move(*bytes), file.string()};
  }
  return best;
}

BundlePoll BundleSource::poll() {
  BundlePoll out;
  std::optional<BundleCandidate> found;
  if (options_.download) {
    BundleDownload::Result got = options_.download->fetch();
    if (got.kind == BundleDownload::Result::Kind::failed) {
      out.unreachable = where() + ": " + got.error;
      return out;
    }
    if (got.kind == BundleDownload::Result::Kind::not_modified) return out;
    const std::string sha = Sha256().update(got.bytes).hex_digest();
    if (sha == served_sha256_ || refused_.contains(sha)) return out;
    BundleRead read = read_bundle(got.bytes, key_, options_.limits);
    if (!read.ok()) {
      if (first_refusal(sha)) out.refusals.push_back(where() + ": " + read.error);
      return out;
    }
    found = BundleCandidate{std::move(*read.bundle), std::move(got.bytes), where()};
  } else {
    found = newest_in_dir(out);
  }
  if (!found || found->bundle.sha256 == served_sha256_ || refused_.contains(found->bundle.sha256)) return out;

  const std::string served = served_version();
  if (!served.empty() && compare_bundle_versions(found->bundle.version, served) <= 0) {
    // In a directory older files are history, not a refusal; at a URL it is a rollback attempt.
    if (options_.download && first_refusal(found->bundle.sha256))
      out.refusals.push_back(found->origin + ": version " + found->bundle.version + " is not newer than " + served +
                             ", which is served (publish a rollback under a new version)");
    return out;
  }
  if (auto why = check(found->bundle)) {
    if (first_refusal(found->bundle.sha256))
      out.refusals.push_back(found->origin + ": bundle " + found->bundle.version + ": " + *why);
    return out;
  }
  out.candidate = std::move(found);
  return out;
}

std::optional<BundleCandidate> BundleSource::last_good() {
  const fs::path file = options_.state_dir / "current.bundle";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    set_problem("no rule bundle verified yet from " + where() + ", and no last good bundle at " + file.string());
    return std::nullopt;
  }
  std::string why;
  auto bytes = read_bounded(file, options_.limits.max_bundle_bytes, why);
  if (!bytes) {
    set_problem("the last good bundle cannot be read: " + why);
    return std::nullopt;
  }
  BundleRead read = read_bundle(*bytes, key_, options_.limits);
  if (!read.ok()) {
    set_problem("the last good bundle " + file.string() + " is refused: " + read.error);
    return std::nullopt;
  }
  if (auto problem = check(*read.bundle)) {
    set_problem("the last good bundle " + file.string() + " is refused: " + *problem);
    return std::nullopt;
  }
  return BundleCandidate{std::move(*read.bundle), std::move(*bytes), file.string()};
}

void BundleSource::accept(const BundleCandidate& candidate) {
  served_sha256_ = candidate.bundle.sha256;
  {
    std::lock_guard lock(status_mutex_);
    served_version_ = candidate.bundle.version;
    problem_.clear();
  }
  const fs::path file = options_.state_dir / "current.bundle";
  if (candidate.origin != file.string()) replace_file(file, candidate.bytes);
}

std::string BundleSource::refuse(const BundleCandidate& candidate, const std::string& why) {
  first_refusal(candidate.bundle.sha256);
  return candidate.origin + ": bundle " + candidate.bundle.version + " refused: " + why;
}

std::string BundleSource::served_version() const {
  std::lock_guard lock(status_mutex_);
  return served_version_;
}

std::string BundleSource::problem() const {
  std::lock_guard lock(status_mutex_);
  return problem_;
}

void BundleSource::set_problem(std::string why) {
  std::lock_guard lock(status_mutex_);
  problem_ = std::move(why);
}

RuleSetLoader bundle_loader(const RuleBundle& bundle, const std::string& cache_dir) {
  std::vector<PackText> texts;
  for (const auto& pack : bundle.packs) texts.push_back({"bundle:" + bundle.version + "/" + pack.path, pack.content, pack.scoped});
  return RuleSetLoader::from_texts(std::move(texts), bundle.version, cache_dir);
}

}  // namespace promptwall::gateway
