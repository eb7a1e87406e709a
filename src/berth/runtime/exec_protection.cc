#include "berth/runtime/exec_protection.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace berth::runtime {

extern const uint8_t kTrampolineElf[];
extern const size_t kTrampolineElfSize;

namespace {

Result<UniqueFd> MemfdWith(const char* name, const void* data, size_t size, bool exec) {
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | (exec ? MFD_EXEC : 0);
  int fd = ::memfd_create(name, flags);
  if (fd < 0 && errno == EINVAL && exec) fd = ::memfd_create(name, flags & ~MFD_EXEC);  // < 6.3
  if (fd < 0) return ErrnoFail(StrCat("memfd_create ", Quote(name)));
  UniqueFd f(fd);
  BERTH_TRY(WriteAll(fd, std::string_view(static_cast<const char*>(data), size), name));
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
    return ErrnoFail(StrCat("seal ", Quote(name)));
  if (::lseek(fd, 0, SEEK_SET) != 0) return ErrnoFail("lseek");
  return f;
}

}  // namespace

Result<UniqueFd> SealedTrampoline() {
  return MemfdWith("berth-exec", kTrampolineElf, kTrampolineElfSize, true);
}

Result<UniqueFd> FilterMemfd(const void* data, size_t size) {
  return MemfdWith("berth-seccomp", data, size, false);
}

Error ExecThroughTrampoline(int trampoline_fd, const FinalExec& e) {
  std::vector<std::string> head = {"berth-exec", StrCat(e.seccomp_filter_fd),
                                   StrCat(e.seccomp_flags), StrCat(e.listener_socket_fd),
                                   StrCat(e.start_fifo_fd), e.path};
  std::vector<char*> argv;
  for (auto& h : head) argv.push_back(h.data());
  for (auto& a : e.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& v : e.env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  // SAFETY: AT_EMPTY_PATH execs the memfd itself; it is close-on-exec, which is fine for an
  // ELF (the kernel holds its own reference to the file).
  ::syscall(SYS_execveat, trampoline_fd, "", argv.data(), envp.data(), AT_EMPTY_PATH);
  return Error::Errno("exec berth-exec trampoline");
}

}  // namespace berth::runtime
