// berth/image: docker's --change instructions (`import`, `commit`): single Dockerfile
// instructions applied to an image's container config.
#include <algorithm>
#include <cctype>

#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/image/archive.h"

namespace berth::image {

namespace {

// Splits on blanks, honouring "..." and '...' quoting and backslash escapes (outside
// single quotes), as the Dockerfile ENV/LABEL forms do.
Result<std::vector<std::string>> Words(std::string_view s, std::string_view what) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur.push_back(s[++i]);
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur.push_back(s[++i]);
    } else {
      cur.push_back(c);
    }
  }
  if (quote) return InvalidArgument(StrCat(what, ": unterminated quote"));
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// A JSON array of strings when `args` is one ("exec form"), else nullopt.
std::optional<std::vector<std::string>> JsonForm(std::string_view args) {
  if (!args.starts_with("[")) return std::nullopt;
  auto j = ParseJson(args, "");
  if (!j.has_value() || !j->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> CommandForm(const oci::ContainerConfig& config, std::string_view args) {
  if (auto j = JsonForm(args)) return *j;
  std::vector<std::string> shell =
      config.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : config.shell;
  shell.emplace_back(args);
  return shell;
}

// KEY=VALUE pairs, or the legacy "KEY VALUE..." form.
Result<std::vector<std::pair<std::string, std::string>>> Pairs(std::string_view args,
                                                               std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  BERTH_ASSIGN_OR_RETURN(auto words, Words(args, what));
  if (words.empty()) return InvalidArgument(StrCat(what, ": needs arguments"));
  if (words[0].find('=') == std::string::npos) {
    // Legacy form: the first word is the key, the rest (verbatim, trimmed) the value.
    std::string_view rest = Trim(args);
    size_t sp = rest.find_first_of(" \t");
    if (sp == std::string_view::npos)
      return InvalidArgument(StrCat(what, ": ", Quote(words[0]), " needs a value"));
    out.emplace_back(words[0], std::string(Trim(rest.substr(sp))));
    return out;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument(StrCat(what, ": ", Quote(w), " is not KEY=VALUE"));
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

Status Expose(oci::ContainerConfig& config, std::string_view args, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(auto words, Words(args, what));
  if (words.empty()) return InvalidArgument(StrCat(what, ": needs a port"));
  for (auto w : words) {
    std::string port = w, proto = "tcp";
    if (size_t slash = w.find('/'); slash != std::string::npos) {
      port = w.substr(0, slash);
      proto = w.substr(slash + 1);
      std::transform(proto.begin(), proto.end(), proto.begin(),
                     [](unsigned char c) { return std::tolower(c); });
    }
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return InvalidArgument(StrCat(what, ": ", Quote(w), ": unknown protocol"));
    auto range = Split(port, '-');
    if (range.size() > 2) return InvalidArgument(StrCat(what, ": ", Quote(w), ": bad port"));
    for (const auto& p : range) {
      auto n = ParseUint64(p, StrCat(what, ": ", Quote(w)));
      if (!n.has_value()) return Unexpected(std::move(n).error());
      if (*n == 0 || *n > 65535)
        return InvalidArgument(StrCat(what, ": ", Quote(w), ": port out of range"));
    }
    std::string spec = StrCat(port, "/", proto);
    if (std::find(config.exposed_ports.begin(), config.exposed_ports.end(), spec) ==
        config.exposed_ports.end())
      config.exposed_ports.push_back(spec);
  }
  return Ok();
}

Status ApplyOne(oci::ContainerConfig& config, std::string_view change) {
  std::string_view text = Trim(change);
  std::string what = StrCat("change ", Quote(text));
  size_t sp = text.find_first_of(" \t");
  std::string instr(text.substr(0, sp));
  std::transform(instr.begin(), instr.end(), instr.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  std::string_view args = sp == std::string_view::npos ? "" : Trim(text.substr(sp));
  if (instr.empty()) return InvalidArgument("change: empty instruction");
  auto need_args = [&]() -> Status {
    if (args.empty()) return InvalidArgument(StrCat(what, ": ", instr, " needs an argument"));
    return Ok();
  };
  if (instr == "CMD") {
    BERTH_TRY(need_args());
    config.cmd = CommandForm(config, args);
  } else if (instr == "ENTRYPOINT") {
    BERTH_TRY(need_args());
    config.entrypoint = CommandForm(config, args);
  } else if (instr == "ENV") {
    BERTH_ASSIGN_OR_RETURN(auto pairs, Pairs(args, what));
    for (const auto& [k, v] : pairs) {
      const std::string& key = k;  // clang 14 cannot capture structured bindings
      auto it = std::find_if(config.env.begin(), config.env.end(), [&](const std::string& e) {
        return e.starts_with(key + "=") || e == key;
      });
      std::string kv = StrCat(k, "=", v);
      if (it == config.env.end()) {
        config.env.push_back(kv);
      } else {
        *it = kv;
      }
    }
  } else if (instr == "LABEL") {
    BERTH_ASSIGN_OR_RETURN(auto pairs, Pairs(args, what));
    for (const auto& [k, v] : pairs) config.labels[k] = v;
  } else if (instr == "EXPOSE") {
    BERTH_TRY(Expose(config, args, what));
  } else if (instr == "USER") {
    BERTH_TRY(need_args());
    config.user = std::string(args);
  } else if (instr == "WORKDIR") {
    BERTH_TRY(need_args());
    std::string dir(args);
    // A relative WORKDIR is relative to the previous one.
    if (!dir.starts_with("/"))
      dir = StrCat(config.working_dir.empty() ? "/" : config.working_dir,
                   config.working_dir.ends_with("/") ? "" : "/", dir);
    config.working_dir = dir;
  } else if (instr == "VOLUME") {
    BERTH_TRY(need_args());
    std::vector<std::string> vols;
    if (auto j = JsonForm(args)) {
      vols = *j;
    } else {
      BERTH_ASSIGN_OR_RETURN(vols, Words(args, what));
    }
    for (const auto& v : vols) {
      if (v.empty()) return InvalidArgument(StrCat(what, ": empty volume path"));
      if (std::find(config.volumes.begin(), config.volumes.end(), v) == config.volumes.end())
        config.volumes.push_back(v);
    }
  } else if (instr == "STOPSIGNAL") {
    BERTH_TRY(need_args());
    config.stop_signal = std::string(args);
  } else if (instr == "ONBUILD") {
    BERTH_TRY(need_args());
    std::string inner(args.substr(0, args.find_first_of(" \t")));
    std::transform(inner.begin(), inner.end(), inner.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (inner == "ONBUILD" || inner == "FROM" || inner == "MAINTAINER")
      return InvalidArgument(StrCat(what, ": ONBUILD ", inner, " is not allowed"));
    config.on_build.emplace_back(args);
  } else if (instr == "SHELL") {
    auto j = JsonForm(args);
    if (!j || j->empty()) return InvalidArgument(StrCat(what, ": SHELL needs a JSON array"));
    config.shell = *j;
  } else {
    return InvalidArgument(StrCat(what, ": unknown instruction ", Quote(instr)));
  }
  return Ok();
}

}  // namespace

Status ApplyChanges(oci::ContainerConfig& config, const std::vector<std::string>& changes) {
  for (const auto& c : changes) BERTH_TRY(ApplyOne(config, c));
  return Ok();
}

}  // namespace berth::image
