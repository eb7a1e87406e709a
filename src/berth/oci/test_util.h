// berth/oci (tests only): access to the fixtures in testdata/.
#pragma once

#include <string>

#include "berth/base/file.h"

namespace berth::oci::testing {

// testdata/ sits beside this header; __FILE__ is absolute in CMake builds.
inline std::string TestDataPath(const std::string& name) {
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/') + 1) + "testdata/" + name;
}

inline std::string ReadTestData(const std::string& name) {
  auto text = ReadFile(TestDataPath(name));
  return text.has_value() ? *text : std::string();
}

}  // namespace berth::oci::testing
