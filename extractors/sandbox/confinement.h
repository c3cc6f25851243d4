// confine_extraction_worker: what an extraction worker process (extraction_worker.h) does to itself
// after reading its one request and before it touches the file's bytes, so that a file which
// subverts a reader (poppler, libzip, expat, antiword...) holds a process that can do little:
//
//   prctl   PR_SET_NO_NEW_PRIVS (no setuid gain across exec; lets an unprivileged process load
//           the filter), PR_SET_DUMPABLE 0 (no core file with a user's document in it, no ptrace
//           of the worker by other processes of the gateway's user), PR_SET_PDEATHSIG SIGKILL
//   rlimits AS = worker_memory_bytes; CPU = ceil(time_per_file)+1 s soft, +1 s hard (SIGXCPU, then
//           SIGKILL); CORE = 0; NOFILE = kWorkerOpenFiles (the tools the legacy reader runs need a
//           few pipes); FSIZE = max_file_bytes: FSIZE 0 would also refuse writes to the memfd the
//           legacy reader hands antiword (measured: EFBIG on a memfd), so file writes on disk are
//           refused by the filter instead and FSIZE only bounds what one memfd can hold
//   seccomp default allow; these fail with EPERM (ENOSYS where libc should fall back):
//           network: socket, socketpair, connect, bind, listen, accept, accept4, send*/recv*msg
//           files on disk: open/openat with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC; creat,
//             openat2 (ENOSYS: its flags are out of the filter's reach), unlink*, rename*,
//             mkdir*, rmdir, link*, symlink*, mknod*, chmod/fchmod*, chown/fchown*, truncate,
//             utime*, set/remove xattr, name_to_handle_at, open_by_handle_at
//           other processes: ptrace, process_vm_readv/writev, process_madvise, pidfd_open,
//             pidfd_getfd, pidfd_send_signal, kcmp, rt_(tg)sigqueueinfo, tkill; kill of the
//             gateway (the parent) or of any process group (negative pid, -1); tgkill outside
//             the worker's own thread group; setsid, setpgid (so the pool's kill of the worker's
//             process group reaches every child it started)
//           the kernel: io_uring_* (its operations bypass seccomp), bpf, perf_event_open,
//             userfaultfd, mount family (mount, umount2, fsopen, fsmount, fsconfig, fspick,
//             move_mount, open_tree, mount_setattr), pivot_root, chroot, unshare, setns,
//             clone with a CLONE_NEW* flag, clone3 (ENOSYS: libc falls back to clone, whose flags
//             the filter can read), kexec_load, kexec_file_load, init/finit/delete_module,
//             keyctl, add_key, request_key, reboot, swapon, swapoff, settimeofday,
//             clock_settime, clock_adjtime, adjtimex, acct, quotactl, syslog, personality
//             (other than a query), iopl, ioperm, vhangup
//           execve stays allowed: the legacy reader runs antiword and catdoc, which inherit the
//           filter and the limits. Syscalls of another ABI (i386 int 0x80, x32) kill the process.
//
// Errors: throws std::system_error when any step fails; the worker must then exit without reading
// the file (fail closed). Not reversible; call once, in the worker, single-threaded.
#pragma once

#include <string>
#include <vector>

#include "extractors/extraction_limits.h"

namespace promptwall::extractors::sandbox {

inline constexpr unsigned kWorkerOpenFiles = 64;

void confine_extraction_worker(const ExtractionLimits& limits);

// Runs in a confined process (`promptwall extract-worker --self-test`): checks that the host's
// kernel enforces the confinement. Each line says what was tried and what happened; returns true
// when every check held (socket(), ptrace, a file write on disk and an allocation over the memory
// limit all fail, while reading a file and allocating memory below the limit still work).
bool self_test_confinement(std::vector<std::string>& report);

}  // namespace promptwall::extractors::sandbox
