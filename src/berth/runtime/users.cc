#include "berth/runtime/users.h"

#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::runtime {

// Raw system calls, for this task only: glibc's wrappers apply an id change to every thread
// of the process they believe they are in, and an init that shares its runtime's memory
// (CLONE_VM) would have them reach the runtime's threads.
Status SwitchUser(const oci::User& user, bool setgroups_allowed) {
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (setgroups_allowed) {
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0) {
      return ErrnoFail("process.user.additionalGids: setgroups");
    }
  } else if (!groups.empty()) {
    return InvalidArgument(
        "process.user.additionalGids: cannot set supplementary groups: setgroups is denied in "
        "this user namespace");
  }
  if (::syscall(SYS_setresgid, user.gid, user.gid, user.gid) != 0) {
    return ErrnoFail(StrCat("process.user.gid: setresgid ", user.gid));
  }
  if (::syscall(SYS_setresuid, user.uid, user.uid, user.uid) != 0) {
    return ErrnoFail(StrCat("process.user.uid: setresuid ", user.uid));
  }
  return Ok();
}

mode_t ProcessUmask(const oci::User& user) {
  return user.umask ? static_cast<mode_t>(*user.umask & 0777) : 0022;
}

std::string HomeForUid(uint32_t uid) {
  auto passwd = ReadFile("/etc/passwd");
  if (!passwd) return "/";
  for (const auto& line : Split(*passwd, '\n')) {
    auto f = Split(line, ':');
    if (f.size() < 7) continue;
    auto u = ParseUint64(f[2], "uid");
    if (u && *u == uid && !f[5].empty()) return f[5];
  }
  return "/";
}

void EnsureHome(std::vector<std::string>& env, uint32_t uid) {
  for (const auto& e : env)
    if (e.rfind("HOME=", 0) == 0) return;
  env.push_back("HOME=" + HomeForUid(uid));
}

}  // namespace berth::runtime
