// Message pieces the CSV reader and the column handling share.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace xgrad::data::detail {

/// @brief File columns (from 0) as people count them (from 1): "2 and 5", "1, 3 and 4", at most
/// eight then ", ... (n in all)".
std::string column_number_list(const std::vector<std::size_t>& columns);

}  // namespace xgrad::data::detail
