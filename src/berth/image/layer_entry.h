// berth/image (internal): applying one tar entry of a layer to the destination directory,
// resolved safely inside it (see layer_unpack.h for the rules).
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/image/layer_unpack.h"

struct archive;
struct archive_entry;

namespace berth::image::internal {

// Splits a tar path into components: "" and "." dropped, ".." applied; an error when ".."
// would leave the root. "./a//b/../c" -> {"a", "c"}; "/abs" -> {"abs"}.
Result<std::vector<std::string>> NormalizeEntryPath(std::string_view path);

class EntryApplier {
 public:
  static Result<EntryApplier> Open(const std::string& dest, const UnpackOptions& options);

  // Applies the entry the archive is positioned at (its data is read from `a`). Errors are
  // not prefixed with the entry's name: the caller does that.
  Status Apply(struct archive* a, struct archive_entry* e);
  // Sets the directories' mtimes (creating children changed them).
  Status Finish();

 private:
  EntryApplier() = default;

  Result<int> Parent(const std::vector<std::string>& comps, bool create, bool* missing);
  // Forgets the cached parent after a removal; the fd stays open for the current entry.
  void Invalidate() { cached_valid_ = false; }
  void Record(const std::vector<std::string>& comps);
  Status ClearOpaque(int dirfd, const std::string& path);
  Status ReplaceExisting(int parent, const std::string& name, bool want_dir, bool* is_dir);
  Status ApplyWhiteout(const std::vector<std::string>& comps, struct archive_entry* e);
  Status ApplyHardlink(int parent, const std::string& name, const std::string& path,
                       struct archive_entry* e);
  Status WriteFile(struct archive* a, int parent, const std::string& name,
                   struct archive_entry* e);
  Status ApplyMeta(int fd, bool is_symlink, struct archive_entry* e);
  Status ApplyXattrs(int fd, struct archive_entry* e);

  UniqueFd root_;
  UnpackOptions options_;
  bool rootless_ = false;
  UniqueFd cached_parent_;
  std::string cached_path_;
  bool cached_valid_ = false;
  // Directory path -> {atime, mtime}, applied by Finish().
  std::map<std::string, std::pair<struct timespec, struct timespec>> dir_times_;
  // Without overlay whiteouts: the paths this layer created, so that an opaque marker
  // removes only what earlier layers left.
  std::unordered_set<std::string> created_;
};

}  // namespace berth::image::internal
