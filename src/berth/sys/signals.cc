#include "berth/sys/signals.h"

#include <signal.h>

#include <cctype>

#include "berth/base/strings.h"

namespace berth::sys {

namespace {

struct Sig {
  const char* name;
  int num;
};

constexpr Sig kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},
    {"URG", SIGURG},     {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},   {"WINCH", SIGWINCH},   {"IO", SIGIO},       {"POLL", SIGPOLL},
    {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<int> ParseSignal(std::string_view s) {
  auto bad = [&]() { return InvalidArgument(StrCat("unknown signal ", Quote(s))); };
  if (s.empty()) return bad();
  if (std::isdigit(static_cast<unsigned char>(s[0]))) {
    auto n = ParseInt64(s, "signal");
    if (!n || *n <= 0 || *n > SIGRTMAX) return bad();
    return static_cast<int>(*n);
  }
  std::string u = Upper(s);
  std::string_view name = u;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& sig : kSignals)
    if (name == sig.name) return sig.num;
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n
  auto rt = [&](std::string_view base, int anchor, int dir) -> Result<int> {
    std::string_view rest = name.substr(base.size());
    int off = 0;
    if (!rest.empty()) {
      if (rest[0] != (dir > 0 ? '+' : '-')) return bad();
      auto n = ParseInt64(rest.substr(1), "signal");
      if (!n) return bad();
      off = static_cast<int>(*n);
    }
    int v = anchor + dir * off;
    if (v < SIGRTMIN || v > SIGRTMAX) return bad();
    return v;
  };
  if (name.substr(0, 5) == "RTMIN") return rt("RTMIN", SIGRTMIN, +1);
  if (name.substr(0, 5) == "RTMAX") return rt("RTMAX", SIGRTMAX, -1);
  return bad();
}

std::string SignalName(int sig) {
  for (const auto& s : kSignals)
    if (s.num == sig) return StrCat("SIG", s.name);
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    if (sig == SIGRTMIN) return "SIGRTMIN";
    return StrCat("SIGRTMIN+", sig - SIGRTMIN);
  }
  return StrCat(sig);
}

}  // namespace berth::sys
