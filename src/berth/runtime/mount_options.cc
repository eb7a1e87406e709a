#include "berth/runtime/mount_options.h"

#include <sys/mount.h>

#include "berth/base/strings.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace berth::runtime {

namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},     {"atime", true, MS_NOATIME},
    {"defaults", false, 0},              {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},   {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},           {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},        {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},          {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},        {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},   {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},   {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},        {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"relatime", false, MS_RELATIME},    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},             {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagationOptions[] = {
    {"private", MS_PRIVATE},          {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},            {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},              {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},    {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr AttrOption kRecursiveAttrOptions[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},          {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},      {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},        {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},      {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},  {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

}  // namespace

std::string MountOptions::DataString() const { return Join(data, ","); }

uint64_t MountOptions::AttrSet() const {
  uint64_t a = 0;
  if (flags & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
  // The atime mode is one field: the last explicit choice wins.
  if (flags & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  else if (flags & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  else if (flags & MS_RELATIME) a |= MOUNT_ATTR_RELATIME;
  return a;
}

uint64_t MountOptions::AttrClr() const {
  uint64_t a = 0;
  if (clear_flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (clear_flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (clear_flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (clear_flags & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  // Setting an atime mode replaces the current one (MOUNT_ATTR_RELATIME is 0, so test flags).
  if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) a |= MOUNT_ATTR__ATIME;
  return a;
}

Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options,
                                       std::string_view field) {
  MountOptions m;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& o = options[i];
    if (o.empty()) {
      return InvalidArgument(StrCat(field, "[", static_cast<uint64_t>(i), "]: empty option"));
    }
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (o != f.name) continue;
      known = true;
      if (f.clear) {
        m.flags &= ~f.flag;
        m.clear_flags |= f.flag;
      } else {
        m.flags |= f.flag;
        m.clear_flags &= ~f.flag;
      }
      // The atime modes exclude each other.
      if (!f.clear && (f.flag & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))) {
        m.flags &= ~((MS_NOATIME | MS_STRICTATIME | MS_RELATIME) & ~f.flag);
      }
    }
    if (known) continue;
    if (o == "bind" || o == "rbind") {
      m.bind = true;
      if (o == "rbind") m.recursive = true;
      continue;
    }
    if (o == "remount") {
      return InvalidArgument(StrCat(field, "[", static_cast<uint64_t>(i),
                                    "]: `remount` is not allowed in a container mount"));
    }
    for (const auto& p : kPropagationOptions) {
      if (o == p.name) {
        m.propagation.push_back(p.flags);
        known = true;
      }
    }
    for (const auto& a : kRecursiveAttrOptions) {
      if (o != a.name) continue;
      known = true;
      if (a.clear) {
        m.rec_attr_clr |= a.attr;
        m.rec_attr_set &= ~a.attr;
      } else {
        m.rec_attr_set |= a.attr;
        m.rec_attr_clr &= ~a.attr;
      }
      // An atime mode replaces the current one; MOUNT_ATTR_RELATIME is 0, so match names.
      if (o == "rrelatime" || o == "rnoatime" || o == "rstrictatime") {
        m.rec_attr_set &= ~MOUNT_ATTR__ATIME;
        m.rec_attr_set |= a.attr;
        m.rec_attr_clr |= MOUNT_ATTR__ATIME;
      }
    }
    if (known) continue;
    if (o == "idmap") {
      m.idmap = true;
      continue;
    }
    if (o == "ridmap") {
      m.idmap = m.recursive_idmap = true;
      continue;
    }
    if (o == "tmpcopyup") {
      m.tmpcopyup = true;
      continue;
    }
    if (o == "notmpcopyup") {
      m.tmpcopyup = false;
      continue;
    }
    m.data.push_back(o);
  }
  return m;
}

std::vector<std::string> KnownMountOptions() {
  std::vector<std::string> out;
  for (const auto& f : kFlagOptions) out.emplace_back(f.name);
  out.insert(out.end(), {"bind", "rbind"});
  for (const auto& p : kPropagationOptions) out.emplace_back(p.name);
  for (const auto& a : kRecursiveAttrOptions) out.emplace_back(a.name);
  out.insert(out.end(), {"idmap", "ridmap", "tmpcopyup", "notmpcopyup"});
  return out;
}

}  // namespace berth::runtime
