// berth-nft: applies an nft script through libnftables, for berth (a static binary, while
// Debian ships libnftables only as a shared library). The engine writes a whole-table script
// (berth/net/firewall.h) to stdin; libnftables commits it as one transaction or not at all.
//
//   berth-nft               read a script from stdin and apply it; exit 1 with libnftables'
//                           message on stderr if it fails
//   berth-nft --list [T]    print `list table inet T` (default `berth`), for debugging
#include <malloc.h>
#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

int Usage() {
  std::fputs("usage: berth-nft < script | berth-nft --list [TABLE]\n", stderr);
  return 2;
}

bool ReadStdin(std::string& out) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "berth-nft: read stdin: %s\n", std::strerror(errno));
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// The table name goes into a command, so only an identifier is accepted.
bool ValidTable(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// libnftables allocates a 128 KiB hash table per cache (several per kernel table) and fills
// it: with glibc's defaults each is a fresh mmap, so one run takes ~700 page faults, ~400 of
// them there, at 20-35 us each on these VMs. Serving big blocks from the heap (freed blocks
// are reused) and faulting its first MiBs in with one madvise halves the helper's run time
// (61 -> 34 ms median for a typical script, measured A/B on one VM).
void PrepareHeap() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  constexpr size_t kPrefault = 4 << 20;
  void* block = std::malloc(kPrefault);
  if (block == nullptr) return;
  // MADV_POPULATE_WRITE (Linux 5.14) needs page-aligned bounds; an older kernel says
  // EINVAL and the pages are faulted in one at a time as before.
  uintptr_t begin = (reinterpret_cast<uintptr_t>(block) + 4095) & ~uintptr_t{4095};
  uintptr_t end = (reinterpret_cast<uintptr_t>(block) + kPrefault) & ~uintptr_t{4095};
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  std::free(block);  // stays in the heap (below the trim threshold) for libnftables
}

}  // namespace

int main(int argc, char** argv) {
  std::string script;
  bool list = false;
  if (argc >= 2 && std::string_view(argv[1]) == "--list") {
    if (argc > 3) return Usage();
    std::string table = argc == 3 ? argv[2] : "berth";
    if (!ValidTable(table)) return Usage();
    script = "list table inet " + table + "\n";
    list = true;
  } else if (argc != 1) {
    return Usage();
  } else if (!ReadStdin(script)) {
    return 1;
  }

  PrepareHeap();
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    std::fputs("berth-nft: cannot create a libnftables context\n", stderr);
    return 1;
  }
  // Both buffered: the error text is printed once, after the run, and a script prints
  // nothing on success.
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, script.c_str());
  const char* err = nft_ctx_get_error_buffer(ctx);
  if (rc != 0) {
    std::fputs(err != nullptr && *err != '\0' ? err : "berth-nft: libnftables failed\n", stderr);
  } else if (list) {
    const char* out = nft_ctx_get_output_buffer(ctx);
    if (out != nullptr) std::fputs(out, stdout);
  }
  nft_ctx_free(ctx);
  return rc == 0 ? 0 : 1;
}
