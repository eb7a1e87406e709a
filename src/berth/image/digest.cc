// berth/image: sha256 over OpenSSL EVP.
#include "berth/image/digest.h"

#include <openssl/evp.h>

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
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure or a missing sha256 leaves nothing sensible to do: berth cannot
  // verify any content without it.
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t n) {
  if (n == 0) return;
  EVP_DigestUpdate(impl_->ctx, data, n);
}

std::string Sha256::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  return StrCat(kPrefix, Hex(md, len));
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
