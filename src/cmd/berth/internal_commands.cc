// berth CLI: hidden commands the per-container monitor runs: `container cleanup ID` after
// the container exited, `container healthcheck ID` for each health check, `container started
// ID` after it started the container for a client that died; `container dns-server` is the
// resolver daemon the engine starts for each network with DNS.
#include <unistd.h>

#include <memory>

#include "berth/net/dns_server.h"
#include "cli.h"

namespace berth::cli {

namespace {

// `berth container dns-server --listen IP [--listen IP...] --port N --records FILE
// [--upstream IP...] --pid-file FILE`: serves in the foreground until SIGTERM; the engine
// detaches it and waits for the pid file.
void AddDnsServerCommand(CLI::App* parent, Registry& r) {
  CLI::App* sub = r.Add(parent, "dns-server", "serve a network's DNS (started by the engine)");
  if (!sub) return;
  sub->group("");  // hidden from help
  struct Flags {
    std::vector<std::string> listen, upstream;
    uint16_t port = 53, upstream_port = 53;
    std::string records, pid_file;
  };
  auto f = std::make_shared<Flags>();
  sub->add_option("--listen", f->listen, "address to listen on (repeatable)")->required();
  sub->add_option("--port", f->port, "port for UDP and TCP")->capture_default_str();
  sub->add_option("--records", f->records, "records file: ADDRESS NAME [NAME...] per line")
      ->required();
  sub->add_option("--upstream", f->upstream, "resolver for other names (repeatable)");
  sub->add_option("--upstream-port", f->upstream_port, "port of the upstreams")
      ->capture_default_str();
  sub->add_option("--pid-file", f->pid_file, "written once listening, removed on exit");
  r.Push(sub, [f]() -> Result<int> {
    net::DnsServerOptions o;
    for (const std::string& s : f->listen) {
      BERTH_ASSIGN_OR_RETURN(net::IpAddress a, net::IpAddress::Parse(s, "--listen"));
      o.listen.push_back(a);
    }
    for (const std::string& s : f->upstream) {
      BERTH_ASSIGN_OR_RETURN(net::IpAddress a, net::IpAddress::Parse(s, "--upstream"));
      o.upstreams.push_back(a);
    }
    o.port = f->port;
    o.upstream_port = f->upstream_port;
    o.records_file = f->records;
    o.pid_file = f->pid_file;
    // A daemon of its network, not of the command that started it: its own session, so a
    // terminal's or a test harness's signals to that command's group do not reach it.
    ::setsid();
    BERTH_TRY(net::RunDnsServer(o));
    return 0;
  });
}

}  // namespace

void AddInternalCommands(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  enum class Kind { kCleanup, kHealthcheck, kStarted };
  struct Internal {
    Kind kind;
    const char* name;
    const char* help;
  };
  static const Internal kInternal[] = {
      {Kind::kCleanup, "cleanup", "record a container's exit (run by its monitor)"},
      {Kind::kHealthcheck, "healthcheck", "run one health check (run by its monitor)"},
      {Kind::kStarted, "started",
       "record that the monitor started a container whose client died (run by its monitor)"},
  };
  for (const Internal& in : kInternal) {
    CLI::App* sub = r.Add(parent, in.name, in.help);
    if (!sub) continue;
    sub->group("");  // hidden from help
    auto id = std::make_shared<std::string>();
    sub->add_option("id", *id, "container id")->required();
    auto monitor = std::make_shared<int>(0);
    if (in.kind == Kind::kStarted) sub->add_option("monitor", *monitor, "the monitor's pid")->required();
    Kind kind = in.kind;
    r.Push(sub, [id, kind, monitor, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      switch (kind) {
        case Kind::kCleanup:
          BERTH_TRY(eng->CleanupAfterExit(*id));
          break;
        case Kind::kHealthcheck:
          BERTH_TRY(eng->RunHealthcheck(*id));
          break;
        case Kind::kStarted:
          BERTH_TRY(eng->MarkRunning(*id, static_cast<pid_t>(*monitor)));
          break;
      }
      return 0;
    });
  }
  AddDnsServerCommand(parent, r);
}

}  // namespace berth::cli
