// berth/base: the adapter around nlohmann-json, which throws; everything else in berth
// sees Results.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "berth/base/error.h"

namespace berth {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// `what` names the document in errors ("config.json: line 3, column 7: ...").
Result<Json> ParseJson(std::string_view text, std::string_view what);
Result<Json> ReadJsonFile(const std::string& path);

}  // namespace berth
