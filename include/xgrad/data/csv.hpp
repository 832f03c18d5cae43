/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/var.hpp"

namespace xgrad::data {

/// @brief Thrown for unreadable or malformed CSV; the message starts with `file:line:column:`
/// (or `file:line:` for a whole row, `file:` for the whole file) and is one line: text from the
/// file is quoted, its control and invisible characters escaped and long cells cut.
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

    /// @brief Where the values came from, for messages (empty when not read from a file).
    std::string source;
    std::vector<std::size_t> row_lines;        ///< the line (from 1) each row starts on
    std::vector<std::size_t> feature_columns;  ///< the file's column (from 1) of each feature
    std::size_t label_column = 0;              ///< the file's column (from 1) of the label
    /// @brief The line of every cell of the rows that span lines (quoted line breaks), by row.
    std::map<std::size_t, std::vector<std::size_t>> spanning_rows;

    /// @brief `file:line:column` of the cell in `row` (from 0) and file column `column` (from 1;
    /// 0 gives `file:line`), `file:1:column` for the header when `row` is npos; just the source
    /// when the rows' lines are not known.
    std::string where(std::size_t row, std::size_t column) const;
};

/// @brief Reads a CSV file with a header row and numeric cells. `label_column` names the label
/// (empty: the last column); `feature_columns` picks features by name (empty: all other columns).
/// Fields may be quoted as RFC 4180 has it (commas, line breaks and "" inside quotes); a UTF-8
/// byte-order mark is skipped, blank lines too. Every malformed cell, ragged row, unknown or
/// repeated column name throws csv_error naming file, line and column. Reading takes time linear
/// in the file's size, whatever its quotes do.
Dataset read_csv(const std::string& path, const std::string& label_column = "",
                 const std::vector<std::string>& feature_columns = {});

/// @brief Reads only the named feature columns (e.g. for prediction, where a label column may be
/// absent); other columns may hold anything. The result has no labels.
Dataset read_features(const std::string& path, const std::vector<std::string>& feature_columns);

/// @brief read_csv on text in memory; `name` stands for the file in messages.
Dataset parse_csv(std::string_view text, const std::string& name,
                  const std::string& label_column = "",
                  const std::vector<std::string>& feature_columns = {});

/// @brief read_features on text in memory.
Dataset parse_features(std::string_view text, const std::string& name,
                       const std::vector<std::string>& feature_columns);

/// @brief Characters the tokenizer stepped over in the last parse on this thread (at most two
/// per byte of input: a blank line is looked at once to skip it): lets tests check that reading
/// is linear in the file's size.
std::size_t last_parse_steps();

}  // namespace xgrad::data
