#include "gateway/server/cursor_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace promptwall::gateway::server {

uint64_t CursorFile::load() const {
  std::ifstream in(path_);
  if (!in) return 0;
  std::string text;
  std::getline(in, text);
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (ec != std::errc() || end != text.data() + text.size())
    throw std::runtime_error(path_.string() + " does not hold a record number");
  return seq;
}

void CursorFile::store(uint64_t seq) const {
  const std::filesystem::path tmp = path_.string() + ".tmp";
  const std::string text = std::to_string(seq) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int error = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    error = ok ? errno : error;
    throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(error));
  }
  // The rename itself must survive a crash: fsync the directory.
  int dir = ::open(path_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace promptwall::gateway::server
