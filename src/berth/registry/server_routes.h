// berth/registry: how `berth registry serve` reads a request target: the distribution-spec
// endpoints, repository-name and tag validation, percent-decoding and query strings. Pure
// functions, so the rules that keep a name from escaping the storage root are unit-tested
// without a socket.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace berth::registry {

// The spec's `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`, at
// most 255 characters. Such a name has no "..", no empty component and no leading '/'.
bool IsValidRepositoryName(std::string_view name);
// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
bool IsValidTag(std::string_view tag);
// "sha256:<64 lowercase hex>": the only algorithm the content store holds.
bool IsValidDigest(std::string_view digest);

enum class Endpoint {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTagsList,     // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<reference>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<uuid>
  kReferrers,    // /v2/<name>/referrers/<digest>
  kUnknown,
};

struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string name;       // repository, not yet validated
  std::string reference;  // tag, digest or upload id, not yet validated
};

// `path` is the decoded path without the query string.
Route ParseRoute(std::string_view path);

// %XX decoding; false on a malformed escape or an encoded NUL.
bool PercentDecode(std::string_view in, std::string& out);
std::string PercentEncode(std::string_view in);  // for query values in Link headers
// "a=1&b=x%3Ay" -> {a: 1, b: x:y}; later keys win; malformed escapes are kept as they are.
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace berth::registry
