// berth/engine: parsers for the values of `berth run` flags, with docker's syntax and
// docker's defaults. Every error names the flag and the value at fault.
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/run_config.h"

namespace berth::engine {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool ValidVolumeName(std::string_view s) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

bool IsPropagation(std::string_view s) {
  return s == "private" || s == "rprivate" || s == "shared" || s == "rshared" || s == "slave" ||
         s == "rslave";
}

// "a/./b/../c" -> "a/c", keeping a leading '/'; for turning `-v ./dir:...` into an
// absolute path as the docker client does.
std::string CleanPath(std::string_view path) {
  std::vector<std::string> out;
  for (auto& part : SplitNonEmpty(path, '/')) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(part);
  }
  return "/" + Join(out, "/");
}

std::string AbsolutePath(std::string_view path) {
  if (path.starts_with('/')) return CleanPath(path);
  char buf[4096];
  std::string cwd = getcwd(buf, sizeof buf) != nullptr ? buf : "/";
  return CleanPath(StrCat(cwd, "/", path));
}

// Splits a --mount value the way encoding/csv reads one record: commas separate fields,
// a field may be double-quoted (with "" for a quote inside).
Result<std::vector<std::string>> SplitCsv(std::string_view s) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return InvalidArgument(StrCat("--mount: unterminated quote in ", Quote(s)));
  fields.push_back(std::move(cur));
  return fields;
}

Result<bool> ParseBoolValue(std::string_view v, std::string_view what) {
  std::string l = Lower(v);
  if (l == "true" || l == "1") return true;
  if (l == "false" || l == "0") return false;
  return InvalidArgument(StrCat(what, ": invalid boolean ", Quote(v)));
}

// Mount options --tmpfs accepts (what tmpfs and the generic mount flags understand).
bool KnownTmpfsFlag(std::string_view o) {
  static constexpr std::string_view kFlags[] = {
      "ro",         "rw",          "exec",          "noexec",   "suid",       "nosuid",  "dev",
      "nodev",      "sync",        "async",         "dirsync",  "atime",      "noatime", "relatime",
      "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime", "mand",    "nomand"};
  for (auto f : kFlags)
    if (o == f) return true;
  return false;
}

bool KnownTmpfsKey(std::string_view k) {
  return k == "size" || k == "mode" || k == "uid" || k == "gid" || k == "nr_inodes" ||
         k == "nr_blocks" || k == "mpol" || k == "huge";
}

Status CheckTarget(std::string_view flag, std::string_view text, const std::string& target) {
  if (target.empty())
    return InvalidArgument(StrCat(flag, ": ", Quote(text), ": missing container path"));
  if (!target.starts_with('/'))
    return InvalidArgument(
        StrCat(flag, ": ", Quote(text), ": container path ", Quote(target), " must be absolute"));
  if (CleanPath(target) == "/")
    return InvalidArgument(StrCat(flag, ": ", Quote(text), ": container path can't be `/`"));
  return Ok();
}

struct UlimitName {
  std::string_view docker;
  std::string_view rlimit;
};
constexpr UlimitName kUlimits[] = {
    {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},         {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},       {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},     {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},           {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},       {"as", "RLIMIT_AS"},
};

}  // namespace

Result<int64_t> ParseBytes(std::string_view text, std::string_view flag) {
  auto bad = [&] { return InvalidArgument(StrCat(flag, ": invalid size ", Quote(text))); };
  // -1 means "unlimited" where docker allows it (--memory-swap); callers refuse it elsewhere.
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == 0) return bad();
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < text.size() && text[i] == '.') {
    frac_begin = ++i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    frac_end = i;
    if (frac_end == frac_begin) return bad();
  }
  std::string_view unit = text.substr(i);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  std::string u = Lower(unit);
  if (u.ends_with('b')) u.pop_back();
  if (u.size() == 2 && u[1] == 'i') u.pop_back();  // "kib" = "k"
  int shift = 0;
  if (u.empty())
    shift = 0;
  else if (u == "k")
    shift = 10;
  else if (u == "m")
    shift = 20;
  else if (u == "g")
    shift = 30;
  else if (u == "t")
    shift = 40;
  else if (u == "p")
    shift = 50;
  else
    return bad();
  BERTH_ASSIGN_OR_RETURN(uint64_t whole, ParseUint64(text.substr(0, int_end), flag));
  long double value = static_cast<long double>(whole);
  if (frac_end > frac_begin) {
    long double frac = 0, scale = 1;
    for (size_t k = frac_begin; k < frac_end; ++k) {
      scale /= 10;
      frac += (text[k] - '0') * scale;
    }
    value += frac;
  }
  value = std::ldexp(value, shift);
  if (value >= static_cast<long double>(std::numeric_limits<int64_t>::max()))
    return InvalidArgument(StrCat(flag, ": size ", Quote(text), " is too large"));
  return static_cast<int64_t>(value);
}

Result<int64_t> ParseDurationNs(std::string_view text, std::string_view flag) {
  auto bad = [&] { return InvalidArgument(StrCat(flag, ": invalid duration ", Quote(text))); };
  std::string_view s = text;
  if (s.starts_with('+')) s.remove_prefix(1);
  if (s.starts_with('-'))
    return InvalidArgument(StrCat(flag, ": duration ", Quote(text), " cannot be negative"));
  if (s == "0") return 0;
  if (s.empty()) return bad();
  __int128 total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && IsDigit(s[i])) ++i;
    std::string_view whole = s.substr(0, i);
    std::string_view frac;
    if (i < s.size() && s[i] == '.') {
      size_t b = ++i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      frac = s.substr(b, i - b);
    }
    if (whole.empty() && frac.empty()) return bad();
    size_t u = i;
    while (u < s.size() && !IsDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    int64_t mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs")
      mult = 1000;
    else if (unit == "ms")
      mult = 1000000;
    else if (unit == "s")
      mult = 1000000000;
    else if (unit == "m")
      mult = 60LL * 1000000000;
    else if (unit == "h")
      mult = 3600LL * 1000000000;
    else if (unit.empty())
      return InvalidArgument(StrCat(flag, ": missing unit in duration ", Quote(text)));
    else
      return InvalidArgument(
          StrCat(flag, ": unknown unit ", Quote(unit), " in duration ", Quote(text)));
    __int128 part = 0;
    for (char c : whole) {
      part = part * 10 + (c - '0');
      if (part > std::numeric_limits<int64_t>::max()) return bad();
    }
    part *= mult;
    // The fraction: digits beyond nanosecond precision are dropped, as Go does.
    __int128 scale = mult;
    for (char c : frac) {
      scale /= 10;
      if (scale == 0) break;
      part += (c - '0') * scale;
    }
    total += part;
    if (total > std::numeric_limits<int64_t>::max())
      return InvalidArgument(StrCat(flag, ": duration ", Quote(text), " is too large"));
    s.remove_prefix(u);
  }
  return static_cast<int64_t>(total);
}

Result<VolumeMount> ParseVolumeFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--volume";
  auto invalid = [&](std::string_view why) {
    return InvalidArgument(
        StrCat(kFlag, ": invalid volume specification ", Quote(text), ": ", why));
  };
  std::vector<std::string> parts = Split(text, ':');
  VolumeMount m;
  std::string opts;
  switch (parts.size()) {
    case 1:  // an anonymous volume
      m.kind = VolumeMount::Kind::kVolume;
      m.target = parts[0];
      break;
    case 2:
      m.source = parts[0];
      m.target = parts[1];
      break;
    case 3:
      m.source = parts[0];
      m.target = parts[1];
      opts = parts[2];
      break;
    default:
      return invalid("too many colons");
  }
  if (parts.size() >= 2) {
    if (m.source.empty()) return invalid("empty source");
    if (m.source.starts_with('/') || m.source.starts_with('.')) {
      m.kind = VolumeMount::Kind::kBind;
      m.source = AbsolutePath(m.source);
      m.create_source = true;  // docker creates a missing -v source directory
    } else if (ValidVolumeName(m.source)) {
      m.kind = VolumeMount::Kind::kVolume;
    } else {
      return invalid(StrCat(Quote(m.source),
                            " is not a valid volume name (allowed: [a-zA-Z0-9][a-zA-Z0-9_.-]*) "
                            "nor an absolute host path"));
    }
  }
  BERTH_TRY(CheckTarget(kFlag, text, m.target));
  bool have_rw = false, have_propagation = false;
  for (const auto& o : Split(opts, ',')) {
    if (opts.empty()) break;
    if (o == "ro" || o == "rw") {
      if (have_rw) return invalid("`ro`/`rw` given twice");
      have_rw = true;
      m.readonly = o == "ro";
    } else if (o == "z" || o == "Z") {
      // SELinux relabelling: accepted for compatibility; berth runs without SELinux labels.
    } else if (IsPropagation(o)) {
      if (m.kind != VolumeMount::Kind::kBind)
        return invalid(StrCat("propagation ", Quote(o), " applies only to bind mounts"));
      if (have_propagation) return invalid("more than one propagation mode");
      have_propagation = true;
      m.options.push_back(o);
    } else if (o == "nocopy") {
      if (m.kind != VolumeMount::Kind::kVolume) return invalid("`nocopy` applies only to volumes");
      m.options.push_back(o);
    } else {
      return invalid(StrCat("unknown option ", Quote(o)));
    }
  }
  return m;
}

Result<VolumeMount> ParseMountFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--mount";
  auto invalid = [&](std::string_view why) {
    return InvalidArgument(StrCat(kFlag, ": ", Quote(text), ": ", why));
  };
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> fields, SplitCsv(text));
  VolumeMount m;
  std::string type = "volume";  // docker's default
  std::string propagation, tmpfs_size, tmpfs_mode;
  bool nocopy = false, nonrecursive = false;
  for (const auto& f : fields) {
    if (f.empty()) continue;
    size_t eq = f.find('=');
    std::string key = Lower(f.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : f.substr(eq + 1);
    bool has_value = eq != std::string::npos;
    if (key == "type") {
      type = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "destination" || key == "dst") {
      m.target = value;
    } else if (key == "readonly" || key == "ro") {
      if (has_value) {
        BERTH_ASSIGN_OR_RETURN(m.readonly, ParseBoolValue(value, StrCat(kFlag, ": ", key)));
      } else {
        m.readonly = true;
      }
    } else if (key == "bind-propagation") {
      if (!IsPropagation(value)) return invalid(StrCat("invalid bind-propagation ", Quote(value)));
      propagation = value;
    } else if (key == "bind-nonrecursive") {
      nonrecursive = true;
      if (has_value) {
        BERTH_ASSIGN_OR_RETURN(nonrecursive, ParseBoolValue(value, StrCat(kFlag, ": ", key)));
      }
    } else if (key == "volume-nocopy") {
      nocopy = true;
      if (has_value) {
        BERTH_ASSIGN_OR_RETURN(nocopy, ParseBoolValue(value, StrCat(kFlag, ": ", key)));
      }
    } else if (key == "tmpfs-size") {
      BERTH_ASSIGN_OR_RETURN(int64_t size, ParseBytes(value, StrCat(kFlag, " tmpfs-size")));
      if (size < 0) return invalid(StrCat("invalid tmpfs-size ", Quote(value)));
      tmpfs_size = StrCat("size=", size);
    } else if (key == "tmpfs-mode") {
      char* end = nullptr;
      unsigned long mode = std::strtoul(value.c_str(), &end, 8);
      if (value.empty() || *end != '\0' || mode > 07777)
        return invalid(StrCat("invalid tmpfs-mode ", Quote(value)));
      char buf[16];
      snprintf(buf, sizeof buf, "mode=%lo", mode);
      tmpfs_mode = buf;
    } else if (key == "consistency") {
      // macOS-only in docker; ignored on Linux as docker does.
    } else {
      return invalid(StrCat("unknown key ", Quote(key)));
    }
  }
  if (type == "bind") {
    m.kind = VolumeMount::Kind::kBind;
    if (m.source.empty()) return invalid("a bind mount needs a source");
    m.source = AbsolutePath(m.source);
  } else if (type == "volume") {
    m.kind = VolumeMount::Kind::kVolume;
    if (!m.source.empty() && !ValidVolumeName(m.source))
      return invalid(StrCat(Quote(m.source), " is not a valid volume name"));
  } else if (type == "tmpfs") {
    m.kind = VolumeMount::Kind::kTmpfs;
    if (!m.source.empty()) return invalid("a tmpfs mount takes no source");
  } else {
    return invalid(StrCat("unsupported mount type ", Quote(type)));
  }
  BERTH_TRY(CheckTarget(kFlag, text, m.target));
  if ((!propagation.empty() || nonrecursive) && m.kind != VolumeMount::Kind::kBind)
    return invalid("bind options apply only to type=bind");
  if (nocopy && m.kind != VolumeMount::Kind::kVolume)
    return invalid("volume-nocopy applies only to type=volume");
  if ((!tmpfs_size.empty() || !tmpfs_mode.empty()) && m.kind != VolumeMount::Kind::kTmpfs)
    return invalid("tmpfs options apply only to type=tmpfs");
  if (!propagation.empty()) m.options.push_back(propagation);
  if (nonrecursive) m.options.push_back("bind");  // a plain (non-recursive) bind
  if (nocopy) m.options.push_back("nocopy");
  if (!tmpfs_size.empty()) m.options.push_back(tmpfs_size);
  if (!tmpfs_mode.empty()) m.options.push_back(tmpfs_mode);
  return m;
}

Result<VolumeMount> ParseTmpfsFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--tmpfs";
  VolumeMount m;
  m.kind = VolumeMount::Kind::kTmpfs;
  size_t colon = text.find(':');
  m.target = std::string(text.substr(0, colon));
  BERTH_TRY(CheckTarget(kFlag, text, m.target));
  if (colon == std::string_view::npos) return m;
  for (const auto& o : SplitNonEmpty(text.substr(colon + 1), ',')) {
    size_t eq = o.find('=');
    if (eq == std::string::npos) {
      if (!KnownTmpfsFlag(o))
        return InvalidArgument(StrCat(kFlag, ": ", Quote(text), ": unknown option ", Quote(o)));
      if (o == "ro" || o == "rw") {
        m.readonly = o == "ro";
        continue;
      }
    } else {
      std::string key = o.substr(0, eq), value = o.substr(eq + 1);
      if (!KnownTmpfsKey(key))
        return InvalidArgument(StrCat(kFlag, ": ", Quote(text), ": unknown option ", Quote(key)));
      if (key == "size" && !value.ends_with('%')) {
        BERTH_ASSIGN_OR_RETURN(int64_t size, ParseBytes(value, StrCat(kFlag, " size")));
        if (size < 0) return InvalidArgument(StrCat(kFlag, ": invalid size ", Quote(value)));
        m.options.push_back(StrCat("size=", size));
        continue;
      }
      if (key == "mode") {
        char* end = nullptr;
        unsigned long mode = std::strtoul(value.c_str(), &end, 8);
        if (value.empty() || *end != '\0' || mode > 07777)
          return InvalidArgument(StrCat(kFlag, ": invalid mode ", Quote(value)));
      }
    }
    m.options.push_back(o);
  }
  return m;
}

Result<oci::DeviceRule> ParseDeviceCgroupRule(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(StrCat("--device-cgroup-rule ", Quote(text), ": ", why,
                                  " (expected \"TYPE MAJOR:MINOR ACCESS\", e.g. \"c 13:* rwm\")"));
  };
  std::vector<std::string> parts;
  for (auto& p : Split(Trim(text), ' '))
    if (!p.empty()) parts.push_back(std::string(p));
  if (parts.size() != 3) return bad("three fields needed");
  oci::DeviceRule r;
  r.allow = true;
  if (parts[0] != "a" && parts[0] != "b" && parts[0] != "c") return bad("type must be a, b or c");
  r.type = parts[0];
  auto colon = parts[1].find(':');
  if (colon == std::string::npos) return bad("MAJOR:MINOR needed");
  auto number = [&](std::string_view s, std::optional<int64_t>* out) -> Status {
    if (s == "*") return Ok();
    auto n = ParseInt64(s, "device number");
    if (!n || *n < 0) return bad(StrCat("invalid device number ", Quote(s)));
    *out = *n;
    return Ok();
  };
  BERTH_TRY(number(std::string_view(parts[1]).substr(0, colon), &r.major));
  BERTH_TRY(number(std::string_view(parts[1]).substr(colon + 1), &r.minor));
  const std::string& access = parts[2];
  if (access.empty() || access.size() > 3 ||
      access.find_first_not_of("rwm") != std::string::npos) {
    return bad("access must be made of r, w and m");
  }
  r.access = access;
  return r;
}

Result<DeviceMapping> ParseDeviceFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--device";
  auto valid_perms = [](std::string_view p) {
    if (p.empty() || p.size() > 3) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] != 'r' && p[i] != 'w' && p[i] != 'm') return false;
      if (p.find(p[i], i + 1) != std::string_view::npos) return false;
    }
    return true;
  };
  std::vector<std::string> parts = Split(text, ':');
  DeviceMapping d;
  d.host_path = parts[0];
  switch (parts.size()) {
    case 1:
      d.container_path = d.host_path;
      break;
    case 2:
      if (valid_perms(parts[1])) {
        d.container_path = d.host_path;
        d.permissions = parts[1];
      } else {
        d.container_path = parts[1];
      }
      break;
    case 3:
      d.container_path = parts[1];
      d.permissions = parts[2];
      break;
    default:
      return InvalidArgument(StrCat(kFlag, ": invalid device ", Quote(text)));
  }
  if (!d.host_path.starts_with('/'))
    return InvalidArgument(StrCat(kFlag, ": ", Quote(text), ": host path must be absolute"));
  if (!d.container_path.starts_with('/'))
    return InvalidArgument(StrCat(kFlag, ": ", Quote(text), ": container path must be absolute"));
  if (!valid_perms(d.permissions))
    return InvalidArgument(
        StrCat(kFlag, ": ", Quote(text), ": invalid permissions ", Quote(d.permissions)));
  return d;
}

Result<std::string> UlimitRlimitName(std::string_view name) {
  for (const auto& u : kUlimits)
    if (u.docker == name) return std::string(u.rlimit);
  return InvalidArgument(StrCat("--ulimit: unknown ulimit ", Quote(name)));
}

Result<Ulimit> ParseUlimitFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--ulimit";
  size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    return InvalidArgument(
        StrCat(kFlag, ": invalid ulimit ", Quote(text), ": expected name=soft[:hard]"));
  Ulimit u;
  u.name = std::string(text.substr(0, eq));
  BERTH_TRY(UlimitRlimitName(u.name));
  std::vector<std::string> vals = Split(text.substr(eq + 1), ':');
  if (vals.size() > 2)
    return InvalidArgument(StrCat(kFlag, ": invalid ulimit ", Quote(text), ": too many colons"));
  auto value = [&](const std::string& v) -> Result<uint64_t> {
    BERTH_ASSIGN_OR_RETURN(int64_t n, ParseInt64(v, StrCat(kFlag, " ", u.name)));
    if (n == -1) return uint64_t{RLIM_INFINITY};  // docker's "unlimited"
    if (n < 0) return InvalidArgument(StrCat(kFlag, ": invalid ulimit value ", Quote(v)));
    return static_cast<uint64_t>(n);
  };
  BERTH_ASSIGN_OR_RETURN(u.soft, value(vals[0]));
  u.hard = u.soft;
  if (vals.size() == 2) {
    BERTH_ASSIGN_OR_RETURN(u.hard, value(vals[1]));
  }
  if (u.soft > u.hard)
    return InvalidArgument(
        StrCat(kFlag, ": ", Quote(text), ": soft limit must be less than or equal to hard limit"));
  return u;
}

Result<RestartPolicy> ParseRestartFlag(std::string_view text) {
  constexpr std::string_view kFlag = "--restart";
  RestartPolicy p;
  if (text.empty()) return p;
  size_t colon = text.find(':');
  p.name = std::string(text.substr(0, colon));
  if (p.name != "no" && p.name != "always" && p.name != "unless-stopped" && p.name != "on-failure")
    return InvalidArgument(StrCat(kFlag, ": invalid restart policy ", Quote(text)));
  if (colon != std::string_view::npos) {
    if (p.name != "on-failure")
      return InvalidArgument(StrCat(
          kFlag, ": maximum retry count cannot be used with restart policy ", Quote(p.name)));
    BERTH_ASSIGN_OR_RETURN(int64_t n,
                           ParseInt64(text.substr(colon + 1), StrCat(kFlag, " on-failure")));
    if (n < 0 || n > std::numeric_limits<int>::max())
      return InvalidArgument(
          StrCat(kFlag, ": invalid maximum retry count ", Quote(text.substr(colon + 1))));
    p.max_retries = static_cast<int>(n);
  }
  return p;
}

std::optional<std::string> ExpandEnvFlag(std::string_view text) {
  if (text.find('=') != std::string_view::npos) return std::string(text);
  std::string name(text);
  const char* v = getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return StrCat(name, "=", v);
}

Result<std::vector<std::string>> ParseEnvFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN_CTX(std::string data, ReadFile(path), "--env-file");
  if (data.starts_with("\xEF\xBB\xBF")) data.erase(0, 3);  // a UTF-8 byte order mark
  std::vector<std::string> out;
  std::vector<std::string> lines = Split(data, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.ends_with('\r')) line.remove_suffix(1);
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos) continue;
    line.remove_prefix(b);
    if (line.starts_with('#')) continue;
    std::string_view name = line.substr(0, line.find('='));
    if (name.empty() || name.find_first_of(" \t") != std::string_view::npos)
      return InvalidArgument(StrCat("--env-file ", Quote(path), ": line ", i + 1,
                                    ": invalid variable name ", Quote(name)));
    if (auto v = ExpandEnvFlag(line)) out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace berth::engine
