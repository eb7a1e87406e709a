// Looking into and acting inside a running container: exec, top, stats, health checks.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/spec_gen.h"
#include "berth/sys/process.h"

namespace berth::engine {
namespace {

Status RequireRunning(const ContainerRecord& c) {
  if (c.state == State::kPaused) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", c.name, " is paused, unpause the container before exec"));
  }
  if (c.state != State::kRunning) {
    return Fail(ErrorCode::kFailedPrecondition, StrCat("container ", c.name, " is not running"));
  }
  return Ok();
}

}  // namespace

Result<int> Engine::Exec(const std::string& name_or_id, const ExecConfig& e) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(RequireRunning(c));
  if (e.args.empty()) return InvalidArgument("exec: no command given");
  BERTH_ASSIGN_OR_RETURN(oci::Process p, runtime::ContainerProcess(RuntimeOptions(), c.id));
  p.args = e.args;
  p.terminal = e.tty;
  if (!e.tty) p.console_size.reset();
  for (auto& kv : e.env) {
    std::string key = kv.substr(0, kv.find('='));
    std::erase_if(p.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    if (kv.find('=') == std::string::npos) {
      if (const char* v = ::getenv(key.c_str())) p.env.push_back(StrCat(key, "=", v));
    } else {
      p.env.push_back(kv);
    }
  }
  if (!e.workdir.empty()) p.cwd = e.workdir;
  if (!e.user.empty()) {
    BERTH_ASSIGN_OR_RETURN(p.user, ResolveUser(ContainerDir(c.id) + "/snapshot/merged", e.user,
                                               c.config.group_add));
  }
  if (e.privileged) {
    std::vector<std::string> all = DefaultCapabilities();
    if (p.capabilities && p.capabilities->bounding) all = *p.capabilities->bounding;
    p.capabilities = oci::Capabilities{all, all, {}, all, {}};
  }
  runtime::ExecOptions o;
  o.process = p;
  o.detach = e.detach;
  return runtime::Exec(RuntimeOptions(), c.id, o);
}

Result<std::vector<std::vector<std::string>>> Engine::Top(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(RequireRunning(c));
  BERTH_ASSIGN_OR_RETURN(std::vector<pid_t> pids, runtime::Pids(RuntimeOptions(), c.id));
  std::vector<std::string> ids;
  for (pid_t p : pids) ids.push_back(std::to_string(p));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoFail("pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  sys::SpawnOptions so;
  so.path = "/bin/ps";
  so.args = {"ps", "-f", "-p", Join(ids, ",")};
  so.inherit_env = true;
  so.stdout_fd = wr.get();
  BERTH_ASSIGN_OR_RETURN(sys::ChildProcess ps, sys::Spawn(so));
  wr.Reset();
  BERTH_ASSIGN_OR_RETURN(std::string out, ReadFd(rd.get(), "ps output"));
  (void)ps.Wait();
  std::vector<std::vector<std::string>> rows;
  for (auto& line : SplitNonEmpty(out, '\n')) {
    // ps -f: UID PID PPID C STIME TTY TIME CMD; the command may contain spaces.
    std::vector<std::string> cols;
    std::string_view rest = line;
    for (int i = 0; i < 7; ++i) {
      rest = Trim(rest);
      size_t sp = rest.find(' ');
      cols.emplace_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp);
    }
    cols.emplace_back(Trim(rest));
    rows.push_back(std::move(cols));
  }
  return rows;
}

Result<cgroup::Stats> Engine::Stats(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(RequireRunning(c));
  return runtime::Stats(RuntimeOptions(), c.id);
}

Status Engine::RunHealthcheck(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> found, containers_->FindById(id));
  if (!found || found->state != State::kRunning) return Ok();
  ContainerRecord c = std::move(*found);
  std::vector<std::string> test = c.config.health.test;
  int64_t timeout_ns = c.config.health.timeout_ns;
  int retries = c.config.health.retries;
  if (test.empty() && c.image_config.healthcheck) {
    test = c.image_config.healthcheck->test;
    if (!timeout_ns) timeout_ns = c.image_config.healthcheck->timeout_ns;
    if (!retries) retries = c.image_config.healthcheck->retries;
  }
  if (test.empty() || test[0] == "NONE") return Ok();
  if (!timeout_ns) timeout_ns = int64_t{30} * 1000000000;
  if (!retries) retries = 3;
  std::vector<std::string> args;
  if (test[0] == "CMD-SHELL") {
    args = {"/bin/sh", "-c", test.size() > 1 ? test[1] : ""};
  } else if (test[0] == "CMD") {
    args.assign(test.begin() + 1, test.end());
  } else {
    args = test;
  }
  std::string start = NowRfc3339();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoFail("pipe");
  UniqueFd rd(fds[0]);
  pid_t child = ::fork();
  if (child < 0) return ErrnoFail("fork");
  if (child == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ExecConfig e;
    e.args = args;
    auto r = Exec(id, e);
    ::_exit(r ? *r : 126);
  }
  ::close(fds[1]);
  std::string output;
  int64_t deadline = NowUnixNano() + timeout_ns;
  bool timed_out = false;
  while (true) {
    int64_t left_ms = (deadline - NowUnixNano()) / 1000000;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {rd.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = ::read(rd.get(), buf, sizeof buf);
    if (got <= 0) break;
    if (output.size() < 4096) output.append(buf, static_cast<size_t>(got));
  }
  int status = 0;
  if (timed_out) ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  int code = timed_out ? -1 : sys::ExitCodeFromWaitStatus(status);
  if (timed_out) output = StrCat("Health check exceeded timeout (", timeout_ns / 1000000000, "s)");
  BERTH_TRY(containers_->Update(id, [&](ContainerRecord& r) -> Status {
    Json entry = {{"Start", start}, {"End", NowRfc3339()}, {"ExitCode", code}, {"Output", output}};
    if (!r.health.log.is_array()) r.health.log = Json::array();
    r.health.log.push_back(entry);
    while (r.health.log.size() > 5) r.health.log.erase(r.health.log.begin());
    if (code == 0) {
      r.health.failing_streak = 0;
      r.health.status = "healthy";
    } else {
      ++r.health.failing_streak;
      if (r.health.failing_streak >= retries) r.health.status = "unhealthy";
      else if (r.health.status.empty()) r.health.status = "starting";
    }
    return Ok();
  }));
  return Ok();
}

}  // namespace berth::engine
