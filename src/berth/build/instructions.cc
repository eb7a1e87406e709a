// berth/build: the metadata instructions and the dispatch of every instruction.
#include "berth/build/instructions.h"

#include <algorithm>

#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/build/instructions_internal.h"
#include "berth/build/shell_words.h"
#include "berth/image/store_internal.h"

namespace berth::build {
namespace {

using internal::State;

void SetEnv(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  std::string prefix = key + "=";
  for (auto& e : env) {
    if (e.starts_with(prefix)) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

// Go's time.ParseDuration for HEALTHCHECK's flags: "30s", "1m30s", "500ms", "1.5h".
Result<int64_t> ParseDuration(std::string_view flag, std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(StrCat("--", flag, ": invalid duration ", Quote(text)));
  };
  if (text.empty()) return bad();
  if (text == "0") return int64_t{0};
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return bad();
    double n = std::atof(std::string(text.substr(start, i - start)).c_str());
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "µs") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else return bad();
    total += n * mult;
    if (total > 9.2e18) return bad();  // beyond int64 nanoseconds
  }
  return static_cast<int64_t>(total);
}

Result<std::vector<std::string>> CommandArgs(const State& s, const Instruction& ins) {
  if (ins.json_form) return ins.json_args;
  std::vector<std::string> args = s.config.config.shell.empty()
                                      ? std::vector<std::string>{"/bin/sh", "-c"}
                                      : s.config.config.shell;
  args.push_back(std::string(Trim(ins.text)));
  return args;
}

Status ApplyHealthcheck(State& next, const Instruction& ins) {
  oci::HealthConfig h;
  if (ins.subcommand == "NONE") {
    if (!ins.flags.empty()) return InvalidArgument("HEALTHCHECK NONE takes no options");
    h.test = {"NONE"};
    next.config.config.healthcheck = h;
    return Ok();
  }
  for (const auto& f : ins.flags) {
    if (f.name == "retries") {
      char* end = nullptr;
      long n = std::strtol(f.value.c_str(), &end, 10);
      if (f.value.empty() || *end != 0 || n < 0)
        return InvalidArgument(StrCat("--retries: invalid ", Quote(f.value)));
      h.retries = static_cast<int>(n);
      continue;
    }
    int64_t* target = f.name == "interval"         ? &h.interval_ns
                      : f.name == "timeout"        ? &h.timeout_ns
                      : f.name == "start-period"   ? &h.start_period_ns
                      : f.name == "start-interval" ? &h.start_interval_ns
                                                   : nullptr;
    if (target == nullptr) return InvalidArgument(StrCat("HEALTHCHECK: unknown option --", f.name));
    BERTH_ASSIGN_OR_RETURN(*target, ParseDuration(f.name, f.value));
  }
  if (ins.json_form) {
    h.test = {"CMD"};
    h.test.insert(h.test.end(), ins.json_args.begin(), ins.json_args.end());
  } else {
    h.test = {"CMD-SHELL", std::string(Trim(ins.text))};
  }
  next.config.config.healthcheck = h;
  return Ok();
}

// EXPOSE 80 80/udp 8000-8002/tcp
Status AddExposed(State& next, const std::vector<std::string>& words) {
  auto& ports = next.config.config.exposed_ports;
  for (const auto& w : words) {
    std::string port = w, proto = "tcp";
    if (auto slash = w.find('/'); slash != std::string::npos) {
      port = w.substr(0, slash);
      proto = w.substr(slash + 1);
      for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return InvalidArgument(StrCat("EXPOSE ", Quote(w), ": unknown protocol"));
    auto dash = port.find('-');
    std::string lo_s = port.substr(0, dash), hi_s = dash == std::string::npos ? lo_s : port.substr(dash + 1);
    auto num = [](const std::string& s) -> long {
      if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
      return std::atol(s.c_str());
    };
    long lo = num(lo_s), hi = num(hi_s);
    if (lo < 1 || hi > 65535 || hi < lo) return InvalidArgument(StrCat("EXPOSE ", Quote(w), ": invalid port"));
    for (long p = lo; p <= hi; ++p) {
      std::string e = StrCat(p, "/", proto);
      if (std::find(ports.begin(), ports.end(), e) == ports.end()) ports.push_back(e);
    }
  }
  std::sort(ports.begin(), ports.end());
  return Ok();
}

void AddHistory(State& next, std::string created_by, bool empty_layer) {
  oci::HistoryEntry h;
  h.created = image::internal::NowRfc3339();
  h.created_by = std::move(created_by);
  h.comment = "berth build";
  h.empty_layer = empty_layer;
  // The image's creation time is that of its last step, as docker's (a fully cached build
  // keeps the first build's times, and so its id).
  next.config.created = h.created;
  next.config.history.push_back(std::move(h));
}

}  // namespace

std::optional<std::string> StepVars(const StageContext& sc, const State& s, std::string_view name) {
  internal::Vars v{&s.config, &sc.args};
  return v.Get(name);
}

Result<std::string> ExpandIn(const StageContext& sc, const State& s, std::string_view word) {
  return ExpandWord(
      word, [&](std::string_view n) { return StepVars(sc, s, n); }, sc.env->dockerfile->escape);
}

Result<std::vector<std::string>> ExpandListIn(const StageContext& sc, const State& s,
                                              const Instruction& ins) {
  if (ins.json_form) {
    std::vector<std::string> out;
    for (const auto& a : ins.json_args) {
      BERTH_ASSIGN_OR_RETURN(std::string e, ExpandIn(sc, s, a));
      out.push_back(std::move(e));
    }
    return out;
  }
  return ExpandWords(
      ins.text, [&](std::string_view n) { return StepVars(sc, s, n); }, sc.env->dockerfile->escape);
}

Result<State> ApplyInstruction(StageContext& sc, const State& state, const Instruction& ins) {
  const std::string& kw = ins.keyword;
  if (kw == "RUN") return ApplyRun(sc, state, ins);
  if (kw == "COPY" || kw == "ADD") return ApplyCopy(sc, state, ins);
  if (kw == "WORKDIR") return ApplyWorkdir(sc, state, ins);

  for (const auto& f : ins.flags)
    if (kw != "HEALTHCHECK") return InvalidArgument(StrCat("unknown option --", f.name));
  State next = state;
  std::string desc = kw;
  auto& cfg = next.config.config;
  if (kw == "ENV" || kw == "LABEL") {
    BERTH_ASSIGN_OR_RETURN(auto kvs, ParseKeyValues(ins, sc.env->dockerfile->escape));
    // Every expansion of one instruction sees the state before it.
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& kv : kvs) {
      BERTH_ASSIGN_OR_RETURN(std::string k, ExpandIn(sc, state, kv.key));
      BERTH_ASSIGN_OR_RETURN(std::string v, ExpandIn(sc, state, kv.value));
      if (k.empty()) return InvalidArgument(StrCat(kw, ": empty name"));
      pairs.emplace_back(std::move(k), std::move(v));
    }
    for (const auto& [k, v] : pairs) {
      if (kw == "ENV") SetEnv(cfg.env, k, v);
      else cfg.labels[k] = v;
      desc += StrCat(" ", k, "=", v);
    }
  } else if (kw == "ARG") {
    BERTH_ASSIGN_OR_RETURN(auto kvs, ParseKeyValues(ins, sc.env->dockerfile->escape));
    for (const auto& kv : kvs) {
      std::optional<std::string> value;
      const auto& given = sc.env->options->build_args;
      if (auto it = given.find(kv.key); it != given.end()) {
        value = it->second;
      } else if (kv.has_value) {
        BERTH_ASSIGN_OR_RETURN(value, ExpandIn(sc, next, kv.value));
      } else if (auto g = sc.globals->find(kv.key); g != sc.globals->end()) {
        value = g->second;
      }
      if (value) sc.args[kv.key] = *value;
      else sc.args.erase(kv.key);
      desc += StrCat(" ", kv.key, value ? "=" + *value : "");
    }
  } else if (kw == "CMD" || kw == "ENTRYPOINT") {
    BERTH_ASSIGN_OR_RETURN(auto args, CommandArgs(state, ins));
    if (kw == "CMD") {
      cfg.cmd = args;
      sc.cmd_set = true;
    } else {
      cfg.entrypoint = args;
      // A new entrypoint drops the base image's CMD unless this stage set one.
      if (!sc.cmd_set) cfg.cmd.reset();
    }
    cfg.args_escaped = false;
    desc += " " + Json(args).dump();
  } else if (kw == "USER" || kw == "STOPSIGNAL" || kw == "MAINTAINER") {
    BERTH_ASSIGN_OR_RETURN(std::string v, ExpandIn(sc, state, Trim(ins.text)));
    if (v.empty()) return InvalidArgument(StrCat(kw, " needs an argument"));
    if (kw == "USER") cfg.user = v;
    else if (kw == "STOPSIGNAL") cfg.stop_signal = v;
    else next.config.author = v;
    desc += " " + v;
  } else if (kw == "EXPOSE") {
    BERTH_ASSIGN_OR_RETURN(auto words, ExpandListIn(sc, state, ins));
    BERTH_TRY(AddExposed(next, words));
    desc += " " + Join(words, " ");
  } else if (kw == "VOLUME") {
    BERTH_ASSIGN_OR_RETURN(auto words, ExpandListIn(sc, state, ins));
    if (words.empty()) return InvalidArgument("VOLUME needs a path");
    for (const auto& w : words) {
      if (w.empty()) return InvalidArgument("VOLUME: empty path");
      if (std::find(cfg.volumes.begin(), cfg.volumes.end(), w) == cfg.volumes.end())
        cfg.volumes.push_back(w);
    }
    std::sort(cfg.volumes.begin(), cfg.volumes.end());
    desc += " " + Join(words, " ");
  } else if (kw == "SHELL") {
    if (!ins.json_form || ins.json_args.empty())
      return InvalidArgument("SHELL needs the JSON form: SHELL [\"executable\", \"parameters\"]");
    cfg.shell = ins.json_args;
    desc += " " + Json(ins.json_args).dump();
  } else if (kw == "HEALTHCHECK") {
    BERTH_TRY(ApplyHealthcheck(next, ins));
    desc += " " + oci::ToJson(next.config.config).dump();
  } else if (kw == "ONBUILD") {
    std::string trigger(Trim(std::string_view(ins.original).substr(std::min<size_t>(7, ins.original.size()))));
    cfg.on_build.push_back(trigger);
    desc += " " + trigger;
  } else if (kw == "FROM") {
    return InvalidArgument("FROM inside a stage");  // the parser splits stages at FROM
  } else {
    return InvalidArgument(StrCat("unknown instruction ", kw));
  }
  AddHistory(next, ins.original, true);
  next.key = internal::NextKey(state.key, desc);
  return next;
}

Result<State> RecordStep(StageContext& sc, const State& state, std::string created_by,
                         const std::string& desc, State next,
                         const std::function<Status(const std::string&, int)>& fn,
                         bool skip_empty) {
  internal::BuildEnv& env = *sc.env;
  next.key = internal::NextKey(state.key, desc);
  if (!env.options->no_cache) {
    BERTH_ASSIGN_OR_RETURN(auto cached, internal::LoadCached(*env.store, next.key));
    if (cached) {
      ++env.cached;
      std::fprintf(env.options->out, "--> Using cache %s\n", next.key.substr(7, 12).c_str());
      std::fflush(env.options->out);
      return std::move(*cached);
    }
  }
  AddHistory(next, std::move(created_by), false);
  return internal::FilesystemStep(env, state, std::move(next), fn, skip_empty);
}

}  // namespace berth::build
