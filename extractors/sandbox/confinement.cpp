#include "extractors/sandbox/confinement.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <system_error>

namespace promptwall::extractors::sandbox {
namespace {

[[noreturn]] void fail(int err, const char* what) { throw std::system_error(err, std::generic_category(), what); }

void set_limit(int resource, rlim_t soft, rlim_t hard, const char* what) {
  const rlimit r{soft, hard};
  if (setrlimit(resource, &r) != 0) fail(errno, what);
}

struct FilterDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

class FilterBuilder {
 public:
  FilterBuilder() : ctx_(seccomp_init(SCMP_ACT_ALLOW)) {
    if (!ctx_) fail(ENOMEM, "seccomp_init");
    // Another ABI's syscalls (i386 int 0x80, x32) have other numbers than the rules name: kill.
    check(seccomp_attr_set(ctx_.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "seccomp badarch");
  }

  // `name` fails with `err` whenever every comparison holds (always, with none). A syscall this
  // architecture does not have (open on arm64) is skipped: its *at form is listed too.
  void deny(const char* name, int err, std::initializer_list<scmp_arg_cmp> args = {}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return;
    check(seccomp_rule_add_array(ctx_.get(), SCMP_ACT_ERRNO(static_cast<uint32_t>(err)), nr,
                                 static_cast<unsigned>(args.size()), args.begin()),
          name);
  }

  void load() { check(seccomp_load(ctx_.get()), "seccomp_load"); }

 private:
  static void check(int rc, const char* what) {
    if (rc < 0) fail(-rc, what);
  }
  Filter ctx_;
};

// An int argument's low 32 bits, whatever a raw syscall left in the upper half of the register.
scmp_arg_cmp int_arg_eq(unsigned arg, uint32_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, value};
}
scmp_arg_cmp flag_set(unsigned arg, uint64_t flag) { return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, flag, flag}; }

void load_filter(pid_t parent) {
  FilterBuilder f;
  for (const char* name : {"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendmsg",
                           "sendmmsg", "recvmsg", "recvmmsg"})
    f.deny(name, EPERM);

  // Files on disk are read, never written: a write open, and every call that changes a name,
  // a mode, an owner or a size on disk. A memfd (the legacy reader's) is no name on disk.
  for (uint64_t flag : {uint64_t{O_WRONLY}, uint64_t{O_RDWR}, uint64_t{O_CREAT}, uint64_t{O_TRUNC}}) {
    f.deny("open", EPERM, {flag_set(1, flag)});
    f.deny("openat", EPERM, {flag_set(2, flag)});
  }
  f.deny("openat2", ENOSYS);
  for (const char* name :
       {"creat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link",
        "linkat", "symlink", "symlinkat", "mknod", "mknodat", "chmod", "fchmod", "fchmodat", "chown", "fchown",
        "lchown", "fchownat", "truncate", "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr",
        "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "name_to_handle_at", "open_by_handle_at"})
    f.deny(name, EPERM);

  // Other processes of the gateway's user: not traced, read, signalled (the gateway above all),
  // and no child leaves the worker's process group, which the pool kills as a whole.
  for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_open",
                           "pidfd_getfd", "pidfd_send_signal", "kcmp", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                           "tkill", "setsid", "setpgid"})
    f.deny(name, EPERM);
  f.deny("kill", EPERM, {int_arg_eq(0, static_cast<uint32_t>(parent))});
  f.deny("kill", EPERM, {flag_set(0, 0x80000000u)});  // -1 (everyone) and any process group
  f.deny("tgkill", EPERM, {int_arg_eq(0, static_cast<uint32_t>(parent))});

  // The kernel's larger surfaces and the machine's state.
  for (const char* name :
       {"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd", "mount",
        "umount", "umount2", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
        "pivot_root", "chroot", "unshare", "setns", "kexec_load", "kexec_file_load", "init_module",
        "finit_module", "delete_module", "keyctl", "add_key", "request_key", "reboot", "swapon", "swapoff",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "acct", "quotactl", "syslog", "iopl",
        "ioperm", "vhangup"})
    f.deny(name, EPERM);
  f.deny("clone3", ENOSYS);
  for (uint64_t flag : {uint64_t{CLONE_NEWNS}, uint64_t{CLONE_NEWCGROUP}, uint64_t{CLONE_NEWUTS},
                        uint64_t{CLONE_NEWIPC}, uint64_t{CLONE_NEWUSER}, uint64_t{CLONE_NEWPID},
                        uint64_t{CLONE_NEWNET}})
    f.deny("clone", EPERM, {flag_set(0, flag)});
  // personality(0xffffffff) only reads it; setting it could turn off ASLR for the tools exec'd.
  f.deny("personality", EPERM, {scmp_arg_cmp{0, SCMP_CMP_NE, 0xffffffffu, 0}});
  f.load();
}

}  // namespace

void confine_extraction_worker(const ExtractionLimits& limits) {
  const pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno, "PR_SET_PDEATHSIG");
  if (getppid() != parent) fail(ESRCH, "the pool is gone");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(errno, "PR_SET_NO_NEW_PRIVS");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail(errno, "PR_SET_DUMPABLE");

  set_limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // AddressSanitizer and ThreadSanitizer reserve terabytes of shadow address space: the sanitizer
  // builds run workers without the memory limit (tests that need it say so).
  set_limit(RLIMIT_AS, limits.worker_memory_bytes, limits.worker_memory_bytes, "RLIMIT_AS");
#endif
  const auto ms = static_cast<rlim_t>(limits.time_per_file.count());
  const rlim_t cpu_seconds = (ms + 999) / 1000 + 1;
  set_limit(RLIMIT_CPU, cpu_seconds, cpu_seconds + 1, "RLIMIT_CPU");
  set_limit(RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes, "RLIMIT_FSIZE");
  set_limit(RLIMIT_NOFILE, kWorkerOpenFiles, kWorkerOpenFiles, "RLIMIT_NOFILE");
  load_filter(parent);
}

namespace {

// One check: `ok` when the outcome is the expected one.
void note(std::vector<std::string>& report, bool& all, bool ok, const std::string& line) {
  report.push_back((ok ? "ok:     " : "FAILED: ") + line);
  all = all && ok;
}

std::string refused_or_not(int rc, int err) {
  return rc < 0 ? std::string("refused (") + std::strerror(err) + ")" : "ALLOWED";
}

}  // namespace

bool self_test_confinement(std::vector<std::string>& report) {
  const ExtractionLimits limits;
  bool all = true;
  try {
    confine_extraction_worker(limits);
    note(report, all, true, "confined (no_new_privs, not dumpable, rlimits, seccomp filter)");
  } catch (const std::system_error& e) {
    note(report, all, false, std::string("confinement could not be applied: ") + e.what());
    return false;
  }

  errno = 0;
  int rc = socket(AF_INET, SOCK_STREAM, 0);
  int err = errno;
  note(report, all, rc < 0 && err == EPERM, "socket(AF_INET, SOCK_STREAM): " + refused_or_not(rc, err));
  if (rc >= 0) close(rc);

  errno = 0;
  rc = static_cast<int>(ptrace(PTRACE_ATTACH, getppid(), nullptr, nullptr));
  err = errno;
  note(report, all, rc < 0 && err == EPERM, "ptrace(PTRACE_ATTACH, parent): " + refused_or_not(rc, err));

  errno = 0;
  rc = kill(getppid(), 0);
  err = errno;
  note(report, all, rc < 0 && err == EPERM, "kill(parent, 0): " + refused_or_not(rc, err));

  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/promptwall-self-test-" +
                           std::to_string(getpid());
  errno = 0;
  rc = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  err = errno;
  note(report, all, rc < 0 && err == EPERM, "open(" + path + ", O_WRONLY|O_CREAT): " + refused_or_not(rc, err));
  if (rc >= 0) {
    close(rc);
    unlink(path.c_str());  // refused too when confined; only reached when the check failed
  }

  rc = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  err = errno;
  char buffer[256];
  const ssize_t got = rc >= 0 ? read(rc, buffer, sizeof buffer) : -1;
  note(report, all, got > 0, std::string("reading /proc/self/status: ") + (got > 0 ? "works" : std::strerror(err)));
  if (rc >= 0) close(rc);

  rc = memfd_create("promptwall-self-test", MFD_CLOEXEC);
  const ssize_t wrote = rc >= 0 ? write(rc, "memfd", 5) : -1;
  note(report, all, wrote == 5, std::string("writing a memfd (the legacy reader's): ") + (wrote == 5 ? "works" : "fails"));
  if (rc >= 0) close(rc);

  constexpr size_t kSmall = 64u << 20;
  auto* small = static_cast<char*>(std::malloc(kSmall));
  if (small) std::memset(small, 1, kSmall);
  note(report, all, small != nullptr, std::string("allocating and touching 64 MiB: ") + (small ? "works" : "fails"));
  std::free(small);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  report.push_back("skipped: the memory limit (the sanitizer build sets no RLIMIT_AS)");
#else
  const size_t big = static_cast<size_t>(limits.worker_memory_bytes) + (64u << 20);
  void* over = std::malloc(big);
  note(report, all, over == nullptr,
       "allocating " + std::to_string(big >> 20) + " MiB, over the " + std::to_string(limits.worker_memory_bytes >> 20) +
           " MiB limit: " + (over ? "ALLOWED" : "refused"));
  std::free(over);
#endif
  return all;
}

}  // namespace promptwall::extractors::sandbox
