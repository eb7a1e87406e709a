// berth/oci: container state JSON in runc's shape.
#include "berth/oci/state.h"

#include <cstdio>

#include "berth/oci/go_json.h"
#include "berth/oci/reader.h"

namespace berth::oci {

OrderedJson StateToJson(const State& s) {
  OrderedJson j = OrderedJson::object();
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["pid"] = s.pid;
  j["status"] = s.status;
  j["bundle"] = s.bundle;
  j["rootfs"] = s.rootfs;
  j["created"] = s.created;
  // runc's struct embeds the spec's State (annotations, omitempty) before its own owner field.
  if (!s.annotations.empty()) {
    OrderedJson a = OrderedJson::object();
    for (const auto& [k, v] : s.annotations) a[k] = v;  // std::map: sorted, as Go sorts map keys
    j["annotations"] = std::move(a);
  }
  j["owner"] = s.owner;
  return j;
}

std::string StateToText(const State& state) {
  return GoJsonMarshalIndent(StateToJson(state), "  ");
}

namespace internal {
static Status ReadValue(const Reader& r, State& s) {
  return ObjectReader(r)
      .Get("ociVersion", s.oci_version)
      .Get("id", s.id)
      .Get("pid", s.pid)
      .Get("status", s.status)
      .Get("bundle", s.bundle)
      .Get("rootfs", s.rootfs)
      .Get("created", s.created)
      .Get("owner", s.owner)
      .Get("annotations", s.annotations)
      .Done();
}
}  // namespace internal

Result<State> StateFromJson(const Json& j, std::string_view what) {
  State s;
  BERTH_TRY(internal::ReadValue(internal::Reader(what, j), s));
  return s;
}

std::string FormatCreated(const struct timespec& ts) {
  struct tm tm {};
  time_t secs = ts.tv_sec;
  gmtime_r(&secs, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (ts.tv_nsec > 0 && ts.tv_nsec < 1'000'000'000) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09ld", static_cast<long>(ts.tv_nsec));
    std::string_view f = frac;
    f.remove_suffix(f.size() - 1 - f.find_last_not_of('0'));
    out.append(f);
  }
  out.push_back('Z');
  return out;
}

}  // namespace berth::oci
