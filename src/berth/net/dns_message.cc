#include "berth/net/dns_message.h"

#include "berth/base/strings.h"

namespace berth::net::dns {
namespace {

constexpr size_t kMaxNameWire = 255;
constexpr size_t kMaxLabel = 63;
constexpr int kMaxJumps = 128;
// The answer's owner name: a pointer to the question's name, which starts right after the
// header (offset 12).
constexpr uint16_t kPointerToQuestion = 0xC000 | kHeaderSize;

uint16_t Get16(std::string_view p, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[off]) << 8 |
                               static_cast<uint8_t>(p[off + 1]));
}

void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void Put32(std::string& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

void AppendLabel(std::string& out, std::string_view label) {
  for (char ch : label) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7f) {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + c / 100));
      out.push_back(static_cast<char>('0' + c / 10 % 10));
      out.push_back(static_cast<char>('0' + c % 10));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// "web.example" (an optional trailing dot) in wire form; false if a label is empty or
// longer than 63 bytes or the whole name longer than 255. No escapes: record names are plain.
bool EncodeName(std::string_view name, std::string& out) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  size_t start = out.size();
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabel) return false;
    out.push_back(static_cast<char>(label.size()));
    out.append(label);
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back('\0');
  return out.size() - start <= kMaxNameWire;
}

}  // namespace

Result<size_t> ReadName(std::string_view p, size_t pos, std::string* name) {
  name->clear();
  size_t end = 0;        // just past the name where it started (0: not yet known)
  size_t segment = pos;  // pointers must land strictly before this
  size_t wire = 0;
  int jumps = 0;
  for (;;) {
    if (pos >= p.size())
      return InvalidArgument(StrCat("name at offset ", pos, " runs past the end"));
    auto len = static_cast<uint8_t>(p[pos]);
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= p.size()) return InvalidArgument("truncated compression pointer");
      size_t target = Get16(p, pos) & 0x3FFF;
      if (end == 0) end = pos + 2;
      if (target < kHeaderSize || target >= segment) {
        return InvalidArgument(StrCat("compression pointer at offset ", pos, " to offset ", target,
                                      " does not point back to an earlier name"));
      }
      if (++jumps > kMaxJumps) return InvalidArgument("too many compression pointers");
      pos = segment = target;
      continue;
    }
    if (len & 0xC0) return InvalidArgument(StrCat("reserved label type at offset ", pos));
    wire += 1 + len;
    if (wire > kMaxNameWire) return InvalidArgument("name longer than 255 bytes");
    if (len == 0) {
      if (end == 0) end = pos + 1;
      return end;
    }
    if (pos + 1 + len > p.size())
      return InvalidArgument(StrCat("label at offset ", pos, " runs past the end"));
    if (!name->empty()) name->push_back('.');
    AppendLabel(*name, p.substr(pos + 1, len));
    pos += 1 + len;
  }
}

Result<Question> ParseQuery(std::string_view p) {
  if (p.size() < kHeaderSize)
    return InvalidArgument(StrCat("message of ", p.size(), " bytes is shorter than a header"));
  Question q;
  q.id = Get16(p, 0);
  q.flags = Get16(p, 2);
  if (int opcode = (q.flags >> 11) & 0xF; opcode != 0) {
    return Fail(ErrorCode::kUnsupported, StrCat("opcode ", opcode, " is not a standard query"));
  }
  if (uint16_t qdcount = Get16(p, 4); qdcount != 1) {
    return InvalidArgument(StrCat("query has ", qdcount, " questions, not 1"));
  }
  BERTH_ASSIGN_OR_RETURN_CTX(size_t pos, ReadName(p, kHeaderSize, &q.name), "question name");
  if (pos + 4 > p.size()) return InvalidArgument("question type and class run past the end");
  q.type = Get16(p, pos);
  q.qclass = Get16(p, pos + 2);
  q.question_end = pos + 4;
  return q;
}

std::string BuildAnswer(std::string_view query, const Question& q, uint8_t rcode,
                        const std::vector<IpAddress>& addresses,
                        const std::vector<std::string>& ptr_names, uint32_t ttl, size_t max_size) {
  std::string out;
  out.reserve(q.question_end + 28 * addresses.size() + 64 * ptr_names.size());
  Put16(out, q.id);
  uint16_t flags = kFlagQr | kFlagRa | (q.flags & kFlagRd) | (rcode & 0xF);
  Put16(out, flags);
  Put16(out, 1);
  Put16(out, 0);  // ANCOUNT, set below
  Put16(out, 0);
  Put16(out, 0);
  out.append(query.substr(kHeaderSize, q.question_end - kHeaderSize));

  uint16_t count = 0;
  bool truncated = false;
  auto add = [&](uint16_t type, std::string_view rdata) {
    if (truncated || count == 0xFFFF) return;
    if (out.size() + 12 + rdata.size() > max_size) {
      truncated = true;
      return;
    }
    Put16(out, kPointerToQuestion);
    Put16(out, type);
    Put16(out, kClassIn);
    Put32(out, ttl);
    Put16(out, static_cast<uint16_t>(rdata.size()));
    out.append(rdata);
    ++count;
  };
  for (const IpAddress& a : addresses) {
    std::string_view bytes(reinterpret_cast<const char*>(a.bytes.data()), a.is_v4() ? 4 : 16);
    add(a.is_v4() ? kTypeA : kTypeAaaa, bytes);
  }
  for (const std::string& n : ptr_names) {
    std::string rdata;
    if (EncodeName(n, rdata)) add(kTypePtr, rdata);
  }
  out[6] = static_cast<char>(count >> 8);
  out[7] = static_cast<char>(count & 0xff);
  if (truncated) out[2] = static_cast<char>(out[2] | (kFlagTc >> 8));
  return out;
}

std::string BuildError(std::string_view query, uint8_t rcode) {
  if (query.size() < kHeaderSize) return {};
  std::string out;
  Put16(out, Get16(query, 0));
  uint16_t in = Get16(query, 2);
  Put16(out, kFlagQr | kFlagRa | (in & (0x7800 | kFlagRd)) | (rcode & 0xF));
  out.append(8, '\0');
  return out;
}

Result<std::string> BuildQuery(uint16_t id, std::string_view name, uint16_t type) {
  std::string out;
  Put16(out, id);
  Put16(out, kFlagRd);
  Put16(out, 1);
  out.append(6, '\0');
  if (!EncodeName(name, out)) return InvalidArgument(StrCat("invalid DNS name ", Quote(name)));
  Put16(out, type);
  Put16(out, kClassIn);
  return out;
}

}  // namespace berth::net::dns
