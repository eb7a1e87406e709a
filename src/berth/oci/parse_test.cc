// Tests of the config.json parser: strict types, errors naming the document and field path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "berth/base/file.h"
#include "berth/oci/spec.h"

namespace berth::oci {
namespace {

struct ErrorCase {
  const char* json;
  const char* message;  // the whole error message
};

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, NamesDocumentAndPath) {
  auto r = ParseSpec(GetParam().json);
  ASSERT_FALSE(r.has_value()) << GetParam().json;
  EXPECT_EQ(r.error().message(), GetParam().message);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseErrorTest,
    ::testing::Values(
        ErrorCase{R"([])", "config.json: expected an object, got an array"},
        ErrorCase{R"({"ociVersion": 1})",
                  "config.json: ociVersion: expected a string, got an integer"},
        ErrorCase{R"({"root": "rootfs"})", "config.json: root: expected an object, got a string"},
        ErrorCase{R"({"root": {"readonly": "yes"}})",
                  "config.json: root.readonly: expected a boolean, got a string"},
        ErrorCase{R"({"linux": {"resources": {"memory": {"limit": "1g"}}}})",
                  "config.json: linux.resources.memory.limit: expected an integer, got a string"},
        ErrorCase{
            R"({"mounts": [{"destination": "/a"}, {"destination": "/b"}, {"destination": 5}]})",
            "config.json: mounts[2].destination: expected a string, got an integer"},
        ErrorCase{R"({"mounts": {"destination": "/a"}})",
                  "config.json: mounts: expected an array, got an object"},
        ErrorCase{R"({"mounts": [{"destination": "/a", "options": ["ro", 1]}]})",
                  "config.json: mounts[0].options[1]: expected a string, got an integer"},
        ErrorCase{R"({"process": {"user": {"uid": -1}}})",
                  "config.json: process.user.uid: expected an integer between 0 and 4294967295, "
                  "got -1"},
        ErrorCase{R"({"process": {"user": {"gid": 4294967296}}})",
                  "config.json: process.user.gid: expected an integer between 0 and 4294967295, "
                  "got 4294967296"},
        ErrorCase{R"({"process": {"user": {"additionalGids": [1, "2"]}}})",
                  "config.json: process.user.additionalGids[1]: expected an integer, got a string"},
        ErrorCase{R"({"process": {"args": "sh"}})",
                  "config.json: process.args: expected an array, got a string"},
        ErrorCase{R"({"process": {"args": ["sh", null]}})",
                  "config.json: process.args[1]: expected a string, got null"},
        ErrorCase{R"({"process": {"terminal": 1}})",
                  "config.json: process.terminal: expected a boolean, got an integer"},
        ErrorCase{R"({"process": {"oomScoreAdj": 1.5}})",
                  "config.json: process.oomScoreAdj: expected an integer, got a floating-point "
                  "number"},
        ErrorCase{R"({"process": {"oomScoreAdj": 2147483648}})",
                  "config.json: process.oomScoreAdj: expected an integer between -2147483648 and "
                  "2147483647, got 2147483648"},
        ErrorCase{R"({"process": {"capabilities": {"bounding": {}}}})",
                  "config.json: process.capabilities.bounding: expected an array, got an object"},
        ErrorCase{R"({"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": -1}]}})",
                  "config.json: process.rlimits[0].hard: expected an integer between 0 and "
                  "18446744073709551615, got -1"},
        ErrorCase{R"({"process": {"consoleSize": {"height": true}}})",
                  "config.json: process.consoleSize.height: expected an integer, got a boolean"},
        ErrorCase{R"({"process": {"scheduler": {"policy": "SCHED_OTHER", "nice": "x"}}})",
                  "config.json: process.scheduler.nice: expected an integer, got a string"},
        ErrorCase{R"({"process": {"ioPriority": {"class": 2}}})",
                  "config.json: process.ioPriority.class: expected a string, got an integer"},
        ErrorCase{R"({"process": {"execCPUAffinity": {"final": [0]}}})",
                  "config.json: process.execCPUAffinity.final: expected a string, got an array"},
        ErrorCase{R"({"process": {"user": {"umask": 18.0}}})",
                  "config.json: process.user.umask: expected an integer, got a floating-point "
                  "number"},
        ErrorCase{R"({"hooks": {"poststop": [{"path": "/bin/true", "timeout": "5"}]}})",
                  "config.json: hooks.poststop[0].timeout: expected an integer, got a string"},
        ErrorCase{R"({"hooks": []})", "config.json: hooks: expected an object, got an array"},
        ErrorCase{R"({"annotations": {"io.example.key": true}})",
                  "config.json: annotations[\"io.example.key\"]: expected a string, got a boolean"},
        ErrorCase{R"({"linux": {"namespaces": [{"type": "pid"}, {"type": "foo"}]}})",
                  "config.json: linux.namespaces[1].type: unknown namespace type `foo`"},
        ErrorCase{R"({"linux": {"namespaces": [{"path": "/proc/1/ns/net"}]}})",
                  "config.json: linux.namespaces[0].type: required field is missing"},
        ErrorCase{R"({"linux": {"uidMappings": [{"containerID": 0, "hostID": "1000"}]}})",
                  "config.json: linux.uidMappings[0].hostID: expected an integer, got a string"},
        ErrorCase{R"({"linux": {"sysctl": {"net.ipv4.ip_forward": 1}}})",
                  "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got an "
                  "integer"},
        ErrorCase{R"({"linux": {"devices": [{"type": "c", "path": "/dev/fuse", "major": 10}]}})",
                  "config.json: linux.devices[0].minor: required for device type `c`"},
        ErrorCase{R"({"linux": {"devices": [{"type": "c", "path": "/dev/x", "major": 1,
                     "minor": 2, "fileMode": -1}]}})",
                  "config.json: linux.devices[0].fileMode: expected an integer between 0 and "
                  "4294967295, got -1"},
        ErrorCase{
            R"({"linux": {"resources": {"devices": [{"allow": "true"}]}}})",
            "config.json: linux.resources.devices[0].allow: expected a boolean, got a string"},
        ErrorCase{R"({"linux": {"resources": {"blockIO": {"weight": 70000}}}})",
                  "config.json: linux.resources.blockIO.weight: expected an integer between 0 and "
                  "65535, got 70000"},
        ErrorCase{R"({"linux": {"resources": {"blockIO": {"throttleReadBpsDevice":
                     [{"major": 8, "minor": 0, "rate": "fast"}]}}}})",
                  "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected an "
                  "integer, got a string"},
        ErrorCase{R"({"linux": {"resources": {"memory": {"swappiness": -1}}}})",
                  "config.json: linux.resources.memory.swappiness: expected an integer between 0 "
                  "and 18446744073709551615, got -1"},
        ErrorCase{R"({"linux": {"resources": {"cpu": {"cpus": 3}}}})",
                  "config.json: linux.resources.cpu.cpus: expected a string, got an integer"},
        ErrorCase{R"({"linux": {"resources": {"pids": {"limit": "max"}}}})",
                  "config.json: linux.resources.pids.limit: expected an integer, got a string"},
        ErrorCase{R"({"linux": {"resources": {"hugepageLimits": [{"pageSize": 2}]}}})",
                  "config.json: linux.resources.hugepageLimits[0].pageSize: expected a string, got "
                  "an integer"},
        ErrorCase{R"({"linux": {"resources": {"rdma": {"mlx5_1": {"hcaHandles": -3}}}}})",
                  "config.json: linux.resources.rdma.mlx5_1.hcaHandles: expected an integer "
                  "between 0 and 4294967295, got -3"},
        ErrorCase{R"({"linux": {"resources": {"unified": {"memory.max": 5}}}})",
                  "config.json: linux.resources.unified[\"memory.max\"]: expected a string, got an "
                  "integer"},
        ErrorCase{R"({"linux": {"resources": {"network": {"priorities": [{"name": 1}]}}}})",
                  "config.json: linux.resources.network.priorities[0].name: expected a string, got "
                  "an integer"},
        ErrorCase{R"({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                     "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                     "args": [{"index": "0", "value": 1, "op": "SCMP_CMP_EQ"}]}]}}})",
                  "config.json: linux.seccomp.syscalls[0].args[0].index: expected an integer, got "
                  "a string"},
        ErrorCase{R"({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO",
                     "defaultErrnoRet": -1}}})",
                  "config.json: linux.seccomp.defaultErrnoRet: expected an integer between 0 and "
                  "4294967295, got -1"},
        ErrorCase{
            R"({"linux": {"timeOffsets": {"monotonic": {"secs": "x"}}}})",
            "config.json: linux.timeOffsets.monotonic.secs: expected an integer, got a string"},
        ErrorCase{R"({"linux": {"netDevices": {"eth0": {"name": 3}}}})",
                  "config.json: linux.netDevices.eth0.name: expected a string, got an integer"},
        ErrorCase{R"({"linux": {"intelRdt": {"enableCMT": "true"}}})",
                  "config.json: linux.intelRdt.enableCMT: expected a boolean, got a string"},
        ErrorCase{R"({"linux": {"personality": {"domain": ["LINUX"]}}})",
                  "config.json: linux.personality.domain: expected a string, got an array"},
        ErrorCase{R"({"linux": {"maskedPaths": "/proc/kcore"}})",
                  "config.json: linux.maskedPaths: expected an array, got a string"},
        ErrorCase{R"({"windows": []})", "config.json: windows: expected an object, got an array"}));

TEST(ParseTest, SyntaxErrorsGiveLineAndColumn) {
  auto r = ParseSpec("{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\n}", "/b/config.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().rfind("/b/config.json: line 4, column ", 0), 0u)
      << r.error().message();
}

TEST(ParseTest, DocumentNameComesFromCaller) {
  auto r = ParseSpec(R"({"hostname": 1})", "/run/bundle/config.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "/run/bundle/config.json: hostname: expected a string, got an integer");
}

TEST(ParseTest, UnknownMembersAreIgnored) {
  auto r = ParseSpec(R"({"ociVersion": "1.0.0", "futureField": {"x": 1},
                         "process": {"args": ["sh"], "cwd": "/", "novel": [1, 2]},
                         "linux": {"resources": {"memory": {"limit": 5, "newKnob": "y"}}}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(r->linux_config->resources->memory->limit, 5);
}

TEST(ParseTest, NullIsAbsent) {
  // Go's encoding/json leaves a field at its zero value for null; so do we.
  auto r = ParseSpec(R"({"ociVersion": "1.0.0", "process": null, "hostname": null,
                         "linux": {"seccomp": null, "resources": {"memory": {"limit": null}}}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(r->process.has_value());
  EXPECT_FALSE(r->linux_config->seccomp.has_value());
  ASSERT_TRUE(r->linux_config->resources->memory.has_value());
  EXPECT_FALSE(r->linux_config->resources->memory->limit.has_value());
}

TEST(ParseTest, AbsentDiffersFromZero) {
  auto r = ParseSpec(R"({"process": {"oomScoreAdj": 0, "capabilities": {"bounding": []}},
                         "linux": {"resources": {"memory": {"swap": -1}}}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->process->oom_score_adj, 0);
  ASSERT_TRUE(r->process->capabilities->bounding.has_value());
  EXPECT_TRUE(r->process->capabilities->bounding->empty());
  EXPECT_FALSE(r->process->capabilities->effective.has_value());
  EXPECT_FALSE(r->linux_config->resources->memory->limit.has_value());
  EXPECT_EQ(r->linux_config->resources->memory->swap, -1);
}

TEST(ParseTest, IntegerLimits) {
  auto r = ParseSpec(R"({"process": {"rlimits": [{"type": "RLIMIT_CORE",
                         "hard": 18446744073709551615, "soft": 0}],
                         "oomScoreAdj": -1000},
                         "linux": {"resources": {"memory": {"limit": -9223372036854775808},
                                   "blockIO": {"weight": 65535}},
                                   "timeOffsets": {"boottime": {"secs": -5, "nanosecs": 7}}}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->process->rlimits[0].hard, UINT64_MAX);
  EXPECT_EQ(r->process->oom_score_adj, -1000);
  EXPECT_EQ(r->linux_config->resources->memory->limit, INT64_MIN);
  EXPECT_EQ(r->linux_config->resources->block_io->weight, 65535);
  EXPECT_EQ(r->linux_config->time_offsets.at("boottime").secs, -5);
}

TEST(ParseTest, OtherPlatformSectionsSetFlags) {
  auto r = ParseSpec(R"({"vm": {"hypervisor": {"path": "/q"}}, "windows": {}, "solaris": {},
                         "zos": {}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->has_vm);
  EXPECT_TRUE(r->has_windows);
  EXPECT_TRUE(r->has_solaris);
  EXPECT_TRUE(r->has_zos);
  auto none = ParseSpec("{}");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_vm || none->has_windows || none->has_solaris || none->has_zos);
}

TEST(ParseTest, FifoDevicesNeedNoNumbers) {
  auto r = ParseSpec(R"({"linux": {"devices": [{"type": "p", "path": "/dev/fifo"}]}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->linux_config->devices[0].path, "/dev/fifo");
}

TEST(ParseTest, ProcessFromJsonNamesItsOwnDocument) {
  auto ok = ProcessFromJson(Json::parse(R"({"args": ["ls"], "cwd": "/tmp", "env": ["A=1"]})"),
                            "process.json");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->cwd, "/tmp");
  auto bad = ProcessFromJson(Json::parse(R"({"args": 1})"), "process.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "process.json: args: expected an array, got an integer");
}

TEST(ParseTest, ResourcesFromJsonNamesItsOwnDocument) {
  auto ok = ResourcesFromJson(
      Json::parse(R"({"memory": {"limit": 1048576}, "pids": {"limit": 9}})"), "resources.json");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->pids->limit, 9);
  auto bad = ResourcesFromJson(Json::parse(R"({"memory": {"limit": "1m"}})"), "resources.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "resources.json: memory.limit: expected an integer, got a string");
}

TEST(ParseTest, LoadSpecReadsTheFile) {
  char dir[] = "/tmp/berth-oci-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/config.json";
  ASSERT_TRUE(
      WriteFile(path, R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}})").has_value());
  auto r = LoadSpec(path);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->root.path, "rootfs");

  ASSERT_TRUE(WriteFile(path, R"({"root": {"path": 7}})").has_value());
  auto bad = LoadSpec(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), path + ": root.path: expected a string, got an integer");
  unlink(path.c_str());
  rmdir(dir);

  auto missing = LoadSpec(std::string(dir) + "/config.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::oci
