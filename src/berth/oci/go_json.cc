// berth/oci: a JSON writer that reproduces Go's encoding/json output.
#include "berth/oci/go_json.h"

#include <charconv>
#include <cstdint>

namespace berth::oci {
namespace {

// Length of the valid UTF-8 sequence at s[0] (1-4), or 0 when it is invalid: overlong forms,
// surrogates and code points past U+10FFFF are invalid, as Go's utf8.DecodeRune rules them.
size_t Utf8Length(std::string_view s, uint32_t& rune) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80) {
    rune = c;
    return 1;
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c > 0xF4) return 0;
  for (size_t i = 1; i < n; ++i)
    if (!cont(i)) return 0;
  if (n == 2) rune = ((c & 0x1Fu) << 6) | (b(1) & 0x3Fu);
  if (n == 3) rune = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
  if (n == 4)
    rune = ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (rune < kMin[n] || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return 0;
  return n;
}

void WriteString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          // Control characters, and the HTML-sensitive ones Go escapes by default.
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t n = Utf8Length(s.substr(i), rune);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (rune == 0x2028 || rune == 0x2029) {
      // Line and paragraph separators break JavaScript string literals; Go escapes them.
      out += rune == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

template <class N>
void WriteNumber(std::string& out, N n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void NewLine(std::string& out, std::string_view indent, int depth) {
  out.push_back('\n');
  for (int i = 0; i < depth; ++i) out.append(indent);
}

// `indent` is null for the compact form.
void Write(std::string& out, const OrderedJson& j, const std::string_view* indent, int depth) {
  switch (j.type()) {
    case OrderedJson::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        if (indent) NewLine(out, *indent, depth + 1);
        WriteString(out, it.key());
        out += indent ? ": " : ":";
        Write(out, it.value(), indent, depth + 1);
      }
      if (indent) NewLine(out, *indent, depth);
      out.push_back('}');
      return;
    }
    case OrderedJson::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out.push_back(',');
        if (indent) NewLine(out, *indent, depth + 1);
        Write(out, j[i], indent, depth + 1);
      }
      if (indent) NewLine(out, *indent, depth);
      out.push_back(']');
      return;
    }
    case OrderedJson::value_t::string:
      WriteString(out, *j.get_ptr<const std::string*>());
      return;
    case OrderedJson::value_t::boolean:
      out += *j.get_ptr<const bool*>() ? "true" : "false";
      return;
    case OrderedJson::value_t::number_integer:
      WriteNumber(out, *j.get_ptr<const OrderedJson::number_integer_t*>());
      return;
    case OrderedJson::value_t::number_unsigned:
      WriteNumber(out, *j.get_ptr<const OrderedJson::number_unsigned_t*>());
      return;
    case OrderedJson::value_t::number_float:
      // Not used by the documents written this way; nlohmann's shortest form is close to Go's.
      out += j.dump();
      return;
    case OrderedJson::value_t::null:
    case OrderedJson::value_t::binary:
    case OrderedJson::value_t::discarded:
      out += "null";
      return;
  }
}

}  // namespace

std::string GoJsonMarshal(const OrderedJson& j) {
  std::string out;
  Write(out, j, nullptr, 0);
  return out;
}

std::string GoJsonMarshalIndent(const OrderedJson& j, std::string_view indent) {
  std::string out;
  Write(out, j, &indent, 0);
  return out;
}

}  // namespace berth::oci
