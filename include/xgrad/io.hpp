/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <string>

namespace xgrad {

/// @brief Writes `content` to `path` through a temporary file in the same directory and a
/// rename, so that readers never see a half-written file. Throws std::runtime_error naming the
/// path on failure (and leaves no temporary behind).
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace xgrad
