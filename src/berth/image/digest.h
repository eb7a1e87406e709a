// berth/image: sha256 digests ("sha256:<hex>") over OpenSSL's EVP interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // "sha256:<64 lowercase hex>"; the object may not be updated afterwards.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string DigestOf(std::string_view data);
// The 64 hex characters of "sha256:<hex>" (validated: kInvalidArgument otherwise).
Result<std::string> DigestHex(std::string_view digest);

}  // namespace berth::image
