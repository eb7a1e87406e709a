// berth/build: the Dockerfile's word rules: variable expansion and quote removal as the
// Dockerfile reference defines them for ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
// USER, VOLUME, WORKDIR, ONBUILD (and ARG defaults): $VAR, ${VAR}, ${VAR:-word},
// ${VAR:+word}, ${VAR-word}, ${VAR+word}, ${VAR:?msg}; single quotes literal, double quotes
// expand; the escape character (\ or `) escapes the next character; `\$` is a literal $.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::build {

// nullopt: the variable is unset (distinct from set to "").
using VarLookup = std::function<std::optional<std::string>(std::string_view name)>;

// One word: expanded, quotes removed; whitespace stays part of the word.
Result<std::string> ExpandWord(std::string_view word, const VarLookup& vars, char escape = '\\');
// A text split into words on unquoted whitespace; an unquoted expansion is split too, as
// BuildKit does (`EXPOSE $PORTS` with PORTS="80 443" gives two words). COPY/ADD sources and
// destination, EXPOSE, VOLUME (shell form).
Result<std::vector<std::string>> ExpandWords(std::string_view text, const VarLookup& vars,
                                             char escape = '\\');
// A heredoc body with `$VAR`/`${...}` expanded and nothing else removed (quotes kept).
Result<std::string> ExpandHeredoc(std::string_view body, const VarLookup& vars,
                                  char escape = '\\');

}  // namespace berth::build
