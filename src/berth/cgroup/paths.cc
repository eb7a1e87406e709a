// berth/cgroup: linux.cgroupsPath rules (see paths.h).
#include "berth/cgroup/paths.h"

#include <algorithm>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"

namespace berth::cgroup {

namespace {

constexpr std::string_view kField = "linux.cgroupsPath";

// "/" followed by the non-empty, non-"." components of `p` joined by "/".
std::string Normalize(std::string_view p) {
  std::vector<std::string> parts;
  for (std::string& c : SplitNonEmpty(p, '/')) {
    if (c != ".") parts.push_back(std::move(c));
  }
  return "/" + Join(parts, "/");
}

}  // namespace

Status ValidateCgroupsPath(std::string_view path) {
  for (const std::string& c : Split(path, '/')) {
    if (c == "..") return InvalidArgument(StrCat(kField, ": ", Quote(path), " contains `..`"));
  }
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgument(StrCat(kField, ": contains a NUL byte"));
  }
  if (!path.empty() && path[0] != '/' && path.find('/') == std::string_view::npos &&
      std::count(path.begin(), path.end(), ':') == 2) {
    return Fail(ErrorCode::kUnsupported,
                StrCat(kField, ": ", Quote(path),
                       " is a systemd slice:prefix:name path; berth manages cgroupfs "
                       "directly (no systemd cgroup manager)"));
  }
  return Ok();
}

Result<std::string> ContainerCgroup(const Config& config, std::string_view own) {
  BERTH_TRY(ValidateCgroupsPath(config.path));
  std::string out;
  if (config.path.empty()) {
    const std::string& id = config.container_id;
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
      return InvalidArgument(
          StrCat(kField, ": empty, and the container id ", Quote(id), " is not a path component"));
    }
    out = Normalize(StrCat(own, "/", id));
  } else if (config.path[0] == '/') {
    out = Normalize(config.path);
  } else {
    out = Normalize(StrCat(own, "/", config.path));
  }
  if (out == "/") {
    return InvalidArgument(StrCat(kField, ": ", Quote(config.path),
                                  " names the root cgroup, which a container cannot own"));
  }
  return out;
}

Result<std::string> OwnCgroupIn(const std::map<std::string, std::string>& own_cgroups,
                                const std::vector<std::string>& controllers,
                                std::string_view mount_root) {
  const std::string* found = nullptr;
  for (const auto& [key, path] : own_cgroups) {
    if (controllers.empty()) {
      if (key.empty()) found = &path;
      continue;
    }
    for (const std::string& k : Split(key, ',')) {
      if (std::find(controllers.begin(), controllers.end(), k) != controllers.end()) found = &path;
    }
  }
  if (!found) return std::string("/");
  std::string path = Normalize(*found);
  std::string root = Normalize(mount_root);
  if (root == "/") return path;
  if (path == root) return std::string("/");
  if (path.compare(0, root.size() + 1, root + "/") == 0) return path.substr(root.size());
  // Our cgroup is outside the part of the hierarchy this mount shows (a cgroupfs bind-mounted
  // from a subtree we are not in): relative paths cannot be placed.
  return Fail(
      ErrorCode::kFailedPrecondition,
      StrCat("own cgroup ", Quote(*found), " is outside the mounted subtree ", Quote(mount_root)));
}

std::map<std::string, std::vector<std::string>> V1Hierarchies(const Layout& layout) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, mount] : layout.v1_mounts) out[mount].push_back(name);
  return out;
}

std::string MountRoot(const Layout& layout, const std::string& mount_point) {
  auto it = layout.mount_roots.find(mount_point);
  return it == layout.mount_roots.end() ? std::string("/") : it->second;
}

bool IsLeafUnder(const std::string& dir, const std::string& mount_point) {
  std::string base = mount_point;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (dir.size() <= base.size() + 1 || dir.compare(0, base.size(), base) != 0 ||
      (base != "/" && dir[base.size()] != '/')) {
    return false;
  }
  for (const std::string& c : Split(std::string_view(dir).substr(base.size()), '/')) {
    if (c == "." || c == "..") return false;
  }
  return true;
}

}  // namespace berth::cgroup
