// berth CLI: a small interpreter for docker's --format templates (see template.h).
#include "template.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>

#include "berth/base/strings.h"
#include "format.h"

namespace berth::cli {

namespace {

struct Pipeline;

struct Arg {
  enum class Kind { kField, kLiteral, kIdent, kSub };
  Kind kind = Kind::kLiteral;
  bool from_root = false;         // $ or $.A
  std::vector<std::string> path;  // field chain; empty = the value itself
  Json literal;
  std::string ident;              // function name
  std::shared_ptr<Pipeline> sub;  // ( pipeline )
};
struct Command {
  std::vector<Arg> args;
};
struct Pipeline {
  std::vector<Command> cmds;
};

Json Missing() { return Json(Json::value_t::discarded); }

}  // namespace

struct Template::Node {
  enum class Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = Kind::kText;
  std::string text;
  Pipeline pipe;
  std::vector<Node> body, else_body;
};

namespace {

using Node = Template::Node;

// ---- lexing and parsing of one action's pipeline

class PipelineParser {
 public:
  explicit PipelineParser(std::string_view s) : s_(s) {}

  Result<Pipeline> ParseAll() {
    BERTH_ASSIGN_OR_RETURN(Pipeline p, ParsePipeline());
    SkipSpace();
    if (pos_ != s_.size()) return Err(StrCat("unexpected ", Quote(s_.substr(pos_, 1))));
    return p;
  }

 private:
  unexpected<Error> Err(std::string what) {
    return InvalidArgument(StrCat("in ", Quote(s_), ": ", what));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  static bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  Result<Pipeline> ParsePipeline() {
    Pipeline p;
    while (true) {
      Command c;
      while (true) {
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] == '|' || s_[pos_] == ')') break;
        BERTH_ASSIGN_OR_RETURN(Arg a, ParseArg());
        c.args.push_back(std::move(a));
      }
      if (c.args.empty()) return Err("missing value for command");
      p.cmds.push_back(std::move(c));
      if (pos_ < s_.size() && s_[pos_] == '|') {
        ++pos_;
        continue;
      }
      return p;
    }
  }

  // ".A.B" after the leading position; fills `a.path`.
  void ParsePath(Arg& a) {
    while (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < s_.size() && IdentChar(s_[pos_])) ++pos_;
      if (pos_ > start) a.path.emplace_back(s_.substr(start, pos_ - start));
    }
  }

  Result<Arg> ParseArg() {
    Arg a;
    char c = s_[pos_];
    if (c == '.') {
      a.kind = Arg::Kind::kField;
      ParsePath(a);
      return a;
    }
    if (c == '$') {
      ++pos_;
      a.kind = Arg::Kind::kField;
      a.from_root = true;
      ParsePath(a);
      return a;
    }
    if (c == '(') {
      ++pos_;
      BERTH_ASSIGN_OR_RETURN(Pipeline p, ParsePipeline());
      if (pos_ >= s_.size() || s_[pos_] != ')') return Err("unclosed left paren");
      ++pos_;
      a.kind = Arg::Kind::kSub;
      a.sub = std::make_shared<Pipeline>(std::move(p));
      return a;
    }
    if (c == '"' || c == '`') {
      ++pos_;
      std::string v;
      while (pos_ < s_.size() && s_[pos_] != c) {
        char ch = s_[pos_++];
        if (c == '"' && ch == '\\' && pos_ < s_.size()) {
          char e = s_[pos_++];
          ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        }
        v.push_back(ch);
      }
      if (pos_ >= s_.size()) return Err("unterminated quoted string");
      ++pos_;
      a.literal = v;
      return a;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      size_t start = pos_++;
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
        ++pos_;
      std::string num(s_.substr(start, pos_ - start));
      if (num.find('.') != std::string::npos) {
        a.literal = std::strtod(num.c_str(), nullptr);
      } else {
        a.literal = static_cast<int64_t>(std::strtoll(num.c_str(), nullptr, 10));
      }
      return a;
    }
    if (IdentChar(c)) {
      size_t start = pos_;
      while (pos_ < s_.size() && IdentChar(s_[pos_])) ++pos_;
      std::string id(s_.substr(start, pos_ - start));
      if (id == "true" || id == "false") {
        a.literal = id == "true";
      } else if (id == "nil") {
        a.literal = nullptr;
      } else {
        a.kind = Arg::Kind::kIdent;
        a.ident = id;
      }
      return a;
    }
    return Err(StrCat("unexpected ", Quote(std::string_view(&c, 1))));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---- splitting the text into text and actions, then building the tree

struct Item {
  bool action = false;
  std::string text;
};

Result<std::vector<Item>> Lex(std::string_view t) {
  std::vector<Item> items;
  size_t pos = 0;
  bool trim_next = false;
  while (pos <= t.size()) {
    size_t open = t.find("{{", pos);
    std::string text(
        t.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (trim_next) {
      size_t i = 0;
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      text.erase(0, i);
    }
    if (open == std::string_view::npos) {
      if (!text.empty()) items.push_back({false, text});
      break;
    }
    size_t body = open + 2;
    if (t.substr(body, 2) == "- ") {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      body += 2;
    }
    if (!text.empty()) items.push_back({false, text});
    size_t close = t.find("}}", body);
    if (close == std::string_view::npos) {
      return InvalidArgument(StrCat("unclosed action at offset ", open));
    }
    size_t end = close;
    trim_next = false;
    if (end >= body + 2 && t.substr(end - 2, 2) == " -") {
      end -= 2;
      trim_next = true;
    }
    std::string_view inner = Trim(t.substr(body, end - body));
    if (!(inner.starts_with("/*") && inner.ends_with("*/"))) {
      items.push_back({true, std::string(inner)});
    }
    pos = close + 2;
  }
  return items;
}

class TreeParser {
 public:
  explicit TreeParser(std::vector<Item> items) : items_(std::move(items)) {}

  Result<std::vector<Node>> ParseTop() {
    std::vector<Node> out;
    BERTH_ASSIGN_OR_RETURN(std::string stop, ParseList(out));
    if (!stop.empty()) return InvalidArgument(StrCat("unexpected {{", stop, "}}"));
    return out;
  }

 private:
  // Parses nodes until {{end}} or {{else...}} (returned: "end", "else", "else if X") or the
  // end of input (returned: "").
  Result<std::string> ParseList(std::vector<Node>& out) {
    while (pos_ < items_.size()) {
      const Item& it = items_[pos_++];
      if (!it.action) {
        out.push_back({Node::Kind::kText, it.text, {}, {}, {}});
        continue;
      }
      std::string_view a = it.text;
      if (a == "end" || a == "else" || a.starts_with("else ")) return std::string(a);
      Node n;
      std::string_view rest = a;
      if (a.starts_with("if ")) {
        n.kind = Node::Kind::kIf;
        rest = a.substr(3);
      } else if (a.starts_with("range ")) {
        n.kind = Node::Kind::kRange;
        rest = a.substr(6);
      } else if (a.starts_with("with ")) {
        n.kind = Node::Kind::kWith;
        rest = a.substr(5);
      } else {
        n.kind = Node::Kind::kAction;
      }
      BERTH_ASSIGN_OR_RETURN(n.pipe, PipelineParser(rest).ParseAll());
      if (n.kind != Node::Kind::kAction) {
        BERTH_TRY(ParseControlTail(n));
      }
      out.push_back(std::move(n));
    }
    return std::string();
  }

  Status ParseControlTail(Node& n) {
    BERTH_ASSIGN_OR_RETURN(std::string stop, ParseList(n.body));
    if (stop.starts_with("else if ") && n.kind == Node::Kind::kIf) {
      Node nested;
      nested.kind = Node::Kind::kIf;
      BERTH_ASSIGN_OR_RETURN(nested.pipe, PipelineParser(stop.substr(8)).ParseAll());
      BERTH_TRY(ParseControlTail(nested));  // consumes the shared {{end}}
      n.else_body.push_back(std::move(nested));
      return Ok();
    }
    if (stop == "else") {
      BERTH_ASSIGN_OR_RETURN(stop, ParseList(n.else_body));
    }
    if (stop != "end") return InvalidArgument("missing {{end}}");
    return Ok();
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

// ---- evaluation

bool Truthy(const Json& v) {
  if (v.is_discarded() || v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

Json Field(const Json& v, const std::vector<std::string>& path) {
  const Json* cur = &v;
  for (const auto& p : path) {
    if (!cur->is_object()) return Missing();
    auto it = cur->find(p);
    if (it == cur->end()) return Missing();
    cur = &*it;
  }
  return *cur;
}

std::string Printf(const std::vector<Json>& args) {
  if (args.empty() || !args[0].is_string()) return "";
  const std::string& f = args[0].get_ref<const std::string&>();
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out.push_back(f[i]);
      continue;
    }
    size_t j = i + 1;
    bool left = false;
    if (f[j] == '-') {
      left = true;
      ++j;
    }
    size_t width = 0;
    while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j])))
      width = width * 10 + (f[j++] - '0');
    if (j >= f.size()) break;
    char verb = f[j];
    i = j;
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.size()) {
      out += StrCat("%!", verb, "(MISSING)");
      continue;
    }
    const Json& a = args[next++];
    std::string s = verb == 'q' ? GoQuote(GoValueString(a)) : GoValueString(a);
    if (verb == 'd' && a.is_number()) s = std::to_string(a.get<int64_t>());
    size_t w = DisplayWidth(s);
    if (w < width) {
      std::string pad(width - w, ' ');
      s = left ? s + pad : pad + s;
    }
    out += s;
  }
  return out;
}

int Compare(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  std::string x = GoValueString(a), y = GoValueString(b);
  return x.compare(y) < 0 ? -1 : x == y ? 0 : 1;
}

Result<Json> CallFunction(const std::string& name, std::vector<Json> args) {
  auto need = [&](size_t n) -> Status {
    if (args.size() < n) {
      return InvalidArgument(
          StrCat("wrong number of args for ", name, ": want ", n, " got ", args.size()));
    }
    return Ok();
  };
  auto str = [](const Json& v) { return GoValueString(v); };
  if (name == "json") {
    BERTH_TRY(need(1));
    return Json(args[0].is_discarded() ? std::string("null") : args[0].dump());
  }
  if (name == "index") {
    BERTH_TRY(need(2));
    Json cur = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      if (cur.is_object() && args[i].is_string()) {
        auto it = cur.find(args[i].get<std::string>());
        // Docker's maps are map[string]string: a missing key is the zero value "".
        cur = it == cur.end() ? Json("") : *it;
      } else if (cur.is_array() && args[i].is_number_integer()) {
        int64_t k = args[i].get<int64_t>();
        if (k < 0 || static_cast<size_t>(k) >= cur.size()) {
          return InvalidArgument(StrCat("index out of range: ", k));
        }
        cur = cur[static_cast<size_t>(k)];
      } else {
        return InvalidArgument(StrCat("can't index item of type ", cur.type_name()));
      }
    }
    return cur;
  }
  if (name == "join") {
    BERTH_TRY(need(2));
    std::vector<std::string> parts;
    if (args[0].is_array()) {
      for (const auto& e : args[0]) parts.push_back(str(e));
    } else {
      parts.push_back(str(args[0]));
    }
    return Json(Join(parts, str(args[1])));
  }
  if (name == "split") {
    BERTH_TRY(need(2));
    std::string sep = str(args[1]);
    Json out = Json::array();
    std::string s = str(args[0]);
    if (sep.empty()) {
      for (char c : s) out.push_back(std::string(1, c));
      return out;
    }
    size_t start = 0;
    while (true) {
      size_t p = s.find(sep, start);
      out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
      if (p == std::string::npos) return out;
      start = p + sep.size();
    }
  }
  if (name == "upper" || name == "lower" || name == "title") {
    BERTH_TRY(need(1));
    std::string s = str(args[0]);
    bool start = true;
    for (char& c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (name == "upper")
        c = static_cast<char>(std::toupper(u));
      else if (name == "lower")
        c = static_cast<char>(std::tolower(u));
      else if (start)
        c = static_cast<char>(std::toupper(u));
      start = std::isspace(u);
    }
    return Json(s);
  }
  if (name == "len") {
    BERTH_TRY(need(1));
    if (args[0].is_string()) return Json(args[0].get_ref<const std::string&>().size());
    if (args[0].is_array() || args[0].is_object()) return Json(args[0].size());
    return InvalidArgument(StrCat("len of type ", args[0].type_name()));
  }
  if (name == "printf") return Json(Printf(args));
  if (name == "print" || name == "println") {
    std::vector<std::string> parts;
    for (const auto& a : args) parts.push_back(str(a));
    return Json(Join(parts, name == "println" ? " " : "") + (name == "println" ? "\n" : ""));
  }
  if (name == "truncate") {
    BERTH_TRY(need(2));
    std::string s = str(args[0]);
    int64_t n = args[1].is_number() ? args[1].get<int64_t>() : 0;
    if (n >= 0 && static_cast<size_t>(n) < s.size()) s.resize(static_cast<size_t>(n));
    return Json(s);
  }
  if (name == "pad") {
    BERTH_TRY(need(3));
    int64_t l = args[1].is_number() ? args[1].get<int64_t>() : 0;
    int64_t r = args[2].is_number() ? args[2].get<int64_t>() : 0;
    return Json(std::string(static_cast<size_t>(std::max<int64_t>(l, 0)), ' ') + str(args[0]) +
                std::string(static_cast<size_t>(std::max<int64_t>(r, 0)), ' '));
  }
  if (name == "eq" || name == "ne") {
    BERTH_TRY(need(2));
    bool eq = false;
    for (size_t i = 1; i < args.size(); ++i) eq = eq || Compare(args[0], args[i]) == 0;
    return Json(name == "eq" ? eq : !eq);
  }
  if (name == "lt" || name == "le" || name == "gt" || name == "ge") {
    BERTH_TRY(need(2));
    int c = Compare(args[0], args[1]);
    bool r = name == "lt" ? c < 0 : name == "le" ? c <= 0 : name == "gt" ? c > 0 : c >= 0;
    return Json(r);
  }
  if (name == "not") {
    BERTH_TRY(need(1));
    return Json(!Truthy(args[0]));
  }
  if (name == "and" || name == "or") {
    BERTH_TRY(need(1));
    for (const auto& a : args) {
      if (name == "and" && !Truthy(a)) return a;
      if (name == "or" && Truthy(a)) return a;
    }
    return args.back();
  }
  return InvalidArgument(StrCat("function ", Quote(name), " not defined"));
}

struct Evaluator {
  const Json& root;

  Result<Json> EvalPipeline(const Pipeline& p, const Json& dot) {
    Json prev = Missing();
    bool has_prev = false;
    for (const auto& c : p.cmds) {
      BERTH_ASSIGN_OR_RETURN(prev, EvalCommand(c, dot, has_prev ? &prev : nullptr));
      has_prev = true;
    }
    return prev;
  }

  Result<Json> EvalArg(const Arg& a, const Json& dot) {
    switch (a.kind) {
      case Arg::Kind::kField:
        return Field(a.from_root ? root : dot, a.path);
      case Arg::Kind::kLiteral:
        return a.literal;
      case Arg::Kind::kSub:
        return EvalPipeline(*a.sub, dot);
      case Arg::Kind::kIdent:
        return CallFunction(a.ident, {});
    }
    return Missing();
  }

  Result<Json> EvalCommand(const Command& c, const Json& dot, const Json* piped) {
    const Arg& first = c.args[0];
    if (first.kind == Arg::Kind::kIdent) {
      std::vector<Json> args;
      for (size_t i = 1; i < c.args.size(); ++i) {
        BERTH_ASSIGN_OR_RETURN(Json v, EvalArg(c.args[i], dot));
        args.push_back(std::move(v));
      }
      if (piped) args.push_back(*piped);
      return CallFunction(first.ident, std::move(args));
    }
    // docker's `.Label "key"` method on ps/volume rows.
    if (first.kind == Arg::Kind::kField && !first.path.empty() && first.path.back() == "Label" &&
        c.args.size() == 2) {
      std::vector<std::string> parent(first.path.begin(), first.path.end() - 1);
      Json obj = Field(first.from_root ? root : dot, parent);
      BERTH_ASSIGN_OR_RETURN(Json key, EvalArg(c.args[1], dot));
      return Json(
          LabelValue(obj.is_object() ? obj.value("Labels", Json()) : Json(), GoValueString(key)));
    }
    if (c.args.size() > 1 || piped) {
      return InvalidArgument("can't give argument to non-function");
    }
    return EvalArg(first, dot);
  }

  Status Exec(const std::vector<Node>& nodes, const Json& dot, std::string& out) {
    for (const auto& n : nodes) {
      switch (n.kind) {
        case Node::Kind::kText:
          out += n.text;
          break;
        case Node::Kind::kAction: {
          BERTH_ASSIGN_OR_RETURN(Json v, EvalPipeline(n.pipe, dot));
          out += GoValueString(v);
          break;
        }
        case Node::Kind::kIf:
        case Node::Kind::kWith: {
          BERTH_ASSIGN_OR_RETURN(Json v, EvalPipeline(n.pipe, dot));
          if (Truthy(v)) {
            BERTH_TRY(Exec(n.body, n.kind == Node::Kind::kWith ? v : dot, out));
          } else {
            BERTH_TRY(Exec(n.else_body, dot, out));
          }
          break;
        }
        case Node::Kind::kRange: {
          BERTH_ASSIGN_OR_RETURN(Json v, EvalPipeline(n.pipe, dot));
          if (!Truthy(v)) {
            BERTH_TRY(Exec(n.else_body, dot, out));
            break;
          }
          if (!v.is_array() && !v.is_object()) {
            return InvalidArgument(StrCat("range can't iterate over ", GoValueString(v)));
          }
          for (const auto& e : v) BERTH_TRY(Exec(n.body, e, out));
          break;
        }
      }
    }
    return Ok();
  }
};

}  // namespace

std::string GoValueString(const Json& v) {
  if (v.is_discarded()) return "<no value>";
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& e : v) parts.push_back(GoValueString(e));
    return "[" + Join(parts, " ") + "]";
  }
  std::vector<std::string> parts;
  for (const auto& [k, e] : v.items()) parts.push_back(k + ":" + GoValueString(e));
  return "map[" + Join(parts, " ") + "]";
}

Result<Template> Template::Parse(std::string_view text) {
  auto fail = [&](Error e) {
    return Unexpected(std::move(e).Wrap(StrCat("template ", Quote(text))));
  };
  auto items = Lex(text);
  if (!items) return fail(std::move(items).error());
  auto nodes = TreeParser(std::move(*items)).ParseTop();
  if (!nodes) return fail(std::move(nodes).error());
  Template t;
  t.nodes_ = std::make_shared<const std::vector<Node>>(std::move(*nodes));
  return t;
}

Result<std::string> Template::Render(const Json& data) const {
  std::string out;
  Evaluator ev{data};
  BERTH_TRY_CTX(ev.Exec(*nodes_, data, out), "execute template");
  return out;
}

}  // namespace berth::cli
