// berth/build: the Dockerfile word lexer. It follows BuildKit's shell lexer (the behaviour
// `docker build` users rely on), not POSIX sh: no command substitution, no globbing, no
// tilde expansion, and an expanded value is split into words like any unquoted text.
#include "berth/build/shell_words.h"

#include "berth/base/strings.h"

namespace berth::build {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsAsciiDigit(c) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // BuildKit takes Unicode letters in names
}
// sh's special parameters: `$@`, `$#`, ... are names of one character (and expand to "").
bool IsSpecialParam(char c) {
  return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
         c == '0';
}

// `${a:-${b:-...}}` recurses once per level; bound it so hostile input cannot exhaust the
// stack (no real Dockerfile nests more than a few levels).
constexpr int kMaxDepth = 100;

// Collects words the way BuildKit does: characters that came from unquoted text split on
// whitespace, quoted or escaped ones ("raw") never do, and an empty quoted string alone does
// not make a word.
class Words {
 public:
  void AddChar(char c) {
    if (IsSpace(c)) {
      if (in_word_ && !word_.empty()) {
        words_.push_back(std::move(word_));
        word_.clear();
        in_word_ = false;
      }
    } else {
      AddRawChar(c);
    }
  }
  void AddRawChar(char c) {
    word_.push_back(c);
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    for (char c : s) AddChar(c);
  }
  void AddRawString(std::string_view s) {
    word_.append(s);
    in_word_ = true;
  }
  std::vector<std::string> Take() {
    if (!word_.empty()) words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string word_;
  bool in_word_ = false;
};

class Lexer {
 public:
  enum class Mode {
    kWord,     // quotes and escapes removed
    kHeredoc,  // only `$` expansions; quotes are ordinary characters
  };

  Lexer(std::string_view src, const VarLookup& vars, char escape, Mode mode)
      : src_(src), vars_(vars), escape_(escape), mode_(mode) {}

  // The whole input as one string, and split into words.
  Result<std::pair<std::string, std::vector<std::string>>> Run() {
    Words words;
    BERTH_ASSIGN_OR_RETURN(std::string out, ProcessUntil('\0', /*stop=*/false, &words, 0));
    return std::make_pair(std::move(out), words.Take());
  }

 private:
  bool AtEnd() const { return pos_ >= src_.size(); }
  char Peek() const { return src_[pos_]; }

  // Reads up to `stop` (consumed) when `has_stop`, else to the end of input. `words` may be
  // null (inside `${...}`, where only the string is used).
  Result<std::string> ProcessUntil(char stop, bool has_stop, Words* words, int depth) {
    std::string out;
    while (!AtEnd()) {
      char c = Peek();
      if (has_stop && c == stop) {
        ++pos_;
        return out;
      }
      if (mode_ == Mode::kWord && c == '\'') {
        BERTH_ASSIGN_OR_RETURN(std::string s, SingleQuote());
        out += s;
        if (words != nullptr) words->AddRawString(s);
      } else if (mode_ == Mode::kWord && c == '"') {
        BERTH_ASSIGN_OR_RETURN(std::string s, DoubleQuote(depth));
        out += s;
        if (words != nullptr) words->AddRawString(s);
      } else if (c == '$') {
        BERTH_ASSIGN_OR_RETURN(std::string s, Dollar(depth));
        out += s;
        if (words != nullptr) words->AddString(s);
      } else if (c == escape_) {
        ++pos_;
        if (AtEnd()) {
          // A trailing escape character is dropped from a word, kept in a heredoc.
          if (mode_ == Mode::kHeredoc) out.push_back(c);
          break;
        }
        char next = src_[pos_++];
        if (mode_ == Mode::kHeredoc && next != '$' && next != escape_) {
          // In a heredoc only `\$` and `\\` are escapes; `\n` stays for the script.
          out.push_back(c);
          if (words != nullptr) words->AddRawChar(c);
        }
        out.push_back(next);
        if (words != nullptr) words->AddRawChar(next);
      } else {
        ++pos_;
        out.push_back(c);
        if (words != nullptr) words->AddChar(c);
      }
    }
    if (has_stop) return InvalidArgument(StrCat("missing ", Quote(std::string(1, stop))));
    return out;
  }

  Result<std::string> SingleQuote() {
    ++pos_;  // the opening quote
    size_t end = src_.find('\'', pos_);
    if (end == std::string_view::npos) return InvalidArgument("unterminated single quote");
    std::string out(src_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

  Result<std::string> DoubleQuote(int depth) {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (AtEnd()) return InvalidArgument("unterminated double quote");
      char c = Peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '$') {
        BERTH_ASSIGN_OR_RETURN(std::string s, Dollar(depth));
        out += s;
        continue;
      }
      ++pos_;
      if (c == escape_) {
        if (AtEnd()) continue;  // reported as unterminated on the next turn
        char next = Peek();
        // Only `"`, `$` and the escape character itself can be escaped; the escape character
        // stays before anything else (`"a\b"` is `a\b`).
        if (next == '"' || next == '$' || next == escape_) {
          c = next;
          ++pos_;
        }
      }
      out.push_back(c);
    }
  }

  std::string Name() {
    std::string name;
    if (AtEnd()) return name;
    if (IsAsciiDigit(Peek())) {
      while (!AtEnd() && IsAsciiDigit(Peek())) name.push_back(src_[pos_++]);
      return name;
    }
    if (IsSpecialParam(Peek())) return std::string(1, src_[pos_++]);
    while (!AtEnd() && IsNameChar(Peek())) name.push_back(src_[pos_++]);
    return name;
  }

  std::optional<std::string> Lookup(std::string_view name) const {
    if (!vars_) return std::nullopt;
    return vars_(name);
  }

  Result<std::string> Dollar(int depth) {
    if (depth >= kMaxDepth) return InvalidArgument("variable substitutions nested too deeply");
    ++pos_;  // '$'
    if (AtEnd() || Peek() != '{') {
      std::string name = Name();
      if (name.empty()) return std::string("$");  // `$` before a non-name is literal
      return Lookup(name).value_or("");
    }
    ++pos_;  // '{'
    if (AtEnd()) return InvalidArgument("missing `}`");
    if (Peek() == '{' || Peek() == '}' || Peek() == ':') {
      return InvalidArgument("bad substitution");
    }
    std::string name = Name();
    if (name.empty()) return InvalidArgument("bad substitution");
    if (AtEnd()) return InvalidArgument(StrCat("missing `}` after ", Quote(StrCat("${", name))));
    char op = src_[pos_++];
    if (op == '}') return Lookup(name).value_or("");
    bool colon = false;
    if (op == ':') {
      if (AtEnd()) return InvalidArgument("missing `}`");
      colon = true;
      op = src_[pos_++];
    }
    if (op != '-' && op != '+' && op != '?') {
      return InvalidArgument(StrCat("unsupported modifier ", Quote(std::string(1, op)),
                                    " in substitution of ", Quote(name)));
    }
    // The word after the modifier: quotes, escapes and nested `$` are processed in it.
    BERTH_ASSIGN_OR_RETURN(std::string word, ProcessUntil('}', true, nullptr, depth + 1));
    std::optional<std::string> value = Lookup(name);
    // With ':' an empty value counts as unset.
    bool present = colon ? (value.has_value() && !value->empty()) : value.has_value();
    switch (op) {
      case '-':
        return present ? *value : word;
      case '+':
        return present ? word : std::string();
      default:  // '?'
        if (present) return *value;
        if (!word.empty()) return InvalidArgument(StrCat(Quote(name), ": ", word));
        return InvalidArgument(StrCat(Quote(name), value.has_value()
                                                       ? " is not allowed to be empty"
                                                       : " is not allowed to be unset"));
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  const VarLookup& vars_;
  char escape_;
  Mode mode_;
};

}  // namespace

Result<std::string> ExpandWord(std::string_view word, const VarLookup& vars, char escape) {
  Lexer lex(word, vars, escape, Lexer::Mode::kWord);
  BERTH_ASSIGN_OR_RETURN_CTX(auto r, lex.Run(), StrCat("expand ", Quote(word)));
  return std::move(r.first);
}

Result<std::vector<std::string>> ExpandWords(std::string_view text, const VarLookup& vars,
                                             char escape) {
  Lexer lex(text, vars, escape, Lexer::Mode::kWord);
  BERTH_ASSIGN_OR_RETURN_CTX(auto r, lex.Run(), StrCat("expand ", Quote(text)));
  return std::move(r.second);
}

Result<std::string> ExpandHeredoc(std::string_view body, const VarLookup& vars, char escape) {
  Lexer lex(body, vars, escape, Lexer::Mode::kHeredoc);
  BERTH_ASSIGN_OR_RETURN_CTX(auto r, lex.Run(), "expand heredoc");
  return std::move(r.first);
}

}  // namespace berth::build
