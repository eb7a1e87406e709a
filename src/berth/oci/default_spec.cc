// berth/oci: the default config.json. The document is data (what `runc spec` writes); the
// rootless variant is derived from it in code, the way `runc spec --rootless` derives it.
#include "berth/oci/default_spec.h"

#include <unistd.h>

#include <string_view>

#include "berth/oci/go_json.h"
#include "berth/oci/spec.h"

namespace berth::oci {
namespace {

// ociVersion is filled in from kSpecVersion.
constexpr std::string_view kDefaultSpec = R"json({
  "ociVersion": "",
  "process": {
    "terminal": true,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runc",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [
      {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})json";

OrderedJson IdMap(uint32_t host_id) {
  OrderedJson m = OrderedJson::object();
  m["containerID"] = 0;
  m["hostID"] = host_id;
  m["size"] = 1;
  return OrderedJson::array({m});
}

// A user without privileges cannot mount a new sysfs (no network namespace of its own), create
// a network namespace or set up device cgroups; it can map only its own ids, and devpts's
// gid=5 would name an unmapped group.
void MakeRootless(OrderedJson& spec, uint32_t host_uid, uint32_t host_gid) {
  OrderedJson& mounts = spec["mounts"];
  for (auto& m : mounts) {
    if (m["destination"] == "/dev/pts") {
      OrderedJson options = OrderedJson::array();
      for (const auto& o : m["options"])
        if (o != "gid=5") options.push_back(o);
      m["options"] = std::move(options);
    }
    if (m["destination"] == "/sys") {
      m["type"] = "none";
      m["source"] = "/sys";
      m["options"] = {"rbind", "nosuid", "noexec", "nodev", "ro"};
    }
  }
  const OrderedJson& old_linux = spec["linux"];
  OrderedJson linux_section = OrderedJson::object();
  // Member order follows the Go struct: the mappings come first.
  linux_section["uidMappings"] = IdMap(host_uid);
  linux_section["gidMappings"] = IdMap(host_gid);
  for (auto it = old_linux.begin(); it != old_linux.end(); ++it) {
    if (it.key() == "resources") continue;
    if (it.key() != "namespaces") {
      linux_section[it.key()] = it.value();
      continue;
    }
    OrderedJson namespaces = OrderedJson::array();
    for (const auto& ns : it.value())
      if (ns["type"] != "network") namespaces.push_back(ns);
    namespaces.push_back({{"type", "user"}});
    linux_section["namespaces"] = std::move(namespaces);
  }
  spec["linux"] = std::move(linux_section);
}

}  // namespace

OrderedJson DefaultSpec(bool rootless, uint32_t host_uid, uint32_t host_gid) {
  // A constant document: parsing cannot fail, and allow_exceptions=false keeps it from throwing.
  OrderedJson spec = OrderedJson::parse(kDefaultSpec, nullptr, /*allow_exceptions=*/false);
  spec["ociVersion"] = std::string(kSpecVersion);
  if (rootless) MakeRootless(spec, host_uid, host_gid);
  return spec;
}

OrderedJson DefaultSpec(bool rootless) {
  return DefaultSpec(rootless, static_cast<uint32_t>(geteuid()), static_cast<uint32_t>(getegid()));
}

std::string DefaultSpecText(bool rootless) {
  return GoJsonMarshalIndent(DefaultSpec(rootless), "\t");
}

}  // namespace berth::oci
