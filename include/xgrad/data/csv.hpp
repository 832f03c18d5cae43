/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/var.hpp"

namespace xgrad::data {

/// @brief Thrown for unreadable or malformed CSV; the message starts with `file:line:column:`.
class csv_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief Numeric features and labels read from a CSV file.
struct Dataset {
    array features;  ///< (rows, features)
    array labels;    ///< (rows,)
    std::vector<std::string> feature_names;
    std::string label_name;
};

/// @brief Reads a CSV file with a header row and numeric cells. `label_column` names the label
/// (empty: the last column); `feature_columns` picks features by name (empty: all other columns).
/// Fields may be quoted as RFC 4180 has it (commas, line breaks and "" inside quotes).
/// Every malformed cell, ragged row or unknown name throws csv_error naming file, line and column.
Dataset read_csv(const std::string& path, const std::string& label_column = "",
                 const std::vector<std::string>& feature_columns = {});

/// @brief Reads only the named feature columns (e.g. for prediction, where a label column may be
/// absent); other columns may hold anything. The result has no labels.
Dataset read_features(const std::string& path, const std::vector<std::string>& feature_columns);

}  // namespace xgrad::data
