// berth/image: sha256 over OpenSSL's direct SHA-256 functions. The provider-based EVP API
// spends ~1.5 ms on one-time initialization in every process, more than a whole `berth ps`;
// the direct functions have no such setup and use the same SHA-NI code.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "berth/image/digest.h"

#include <openssl/sha.h>

#include <cstdlib>

#include "berth/base/strings.h"

namespace berth::image {

namespace {
constexpr std::string_view kPrefix = "sha256:";

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xf];
  }
  return out;
}
}  // namespace

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  // Cannot fail for SHA-256 (it only zeroes the state); abort rather than hash garbage.
  if (SHA256_Init(&impl_->ctx) != 1) std::abort();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t n) {
  if (n == 0) return;
  SHA256_Update(&impl_->ctx, data, n);
}

std::string Sha256::Finish() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, &impl_->ctx);
  return StrCat(kPrefix, Hex(md, sizeof md));
}

std::string DigestOf(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<std::string> DigestHex(std::string_view digest) {
  if (!digest.starts_with(kPrefix)) {
    return InvalidArgument(StrCat("digest ", Quote(digest), ": expected sha256:<64 hex digits>"));
  }
  std::string_view hex = digest.substr(kPrefix.size());
  bool ok = hex.size() == 64;
  for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return InvalidArgument(
        StrCat("digest ", Quote(digest), ": expected 64 lowercase hex digits after sha256:"));
  }
  return std::string(hex);
}

}  // namespace berth::image
