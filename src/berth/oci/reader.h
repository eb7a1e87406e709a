// berth/oci (internal): a strict reader over a parsed JSON document that knows where it is.
//
// A Reader is a position in a document: the value there (absent when the key is missing or
// null, as Go's encoding/json treats null) and its path ("linux.resources.memory.limit",
// "mounts[2].destination", `annotations["io.x"]`). ReadValue overloads convert a value into
// a model type and fail with an error naming the document and the path:
//   config.json: linux.resources.memory.limit: expected an integer, got a string
// Unknown object members are ignored, as the runtime-spec requires. Nothing here throws:
// only nlohmann accessors that cannot throw are used, after the type has been checked.
//
// The path is built only when an error needs it (config.json is parsed on every container
// start): a Reader points at its parent and at its key, so it lives no longer than they do,
// which the nested ReadValue calls guarantee.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"

namespace berth::oci::internal {

class Reader {
 public:
  // The whole document `j`; `doc` names it in errors and must outlive the reader.
  Reader(std::string_view doc, const Json& j) : doc_(doc), value_(&j) {}

  bool present() const { return value_ != nullptr && !value_->is_null(); }
  const Json& value() const { return *value_; }
  std::string path() const;

  // The member `key` of this object; absent when this is not an object or lacks the key.
  // `key` must outlive the returned reader (string literals and document keys do).
  Reader Field(std::string_view key) const;
  // Element `i` of this array (the caller checks the bounds).
  Reader Index(size_t i) const;
  // The member `key` of this object, for iteration over members.
  Reader Member(std::string_view key, const Json& value) const;

  // "config.json: <path>: <message>".
  unexpected<Error> Fail(std::string_view message) const;
  // "config.json: <path>: expected <what>, got <description of the value>".
  unexpected<Error> TypeError(std::string_view what) const;

  Status ExpectObject() const;
  Status ExpectArray() const;

  // Reads member `key` into `out` when it is present; leaves `out` untouched otherwise.
  template <class T>
  Status Get(std::string_view key, T& out) const {
    Reader f = Field(key);
    if (!f.present()) return Ok();
    return ReadValue(f, out);
  }
  // Same, but an absent member is an error.
  template <class T>
  Status Require(std::string_view key, T& out) const {
    Reader f = Field(key);
    if (!f.present()) return f.Fail("required field is missing");
    return ReadValue(f, out);
  }

 private:
  Reader(const Reader* parent, const Json* value, std::string_view key, size_t index)
      : doc_(parent->doc_), value_(value), parent_(parent), key_(key), index_(index) {}

  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  std::string_view doc_;
  const Json* value_ = nullptr;
  const Reader* parent_ = nullptr;  // null for the document itself
  std::string_view key_;            // member name, when index_ is kNoIndex
  size_t index_ = kNoIndex;
};

// Reads the members of one object in order and keeps the first error:
//   return ObjectReader(r).Get("containerID", m.container_id).Get("size", m.size).Done();
class ObjectReader {
 public:
  explicit ObjectReader(const Reader& r) : r_(r), status_(r.ExpectObject()) {}

  template <class T>
  ObjectReader& Get(std::string_view key, T& out) {
    if (status_.has_value()) status_ = r_.Get(key, out);
    return *this;
  }
  template <class T>
  ObjectReader& Require(std::string_view key, T& out) {
    if (status_.has_value()) status_ = r_.Require(key, out);
    return *this;
  }
  Status Done() { return std::move(status_); }

 private:
  const Reader& r_;
  Status status_;
};

// "a string", "an integer", "null", ...: how messages describe a value that has the wrong type.
std::string_view DescribeType(const Json& v);

Status ReadValue(const Reader& r, std::string& out);
Status ReadValue(const Reader& r, bool& out);

template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) Status ReadValue(const Reader& r, T& out) {
  const Json& v = r.value();
  auto range_error = [&](auto got) {
    return r.Fail(StrCat("expected an integer between ", std::numeric_limits<T>::min(), " and ",
                         std::numeric_limits<T>::max(), ", got ", got));
  };
  if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>()) {
    if (!std::in_range<T>(*u)) return range_error(*u);
    out = static_cast<T>(*u);
    return Ok();
  }
  if (const auto* i = v.get_ptr<const Json::number_integer_t*>()) {
    if (!std::in_range<T>(*i)) return range_error(*i);
    out = static_cast<T>(*i);
    return Ok();
  }
  return r.TypeError("an integer");
}

template <class T>
Status ReadValue(const Reader& r, std::optional<T>& out) {
  T v{};
  BERTH_TRY(ReadValue(r, v));
  out = std::move(v);
  return Ok();
}

template <class T>
Status ReadValue(const Reader& r, std::vector<T>& out) {
  BERTH_TRY(r.ExpectArray());
  std::vector<T> items(r.value().size());
  for (size_t i = 0; i < items.size(); ++i) BERTH_TRY(ReadValue(r.Index(i), items[i]));
  out = std::move(items);
  return Ok();
}

template <class T>
Status ReadValue(const Reader& r, std::map<std::string, T>& out) {
  BERTH_TRY(r.ExpectObject());
  std::map<std::string, T> items;
  for (auto it = r.value().begin(); it != r.value().end(); ++it) {
    T v{};
    BERTH_TRY(ReadValue(r.Member(it.key(), it.value()), v));
    items.emplace(it.key(), std::move(v));
  }
  out = std::move(items);
  return Ok();
}

// Path of member `key` under `parent`: "parent.key", or `parent["key"]` when the key is not a
// plain identifier (sysctl names, annotation keys). Shared with the validator's messages.
std::string MemberPath(std::string_view parent, std::string_view key);
// "parent[i]".
std::string IndexPath(std::string_view parent, size_t i);

}  // namespace berth::oci::internal
