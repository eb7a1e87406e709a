#include "berth/engine/build_host.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen.h"
#include "berth/image/store_internal.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

// A mount point the runtime creates in the rootfs (a missing /etc/hosts, a --mount target)
// must not end up in the layer. Each destination that does not exist before the run is
// remembered with its highest missing ancestor; afterwards the path from the destination up
// to that ancestor is removed where the run left it empty (and nothing else).
struct MadePath {
  std::string top;   // highest component that did not exist
  std::string dest;  // the mount destination
};

std::vector<MadePath> MissingMountPoints(int root_fd, const oci::Spec& spec) {
  std::vector<MadePath> out;
  for (const auto& m : spec.mounts) {
    std::string path;
    for (const auto& part : SplitNonEmpty(m.destination, '/')) {
      path += "/" + part;
      if (!sys::OpenInRoot(root_fd, path, O_PATH).has_value()) {
        out.push_back({path, m.destination});
        break;
      }
    }
  }
  return out;
}

std::string CleanPath(const std::string& p) {
  std::string out;
  for (const auto& part : SplitNonEmpty(p, '/')) out += "/" + part;
  return out.empty() ? "/" : out;
}

// rmdir of an empty directory or unlink of an empty file at `path` inside the root.
void RemoveIfEmpty(int root_fd, const std::string& path) {
  std::string rel = path.substr(1);
  auto slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? "." : rel.substr(0, slash);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  auto pfd = sys::OpenInRoot(root_fd, parent, O_RDONLY | O_DIRECTORY);
  if (!pfd.has_value()) return;
  struct stat st;
  if (::fstatat(pfd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) (void)::unlinkat(pfd->get(), name.c_str(), AT_REMOVEDIR);
  else if (S_ISREG(st.st_mode) && st.st_size == 0) (void)::unlinkat(pfd->get(), name.c_str(), 0);
}

}  // namespace

Result<int> BuildHost::Run(const build::RunRequest& r) {
  oci::ContainerConfig image;
  image.env = r.env;
  image.user = r.user;
  image.working_dir = r.workdir;
  image.cmd = r.args;
  RunConfig run;
  run.image = "build";
  run.network = r.network;
  for (const auto& m : r.mounts) {
    VolumeMount v;
    v.kind = m.kind == build::RunRequest::Mount::Kind::kTmpfs ? VolumeMount::Kind::kTmpfs
                                                              : VolumeMount::Kind::kBind;
    v.source = m.source;
    v.target = m.target;
    v.readonly = m.readonly;
    run.mounts.push_back(std::move(v));
  }
  std::string id = StrCat("build-", image::internal::RandomHex());
  std::string dir = StrCat(engine_.options().runroot, "/build/", id);
  BERTH_TRY(MkdirAll(dir, 0700));
  Defer remove_dir([&] { (void)RemoveAll(dir); });

  SpecInputs in;
  in.container_id = id;
  in.rootfs = r.rootfs;
  char h[256] = {};
  ::gethostname(h, sizeof h - 1);
  in.hostname = r.network == "host" ? std::string(h) : id.substr(0, 12);
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (r.network == "host") {
    if (auto host_hosts = ReadFile("/etc/hosts")) hosts = *host_hosts;
  } else {
    hosts += StrCat("127.0.1.1\t", in.hostname, "\n");
  }
  std::string resolv = ReadFile("/etc/resolv.conf").value_or("");
  BERTH_TRY(WriteNewFile(dir + "/hosts", hosts));
  BERTH_TRY(WriteNewFile(dir + "/resolv.conf", resolv));
  BERTH_TRY(WriteNewFile(dir + "/hostname", in.hostname + "\n"));
  in.hosts_file = dir + "/hosts";
  in.resolv_conf = dir + "/resolv.conf";
  in.hostname_file = dir + "/hostname";
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Spec spec, GenerateSpec(image, run, in), StrCat("step ", r.step));
  if (spec.process) spec.process->terminal = false;

  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(r.rootfs, O_RDONLY | O_DIRECTORY));
  std::vector<MadePath> made = MissingMountPoints(root.get(), spec);

  runtime::RunOptions ro;
  ro.create.id = id;
  ro.create.bundle = dir;
  ro.create.spec = &spec;
  ro.kill_on_interrupt = true;
  auto code = runtime::Run(engine_.RuntimeOptions(), ro);
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    for (std::string p = CleanPath(it->dest); p.size() >= it->top.size() && p != "/";
         p = p.substr(0, p.rfind('/'))) {
      RemoveIfEmpty(root.get(), p);
      if (p.rfind('/') == 0) break;
    }
  }
  if (!code.has_value()) return Unexpected(std::move(code).error().Wrap(StrCat("step ", r.step)));
  return *code;
}

Result<oci::User> BuildHost::ResolveUser(const std::string& rootfs, std::string_view user) {
  return engine::ResolveUser(rootfs, user, {});
}

Result<image::ImageRecord> BuildHost::Image(std::string_view ref, bool, std::string_view) {
  return engine_.images().Resolve(ref);
}

}  // namespace berth::engine
