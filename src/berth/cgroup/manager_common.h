// berth/cgroup: what the v1/hybrid and v2 managers share: the leaf paths, Destroy, Exists,
// Save, and the signal algorithm (cgroup.kill, or freeze + signal each pid + thaw).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "berth/cgroup/manager.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup {

class ManagerBase : public Manager {
 public:
  ManagerBase(Layout layout, std::map<std::string, std::string> paths)
      : layout_(std::move(layout)), paths_(std::move(paths)) {}

  Status Signal(int sig) override;
  Status Destroy() override;
  bool Exists() override;
  std::map<std::string, std::string> Paths() const override { return paths_; }
  Json Save() const override;

 protected:
  // A directory whose cgroup.kill reaches every process of the container, or "".
  virtual std::string KillDir() const = 0;

  Layout layout_;
  // Hierarchy key (v1 controller name, or "" for the cgroup2 leaf) -> leaf directory.
  std::map<std::string, std::string> paths_;
};

// Constructors behind NewManager/LoadManager. `leaves`: v1 mount point -> leaf directory.
std::unique_ptr<Manager> MakeManagerV1(Layout layout, std::map<std::string, std::string> leaves,
                                       v2::Leaf unified);
std::unique_ptr<Manager> MakeManagerV2(Layout layout, v2::Leaf leaf);

}  // namespace berth::cgroup
