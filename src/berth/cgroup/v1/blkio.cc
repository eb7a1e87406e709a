// berth/cgroup/v1: the blkio controller: proportional weights (CFQ's blkio.weight or BFQ's
// blkio.bfq.weight, whichever the host has) and throttling; I/O statistics.
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

namespace {

std::string F(std::string_view name) { return StrCat("linux.resources.blockIO.", name); }

// The first of `files` that exists in `dir`, or "" (with `err` naming all of them).
std::string Pick(const std::string& dir, std::initializer_list<std::string_view> files,
                 std::string_view field, Error& err) {
  std::vector<std::string> names;
  for (std::string_view f : files) {
    if (HasFile(dir, f)) return std::string(f);
    names.push_back(Quote(f));
  }
  err = NotSupported(field, StrCat("no ", Join(names, " or "), " in ", Quote(dir)));
  return "";
}

Status WriteThrottle(const std::string& dir, std::string_view field, std::string_view file,
                     const std::vector<oci::ThrottleDevice>& devs) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    // Rate 0 removes the device's limit in v1.
    BERTH_TRY(WriteField(StrCat(field, "[", i, "]"), dir, file,
                         StrCat(d.major, ":", d.minor, " ", d.rate)));
  }
  return Ok();
}

}  // namespace

bool WantsBlkio(const oci::BlockIoResources& io) {
  return io.weight || io.leaf_weight || !io.weight_device.empty() ||
         !io.throttle_read_bps_device.empty() || !io.throttle_write_bps_device.empty() ||
         !io.throttle_read_iops_device.empty() || !io.throttle_write_iops_device.empty();
}

Status ApplyBlkio(const std::string& dir, const oci::BlockIoResources& io) {
  Error err;
  if (io.weight) {
    std::string file = Pick(dir, {"blkio.weight", "blkio.bfq.weight"}, F("weight"), err);
    if (file.empty()) return Unexpected(err);
    BERTH_TRY(WriteField(F("weight"), dir, file, StrCat(*io.weight)));
  }
  if (io.leaf_weight) {
    // Only CFQ had leaf weights; BFQ and kernels after 5.0 do not.
    BERTH_TRY(WriteField(F("leafWeight"), dir, "blkio.leaf_weight", StrCat(*io.leaf_weight)));
  }
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const auto& d = io.weight_device[i];
    std::string field = StrCat(F("weightDevice"), "[", i, "]");
    if (d.weight) {
      std::string f = StrCat(field, ".weight");
      std::string file = Pick(dir, {"blkio.weight_device", "blkio.bfq.weight_device"}, f, err);
      if (file.empty()) return Unexpected(err);
      BERTH_TRY(WriteField(f, dir, file, StrCat(d.major, ":", d.minor, " ", *d.weight)));
    }
    if (d.leaf_weight) {
      BERTH_TRY(WriteField(StrCat(field, ".leafWeight"), dir, "blkio.leaf_weight_device",
                           StrCat(d.major, ":", d.minor, " ", *d.leaf_weight)));
    }
  }
  BERTH_TRY(WriteThrottle(dir, F("throttleReadBpsDevice"), "blkio.throttle.read_bps_device",
                          io.throttle_read_bps_device));
  BERTH_TRY(WriteThrottle(dir, F("throttleWriteBpsDevice"), "blkio.throttle.write_bps_device",
                          io.throttle_write_bps_device));
  BERTH_TRY(WriteThrottle(dir, F("throttleReadIOPSDevice"), "blkio.throttle.read_iops_device",
                          io.throttle_read_iops_device));
  BERTH_TRY(WriteThrottle(dir, F("throttleWriteIOPSDevice"), "blkio.throttle.write_iops_device",
                          io.throttle_write_iops_device));
  return Ok();
}

std::vector<BlkioEntry> ParseBlkioRecursive(std::string_view text) {
  std::vector<BlkioEntry> out;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    auto f = SplitNonEmpty(line, ' ');
    if (f.size() != 3) continue;  // "Total N"
    auto mm = Split(f[0], ':');
    if (mm.size() != 2) continue;
    auto ma = ParseUint64(mm[0], "major"), mi = ParseUint64(mm[1], "minor");
    auto v = ParseUint64(f[2], "value");
    if (!ma || !mi || !v) continue;
    out.push_back(BlkioEntry{*ma, *mi, f[1], *v});
  }
  return out;
}

Status ReadBlkioStats(const std::string& dir, BlkioStats& out) {
  // The throttle files count all I/O; the BFQ files only I/O that BFQ scheduled. Prefer
  // the throttle ones, fall back when they are empty (as runc does).
  for (std::string_view prefix : {"blkio.throttle.", "blkio.bfq.", "blkio."}) {
    std::string bytes = StrCat(prefix, "io_service_bytes_recursive");
    if (!HasFile(dir, bytes)) continue;
    BERTH_ASSIGN_OR_RETURN(std::string b, ReadFile(JoinPath(dir, bytes)));
    BERTH_ASSIGN_OR_RETURN(std::string n,
                           ReadFile(JoinPath(dir, StrCat(prefix, "io_serviced_recursive"))));
    out.io_service_bytes_recursive = ParseBlkioRecursive(b);
    out.io_serviced_recursive = ParseBlkioRecursive(n);
    if (!out.io_service_bytes_recursive.empty() || !out.io_serviced_recursive.empty()) break;
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
