#include "harness/spec.h"

namespace berth::itest {

Json DefaultSpec() {
  const Json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  Json spec = {
      {"ociVersion", "1.0.2-dev"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"/probe", "report"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "runc"},
      {"mounts",
       {
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options",
             {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
       }},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  return spec;
}

void SetArgs(Json& spec, const std::vector<std::string>& args) { spec["process"]["args"] = args; }

void SetEnv(Json& spec, const std::string& kv) {
  std::string key = kv.substr(0, kv.find('='));
  Json& env = spec["process"]["env"];
  for (auto& e : env) {
    std::string s = e.get<std::string>();
    if (s.substr(0, s.find('=')) == key) {
      e = kv;
      return;
    }
  }
  env.push_back(kv);
}

void AddMount(Json& spec, const std::string& destination, const std::string& type,
              const std::string& source, const std::vector<std::string>& options) {
  Json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = options;
  spec["mounts"].push_back(std::move(m));
}

void RemoveMount(Json& spec, const std::string& destination) {
  Json& mounts = spec["mounts"];
  for (auto it = mounts.begin(); it != mounts.end();) {
    if ((*it)["destination"] == destination) {
      it = mounts.erase(it);
    } else {
      ++it;
    }
  }
}

Json* FindMount(Json& spec, const std::string& destination) {
  for (auto& m : spec["mounts"]) {
    if (m["destination"] == destination) return &m;
  }
  return nullptr;
}

void SetNamespace(Json& spec, const std::string& type, const std::string& path) {
  Json& nss = spec["linux"]["namespaces"];
  for (auto& ns : nss) {
    if (ns["type"] == type) {
      if (path.empty()) {
        ns.erase("path");
      } else {
        ns["path"] = path;
      }
      return;
    }
  }
  Json ns = {{"type", type}};
  if (!path.empty()) ns["path"] = path;
  nss.push_back(std::move(ns));
}

void RemoveNamespace(Json& spec, const std::string& type) {
  Json& nss = spec["linux"]["namespaces"];
  for (auto it = nss.begin(); it != nss.end();) {
    if ((*it)["type"] == type) {
      it = nss.erase(it);
    } else {
      ++it;
    }
  }
}

bool HasNamespace(const Json& spec, const std::string& type) {
  for (const auto& ns : spec["linux"]["namespaces"]) {
    if (ns["type"] == type) return true;
  }
  return false;
}

void AddHook(Json& spec, const std::string& kind, const std::string& path,
             const std::vector<std::string>& args, int timeout_seconds,
             const std::vector<std::string>& env) {
  Json h = {{"path", path}, {"args", args}};
  if (timeout_seconds > 0) h["timeout"] = timeout_seconds;
  if (!env.empty()) h["env"] = env;
  spec["hooks"][kind].push_back(std::move(h));
}

void SetUserNamespace(Json& spec, uint32_t host_base, uint32_t size) {
  SetNamespace(spec, "user");
  Json map = {{{"containerID", 0}, {"hostID", host_base}, {"size", size}}};
  spec["linux"]["uidMappings"] = map;
  spec["linux"]["gidMappings"] = map;
}

void SetAllCaps(Json& spec, const std::vector<std::string>& caps) {
  Json& c = spec["process"]["capabilities"];
  c = Json::object();
  for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"}) {
    c[set] = caps;
  }
}

}  // namespace berth::itest
