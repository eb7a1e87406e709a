// berth/registry: the users of `berth registry serve --htpasswd FILE`, in Apache's htpasswd
// format with bcrypt hashes only (`htpasswd -B`): MD5-crypt, SHA-1 and DES hashes are too
// cheap to brute-force, so a file holding one is refused at load time, naming its line.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::registry {

class Htpasswd {
 public:
  static Result<Htpasswd> Load(const std::string& path);
  // `what` names the file in errors ("htpasswd `/etc/reg/users`: line 3: ...").
  static Result<Htpasswd> Parse(std::string_view text, std::string_view what);

  // True when `user` exists and `password` matches its hash. An unknown user costs a
  // bcrypt round too, so timing does not tell which user names exist.
  bool Verify(std::string_view user, std::string_view password) const;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> users_;  // user -> "$2y$..." hash
};

// bcrypt of `password` with `salt` ("$2b$05$" + 22 salt characters); for tests and tools.
Result<std::string> BcryptHash(std::string_view password, std::string_view salt);

}  // namespace berth::registry
