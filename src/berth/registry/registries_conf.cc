// berth/registry: containers-registries.conf(5), read with cpptoml.
#include "berth/registry/registries_conf.h"

#include <cpptoml.h>

#include <cstdlib>
#include <sstream>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::registry {

namespace {

constexpr std::string_view kDefaultPath = "/etc/containers/registries.conf";

Result<std::string> StringField(const cpptoml::table& t, const std::string& key,
                                const std::string& where) {
  if (!t.contains(key)) return std::string();
  auto v = t.get_as<std::string>(key);
  if (!v) return InvalidArgument(StrCat(where, ".", key, ": expected a string"));
  return *v;
}

Result<bool> BoolField(const cpptoml::table& t, const std::string& key, const std::string& where) {
  if (!t.contains(key)) return false;
  auto v = t.get_as<bool>(key);
  if (!v) return InvalidArgument(StrCat(where, ".", key, ": expected true or false"));
  return *v;
}

Result<std::vector<std::string>> StringList(const cpptoml::table& t, const std::string& key,
                                            const std::string& where) {
  if (!t.contains_qualified(key)) return std::vector<std::string>();
  auto v = t.get_qualified_array_of<std::string>(key);
  if (!v) return InvalidArgument(StrCat(where, key, ": expected a list of strings"));
  return *v;
}

// "name" is under "prefix" when equal or continuing with a path component.
bool UnderPrefix(std::string_view name, std::string_view prefix) {
  if (prefix.empty() || !name.starts_with(prefix)) return false;
  return name.size() == prefix.size() || name[prefix.size()] == '/';
}

const RegistryEntry* Match(const RegistriesConf& conf, std::string_view name) {
  const RegistryEntry* best = nullptr;
  for (const auto& e : conf.registries)
    if (UnderPrefix(name, e.prefix) && (best == nullptr || e.prefix.size() > best->prefix.size()))
      best = &e;
  return best;
}

// `ref` with its domain/path prefix `prefix` replaced by `location`.
Result<oci::Reference> Rewrite(const oci::Reference& ref, std::string_view prefix,
                               std::string_view location) {
  std::string name = ref.Name();
  std::string text = StrCat(location, name.substr(prefix.size()));
  if (!ref.tag.empty()) text += ":" + ref.tag;
  if (!ref.digest.empty()) text += "@" + ref.digest;
  return oci::ParseReference(text);
}

}  // namespace

Result<RegistriesConf> RegistriesConf::Parse(std::string_view text, std::string_view what) {
  std::istringstream in{std::string(text)};
  std::shared_ptr<cpptoml::table> t;
  try {
    cpptoml::parser p(in);
    t = p.parse();
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat(what, ": ", e.what()));
  }
  RegistriesConf conf;
  std::string w(what);
  BERTH_ASSIGN_OR_RETURN(conf.search, StringList(*t, "unqualified-search-registries", w + ": "));
  // The version 1 format: [registries.search] registries = [...], and .insecure/.block.
  BERTH_ASSIGN_OR_RETURN(auto v1_search, StringList(*t, "registries.search.registries", w + ": "));
  for (auto& s : v1_search) conf.search.push_back(std::move(s));
  BERTH_ASSIGN_OR_RETURN(auto v1_insecure, StringList(*t, "registries.insecure.registries", w + ": "));
  BERTH_ASSIGN_OR_RETURN(auto v1_block, StringList(*t, "registries.block.registries", w + ": "));
  for (const auto& r : v1_insecure) conf.registries.push_back(RegistryEntry{r, r, true, false, {}});
  for (const auto& r : v1_block) conf.registries.push_back(RegistryEntry{r, r, false, true, {}});

  if (t->contains("registry")) {
    auto regs = t->get_table_array("registry");
    if (!regs) return InvalidArgument(StrCat(what, ": registry: expected [[registry]] tables"));
    int i = 0;
    for (const auto& r : *regs) {
      std::string where = StrCat(what, ": registry[", i++, "]");
      RegistryEntry e;
      BERTH_ASSIGN_OR_RETURN(e.prefix, StringField(*r, "prefix", where));
      BERTH_ASSIGN_OR_RETURN(e.location, StringField(*r, "location", where));
      BERTH_ASSIGN_OR_RETURN(e.insecure, BoolField(*r, "insecure", where));
      BERTH_ASSIGN_OR_RETURN(e.blocked, BoolField(*r, "blocked", where));
      if (e.prefix.empty()) e.prefix = e.location;
      if (e.location.empty()) e.location = e.prefix;
      if (e.prefix.empty())
        return InvalidArgument(StrCat(where, ": needs a location or a prefix"));
      if (r->contains("mirror")) {
        auto mirrors = r->get_table_array("mirror");
        if (!mirrors) return InvalidArgument(StrCat(where, ".mirror: expected [[registry.mirror]] tables"));
        int j = 0;
        for (const auto& m : *mirrors) {
          std::string mw = StrCat(where, ".mirror[", j++, "]");
          RegistryMirror mirror;
          BERTH_ASSIGN_OR_RETURN(mirror.location, StringField(*m, "location", mw));
          BERTH_ASSIGN_OR_RETURN(mirror.insecure, BoolField(*m, "insecure", mw));
          if (mirror.location.empty()) return InvalidArgument(StrCat(mw, ": needs a location"));
          e.mirrors.push_back(std::move(mirror));
        }
      }
      conf.registries.push_back(std::move(e));
    }
  }
  return conf;
}

Result<RegistriesConf> RegistriesConf::LoadFile(const std::string& path) {
  if (!PathExists(path)) return RegistriesConf{};
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BERTH_ASSIGN_OR_RETURN(RegistriesConf conf, Parse(text, path));
  conf.path = path;
  return conf;
}

Result<RegistriesConf> RegistriesConf::Load() {
  const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
  return LoadFile(env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultPath));
}

bool IsFullyQualified(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view first = text.substr(0, slash);
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == "localhost";
}

Result<std::vector<PullSource>> PullSources(const RegistriesConf& conf, std::string_view text) {
  std::vector<oci::Reference> names;
  if (IsFullyQualified(text)) {
    BERTH_ASSIGN_OR_RETURN(oci::Reference r, oci::ParseReference(text));
    names.push_back(std::move(r));
  } else {
    std::vector<std::string> search = conf.search;
    if (search.empty()) search.emplace_back("docker.io");
    for (const auto& reg : search) {
      BERTH_ASSIGN_OR_RETURN(oci::Reference r, oci::ParseReference(StrCat(reg, "/", text)));
      names.push_back(std::move(r));
    }
  }
  std::vector<PullSource> out;
  std::vector<std::string> blocked;
  for (const auto& name : names) {
    const RegistryEntry* e = Match(conf, name.Name());
    if (e == nullptr) {
      out.push_back(PullSource{name, name, false, false});
      continue;
    }
    if (e->blocked) {
      blocked.push_back(StrCat(name.Name(), " (", conf.path, ": prefix ", Quote(e->prefix), ")"));
      continue;
    }
    for (const auto& m : e->mirrors) {
      BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference r, Rewrite(name, e->prefix, m.location),
                                 StrCat(conf.path, ": mirror ", Quote(m.location)));
      out.push_back(PullSource{r, name, m.insecure, true});
    }
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference r, Rewrite(name, e->prefix, e->location),
                               StrCat(conf.path, ": location ", Quote(e->location)));
    out.push_back(PullSource{r, name, e->insecure, false});
  }
  if (out.empty())
    return Fail(ErrorCode::kPermissionDenied,
                StrCat("pull ", Quote(text), ": blocked: ", Join(blocked, ", ")));
  return out;
}

Result<PullSource> PushTarget(const RegistriesConf& conf, const oci::Reference& ref) {
  const RegistryEntry* e = Match(conf, ref.Name());
  if (e == nullptr) return PullSource{ref, ref, false, false};
  if (e->blocked)
    return Fail(ErrorCode::kPermissionDenied,
                StrCat("push ", ref.Familiar(), ": registry blocked by ", conf.path));
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference r, Rewrite(ref, e->prefix, e->location),
                             StrCat(conf.path, ": location ", Quote(e->location)));
  return PullSource{r, ref, e->insecure, false};
}

}  // namespace berth::registry
