// berth/oci: image references, following docker's grammar with a hand-written scanner
// (std::regex is slow and large):
//   reference := name [":" tag] ["@" digest]
//   name      := [domain "/"] component ("/" component)*
//   component := [a-z0-9]+ (separator [a-z0-9]+)*     separator := "." | "_" | "__" | "-"+
//   domain    := host [":" port]   host := dns-name | "[" ipv6 "]"
//   tag       := [\w][\w.-]{0,127}
#include "berth/oci/reference.h"

#include <string>

#include "berth/base/strings.h"
#include "berth/oci/image.h"

namespace berth::oci {

namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr size_t kMaxNameLength = 255;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool HasUpper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// One path component: alphanumeric runs joined by single separators.
bool ValidComponent(std::string_view s) {
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    if (i == start) return false;  // empty, or a separator without alphanumerics around it
    if (i == s.size()) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

bool ValidPath(std::string_view path) {
  for (const std::string& c : Split(path, '/')) {
    if (!ValidComponent(c)) return false;
  }
  return true;
}

// A DNS label: alphanumerics with inner hyphens.
bool ValidLabel(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool ValidDomain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view rest;  // ":port" or empty
  if (d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : d.substr(1, close - 1)) {
      if (!IsHex(c) && c != ':') return false;
    }
    rest = d.substr(close + 1);
  } else {
    size_t colon = d.find(':');
    for (const std::string& label : Split(d.substr(0, colon), '.')) {
      if (!ValidLabel(label)) return false;
    }
    if (colon != std::string_view::npos) rest = d.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest.front() != ':') return false;
  for (char c : rest.substr(1)) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !IsWord(t.front())) return false;
  for (char c : t) {
    if (!IsWord(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool IsFullId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// Whether the first component of a name is a registry rather than part of the path.
bool LooksLikeDomain(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost";
}

}  // namespace

std::string Reference::Name() const { return StrCat(domain, '/', path); }

std::string Reference::String() const {
  std::string s = Name();
  if (!tag.empty()) s += StrCat(':', tag);
  if (!digest.empty()) s += StrCat('@', digest);
  return s;
}

std::string Reference::Familiar() const {
  std::string s;
  std::string_view p = path;
  if (domain == kDefaultDomain) {
    if (p.starts_with(kOfficialPrefix) &&
        p.substr(kOfficialPrefix.size()).find('/') == std::string_view::npos) {
      p.remove_prefix(kOfficialPrefix.size());
    }
    // Keep the domain when dropping it would make the path's first component read as one.
    size_t slash = p.find('/');
    bool ambiguous = slash != std::string_view::npos && LooksLikeDomain(p.substr(0, slash));
    s = ambiguous ? Name() : std::string(p);
  } else {
    s = Name();
  }
  if (!tag.empty()) s += StrCat(':', tag);
  if (!digest.empty()) s += StrCat('@', digest);
  return s;
}

Result<Reference> ParseReference(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgument(StrCat("invalid reference ", Quote(text), ": ", why));
  };
  if (text.empty()) return fail("empty");
  if (IsFullId(text)) {
    return fail("a 64-character hexadecimal string is an image id, not a repository name");
  }
  Reference ref;
  std::string_view name = text;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(name.substr(at + 1));
    name = name.substr(0, at);
    if (auto st = ValidateDigest(ref.digest); !st) return fail(st.error().message());
  }
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    if (!ValidTag(ref.tag)) return fail(StrCat("invalid tag ", Quote(ref.tag)));
  }
  if (name.empty()) return fail("missing repository name");

  std::string_view remainder = name;
  size_t first = name.find('/');
  if (first != std::string_view::npos && LooksLikeDomain(name.substr(0, first))) {
    ref.domain = std::string(name.substr(0, first));
    remainder = name.substr(first + 1);
    if (!ValidDomain(ref.domain)) return fail(StrCat("invalid registry ", Quote(ref.domain)));
  } else {
    ref.domain = std::string(kDefaultDomain);
  }
  if (ref.domain == kLegacyDomain) ref.domain = std::string(kDefaultDomain);
  if (HasUpper(remainder)) return fail("repository name must be lowercase");
  if (!ValidPath(remainder)) return fail(StrCat("invalid repository name ", Quote(remainder)));
  if (ref.domain == kDefaultDomain && remainder.find('/') == std::string_view::npos) {
    ref.path = StrCat(kOfficialPrefix, remainder);
  } else {
    ref.path = std::string(remainder);
  }
  if (ref.Name().size() > kMaxNameLength) {
    return fail(StrCat("repository name is longer than ", kMaxNameLength, " characters"));
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool LooksLikeIdPrefix(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() < 3 || text.size() > 64) return false;
  for (char c : text) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

}  // namespace berth::oci
