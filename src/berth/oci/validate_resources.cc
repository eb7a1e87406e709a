// berth/oci: checks of linux.resources (also used alone for `update -r FILE`). Limits the
// host cannot honour are the cgroup manager's to report; these are the spec's own rules.
#include <string>

#include "berth/oci/spec.h"
#include "berth/oci/validate_util.h"

namespace berth::oci {
namespace {

using internal::CheckCpuList;
using internal::CheckKnown;
using internal::Field;
using internal::FieldError;

constexpr std::string_view kDeviceRuleTypes[] = {"", "a", "c", "b"};

Status CheckDeviceRules(std::string_view field, const std::vector<DeviceRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const DeviceRule& r = rules[i];
    std::string f = Field(field, i);
    BERTH_TRY(CheckKnown(Field(f, "type"), r.type, kDeviceRuleTypes, "device type"));
    // -1 is what some callers write for "any" (the cgroup files' `*`).
    if ((r.major && *r.major < -1) || (r.minor && *r.minor < -1))
      return FieldError(f, "major and minor must not be negative");
    std::string seen;
    for (char c : r.access) {
      if ((c != 'r' && c != 'w' && c != 'm') || seen.find(c) != std::string::npos)
        return FieldError(Field(f, "access"),
                          StrCat(Quote(r.access), " is not a combination of r, w and m"));
      seen.push_back(c);
    }
  }
  return Ok();
}

Status CheckMemory(std::string_view field, const MemoryResources& m) {
  if (m.kernel)
    return FieldError(Field(field, "kernel"),
                      "kernel memory limits are not supported (deprecated; gone since Linux 5.4)",
                      ErrorCode::kUnsupported);
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit)
    return FieldError(Field(field, "swap"), StrCat("memory+swap limit ", *m.swap,
                                                   " is below the memory limit ", *m.limit));
  if (m.swappiness && *m.swappiness > 100)
    return FieldError(Field(field, "swappiness"),
                      StrCat("must be between 0 and 100, got ", *m.swappiness));
  return Ok();
}

Status CheckCpu(std::string_view field, const CpuResources& c) {
  if (c.quota && c.burst && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
    return FieldError(Field(field, "burst"), StrCat("must not exceed quota ", *c.quota));
  if (c.idle && *c.idle != 0 && *c.idle != 1)
    return FieldError(Field(field, "idle"), StrCat("must be 0 or 1, got ", *c.idle));
  if (!c.cpus.empty()) BERTH_TRY(CheckCpuList(Field(field, "cpus"), c.cpus));
  if (!c.mems.empty()) BERTH_TRY(CheckCpuList(Field(field, "mems"), c.mems));
  return Ok();
}

Status CheckBlockIo(std::string_view field, const BlockIoResources& b) {
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const WeightDevice& w = b.weight_device[i];
    if (!w.weight && !w.leaf_weight)
      return FieldError(Field(Field(field, "weightDevice"), i), "needs weight or leafWeight");
  }
  return Ok();
}

// "<size><unit>B" as the hugetlb controller names its files: 64KB, 2MB, 1GB.
Status CheckPageSize(std::string_view field, std::string_view size) {
  size_t digits = size.find_first_not_of("0123456789");
  bool ok = digits != 0 && digits != std::string_view::npos && size.size() == digits + 2 &&
            std::string_view("KMGTPE").find(size[digits]) != std::string_view::npos &&
            size.back() == 'B';
  if (!ok) return FieldError(field, StrCat("invalid huge page size ", Quote(size)));
  return Ok();
}

}  // namespace

Status ValidateResources(const Resources& r, std::string_view field) {
  BERTH_TRY(CheckDeviceRules(Field(field, "devices"), r.devices));
  if (r.memory) BERTH_TRY(CheckMemory(Field(field, "memory"), *r.memory));
  if (r.cpu) BERTH_TRY(CheckCpu(Field(field, "cpu"), *r.cpu));
  if (r.block_io) BERTH_TRY(CheckBlockIo(Field(field, "blockIO"), *r.block_io));
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i)
    BERTH_TRY(CheckPageSize(Field(Field(Field(field, "hugepageLimits"), i), "pageSize"),
                            r.hugepage_limits[i].page_size));
  for (const auto& [device, limit] : r.rdma) {
    if (!limit.hca_handles && !limit.hca_objects)
      return FieldError(Field(Field(field, "rdma"), device), "needs hcaHandles or hcaObjects");
  }
  for (const auto& [file, value] : r.unified) {
    // Keys name files in the container's own cgroup directory, nothing else.
    if (file.empty() || file.find('/') != std::string::npos ||
        file.find('.') == std::string::npos || file == "." || file == "..")
      return FieldError(Field(field, "unified"), StrCat("invalid cgroup file name ", Quote(file)));
  }
  return Ok();
}

}  // namespace berth::oci
