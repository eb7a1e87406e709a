// berth/image (tests only): temporary directories, in-memory tar building and small
// hand-made images for the image store and archive tests.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berth/base/file.h"
#include "berth/image/digest.h"
#include "berth/image/image_store.h"
#include "berth/oci/image.h"

namespace berth::image::testing {

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/berth-image-test.XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TarEntry {
  enum Type { kFile, kDir, kSymlink, kHardlink } type = kFile;
  std::string path;
  std::string content;  // file content, or the link target
  int mode = 0644;
};

inline TarEntry File(std::string path, std::string content, int mode = 0644) {
  return TarEntry{TarEntry::kFile, std::move(path), std::move(content), mode};
}
inline TarEntry Dir(std::string path) {
  return TarEntry{TarEntry::kDir, std::move(path), "", 0755};
}
inline TarEntry Symlink(std::string path, std::string target) {
  return TarEntry{TarEntry::kSymlink, std::move(path), std::move(target), 0777};
}

// A tar of `entries` owned by the caller's uid/gid (so tests run unprivileged), optionally
// gzip ("gzip") or zstd ("zstd") compressed.
inline std::string MakeTar(const std::vector<TarEntry>& entries, const std::string& filter = "") {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* self, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_uid(ae, ::getuid());
    archive_entry_set_gid(ae, ::getgid());
    archive_entry_set_mtime(ae, 1700000000, 0);
    archive_entry_set_perm(ae, static_cast<mode_t>(e.mode));
    switch (e.type) {
      case TarEntry::kFile:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::kDir:
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case TarEntry::kSymlink:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.content.c_str());
        break;
      case TarEntry::kHardlink:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.content.c_str());
        break;
    }
    archive_write_header(a, ae);
    if (e.type == TarEntry::kFile && !e.content.empty())
      archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// The uncompressed form of a tar made by MakeTar with a filter (for diff ids).
inline std::string Decompress(const std::string& data) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  archive_read_open_memory(a, data.data(), data.size());
  struct archive_entry* e;
  std::string out;
  if (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  archive_read_free(a);
  return out;
}

inline oci::ImageConfig BasicConfig(const std::vector<std::string>& diff_ids,
                                    const std::string& tag = "") {
  oci::ImageConfig c;
  oci::Platform p = oci::HostPlatform();
  c.architecture = p.architecture;
  c.os = p.os;
  c.created = "2024-01-01T00:00:00Z";
  c.config.cmd = std::vector<std::string>{"/bin/sh"};
  if (!tag.empty()) c.config.labels["test"] = tag;
  c.diff_ids = diff_ids;
  return c;
}

struct BuiltImage {
  std::string manifest_digest;
  std::string config_digest;
  std::vector<std::string> diff_ids;
};

// Stores layers (each a tar, possibly compressed), a config and an OCI manifest.
inline BuiltImage StoreImage(ContentStore& cs, const std::vector<std::string>& layer_tars,
                             const std::string& label = "") {
  BuiltImage b;
  oci::Manifest m;
  m.media_type = oci::media::kOciManifest;
  for (const auto& t : layer_tars) {
    std::string plain = Decompress(t);
    b.diff_ids.push_back(DigestOf(plain));
    oci::Descriptor d;
    bool gz = t.size() >= 2 && static_cast<unsigned char>(t[0]) == 0x1f;
    d.media_type = gz ? oci::media::kOciLayerGzip : oci::media::kOciLayer;
    d.digest = *cs.Write(t);
    d.size = static_cast<int64_t>(t.size());
    m.layers.push_back(d);
  }
  std::string cjson = oci::ToJson(BasicConfig(b.diff_ids, label)).dump();
  b.config_digest = *cs.Write(cjson);
  m.config.media_type = oci::media::kOciConfig;
  m.config.digest = b.config_digest;
  m.config.size = static_cast<int64_t>(cjson.size());
  b.manifest_digest = *cs.Write(oci::ToJson(m).dump());
  return b;
}

}  // namespace berth::image::testing
