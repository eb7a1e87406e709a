// Runs a libFuzzer target over every file of the given corpus directories (or files), for
// builds without libFuzzer: keeps the targets compiling and the seeds exercised.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int RunFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  return 1;
}

int main(int argc, char** argv) {
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      DIR* d = opendir(argv[i]);
      while (struct dirent* de = d ? readdir(d) : nullptr) {
        if (de->d_name[0] == '.') continue;
        n += RunFile(std::string(argv[i]) + "/" + de->d_name);
      }
      if (d) closedir(d);
    } else {
      n += RunFile(argv[i]);
    }
  }
  std::printf("replayed %d inputs\n", n);
  return 0;
}
