// berth/image: test helpers (header-only, for unit and integration tests): build layer tars
// in memory with libarchive, compress them, and read them back through a ByteSource.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/layer_unpack.h"

namespace berth::image::layer_testing {

struct TarEntry {
  std::string path;
  char type = 'f';  // f file, d dir, l symlink, h hard link, c/b device, p fifo
  std::string data;
  std::string link;  // symlink or hard link target
  mode_t mode = 0644;
  int64_t uid = 0, gid = 0;
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  time_t mtime = 1700000000;
};

inline TarEntry File(std::string path, std::string data, mode_t mode = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.mode = mode;
  return e;
}
inline TarEntry Dir(std::string path, mode_t mode = 0755) {
  TarEntry e;
  e.path = std::move(path);
  e.type = 'd';
  e.mode = mode;
  return e;
}
inline TarEntry Symlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = 'l';
  e.link = std::move(target);
  e.mode = 0777;
  return e;
}
// A tar writer gives a hard link's header its inode's metadata; `mode` should match the
// target's (the unpack applies the header to the shared inode, as docker's does).
inline TarEntry Hardlink(std::string path, std::string target, mode_t mode = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.type = 'h';
  e.link = std::move(target);
  e.mode = mode;
  return e;
}

// A pax tar of `entries`, written verbatim (no path sanitizing: tests feed hostile names).
inline std::string BuildTar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const TarEntry& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, 0);
    for (const auto& [k, v] : t.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    switch (t.type) {
      case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, t.link.c_str());
        break;
      case 'c':
      case 'b':
        archive_entry_set_filetype(e, t.type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(e, t.major);
        archive_entry_set_rdevminor(e, t.minor);
        break;
      case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
      default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
    }
    archive_write_header(a, e);
    if (t.type == 'f' && !t.data.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string Gzip(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string Zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

// Serves `data` in chunks of at most `chunk` bytes (odd sizes exercise buffer edges).
inline ByteSource SourceOf(const std::string& data, size_t chunk = 7919) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos, chunk](void* buf, size_t n) -> Result<size_t> {
    size_t k = std::min({n, chunk, data.size() - *pos});
    std::memcpy(buf, data.data() + *pos, k);
    *pos += k;
    return k;
  };
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-layer-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const {
    std::string p = path_ + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
  }

 private:
  std::string path_;
};

// One line per entry below `root` (sorted): type, mode, owner, size/device, content digest
// or link target, xattrs (without trusted.overlay.*), and the mtime unless `dir_mtimes` is
// false for directories. Hard links show as "=> first path".
inline std::string DescribeTree(const std::string& root, bool dir_mtimes = true) {
  std::string out;
  std::map<std::pair<dev_t, ino_t>, std::string> seen;
  std::vector<std::string> todo = {""};
  std::vector<std::string> all;
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    UniqueFd fd(::open((root + "/" + rel).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto names = internal::ListDir(fd.get(), rel);
    if (!names.has_value()) return "error: " + names.error().message();
    for (const auto& n : *names) {
      std::string p = rel.empty() ? n : rel + "/" + n;
      all.push_back(p);
      struct stat st;
      if (::lstat((root + "/" + p).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) todo.push_back(p);
    }
  }
  std::sort(all.begin(), all.end());
  for (const auto& p : all) {
    std::string full = root + "/" + p;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;
    char type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : S_ISCHR(st.st_mode) ? 'c'
              : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 'f';
    out += StrCat(p, " ", std::string(1, type), " ");
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    out += StrCat(mode, " ", st.st_uid, ":", st.st_gid);
    if (type != 'd' && st.st_nlink > 1) {
      auto [it, inserted] = seen.try_emplace({st.st_dev, st.st_ino}, p);
      if (!inserted) {
        out += " => " + it->second + "\n";
        continue;
      }
    }
    if (type == 'f') {
      auto data = ReadFile(full);
      out += StrCat(" ", st.st_size, " ", data.has_value() ? DigestOf(*data).substr(7, 12) : "?");
    } else if (type == 'l') {
      char buf[4096];
      ssize_t n = ::readlink(full.c_str(), buf, sizeof buf);
      out += " -> " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
    } else if (type == 'c' || type == 'b') {
      out += StrCat(" ", major(st.st_rdev), ",", minor(st.st_rdev));
    }
    UniqueFd ofd(::open(full.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    auto xs = internal::ReadXattrs(ofd.get(), p);
    if (xs.has_value()) {
      for (const auto& [k, v] : *xs) {
        if (!k.starts_with("trusted.overlay.")) out += " " + k + "=" + v;
      }
    }
    if (type != 'd' || dir_mtimes) out += StrCat(" @", st.st_mtim.tv_sec);
    out += "\n";
  }
  return out;
}

}  // namespace berth::image::layer_testing
