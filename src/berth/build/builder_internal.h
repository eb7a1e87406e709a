// berth/build (internal): the state a stage carries from step to step, and the steps that
// change its filesystem (builder_steps.cc).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/unique_fd.h"
#include "berth/build/builder.h"
#include "berth/build/dockerfile.h"
#include "berth/build/dockerignore.h"
#include "berth/image/image_store.h"
#include "berth/oci/image.h"

namespace berth::build::internal {

// An image in the making: config and manifest as they will be written, the layers' chain
// ids, and the cache key of everything that led here.
struct State {
  oci::ImageConfig config;
  oci::Manifest manifest;
  std::vector<std::string> chains;  // bottom first
  std::string key;
};

// Everything a step of any stage may use.
struct BuildEnv {
  image::ImageStore* store = nullptr;
  Host* host = nullptr;
  const BuildOptions* options = nullptr;
  const Dockerfile* dockerfile = nullptr;
  IgnoreMatcher ignore;
  UniqueFd context_fd;          // the context directory
  std::string work_dir;         // ROOT/build/<pid>: snapshots of this build
  // Layer holds of this build ("build-<pid>"): the base images' layers and the layers made
  // so far stay while it runs, whatever `rmi` or `builder prune` do meanwhile.
  std::string holder;
  std::map<int, State> built;   // finished stages by index
  int step = 0, total = 0;
  int cached = 0;
};

// The expansion environment of a step: ENV of the state, then the stage's ARGs.
struct Vars {
  const oci::ImageConfig* config = nullptr;
  const std::map<std::string, std::string>* args = nullptr;
  std::optional<std::string> Get(std::string_view name) const;
};

// A source of COPY --from / RUN --mount from=: a rootfs mounted read-only for the step.
struct MountedRoot {
  std::string dir;   // snapshot dir
  UniqueFd fd;       // its rootfs
};

// Mounts `state`'s layers as a snapshot under env.work_dir; `fn` sees the rootfs path and
// fd; afterwards the upper directory becomes a layer (unless it is empty and `skip_empty`)
// and the result state (config as given in `next`) is recorded under `key` in the cache.
// `fn` failing leaves nothing behind.
Result<State> FilesystemStep(BuildEnv& env, const State& state, State next,
                             const std::function<Status(const std::string& rootfs, int root_fd)>& fn,
                             bool skip_empty);

// Opens a state's filesystem read-only (COPY --from): a snapshot removed by the destructor.
class ReadOnlyRoot {
 public:
  static Result<std::unique_ptr<ReadOnlyRoot>> Open(BuildEnv& env, const State& state);
  ~ReadOnlyRoot();
  int fd() const { return fd_.get(); }
  const std::string& rootfs() const { return rootfs_; }

 private:
  ReadOnlyRoot() = default;
  std::string dir_, rootfs_;
  UniqueFd fd_;
  bool mounted_ = false;
};

// Writes config and manifest of `s` to content/; the manifest digest.
Result<std::string> WriteState(image::ImageStore& store, State& s);
// The state a cached manifest describes, or nullopt on a miss.
Result<std::optional<State>> LoadCached(image::ImageStore& store, const std::string& key);
// The state of an image in the store.
Result<State> StateOfImage(image::ImageStore& store, const image::ImageRecord& rec);

std::string NextKey(std::string_view prev, std::string_view what);

}  // namespace berth::build::internal
