// berth/cgroup/v2: the io controller: weights (io.bfq.weight when BFQ is the scheduler,
// else io.weight) and io.max limits; io.stat.
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

namespace {

std::string F(std::string_view name) { return StrCat("linux.resources.blockIO.", name); }

Status WriteMax(const std::string& dir, std::string_view field, std::string_view key,
                const std::vector<oci::ThrottleDevice>& devs) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    // Rate 0 means "no limit" in the v1 semantics OCI inherits; v2 spells that "max".
    std::string rate = d.rate == 0 ? std::string("max") : StrCat(d.rate);
    BERTH_TRY(WriteField(StrCat(field, "[", i, "]"), dir, "io.max",
                         StrCat(d.major, ":", d.minor, " ", key, "=", rate)));
  }
  return Ok();
}

}  // namespace

uint64_t BlkioWeightToIoWeight(uint64_t w) {
  if (w == 0) return 0;
  if (w < 10) w = 10;
  if (w > 1000) w = 1000;
  return 1 + (w - 10) * 9999 / 990;
}

Status ApplyIo(const Leaf& leaf, const oci::BlockIoResources& io) {
  const std::string& dir = leaf.dir();
  if (io.leaf_weight)
    return Unexpected(NotSupported(F("leafWeight"), "cgroup v2 has no leaf weights"));
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    if (io.weight_device[i].leaf_weight) {
      return Unexpected(NotSupported(StrCat(F("weightDevice"), "[", i, "].leafWeight"),
                                     "cgroup v2 has no leaf weights"));
    }
  }
  bool any = io.weight || !io.weight_device.empty() || !io.throttle_read_bps_device.empty() ||
             !io.throttle_write_bps_device.empty() || !io.throttle_read_iops_device.empty() ||
             !io.throttle_write_iops_device.empty();
  if (!any) return Ok();
  BERTH_TRY(leaf.EnableController("io", "linux.resources.blockIO"));
  // BFQ takes blkio's 1-1000 range as is; io.weight (iocost) uses 1-10000.
  bool bfq = HasFile(dir, "io.bfq.weight");
  if ((io.weight || !io.weight_device.empty()) && !bfq && !HasFile(dir, "io.weight")) {
    return Unexpected(NotSupported(io.weight ? F("weight") : F("weightDevice"),
                                   StrCat("no `io.bfq.weight` or `io.weight` in ", Quote(dir))));
  }
  if (io.weight) {
    if (bfq) {
      BERTH_TRY(WriteField(F("weight"), dir, "io.bfq.weight", StrCat(*io.weight)));
    } else {
      BERTH_TRY(WriteField(F("weight"), dir, "io.weight",
                           StrCat("default ", BlkioWeightToIoWeight(*io.weight))));
    }
  }
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const auto& d = io.weight_device[i];
    if (!d.weight) continue;
    uint64_t w = bfq ? *d.weight : BlkioWeightToIoWeight(*d.weight);
    BERTH_TRY(WriteField(StrCat(F("weightDevice"), "[", i, "].weight"), dir,
                         bfq ? "io.bfq.weight" : "io.weight",
                         StrCat(d.major, ":", d.minor, " ", w)));
  }
  BERTH_TRY(WriteMax(dir, F("throttleReadBpsDevice"), "rbps", io.throttle_read_bps_device));
  BERTH_TRY(WriteMax(dir, F("throttleWriteBpsDevice"), "wbps", io.throttle_write_bps_device));
  BERTH_TRY(WriteMax(dir, F("throttleReadIOPSDevice"), "riops", io.throttle_read_iops_device));
  BERTH_TRY(WriteMax(dir, F("throttleWriteIOPSDevice"), "wiops", io.throttle_write_iops_device));
  return Ok();
}

std::vector<BlkioEntry> ParseIoStat(std::string_view text, bool bytes) {
  // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" per device.
  std::vector<BlkioEntry> out;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    auto f = SplitNonEmpty(line, ' ');
    if (f.empty()) continue;
    auto mm = Split(f[0], ':');
    if (mm.size() != 2) continue;
    auto ma = ParseUint64(mm[0], "major"), mi = ParseUint64(mm[1], "minor");
    if (!ma || !mi) continue;
    for (size_t i = 1; i < f.size(); ++i) {
      auto kv = Split(f[i], '=');
      if (kv.size() != 2) continue;
      auto v = ParseUint64(kv[1], kv[0]);
      if (!v) continue;
      std::string op;
      if (kv[0] == (bytes ? "rbytes" : "rios")) op = "Read";
      if (kv[0] == (bytes ? "wbytes" : "wios")) op = "Write";
      if (kv[0] == (bytes ? "dbytes" : "dios")) op = "Discard";
      if (!op.empty()) out.push_back(BlkioEntry{*ma, *mi, op, *v});
    }
  }
  return out;
}

Status ReadIoStats(const std::string& dir, BlkioStats& out) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dir, "io.stat")));
  out.io_service_bytes_recursive = ParseIoStat(text, true);
  out.io_serviced_recursive = ParseIoStat(text, false);
  return Ok();
}

}  // namespace berth::cgroup::v2
