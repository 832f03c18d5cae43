// What the JSON readers (model files, fitted columns) say about a value that is not what a field
// needs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace xgrad::detail {

/// @brief The kind of a JSON value, for messages: "an integer", "a number", "a string 'x'"
/// (quoted and escaped), "a list", "an object", "true", "false", "null".
std::string type_of(const nlohmann::json& value);

}  // namespace xgrad::detail
