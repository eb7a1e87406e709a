// berth/cgroup: test helper (header only, used by the unit tests): a temporary directory
// populated like a cgroupfs, with control files as plain files. Writes through the manager
// replace a file's content, so a test reads back the last value written.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/file.h"
#include "berth/cgroup/fs.h"

namespace berth::cgroup::testing {

class FakeCgroupfs {
 public:
  FakeCgroupfs() {
    char tmpl[] = "/tmp/berth-cgroup-test-XXXXXX";
    // mkdtemp(3): a private directory per test.
    root_ = ::mkdtemp(tmpl) ? tmpl : "";
    EXPECT_FALSE(root_.empty());
  }
  ~FakeCgroupfs() {
    if (!root_.empty()) (void)RemoveAll(root_);
  }
  FakeCgroupfs(const FakeCgroupfs&) = delete;
  FakeCgroupfs& operator=(const FakeCgroupfs&) = delete;

  const std::string& root() const { return root_; }
  std::string Path(std::string_view rel) const { return JoinPath(root_, rel); }

  void Dir(std::string_view rel) const { ASSERT_TRUE(MkdirAll(Path(rel)).has_value()); }
  // Creates `rel` (and its parent directories) with `content`.
  void File(std::string_view rel, std::string_view content = "") const {
    std::string p = Path(rel);
    ASSERT_TRUE(MkdirAll(p.substr(0, p.rfind('/'))).has_value());
    ASSERT_TRUE(WriteFile(p, content).has_value()) << p;
  }
  // Creates each of `files` (empty) in directory `rel`.
  void Files(std::string_view rel, const std::vector<std::string>& files) const {
    for (const std::string& f : files) File(JoinPath(rel, f));
  }
  std::string Read(std::string_view rel) const {
    auto r = ReadFile(Path(rel));
    return r.has_value() ? *r : "<missing>";
  }
  bool Exists(std::string_view rel) const { return PathExists(Path(rel)); }

 private:
  std::string root_;
};

}  // namespace berth::cgroup::testing
