// berth CLI: `registry serve`, a distribution-spec registry in the foreground
// (berth/registry/server.h does the work).
#include <memory>

#include "berth/base/strings.h"
#include "berth/registry/server.h"
#include "cli.h"

namespace berth::cli {

void AddRegistryCommands(CLI::App* parent, Registry& r) {
  if (CLI::App* sub = r.Add(parent, "serve", "serve an OCI registry from a directory")) {
    auto o = std::make_shared<registry::ServerOptions>();
    sub->add_option("--addr", o->addr, "listen address HOST:PORT")->capture_default_str();
    sub->add_option("--root", o->root, "storage directory (created when missing)")->required();
    sub->add_option("--htpasswd", o->htpasswd_file,
                    "require HTTP basic auth with the users of this bcrypt htpasswd file");
    sub->add_option("--tls-cert", o->tls_cert_file, "serve HTTPS with this PEM certificate chain");
    sub->add_option("--tls-key", o->tls_key_file, "the PEM private key of --tls-cert");
    sub->add_option("--realm", o->realm, "basic-auth realm")->capture_default_str();
    r.Push(sub, [o]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(std::unique_ptr<registry::Server> server,
                             registry::Server::Start(*o));
      std::fprintf(stderr, "berth registry: serving %s on %s://%s (port %u)\n", o->root.c_str(),
                   o->tls_cert_file.empty() ? "http" : "https", o->addr.c_str(),
                   static_cast<unsigned>(server->port()));
      BERTH_TRY(server->Run(/*stop_on_signals=*/true));
      std::fprintf(stderr, "berth registry: stopped\n");
      return 0;
    });
  }
}

}  // namespace berth::cli
