// berth/cgroup: which hierarchies are mounted where (from mountinfo), the mode they add up
// to, a process's cgroups (from /proc/PID/cgroup), and the cgroup part of `features`.
#include <unistd.h>

#include <algorithm>
#include <set>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/manager.h"
#include "berth/sys/mountinfo.h"

namespace berth::cgroup {

namespace {

// Super options of a v1 cgroup mount that are not controller names.
bool IsMountOption(std::string_view opt) {
  static const std::set<std::string_view> kOptions = {
      "rw",           "ro",   "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
      "favordynmods", "none", "all"};
  if (kOptions.count(opt)) return true;
  // release_agent=..., and any other key=value except name=.
  return opt.find('=') != std::string_view::npos && opt.rfind("name=", 0) != 0;
}

}  // namespace

Result<Layout> LayoutFromMountInfo(std::string_view mountinfo) {
  BERTH_ASSIGN_OR_RETURN(auto mounts, sys::ParseMountInfo(mountinfo));
  Layout layout;
  bool has_v1_controller = false;
  // A mount point covered by a later mount (e.g. a tmpfs over /sys/fs/cgroup/unified, which is
  // how tools hide a hybrid host's cgroup2 from crun) is not reachable: skip it.
  auto shadowed = [&](size_t i) {
    for (size_t j = i + 1; j < mounts.size(); ++j) {
      if (mounts[j].mount_point == mounts[i].mount_point) return true;
    }
    return false;
  };
  for (size_t i = 0; i < mounts.size(); ++i) {
    const sys::MountInfo& m = mounts[i];
    if (shadowed(i)) continue;
    if (m.fs_type == "cgroup2") {
      // The first cgroup2 mount wins; later ones are bind mounts of the same hierarchy.
      if (layout.unified_mount.empty()) {
        layout.unified_mount = m.mount_point;
        if (m.root != "/") layout.mount_roots[m.mount_point] = m.root;
      }
      continue;
    }
    if (m.fs_type != "cgroup") continue;
    std::vector<std::string> names;
    for (const std::string& opt : SplitNonEmpty(m.super_options, ',')) {
      if (!IsMountOption(opt)) names.push_back(opt);
    }
    if (names.empty()) continue;
    bool seen = std::any_of(names.begin(), names.end(),
                            [&](const std::string& n) { return layout.v1_mounts.count(n) > 0; });
    if (seen) continue;
    for (const std::string& n : names) {
      layout.v1_mounts[n] = m.mount_point;
      if (n.rfind("name=", 0) != 0) has_v1_controller = true;
    }
    if (m.root != "/") layout.mount_roots[m.mount_point] = m.root;
  }
  if (!layout.unified_mount.empty()) {
    // A cgroup2 mount we cannot read the controllers of still works for the core files.
    auto text = ReadFile(JoinPath(layout.unified_mount, "cgroup.controllers"));
    if (text.has_value()) layout.unified_controllers = ParseWords(*text);
  }
  if (has_v1_controller) {
    layout.mode = layout.unified_mount.empty() ? Mode::kLegacy : Mode::kHybrid;
  } else if (!layout.unified_mount.empty()) {
    layout.mode = Mode::kUnified;
    // A leftover name=systemd v1 mount on a v2 host is not used.
    layout.v1_mounts.clear();
  } else {
    return Fail(ErrorCode::kUnsupported, "no cgroup hierarchy is mounted");
  }
  return layout;
}

namespace {

// The 5th field of a mountinfo line (the mount point, still escaped).
std::string_view MountPointField(std::string_view line) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = line.find(' ', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  size_t end = line.find(' ', pos);
  return line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

// Only cgroup mounts, and the mounts that shadow them, matter: drop every other line before
// the full parse (a host has dozens of mounts; this runs on every container start).
std::string CgroupRelevantLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::vector<std::string_view> cgroup_points;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    lines.push_back(line);
    if (line.find(" - cgroup") != std::string_view::npos) {
      cgroup_points.push_back(MountPointField(line));
    }
  }
  std::string out;
  for (std::string_view line : lines) {
    bool keep = line.find(" - cgroup") != std::string_view::npos;
    if (!keep) {
      std::string_view mp = MountPointField(line);
      for (std::string_view c : cgroup_points) keep = keep || c == mp;
    }
    if (keep) out.append(line).push_back('\n');
  }
  return out;
}

}  // namespace

Result<Layout> DetectLayout() {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/mountinfo"));
  BERTH_ASSIGN_OR_RETURN_CTX(Layout layout, LayoutFromMountInfo(CgroupRelevantLines(text)),
                             "detect cgroup layout");
  return layout;
}

Result<std::map<std::string, std::string>> ParseProcCgroups(std::string_view text) {
  std::map<std::string, std::string> out;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    // "ID:CONTROLLERS:PATH"; the path may itself contain ':'.
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) {
      return InvalidArgument(StrCat("malformed cgroup line ", Quote(line)));
    }
    out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
  }
  return out;
}

Result<std::map<std::string, std::string>> ProcessCgroups(pid_t pid) {
  std::string path = StrCat("/proc/", static_cast<int64_t>(pid), "/cgroup");
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BERTH_ASSIGN_OR_RETURN_CTX(auto out, ParseProcCgroups(text), Quote(path));
  return out;
}

Json FeaturesJson(const Layout& layout) {
  bool rdma = layout.v1_mounts.count("rdma") > 0 ||
              std::find(layout.unified_controllers.begin(), layout.unified_controllers.end(),
                        "rdma") != layout.unified_controllers.end();
  // v1 and v2 say which cgroup versions berth drives (all three modes); systemd drivers
  // are not offered. rdma says whether this host can take linux.resources.rdma.
  return Json{
      {"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", rdma}};
}

}  // namespace berth::cgroup
