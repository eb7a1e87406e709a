// `berth create`: a container record, its snapshot and its bundle. Nothing runs yet; a
// failure at any step removes what the earlier steps made.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/network_store.h"
#include "berth/engine/monitor_launch.h"
#include "berth/engine/spec_gen.h"
#include "berth/image/snapshot.h"
#include "berth/oci/spec.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

std::string RandomHex(size_t bytes) {
  unsigned char buf[64];
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  if (fd >= 0) {
    ssize_t n = ::read(fd, buf, bytes);
    if (n > 0) got = static_cast<size_t>(n);
    ::close(fd);
  }
  std::random_device rd;
  for (size_t i = got; i < bytes; ++i) buf[i] = static_cast<unsigned char>(rd());
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(hex[buf[i] >> 4]);
    out.push_back(hex[buf[i] & 15]);
  }
  return out;
}

// docker-style "adjective_name" names.
std::string GenerateName() {
  static const char* adjectives[] = {"brave", "calm", "eager", "fancy", "gentle", "happy",
                                     "jolly", "keen", "lucid", "merry", "nifty", "proud",
                                     "quiet", "rapid", "sharp", "tender", "vivid", "witty",
                                     "zealous", "bold", "clever", "daring", "elated", "festive"};
  static const char* names[] = {"turing", "hopper", "lovelace", "ritchie", "thompson", "knuth",
                                "dijkstra", "liskov", "hamilton", "torvalds", "kernighan",
                                "lamport", "shannon", "babbage", "noether", "curie", "euler",
                                "gauss", "hypatia", "kepler", "pascal", "tesla", "wozniak"};
  std::string r = RandomHex(4);
  uint32_t v = static_cast<uint32_t>(std::stoul(r, nullptr, 16));
  return StrCat(adjectives[v % std::size(adjectives)], "_",
                names[(v / std::size(adjectives)) % std::size(names)]);
}

}  // namespace

Status ValidateContainerName(const std::string& name) {
  bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ok = false;
  }
  if (!ok) {
    return InvalidArgument(StrCat("--name: invalid container name ", Quote(name),
                                  ": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
  }
  return Ok();
}

namespace {

Result<std::string> HostFileOr(const char* path, std::string fallback) {
  auto r = ReadFile(path);
  if (!r) return fallback;
  return *r;
}

}  // namespace

std::string NewContainerId() { return RandomHex(32); }

Result<ContainerRecord> Engine::Create(const RunConfig& config) {
  // container:NAME joins a running container's network namespace (and its names files).
  std::optional<ContainerRecord> peer;
  if (config.network.starts_with("container:")) {
    BERTH_ASSIGN_OR_RETURN_CTX(ContainerRecord p, Get(config.network.substr(10)), "--network");
    if (p.networks.empty() || !PathExists(NetnsPath(p.id))) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("--network ", config.network, ": container ", p.name,
                         " is not running on a bridge network"));
    }
    peer = std::move(p);
  }
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, images_->Resolve(config.image));
  BERTH_ASSIGN_OR_RETURN(oci::ImageConfig icfg, images_->Config(img));

  ContainerRecord c;
  c.id = NewContainerId();
  c.name = config.name.empty() ? GenerateName() : config.name;
  if (!config.name.empty()) BERTH_TRY(ValidateContainerName(config.name));
  c.image = img.id;
  c.image_ref = config.image;
  c.created = NowRfc3339();
  c.config = config;
  c.image_config = icfg.config;
  c.chain_ids = img.chain_ids;
  c.state = State::kCreated;
  // The command must exist before anything is made (docker: "no command specified").
  BERTH_TRY(EffectiveArgs(c.image_config, c.config));

  log::Trace("create: image resolved");
  if (config.name.empty()) {
    // ~550 generated names: parallel runs collide often. Like docker, try others, then add
    // a number.
    Status inserted = Ok();
    for (int attempt = 0; attempt < 20; ++attempt) {
      if (attempt >= 10) c.name = StrCat(GenerateName(), attempt);
      inserted = containers_->Insert(c);
      if (inserted || inserted.error().code() != ErrorCode::kAlreadyExists) break;
      c.name = GenerateName();
    }
    BERTH_TRY(inserted);
  } else {
    BERTH_TRY(containers_->Insert(c));
  }
  bool ok = false;
  Defer rollback([&] {
    if (!ok) (void)Destroy(c, false);
  });
  BERTH_TRY(images_->Hold(c.id, c.chain_ids));
  BERTH_TRY(AttachNetworksAtCreate(c));
  log::Trace("create: network addresses leased");

  std::string dir = ContainerDir(c.id);
  log::Trace("create: record inserted");
  BERTH_TRY(MkdirAll(dir, 0700));
  std::vector<std::string> lowers = images_->LayerDirs(img);
  BERTH_ASSIGN_OR_RETURN(image::Snapshot snap,
                         image::CreateSnapshot(dir + "/snapshot", lowers, image::DefaultSnapshotKind(),
                                               /*ephemeral=*/config.auto_remove));

  log::Trace("create: snapshot mounted");
  SpecInputs in;
  in.container_id = c.id;
  in.rootfs = snap.rootfs;
  in.hostname = config.hostname.empty() ? c.id.substr(0, 12) : config.hostname;
  if (config.network == "host" && config.hostname.empty()) {
    char h[256] = {};
    ::gethostname(h, sizeof h - 1);
    in.hostname = h;
  }
  std::string hosts, resolv;
  if (config.network == "host") {
    BERTH_ASSIGN_OR_RETURN(hosts, HostFileOr("/etc/hosts", ""));
    BERTH_ASSIGN_OR_RETURN(resolv, HostFileOr("/etc/resolv.conf", ""));
  } else if (peer) {
    BERTH_ASSIGN_OR_RETURN(hosts, ReadFile(ContainerDir(peer->id) + "/hosts"));
    BERTH_ASSIGN_OR_RETURN(resolv, ReadFile(ContainerDir(peer->id) + "/resolv.conf"));
    in.netns_path = NetnsPath(peer->id);
  } else {
    BERTH_ASSIGN_OR_RETURN(hosts, HostsFile(c, in.hostname));
    if (config.network == "none") {
      BERTH_ASSIGN_OR_RETURN(resolv, HostFileOr("/etc/resolv.conf", ""));
    } else {
      BERTH_ASSIGN_OR_RETURN(resolv, ResolvConf(c));
    }
    if (!c.networks.empty()) in.netns_path = NetnsPath(c.id);
  }
  // The bundle's files go into the container's new directory, which no other command uses
  // before this create is done: written in place, neither renamed nor fsynced (~1 ms each
  // on the start path). A container whose files a power loss truncated fails to start with
  // an error naming the file.
  BERTH_TRY(WriteNewFile(dir + "/hosts", hosts));
  BERTH_TRY(WriteNewFile(dir + "/resolv.conf", resolv));
  BERTH_TRY(WriteNewFile(dir + "/hostname", in.hostname + "\n"));
  in.hosts_file = dir + "/hosts";
  in.resolv_conf = dir + "/resolv.conf";
  in.hostname_file = dir + "/hostname";
  in.init_binary = InitBinaryPath();

  // Named and anonymous volumes: created on first use and filled from the image.
  for (auto& m : c.config.mounts) {
    if (m.kind != VolumeMount::Kind::kVolume) continue;
    if (m.source.empty()) m.source = RandomHex(32);
    bool created = false;
    BERTH_ASSIGN_OR_RETURN(std::string vdir, PrepareVolume(m.source, snap.rootfs, m.target, &created));
    in.volume_dirs.emplace_back(m.target, vdir);
  }
  // Image VOLUMEs not covered by a mount get anonymous volumes, as docker does.
  for (auto& target : c.image_config.volumes) {
    bool covered = false;
    for (auto& m : c.config.mounts) covered |= m.target == target;
    if (covered) continue;
    VolumeMount m;
    m.kind = VolumeMount::Kind::kVolume;
    m.source = RandomHex(32);
    m.target = target;
    bool created = false;
    BERTH_ASSIGN_OR_RETURN(std::string vdir, PrepareVolume(m.source, snap.rootfs, target, &created));
    in.volume_dirs.emplace_back(target, vdir);
    c.config.mounts.push_back(m);
  }
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, GenerateSpec(c.image_config, c.config, in));
  BERTH_TRY(WriteNewFile(dir + "/config.json", oci::ToJson(spec).dump(), 0600));
  log::Trace("create: bundle written");
  created_spec_.emplace(c.id, std::move(spec));
  BERTH_ASSIGN_OR_RETURN(c, containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
                           r.config = c.config;
                           r.networks = c.networks;
                           r.ports = c.ports;
                           return Ok();
                         }));
  ok = true;
  log::Trace("create: done");
  return c;
}

Status Engine::EnsureMounted(const ContainerRecord& c) {
  std::string dir = ContainerDir(c.id) + "/snapshot";
  if (!PathExists(dir + "/work")) return Ok();  // copy snapshot: nothing to mount
  struct stat a, b;
  if (::stat(dir.c_str(), &a) == 0 && ::stat((dir + "/merged").c_str(), &b) == 0 &&
      a.st_dev != b.st_dev) {
    return Ok();  // already mounted
  }
  std::vector<std::string> lowers;
  for (auto& id : c.chain_ids) lowers.push_back(images_->LayerDir(id));
  return image::MountSnapshot(
      image::SnapshotAt(dir, image::SnapshotKind::kOverlay, c.config.auto_remove), lowers);
}

Status Engine::RemoveRuntimeState(const ContainerRecord& c) {
  runtime::GlobalOptions g = RuntimeOptions();
  if (PathExists(StrCat(g.root, "/", c.id))) {
    auto st = runtime::Delete(g, c.id, /*force=*/true);
    if (!st && st.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(st).error().Wrap(StrCat("container ", c.id, ": remove runtime state")));
    }
  }
  return Ok();
}

Status Engine::UnmountIdleSnapshot(const ContainerRecord& c) {
  std::string dir = ContainerDir(c.id) + "/snapshot";
  if (!PathExists(dir + "/work")) return Ok();
  return image::UnmountSnapshot(image::SnapshotAt(dir, image::SnapshotKind::kOverlay));
}

Status Engine::Teardown(const ContainerRecord& c) {
  BERTH_TRY(RemoveRuntimeState(c));
  log::Trace("teardown: runtime state removed");
  BERTH_TRY(TearDownNetworks(c));
  std::string dir = ContainerDir(c.id) + "/snapshot";
  if (PathExists(dir)) {
    image::SnapshotKind kind = PathExists(dir + "/work") ? image::SnapshotKind::kOverlay
                                                        : image::SnapshotKind::kCopy;
    BERTH_TRY(image::UnmountSnapshot(image::SnapshotAt(dir, kind)));
  }
  return Ok();
}

Status Engine::Destroy(const ContainerRecord& c, bool volumes, bool exited) {
  auto remove_snapshot = [&]() -> Status {
    std::string dir = ContainerDir(c.id) + "/snapshot";
    if (!PathExists(dir)) return Ok();
    image::SnapshotKind kind = PathExists(dir + "/work") ? image::SnapshotKind::kOverlay
                                                        : image::SnapshotKind::kCopy;
    return image::RemoveSnapshot(image::SnapshotAt(dir, kind));
  };
  auto remove_files = [&]() -> Status {
    BERTH_TRY(remove_snapshot());
    BERTH_TRY(RemoveAll(ContainerDir(c.id)));
    (void)RemoveAll(RunDir(c.id));
    return Ok();
  };
  if (exited) {
    // Nothing runs in the container any more, so its runtime state (cgroups), its snapshot
    // (mount, upper layer) and its other files are independent: both cores remove them at
    // once, the snapshot on one, the rest on the other (about equal shares).
    BERTH_TRY(TearDownNetworks(c));
    Status runtime_st = Ok();
    std::thread runtime_part([&] {
      runtime_st = RemoveRuntimeState(c);
      log::Trace("destroy: runtime state removed");
      Status files = RemoveAllBut(ContainerDir(c.id), "snapshot");
      Status run = RemoveAll(RunDir(c.id));
      if (runtime_st) runtime_st = !files ? files : run;
    });
    Status files_st = remove_snapshot();
    log::Trace("destroy: snapshot removed");
    runtime_part.join();
    BERTH_TRY(runtime_st);
    BERTH_TRY(files_st);
    BERTH_TRY(RemoveAll(ContainerDir(c.id)));  // empty by now
  } else {
    BERTH_TRY(Teardown(c));
    BERTH_TRY(remove_files());
  }
  log::Trace("destroy: files removed");
  // One transaction: the layer holds and the record go together.
  BERTH_TRY(images_->db().Transaction([&]() -> Status {
    BERTH_TRY(images_->Release(c.id));
    BERTH_TRY(networks_->ReleaseAll(c.id));
    return containers_->Delete(c.id);
  }));
  if (volumes) {
    // Anonymous volumes (64-hex names) go with their container, as with `docker rm -v`.
    for (auto& m : c.config.mounts) {
      if (m.kind == VolumeMount::Kind::kVolume && m.source.size() == 64) {
        (void)RemoveVolume(m.source, true);
      }
    }
  }
  return Ok();
}

}  // namespace berth::engine
