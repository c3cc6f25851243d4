#include "extractors/sandbox/extraction_pool.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <system_error>

#include "extractors/document_wire.h"

namespace promptwall::extractors::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string signal_detail(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  std::string out = "worker killed by " + (abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig));
  if (sig == SIGXCPU) out += ": CPU time limit";
  if (sig == SIGXFSZ) out += ": file size limit";
  if (sig == SIGSYS) out += ": system call refused";
  return out;
}

std::string exit_detail(int status) {
  switch (status) {
    case 2: return "worker could not decode the request (exit status 2)";
    case 3: return "worker could not confine itself (exit status 3): the host lacks seccomp or prctl";
    case 4: return "worker could not write its answer (exit status 4)";
    default: return "worker exited with status " + std::to_string(status);
  }
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 60'000));
}

// What wakes a waiting pool thread.
enum class Wake { ready, worker_exited, stopped, timed_out };

Wake wait_for(int fd, short events, int pidfd, int stop_event, Clock::time_point deadline) {
  for (;;) {
    pollfd fds[3] = {{stop_event, POLLIN, 0}, {pidfd, POLLIN, 0}, {fd, events, 0}};
    const nfds_t n = fd < 0 ? 2 : 3;
    const int ms = remaining_ms(deadline);
    const int rc = ::poll(fds, n, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Wake::stopped;  // poll itself failed: treat as the end of this job
    if (fds[0].revents) return Wake::stopped;
    if (n == 3 && fds[2].revents) return Wake::ready;
    if (fds[1].revents) return Wake::worker_exited;
    if (rc == 0 && Clock::now() >= deadline) return Wake::timed_out;
  }
}

ExtractedDocument failure(Unscannable cause, std::string detail) {
  ExtractedDocument d;
  d.unscannable = cause;
  d.detail = std::move(detail);
  return d;
}

}  // namespace

ExtractionPool::ExtractionPool(Options options) : options_(std::move(options)) {
  if (const char* path = std::getenv("PATH")) environment_.push_back(std::string("PATH=") + path);
  else environment_.push_back("PATH=/usr/bin:/bin");
  environment_.push_back("LANG=C.UTF-8");
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* value = std::getenv(name)) environment_.push_back(std::string(name) + "=" + value);

  stop_event_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_event_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  for (unsigned i = 0; i < options_.spares; ++i) {
    std::string error;
    Worker w = spawn(error);
    if (w.pid < 0) break;  // reported on the first document that needs a worker
    spares_.push_back(w);
  }
  const unsigned threads = options_.concurrency == 0 ? 1 : options_.concurrency;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ExtractionPool::~ExtractionPool() {
  std::deque<Job> queued;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queued.swap(queue_);
  }
  wake_.notify_all();
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(stop_event_, &one, sizeof one);
  for (Job& job : queued) {
    ExtractedDocument d = failure(Unscannable::extractor_failed, "extraction pool stopped");
    d.name = job.name;
    d.size = job.bytes.size();
    try {
      job.done(std::move(d));
    } catch (...) {
    }
  }
  for (std::thread& t : threads_) t.join();
  for (Worker& spare : spares_) end_worker(spare);
  ::close(stop_event_);
}

void ExtractionPool::submit(std::string bytes, std::string name, std::function<void(ExtractedDocument)> done) {
  const char* refusal = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) refusal = "extraction pool stopped";
    else if (queue_.size() >= options_.max_queued) refusal = "extraction queue full";
    else queue_.push_back(Job{std::move(bytes), std::move(name), std::move(done)});
  }
  if (!refusal) {
    wake_.notify_one();
    return;
  }
  ExtractedDocument d = failure(Unscannable::extractor_failed, refusal);
  d.name = std::move(name);
  d.size = bytes.size();
  d.sha256 = sha256_hex(bytes);
  done(std::move(d));
}

ExtractedDocument ExtractionPool::extract(std::string_view bytes, std::string_view name) {
  std::promise<ExtractedDocument> answer;
  auto future = answer.get_future();
  submit(std::string(bytes), std::string(name), [&answer](ExtractedDocument d) { answer.set_value(std::move(d)); });
  return future.get();
}

ExtractionPool::Stats ExtractionPool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ExtractionPool::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // the destructor answers what is still queued
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Ending ending = Ending::crashed;
    ExtractedDocument d = run_job(job, ending);
    {
      std::lock_guard lock(mutex_);
      if (ending == Ending::answered) ++stats_.completed;
      else if (ending == Ending::crashed) ++stats_.crashed;
      else if (ending == Ending::timed_out) ++stats_.timed_out;
    }
    try {
      job.done(std::move(d));
    } catch (...) {
      // The caller's callback failing must not take a pool thread (and its queue) down with it.
    }
    // Replacements start once this document is answered, not before: exec and the loader would
    // compete for the CPUs its own worker is using.
    top_up_spares();
  }
}

ExtractedDocument ExtractionPool::run_job(const Job& job, Ending& ending) {
  const auto finish = [&](ExtractedDocument d, Ending how, Clock::time_point start) {
    ending = how;
    d.name = job.name;
    d.size = job.bytes.size();
    d.sha256 = sha256_hex(job.bytes);
    d.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return d;
  };
  std::string error;
  Worker w = take_worker(error);
  if (w.pid < 0)
    return finish(failure(Unscannable::extractor_failed, "cannot start the extraction worker: " + error),
                  Ending::crashed, Clock::now());
  {
    std::lock_guard lock(mutex_);
    ++stats_.started;
  }

  const std::string request = wire::encode_request({options_.limits, job.name, job.bytes});
  const auto start = Clock::now();
  const auto deadline = start + options_.limits.time_per_file;
  const wire::AnswerBounds bounds{options_.limits.max_text_bytes};
  const uint64_t max_frame = wire::max_answer_frame_bytes(bounds);

  Wake wake = Wake::ready;
  // Write the request; a worker that dies first is judged by how it died (below).
  for (size_t sent = 0; sent < request.size();) {
    wake = wait_for(w.socket, POLLOUT, w.pidfd, stop_event_, deadline);
    if (wake != Wake::ready) break;
    const ssize_t n = ::send(w.socket, request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      wake = Wake::worker_exited;
      break;
    }
    sent += static_cast<size_t>(n);
  }
  if (wake == Wake::ready) ::shutdown(w.socket, SHUT_WR);

  // Read one answer frame: the header says how long it is, within the bound; the rest arrives.
  std::string frame;
  uint64_t want = wire::kFrameHeaderBytes;
  bool header_read = false;
  std::string bad_answer;
  while (wake == Wake::ready && frame.size() < want) {
    wake = wait_for(w.socket, POLLIN, w.pidfd, stop_event_, deadline);
    // What a worker wrote before exiting is still to be read; a child it left holding the socket
    // open without writing must not keep this loop spinning, so an exited worker's empty socket ends it.
    const bool exited = wake == Wake::worker_exited;
    if (exited) wake = Wake::ready;
    if (wake != Wake::ready) break;
    char buffer[64 * 1024];
    const size_t room = static_cast<size_t>(std::min<uint64_t>(sizeof buffer, want - frame.size()));
    const ssize_t n = ::recv(w.socket, buffer, room, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!exited) continue;
      wake = Wake::worker_exited;
      break;
    }
    if (n <= 0) {
      wake = Wake::worker_exited;  // EOF (or reset) before a whole answer
      break;
    }
    frame.append(buffer, static_cast<size_t>(n));
    if (!header_read && frame.size() == wire::kFrameHeaderBytes) {
      const auto length = wire::decode_frame_header(frame, wire::FrameKind::answer,
                                                    max_frame - wire::kFrameHeaderBytes, &bad_answer);
      if (!length) {
        wake = Wake::worker_exited;
        break;
      }
      header_read = true;
      want = wire::kFrameHeaderBytes + *length;
    }
  }
  const bool whole_answer = header_read && frame.size() == want && bad_answer.empty();
  // A whole answer: the worker has nothing left to do but exit, which it must within the time.
  if (whole_answer && wake == Wake::ready) {
    wake = wait_for(-1, 0, w.pidfd, stop_event_, deadline);
    if (wake == Wake::worker_exited) wake = Wake::ready;
  }

  // The worker's whole group: the tools it started go with it. A worker that already exited is a
  // zombie until reaped below, so its group id cannot have been reused yet.
  ::kill(-w.pid, SIGKILL);
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(w.socket);
  ::close(w.pidfd);

  if (wake == Wake::stopped)
    return finish(failure(Unscannable::extractor_failed, "extraction pool stopped"), Ending::stopped, start);
  if (wake == Wake::timed_out)
    return finish(failure(Unscannable::timeout, "no answer within " +
                                                    std::to_string(options_.limits.time_per_file.count()) +
                                                    " ms: worker killed"),
                  Ending::timed_out, start);
  // A header refused while reading: the pool killed the worker for it, so its status says nothing.
  if (!bad_answer.empty())
    return finish(failure(Unscannable::extractor_failed, "worker answer refused: " + bad_answer), Ending::crashed,
                  start);
  if (WIFSIGNALED(status))
    return finish(failure(Unscannable::extractor_failed, signal_detail(WTERMSIG(status))), Ending::crashed, start);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return finish(failure(Unscannable::extractor_failed, exit_detail(WEXITSTATUS(status))), Ending::crashed, start);
  if (!whole_answer)
    return finish(failure(Unscannable::extractor_failed, "worker exited without a whole answer"), Ending::crashed,
                  start);
  auto document = wire::decode_document(frame, bounds, &bad_answer);
  if (!document)
    return finish(failure(Unscannable::extractor_failed, "worker answer does not decode: " + bad_answer),
                  Ending::crashed, start);
  return finish(std::move(*document), Ending::answered, start);
}

ExtractionPool::Worker ExtractionPool::take_worker(std::string& error) {
  Worker taken;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (spares_.empty()) break;
      taken = spares_.front();
      spares_.pop_front();
    }
    pollfd exited{taken.pidfd, POLLIN, 0};
    if (::poll(&exited, 1, 0) == 0) break;  // alive: use it
    end_worker(taken);                      // a spare that died idle (killed from outside)
    taken = Worker{};
  }
  if (taken.pid < 0) taken = spawn(error);
  return taken;
}

void ExtractionPool::top_up_spares() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || spares_.size() >= options_.spares) return;
    }
    std::string ignored;
    Worker spare = spawn(ignored);
    if (spare.pid < 0) return;
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      end_worker(spare);
      return;
    }
    spares_.push_back(spare);
  }
}

ExtractionPool::Worker ExtractionPool::spawn(std::string& error) const {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  // The gateway's client and upstream sockets are not all close-on-exec: close them all.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  // The gateway ignores SIGPIPE (and may handle others); an ignored signal stays ignored across exec.
  for (int sig : {SIGPIPE, SIGXCPU, SIGXFSZ, SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options_.worker_executable.c_str()));
  for (const std::string& a : options_.worker_arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : environment_) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, options_.worker_executable.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    error = options_.worker_executable + ": " + std::strerror(rc);
    return {};
  }
  const int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    error = std::string("pidfd_open: ") + std::strerror(errno);
    Worker w{pid, sv[0], -1};
    end_worker(w);
    return {};
  }
  return Worker{pid, sv[0], pidfd};
}

void ExtractionPool::end_worker(Worker& w) const {
  if (w.pid > 0) {
    ::kill(-w.pid, SIGKILL);
    while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (w.socket >= 0) ::close(w.socket);
  if (w.pidfd >= 0) ::close(w.pidfd);
  w = Worker{};
}

}  // namespace promptwall::extractors::sandbox
