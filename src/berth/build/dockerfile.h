// berth/build: the Dockerfile language (https://docs.docker.com/reference/dockerfile/) as data.
// Parsing is syntax only: line continuations, comments, parser directives (`# syntax=`,
// `# escape=`), exec (JSON) and shell forms, `--flag=value` options, heredocs. Variables are
// expanded later, by the builder, with the environment of the step that uses them
// (ExpandWord / ExpandWords in shell_words.h). Errors name the file, line and column.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::build {

struct SourcePos {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

// `<<EOF` (or `<<-EOF`, `<<"EOF"`) after RUN, COPY or ADD: the lines up to the terminator.
struct Heredoc {
  std::string name;     // the terminator word ("EOF"); COPY/ADD use it as the file name
  std::string content;  // the lines between, each ending in '\n'
  bool expand = true;   // false when the terminator was quoted: no variable expansion
  bool strip_tabs = false;  // `<<-`: leading tabs already removed from `content`
};

struct Instruction {
  std::string keyword;   // upper case: "FROM", "RUN", ...
  SourcePos pos;         // of the keyword
  std::string original;  // the instruction as written, continuations joined (for errors)
  // `--name=value` / `--name` options before the arguments, in order, raw (not expanded).
  // A bare `--link` has value "" and has_value false.
  struct Flag {
    std::string name;
    std::string value;
    bool has_value = false;
  };
  std::vector<Flag> flags;
  // Exec form (`["a", "b"]`, a valid JSON array of strings): the decoded strings.
  bool json_form = false;
  std::vector<std::string> json_args;
  // Shell form: the text after the flags, continuations joined (escape+newline removed),
  // not expanded, not unquoted. For RUN/CMD/ENTRYPOINT/SHELL-using steps it is the command.
  std::string text;
  // HEALTHCHECK only: "CMD" or "NONE" (upper-cased); `text`/`json_form`/`json_args` then
  // hold the command after CMD ("" for NONE), and the flags are --interval etc.
  std::string subcommand;
  std::vector<Heredoc> heredocs;
  // ONBUILD's trigger, parsed as an instruction of its own (ONBUILD ONBUILD is an error).
  std::vector<Instruction> onbuild;
};

struct Stage {
  int index = 0;
  std::string name;       // `AS name`, lower-cased; "" if none
  std::string base;       // the FROM image or stage name, unexpanded
  std::string platform;   // FROM --platform=, unexpanded; "" if none
  SourcePos pos;
  std::vector<Instruction> instructions;  // after FROM, up to the next FROM
};

struct Dockerfile {
  std::string path;                  // as given, for messages
  char escape = '\\';                // `# escape=` directive
  std::string syntax;                // `# syntax=` directive (recorded, not acted on)
  std::vector<Instruction> global_args;  // ARGs before the first FROM
  std::vector<Stage> stages;
};

// Parses `text` read from `path` (used only in messages). Errors are kInvalidArgument with
// "PATH:LINE:COL: what" — unknown instruction, unterminated heredoc or JSON, FROM missing,
// an instruction other than ARG before the first FROM, bad flag syntax, wrong argument count
// for instructions whose shape is fixed (e.g. FROM, USER, WORKDIR, STOPSIGNAL).
Result<Dockerfile> ParseDockerfile(std::string_view text, std::string_view path = "Dockerfile");

// ENV and LABEL arguments: `k=v k2="v 2"` pairs, or the legacy `ENV key value with spaces`.
// Keys and values are raw words (quotes kept) for ExpandWord. ARG: `name` or `name=default`
// (second = "" and has_default false when there is no '=').
struct KeyValue {
  std::string key;
  std::string value;
  bool has_value = true;
};
Result<std::vector<KeyValue>> ParseKeyValues(const Instruction& ins, char escape);

// HEALTHCHECK: NONE, or [--interval --timeout --start-period --start-interval --retries] CMD ...
// parsed by the builder from the flags and `json_args`/`text`.

}  // namespace berth::build
