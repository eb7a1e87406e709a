// berth/base: errors as values.
//
// Error keeps a code, the errno that caused it (0 if none) and a message built outer context
// first: "create container `web`: apply cgroup: write `pids.max`: Permission denied".
// Result<T> is expected<T, Error>; Status is Result<void>. No libberth API throws.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "berth/base/expected.h"

namespace berth {

enum class ErrorCode : uint8_t {
  kUnknown = 0,
  kInvalidArgument,    // bad input: a flag, a field of config.json, a file's content
  kNotFound,           // a container, file or object that does not exist
  kAlreadyExists,      // a name or id in use
  kFailedPrecondition, // the object is in the wrong state (e.g. container is running)
  kPermissionDenied,
  kUnsupported,        // valid request the host or berth cannot honour
  kSystem,             // a syscall failed (see sys_errno)
  kTimeout,
  kInternal,
  kUnavailable,        // a network peer (a registry) could not be reached or failed
};

std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error() = default;
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  // A failed syscall: "what: strerror(err)".
  static Error Sys(int err, std::string_view what);
  // The same, with the current errno.
  static Error Errno(std::string_view what) { return Sys(errno, what); }

  ErrorCode code() const { return code_; }
  int sys_errno() const { return sys_errno_; }
  const std::string& message() const { return message_; }

  // Prepends "context: " to the message (outer context first).
  Error& Wrap(std::string_view context) &;
  Error&& Wrap(std::string_view context) &&;

  // Wire format for the sync socket between a runtime and the child it forked, so that an
  // error raised in the child reaches the parent with its code and errno intact.
  std::string Encode() const;
  static Error Decode(std::string_view bytes);

 private:
  ErrorCode code_ = ErrorCode::kUnknown;
  int sys_errno_ = 0;
  std::string message_;
};

template <class T>
using Result = expected<T, Error>;
using Status = Result<void>;

inline unexpected<Error> Unexpected(Error e) { return unexpected<Error>(std::move(e)); }

// Shorthands for the common failures.
inline unexpected<Error> Fail(ErrorCode code, std::string message) {
  return Unexpected(Error(code, std::move(message)));
}
inline unexpected<Error> InvalidArgument(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}
inline unexpected<Error> SysFail(int err, std::string_view what) {
  return Unexpected(Error::Sys(err, what));
}
inline unexpected<Error> ErrnoFail(std::string_view what) {
  return Unexpected(Error::Errno(what));
}

inline Status Ok() { return {}; }

namespace internal {
template <class R>
Error&& TakeError(R&& r) {
  return std::move(r).error();
}
}  // namespace internal

}  // namespace berth

#define BERTH_CONCAT_INNER_(a, b) a##b
#define BERTH_CONCAT_(a, b) BERTH_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Result) from the enclosing function.
#define BERTH_TRY(expr)                                                    \
  do {                                                                     \
    auto&& berth_try_result_ = (expr);                                     \
    if (!berth_try_result_.has_value())                                    \
      return ::berth::Unexpected(std::move(berth_try_result_).error());    \
  } while (0)

// Same, prepending `context` (a string expression evaluated only on failure).
#define BERTH_TRY_CTX(expr, context)                                       \
  do {                                                                     \
    auto&& berth_try_result_ = (expr);                                     \
    if (!berth_try_result_.has_value())                                    \
      return ::berth::Unexpected(std::move(berth_try_result_).error().Wrap(context)); \
  } while (0)

#define BERTH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr, wrap)                 \
  auto tmp = (expr);                                                       \
  if (!tmp.has_value()) return ::berth::Unexpected(std::move(tmp).error() wrap); \
  lhs = std::move(*tmp)

// `lhs = value of expr`, or return its error.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_CONCAT_(berth_aor_, __LINE__), lhs, expr, )
#define BERTH_ASSIGN_OR_RETURN_CTX(lhs, expr, context)                       \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_CONCAT_(berth_aor_, __LINE__), lhs, expr, \
                               .Wrap(context))
