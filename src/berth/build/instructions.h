// berth/build (internal): one Dockerfile instruction applied to a stage's state.
// Metadata instructions (ENV, LABEL, CMD, ...) change the config; RUN, COPY, ADD and WORKDIR
// are filesystem steps (builder_internal.h) looked up in the build cache first.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "berth/build/builder_internal.h"
#include "berth/build/dockerfile.h"

namespace berth::build {

struct StageContext {
  internal::BuildEnv* env = nullptr;
  const std::map<std::string, std::optional<std::string>>* globals = nullptr;
  int stage_index = 0;
  // ARGs declared in this stage with a value (the build arg, default or global value).
  std::map<std::string, std::string> args;
  bool cmd_set = false;  // CMD seen in this stage (ENTRYPOINT then keeps it)
};

Result<internal::State> ApplyInstruction(StageContext& sc, const internal::State& state,
                                         const Instruction& ins);

// "" or the host's "os/arch[/variant]"; anything else is kUnsupported.
Status CheckPlatform(std::string_view platform);

}  // namespace berth::build
