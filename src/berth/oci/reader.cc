// berth/oci (internal): the path-carrying JSON reader behind the config.json parser.
#include "berth/oci/reader.h"

namespace berth::oci::internal {

namespace {
bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

std::string MemberPath(std::string_view parent, std::string_view key) {
  if (IsPlainKey(key)) return parent.empty() ? std::string(key) : StrCat(parent, '.', key);
  return StrCat(parent, "[\"", JsonEscape(key), "\"]");
}

std::string IndexPath(std::string_view parent, size_t i) { return StrCat(parent, '[', i, ']'); }

Reader Reader::Field(std::string_view key) const {
  const Json* child = nullptr;
  if (value_ != nullptr && value_->is_object()) {
    // find() on an object does not throw; a missing key yields end().
    auto it = value_->find(key);
    if (it != value_->end()) child = &*it;
  }
  return Reader(this, child, key, kNoIndex);
}

Reader Reader::Index(size_t i) const { return Reader(this, &(*value_)[i], {}, i); }

Reader Reader::Member(std::string_view key, const Json& value) const {
  return Reader(this, &value, key, kNoIndex);
}

std::string Reader::path() const {
  std::vector<const Reader*> chain;
  for (const Reader* r = this; r->parent_ != nullptr; r = r->parent_) chain.push_back(r);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Reader* r = *it;
    out = r->index_ == kNoIndex ? MemberPath(out, r->key_) : IndexPath(out, r->index_);
  }
  return out;
}

unexpected<Error> Reader::Fail(std::string_view message) const {
  std::string msg;
  if (!doc_.empty()) msg = StrCat(doc_, ": ");
  if (std::string p = path(); !p.empty()) msg += StrCat(p, ": ");
  msg += message;
  return InvalidArgument(std::move(msg));
}

unexpected<Error> Reader::TypeError(std::string_view what) const {
  return Fail(StrCat("expected ", what, ", got ", DescribeType(*value_)));
}

Status Reader::ExpectObject() const {
  if (!value_->is_object()) return TypeError("an object");
  return Ok();
}

Status Reader::ExpectArray() const {
  if (!value_->is_array()) return TypeError("an array");
  return Ok();
}

std::string_view DescribeType(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a floating-point number";
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "an unexpected value";
}

Status ReadValue(const Reader& r, std::string& out) {
  const auto* s = r.value().get_ptr<const std::string*>();
  if (s == nullptr) return r.TypeError("a string");
  out = *s;
  return Ok();
}

Status ReadValue(const Reader& r, bool& out) {
  const auto* b = r.value().get_ptr<const bool*>();
  if (b == nullptr) return r.TypeError("a boolean");
  out = *b;
  return Ok();
}

}  // namespace berth::oci::internal
