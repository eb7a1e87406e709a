// berth/build: `berth build`: a Dockerfile and its context to an image.
//
// Each stage starts from an image (pulled through the Host when missing), `scratch`, or an
// earlier stage; only the stages the target needs are built. Every instruction moves a
// stage's state (image config + layers) forward; RUN, COPY, ADD add a layer: the step runs in
// an overlay snapshot of the state's layers, and the snapshot's upper directory becomes the
// new layer (packed as an uncompressed tar for content/, renamed into layers/ as is).
// Each step has a cache key: the previous key, the instruction as expanded, the build args
// it can see and, for COPY/ADD, the content of what it copies; a key found in the image
// store's build cache reuses that state without running the step.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/image/image_store.h"
#include "berth/oci/spec.h"

namespace berth::build {

// A RUN step, for the layer above (the engine) to run in a container.
struct RunRequest {
  std::string step;                 // "3/7", for messages and the container id
  std::string rootfs;               // the step's mounted snapshot
  std::vector<std::string> args;    // argv
  std::vector<std::string> env;     // K=V
  std::string user;                 // as in USER ("" root)
  std::string workdir;              // "" = /
  std::string network;              // "host" | "none"
  struct Mount {
    enum class Kind { kBind, kTmpfs } kind = Kind::kBind;
    std::string source;             // host path (bind)
    std::string target;             // absolute path in the container
    bool readonly = false;
  };
  std::vector<Mount> mounts;        // RUN --mount=type=bind|cache|tmpfs, resolved
};

// What the builder needs from the layers above it.
class Host {
 public:
  virtual ~Host() = default;
  // Runs the step in the foreground (output to the build's stdout/stderr); its exit code.
  virtual Result<int> Run(const RunRequest& request) = 0;
  // `--chown` and USER names against the rootfs's /etc/passwd and /etc/group.
  virtual Result<oci::User> ResolveUser(const std::string& rootfs, std::string_view user) = 0;
  // A FROM or COPY --from image: the local one (pulled when missing, or always with `pull`).
  virtual Result<image::ImageRecord> Image(std::string_view ref, bool pull,
                                           std::string_view platform) = 0;
};

struct BuildOptions {
  std::string context;     // a directory
  std::string dockerfile;  // path; "" = CONTEXT/Dockerfile
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::string target;      // stage name or index; "" = the last
  std::string network = "host";
  std::string platform;    // only the host's is supported
  bool no_cache = false;
  bool pull = false;
  bool quiet = false;      // only the image id at the end (steps' output still shows)
  FILE* out = stdout;      // step lines
  // Asked before each step: true stops the build (the CLI keeps SIGINT/SIGTERM pending).
  std::function<bool()> interrupted;
};

struct BuildResult {
  image::ImageRecord image;
  int steps = 0;   // instructions run or taken from the cache
  int cached = 0;
};

Result<BuildResult> Build(image::ImageStore& store, Host& host, const BuildOptions& options);

// The directory of RUN --mount=type=cache mounts under the store's root; `builder prune` and
// `system prune` remove it with the cache entries.
std::string CacheMountsDir(const std::string& store_root);

}  // namespace berth::build
