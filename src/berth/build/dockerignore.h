// berth/build: .dockerignore (https://docs.docker.com/build/concepts/context/#dockerignore-files).
// One pattern per line; `#` comments; blank lines ignored; patterns are cleaned paths
// relative to the context root (leading `/` and `./` dropped, `..` not allowed to climb);
// Go filepath.Match syntax (`*`, `?`, `[...]`, `\` escapes) plus `**` matching any number of
// directories; `!pattern` re-includes; the last matching pattern decides. A directory that is
// excluded is still walked when a later `!` pattern could re-include something below it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::build {

class IgnoreMatcher {
 public:
  // Errors (kInvalidArgument) name the line: "PATH:LINE: bad pattern `[`".
  static Result<IgnoreMatcher> Parse(std::string_view text, std::string_view path = ".dockerignore");
  IgnoreMatcher() = default;  // ignores nothing

  // `rel`: a path relative to the context root, '/'-separated, no leading "./".
  bool Excluded(std::string_view rel) const;
  // True when some `!` pattern could match below the directory `rel`: the walker must
  // descend into an excluded directory to find re-included files.
  bool MayReincludeBelow(std::string_view rel) const;
  bool empty() const { return patterns_.empty(); }

  // Go filepath.Match-style matching with `**`; exposed for tests and COPY globs.
  static Result<bool> Match(std::string_view pattern, std::string_view path);

 private:
  struct Pattern {
    std::string text;  // cleaned
    bool negate = false;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace berth::build
