// berth CLI: pull, push, login, logout, and the pull that run/create do for a missing image.
// Progress as docker shows it: on a terminal one line per layer, redrawn in place; otherwise
// a line per change of state.
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/oci/reference.h"
#include "berth/registry/auth.h"
#include "berth/registry/pull.h"
#include "cli.h"

namespace berth::cli {
namespace {

std::string HumanSize(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", bytes, units[u]);
  return buf;
}

// Prints transfer events to stderr (stdout stays for the result, as in podman).
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}

  void operator()(const registry::TransferEvent& e) {
    if (quiet_) return;
    using S = registry::TransferEvent::State;
    auto now = std::chrono::steady_clock::now();
    auto [it, inserted] = lines_.try_emplace(e.id);
    Line& line = it->second;
    if (inserted) {
      line.index = static_cast<int>(order_.size());
      line.started = now;
      order_.push_back(e.id);
      if (tty_) std::fputs("\n", stderr);
    }
    if (e.state == S::kDownloading || e.state == S::kUploading) {
      if (line.state != e.state) {
        line.started = now;
        line.start_bytes = e.current;
      }
    }
    bool changed = line.state != e.state || inserted;
    line.state = e.state;
    std::string text = StrCat(e.id, ": ", registry::TransferStateName(e.state));
    if (e.state == S::kDownloading || e.state == S::kUploading) {
      double secs = std::chrono::duration<double>(now - line.started).count();
      text += StrCat("  ", HumanSize(static_cast<double>(e.current)), "/",
                     HumanSize(static_cast<double>(e.total)));
      if (secs > 0.2)
        text += StrCat("  ", HumanSize(static_cast<double>(e.current - line.start_bytes) / secs), "/s");
    }
    if (tty_) {
      int up = static_cast<int>(order_.size()) - line.index;
      std::fprintf(stderr, "\x1b[%dA\r\x1b[2K%s\x1b[%dB\r", up, text.c_str(), up);
    } else if (changed && e.state != S::kWaiting) {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }

 private:
  struct Line {
    int index = 0;
    registry::TransferEvent::State state = registry::TransferEvent::State::kWaiting;
    std::chrono::steady_clock::time_point started;
    int64_t start_bytes = 0;
  };
  bool quiet_;
  bool tty_;
  std::map<std::string, Line> lines_;
  std::vector<std::string> order_;
};

struct RegistryFlags {
  std::string authfile, cert_dir, creds, tls_verify;
};

void AddRegistryFlags(CLI::App* sub, RegistryFlags& f) {
  sub->add_option("--authfile", f.authfile, "credentials file (default: podman's auth.json)");
  sub->add_option("--cert-dir", f.cert_dir, "certificates for TLS (*.crt CAs, NAME.cert/NAME.key)");
  sub->add_option("--creds", f.creds, "USERNAME[:PASSWORD] for the registry");
  sub->add_option("--tls-verify", f.tls_verify,
                  "true|false: require HTTPS and verify certificates (default true; false also "
                  "allows plain HTTP)");
}

Result<registry::RegistryConfig> ConfigFrom(const RegistryFlags& f) {
  registry::RegistryConfig c;
  c.auth_file = f.authfile;
  c.cert_dir = f.cert_dir;
  if (!f.tls_verify.empty()) {
    if (f.tls_verify == "true") {
      c.tls_verify = true;
    } else if (f.tls_verify == "false") {
      c.tls_verify = false;
    } else {
      return InvalidArgument(StrCat("--tls-verify: expected true or false, got ", Quote(f.tls_verify)));
    }
  }
  if (!f.creds.empty()) {
    size_t colon = f.creds.find(':');
    if (colon == 0) return InvalidArgument("--creds: the username is empty");
    registry::Credentials cr;
    cr.username = f.creds.substr(0, colon);
    if (colon != std::string::npos) cr.password = f.creds.substr(colon + 1);
    c.credentials = cr;
  }
  return c;
}

Result<oci::Platform> ParsePlatform(const std::string& text) {
  oci::Platform p = oci::HostPlatform();
  if (text.empty()) return p;
  auto parts = Split(text, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return InvalidArgument(StrCat("--platform: expected OS/ARCH[/VARIANT], got ", Quote(text)));
  p.os = parts[0];
  p.architecture = parts[1];
  p.variant = parts.size() == 3 ? parts[2] : "";
  return p;
}

Result<registry::PullResult> DoPull(engine::Engine& eng, const std::string& name,
                                    const registry::RegistryConfig& config,
                                    const std::string& platform, bool quiet) {
  BERTH_ASSIGN_OR_RETURN(registry::RegistriesConf conf, registry::RegistriesConf::Load());
  registry::PullOptions o;
  o.registry = config;
  BERTH_ASSIGN_OR_RETURN(o.platform, ParsePlatform(platform));
  auto printer = std::make_shared<ProgressPrinter>(quiet);
  o.progress = [printer](const registry::TransferEvent& e) { (*printer)(e); };
  o.on_try = [quiet](const registry::PullSource& src) {
    if (quiet) return;
    const oci::Reference& ref = src.reference;
    std::fprintf(stderr, "%s: Pulling from %s%s\n",
                 (ref.digest.empty() ? ref.tag : ref.digest).c_str(),
                 (ref.domain == "docker.io" ? ref.path : ref.Name()).c_str(),
                 src.mirror ? " (mirror)" : "");
  };
  BERTH_ASSIGN_OR_RETURN(registry::PullResult res, registry::PullByName(eng.images(), name, conf, o));
  if (!quiet) {
    std::string familiar = res.name;
    if (auto r = oci::ParseReference(res.name); r.has_value()) familiar = r->Familiar();
    std::fprintf(stderr, "Digest: %s\n", res.digest.c_str());
    std::fprintf(stderr, "Status: %s for %s\n",
                 res.up_to_date ? "Image is up to date" : "Downloaded newer image",
                 familiar.c_str());
  }
  return res;
}

std::string ReadPassword(bool echo_off) {
  termios old{};
  bool restore = false;
  if (echo_off && ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0) {
    termios t = old;
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    restore = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fputs("\n", stderr);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The auth.json key for a `login`/`logout` argument: a registry, or registry/repository.
Result<std::string> LoginKey(std::string server) {
  for (const char* scheme : {"https://", "http://"})
    if (server.starts_with(scheme)) server = server.substr(std::string_view(scheme).size());
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.empty()) return InvalidArgument("registry: empty name");
  if (server == "index.docker.io/v1" || server == "registry-1.docker.io") server = "docker.io";
  return server;
}

}  // namespace

Result<std::string> PullForRun(Context& ctx, const std::string& image, const std::string& policy) {
  if (policy == "never") return image;
  if (policy != "missing" && policy != "always" && policy != "newer")
    return InvalidArgument(StrCat("--pull: expected always, missing, newer or never, got ",
                                  Quote(policy)));
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  if (policy == "missing") {
    if (eng->images().Resolve(image).has_value()) return image;
    if (oci::LooksLikeIdPrefix(image)) return image;  // an id is never pulled; Create says so
    if (!oci::ParseReference(image).has_value()) return image;  // Create reports the bad name
    // A short name may have been pulled from any search registry before.
    BERTH_ASSIGN_OR_RETURN(registry::RegistriesConf conf, registry::RegistriesConf::Load());
    BERTH_ASSIGN_OR_RETURN(auto sources, registry::PullSources(conf, image));
    for (const auto& s : sources)
      if (eng->images().Resolve(s.name.String()).has_value()) return s.name.String();
    std::fprintf(stderr, "Unable to find image '%s' locally\n",
                 oci::ParseReference(image)->Familiar().c_str());
  }
  BERTH_ASSIGN_OR_RETURN(registry::PullResult res,
                         DoPull(*eng, image, registry::RegistryConfig{}, "", false));
  return res.name;
}

void AddRegistryClientCommands(CLI::App* parent, bool in_group, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "pull", "download an image from a registry")) {
    struct Flags {
      RegistryFlags reg;
      std::string name, platform;
      bool quiet = false, all_tags = false;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("image", f->name, "NAME[:TAG|@DIGEST]")->required();
    sub->add_flag("-q,--quiet", f->quiet, "print only the image id");
    sub->add_option("--platform", f->platform, "OS/ARCH[/VARIANT] to pull from an index");
    sub->add_flag("-a,--all-tags", f->all_tags, "pull every tag of the repository");
    AddRegistryFlags(sub, f->reg);
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(registry::RegistryConfig config, ConfigFrom(f->reg));
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::vector<std::string> names{f->name};
      if (f->all_tags) {
        BERTH_ASSIGN_OR_RETURN(oci::Reference ref, oci::ParseReference(f->name));
        if (f->name.find(':', f->name.rfind('/') + 1) != std::string::npos || !ref.digest.empty())
          return InvalidArgument("--all-tags: give a repository without a tag or digest");
        registry::RegistryClient client(ref.domain, config);
        BERTH_ASSIGN_OR_RETURN(auto tags, client.ListTags(ref.path));
        names.clear();
        for (const auto& t : tags) names.push_back(StrCat(ref.Name(), ":", t));
      }
      for (const auto& n : names) {
        BERTH_ASSIGN_OR_RETURN(registry::PullResult res,
                               DoPull(*eng, n, config, f->platform, f->quiet));
        Print(f->quiet ? res.image.id.substr(7) + "\n" : res.name + "\n");
      }
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "push", "upload an image to a registry")) {
    struct Flags {
      RegistryFlags reg;
      std::string image, destination, chunk_size, digestfile, compression = "gzip";
      bool quiet = false;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("image", f->image, "local image")->required();
    sub->add_option("destination", f->destination, "NAME[:TAG] to push to (default: the image's name)");
    sub->add_flag("-q,--quiet", f->quiet, "no progress");
    sub->add_option("--chunk-size", f->chunk_size,
                    "upload blobs in chunks of this many bytes (default: in one request)");
    sub->add_option("--digestfile", f->digestfile, "write the manifest's digest to this file");
    sub->add_option("--compression-format", f->compression,
                    "gzip, zstd or none: how layers stored uncompressed are sent (default gzip)");
    AddRegistryFlags(sub, f->reg);
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(registry::RegistryConfig config, ConfigFrom(f->reg));
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, eng->images().Resolve(f->image));
      std::string dest_text = f->destination;
      if (dest_text.empty()) {
        auto ref = oci::ParseReference(f->image);
        if (!ref.has_value() || oci::LooksLikeIdPrefix(f->image))
          return InvalidArgument(StrCat("push ", Quote(f->image), ": give a destination NAME[:TAG]"));
        dest_text = ref->String();
      }
      BERTH_ASSIGN_OR_RETURN(oci::Reference named, oci::ParseReference(dest_text));
      BERTH_ASSIGN_OR_RETURN(registry::RegistriesConf conf, registry::RegistriesConf::Load());
      BERTH_ASSIGN_OR_RETURN(registry::PullSource target, registry::PushTarget(conf, named));
      const oci::Reference& dest = target.reference;
      registry::PushOptions o;
      o.registry = config;
      if (target.insecure && !o.registry.tls_verify.has_value()) o.registry.tls_verify = false;
      if (!f->chunk_size.empty()) {
        BERTH_ASSIGN_OR_RETURN(o.chunk_size, ParseInt64(f->chunk_size, "--chunk-size"));
        if (o.chunk_size <= 0) return InvalidArgument("--chunk-size: must be positive");
      }
      if (f->compression == "gzip") {
        o.compression = oci::Compression::kGzip;
      } else if (f->compression == "zstd") {
        o.compression = oci::Compression::kZstd;
      } else if (f->compression == "none") {
        o.compression = oci::Compression::kNone;
      } else {
        return InvalidArgument(StrCat("--compression-format: expected gzip, zstd or none, got ",
                                      Quote(f->compression)));
      }
      auto printer = std::make_shared<ProgressPrinter>(f->quiet);
      o.progress = [printer](const registry::TransferEvent& e) { (*printer)(e); };
      if (!f->quiet)
        std::fprintf(stderr, "The push refers to repository [%s]\n", dest.Name().c_str());
      BERTH_ASSIGN_OR_RETURN(registry::PushResult res, registry::Push(eng->images(), img, dest, o));
      if (!f->quiet)
        std::fprintf(stderr, "%s: digest: %s size: %lld\n",
                     (dest.digest.empty() ? dest.tag : dest.digest).c_str(), res.digest.c_str(),
                     static_cast<long long>(res.size));
      if (!f->digestfile.empty()) BERTH_TRY(WriteFile(f->digestfile, res.digest));
      return 0;
    });
  }

  if (in_group) return;

  if (CLI::App* sub = r.Add(parent, "login", "log in to a registry")) {
    struct Flags {
      RegistryFlags reg;
      std::string server, username, password;
      bool password_stdin = false, get_login = false;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("server", f->server, "registry (default docker.io)");
    sub->add_option("-u,--username", f->username, "username");
    sub->add_option("-p,--password", f->password, "password (prefer --password-stdin)");
    sub->add_flag("--password-stdin", f->password_stdin, "read the password from stdin");
    sub->add_flag("--get-login", f->get_login, "print the username stored for the registry");
    sub->add_option("--authfile", f->reg.authfile, "credentials file (default: podman's auth.json)");
    sub->add_option("--cert-dir", f->reg.cert_dir, "certificates for TLS");
    sub->add_option("--tls-verify", f->reg.tls_verify, "true|false: verify certificates (default true)");
    r.Push(sub, [f]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(std::string key, LoginKey(f->server.empty() ? "docker.io" : f->server));
      std::string file = f->reg.authfile.empty() ? registry::DefaultAuthFile() : f->reg.authfile;
      std::string domain = key.substr(0, key.find('/'));
      std::string repo = key.find('/') == std::string::npos ? "" : key.substr(key.find('/') + 1);
      if (f->get_login) {
        BERTH_ASSIGN_OR_RETURN(auto c, registry::LookupCredentials(file, domain, repo));
        if (!c) return Fail(ErrorCode::kNotFound, StrCat("not logged into ", key));
        Print(c->username + "\n");
        return 0;
      }
      if (!f->password.empty() && f->password_stdin)
        return InvalidArgument("--password and --password-stdin are mutually exclusive");
      std::string user = f->username, pass = f->password;
      if (user.empty()) {
        if (f->password_stdin) return InvalidArgument("--password-stdin needs --username");
        std::fprintf(stderr, "Username: ");
        std::fflush(stderr);
        user = ReadPassword(false);
        if (user.empty()) return InvalidArgument("login: the username is empty");
      }
      if (f->password_stdin) {
        std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
        pass = all;
      } else if (pass.empty()) {
        std::fprintf(stderr, "Password: ");
        std::fflush(stderr);
        pass = ReadPassword(true);
      }
      if (pass.empty()) return InvalidArgument("login: the password is empty");
      BERTH_ASSIGN_OR_RETURN(registry::RegistryConfig config, ConfigFrom(f->reg));
      config.credentials = registry::Credentials{user, pass};
      registry::RegistryClient client(domain, config);
      BERTH_TRY(client.CheckLogin());
      BERTH_TRY(registry::StoreCredentials(file, key, *config.credentials));
      Print("Login Succeeded!\n");
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "logout", "log out of a registry")) {
    struct Flags {
      std::string server, authfile;
      bool all = false;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("server", f->server, "registry (default docker.io)");
    sub->add_option("--authfile", f->authfile, "credentials file (default: podman's auth.json)");
    sub->add_flag("-a,--all", f->all, "remove every stored credential");
    r.Push(sub, [f]() -> Result<int> {
      std::string file = f->authfile.empty() ? registry::DefaultAuthFile() : f->authfile;
      if (f->all) {
        BERTH_TRY(registry::RemoveAllCredentials(file));
        Print("Removed login credentials for all registries\n");
        return 0;
      }
      BERTH_ASSIGN_OR_RETURN(std::string key, LoginKey(f->server.empty() ? "docker.io" : f->server));
      BERTH_ASSIGN_OR_RETURN(bool removed, registry::RemoveCredentials(file, key));
      if (!removed) return Fail(ErrorCode::kNotFound, StrCat("not logged into ", key));
      Print(StrCat("Removed login credentials for ", key, "\n"));
      return 0;
    });
  }
}

}  // namespace berth::cli
