// Unit tests: statistics parsed from fixture files (v1 and v2) and their runc-shaped JSON.
#include <gtest/gtest.h>

#include "berth/cgroup/fake_cgroupfs.h"
#include "berth/cgroup/manager.h"
#include "berth/cgroup/v1/v1.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup {
namespace {

using testing::FakeCgroupfs;

TEST(StatsTest, V1Fixtures) {
  FakeCgroupfs fs;
  fs.File("cpuacct/cpuacct.usage", "3000\n");
  fs.File("cpuacct/cpuacct.usage_percpu", "1000 2000 \n");
  fs.File("cpuacct/cpuacct.usage_user", "1800\n");
  fs.File("cpuacct/cpuacct.usage_sys", "1200\n");
  fs.File("cpuacct/cpuacct.usage_percpu_user", "600 1200\n");
  fs.File("cpuacct/cpuacct.usage_percpu_sys", "400 800\n");
  fs.File("cpu/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 4500\n");
  Stats s;
  ASSERT_TRUE(v1::ReadCpuStats(fs.Path("cpu"), fs.Path("cpuacct"), s.cpu).has_value());
  EXPECT_EQ(s.cpu.total_ns, 3000u);
  EXPECT_EQ(s.cpu.percpu_ns, (std::vector<uint64_t>{1000, 2000}));
  EXPECT_EQ(s.cpu.percpu_kernel_ns, (std::vector<uint64_t>{400, 800}));
  EXPECT_EQ(s.cpu.user_ns, 1800u);
  EXPECT_EQ(s.cpu.throttled_periods, 3u);
  EXPECT_EQ(s.cpu.throttled_ns, 4500u);

  fs.File("memory/memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n");
  for (const char* p : {"memory.", "memory.memsw.", "memory.kmem.", "memory.kmem.tcp."}) {
    fs.File(std::string("memory/") + p + "usage_in_bytes", "100\n");
    fs.File(std::string("memory/") + p + "max_usage_in_bytes", "200\n");
    fs.File(std::string("memory/") + p + "failcnt", "1\n");
    fs.File(std::string("memory/") + p + "limit_in_bytes", "9223372036854771712\n");
  }
  fs.File("memory/memory.use_hierarchy", "1\n");
  fs.File("memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  ASSERT_TRUE(v1::ReadMemoryStats(fs.Path("memory"), s.memory, s.oom_kills).has_value());
  EXPECT_EQ(s.memory.cache, 4096u);
  EXPECT_EQ(s.memory.raw["rss"], 8192u);
  EXPECT_EQ(s.memory.swap.max_usage, 200u);
  EXPECT_EQ(s.memory.kernel_tcp.limit, 9223372036854771712u);
  EXPECT_TRUE(s.memory.use_hierarchy);
  EXPECT_EQ(s.oom_kills, 2u);

  fs.File("pids/pids.current", "3\n");
  fs.File("pids/pids.max", "max\n");
  ASSERT_TRUE(v1::ReadPidsStats(fs.Path("pids"), s.pids).has_value());
  EXPECT_EQ(s.pids.current, 3u);
  EXPECT_EQ(s.pids.limit, 0u);

  fs.File("blkio/blkio.throttle.io_service_bytes_recursive",
          "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\nTotal 12288\n");
  fs.File("blkio/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
  ASSERT_TRUE(v1::ReadBlkioStats(fs.Path("blkio"), s.blkio).has_value());
  ASSERT_EQ(s.blkio.io_service_bytes_recursive.size(), 3u);
  EXPECT_EQ(s.blkio.io_service_bytes_recursive[1].op, "Write");
  EXPECT_EQ(s.blkio.io_service_bytes_recursive[1].value, 8192u);
  EXPECT_EQ(s.blkio.io_serviced_recursive.size(), 2u);

  fs.File("hugetlb/hugetlb.2MB.usage_in_bytes", "2097152\n");
  fs.File("hugetlb/hugetlb.2MB.max_usage_in_bytes", "4194304\n");
  fs.File("hugetlb/hugetlb.2MB.failcnt", "5\n");
  fs.File("hugetlb/hugetlb.2MB.rsvd.usage_in_bytes", "0\n");
  ASSERT_TRUE(v1::ReadHugetlbStats(fs.Path("hugetlb"), s.hugetlb).has_value());
  ASSERT_EQ(s.hugetlb.size(), 1u);
  EXPECT_EQ(s.hugetlb["2MB"].failcnt, 5u);

  Json j = StatsToJson(s);
  EXPECT_EQ(j["cpu"]["usage"]["total"], 3000);
  EXPECT_EQ(j["cpu"]["usage"]["percpu_user"], Json::parse("[600,1200]"));
  EXPECT_EQ(j["cpu"]["usage"]["kernel"], 1200);
  EXPECT_EQ(j["cpu"]["throttling"]["throttledPeriods"], 3);
  EXPECT_EQ(j["cpu"]["throttling"]["throttledTime"], 4500);
  EXPECT_EQ(j["memory"]["usage"]["max"], 200);
  EXPECT_EQ(j["memory"]["swap"]["failcnt"], 1);
  EXPECT_EQ(j["memory"]["kernelTCP"]["usage"], 100);
  EXPECT_EQ(j["memory"]["raw"]["total_cache"], 4096);
  EXPECT_EQ(j["pids"], Json::parse(R"({"current":3})"));
  EXPECT_EQ(j["blkio"]["ioServiceBytesRecursive"][0],
            Json::parse(R"({"major":8,"op":"Read","value":4096})"));
  EXPECT_EQ(j["hugetlb"]["2MB"], Json::parse(R"({"usage":2097152,"max":4194304,"failcnt":5})"));
}

TEST(StatsTest, V2Fixtures) {
  FakeCgroupfs fs;
  fs.File("cpu.stat",
          "usage_usec 300\nuser_usec 200\nsystem_usec 100\nnr_periods 4\nnr_throttled 1\n"
          "throttled_usec 7\n");
  fs.File("memory.stat", "anon 8192\nfile 4096\n");
  fs.File("memory.current", "12288\n");
  fs.File("memory.max", "1048576\n");
  fs.File("memory.peak", "20000\n");
  fs.File("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  fs.File("memory.swap.current", "100\n");
  fs.File("memory.swap.max", "max\n");
  fs.File("pids.current", "2\n");
  fs.File("pids.max", "64\n");
  fs.File("io.stat", "8:0 rbytes=4096 wbytes=512 rios=2 wios=1 dbytes=0 dios=0\n");
  fs.File("hugetlb.2MB.current", "0\n");
  fs.File("hugetlb.2MB.events", "max 4\n");
  fs.File("hugetlb.2MB.max", "max\n");
  Stats s;
  std::string d = fs.root();
  ASSERT_TRUE(v2::ReadCpuStats(d, s.cpu).has_value());
  EXPECT_EQ(s.cpu.total_ns, 300000u);
  EXPECT_EQ(s.cpu.kernel_ns, 100000u);
  EXPECT_EQ(s.cpu.throttled_ns, 7000u);
  ASSERT_TRUE(v2::ReadMemoryStats(d, s.memory, s.oom_kills).has_value());
  EXPECT_EQ(s.memory.cache, 4096u);
  EXPECT_EQ(s.memory.usage.usage, 12288u);
  EXPECT_EQ(s.memory.usage.max_usage, 20000u);
  EXPECT_EQ(s.memory.usage.failcnt, 3u);
  EXPECT_EQ(s.memory.swap.usage, 12388u);  // memory+swap, as v1 reports it
  EXPECT_EQ(s.memory.swap.limit, kMax);
  EXPECT_EQ(s.oom_kills, 1u);
  ASSERT_TRUE(v2::ReadPidsStats(d, s.pids).has_value());
  EXPECT_EQ(s.pids.limit, 64u);
  ASSERT_TRUE(v2::ReadIoStats(d, s.blkio).has_value());
  ASSERT_EQ(s.blkio.io_service_bytes_recursive.size(), 3u);
  EXPECT_EQ(s.blkio.io_service_bytes_recursive[0].value, 4096u);
  EXPECT_EQ(s.blkio.io_serviced_recursive[1].op, "Write");
  ASSERT_TRUE(v2::ReadHugetlbStats(d, s.hugetlb).has_value());
  EXPECT_EQ(s.hugetlb["2MB"].failcnt, 4u);
  Json j = StatsToJson(s);
  EXPECT_EQ(j["hugetlb"]["2MB"], Json::parse(R"({"failcnt":4})"));
  EXPECT_EQ(j["memory"]["cache"], 4096);
  EXPECT_EQ(j["pids"]["limit"], 64);
}

TEST(StatsTest, EmptyStatsKeepRuncsRequiredFields) {
  Json j = StatsToJson(Stats{});
  EXPECT_EQ(j["cpu"]["usage"], Json::parse(R"({"kernel":0,"user":0})"));
  EXPECT_EQ(j["cpu"]["throttling"], Json::object());
  EXPECT_EQ(j["memory"]["usage"], Json::parse(R"({"limit":0,"failcnt":0})"));
  EXPECT_FALSE(j["memory"].contains("raw"));
  EXPECT_EQ(j["blkio"], Json::object());
  EXPECT_EQ(j["hugetlb"], Json::object());
}

}  // namespace
}  // namespace berth::cgroup
