// berth/build (internal): helpers shared by the instruction files.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/build/instructions.h"

namespace berth::build {

// The value of a variable for a step: the state's ENV, then the stage's ARGs.
std::optional<std::string> StepVars(const StageContext& sc, const internal::State& s,
                                    std::string_view name);
Result<std::string> ExpandIn(const StageContext& sc, const internal::State& s, std::string_view word);
// JSON form: each string expanded; shell form: the text split into expanded words.
Result<std::vector<std::string>> ExpandListIn(const StageContext& sc, const internal::State& s,
                                              const Instruction& ins);

// A filesystem step: `next` (the state's config as the step leaves it) gets the key of
// `desc` after `state`'s; a cache hit returns the cached state, otherwise `fn` runs in a
// snapshot (FilesystemStep) and the history gets `created_by`.
Result<internal::State> RecordStep(StageContext& sc, const internal::State& state,
                                   std::string created_by, const std::string& desc,
                                   internal::State next,
                                   const std::function<Status(const std::string&, int)>& fn,
                                   bool skip_empty);

Result<internal::State> ApplyRun(StageContext& sc, const internal::State& state, const Instruction& ins);
Result<internal::State> ApplyCopy(StageContext& sc, const internal::State& state, const Instruction& ins);
Result<internal::State> ApplyWorkdir(StageContext& sc, const internal::State& state, const Instruction& ins);

// The state of a stage or image named by --from / from=: a finished stage of this build, or
// an image (through the Host). `key` identifies its content for cache keys.
struct FromSource {
  const internal::State* stage = nullptr;
  internal::State image_state;
  std::string key;
};
Result<FromSource> ResolveFrom(StageContext& sc, std::string_view from);

// A stage referred to by name or index among the first `before` stages; -1 if none.
int FindStage(const Dockerfile& df, std::string_view ref, int before);

// The host path behind `path` resolved inside `root_fd` (symlinks cannot leave it).
Result<std::string> HostPathInRoot(int root_fd, std::string_view path);
// "/a/./b/../c/" -> "/a/c" (absolute, no trailing slash except for "/").
std::string CleanAbsolute(std::string_view path);

}  // namespace berth::build
