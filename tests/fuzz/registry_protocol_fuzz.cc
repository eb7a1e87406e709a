// Fuzz target for what a registry peer or a user's configuration sends the registry code:
// WWW-Authenticate challenges, URLs and Location headers (client), registries.conf, and the
// server's request-target parsing. The first byte picks the parser. Besides not crashing:
// a repository name the server accepts never escapes its storage root.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/registry/auth.h"
#include "berth/registry/http_client.h"
#include "berth/registry/registries_conf.h"
#include "berth/registry/server_routes.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace reg = berth::registry;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      for (const auto& c : reg::ParseWwwAuthenticate(input)) Check(!c.scheme.empty());
      break;
    }
    case 1: {
      auto u = reg::Url::Parse(input);
      if (u.has_value()) {
        Check(!u->host.empty() && !u->port.empty() && !u->target.empty());
        auto again = reg::Url::Parse(u->String());
        Check(again.has_value() && again->String() == u->String());
      }
      auto base = reg::Url::Parse("https://reg.example:5000/v2/a/blobs/uploads/");
      auto r = base->Resolve(input);
      if (r.has_value()) {
        for (char ch : r->target) Check(static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f);
      }
      break;
    }
    case 2: {
      auto conf = reg::RegistriesConf::Parse(input, "fuzz.conf");
      if (conf.has_value()) (void)reg::PullSources(*conf, "busybox");
      break;
    }
    case 3: {
      std::string decoded;
      if (!reg::PercentDecode(input, decoded)) break;
      reg::Route route = reg::ParseRoute(decoded);
      if (reg::IsValidRepositoryName(route.name)) {
        Check(route.name.find("..") == std::string::npos && route.name.front() != '/' &&
              route.name.find("//") == std::string::npos);
      }
      (void)reg::ParseQuery(input);
      break;
    }
  }
  return 0;
}
