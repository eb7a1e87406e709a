// Integration-test harness: an OCI bundle in a temp directory.
//
// rootfs/ holds a static busybox with its applet links, the probe at /probe, the usual
// top-level directories, and /etc/passwd and /etc/group with root, nobody (65534) and user
// (1000). Everything is copied, never hard-linked: a container that writes to its binaries
// must not reach the host's.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::itest {

class Bundle {
 public:
  // Builds the bundle in `dir` (created, mode 0755 so that a user namespace can reach it).
  static Result<Bundle> Create(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string rootfs() const { return dir_ + "/rootfs"; }
  std::string config_path() const { return dir_ + "/config.json"; }

  // The config; starts as DefaultSpec(). Written by Write().
  Json& spec() { return spec_; }
  const Json& spec() const { return spec_; }
  Status Write() const;

  // Host path of a path inside the rootfs.
  std::string RootfsPath(const std::string& in_container) const;

 private:
  std::string dir_;
  Json spec_;
};

}  // namespace berth::itest
