// Named volumes: ROOT/volumes/<name>/_data, recorded in berth.db. A volume first mounted
// where the image has content is filled with that content, as docker does.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/cgroup/manager.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/spec_gen.h"
#include "berth/engine/tree_copy.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

Status ValidateVolumeName(const std::string& name) {
  bool ok = name.size() >= 1 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ok = false;
  }
  if (!ok) {
    return InvalidArgument(StrCat("volume name ", Quote(name),
                                  ": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
  }
  return Ok();
}

std::string RandomName() {
  unsigned char b[32];
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  (void)!::read(fd, b, sizeof b);
  ::close(fd);
  std::string s;
  for (unsigned char x : b) {
    s.push_back("0123456789abcdef"[x >> 4]);
    s.push_back("0123456789abcdef"[x & 15]);
  }
  return s;
}

}  // namespace

Result<Engine::Volume> Engine::CreateVolume(const std::string& name_in,
                                            const std::map<std::string, std::string>& labels) {
  std::string name = name_in.empty() ? RandomName() : name_in;
  BERTH_TRY(ValidateVolumeName(name));
  Volume v;
  v.name = name;
  v.created = NowRfc3339();
  v.labels = labels;
  v.mountpoint = StrCat(options_.root, "/volumes/", name, "/_data");
  auto inserted = containers_->InsertVolume(v);
  if (!inserted) {
    // `volume create` of an existing name returns it, as docker does.
    if (inserted.error().code() == ErrorCode::kAlreadyExists) return GetVolume(name);
    return Unexpected(inserted.error());
  }
  BERTH_TRY(MkdirAll(v.mountpoint, 0755));
  return v;
}

Result<Engine::Volume> Engine::GetVolume(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(std::optional<Volume> v, containers_->FindVolume(name));
  if (!v) return Fail(ErrorCode::kNotFound, StrCat("no such volume: ", name));
  v->mountpoint = StrCat(options_.root, "/volumes/", name, "/_data");
  return *v;
}

Result<std::vector<Engine::Volume>> Engine::ListVolumes() {
  BERTH_ASSIGN_OR_RETURN(std::vector<Volume> all, containers_->AllVolumes());
  for (auto& v : all) v.mountpoint = StrCat(options_.root, "/volumes/", v.name, "/_data");
  return all;
}

Result<std::string> Engine::PrepareVolume(const std::string& name, const std::string& rootfs,
                                          const std::string& target, bool* created) {
  *created = false;
  BERTH_ASSIGN_OR_RETURN(std::optional<Volume> existing, containers_->FindVolume(name));
  Volume v;
  if (existing) {
    BERTH_ASSIGN_OR_RETURN(v, GetVolume(name));
  } else {
    BERTH_ASSIGN_OR_RETURN(v, CreateVolume(name, {}));
    *created = true;
  }
  if (*created) {
    // Copy what the image has at `target` (resolved inside the rootfs) into the volume.
    BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(rootfs, O_PATH | O_DIRECTORY));
    auto src = sys::OpenInRoot(root.get(), target, O_RDONLY | O_DIRECTORY);
    if (src) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd dst, OpenFile(v.mountpoint, O_RDONLY | O_DIRECTORY));
      BERTH_TRY_CTX(CopyDirContents(src->get(), dst.get()),
                    StrCat("volume ", Quote(name), ": copy image content at ", target));
      struct stat st;
      if (::fstat(src->get(), &st) == 0) {
        (void)::fchown(dst.get(), st.st_uid, st.st_gid);
        (void)::fchmod(dst.get(), st.st_mode & 07777);
      }
    }
  }
  return v.mountpoint;
}

Status Engine::RemoveVolume(const std::string& name, bool force) {
  BERTH_ASSIGN_OR_RETURN(Volume v, GetVolume(name));
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
  for (auto& c : all) {
    for (auto& m : c.config.mounts) {
      if (m.kind == VolumeMount::Kind::kVolume && m.source == name && !force) {
        return Fail(ErrorCode::kFailedPrecondition,
                    StrCat("remove ", name, ": volume is in use by container ", c.id.substr(0, 12)));
      }
    }
  }
  BERTH_TRY(RemoveAll(StrCat(options_.root, "/volumes/", name)));
  return containers_->DeleteVolume(name);
}

Result<std::vector<std::string>> Engine::PruneVolumes() {
  BERTH_ASSIGN_OR_RETURN(std::vector<Volume> all, ListVolumes());
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> cs, containers_->All());
  std::vector<std::string> removed;
  for (auto& v : all) {
    bool used = false;
    for (auto& c : cs) {
      for (auto& m : c.config.mounts) used |= m.kind == VolumeMount::Kind::kVolume && m.source == v.name;
    }
    if (used) continue;
    BERTH_TRY(RemoveVolume(v.name, false));
    removed.push_back(v.name);
  }
  return removed;
}

Result<std::vector<std::string>> Engine::PruneContainers() {
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, List(true));
  std::vector<std::string> removed;
  for (auto& c : all) {
    if (c.state != State::kExited && c.state != State::kCreated && c.state != State::kDead) continue;
    BERTH_TRY(Destroy(c, false));
    removed.push_back(c.id);
  }
  PruneCgroupParents();
  return removed;
}

int Engine::PruneCgroupParents() {
  // Each container's cgroups are removed with it; the parents stay between containers (a
  // parent removed at every exit would race with a parallel start making its leaf). rmdir
  // of a cgroup fails while it has children, so only unused parents go; a start racing with
  // this one re-creates its parent (cgroup::MakeCgroupDirs).
  auto layout = cgroup::DetectLayout();
  if (!layout) return 0;
  std::set<std::string> mounts;
  for (const auto& [name, mount] : layout->v1_mounts) mounts.insert(mount);
  if (!layout->unified_mount.empty()) mounts.insert(layout->unified_mount);
  int removed = 0;
  for (const auto& m : mounts) {
    if (::rmdir(StrCat(m, "/", kCgroupParent).c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace berth::engine
