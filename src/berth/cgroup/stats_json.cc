// berth/cgroup: Stats in the shape of runc's `events --stats` data (runc's types.Stats),
// including Go's omitempty: zero numbers and empty lists of omitempty fields are left out.
#include "berth/cgroup/manager.h"

namespace berth::cgroup {

namespace {

void PutIf(Json& j, const char* key, uint64_t v) {
  if (v != 0) j[key] = v;
}

void PutIf(Json& j, const char* key, const std::vector<uint64_t>& v) {
  if (!v.empty()) j[key] = v;
}

Json Entry(const MemoryEntry& e) {
  Json j = Json::object();
  j["limit"] = e.limit;
  PutIf(j, "usage", e.usage);
  PutIf(j, "max", e.max_usage);
  j["failcnt"] = e.failcnt;
  return j;
}

Json Blkio(const std::vector<BlkioEntry>& entries) {
  Json a = Json::array();
  for (const BlkioEntry& e : entries) {
    Json j = Json::object();
    PutIf(j, "major", e.major);
    PutIf(j, "minor", e.minor);
    if (!e.op.empty()) j["op"] = e.op;
    PutIf(j, "value", e.value);
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace

Json StatsToJson(const Stats& s) {
  Json usage = Json::object();
  PutIf(usage, "total", s.cpu.total_ns);
  PutIf(usage, "percpu", s.cpu.percpu_ns);
  PutIf(usage, "percpu_kernel", s.cpu.percpu_kernel_ns);
  PutIf(usage, "percpu_user", s.cpu.percpu_user_ns);
  usage["kernel"] = s.cpu.kernel_ns;
  usage["user"] = s.cpu.user_ns;
  Json throttling = Json::object();
  PutIf(throttling, "periods", s.cpu.periods);
  PutIf(throttling, "throttledPeriods", s.cpu.throttled_periods);
  PutIf(throttling, "throttledTime", s.cpu.throttled_ns);

  Json memory = Json::object();
  PutIf(memory, "cache", s.memory.cache);
  memory["usage"] = Entry(s.memory.usage);
  memory["swap"] = Entry(s.memory.swap);
  memory["kernel"] = Entry(s.memory.kernel);
  memory["kernelTCP"] = Entry(s.memory.kernel_tcp);
  if (!s.memory.raw.empty()) memory["raw"] = s.memory.raw;

  Json pids = Json::object();
  PutIf(pids, "current", s.pids.current);
  PutIf(pids, "limit", s.pids.limit);

  Json blkio = Json::object();
  if (!s.blkio.io_service_bytes_recursive.empty()) {
    blkio["ioServiceBytesRecursive"] = Blkio(s.blkio.io_service_bytes_recursive);
  }
  if (!s.blkio.io_serviced_recursive.empty()) {
    blkio["ioServicedRecursive"] = Blkio(s.blkio.io_serviced_recursive);
  }

  Json hugetlb = Json::object();
  for (const auto& [size, h] : s.hugetlb) {
    Json j = Json::object();
    PutIf(j, "usage", h.usage);
    PutIf(j, "max", h.max_usage);
    j["failcnt"] = h.failcnt;
    hugetlb[size] = std::move(j);
  }

  return Json{{"cpu", {{"usage", usage}, {"throttling", throttling}}},
              {"memory", memory},
              {"pids", pids},
              {"blkio", blkio},
              {"hugetlb", hugetlb}};
}

}  // namespace berth::cgroup
