// berth/base: Defer runs a callable at scope exit unless cancelled; the rollback half of
// every multi-step setup ("undo this unless we got to the end").
#pragma once

#include <utility>

namespace berth {

template <class F>
class [[nodiscard]] Defer {
 public:
  explicit Defer(F f) : f_(std::move(f)) {}
  Defer(const Defer&) = delete;
  Defer& operator=(const Defer&) = delete;
  ~Defer() {
    if (armed_) f_();
  }
  void Cancel() { armed_ = false; }

 private:
  F f_;
  bool armed_ = true;
};

}  // namespace berth
