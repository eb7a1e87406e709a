// berth CLI: the subset of Go's text/template that docker's --format accepts, evaluated over
// JSON values. Supported: text, {{.Field.Sub}}, {{.}}, {{$}}, string/number/bool literals,
// pipelines ({{.Name | upper}}), parentheses, {{if}}/{{else}}/{{else if}}/{{end}},
// {{range}}/{{else}}/{{end}}, {{with}}, trim markers ({{- and -}}), and the functions
// json, index, join, split, upper, lower, title, len, printf, println, print, truncate, pad,
// eq, ne, lt, le, gt, ge, not, and, or. `.Label "k"` looks up a label as docker's ps does.
// Values print as Go prints them: a missing map key as "<no value>", null as "<nil>",
// arrays as "[a b]", objects as "map[k:v]".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::cli {

class Template {
 public:
  // Errors name the template and what is wrong at which action.
  static Result<Template> Parse(std::string_view text);
  Result<std::string> Render(const Json& data) const;

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
};

// How Go's fmt prints a value with %v (strings raw).
std::string GoValueString(const Json& v);

}  // namespace berth::cli
