#include "berth/base/error.h"

#include <cstring>

namespace berth {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknown: return "unknown";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kFailedPrecondition: return "failed precondition";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kSystem: return "system";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kUnavailable: return "unavailable";
  }
  return "unknown";
}

Error Error::Sys(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kSystem;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EEXIST) code = ErrorCode::kAlreadyExists;
  if (err == EPERM || err == EACCES) code = ErrorCode::kPermissionDenied;
  if (err == ENOSYS || err == EOPNOTSUPP) code = ErrorCode::kUnsupported;
  std::string msg(what);
  msg += ": ";
  msg += strerrordesc_np(err) ? strerrordesc_np(err) : "unknown error";
  return Error(code, std::move(msg), err);
}

Error& Error::Wrap(std::string_view context) & {
  if (!context.empty()) {
    std::string m;
    m.reserve(context.size() + 2 + message_.size());
    m.append(context).append(": ").append(message_);
    message_ = std::move(m);
  }
  return *this;
}

Error&& Error::Wrap(std::string_view context) && {
  Wrap(context);
  return std::move(*this);
}

// Layout: 1 byte code, 4 bytes errno (little endian), then the message.
std::string Error::Encode() const {
  std::string out;
  out.reserve(5 + message_.size());
  out.push_back(static_cast<char>(code_));
  uint32_t e = static_cast<uint32_t>(sys_errno_);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((e >> (8 * i)) & 0xff));
  out.append(message_);
  return out;
}

Error Error::Decode(std::string_view bytes) {
  if (bytes.size() < 5) return Error(ErrorCode::kInternal, "malformed error from child");
  auto code = static_cast<uint8_t>(bytes[0]);
  if (code > static_cast<uint8_t>(ErrorCode::kUnavailable)) code = 0;
  uint32_t e = 0;
  for (int i = 0; i < 4; ++i) e |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[1 + i])) << (8 * i);
  return Error(static_cast<ErrorCode>(code), std::string(bytes.substr(5)), static_cast<int>(e));
}

}  // namespace berth
