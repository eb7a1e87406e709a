// berth CLI: docker's output conventions. Human sizes and durations as docker's go-units
// prints them, container status lines, ids, quoting, the tab-aligned tables (Go's
// tabwriter with docker's settings: min width 10, padding 3) and --format handling
// ("table", "table TEMPLATE", "json", or a template per row).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::cli {

// ---- text helpers
// Go's strconv.Quote: double quotes, escapes for quotes, backslashes and control characters.
std::string GoQuote(std::string_view s);
// Width in characters (UTF-8 code points), as tabwriter counts it.
size_t DisplayWidth(std::string_view s);
// At most `max` characters; longer text keeps max-1 and gets "…".
std::string Ellipsis(std::string_view s, size_t max);
// "sha256:abc..." or "abc..." -> the first 12 hex digits.
std::string TruncateId(std::string_view id);
// A label from a labels object or docker's "k=v,k2=v2" string; "" if absent.
std::string LabelValue(const Json& labels, std::string_view key);
// "k=v,k2=v2" (sorted by key), as docker's ps .Labels prints.
std::string LabelsString(const Json& labels);

// ---- sizes and times
// SI units, 3 significant digits: "4.26MB", "0B", "1.2kB" (docker images, system df).
std::string HumanSize(double bytes);
// Binary units, 4 significant digits: "1.5MiB", "7.656GiB" (docker stats memory).
std::string BytesSize(double bytes);
// "Less than a second", "3 seconds", "About a minute", "2 hours", "3 weeks", ...
std::string HumanDuration(int64_t ns);
// "2024-01-02 03:04:05 +0000 UTC" (Go's time.String in UTC; docker's CreatedAt).
std::string DockerTime(int64_t unix_ns);

// What docker's ps STATUS column says.
struct StatusInput {
  std::string state;        // created|running|paused|restarting|exited|removing|dead
  int64_t started_ns = 0;   // 0 = never started
  int64_t finished_ns = 0;  // 0 = never finished
  int exit_code = 0;
  std::string health;  // "", starting, healthy, unhealthy
};
std::string ContainerStatusText(const StatusInput& s, int64_t now_ns);

// ---- tables and --format
// Aligns tab-separated cells like Go's tabwriter.NewWriter(w, 10, 1, 3, ' ', 0): a column
// is as wide as its widest cell plus 3, at least 10; the text after a line's last tab is
// not padded. Each input is one line (no trailing newline); the result ends lines with \n.
std::string TabWrite(const std::vector<std::string>& lines);

// docker's pre-processing of a --format value: literal "\t" and "\n" become tab and
// newline; surrounding spaces are trimmed.
std::string UnescapeFormat(std::string_view format);

struct ListFormat {
  std::string default_table;  // "table {{.ID}}\t{{.Image}}..."
  Json headers;               // field -> column header ("ID" -> "CONTAINER ID")
};
// Renders `rows` for a list command. `format`: "" or "table" (the default table),
// "table TEMPLATE" (a header line then aligned rows), "json" (one JSON object per line),
// anything else a template per row.
Result<std::string> FormatList(std::string_view format, const std::vector<Json>& rows,
                               const ListFormat& list);
// `inspect`: "" prints an indented JSON array, "json" a compact one, else a template per
// object.
Result<std::string> FormatInspect(std::string_view format, const std::vector<Json>& objects);

}  // namespace berth::cli
