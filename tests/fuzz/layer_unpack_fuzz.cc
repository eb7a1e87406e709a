// Fuzz target: a layer stream (any compression) through UnpackLayer into a fresh directory.
// Errors are fine; a crash, or any file appearing next to the destination, is a bug.
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "berth/base/file.h"
#include "berth/image/layer_unpack.h"

namespace {

// Entries of `dir` other than "." and "..".
int CountEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (struct dirent* de = ::readdir(d)) {
    if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char tmpl[] = "/tmp/berth-unpack-fuzz-XXXXXX";
  if (!::mkdtemp(tmpl)) return 0;
  std::string sandbox = tmpl;
  std::string dest = sandbox + "/dest";
  if (::mkdir(dest.c_str(), 0755) != 0) {
    (void)berth::RemoveAll(sandbox);
    return 0;
  }
  size_t pos = 0;
  berth::image::ByteSource source = [&](void* buf, size_t n) -> berth::Result<size_t> {
    size_t k = std::min(n, size - pos);
    std::memcpy(buf, data + pos, k);
    pos += k;
    return k;
  };
  berth::image::UnpackOptions options;
  options.max_uncompressed = int64_t{64} << 20;
  options.overlay_whiteouts = ::geteuid() == 0;
  (void)berth::image::UnpackLayer(source, dest, options);
  // The sandbox holds exactly `dest`: anything else was written outside the layer root.
  if (CountEntries(sandbox) != 1) {
    std::fprintf(stderr, "layer_unpack_fuzz: entry written outside %s\n", dest.c_str());
    std::abort();
  }
  (void)berth::RemoveAll(sandbox);
  return 0;
}
