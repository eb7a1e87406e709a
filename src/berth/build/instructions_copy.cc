// berth/build: COPY and ADD. Sources resolve inside their root (the context, a stage, an
// image): `..` cannot climb out, symlinks resolve as if the root were `/`, and a glob only
// lists directories inside the root.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <memory>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/build/copy.h"
#include "berth/build/instructions_internal.h"
#include "berth/build/shell_words.h"
#include "berth/image/layer_unpack.h"
#include "berth/registry/http_client.h"
#include "berth/sys/safe_path.h"

namespace berth::build {

using internal::State;

namespace {

bool HasGlob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// A context-relative path: "" is the root. `..` climbing out is refused, as docker does.
Result<std::string> CleanRelative(std::string_view src, bool from_context) {
  std::vector<std::string> parts;
  for (const auto& p : Split(src, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) {
        if (from_context)
          return Fail(ErrorCode::kPermissionDenied,
                      StrCat(Quote(src), ": forbidden path outside the build context"));
        continue;
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  return Join(parts, "/");
}

std::pair<std::string, std::string> SplitLast(const std::string& rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

struct Source {
  enum class Kind { kPath, kHeredoc, kUrl } kind = Kind::kPath;
  UniqueFd parent;       // kPath: the directory holding it
  std::string name;      // kPath: entry in parent; kHeredoc: file name
  std::string rel;       // kPath: root-relative path (for ignore rules and messages)
  std::string named;     // kPath: the basename as written (a followed link keeps its name)
  bool is_dir = false;
  std::string content;   // kHeredoc
  UniqueFd file;         // kUrl: the downloaded file (unlinked)
  timespec mtime = {};   // kUrl: Last-Modified, or 0
};

struct Root {
  int fd = -1;
  std::string host_path;  // readlink of the fd: to map resolved symlinks back to a rel path
  const IgnoreMatcher* ignore = nullptr;
  bool context = false;
};

// The exact source `rel` (symlinks followed inside the root).
Result<Source> ResolveExact(const Root& root, std::string rel, std::string_view shown) {
  std::string named = SplitLast(rel).second;
  for (int hops = 0; hops < 40; ++hops) {
    Source s;
    if (rel.empty()) {
      BERTH_ASSIGN_OR_RETURN(s.parent, OpenFileAt(root.fd, ".", O_RDONLY | O_DIRECTORY));
      s.name = ".";
      s.rel = ".";
      s.is_dir = true;
      return s;
    }
    auto [dir, name] = SplitLast(rel);
    auto parent = sys::OpenInRoot(root.fd, dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
    if (!parent.has_value()) {
      return Fail(ErrorCode::kNotFound,
                  StrCat(Quote(shown), ": not found", root.context ? " in the build context" : ""));
    }
    struct stat st;
    if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Fail(ErrorCode::kNotFound,
                  StrCat(Quote(shown), ": not found", root.context ? " in the build context" : ""));
    if (S_ISLNK(st.st_mode)) {
      // A named source that is a link copies what it points to (inside the root).
      BERTH_ASSIGN_OR_RETURN_CTX(std::string target, HostPathInRoot(root.fd, rel),
                             StrCat(Quote(shown), ": follow link"));
      if (target == root.host_path) {
        rel = "";
        continue;
      }
      if (!target.starts_with(root.host_path + "/"))
        return Fail(ErrorCode::kPermissionDenied, StrCat(Quote(shown), ": link leaves the root"));
      rel = target.substr(root.host_path.size() + 1);
      continue;
    }
    if (root.ignore != nullptr && !S_ISDIR(st.st_mode) && root.ignore->Excluded(rel))
      return Fail(ErrorCode::kNotFound, StrCat(Quote(shown), ": excluded by .dockerignore"));
    s.parent = std::move(*parent);
    s.name = name;
    s.rel = rel;
    s.named = named.empty() ? name : named;
    s.is_dir = S_ISDIR(st.st_mode);
    return s;
  }
  return InvalidArgument(StrCat(Quote(shown), ": too many levels of symbolic links"));
}

// Paths matching a glob, component by component, in sorted order.
Status ExpandGlob(const Root& root, const std::vector<std::string>& comps, size_t i,
                  const std::string& prefix, std::vector<std::string>& out) {
  if (i == comps.size()) {
    if (root.ignore == nullptr || !root.ignore->Excluded(prefix)) out.push_back(prefix);
    return Ok();
  }
  auto dir = sys::OpenInRoot(root.fd, prefix.empty() ? "." : prefix, O_RDONLY | O_DIRECTORY);
  if (!dir.has_value()) return Ok();
  const std::string& comp = comps[i];
  std::vector<std::string> names;
  if (!HasGlob(comp)) {
    struct stat st;
    if (::fstatat(dir->get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) names.push_back(comp);
  } else {
    int dup = ::openat(dir->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
    if (d == nullptr) {
      if (dup >= 0) ::close(dup);
      return ErrnoFail(StrCat("list ", Quote(prefix.empty() ? "." : prefix)));
    }
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      BERTH_ASSIGN_OR_RETURN(bool m, IgnoreMatcher::Match(comp, n));
      if (m) names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
  }
  for (const auto& n : names)
    BERTH_TRY(ExpandGlob(root, comps, i + 1, prefix.empty() ? n : StrCat(prefix, "/", n), out));
  return Ok();
}

Result<mode_t> ParseChmod(const std::string& v) {
  char* end = nullptr;
  long m = std::strtol(v.c_str(), &end, 8);
  if (v.empty() || *end != 0 || m < 0 || m > 07777)
    return InvalidArgument(StrCat("--chmod=", v, ": expected an octal mode"));
  return static_cast<mode_t>(m);
}

// Local archives ADD unpacks: tar, gzip'd or zstd'd tar (by content, as docker decides).
Result<bool> IsArchive(int fd) {
  unsigned char head[512] = {};
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  if (n < 0) return ErrnoFail("read");
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return true;
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return true;
  return n >= 262 && std::string_view(reinterpret_cast<char*>(head) + 257, 5) == "ustar";
}

// ADD URL: the body goes to an unlinked temporary file in the build's directory; the name
// is the URL path's last component (docker's rule), the mtime its Last-Modified.
Result<Source> Download(const std::string& work_dir, const std::string& url) {
  BERTH_ASSIGN_OR_RETURN(registry::Url u, registry::Url::Parse(url));
  Source s;
  s.kind = Source::Kind::kUrl;
  std::string path = u.target.substr(0, u.target.find_first_of("?#"));
  s.name = path.substr(path.rfind('/') + 1);
  if (s.name.empty()) return InvalidArgument(StrCat(Quote(url), ": cannot take a file name from the URL"));
  s.rel = url;
  s.file = UniqueFd(::open(work_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!s.file) return ErrnoFail(StrCat("temporary file in ", Quote(work_dir)));
  registry::HttpClient client;
  registry::HttpRequest req;
  req.url = url;
  std::string last_modified;
  req.on_headers = [&](const registry::HttpResponse& r) -> Status {
    last_modified = r.Header("last-modified");
    return Ok();
  };
  BERTH_ASSIGN_OR_RETURN(registry::HttpResponse resp,
                         client.Stream(req, [&](const char* d, size_t n) {
                           return WriteAll(s.file.get(), std::string_view(d, n), url);
                         }));
  if (resp.status / 100 != 2)
    return Fail(ErrorCode::kUnavailable, StrCat(Quote(url), ": HTTP status ", resp.status));
  struct tm tm = {};
  if (!last_modified.empty() && ::strptime(last_modified.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm))
    s.mtime.tv_sec = ::timegm(&tm);
  return s;
}

Status WriteDownload(int dst_dir, const std::string& name, const Source& src, const CopyOptions& co) {
  if (::unlinkat(dst_dir, name.c_str(), 0) != 0 && errno != ENOENT)
    return ErrnoFail(StrCat("replace ", Quote(name)));
  UniqueFd fd(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return ErrnoFail(StrCat("create ", Quote(name)));
  if (::lseek(src.file.get(), 0, SEEK_SET) != 0) return ErrnoFail(StrCat("rewind download of ", Quote(src.rel)));
  BERTH_TRY(CopyFdData(src.file.get(), fd.get(), name));
  if (::fchown(fd.get(), co.uid.value_or(0), co.gid.value_or(0)) != 0)
    return ErrnoFail(StrCat("chown ", Quote(name)));
  if (::fchmod(fd.get(), co.mode.value_or(0600)) != 0) return ErrnoFail(StrCat("chmod ", Quote(name)));
  if (src.mtime.tv_sec != 0) {
    struct timespec ts[2] = {src.mtime, src.mtime};
    (void)::futimens(fd.get(), ts);
  }
  return Ok();
}

Status WriteHeredoc(int dst_dir, const std::string& name, const std::string& content,
                    const CopyOptions& co) {
  if (::unlinkat(dst_dir, name.c_str(), 0) != 0 && errno != ENOENT && errno != EISDIR)
    return ErrnoFail(StrCat("replace ", Quote(name)));
  // 0664 unless --chmod: the mode BuildKit gives heredoc files.
  UniqueFd fd(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0664));
  if (!fd) return ErrnoFail(StrCat("create ", Quote(name)));
  BERTH_TRY(WriteAll(fd.get(), content, name));
  if (::fchown(fd.get(), co.uid.value_or(0), co.gid.value_or(0)) != 0)
    return ErrnoFail(StrCat("chown ", Quote(name)));
  if (::fchmod(fd.get(), co.mode.value_or(0664)) != 0) return ErrnoFail(StrCat("chmod ", Quote(name)));
  return Ok();
}

}  // namespace

Result<State> ApplyCopy(StageContext& sc, const State& state, const Instruction& ins) {
  internal::BuildEnv& env = *sc.env;
  const bool add = ins.keyword == "ADD";
  std::string from, chown, chmod;
  for (const auto& f : ins.flags) {
    if (f.name == "from" && !add) from = f.value;
    else if (f.name == "chown") { BERTH_ASSIGN_OR_RETURN(chown, ExpandIn(sc, state, f.value)); }
    else if (f.name == "chmod") { BERTH_ASSIGN_OR_RETURN(chmod, ExpandIn(sc, state, f.value)); }
    else if (f.name == "link") continue;  // layers here never depend on the parent's content
    else return InvalidArgument(StrCat("unknown option --", f.name));
  }
  BERTH_ASSIGN_OR_RETURN(auto words, ExpandListIn(sc, state, ins));
  if (words.size() < 2) return InvalidArgument(StrCat(ins.keyword, " needs a source and a destination"));
  std::string dest_word = words.back();
  words.pop_back();
  std::string workdir = state.config.config.working_dir.empty() ? "/" : state.config.config.working_dir;
  bool dest_dir = dest_word.ends_with('/') || dest_word == "." || dest_word.ends_with("/.");
  std::string dest = CleanAbsolute(dest_word.starts_with('/') ? dest_word : StrCat(workdir, "/", dest_word));

  CopyOptions co;
  if (!chmod.empty()) {
    BERTH_ASSIGN_OR_RETURN(co.mode, ParseChmod(chmod));
  }

  // The root the sources come from.
  Root root;
  std::unique_ptr<internal::ReadOnlyRoot> from_root;
  std::string from_key;
  if (!from.empty()) {
    BERTH_ASSIGN_OR_RETURN(FromSource fs, ResolveFrom(sc, from));
    BERTH_ASSIGN_OR_RETURN(from_root, internal::ReadOnlyRoot::Open(env, fs.stage ? *fs.stage : fs.image_state));
    root.fd = from_root->fd();
    from_key = fs.key;
    co.keep_owner = true;
  } else {
    root.fd = env.context_fd.get();
    root.ignore = &env.ignore;
    root.context = true;
    co.ignore = &env.ignore;
  }
  BERTH_ASSIGN_OR_RETURN(root.host_path, HostPathInRoot(root.fd, "."));

  std::vector<Source> sources;
  size_t heredoc = 0;
  for (const auto& w : words) {
    if (w.starts_with("<<") && heredoc < ins.heredocs.size()) {
      Source s;
      s.kind = Source::Kind::kHeredoc;
      const Heredoc& h = ins.heredocs[heredoc++];
      s.name = h.name;
      if (h.expand) {
        VarLookup vars = [&](std::string_view n) { return StepVars(sc, state, n); };
        BERTH_ASSIGN_OR_RETURN(s.content, ExpandHeredoc(h.content, vars, env.dockerfile->escape));
      } else {
        s.content = h.content;
      }
      sources.push_back(std::move(s));
      continue;
    }
    if (add && (w.starts_with("http://") || w.starts_with("https://"))) {
      BERTH_ASSIGN_OR_RETURN(Source s, Download(env.work_dir, w));
      sources.push_back(std::move(s));
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(std::string rel, CleanRelative(w, root.context));
    if (HasGlob(rel)) {
      std::vector<std::string> matches;
      BERTH_TRY(ExpandGlob(root, SplitNonEmpty(rel, '/'), 0, "", matches));
      if (matches.empty())
        return Fail(ErrorCode::kNotFound, StrCat(Quote(w), ": no source files were specified"));
      for (const auto& m : matches) {
        BERTH_ASSIGN_OR_RETURN(Source s, ResolveExact(root, m, m));
        sources.push_back(std::move(s));
      }
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(Source s, ResolveExact(root, rel, w));
    sources.push_back(std::move(s));
  }
  if (sources.size() > 1 && !dest_dir)
    return InvalidArgument(StrCat("with more than one source file, the destination must be a directory and end with a /: ",
                                  Quote(dest_word)));

  // The key: the destination, the options and what the sources hold.
  image::Sha256 h;
  h.Update(StrCat(ins.keyword, " ", dest, dest_dir ? "/" : "", " chown=", chown, " chmod=", chmod, " from=", from_key, "\n"));
  for (const auto& s : sources) {
    if (s.kind == Source::Kind::kHeredoc) {
      h.Update(StrCat("heredoc ", s.name, " ", s.content.size(), "\n"));
      h.Update(s.content);
    } else if (s.kind == Source::Kind::kUrl) {
      // Downloaded on every build, as docker does; the content decides the cache.
      h.Update(StrCat("url ", s.name, " ", s.mtime.tv_sec, "\n"));
      char buf[1 << 16];
      for (off_t off = 0;;) {
        ssize_t n = ::pread(s.file.get(), buf, sizeof buf, off);
        if (n < 0) return ErrnoFail(StrCat("read download of ", Quote(s.rel)));
        if (n == 0) break;
        h.Update(buf, static_cast<size_t>(n));
        off += n;
      }
    } else if (!from_key.empty()) {
      h.Update(StrCat("path ", s.rel, "\n"));  // the stage's key covers its content
    } else {
      BERTH_TRY(HashEntry(s.parent.get(), s.name, s.rel, co, h));
    }
  }
  std::string created_by = ins.original;

  return RecordStep(
      sc, state, created_by, h.Finish(), state,
      [&](const std::string& rootfs, int root_fd) -> Status {
        if (!chown.empty()) {
          BERTH_ASSIGN_OR_RETURN_CTX(oci::User u, env.host->ResolveUser(rootfs, chown), StrCat("--chown=", chown));
          co.uid = u.uid;
          co.gid = u.gid;
        }
        // Into a directory: DEST/ given, several sources, or DEST already a directory.
        bool into_dir = dest_dir;
        if (!into_dir) {
          auto existing = sys::OpenInRoot(root_fd, dest, O_RDONLY | O_DIRECTORY);
          into_dir = existing.has_value();
        }
        // The destination directory, made as needed; with --chown every directory it makes
        // belongs to that owner, as BuildKit does.
        auto open_dir = [&](const std::string& path) -> Result<UniqueFd> {
          if (co.uid || co.gid) {
            std::string sub;
            for (const auto& part : SplitNonEmpty(path, '/')) {
              sub += "/" + part;
              if (sys::OpenInRoot(root_fd, sub, O_PATH).has_value()) continue;
              BERTH_TRY(sys::MkdirAllInRoot(root_fd, sub));
              BERTH_ASSIGN_OR_RETURN(UniqueFd made, sys::OpenInRoot(root_fd, sub, O_RDONLY | O_DIRECTORY));
              if (::fchown(made.get(), co.uid.value_or(0), co.gid.value_or(0)) != 0)
                return ErrnoFail(StrCat("chown ", Quote(sub)));
            }
          }
          BERTH_TRY(sys::MkdirAllInRoot(root_fd, path));
          return sys::OpenInRoot(root_fd, path, O_RDONLY | O_DIRECTORY);
        };
        for (auto& s : sources) {
          if (s.kind != Source::Kind::kPath) {
            auto write = [&](int dir, const std::string& name) {
              return s.kind == Source::Kind::kHeredoc ? WriteHeredoc(dir, name, s.content, co)
                                                      : WriteDownload(dir, name, s, co);
            };
            if (into_dir) {
              BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir(dest));
              BERTH_TRY(write(d.get(), s.name));
            } else {
              auto [dir, name] = SplitLast(dest.substr(1));
              BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir("/" + dir));
              BERTH_TRY(write(d.get(), name));
            }
            continue;
          }
          if (add && !s.is_dir) {
            UniqueFd f(::openat(s.parent.get(), s.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!f) return ErrnoFail(StrCat("open ", Quote(s.rel)));
            BERTH_ASSIGN_OR_RETURN_CTX(bool archive, IsArchive(f.get()), s.rel);
            if (archive) {
              BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir(dest));
              image::UnpackOptions uo;
              uo.plain_copy = true;
              uo.overlay_whiteouts = false;
              BERTH_TRY_CTX(image::UnpackLayerFile(sys::FdPath(f.get()), sys::FdPath(d.get()), uo),
                            StrCat("ADD ", Quote(s.rel)));
              continue;
            }
          }
          if (s.is_dir) {
            BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir(dest));
            BERTH_TRY(CopyEntry(s.parent.get(), s.name, s.rel, d.get(), ".", co, /*contents_only=*/true));
          } else if (into_dir) {
            BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir(dest));
            BERTH_TRY(CopyEntry(s.parent.get(), s.name, s.rel, d.get(), s.named, co, false));
          } else {
            auto [dir, name] = SplitLast(dest.substr(1));
            BERTH_ASSIGN_OR_RETURN(UniqueFd d, open_dir("/" + dir));
            BERTH_TRY(CopyEntry(s.parent.get(), s.name, s.rel, d.get(), name, co, false));
          }
        }
        return Ok();
      },
      false);
}

}  // namespace berth::build
