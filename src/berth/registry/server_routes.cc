// berth/registry: request-target parsing and name rules for the registry server.
#include "berth/registry/server_routes.h"

#include <vector>

#include "berth/base/strings.h"

namespace berth::registry {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
bool IsValidComponent(std::string_view c) {
  size_t i = 0;
  auto alnum_run = [&] {
    size_t start = i;
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidRepositoryName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (const std::string& c : Split(name, '/')) {
    if (!IsValidComponent(c)) return false;
  }
  return true;
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(tag[0])) return false;
  for (char c : tag.substr(1)) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsValidDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || !digest.starts_with(kPrefix)) return false;
  for (char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Route ParseRoute(std::string_view path) {
  Route r;
  if (path == "/v2/" || path == "/v2") {
    r.endpoint = Endpoint::kBase;
    return r;
  }
  if (!path.starts_with("/v2/")) return r;
  std::string_view rest = path.substr(4);
  if (rest == "_catalog") {
    r.endpoint = Endpoint::kCatalog;
    return r;
  }
  // The name may itself contain "blobs" or "manifests" components, so the endpoint is read
  // from the end of the path, as the spec's end-anchored patterns do.
  std::vector<std::string> parts = Split(rest, '/');
  size_t n = parts.size();
  auto name_of = [&](size_t count) {
    std::vector<std::string> name(parts.begin(), parts.begin() + static_cast<long>(count));
    return Join(name, "/");
  };
  if (n >= 3 && parts[n - 2] == "tags" && parts[n - 1] == "list") {
    r.endpoint = Endpoint::kTagsList;
    r.name = name_of(n - 2);
  } else if (n >= 3 && parts[n - 2] == "blobs" && parts[n - 1] == "uploads") {
    r.endpoint = Endpoint::kUploadStart;  // POST without the trailing slash
    r.name = name_of(n - 2);
  } else if (n >= 4 && parts[n - 3] == "blobs" && parts[n - 2] == "uploads") {
    r.endpoint = parts[n - 1].empty() ? Endpoint::kUploadStart : Endpoint::kUpload;
    r.name = name_of(n - 3);
    r.reference = parts[n - 1];
  } else if (n >= 3 && parts[n - 2] == "manifests") {
    r.endpoint = Endpoint::kManifest;
    r.name = name_of(n - 2);
    r.reference = parts[n - 1];
  } else if (n >= 3 && parts[n - 2] == "blobs") {
    r.endpoint = Endpoint::kBlob;
    r.name = name_of(n - 2);
    r.reference = parts[n - 1];
  } else if (n >= 3 && parts[n - 2] == "referrers") {
    r.endpoint = Endpoint::kReferrers;
    r.name = name_of(n - 2);
    r.reference = parts[n - 1];
  }
  return r;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  for (const std::string& pair : SplitNonEmpty(query, '&')) {
    size_t eq = pair.find('=');
    std::string key = pair.substr(0, eq);
    std::string raw = eq == std::string::npos ? "" : pair.substr(eq + 1);
    for (char& c : raw) {
      if (c == '+') c = ' ';
    }
    std::string value;
    if (!PercentDecode(raw, value)) value = raw;
    out[key] = value;
  }
  return out;
}

}  // namespace berth::registry
