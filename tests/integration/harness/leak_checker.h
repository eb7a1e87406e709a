// Integration-test harness: finds what a container left behind on the host.
//
// Every test owns a unique tag ("bt<pid>x<n>"); container ids start with it, and the test's
// temp directory (bundles, state root) is named after it. A leak is anything on the host
// that still refers to the tag or lives under that directory once a scenario is over:
//   (a) mount table entries (mount point, root or source) under the test dir or naming the tag
//   (b) cgroup directories whose name contains the tag, in every hierarchy (v1 and cgroup2)
//   (c) the runtime's state entries <root>/<id>
//   (d) processes whose cwd or root is under the test dir, or whose command line,
//       environment (BERTH_ITEST=<tag>) or cgroup path names the tag
//   (e) network links in the host netns that were not there at Baseline(), and named
//       network namespaces (/run/netns) naming the tag
#pragma once

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace berth::itest {

class LeakChecker {
 public:
  LeakChecker(std::string tag, std::string test_dir, std::string state_root);

  // Records the host's current links (the only global, untagged resource checked).
  void Baseline();

  // Descriptions of every leak found now; empty means clean.
  std::vector<std::string> Check(const std::vector<std::string>& ids) const;
  // Checks until clean or `timeout` (processes take a moment to be reaped).
  std::vector<std::string> CheckEventually(const std::vector<std::string>& ids,
                                           std::chrono::milliseconds timeout) const;

  // Removes what Check() would report, so one failing test does not poison the next:
  // SIGKILLs tagged processes (all of them descend from runtime invocations of this test),
  // detaches tagged mounts, removes tagged cgroup directories and named netns.
  void ForceCleanup(const std::vector<std::string>& ids) const;

  // Pids of processes that mention the tag (reason (d)), excluding the test process.
  std::vector<pid_t> TaggedProcesses() const;

 private:
  std::vector<std::string> MountLeaks() const;
  std::vector<std::string> CgroupLeaks(std::vector<std::string>* dirs) const;
  std::vector<std::string> StateLeaks(const std::vector<std::string>& ids) const;
  std::vector<std::string> ProcessLeaks(std::vector<pid_t>* pids) const;
  std::vector<std::string> NetLeaks() const;
  bool Mentions(const std::string& s) const;

  std::string tag_;
  std::string test_dir_;
  std::string state_root_;
  std::set<std::string> baseline_links_;
};

// Names of the network links in the caller's netns.
std::set<std::string> HostLinkNames();

}  // namespace berth::itest
