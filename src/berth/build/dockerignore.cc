// berth/build: .dockerignore patterns. A pattern compiles to a list of tokens matched by a
// small NFA simulation, so matching costs O(pattern × path) whatever the stars: Go-style
// backtracking on `*/*/*/...` against a long path would be exponential.
#include "berth/build/dockerignore.h"

#include <cstdint>

#include "berth/base/strings.h"

namespace berth::build {

namespace {

// A code point, or 0x110000 + byte for a byte that is not valid UTF-8 (so that such bytes
// still match themselves and `?` consumes one of them).
using Rune = uint32_t;

std::vector<Rune> DecodeUtf8(std::string_view s) {
  std::vector<Rune> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    Rune r = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) ok = false;
      r = (r << 6) | (c & 0x3f);
    }
    if (ok) {
      out.push_back(r);
      i += len;
    } else {
      out.push_back(0x110000 + b);
      ++i;
    }
  }
  return out;
}

struct Token {
  enum Kind : uint8_t {
    kLiteral,   // `c`, or `\c`
    kAny,       // `?`: one character but '/'
    kClass,     // `[...]`
    kStar,      // `*`: any run without '/'
    kAnyDirs,   // `**` before more pattern: "" or anything ending in '/'
    kAnything,  // `**` at the end: any run, '/' included
  };
  explicit Token(Kind k, Rune r = 0) : kind(k), rune(r) {}
  Kind kind;
  Rune rune = 0;                              // kLiteral
  bool negated = false;                       // kClass
  std::vector<std::pair<Rune, Rune>> ranges;  // kClass
};

bool ClassMatches(const Token& t, Rune r) {
  bool in = false;
  for (const auto& [lo, hi] : t.ranges) {
    if (lo <= r && r <= hi) {
      in = true;
      break;
    }
  }
  return in != t.negated;
}

// Compiles `pattern` like Docker's patternmatcher does (`*` and `?` stop at '/', `**/` is any
// number of directories, a final `**` is anything) with Go filepath.Match's classes and `\`.
Result<std::vector<Token>> Compile(std::string_view pattern) {
  std::vector<Rune> p = DecodeUtf8(pattern);
  std::vector<Token> out;
  auto bad = [&] { return InvalidArgument(StrCat("bad pattern ", Quote(pattern))); };
  size_t i = 0;
  while (i < p.size()) {
    Rune c = p[i++];
    if (c == '*') {
      if (i < p.size() && p[i] == '*') {
        ++i;
        if (i < p.size() && p[i] == '/') ++i;  // `**/` is `**`
        out.push_back(Token(i == p.size() ? Token::kAnything : Token::kAnyDirs));
      } else {
        out.push_back(Token(Token::kStar));
      }
    } else if (c == '?') {
      out.push_back(Token(Token::kAny));
    } else if (c == '\\') {
      if (i == p.size()) return bad();  // filepath.Match: a trailing `\` is ErrBadPattern
      out.push_back(Token(Token::kLiteral, p[i++]));
    } else if (c == '[') {
      Token t(Token::kClass);
      if (i < p.size() && p[i] == '^') {
        t.negated = true;
        ++i;
      }
      // One endpoint of a range: a character, or `\c`; `-` and `]` must be escaped.
      auto endpoint = [&](Rune* r) -> bool {
        if (i == p.size() || p[i] == '-' || p[i] == ']') return false;
        if (p[i] == '\\') {
          ++i;
          if (i == p.size()) return false;
        }
        *r = p[i++];
        return true;
      };
      bool closed = false;
      while (i < p.size()) {
        if (p[i] == ']' && !t.ranges.empty()) {
          ++i;
          closed = true;
          break;
        }
        Rune lo, hi;
        if (!endpoint(&lo)) return bad();
        hi = lo;
        if (i < p.size() && p[i] == '-') {
          ++i;
          if (!endpoint(&hi)) return bad();
        }
        t.ranges.emplace_back(lo, hi);
      }
      if (!closed) return bad();
      out.push_back(std::move(t));
    } else {
      out.push_back(Token(Token::kLiteral, c));
    }
  }
  return out;
}

// NFA over the tokens. State 2*t is "before token t"; 2*t+1 is "inside the `**` at t, after
// at least one character". State 2*n (n = tokens) accepts.
class Nfa {
 public:
  explicit Nfa(const std::vector<Token>& tokens)
      : tokens_(tokens), cur_(2 * tokens.size() + 2, 0), next_(cur_.size(), 0) {
    Add(cur_, 0);
  }

  void Step(Rune r) {
    std::fill(next_.begin(), next_.end(), 0);
    size_t n = tokens_.size();
    for (size_t t = 0; t < n; ++t) {
      const Token& tok = tokens_[t];
      bool before = cur_[2 * t] != 0;
      bool inside = cur_[2 * t + 1] != 0;
      if (!before && !inside) continue;
      switch (tok.kind) {
        case Token::kLiteral:
          if (before && r == tok.rune) Add(next_, t + 1);
          break;
        case Token::kAny:
          if (before && r != '/') Add(next_, t + 1);
          break;
        case Token::kClass:
          if (before && ClassMatches(tok, r)) Add(next_, t + 1);
          break;
        case Token::kStar:
          if (before && r != '/') Add(next_, t);
          break;
        case Token::kAnything:
          if (before) Add(next_, t);
          break;
        case Token::kAnyDirs:
          next_[2 * t + 1] = 1;
          if (r == '/') Add(next_, t + 1);
          break;
      }
    }
    cur_.swap(next_);
  }

  bool Accepting() const { return cur_[2 * tokens_.size()] != 0; }
  bool Dead() const {
    for (char c : cur_) {
      if (c != 0) return false;
    }
    return true;
  }
  // Some token is still to be matched: the pattern can match a longer string.
  bool CanContinue() const {
    for (size_t s = 0; s < 2 * tokens_.size(); ++s) {
      if (cur_[s] != 0) return true;
    }
    return false;
  }

 private:
  // Adds "before token t" and what is reachable from it without input: the stars can match
  // nothing.
  void Add(std::vector<char>& set, size_t t) {
    while (true) {
      if (set[2 * t] != 0) return;
      set[2 * t] = 1;
      if (t == tokens_.size()) return;
      Token::Kind k = tokens_[t].kind;
      if (k != Token::kStar && k != Token::kAnyDirs && k != Token::kAnything) return;
      ++t;
    }
  }

  const std::vector<Token>& tokens_;
  std::vector<char> cur_;
  std::vector<char> next_;
};

bool MatchTokens(const std::vector<Token>& tokens, std::string_view path) {
  Nfa nfa(tokens);
  for (Rune r : DecodeUtf8(path)) {
    nfa.Step(r);
    if (nfa.Dead()) return false;
  }
  return nfa.Accepting();
}

// Like filepath.Clean on a path rooted at the context: "." and empty elements go, ".." drops
// the previous element and cannot climb above the root. "" when nothing is left.
std::string CleanRelative(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string_view::npos) slash = p.size();
    std::string_view part = p.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view TrimBlank(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The path itself, then each parent from the top: "a", "a/b", "a/b/c" for "a/b/c".
bool MatchesSelfOrParent(const std::vector<Token>& tokens, std::string_view path) {
  if (MatchTokens(tokens, path)) return true;
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (MatchTokens(tokens, path.substr(0, slash))) return true;
  }
  return false;
}

}  // namespace

Result<IgnoreMatcher> IgnoreMatcher::Parse(std::string_view text, std::string_view path) {
  IgnoreMatcher m;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    ++line_no;
    // Only a '#' in the first column starts a comment (Docker's rule; ` #x` is a pattern).
    if (line.starts_with('#')) continue;
    line = TrimBlank(line);
    if (line.empty()) continue;
    Pattern p;
    if (line.front() == '!') {
      p.negate = true;
      line = TrimBlank(line.substr(1));
      if (line.empty()) {
        return InvalidArgument(StrCat(path, ':', line_no, ": bad pattern `!`"));
      }
    }
    p.text = CleanRelative(line);
    // A pattern that cleans to the context root (`/`, `.`) names no file inside it.
    if (p.text.empty()) p.text = ".";
    if (!Compile(p.text).has_value()) {
      return InvalidArgument(StrCat(path, ':', line_no, ": bad pattern ", Quote(line)));
    }
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

bool IgnoreMatcher::Excluded(std::string_view rel) const {
  std::string path = CleanRelative(rel);
  if (path.empty()) return false;  // the context root itself is always sent
  bool excluded = false;
  for (const Pattern& p : patterns_) {
    // An exclusion can only change an included path and an exception an excluded one.
    if (p.negate != excluded) continue;
    // Compiling again is cheaper than it looks (patterns are short) and keeps the token type
    // out of the header; Parse already rejected the patterns that do not compile.
    auto tokens = Compile(p.text);
    if (tokens.has_value() && MatchesSelfOrParent(*tokens, path)) excluded = !p.negate;
  }
  return excluded;
}

bool IgnoreMatcher::MayReincludeBelow(std::string_view rel) const {
  std::string dir = CleanRelative(rel);
  for (const Pattern& p : patterns_) {
    if (!p.negate) continue;
    if (dir.empty()) return true;
    auto tokens = Compile(p.text);
    if (!tokens.has_value()) continue;
    // An exception matching the directory or a parent re-includes all of it.
    if (MatchesSelfOrParent(*tokens, dir)) return true;
    // Otherwise: can the pattern match "dir/" followed by something?
    Nfa nfa(*tokens);
    bool dead = false;
    for (Rune r : DecodeUtf8(dir + "/")) {
      nfa.Step(r);
      if (nfa.Dead()) {
        dead = true;
        break;
      }
    }
    if (!dead && nfa.CanContinue()) return true;
  }
  return false;
}

Result<bool> IgnoreMatcher::Match(std::string_view pattern, std::string_view path) {
  BERTH_ASSIGN_OR_RETURN(std::vector<Token> tokens, Compile(pattern));
  return MatchTokens(tokens, path);
}

}  // namespace berth::build
