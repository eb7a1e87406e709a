// berth/engine: `--user` and the image's User resolved against the container's own
// /etc/passwd and /etc/group, as docker does: a name must exist, a numeric uid need not
// (gid 0 then), an explicit group replaces the passwd gid and the membership groups, and
// --group-add appends. The files are opened inside the rootfs (sys::OpenInRoot), so a
// symlinked /etc/passwd resolves within the image and never reads a host file.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

// Anything larger is not a passwd file; refuse rather than read it all.
constexpr size_t kMaxFileSize = 16 << 20;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0x7fffffff) return std::nullopt;  // ids are signed 32-bit in the kernel's ABI
  return static_cast<uint32_t>(v);
}

// The content of `path` inside the rootfs; "" when it does not exist (an image without
// /etc/passwd still runs as a numeric uid).
Result<std::string> ReadInRoot(int root_fd, const std::string& path) {
  // O_NONBLOCK: a FIFO planted at /etc/passwd must not hang the engine.
  auto fd = sys::OpenInRoot(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) return std::string();
    return Unexpected(std::move(fd).error().Wrap(StrCat("open ", Quote(path))));
  }
  struct stat st {};
  if (fstat(fd->get(), &st) != 0) return ErrnoFail(StrCat("stat ", Quote(path)));
  if (!S_ISREG(st.st_mode))
    return InvalidArgument(StrCat(Quote(path), " in the container is not a regular file"));
  if (static_cast<size_t>(st.st_size) > kMaxFileSize)
    return InvalidArgument(StrCat(Quote(path), " in the container is too large"));
  return ReadFd(fd->get(), path);
}

std::vector<PasswdEntry> ParsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : Split(text, '\n')) {
    std::string_view l = Trim(line);
    if (l.empty() || l.starts_with('#')) continue;
    std::vector<std::string> f = Split(l, ':');
    if (f.size() < 4) continue;
    auto uid = ParseId(f[2]);
    auto gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(std::string_view text) {
  std::vector<GroupEntry> out;
  for (const auto& line : Split(text, '\n')) {
    std::string_view l = Trim(line);
    if (l.empty() || l.starts_with('#')) continue;
    std::vector<std::string> f = Split(l, ':');
    if (f.size() < 3) continue;
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() >= 4) g.members = SplitNonEmpty(f[3], ',');
    out.push_back(std::move(g));
  }
  return out;
}

// A group given by name or number; numbers need no entry.
Result<uint32_t> LookupGroup(const std::vector<GroupEntry>& groups, std::string_view g) {
  if (auto id = ParseId(g)) return *id;
  for (const auto& e : groups)
    if (e.name == g) return e.gid;
  return Fail(ErrorCode::kNotFound,
              StrCat("unable to find group ", g, ": no matching entries in group file"));
}

}  // namespace

Result<oci::User> ResolveUser(const std::string& rootfs, std::string_view user,
                              const std::vector<std::string>& group_add) {
  std::string_view user_part = user, group_part;
  bool explicit_group = false;
  if (size_t colon = user.find(':'); colon != std::string_view::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
    explicit_group = true;
    if (group_part.empty())
      return InvalidArgument(StrCat("invalid user ", Quote(user), ": empty group"));
  }
  if (user_part.empty()) user_part = "0";  // "" and ":grp" mean root

  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd root, OpenFile(rootfs, O_PATH | O_DIRECTORY), "resolve user");
  BERTH_ASSIGN_OR_RETURN_CTX(std::string passwd_text, ReadInRoot(root.get(), "/etc/passwd"),
                             "resolve user");
  BERTH_ASSIGN_OR_RETURN_CTX(std::string group_text, ReadInRoot(root.get(), "/etc/group"),
                             "resolve user");
  std::vector<PasswdEntry> passwd = ParsePasswd(passwd_text);
  std::vector<GroupEntry> groups = ParseGroup(group_text);

  oci::User out;
  std::string name;  // the passwd name, for group membership
  std::optional<uint32_t> numeric = ParseId(user_part);
  const PasswdEntry* entry = nullptr;
  for (const auto& e : passwd) {
    if (numeric ? e.uid == *numeric : e.name == user_part) {
      entry = &e;
      break;
    }
  }
  if (entry != nullptr) {
    out.uid = entry->uid;
    out.gid = entry->gid;
    name = entry->name;
  } else if (numeric) {
    out.uid = *numeric;  // a uid without an entry: docker runs it with gid 0
    out.gid = 0;
  } else {
    if (user_part.find_first_not_of("0123456789") == std::string_view::npos)
      return InvalidArgument(StrCat("invalid user ", Quote(user)));
    return Fail(ErrorCode::kNotFound,
                StrCat("unable to find user ", user_part, ": no matching entries in passwd file"));
  }

  if (explicit_group) {
    BERTH_ASSIGN_OR_RETURN(out.gid, LookupGroup(groups, group_part));
  }
  // docker lists the primary group first among the supplementary ones (moby's getUser), so
  // getgroups() in the container includes it.
  out.additional_gids.insert(out.additional_gids.begin(), out.gid);
  if (!explicit_group && !name.empty()) {
    for (const auto& g : groups)
      if (std::find(g.members.begin(), g.members.end(), name) != g.members.end())
        out.additional_gids.push_back(g.gid);
  }
  for (const auto& g : group_add) {
    BERTH_ASSIGN_OR_RETURN_CTX(uint32_t gid, LookupGroup(groups, g), "--group-add");
    out.additional_gids.push_back(gid);
  }
  // Keep the first occurrence of each group.
  std::vector<uint32_t> uniq;
  for (uint32_t g : out.additional_gids)
    if (std::find(uniq.begin(), uniq.end(), g) == uniq.end()) uniq.push_back(g);
  out.additional_gids = std::move(uniq);
  return out;
}

}  // namespace berth::engine
