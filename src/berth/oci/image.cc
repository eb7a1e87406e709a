// berth/oci: image-spec helpers that are not parsing or serializing: media types, digests,
// platforms.
#include "berth/oci/image.h"

#include <sys/utsname.h>

#include <string>

#include "berth/base/strings.h"

namespace berth::oci {

namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string PlatformString(const Platform& p) {
  std::string s = StrCat(p.os, '/', p.architecture);
  if (!p.variant.empty()) s += StrCat('/', p.variant);
  return s;
}

// The variant an architecture has when a platform leaves it out (amd64 v1, arm64 v8).
std::string_view DefaultVariant(std::string_view arch) {
  if (arch == "amd64") return "v1";
  if (arch == "arm64") return "v8";
  return {};
}

}  // namespace

Result<Compression> LayerCompression(std::string_view media_type) {
  struct Entry {
    std::string_view type;
    Compression c;
  };
  static constexpr Entry kTypes[] = {
      {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
  };
  for (const auto& e : kTypes) {
    if (e.type == media_type) return e.c;
  }
  return Fail(ErrorCode::kUnsupported,
              StrCat("layer media type ", Quote(media_type), ": not a known layer type"));
}

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == media::kOciIndex || media_type == media::kDockerManifestList;
}

bool IsManifestMediaType(std::string_view media_type) {
  return media_type == media::kOciManifest || media_type == media::kDockerManifest;
}

Status ValidateDigest(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument(StrCat("invalid digest ", Quote(digest), ": expected algorithm:hex"));
  }
  std::string_view alg = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  size_t want = 0;
  if (alg == "sha256") want = 64;
  if (alg == "sha512") want = 128;
  if (want == 0) {
    return InvalidArgument(
        StrCat("invalid digest ", Quote(digest), ": unsupported algorithm ", Quote(alg)));
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return InvalidArgument(StrCat("invalid digest ", Quote(digest), ": expected ", want,
                                  " lowercase hex digits after ", alg, ':'));
  }
  return Ok();
}

Platform HostPlatform() {
  Platform p;
  p.os = "linux";
  p.architecture = "amd64";
  struct utsname u;
  if (::uname(&u) != 0) return p;
  std::string_view m = u.machine;
  if (m == "x86_64") {
    p.architecture = "amd64";
  } else if (m == "aarch64" || m == "arm64") {
    p.architecture = "arm64";
  } else if (m == "armv7l" || m == "armv7") {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (m == "armv6l") {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (m == "i386" || m == "i686") {
    p.architecture = "386";
  } else {
    p.architecture = std::string(m);  // ppc64le, s390x, riscv64 are spelled alike
  }
  return p;
}

Result<Descriptor> SelectPlatform(const Index& index, const Platform& want) {
  const Descriptor* fallback = nullptr;
  int fallback_rank = 0;  // higher is better
  std::string offered;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform) continue;
    const Platform& p = *d.platform;
    if (p.os != "unknown") {
      if (!offered.empty()) offered += ", ";
      offered += PlatformString(p);
    }
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (p.variant == want.variant) return d;  // exact
    int rank = 0;
    std::string_view def = DefaultVariant(p.architecture);
    if (want.variant.empty()) {
      // The default variant (or none) is the natural choice. Other amd64 variants (v2..v4)
      // need CPU features the host may lack, so they are taken only when asked for.
      if (p.variant.empty() || p.variant == def) {
        rank = 2;
      } else if (p.architecture != "amd64") {
        rank = 1;
      }
    } else if (p.variant.empty() && want.variant == def) {
      rank = 2;  // "linux/amd64" offers amd64/v1
    }
    if (rank > fallback_rank) {
      fallback = &d;
      fallback_rank = rank;
    }
  }
  if (fallback != nullptr) return *fallback;
  if (offered.empty()) offered = "none";
  return Fail(ErrorCode::kNotFound, StrCat("no image for platform ", PlatformString(want),
                                           " in the index (available: ", offered, ")"));
}

}  // namespace berth::oci
