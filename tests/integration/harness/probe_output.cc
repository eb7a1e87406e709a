#include "harness/probe_output.h"

#include "berth/base/strings.h"

namespace berth::itest {

std::vector<Json> ProbeLines(std::string_view out) {
  std::vector<Json> lines;
  for (const auto& raw : Split(out, '\n')) {
    std::string_view line = Trim(raw);
    // Through a pty the terminal may echo input ahead of the probe's line.
    size_t brace = line.find('{');
    if (brace == std::string_view::npos) continue;
    line = line.substr(brace);
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) lines.push_back(std::move(j));
  }
  return lines;
}

std::vector<Json> ProbeLinesFor(std::string_view out, std::string_view cmd) {
  std::vector<Json> found;
  for (auto& j : ProbeLines(out)) {
    if (j.value("cmd", "") == cmd) found.push_back(std::move(j));
  }
  return found;
}

Json ProbeLine(std::string_view out, std::string_view cmd) {
  auto all = ProbeLinesFor(out, cmd);
  return all.empty() ? Json::object() : all.back();
}

Json MountAt(const Json& report, std::string_view mount_point) {
  Json found;
  if (!report.contains("mounts")) return found;
  for (const auto& m : report["mounts"]) {
    if (m.value("mount_point", "") == mount_point) found = m;
  }
  return found;
}

std::vector<int> FdNumbers(const Json& report) {
  std::vector<int> fds;
  if (!report.contains("fds")) return fds;
  for (const auto& f : report["fds"]) fds.push_back(f.value("fd", -1));
  return fds;
}

bool HasOption(const std::string& options, std::string_view option) {
  for (const auto& o : Split(options, ',')) {
    if (o == option) return true;
  }
  return false;
}

bool HasEnv(const Json& report, std::string_view kv) {
  if (!report.contains("env")) return false;
  for (const auto& e : report["env"]) {
    if (e.get<std::string>() == kv) return true;
  }
  return false;
}

}  // namespace berth::itest
