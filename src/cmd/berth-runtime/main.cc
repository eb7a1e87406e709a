// berth-runtime: placeholder until the CLI lands.
#include <cstdio>
int main() {
  std::printf("berth-runtime version %s\n", BERTH_VERSION);
  return 0;
}
