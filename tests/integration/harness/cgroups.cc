#include "harness/cgroups.h"

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/mountinfo.h"

namespace berth::itest {

std::vector<CgroupHierarchy> CgroupHierarchies() {
  std::vector<CgroupHierarchy> out;
  auto mounts = sys::ReadMountInfo("/proc/self/mountinfo");
  if (!mounts) return out;
  for (const auto& m : *mounts) {
    if (m.fs_type == "cgroup2") {
      out.push_back({m.mount_point, {}, true});
    } else if (m.fs_type == "cgroup") {
      CgroupHierarchy h{m.mount_point, {}, false};
      for (const auto& opt : Split(m.super_options, ',')) {
        if (opt == "rw" || opt == "ro" || opt.starts_with("release_agent") ||
            opt == "clone_children" || opt == "noprefix" || opt == "xattr" ||
            opt == "cpuset_v2_mode") {
          continue;
        }
        h.controllers.push_back(opt);
      }
      out.push_back(std::move(h));
    }
  }
  return out;
}

std::string CgroupPathOf(pid_t pid, const std::string& controller) {
  std::string proc = pid == 0 ? "/proc/self/cgroup" : StrCat("/proc/", pid, "/cgroup");
  auto text = ReadFile(proc);
  if (!text) return "";
  for (const auto& line : SplitNonEmpty(*text, '\n')) {
    // "4:memory:/a/b", "0::/a/b", "2:cpu,cpuacct:/a"
    size_t c1 = line.find(':');
    size_t c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (controller.empty()) {
      if (ctrls.empty()) return path;
      continue;
    }
    for (const auto& c : Split(ctrls, ',')) {
      if (c == controller) return path;
    }
  }
  return "";
}

bool ControllerIsV2(const std::string& controller) {
  if (controller.empty()) return true;
  for (const auto& h : CgroupHierarchies()) {
    if (h.v2) continue;
    for (const auto& c : h.controllers) {
      if (c == controller) return false;
    }
  }
  for (const auto& h : CgroupHierarchies()) {
    if (!h.v2) continue;
    auto ctrls = ReadFile(h.mount_point + "/cgroup.controllers");
    if (!ctrls) continue;
    for (const auto& c : SplitNonEmpty(std::string(Trim(*ctrls)), ' ')) {
      if (c == controller) return true;
    }
  }
  return false;
}

std::string HostCgroupDir(pid_t pid, const std::string& controller) {
  bool v2 = ControllerIsV2(controller);
  std::string path = CgroupPathOf(pid, v2 ? "" : controller);
  if (path.empty()) return "";
  for (const auto& h : CgroupHierarchies()) {
    bool match = v2 && h.v2;
    for (const auto& c : h.controllers) match = match || (!v2 && c == controller);
    if (match) return path == "/" ? h.mount_point : h.mount_point + path;
  }
  return "";
}

std::string ReadCgroupFile(pid_t pid, const std::string& controller, const std::string& file) {
  std::string dir = HostCgroupDir(pid, controller);
  if (dir.empty()) return "";
  auto text = ReadFile(dir + "/" + file);
  return text ? std::string(Trim(*text)) : "";
}

}  // namespace berth::itest
