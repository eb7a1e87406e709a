// Fuzz target for what a build context hands the builder: the Dockerfile and .dockerignore.
// The whole input is parsed as both. Besides not crashing (or hanging: heredocs, JSON
// nesting, `${` nesting and `*`/`**` patterns are all bounded or linear):
// - every instruction the parser accepts has a keyword of the reference, and ENV/LABEL/ARG
//   that passed the parser also pass ParseKeyValues;
// - a directory that is excluded with no exception below it excludes its files, which is
//   what lets the context walker skip it.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "berth/build/dockerfile.h"
#include "berth/build/dockerignore.h"
#include "berth/build/shell_words.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

std::optional<std::string> Lookup(std::string_view name) {
  if (name == "HOME") return std::string("/root");
  if (name == "EMPTY") return std::string();
  if (name == "PORTS") return std::string("80 443");
  if (name == "TARGETARCH") return std::string("amd64");
  return std::nullopt;
}

bool KnownKeyword(std::string_view k) {
  for (std::string_view w :
       {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}) {
    if (k == w) return true;
  }
  return false;
}

void Exercise(const berth::build::Instruction& ins, char escape) {
  namespace b = berth::build;
  Check(KnownKeyword(ins.keyword) && ins.keyword != "FROM");
  const b::VarLookup vars = Lookup;
  if (ins.keyword == "ENV" || ins.keyword == "LABEL" || ins.keyword == "ARG") {
    auto kvs = b::ParseKeyValues(ins, escape);
    Check(kvs.has_value());
    for (const b::KeyValue& kv : *kvs) {
      Check(!kv.key.empty());
      (void)b::ExpandWord(kv.key, vars, escape);
      (void)b::ExpandWord(kv.value, vars, escape);
    }
  } else {
    Check(!b::ParseKeyValues(ins, escape).has_value());
  }
  (void)b::ExpandWords(ins.text, vars, escape);
  (void)b::ExpandWord(ins.text, vars, escape);
  for (const auto& f : ins.flags) {
    Check(!f.name.empty());
    (void)b::ExpandWord(f.value, vars, escape);
  }
  for (const b::Heredoc& h : ins.heredocs) {
    Check(!h.name.empty());
    if (h.expand) (void)b::ExpandHeredoc(h.content, vars, escape);
  }
  for (const b::Instruction& t : ins.onbuild) {
    Check(t.keyword != "ONBUILD" && t.keyword != "MAINTAINER");
    Exercise(t, escape);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace b = berth::build;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto df = b::ParseDockerfile(input, "fuzz/Dockerfile");
  if (df.has_value()) {
    Check(!df->stages.empty());
    Check(df->escape == '\\' || df->escape == '`');
    const b::VarLookup vars = Lookup;
    for (const b::Instruction& a : df->global_args) {
      Check(a.keyword == "ARG");
      Exercise(a, df->escape);
    }
    for (const b::Stage& st : df->stages) {
      Check(!st.base.empty() && st.pos.line >= 1 && st.pos.column >= 1);
      (void)b::ExpandWord(st.base, vars, df->escape);
      for (const b::Instruction& ins : st.instructions) {
        Check(ins.pos.line >= st.pos.line);
        Exercise(ins, df->escape);
      }
    }
  } else {
    Check(df.error().message().starts_with("fuzz/Dockerfile:"));
  }

  auto m = b::IgnoreMatcher::Parse(input, "fuzz/.dockerignore");
  if (m.has_value()) {
    for (std::string_view dir : {"a", "src", "node_modules", "a/b", "vendor/x", ".git", "x.md"}) {
      bool excluded = m->Excluded(dir);
      bool reinclude = m->MayReincludeBelow(dir);
      if (excluded && !reinclude) {
        Check(m->Excluded(std::string(dir) + "/f.go"));
        Check(m->Excluded(std::string(dir) + "/sub/README.md"));
      }
    }
  }
  // The input as one pattern against a few paths.
  std::string_view pattern = input.substr(0, input.find('\n'));
  for (std::string_view path : {"", "a", "a/b/c.go", "dir/.hidden", "\xc3\xa9t\xc3\xa9/x"}) {
    (void)b::IgnoreMatcher::Match(pattern, path);
  }
  return 0;
}
