// berth/registry: auth.json and WWW-Authenticate.
#include "berth/registry/auth.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/registry/http_client.h"

namespace berth::registry {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The keys that may hold credentials for `registry/repository`, most specific first.
std::vector<std::string> CandidateKeys(std::string_view registry, std::string_view repository) {
  std::vector<std::string> keys;
  std::string path = StrCat(registry, "/", repository);
  while (true) {
    keys.push_back(path);
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash < registry.size()) break;
    path.resize(slash);
  }
  if (keys.back() != registry) keys.emplace_back(registry);
  if (registry == "docker.io") {
    keys.emplace_back("https://index.docker.io/v1/");
    keys.emplace_back("index.docker.io");
  }
  return keys;
}

Result<std::optional<Json>> ReadAuthFile(const std::string& path) {
  if (!PathExists(path)) return std::optional<Json>();
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (Trim(text).empty()) return std::optional<Json>(Json::object());
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(text, path));
  if (!j.is_object()) return InvalidArgument(StrCat(path, ": expected a JSON object"));
  auto auths = j.find("auths");
  if (auths != j.end() && !auths->is_object())
    return InvalidArgument(StrCat(path, ": auths: expected an object"));
  return std::optional<Json>(std::move(j));
}

Result<std::optional<Credentials>> FromEntry(const Json& entry, const std::string& where) {
  if (!entry.is_object()) return InvalidArgument(StrCat(where, ": expected an object"));
  auto auth = entry.find("auth");
  if (auth == entry.end() || !auth->is_string() || auth->get<std::string>().empty())
    return std::optional<Credentials>();  // e.g. only an identitytoken or a helper
  BERTH_ASSIGN_OR_RETURN_CTX(std::string plain, Base64Decode(auth->get<std::string>()),
                             StrCat(where, ".auth"));
  size_t colon = plain.find(':');
  if (colon == std::string::npos)
    return InvalidArgument(StrCat(where, ".auth: expected base64 of user:password"));
  return std::optional<Credentials>(Credentials{plain.substr(0, colon), plain.substr(colon + 1)});
}

Result<std::optional<Credentials>> LookupIn(const std::string& path, std::string_view registry,
                                            std::string_view repository) {
  BERTH_ASSIGN_OR_RETURN(std::optional<Json> j, ReadAuthFile(path));
  if (!j) return std::optional<Credentials>();
  auto auths = j->find("auths");
  if (auths == j->end()) return std::optional<Credentials>();
  for (const auto& key : CandidateKeys(registry, repository)) {
    auto e = auths->find(key);
    if (e == auths->end()) continue;
    BERTH_ASSIGN_OR_RETURN(auto c, FromEntry(*e, StrCat(path, ": auths.", key)));
    if (c) return c;
  }
  return std::optional<Credentials>();
}

Status WriteAuthFile(const std::string& path, const Json& j) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) BERTH_TRY(MkdirAll(path.substr(0, slash), 0700));
  return AtomicWriteFile(path, j.dump(1, '\t') + "\n", 0600);
}

}  // namespace

std::string DefaultAuthFile() {
  if (const char* env = std::getenv("REGISTRY_AUTH_FILE"); env != nullptr && *env != '\0')
    return env;
  if (::geteuid() != 0) {
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0')
      return StrCat(xdg, "/containers/auth.json");
  }
  return StrCat("/run/containers/", ::geteuid(), "/auth.json");
}

Result<std::optional<Credentials>> LookupCredentials(const std::string& auth_file,
                                                     std::string_view registry,
                                                     std::string_view repository) {
  BERTH_ASSIGN_OR_RETURN(auto c, LookupIn(auth_file, registry, repository));
  if (c) return c;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    std::string docker = StrCat(home, "/.docker/config.json");
    auto d = LookupIn(docker, registry, repository);
    if (d.has_value() && *d) return d;  // a broken docker file is docker's business
  }
  return std::optional<Credentials>();
}

Status StoreCredentials(const std::string& auth_file, std::string_view key,
                        const Credentials& credentials) {
  std::string ctx = StrCat("store credentials in ", Quote(auth_file));
  BERTH_ASSIGN_OR_RETURN_CTX(std::optional<Json> j, ReadAuthFile(auth_file), ctx);
  Json doc = j ? std::move(*j) : Json::object();
  if (!doc.contains("auths")) doc["auths"] = Json::object();
  doc["auths"][std::string(key)] =
      Json{{"auth", Base64Encode(StrCat(credentials.username, ":", credentials.password))}};
  BERTH_TRY_CTX(WriteAuthFile(auth_file, doc), ctx);
  return Ok();
}

Result<bool> RemoveCredentials(const std::string& auth_file, std::string_view key) {
  std::string ctx = StrCat("remove credentials from ", Quote(auth_file));
  BERTH_ASSIGN_OR_RETURN_CTX(std::optional<Json> j, ReadAuthFile(auth_file), ctx);
  if (!j || !j->contains("auths") || !(*j)["auths"].contains(std::string(key))) return false;
  (*j)["auths"].erase(std::string(key));
  BERTH_TRY_CTX(WriteAuthFile(auth_file, *j), ctx);
  return true;
}

Status RemoveAllCredentials(const std::string& auth_file) {
  std::string ctx = StrCat("remove credentials from ", Quote(auth_file));
  BERTH_ASSIGN_OR_RETURN_CTX(std::optional<Json> j, ReadAuthFile(auth_file), ctx);
  if (!j) return Ok();
  (*j)["auths"] = Json::object();
  BERTH_TRY_CTX(WriteAuthFile(auth_file, *j), ctx);
  return Ok();
}

std::vector<Challenge> ParseWwwAuthenticate(std::string_view h) {
  // challenge = scheme [ param *( "," param ) ], params `name=token` or `name="quoted"`;
  // a new challenge starts where a token is not followed by '='.
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '=') ++i;
    return std::string(h.substr(start, i - start));
  };
  while (true) {
    skip_ws();
    if (i >= h.size()) break;
    std::string word = token();
    if (word.empty()) {  // a stray '=': skip it
      ++i;
      continue;
    }
    size_t save = i;
    while (i < h.size() && h[i] == ' ') ++i;
    if (i < h.size() && h[i] == '=' && !out.empty()) {
      ++i;
      while (i < h.size() && h[i] == ' ') ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value.push_back(h[i++]);
        }
        if (i < h.size()) ++i;
      } else {
        size_t start = i;
        while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
        value = std::string(h.substr(start, i - start));
      }
      out.back().params[Lower(word)] = value;
    } else {
      i = save;
      out.push_back(Challenge{Lower(word), {}});
    }
  }
  return out;
}

}  // namespace berth::registry
