// Config fields beyond the basics: execCPUAffinity is applied, and fields berth-runtime does
// not implement are refused with the field named (never silently ignored).
#include <gtest/gtest.h>

#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using FieldsTest = RuntimeTest;

TEST_F(FieldsTest, ExecCpuAffinityFinalPinsTheProcess) {
  BERTH_SKIP_IF_RUNC("runc 1.1 has no execCPUAffinity");
  bundle().spec()["process"]["execCPUAffinity"] = {{"final", "0"}};
  CommandResult r = RunProbe(Sh("grep Cpus_allowed_list /proc/self/status"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("Cpus_allowed_list:\t0\n"), std::string::npos) << r.out;
  ExpectNoLeaks();
}

struct Refused {
  const char* name;
  const char* json_pointer;  // where to put the value
  Json value;
  const char* field_in_message;
};

class RefusedFieldTest : public RuntimeTest, public ::testing::WithParamInterface<Refused> {};

TEST_P(RefusedFieldTest, IsAnErrorNamingTheField) {
  BERTH_SKIP_IF_RUNC("error wording is berth's");
  const Refused& p = GetParam();
  bundle().spec()[Json::json_pointer(p.json_pointer)] = p.value;
  CommandResult r = RunProbe({"/probe", "exit", "0"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find(p.field_in_message), std::string::npos) << r.err;
  ExpectNoLeaks();
}

INSTANTIATE_TEST_SUITE_P(
    Unsupported, RefusedFieldTest,
    ::testing::Values(
        Refused{"IntelRdt", "/linux/intelRdt", Json{{"closID", "x"}}, "linux.intelRdt"},
        Refused{"NetDevices", "/linux/netDevices", Json{{"dummy0", Json::object()}},
                "linux.netDevices"},
        Refused{"IdmappedMount", "/mounts/-",
                Json{{"destination", "/mnt"},
                     {"type", "bind"},
                     {"source", "/tmp"},
                     {"options", Json::array({"rbind"})},
                     {"uidMappings", Json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}})},
                     {"gidMappings", Json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}})}},
                "idmapped mounts are not supported"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace berth::itest
