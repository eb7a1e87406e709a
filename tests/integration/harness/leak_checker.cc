#include "harness/leak_checker.h"

#include <dirent.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/mountinfo.h"
#include "harness/cgroups.h"
#include "harness/command.h"

namespace berth::itest {

namespace fs = std::filesystem;

namespace {

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

std::string ReadOrEmpty(const std::string& path) {
  auto r = ReadFile(path);
  return r ? *r : "";
}

bool UnderDir(const std::string& path, const std::string& dir) {
  return path == dir || path.starts_with(dir + "/");
}

// Walks a cgroup hierarchy collecting directories whose name contains `tag`.
void WalkCgroups(const std::string& dir, const std::string& tag, int depth,
                 std::vector<std::string>* found) {
  if (depth > 12) return;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> subdirs;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    subdirs.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const auto& s : subdirs) {
    if (fs::path(s).filename().string().find(tag) != std::string::npos) found->push_back(s);
    WalkCgroups(s, tag, depth + 1, found);
  }
}

}  // namespace

std::set<std::string> HostLinkNames() {
  std::set<std::string> names;
  struct if_nameindex* ifs = ::if_nameindex();
  if (!ifs) return names;
  for (auto* i = ifs; i->if_index != 0; i++) names.insert(i->if_name);
  ::if_freenameindex(ifs);
  return names;
}

// A bridge of a berth store (its alias names the store) or a port of one: the engine's and
// network tests, which ctest runs beside these, make and remove them; the runtime never
// does. (A bridge is named a moment after it is made; CheckEventually waits that out.)
bool EngineNetworkLink(const std::string& name) {
  auto store_bridge = [](const std::string& n) {
    return ReadOrEmpty("/sys/class/net/" + n + "/ifalias").starts_with("berth store ");
  };
  if (store_bridge(name)) return true;
  std::string master = ReadLink("/sys/class/net/" + name + "/master");
  return !master.empty() && store_bridge(std::filesystem::path(master).filename().string());
}

LeakChecker::LeakChecker(std::string tag, std::string test_dir, std::string state_root)
    : tag_(std::move(tag)), test_dir_(std::move(test_dir)), state_root_(std::move(state_root)) {}

void LeakChecker::Baseline() { baseline_links_ = HostLinkNames(); }

bool LeakChecker::Mentions(const std::string& s) const {
  return s.find(tag_) != std::string::npos || s.find(test_dir_) != std::string::npos;
}

std::vector<std::string> LeakChecker::MountLeaks() const {
  std::vector<std::string> leaks;
  auto mounts = sys::ReadMountInfo("/proc/self/mountinfo");
  if (!mounts) return {"cannot read /proc/self/mountinfo"};
  for (const auto& m : *mounts) {
    if (Mentions(m.mount_point) || Mentions(m.source) || (m.root != "/" && Mentions(m.root))) {
      leaks.push_back(StrCat("mount: ", m.mount_point, " (", m.fs_type, " from ", m.source,
                             " root ", m.root, ")"));
    }
  }
  return leaks;
}

std::vector<std::string> LeakChecker::CgroupLeaks(std::vector<std::string>* dirs) const {
  std::vector<std::string> found;
  for (const auto& h : CgroupHierarchies()) WalkCgroups(h.mount_point, tag_, 0, &found);
  std::vector<std::string> leaks;
  for (const auto& d : found) leaks.push_back("cgroup: " + d);
  if (dirs) *dirs = found;
  return leaks;
}

std::vector<std::string> LeakChecker::StateLeaks(const std::vector<std::string>& ids) const {
  std::vector<std::string> leaks;
  for (const auto& id : ids) {
    std::string p = state_root_ + "/" + id;
    if (PathExists(p)) leaks.push_back("state: " + p);
  }
  return leaks;
}

std::vector<pid_t> LeakChecker::TaggedProcesses() const {
  std::vector<pid_t> pids;
  (void)ProcessLeaks(&pids);
  return pids;
}

std::vector<std::string> LeakChecker::ProcessLeaks(std::vector<pid_t>* pids) const {
  std::vector<std::string> leaks;
  DIR* d = ::opendir("/proc");
  if (!d) return {"cannot list /proc"};
  pid_t self = ::getpid();
  std::string env_tag = "BERTH_ITEST=" + tag_;
  while (struct dirent* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == self) continue;
    std::string base = StrCat("/proc/", pid);
    std::string stat = ReadOrEmpty(base + "/stat");
    size_t rp = stat.rfind(')');
    if (rp == std::string::npos || rp + 2 >= stat.size()) continue;
    if (stat[rp + 2] == 'Z') continue;  // reaping is the parent's business, not a leak
    // Threads of the test process show up only under /proc/self/task, but check tgid anyway.
    std::string status = ReadOrEmpty(base + "/status");
    if (status.find(StrCat("\nTgid:\t", self, "\n")) != std::string::npos) continue;
    std::string comm(Trim(ReadOrEmpty(base + "/comm")));
    std::string reason;
    std::string cwd = ReadLink(base + "/cwd");
    std::string root = ReadLink(base + "/root");
    std::string cmdline = ReadOrEmpty(base + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::string environ = ReadOrEmpty(base + "/environ");
    std::string cgroup = ReadOrEmpty(base + "/cgroup");
    if (UnderDir(cwd, test_dir_)) {
      reason = "cwd " + cwd;
    } else if (UnderDir(root, test_dir_)) {
      reason = "root " + root;
    } else if (Mentions(cmdline)) {
      reason = "cmdline " + cmdline;
    } else if (environ.find(env_tag) != std::string::npos) {
      reason = "environment has " + env_tag;
    } else if (cgroup.find(tag_) != std::string::npos) {
      reason = "cgroup " + std::string(Trim(cgroup.substr(0, cgroup.find('\n'))));
    }
    if (reason.empty()) continue;
    leaks.push_back(StrCat("process ", pid, " (", comm, "): ", reason));
    if (pids) pids->push_back(pid);
  }
  ::closedir(d);
  return leaks;
}

std::vector<std::string> LeakChecker::NetLeaks() const {
  std::vector<std::string> leaks;
  for (const auto& name : HostLinkNames()) {
    if (!baseline_links_.contains(name) && !EngineNetworkLink(name)) leaks.push_back("link: " + name);
  }
  DIR* d = ::opendir("/run/netns");
  if (d) {
    while (struct dirent* e = ::readdir(d)) {
      if (std::string(e->d_name).find(tag_) != std::string::npos) {
        leaks.push_back(StrCat("netns: /run/netns/", e->d_name));
      }
    }
    ::closedir(d);
  }
  return leaks;
}

std::vector<std::string> LeakChecker::Check(const std::vector<std::string>& ids) const {
  std::vector<std::string> all;
  for (auto part :
       {MountLeaks(), CgroupLeaks(nullptr), StateLeaks(ids), ProcessLeaks(nullptr), NetLeaks()}) {
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

std::vector<std::string> LeakChecker::CheckEventually(const std::vector<std::string>& ids,
                                                      std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto leaks = Check(ids);
    if (leaks.empty() || std::chrono::steady_clock::now() >= deadline) return leaks;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void LeakChecker::ForceCleanup(const std::vector<std::string>& ids) const {
  // Processes first: they pin mounts and keep cgroups busy.
  for (int round = 0; round < 3; round++) {
    std::vector<pid_t> pids;
    (void)ProcessLeaks(&pids);
    if (pids.empty()) break;
    for (pid_t p : pids) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Mounts, deepest first.
  if (auto mounts = sys::ReadMountInfo("/proc/self/mountinfo")) {
    std::vector<std::string> points;
    for (const auto& m : *mounts) {
      if (Mentions(m.mount_point)) points.push_back(m.mount_point);
    }
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
  }
  // Cgroup directories, deepest first (children before parents).
  std::vector<std::string> dirs;
  (void)CgroupLeaks(&dirs);
  std::sort(dirs.begin(), dirs.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& dir : dirs) {
    // Kernel-side stragglers: processes we did not see (other pid namespaces show up in
    // /proc too, so this is rare).
    for (const auto& pid : SplitNonEmpty(ReadOrEmpty(dir + "/cgroup.procs"), '\n')) {
      ::kill(std::atoi(pid.c_str()), SIGKILL);
    }
    // A frozen v1 cgroup keeps its tasks: thaw it so the kill lands.
    if (PathExists(dir + "/freezer.state")) (void)WriteExisting(dir + "/freezer.state", "THAWED");
    if (PathExists(dir + "/cgroup.freeze")) (void)WriteExisting(dir + "/cgroup.freeze", "0");
  }
  for (const auto& dir : dirs) {
    for (int i = 0; i < 20 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  for (const auto& id : ids) (void)RemoveAll(state_root_ + "/" + id);
  DIR* d = ::opendir("/run/netns");
  if (d) {
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      if (std::string(e->d_name).find(tag_) != std::string::npos) names.push_back(e->d_name);
    }
    ::closedir(d);
    for (const auto& n : names) {
      std::string p = "/run/netns/" + n;
      ::umount2(p.c_str(), MNT_DETACH);
      ::unlink(p.c_str());
    }
  }
}

}  // namespace berth::itest
