// Tests of the default spec: byte-for-byte what `runc spec` (1.1.5) writes, except ociVersion:
// runc writes the runtime-spec version it was built with ("1.0.2-dev"), berth kSpecVersion.
#include "berth/oci/default_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "berth/base/file.h"
#include "berth/oci/go_json.h"
#include "berth/oci/spec.h"

namespace berth::oci {
namespace {

// `runc spec` output, copied verbatim (tab indentation, no final newline).
constexpr std::string_view kRuncSpec = R"json({
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
})json";

// `runc spec --rootless` run as root: the mappings' hostID is the caller's euid/egid.
constexpr std::string_view kRuncSpecRootless = R"json({
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "none",
			"source": "/sys",
			"options": [
				"rbind",
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"uidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"gidMappings": [
			{
				"containerID": 0,
				"hostID": 0,
				"size": 1
			}
		],
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			},
			{
				"type": "user"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
})json";

std::string WithVersion(std::string_view runc_text, std::string_view version) {
  std::string s(runc_text);
  const std::string from = "\"ociVersion\": \"1.0.2-dev\"";
  size_t pos = s.find(from);
  if (pos != std::string::npos)
    s.replace(pos, from.size(), "\"ociVersion\": \"" + std::string(version) + "\"");
  return s;
}

TEST(DefaultSpecTest, MatchesRuncSpec) {
  EXPECT_EQ(DefaultSpecText(false), WithVersion(kRuncSpec, kSpecVersion));
}

TEST(DefaultSpecTest, RootlessMatchesRuncSpecRootless) {
  std::string expected = WithVersion(kRuncSpecRootless, kSpecVersion);
  std::string text = GoJsonMarshalIndent(DefaultSpec(true, 0, 0), "\t");
  EXPECT_EQ(text, expected);
}

TEST(DefaultSpecTest, RootlessMapsTheGivenIds) {
  Json spec = DefaultSpec(true, 1000, 1001);
  EXPECT_EQ(spec["linux"]["uidMappings"],
            Json::parse(R"([{"containerID": 0, "hostID": 1000, "size": 1}])"));
  EXPECT_EQ(spec["linux"]["gidMappings"],
            Json::parse(R"([{"containerID": 0, "hostID": 1001, "size": 1}])"));
  EXPECT_FALSE(spec["linux"].contains("resources"));
}

TEST(DefaultSpecTest, ParsesAndValidates) {
  for (bool rootless : {false, true}) {
    auto s = SpecFromJson(DefaultSpec(rootless));
    ASSERT_TRUE(s.has_value()) << s.error().message();
    EXPECT_EQ(s->oci_version, kSpecVersion);
    EXPECT_TRUE(Validate(*s).has_value());
  }
}

// Against the reference itself, when it is installed: `runc spec` needs no privileges.
TEST(DefaultSpecTest, MatchesInstalledRunc) {
  const char* runc = nullptr;
  for (const char* p : {"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"})
    if (access(p, X_OK) == 0) runc = p;
  if (runc == nullptr) GTEST_SKIP() << "runc is not installed";
  char dir[] = "/tmp/berth-oci-spec-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  for (bool rootless : {false, true}) {
    std::string cmd = std::string("cd ") + dir + " && rm -f config.json && " + runc + " spec" +
                      (rootless ? " --rootless" : "") + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto text = ReadFile(std::string(dir) + "/config.json");
    ASSERT_TRUE(text.has_value());
    // runc writes the spec version it was built with; compare with ours substituted.
    auto parsed = ParseJson(*text, "runc config.json");
    ASSERT_TRUE(parsed.has_value());
    std::string version = (*parsed)["ociVersion"];
    std::string ours = DefaultSpecText(rootless);
    std::string theirs = *text;
    theirs.replace(theirs.find(version), version.size(), kSpecVersion);
    EXPECT_EQ(ours, theirs) << (rootless ? "rootless" : "default");
  }
  int rc = std::system((std::string("rm -rf ") + dir).c_str());
  (void)rc;
}

}  // namespace
}  // namespace berth::oci
