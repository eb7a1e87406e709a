# Writes the bytes of INPUT as a C++ array `kTrampolineElf` into OUTPUT.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <cstddef>\n#include <cstdint>\nnamespace berth::runtime {\nextern const uint8_t kTrampolineElf[] = {\n${bytes}\n};\nextern const size_t kTrampolineElfSize = ${size};\n}  // namespace berth::runtime\n")
