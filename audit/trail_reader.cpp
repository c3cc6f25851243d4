#include "audit/trail_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace promptwall::audit {
namespace {

// Large enough that a bulk read (the index's rebuild) makes few system calls; a record longer than
// this is read in several chunks.
constexpr size_t kChunk = 256 * 1024;

std::runtime_error reader_error(const std::filesystem::path& file, uint64_t offset, const std::string& what) {
  return std::runtime_error(file.string() + ":" + std::to_string(offset) + ": " + what);
}

}  // namespace

TrailReader::TrailReader(std::filesystem::path dir, uint64_t from_seq) : dir_(std::move(dir)), from_seq_(from_seq) {}

TrailReader::TrailReader(std::filesystem::path dir, std::filesystem::path file, uint64_t offset)
    : dir_(std::move(dir)), from_seq_(1), resume_file_(std::move(file)), offset_(offset) {}

TrailReader::~TrailReader() { close_current(); }

TrailReader::TrailReader(TrailReader&& other) noexcept
    : dir_(std::move(other.dir_)),
      from_seq_(other.from_seq_),
      resume_file_(std::move(other.resume_file_)),
      files_(std::move(other.files_)),
      file_index_(other.file_index_),
      positioned_(other.positioned_),
      fd_(std::exchange(other.fd_, -1)),
      offset_(other.offset_),
      pending_(std::move(other.pending_)),
      start_(other.start_) {}

TrailReader& TrailReader::operator=(TrailReader&& other) noexcept {
  if (this != &other) {
    close_current();
    dir_ = std::move(other.dir_);
    from_seq_ = other.from_seq_;
    resume_file_ = std::move(other.resume_file_);
    files_ = std::move(other.files_);
    file_index_ = other.file_index_;
    positioned_ = other.positioned_;
    fd_ = std::exchange(other.fd_, -1);
    offset_ = other.offset_;
    pending_ = std::move(other.pending_);
    start_ = other.start_;
  }
  return *this;
}

std::optional<TrailRecord> TrailReader::next() {
  if (!positioned_ && !position()) return std::nullopt;
  for (;;) {
    const size_t nl = pending_.find('\n', start_);
    if (nl == std::string::npos) {
      if (refill()) continue;
      if (advance_file()) continue;
      return std::nullopt;
    }
    TrailRecord record;
    record.line.assign(pending_, start_, nl - start_);
    record.file = files_[file_index_].path;
    record.offset = offset_;
    offset_ += record.line.size() + 1;
    start_ = nl + 1;
    const auto head = read_record_head(record.line);
    if (!head) throw reader_error(record.file, record.offset, "not a trail record (it does not start {\"v\":N,\"seq\":N,\"prev\":...)");
    if (head->seq < from_seq_) continue;
    record.seq = head->seq;
    record.prev = head->prev;
    return record;
  }
}

bool TrailReader::position() {
  files_ = list_trail_files(dir_);
  if (files_.empty()) return false;
  if (!resume_file_.empty()) {
    const auto it = std::find_if(files_.begin(), files_.end(), [&](const TrailFile& f) {
      return f.path.filename() == resume_file_.filename();
    });
    if (it == files_.end()) throw reader_error(resume_file_, offset_, "not a file of the trail in " + dir_.string());
    file_index_ = static_cast<size_t>(it - files_.begin());
  } else {
    // The last file starting at or before from_seq holds it (or the trail starts after it).
    file_index_ = 0;
    for (size_t i = 1; i < files_.size() && files_[i].first_seq <= from_seq_; ++i) file_index_ = i;
    offset_ = 0;
  }
  open_current();
  positioned_ = true;
  return true;
}

bool TrailReader::refill() {
  pending_.clear();
  start_ = 0;
  for (;;) {
    const size_t had = pending_.size();
    pending_.resize(had + kChunk);
    const ssize_t n = ::pread(fd_, pending_.data() + had, kChunk, static_cast<off_t>(offset_ + had));
    const int error = errno;
    pending_.resize(had + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      if (error == EINTR) continue;
      throw reader_error(files_[file_index_].path, offset_, std::string("cannot read: ") + std::strerror(error));
    }
    if (n == 0) return false;
    if (pending_.find('\n', had) != std::string::npos) return true;
  }
}

bool TrailReader::advance_file() {
  if (file_index_ + 1 >= files_.size()) {
    // Look for files created since; the current one keeps its place in the new listing.
    const std::filesystem::path current = files_[file_index_].path;
    files_ = list_trail_files(dir_);
    const auto it = std::find_if(files_.begin(), files_.end(), [&](const TrailFile& f) { return f.path == current; });
    if (it == files_.end()) throw reader_error(current, offset_, "the file disappeared while it was being read");
    file_index_ = static_cast<size_t>(it - files_.begin());
    if (file_index_ + 1 >= files_.size()) return false;
  }
  // The writer finished this file before it created the next one: read what it added meanwhile.
  if (refill()) return true;
  if (!pending_.empty()) {
    throw reader_error(files_[file_index_].path, offset_,
                       "the last line is incomplete although a later file exists (run `promptwall audit verify`)");
  }
  close_current();
  ++file_index_;
  offset_ = 0;
  open_current();
  return true;
}

void TrailReader::open_current() {
  const auto& path = files_[file_index_].path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw reader_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  pending_.clear();
  start_ = 0;
}

void TrailReader::close_current() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace promptwall::audit
