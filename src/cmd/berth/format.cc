// berth CLI: docker's output conventions (see format.h).
#include "format.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>

#include "berth/base/strings.h"
#include "template.h"

namespace berth::cli {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (1 for invalid bytes) and sets cp.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    cp = 0xFFFD;
    return 1;
  }
  cp = n == 1 ? c : c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      cp = 0xFFFD;
      return 1;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  return n;
}

// Go's %.*g; C's %g formats the same digits and exponent form.
std::string FormatG(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string ScaledSize(double size, double base, const char* const* units, size_t n,
                       int precision) {
  size_t i = 0;
  while (size >= base && i + 1 < n) {
    size /= base;
    ++i;
  }
  return FormatG(size, precision) + units[i];
}

}  // namespace

std::string GoQuote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = DecodeUtf8(s, i, cp);
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (n == 1 && c >= 0x80) {  // invalid UTF-8 byte
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\a') {
      out += "\\a";
    } else if (cp == '\b') {
      out += "\\b";
    } else if (cp == '\f') {
      out += "\\f";
    } else if (cp == '\v') {
      out += "\\v";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x";
      out += kHex[cp >> 4];
      out += kHex[cp & 15];
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += DecodeUtf8(s, i, cp);
    ++w;
  }
  return w;
}

std::string Ellipsis(std::string_view s, size_t max) {
  if (DisplayWidth(s) <= max) return std::string(s);
  if (max == 0) return "";
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size() && chars + 1 < max;) {
    uint32_t cp;
    size_t n = DecodeUtf8(s, i, cp);
    out.append(s.substr(i, n));
    i += n;
    ++chars;
  }
  return out + "\u2026";
}

std::string TruncateId(std::string_view id) {
  size_t colon = id.find(':');
  if (colon != std::string_view::npos) id.remove_prefix(colon + 1);
  return std::string(id.substr(0, 12));
}

std::string LabelValue(const Json& labels, std::string_view key) {
  if (labels.is_object()) {
    auto it = labels.find(std::string(key));
    return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
  }
  if (labels.is_string()) {
    for (const auto& kv : Split(labels.get<std::string>(), ',')) {
      size_t eq = kv.find('=');
      if (eq != std::string::npos && std::string_view(kv).substr(0, eq) == key) {
        return kv.substr(eq + 1);
      }
    }
  }
  return "";
}

std::string LabelsString(const Json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  return Join(parts, ",");
}

std::string HumanSize(double bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  return ScaledSize(bytes, 1000.0, kUnits, std::size(kUnits), 3);
}

std::string BytesSize(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  return ScaledSize(bytes, 1024.0, kUnits, std::size(kUnits), 4);
}

std::string HumanDuration(int64_t ns) {
  int64_t seconds = ns / 1000000000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return StrCat(seconds, " seconds");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return StrCat(minutes, " minutes");
  // Hours round to the nearest hour, as docker's go-units does.
  int64_t hours = (ns + 1800LL * 1000000000) / (3600LL * 1000000000);
  if (hours == 1) return "About an hour";
  if (hours < 48) return StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return StrCat(hours / 24 / 7, " weeks");
  if (hours < 24 * 365 * 2) return StrCat(hours / 24 / 30, " months");
  return StrCat(seconds / 3600 / 24 / 365, " years");
}

std::string DockerTime(int64_t unix_ns) {
  time_t t = static_cast<time_t>(unix_ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

std::string ContainerStatusText(const StatusInput& s, int64_t now_ns) {
  auto since = [&](int64_t t) { return HumanDuration(std::max<int64_t>(0, now_ns - t)); };
  if (s.state == "running" || s.state == "paused") {
    if (s.state == "paused") return StrCat("Up ", since(s.started_ns), " (Paused)");
    if (!s.health.empty()) {
      return StrCat("Up ", since(s.started_ns), " (",
                    s.health == "starting" ? "health: starting" : s.health, ")");
    }
    return StrCat("Up ", since(s.started_ns));
  }
  if (s.state == "restarting") {
    return StrCat("Restarting (", s.exit_code, ") ", since(s.finished_ns), " ago");
  }
  if (s.state == "removing") return "Removal In Progress";
  if (s.state == "dead") return "Dead";
  if (s.started_ns == 0) return "Created";
  if (s.finished_ns == 0) return "";
  return StrCat("Exited (", s.exit_code, ") ", since(s.finished_ns), " ago");
}

std::string TabWrite(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> cells;
  size_t max_cols = 0;
  for (const auto& l : lines) {
    cells.push_back(Split(l, '\t'));
    max_cols = std::max(max_cols, cells.back().size());
  }
  constexpr size_t kMinWidth = 10, kPadding = 3;
  // widths[line][col]: a column's width is shared by each run of consecutive lines in which
  // that column's cell is tab-terminated (tabwriter's column blocks).
  std::vector<std::vector<size_t>> widths(cells.size());
  for (size_t col = 0; col + 1 < max_cols; ++col) {
    size_t i = 0;
    while (i < cells.size()) {
      if (cells[i].size() <= col + 1) {
        ++i;
        continue;
      }
      size_t j = i, w = kMinWidth;
      while (j < cells.size() && cells[j].size() > col + 1) {
        w = std::max(w, DisplayWidth(cells[j][col]) + kPadding);
        ++j;
      }
      for (size_t k = i; k < j; ++k) {
        widths[k].resize(col + 1);
        widths[k][col] = w;
      }
      i = j;
    }
  }
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    for (size_t col = 0; col < cells[i].size(); ++col) {
      out += cells[i][col];
      if (col + 1 < cells[i].size()) {
        out.append(widths[i][col] - DisplayWidth(cells[i][col]), ' ');
      }
    }
    out += '\n';
  }
  return out;
}

std::string UnescapeFormat(std::string_view format) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '\\' && i + 1 < format.size() &&
        (format[i + 1] == 't' || format[i + 1] == 'n')) {
      out += format[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += format[i];
    }
  }
  return std::string(Trim(out));
}

namespace {

// Header row data: the command's headers plus, for any other field the template names,
// the field name in capitals.
Json HeaderData(std::string_view tmpl, const Json& headers) {
  Json h = headers.is_object() ? headers : Json::object();
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '.') continue;
    size_t j = i + 1;
    while (j < tmpl.size() && (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_'))
      ++j;
    if (j > i + 1) {
      std::string name(tmpl.substr(i + 1, j - i - 1));
      if (!h.contains(name)) {
        std::string upper = name;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        h[name] = upper;
      }
    }
    i = j - 1;
  }
  return h;
}

}  // namespace

Result<std::string> FormatList(std::string_view format, const std::vector<Json>& rows,
                               const ListFormat& list) {
  std::string f = UnescapeFormat(format);
  if (f.empty() || f == "table") f = UnescapeFormat(list.default_table);
  if (f == "json") {
    std::string out;
    for (const auto& r : rows) out += r.dump() + "\n";
    return out;
  }
  if (f.starts_with("table")) {
    std::string body(Trim(std::string_view(f).substr(5)));
    BERTH_ASSIGN_OR_RETURN(Template t, Template::Parse(body));
    std::vector<std::string> lines;
    BERTH_ASSIGN_OR_RETURN(std::string header, t.Render(HeaderData(body, list.headers)));
    for (auto& l : Split(header, '\n')) lines.push_back(std::move(l));
    for (const auto& r : rows) {
      BERTH_ASSIGN_OR_RETURN(std::string line, t.Render(r));
      for (auto& l : Split(line, '\n')) lines.push_back(std::move(l));
    }
    return TabWrite(lines);
  }
  BERTH_ASSIGN_OR_RETURN(Template t, Template::Parse(f));
  std::string out;
  for (const auto& r : rows) {
    BERTH_ASSIGN_OR_RETURN(std::string line, t.Render(r));
    out += line + "\n";
  }
  return out;
}

Result<std::string> FormatInspect(std::string_view format, const std::vector<Json>& objects) {
  std::string f = UnescapeFormat(format);
  Json arr = Json::array();
  for (const auto& o : objects) arr.push_back(o);
  if (f.empty()) return arr.dump(4) + "\n";
  if (f == "json") return arr.dump() + "\n";
  BERTH_ASSIGN_OR_RETURN(Template t, Template::Parse(f));
  std::string out;
  for (const auto& o : objects) {
    BERTH_ASSIGN_OR_RETURN(std::string s, t.Render(o));
    out += s + "\n";
  }
  return out;
}

}  // namespace berth::cli
