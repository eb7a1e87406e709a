// berth/engine: what `berth build` needs from the engine: RUN steps as containers (docker's
// defaults: capabilities, seccomp, masked paths, the build's network mode), user names
// resolved in the step's rootfs, images from the store.
#pragma once

#include "berth/build/builder.h"
#include "berth/engine/engine.h"

namespace berth::engine {

class BuildHost : public build::Host {
 public:
  explicit BuildHost(Engine& engine) : engine_(engine) {}
  Result<int> Run(const build::RunRequest& request) override;
  Result<oci::User> ResolveUser(const std::string& rootfs, std::string_view user) override;
  // The local image; the CLI overrides this to pull.
  Result<image::ImageRecord> Image(std::string_view ref, bool pull, std::string_view platform) override;

 protected:
  Engine& engine_;
};

}  // namespace berth::engine
