// berth/build: the Dockerfile parser. It follows BuildKit's parser where the reference is
// silent (comment lines inside a continuation are dropped, empty continuation lines are
// allowed, a heredoc marker counts only on an instruction's first line, a JSON array with a
// non-string element is an error rather than shell form), so that Dockerfiles written for
// `docker build` parse the same way here.
#include "berth/build/dockerfile.h"

#include <array>
#include <cstdint>
#include <tuple>

#include "berth/base/strings.h"

namespace berth::build {

namespace {

constexpr std::array<std::string_view, 18> kKeywords = {
    "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view TrimSpace(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Splits on runs of whitespace, nothing else (FROM, EXPOSE, shell-form COPY counting).
std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// ---- JSON arrays of strings (exec form) ----
//
// A small validator of its own instead of nlohmann-json: it never recurses (hostile input
// can nest `[[[[...` a million deep) and tells "not JSON" (shell form) from "JSON but not all
// strings" (an error in Docker).

enum class JsonArray { kNotJson, kNotStrings, kStrings };

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}

  JsonArray Parse(std::vector<std::string>* out) {
    SkipWs();
    if (!Eat('[')) return JsonArray::kNotJson;
    bool all_strings = true;
    // Containers still open: '[' or '{'. The outer array is stack_[0].
    std::vector<char> stack = {'['};
    // What may come next: a value or a close (just after '['), a value (after ',' or ':'),
    // a key or a close (just after '{'), a key (after ',' in an object).
    enum { kValueOrClose, kValue, kKeyOrClose, kKey, kAfterValue } expect = kValueOrClose;
    while (!stack.empty()) {
      SkipWs();
      if (pos_ >= s_.size()) return JsonArray::kNotJson;
      char c = s_[pos_];
      bool in_object = stack.back() == '{';
      if (expect == kAfterValue) {
        ++pos_;
        if (c == ',') {
          expect = in_object ? kKey : kValue;
        } else if (c == (in_object ? '}' : ']')) {
          stack.pop_back();
        } else {
          return JsonArray::kNotJson;
        }
        continue;
      }
      if ((expect == kValueOrClose && c == ']') || (expect == kKeyOrClose && c == '}')) {
        ++pos_;
        stack.pop_back();
        expect = kAfterValue;
        continue;
      }
      if (expect == kKeyOrClose || expect == kKey) {
        if (!String(nullptr)) return JsonArray::kNotJson;
        SkipWs();
        if (!Eat(':')) return JsonArray::kNotJson;
        expect = kValue;
        continue;
      }
      // A value.
      bool top = stack.size() == 1;
      if (c == '"') {
        std::string s;
        if (!String(&s)) return JsonArray::kNotJson;
        if (top && out != nullptr) out->push_back(std::move(s));
        expect = kAfterValue;
        continue;
      }
      if (top) all_strings = false;
      if (c == '[' || c == '{') {
        ++pos_;
        stack.push_back(c);
        expect = c == '[' ? kValueOrClose : kKeyOrClose;
        continue;
      }
      if (!Number() && !Literal("true") && !Literal("false") && !Literal("null")) {
        return JsonArray::kNotJson;
      }
      expect = kAfterValue;
    }
    SkipWs();
    if (pos_ != s_.size()) return JsonArray::kNotJson;
    return all_strings ? JsonArray::kStrings : JsonArray::kNotStrings;
  }

 private:
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_).starts_with(word)) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number() {
    size_t start = pos_;
    Eat('-');
    if (Eat('0')) {
      // no leading zeros
    } else if (!Digits()) {
      pos_ = start;
      return false;
    }
    if (Eat('.') && !Digits()) return false;
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return false;
    }
    return true;
  }
  int Hex4() {
    if (pos_ + 4 > s_.size()) return -1;
    int v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[pos_ + k];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    pos_ += 4;
    return v;
  }
  // At '"': decodes the string into `out` (may be null).
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    std::string tmp;
    std::string& o = out != nullptr ? *out : tmp;
    while (true) {
      if (pos_ >= s_.size()) return false;
      char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        o.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          o.push_back(e);
          break;
        case 'b':
          o.push_back('\b');
          break;
        case 'f':
          o.push_back('\f');
          break;
        case 'n':
          o.push_back('\n');
          break;
        case 'r':
          o.push_back('\r');
          break;
        case 't':
          o.push_back('\t');
          break;
        case 'u': {
          int hi = Hex4();
          if (hi < 0) return false;
          uint32_t cp = static_cast<uint32_t>(hi);
          if (cp >= 0xd800 && cp < 0xdc00) {
            // A surrogate pair; a lone half becomes U+FFFD as in Go's decoder.
            size_t save = pos_;
            int lo = -1;
            if (Literal("\\u")) lo = Hex4();
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (static_cast<uint32_t>(lo) - 0xdc00);
            } else {
              pos_ = save;
              cp = 0xfffd;
            }
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            cp = 0xfffd;
          }
          AppendUtf8(o, cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---- words ----

// BuildKit's parseWords: splits on unquoted whitespace, keeping quotes and escapes in the
// words (ENV, LABEL, ARG arguments).
std::vector<std::string> RawWords(std::string_view s, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote == 0 && IsSpace(c)) {
      if (in_word && (blank_ok || !word.empty())) words.push_back(std::move(word));
      word.clear();
      in_word = blank_ok = false;
      continue;
    }
    in_word = true;
    if (c == escape && quote != '\'') {
      if (i + 1 == s.size()) break;  // an escape character at the end is dropped
      word.push_back(c);
      word.push_back(s[++i]);
      continue;
    }
    if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      blank_ok = true;
    } else if (c == quote) {
      quote = 0;
    }
    word.push_back(c);
  }
  if (in_word && (blank_ok || !word.empty())) words.push_back(std::move(word));
  return words;
}

// BuildKit's extractBuilderFlags: the leading `--flag` words, quotes removed (always with
// `\` as escape). Returns the rest of the line.
std::string_view ExtractFlagWords(std::string_view line, std::vector<std::string>* words) {
  size_t i = 0;
  while (true) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i + 1 >= line.size() || line[i] != '-' || line[i + 1] != '-') return line.substr(i);
    std::string word;
    bool blank_ok = false;
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote == 0) {
        if (IsSpace(c)) break;
        if (c == '\'' || c == '"') {
          quote = c;
          blank_ok = true;
          continue;
        }
      } else if (c == quote) {
        quote = 0;
        continue;
      }
      if (c == '\\') {
        if (i + 1 == line.size()) continue;  // a `\` at the end is dropped
        c = line[++i];
      }
      word.push_back(c);
    }
    if (word == "--") return i < line.size() ? line.substr(i) : std::string_view();
    if (blank_ok || !word.empty()) words->push_back(std::move(word));
    if (i >= line.size()) return {};
  }
}

// Removes quotes and escapes from a heredoc terminator word. `quoted` reports whether any
// quote was removed (then the body is not expanded).
std::string UnquoteHeredocName(std::string_view s, bool* quoted) {
  std::string out;
  *quoted = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        out.push_back(c);
      }
    } else if (c == '\\' && i + 1 < s.size() &&
               (quote == 0 || s[i + 1] == '"' || s[i + 1] == '$' || s[i + 1] == '\\')) {
      out.push_back(s[++i]);
    } else if (quote == '"' && c == '"') {
      quote = 0;
    } else if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      *quoted = true;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct HeredocMarker {
  Heredoc doc;
  size_t offset = 0;  // in the line, for the column in errors
};

// The heredoc words (`<<EOF`, `<<-EOF`, `2<<"EOF"`) of an instruction's first line.
std::vector<HeredocMarker> FindHeredocs(std::string_view line) {
  std::vector<HeredocMarker> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t start = i;
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote == 0 && IsSpace(c)) break;
      if (c == '\\' && quote != '\'' && i + 1 < line.size()) {
        ++i;
      } else if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
      } else if (c == quote) {
        quote = 0;
      }
    }
    std::string_view word = line.substr(start, i - start);
    // ^[0-9]*<<(-?)([^<]*)$
    size_t k = 0;
    while (k < word.size() && word[k] >= '0' && word[k] <= '9') ++k;
    if (!word.substr(k).starts_with("<<")) continue;
    k += 2;
    HeredocMarker m;
    m.offset = start;
    if (k < word.size() && word[k] == '-') {
      m.doc.strip_tabs = true;
      ++k;
    }
    std::string_view rest = word.substr(k);
    if (rest.empty() || rest.find('<') != std::string_view::npos) continue;
    bool quoted = false;
    m.doc.name = UnquoteHeredocName(rest, &quoted);
    if (m.doc.name.empty()) continue;
    m.doc.expand = !quoted;
    out.push_back(std::move(m));
  }
  return out;
}

bool IsValidStageName(std::string_view s) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The exec/shell form of RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME and HEALTHCHECK CMD.
Status ParseMaybeJson(Instruction& ins, std::string_view args) {
  ins.text = std::string(args);
  if (!args.starts_with('[')) return Ok();
  std::vector<std::string> strings;
  switch (JsonScanner(args).Parse(&strings)) {
    case JsonArray::kNotJson:
      return Ok();  // shell form, as Docker does for `RUN [ -f x ] && ...`
    case JsonArray::kNotStrings:
      return InvalidArgument(StrCat(ins.keyword, ": exec form must be a JSON array of strings"));
    case JsonArray::kStrings:
      ins.json_form = true;
      ins.json_args = std::move(strings);
      return Ok();
  }
  return Ok();
}

unexpected<Error> AtLeastOne(std::string_view keyword) {
  return InvalidArgument(StrCat(keyword, " requires at least one argument"));
}

// One instruction from its joined text; errors carry no position (the caller adds it).
Result<Instruction> ParseInstructionText(std::string_view line, SourcePos pos, char escape,
                                         bool trigger) {
  Instruction ins;
  ins.pos = pos;
  line = TrimSpace(line);
  ins.original = std::string(line);
  size_t sp = 0;
  while (sp < line.size() && !IsSpace(line[sp])) ++sp;
  std::string_view word = line.substr(0, sp);
  ins.keyword = Upper(word);
  bool known = false;
  for (std::string_view k : kKeywords) known = known || k == ins.keyword;
  if (!known) return InvalidArgument(StrCat("unknown instruction ", Quote(word)));
  if (trigger &&
      (ins.keyword == "ONBUILD" || ins.keyword == "FROM" || ins.keyword == "MAINTAINER")) {
    return InvalidArgument(StrCat(ins.keyword, " is not allowed as an ONBUILD trigger"));
  }

  std::vector<std::string> flag_words;
  std::string_view args = TrimSpace(ExtractFlagWords(line.substr(sp), &flag_words));
  for (std::string& w : flag_words) {
    std::string_view body = std::string_view(w).substr(2);  // after "--"
    Instruction::Flag f;
    size_t eq = body.find('=');
    f.name = std::string(body.substr(0, eq));
    if (eq != std::string_view::npos) {
      f.value = std::string(body.substr(eq + 1));
      f.has_value = true;
    }
    if (f.name.empty()) return InvalidArgument(StrCat("bad flag syntax ", Quote(w)));
    ins.flags.push_back(std::move(f));
  }

  const std::string& k = ins.keyword;
  if (k == "RUN" || k == "CMD" || k == "ENTRYPOINT" || k == "SHELL") {
    BERTH_TRY(ParseMaybeJson(ins, args));
    if (!ins.json_form && args.empty()) return AtLeastOne(k);
    if (k == "SHELL") {
      if (!ins.json_form) return InvalidArgument("SHELL requires the arguments in JSON form");
      if (ins.json_args.empty()) return AtLeastOne(k);
    }
  } else if (k == "COPY" || k == "ADD") {
    BERTH_TRY(ParseMaybeJson(ins, args));
    size_t n = ins.json_form ? ins.json_args.size() : Fields(args).size();
    if (n < 2) return InvalidArgument(StrCat(k, " requires a source and a destination"));
  } else if (k == "VOLUME") {
    BERTH_TRY(ParseMaybeJson(ins, args));
    if (ins.json_form) {
      if (ins.json_args.empty()) return AtLeastOne(k);
      for (const std::string& v : ins.json_args) {
        if (TrimSpace(v).empty()) return InvalidArgument("VOLUME cannot be an empty string");
      }
    } else if (args.empty()) {
      return AtLeastOne(k);
    }
  } else if (k == "HEALTHCHECK") {
    size_t end = 0;
    while (end < args.size() && !IsSpace(args[end])) ++end;
    if (end == 0) return AtLeastOne(k);
    ins.subcommand = Upper(args.substr(0, end));
    std::string_view cmd = TrimLeft(args.substr(end));
    if (ins.subcommand == "NONE") {
      if (!cmd.empty()) return InvalidArgument("HEALTHCHECK NONE takes no arguments");
    } else if (ins.subcommand == "CMD") {
      BERTH_TRY(ParseMaybeJson(ins, cmd));
      if (ins.json_form ? ins.json_args.empty() : cmd.empty()) {
        return InvalidArgument("HEALTHCHECK CMD requires a command");
      }
    } else {
      return InvalidArgument(
          StrCat("unknown HEALTHCHECK type ", Quote(args.substr(0, end)), " (try CMD or NONE)"));
    }
  } else if (k == "ONBUILD") {
    if (args.empty()) return AtLeastOne(k);
    ins.text = std::string(args);
    BERTH_ASSIGN_OR_RETURN_CTX(Instruction t, ParseInstructionText(args, pos, escape, true),
                               "ONBUILD");
    ins.onbuild.push_back(std::move(t));
  } else if (k == "FROM") {
    ins.text = std::string(args);
    std::vector<std::string_view> w = Fields(args);
    if (w.size() == 3 && Lower(w[1]) == "as") {
      if (!IsValidStageName(Lower(w[2]))) {
        return InvalidArgument(StrCat("invalid stage name ", Quote(w[2]),
                                      ": must start with a letter and contain only letters, "
                                      "digits, `-`, `_` and `.`"));
      }
    } else if (w.size() != 1) {
      return InvalidArgument("FROM requires either one or three arguments (`FROM image AS name`)");
    }
    for (const Instruction::Flag& f : ins.flags) {
      if (f.name != "platform")
        return InvalidArgument(StrCat("FROM: unknown flag ", Quote(f.name)));
    }
  } else {
    ins.text = std::string(args);
    if (k == "ENV" || k == "LABEL" || k == "ARG") {
      BERTH_TRY(ParseKeyValues(ins, escape));
    } else if (args.empty()) {
      // WORKDIR, USER, STOPSIGNAL, MAINTAINER take the rest of the line as one argument;
      // EXPOSE takes a list.
      if (k == "EXPOSE") return AtLeastOne(k);
      return InvalidArgument(StrCat(k, " requires exactly one argument"));
    }
  }
  return ins;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view path) : path_(path) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(start, nl - start);
      while (line.ends_with('\r')) line.remove_suffix(1);
      lines_.push_back(line);
      start = nl + 1;
    }
  }

  Result<Dockerfile> Parse() {
    df_.path = std::string(path_);
    size_t i = 0;
    while (i < lines_.size()) {
      std::string_view raw = lines_[i];
      int line_no = static_cast<int>(++i);
      std::string_view content = TrimLeft(raw);
      if (!directives_done_) BERTH_TRY(Directive(content, line_no));
      if (content.starts_with('#')) content = {};
      auto [first, eol] = TrimContinuation(content);
      if (eol && first.empty()) continue;
      SourcePos pos{line_no, static_cast<int>(raw.size() - content.size()) + 1};

      std::string joined(first);
      while (!eol && i < lines_.size()) {
        std::string_view next = lines_[i++];
        std::string_view left = TrimLeft(next);
        // Comment lines and blank lines inside a continuation are dropped (BuildKit).
        if (left.empty() || left.starts_with('#')) continue;
        std::string_view piece;
        std::tie(piece, eol) = TrimContinuation(next);
        joined += piece;
      }

      auto parsed = ParseInstructionText(joined, pos, df_.escape, false);
      if (!parsed.has_value()) return At(pos, parsed.error().message());
      Instruction ins = std::move(*parsed);

      if ((ins.keyword == "RUN" || ins.keyword == "COPY" || ins.keyword == "ADD") &&
          !ins.json_form && first.find("<<") != std::string_view::npos) {
        for (HeredocMarker& m : FindHeredocs(first)) {
          SourcePos at{line_no, static_cast<int>(first.data() - raw.data() + m.offset) + 1};
          if (!ReadHeredocBody(m.doc, i)) {
            return At(at, StrCat("unterminated heredoc ", Quote(StrCat("<<", m.doc.name))));
          }
          ins.heredocs.push_back(std::move(m.doc));
        }
      }
      BERTH_TRY(Add(std::move(ins)));
    }
    if (df_.stages.empty()) {
      SourcePos pos{1, 1};
      if (!df_.global_args.empty()) pos = df_.global_args.front().pos;
      return At(pos, "no FROM instruction: a Dockerfile needs at least one build stage");
    }
    return std::move(df_);
  }

 private:
  unexpected<Error> At(SourcePos pos, std::string_view what) const {
    return InvalidArgument(StrCat(path_, ':', pos.line, ':', pos.column, ": ", what));
  }

  // `# name=value` at the top of the file; anything else ends the directives, and an unknown
  // name is a comment that ends them too (the reference's rule).
  Status Directive(std::string_view line, int line_no) {
    auto done = [&] {
      directives_done_ = true;
      return Ok();
    };
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r'; };
    if (!line.starts_with('#')) return done();
    size_t i = 1;
    while (i < line.size() && blank(line[i])) ++i;
    size_t name_start = i;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (i == line.size() || !alpha(line[i])) return done();
    while (i < line.size() && (alpha(line[i]) || (line[i] >= '0' && line[i] <= '9'))) ++i;
    std::string name = Lower(line.substr(name_start, i - name_start));
    while (i < line.size() && blank(line[i])) ++i;
    if (i == line.size() || line[i] != '=') return done();
    std::string_view value = TrimSpace(line.substr(i + 1));
    if (value.empty()) return done();
    SourcePos pos{line_no, 1};
    if (name != "escape" && name != "syntax" && name != "check") return done();
    for (const std::string& s : seen_directives_) {
      if (s == name)
        return At(pos, StrCat("only one ", Quote(name), " parser directive can be used"));
    }
    seen_directives_.push_back(name);
    if (name == "escape") {
      if (value != "\\" && value != "`") {
        return At(pos, StrCat("invalid escape character ", Quote(value), ": must be \\ or `"));
      }
      df_.escape = value[0];
    } else if (name == "syntax") {
      df_.syntax = std::string(value);
    }
    return Ok();
  }

  // Removes a continuation (the escape character, then optional blanks, at the end of the
  // line). Second: true when the line ends the instruction.
  std::pair<std::string_view, bool> TrimContinuation(std::string_view line) const {
    std::string_view s = line;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (!s.empty() && s.back() == df_.escape) {
      s.remove_suffix(1);
      return {s, false};
    }
    return {line, true};
  }

  // Reads lines from `i` up to the terminator into `doc`; false at end of file.
  bool ReadHeredocBody(Heredoc& doc, size_t& i) {
    while (i < lines_.size()) {
      std::string_view l = lines_[i++];
      if (doc.strip_tabs) {
        while (l.starts_with('\t')) l.remove_prefix(1);
      }
      if (l == doc.name) return true;
      doc.content.append(l);
      doc.content.push_back('\n');
    }
    return false;
  }

  Status Add(Instruction ins) {
    if (ins.keyword == "FROM") {
      Stage st;
      st.index = static_cast<int>(df_.stages.size());
      st.pos = ins.pos;
      std::vector<std::string_view> w = Fields(ins.text);
      st.base = std::string(w[0]);
      if (w.size() == 3) st.name = Lower(w[2]);
      for (const Instruction::Flag& f : ins.flags) {
        if (f.name == "platform") st.platform = f.value;
      }
      if (!st.name.empty()) {
        for (const Stage& other : df_.stages) {
          if (other.name == st.name) {
            return At(ins.pos, StrCat("duplicate stage name ", Quote(st.name), " (first at line ",
                                      other.pos.line, ")"));
          }
        }
      }
      df_.stages.push_back(std::move(st));
      return Ok();
    }
    if (df_.stages.empty()) {
      if (ins.keyword == "ARG") {
        df_.global_args.push_back(std::move(ins));
        return Ok();
      }
      return At(ins.pos, StrCat(ins.keyword, " before the first FROM (only ARG may come first)"));
    }
    df_.stages.back().instructions.push_back(std::move(ins));
    return Ok();
  }

  std::string_view path_;
  std::vector<std::string_view> lines_;
  Dockerfile df_;
  bool directives_done_ = false;
  std::vector<std::string> seen_directives_;
};

}  // namespace

Result<Dockerfile> ParseDockerfile(std::string_view text, std::string_view path) {
  return Parser(text, path).Parse();
}

Result<std::vector<KeyValue>> ParseKeyValues(const Instruction& ins, char escape) {
  const std::string& k = ins.keyword;
  if (k != "ENV" && k != "LABEL" && k != "ARG") {
    return InvalidArgument(StrCat(k, " has no key=value arguments"));
  }
  std::vector<std::string> words = RawWords(ins.text, escape);
  if (words.empty()) return AtLeastOne(k);
  std::vector<KeyValue> out;
  if (k == "ARG") {
    for (const std::string& w : words) {
      KeyValue kv;
      size_t eq = w.find('=');
      kv.key = w.substr(0, eq);
      kv.has_value = eq != std::string::npos;
      if (kv.has_value) kv.value = w.substr(eq + 1);
      if (kv.key.empty()) return InvalidArgument("ARG names can not be blank");
      out.push_back(std::move(kv));
    }
    return out;
  }
  if (k == "ENV" && words[0].find('=') == std::string::npos) {
    // Legacy `ENV key value with spaces`: the key is the first field, the value the rest of
    // the text as written.
    std::string_view text = TrimSpace(ins.text);
    size_t sp = 0;
    while (sp < text.size() && !IsSpace(text[sp])) ++sp;
    std::string_view value = TrimLeft(text.substr(sp));
    if (value.empty()) {
      return InvalidArgument(StrCat("ENV ", Quote(text.substr(0, sp)),
                                    " needs a value (`ENV key=value` or `ENV key value`)"));
    }
    out.push_back(KeyValue{std::string(text.substr(0, sp)), std::string(value), true});
    return out;
  }
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument(StrCat(k, ": missing `=` in ", Quote(w), " (must be key=value)"));
    }
    if (eq == 0) return InvalidArgument(StrCat(k, " names can not be blank"));
    out.push_back(KeyValue{w.substr(0, eq), w.substr(eq + 1), true});
  }
  return out;
}

}  // namespace berth::build
