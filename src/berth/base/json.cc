#include "berth/base/json.h"

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth {

Result<Json> ParseJson(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based offset of the failure; report line and column.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string msg = e.what();
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, ...";
    // keep the part after the bracketed id.
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    return InvalidArgument(StrCat(what, ": line ", line, ", column ", col, ": ", msg));
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat(what, ": ", e.what()));
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

}  // namespace berth
