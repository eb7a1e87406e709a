// berth/sys: I/O priority constants (ioprio_set(2)). Defined here rather than taken from
// <linux/ioprio.h>, whose newer versions use `class` as a parameter name and do not compile
// as C++.
#pragma once

namespace berth::sys {

inline constexpr int kIoprioClassShift = 13;
inline constexpr int kIoprioClassNone = 0;
inline constexpr int kIoprioClassRt = 1;
inline constexpr int kIoprioClassBe = 2;
inline constexpr int kIoprioClassIdle = 3;
inline constexpr int kIoprioNrLevels = 8;
inline constexpr int kIoprioWhoProcess = 1;

constexpr int IoprioValue(int io_class, int level) {
  return (io_class << kIoprioClassShift) | level;
}
constexpr int IoprioClass(int value) { return value >> kIoprioClassShift; }
constexpr int IoprioLevel(int value) { return value & ((1 << kIoprioClassShift) - 1); }

}  // namespace berth::sys
