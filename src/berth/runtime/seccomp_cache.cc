#include "berth/runtime/seccomp_cache.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <cstring>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"

namespace berth::runtime {

namespace {

// v2: filters compiled as a binary tree (v1 files hold linear ones).
constexpr std::string_view kMagic = "berth-seccomp-v2\n";

// FNV-1a: only names the file; the stored key is compared in full.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Everything the compiled program depends on.
std::string CacheKey(const oci::Seccomp& s) {
  oci::Spec spec;
  spec.linux_config.emplace();
  spec.linux_config->seccomp = s;
  struct utsname u = {};
  ::uname(&u);
  const struct scmp_version* v = seccomp_version();
  return StrCat(oci::ToJson(spec)["linux"]["seccomp"].dump(), "\nkernel ", u.release, " ",
                u.machine, "\nlibseccomp ", v ? v->major : 0, ".", v ? v->minor : 0, ".",
                v ? v->micro : 0, "\n");
}

// Entry layout: magic, key length (decimal) '\n', key, flags '\n', listener '\n', filter.
std::string Encode(const std::string& key, const SeccompProgram& p) {
  std::string out(kMagic);
  out += StrCat(key.size(), "\n", key, p.flags, "\n", p.new_listener ? 1 : 0, "\n");
  out.append(reinterpret_cast<const char*>(p.filter.data()),
             p.filter.size() * sizeof(struct sock_filter));
  return out;
}

bool Decode(std::string_view data, const std::string& key, SeccompProgram* p) {
  if (data.substr(0, kMagic.size()) != kMagic) return false;
  data.remove_prefix(kMagic.size());
  auto line = [&](std::string_view* out) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) return false;
    *out = data.substr(0, nl);
    data.remove_prefix(nl + 1);
    return true;
  };
  std::string_view len_text, flags_text, listener_text;
  if (!line(&len_text)) return false;
  auto len = ParseUint64(len_text, "length");
  if (!len || *len != key.size() || data.substr(0, key.size()) != key) return false;
  data.remove_prefix(key.size());
  if (!line(&flags_text) || !line(&listener_text)) return false;
  auto flags = ParseUint64(flags_text, "flags");
  if (!flags || data.size() % sizeof(struct sock_filter) != 0 || data.empty()) return false;
  p->flags = static_cast<unsigned int>(*flags);
  p->new_listener = listener_text == "1";
  p->filter.resize(data.size() / sizeof(struct sock_filter));
  std::memcpy(p->filter.data(), data.data(), data.size());
  return true;
}

}  // namespace

Result<SeccompProgram> CompileSeccompCached(const oci::Seccomp& seccomp,
                                            const std::string& cache_dir) {
  if (cache_dir.empty()) return CompileSeccomp(seccomp);
  std::string key = CacheKey(seccomp);
  char name[32];
  ::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(Fnv1a(key)));
  std::string path = StrCat(cache_dir, "/", name);
  if (auto data = ReadFile(path); data.has_value()) {
    SeccompProgram p;
    if (Decode(*data, key, &p)) return p;
  }
  // A miss (or an unusable entry): compile, which also reports the profile's errors.
  BERTH_ASSIGN_OR_RETURN(SeccompProgram p, CompileSeccomp(seccomp));
  auto st = MkdirAll(cache_dir, 0700);
  if (st.has_value()) {
    st = AtomicWriteFile(path, Encode(key, p), 0600, Durability::kAtomicOnly);
  }
  if (!st) log::Info(StrCat("seccomp cache: ", st.error().message()));
  return p;
}

}  // namespace berth::runtime
