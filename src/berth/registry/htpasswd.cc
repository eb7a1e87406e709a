// berth/registry: htpasswd loading and bcrypt verification through libcrypt's crypt_r.
#include "berth/registry/htpasswd.h"

#include <crypt.h>

#include <cstring>
#include <memory>

#include <openssl/crypto.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::registry {

namespace {

bool IsBcrypt(std::string_view hash) {
  // $2a$, $2b$, $2y$ followed by a two-digit cost, '$' and 53 characters of salt and hash.
  return hash.size() == 60 && hash[0] == '$' && hash[1] == '2' &&
         (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$' &&
         hash[6] == '$';
}

std::string_view HashKind(std::string_view hash) {
  if (hash.starts_with("$apr1$")) return "MD5 (htpasswd -m)";
  if (hash.starts_with("{SHA}")) return "SHA-1 (htpasswd -s)";
  if (hash.starts_with("$1$")) return "MD5-crypt";
  if (hash.starts_with("$5$") || hash.starts_with("$6$")) return "SHA-crypt";
  if (hash.starts_with("$2")) return "malformed bcrypt";
  return "crypt or plain text";
}

// crypt_r's state is ~32 KiB: on the heap, not on a connection thread's stack.
Result<std::string> CryptR(std::string_view password, std::string_view setting) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof *data);
  std::string pw(password), set(setting);
  if (pw.find('\0') != std::string::npos) return InvalidArgument("password contains NUL");
  const char* out = ::crypt_r(pw.c_str(), set.c_str(), data.get());
  // libxcrypt returns a string starting with '*' instead of NULL for an invalid setting.
  if (out == nullptr || out[0] == '*') return InvalidArgument("bcrypt: invalid hash setting");
  return std::string(out);
}

// A well-formed hash of a password nobody has: what an unknown user is checked against.
constexpr std::string_view kDummyHash =
    "$2b$10$abcdefghijklmnopqrstuu5zPC1P9dVcNl2ZhvGE2MQ7v/YvLh1zG";

}  // namespace

Result<Htpasswd> Htpasswd::Load(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(path), StrCat("htpasswd ", Quote(path)));
  return Parse(text, StrCat("htpasswd ", Quote(path)));
}

Result<Htpasswd> Htpasswd::Parse(std::string_view text, std::string_view what) {
  Htpasswd h;
  std::vector<std::string> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    std::string where = StrCat(what, ": line ", i + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument(StrCat(where, ": expected `user:hash`"));
    }
    std::string user(line.substr(0, colon));
    std::string_view hash = line.substr(colon + 1);
    if (!IsBcrypt(hash)) {
      return InvalidArgument(StrCat(where, ": user ", Quote(user), ": ", HashKind(hash),
                                    " hash not supported, only bcrypt (htpasswd -B)"));
    }
    if (!h.users_.emplace(user, std::string(hash)).second) {
      return InvalidArgument(StrCat(where, ": user ", Quote(user), " appears twice"));
    }
  }
  return h;
}

bool Htpasswd::Verify(std::string_view user, std::string_view password) const {
  auto it = users_.find(user);
  std::string_view hash = it == users_.end() ? kDummyHash : std::string_view(it->second);
  auto got = CryptR(password, hash);
  bool match = got.has_value() && got->size() == hash.size() &&
               CRYPTO_memcmp(got->data(), hash.data(), hash.size()) == 0;
  return match && it != users_.end();
}

Result<std::string> BcryptHash(std::string_view password, std::string_view salt) {
  return CryptR(password, salt);
}

}  // namespace berth::registry
