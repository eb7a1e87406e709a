#include "berth/base/error.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Status FailsWithEnoent() { return SysFail(ENOENT, "open `x`"); }

Status Outer() {
  BERTH_TRY_CTX(FailsWithEnoent(), "load config");
  return Ok();
}

Result<int> Seven() { return 7; }
Result<int> AddOne() {
  BERTH_ASSIGN_OR_RETURN(int v, Seven());
  return v + 1;
}
Result<int> Propagate() {
  BERTH_ASSIGN_OR_RETURN_CTX(int v, Result<int>(Unexpected(Error(ErrorCode::kNotFound, "x"))),
                             "ctx");
  return v;
}

TEST(ErrorTest, SysErrorNamesObjectAndErrno) {
  Error e = Error::Sys(EACCES, "write `pids.max`");
  EXPECT_EQ(e.message(), "write `pids.max`: Permission denied");
  EXPECT_EQ(e.sys_errno(), EACCES);
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
}

TEST(ErrorTest, WrapPrependsOuterContext) {
  auto st = Outer();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(), "load config: open `x`: No such file or directory");
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
}

TEST(ErrorTest, AssignOrReturn) {
  EXPECT_EQ(*AddOne(), 8);
  auto r = Propagate();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "ctx: x");
}

TEST(ErrorTest, EncodeDecodeRoundTrip) {
  Error e(ErrorCode::kUnsupported, "mount `/proc`: nope", EINVAL);
  Error d = Error::Decode(e.Encode());
  EXPECT_EQ(d.code(), ErrorCode::kUnsupported);
  EXPECT_EQ(d.sys_errno(), EINVAL);
  EXPECT_EQ(d.message(), "mount `/proc`: nope");
}

TEST(ErrorTest, DecodeRejectsShortInput) {
  EXPECT_EQ(Error::Decode("ab").code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace berth
