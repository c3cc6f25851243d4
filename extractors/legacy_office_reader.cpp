#include "extractors/legacy_office_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "extractors/compound_file.h"

namespace promptwall::extractors {

namespace {

constexpr size_t kStderrKept = 4096;
// Where Debian installs the tools: an absolute path, so PATH cannot substitute another program.
constexpr std::array<std::string_view, 3> kToolDirs{"/usr/bin/", "/bin/", "/usr/local/bin/"};

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// `fd` moved to a descriptor number of 10 or more (close-on-exec): then the child's stdio and its
// fixed descriptor 3 never collide with a descriptor being copied, even in a worker started
// without stdin, stdout or stderr.
int above_stdio(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return moved;
}

struct Tool {
  std::string_view name;
  std::vector<std::string> args;  // before the file's path
};

Tool tool_for(FileType type) {
  switch (type) {
    case FileType::doc: return {"antiword", {"-w", "0", "-m", "UTF-8.txt"}};
    case FileType::xls: return {"xls2csv", {"-d", "utf-8", "-q", "0", "-c", "\t"}};
    default: return {};
  }
}

std::string find_tool(std::string_view name) {
  for (auto dir : kToolDirs) {
    std::string path = std::string(dir) + std::string(name);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

bool says_encrypted(std::string_view err) {
  std::string lower(err);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("encrypt") != std::string::npos || lower.find("password") != std::string::npos;
}

struct RunResult {
  ReadOutcome outcome;   // a cause when the run itself failed (spawn, time, size)
  std::string out;
  std::string err;
  int status = 0;        // waitpid's status
};

// Runs `path args... /proc/self/fd/N` with `bytes` behind fd N; stdout up to `max_out` bytes.
RunResult run_tool(const std::string& path, const Tool& tool, std::string_view bytes, uint64_t max_out,
                   std::chrono::milliseconds time_limit) {
  RunResult r;
  const auto started = std::chrono::steady_clock::now();
  Fd memfd(above_stdio(::memfd_create("promptwall-legacy-office", MFD_CLOEXEC)));
  if (memfd.get() < 0) {
    r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "memfd_create failed: errno " + std::to_string(errno));
    return r;
  }
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(memfd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "writing the memory file failed");
      return r;
    }
    done += static_cast<size_t>(n);
  }
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "pipe2 failed");
    return r;
  }
  Fd out_read(above_stdio(out_pipe[0])), out_write(above_stdio(out_pipe[1]));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "pipe2 failed");
    return r;
  }
  Fd err_read(above_stdio(err_pipe[0])), err_write(above_stdio(err_pipe[1]));
  if (out_read.get() < 0 || out_write.get() < 0 || err_read.get() < 0 || err_write.get() < 0) {
    r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "no file descriptors left");
    return r;
  }

  // The child sees the memory file at descriptor 3; dup2 clears close-on-exec there.
  const int child_fd = 3;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawn_file_actions_adddup2(&actions, memfd.get(), child_fd);
  const std::string file = "/proc/self/fd/" + std::to_string(child_fd);
  std::vector<std::string> args{path};
  args.insert(args.end(), tool.args.begin(), tool.args.end());
  args.push_back(file);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string lang = "LANG=C.UTF-8";
  char* envp[] = {lang.data(), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  out_write.reset();
  err_write.reset();
  if (spawned != 0) {
    r.outcome = ReadOutcome::stop(Unscannable::extractor_failed,
                                  std::string(tool.name) + " could not be started: error " + std::to_string(spawned));
    return r;
  }

  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (elapsed >= time_limit) {
      r.outcome = ReadOutcome::stop(Unscannable::timeout, std::string(tool.name) + " over time_per_file");
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(time_limit - elapsed).count();
    std::array<pollfd, 2> fds{{{out_open ? out_read.get() : -1, POLLIN, 0}, {err_open ? err_read.get() : -1, POLLIN, 0}}};
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left + 1, 1000)));
    if (ready < 0 && errno != EINTR) {
      r.outcome = ReadOutcome::stop(Unscannable::extractor_failed, "poll failed");
      break;
    }
    if (ready <= 0) continue;
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::read(out_read.get(), buf, sizeof buf);
      if (n > 0) {
        r.out.append(buf, static_cast<size_t>(n));
        if (r.out.size() > max_out) {
          r.outcome = ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
          break;
        }
      } else if (n == 0 || errno != EINTR) {
        out_open = false;
      }
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::read(err_read.get(), buf, sizeof buf);
      if (n > 0) {
        if (r.err.size() < kStderrKept) r.err.append(buf, std::min(static_cast<size_t>(n), kStderrKept - r.err.size()));
      } else if (n == 0 || errno != EINTR) {
        err_open = false;
      }
    }
  }
  if (!r.outcome.good()) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// antiword prints a table row as "|cell   |cell   |": the cells, trimmed, end with '\t'.
void write_doc(std::string_view text, TextCollector& out) {
  out.begin_part(SpanPlace{Place::body}, "antiword");
  bool in_table = false;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool row = line.size() >= 2 && line.front() == '|' && line.back() == '|';
    if (row != in_table) {
      out.end_paragraph();
      out.anchor(SpanPlace{row ? Place::table : Place::body});
      in_table = row;
    }
    if (row) {
      line = line.substr(1, line.size() - 2);  // inside the outer bars
      for (bool first = true;; first = false) {
        if (!first) out.end_cell();
        const size_t bar = line.find('|');
        out.text(trim(line.substr(0, bar)));
        if (bar == std::string_view::npos) break;
        line.remove_prefix(bar + 1);
      }
      out.end_paragraph();
      continue;
    }
    line = trim(line);
    if (line.empty()) continue;
    out.text(line);
    out.end_paragraph();
  }
}

// xls2csv: rows of tab-separated cells, a form feed after each sheet.
void write_xls(std::string_view text, TextCollector& out) {
  uint32_t sheet = 1;
  size_t at = 0;
  while (at < text.size()) {
    size_t ff = text.find('\f', at);
    if (ff == std::string_view::npos) ff = text.size();
    const std::string_view body = text.substr(at, ff - at);
    at = ff + 1;
    out.begin_part(SpanPlace{Place::sheet, sheet}, "sheet " + std::to_string(sheet));
    ++sheet;
    size_t line_at = 0;
    while (line_at < body.size()) {
      size_t end = body.find('\n', line_at);
      if (end == std::string_view::npos) end = body.size();
      std::string_view row = body.substr(line_at, end - line_at);
      line_at = end + 1;
      if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
      if (row.find_first_not_of('\t') == std::string_view::npos) continue;  // an empty row
      out.text(row);
      out.end_paragraph();
    }
  }
}

// --- PowerPoint 97-2003 ([MS-PPT]) ---------------------------------------------------------------
//
// catppt prints nothing for the .ppt files LibreOffice writes (it stops early in the stream and
// exits 0), so the PowerPoint Document stream is read here: a walk over its records (an 8-byte
// header each: version/instance, type, length; version 0xF is a container), iterative, bounded in
// depth, each length checked against its container. Text atoms (TextCharsAtom UTF-16LE,
// TextBytesAtom Latin-1) are placed by the containers around them.

constexpr uint16_t kSlideListWithText = 0x0FF0;
constexpr uint16_t kSlidePersistAtom = 0x03F3;
constexpr uint16_t kSlide = 0x03EE;
constexpr uint16_t kNotes = 0x03F0;
constexpr uint16_t kNotesAtom = 0x03F1;
constexpr uint16_t kMainMaster = 0x03F8;
constexpr uint16_t kHeadersFooters = 0x0FD9;
constexpr uint16_t kTextChars = 0x0FA0;
constexpr uint16_t kTextBytes = 0x0FA8;
constexpr uint16_t kCString = 0x0FBA;
constexpr size_t kMaxRecordDepth = 64;

uint16_t le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(le16(b, at)) | static_cast<uint32_t>(le16(b, at + 2)) << 16;
}

std::string utf16le_to_utf8(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (size_t i = 0; i + 1 < b.size(); i += 2) {
    UChar32 c = le16(b, i);
    if (U16_IS_LEAD(c) && i + 3 < b.size() && U16_IS_TRAIL(le16(b, i + 2))) {
      c = U16_GET_SUPPLEMENTARY(c, le16(b, i + 2));
      i += 2;
    } else if (U16_IS_SURROGATE(c)) {
      c = 0xFFFD;
    }
    char buf[4];
    int32_t n = 0;
    U8_APPEND_UNSAFE(buf, n, c);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string latin1_to_utf8(std::string_view b) {
  std::string out;
  for (unsigned char c : b) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

class PptText {
 public:
  explicit PptText(TextCollector& out) : out_(out) {}

  void read(std::string_view s) {
    struct Open {
      size_t end;
      uint16_t type;
      uint16_t instance;
    };
    std::vector<Open> stack;
    size_t pos = 0;
    while (pos + 8 <= s.size() && !out_.full()) {
      while (!stack.empty() && pos + 8 > stack.back().end) {
        pos = std::max(pos, stack.back().end);
        stack.pop_back();
      }
      const size_t limit = stack.empty() ? s.size() : stack.back().end;
      if (pos + 8 > limit) break;
      const uint16_t ver_instance = le16(s, pos);
      const uint16_t type = le16(s, pos + 2);
      const size_t body = pos + 8;
      const size_t len = std::min<size_t>(le32(s, pos + 4), limit - body);
      const uint16_t instance = static_cast<uint16_t>(ver_instance >> 4);
      if ((ver_instance & 0xF) == 0xF && stack.size() < kMaxRecordDepth) {
        if (type == kSlide) ++slide_;
        if (type == kNotes) notes_slide_ = 0;
        stack.push_back({body + len, type, instance});
        pos = body;
        continue;
      }
      atom(stack, type, instance, s.substr(body, len));
      pos = body + len;
    }
  }

 private:
  template <typename Stack>
  void atom(const Stack& stack, uint16_t type, uint16_t instance, std::string_view data) {
    // The innermost container that says where the text is.
    Place place = Place::slide;
    uint32_t number = 0;
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
      if (it->type == kSlideListWithText) {
        place = it->instance == 1 ? Place::slide_master : it->instance == 2 ? Place::slide_notes : Place::slide;
        number = place == Place::slide_master ? 0 : list_item_;
        break;
      }
      if (it->type == kSlide) { number = slide_; break; }
      if (it->type == kNotes) {
        // The notes of the slide its NotesAtom names; the notes master names none.
        place = notes_slide_ == 0 ? Place::slide_master : Place::slide_notes;
        number = notes_slide_;
        break;
      }
      if (it->type == kMainMaster) { place = Place::slide_master; break; }
      if (it->type == kHeadersFooters) {
        place = instance == 1 ? Place::header : Place::footer;
        break;
      }
    }
    if (type == kSlidePersistAtom) {
      ++list_item_;
      // In the slide list (instance 0), in presentation order: the slide's id, which notes name.
      if (!stack.empty() && stack.back().type == kSlideListWithText && stack.back().instance == 0 && data.size() >= 16)
        slide_ids_.push_back(le32(data, 12));
      return;
    }
    if (type == kNotesAtom && data.size() >= 4) {
      const uint32_t id = le32(data, 0);
      const auto it = std::find(slide_ids_.begin(), slide_ids_.end(), id);
      notes_slide_ = id == 0 || it == slide_ids_.end() ? 0 : static_cast<uint32_t>(it - slide_ids_.begin() + 1);
      return;
    }
    std::string text;
    if (type == kTextChars) text = utf16le_to_utf8(data);
    else if (type == kTextBytes) text = latin1_to_utf8(data);
    else if (type == kCString && (place == Place::header || place == Place::footer) && instance != 0) text = utf16le_to_utf8(data);
    else return;
    if (place != place_ || number != number_ || !begun_) {
      out_.begin_part(SpanPlace{place, number}, "PowerPoint Document");
      place_ = place;
      number_ = number;
      begun_ = true;
    }
    // Paragraphs end with '\r'; '\v' breaks a line.
    size_t at = 0;
    while (at <= text.size()) {
      const size_t end = text.find_first_of("\r\v", at);
      const std::string_view line = trim(std::string_view(text).substr(at, end == std::string::npos ? std::string::npos : end - at));
      if (!line.empty()) {
        out_.text(line);
        out_.end_paragraph();
      }
      if (end == std::string::npos) break;
      at = end + 1;
    }
  }

  TextCollector& out_;
  uint32_t slide_ = 0, list_item_ = 0, notes_slide_ = 0;
  std::vector<uint32_t> slide_ids_;
  Place place_ = Place::slide;
  uint32_t number_ = 0;
  bool begun_ = false;
};

ReadOutcome read_ppt(std::string_view bytes, TextCollector& out, const ReadContext& ctx) {
  const CompoundFile file(bytes);
  if (!file.valid()) return ReadOutcome::stop(Unscannable::extractor_failed, "ppt: not a readable compound file");
  for (const auto& e : file.entries())
    if (e.name == u"EncryptedSummary") return ReadOutcome::stop(Unscannable::encrypted, "ppt: password-protected presentation");
  const std::optional<std::string> stream = file.stream(u"PowerPoint Document", ctx.limits.max_file_bytes);
  if (!stream) return ReadOutcome::stop(Unscannable::extractor_failed, "ppt: no PowerPoint Document stream");
  PptText(out).read(*stream);
  if (out.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
  return ReadOutcome::ok();
}

}  // namespace

ReadOutcome read_legacy_office(FileType type, std::string_view bytes, TextCollector& out, ReadContext& ctx) {
  if (type == FileType::ppt) return read_ppt(bytes, out, ctx);
  const Tool tool = tool_for(type);
  if (tool.name.empty())
    return ReadOutcome::stop(Unscannable::extractor_failed, "no legacy Office converter for " + std::string(to_string(type)));
  const std::string path = find_tool(tool.name);
  if (path.empty()) return ReadOutcome::stop(Unscannable::extractor_failed, std::string(tool.name) + " is not installed");

  const uint64_t room = ctx.limits.max_text_bytes > out.bytes() ? ctx.limits.max_text_bytes - out.bytes() : 0;
  // The tool's output is a little larger than the text kept (table bars, padding): allow for it.
  RunResult run = run_tool(path, tool, bytes, room + room / 4 + 4096, ctx.limits.time_per_file);
  if (!run.outcome.good()) return run.outcome;
  const bool exited_ok = WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0;
  const bool nothing_read = run.out.find_first_not_of(" \t\r\n\f") == std::string::npos;
  if (!exited_ok || (nothing_read && !run.err.empty())) {
    if (says_encrypted(run.err))
      return ReadOutcome::stop(Unscannable::encrypted, std::string(tool.name) + " reports a password-protected file");
    std::string how = "no text and an error message";
    if (WIFSIGNALED(run.status)) how = "killed by signal " + std::to_string(WTERMSIG(run.status));
    else if (!exited_ok) how = "exit status " + std::to_string(WEXITSTATUS(run.status));
    return ReadOutcome::stop(Unscannable::extractor_failed, std::string(tool.name) + " could not read the file (" + how + ")");
  }
  switch (type) {
    case FileType::doc: write_doc(run.out, out); break;
    default: write_xls(run.out, out); break;
  }
  if (out.full()) return ReadOutcome::stop(Unscannable::too_big, "text over the max_text_bytes limit");
  return ReadOutcome::ok();
}

}  // namespace promptwall::extractors
