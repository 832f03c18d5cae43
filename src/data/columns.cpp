/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/data/columns.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "xgrad/core/errors.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/split.hpp"

#include "data/csv_text.hpp"
#include "data/json_text.hpp"

namespace xgrad::data {

namespace {

constexpr std::size_t npos = Table::npos;
const char* const comment_hint = " (a comment line? lines starting with '#' are not supported)";

// ---------------------------------------------------------------------------------------------
// Cells

enum class Parsed { number, text, too_large, not_finite };

/// @brief Reads a cell as read_csv does (strtod over the whole cell, finite).
Parsed parse_number(std::string_view cell, double& value) {
    thread_local std::string buffer;
    buffer.assign(cell.data(), cell.size());
    if (buffer.empty()) return Parsed::text;
    char* end = nullptr;
    errno = 0;
    value = std::strtod(buffer.c_str(), &end);
    if (end != buffer.c_str() + buffer.size()) return Parsed::text;
    if (errno == ERANGE && std::isinf(value)) return Parsed::too_large;
    if (!std::isfinite(value)) return Parsed::not_finite;
    return Parsed::number;
}

bool is_number(std::string_view cell) {
    double v = 0.0;
    return parse_number(cell, v) == Parsed::number;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

/// @brief "'a', 'b', 'c'", at most `limit` of them then ", ... (n in all)".
std::string quoted_list(const std::vector<std::string>& names, std::size_t limit = 20) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < limit; ++i)
        out += (i == 0 ? "" : ", ") + quote_text(names[i]);
    if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
    return out;
}

/// @brief The name as a shell word in a suggested option: bare when it is safe, else quoted.
std::string shell_word(const std::string& name) {
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("_.,:/@%+=-").find(c) != std::string_view::npos;
    });
    return plain ? name : quote_text(name);
}

/// @brief Edit distance of a and b, or more than `limit` when it exceeds it.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

/// @brief "; did you mean 'X'?" for the column closest to `name` (same letters in another case,
/// or at most two edits away from a name of 4 or more characters); empty when none is close.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& header) {
    for (const auto& h : header) {
        if (equal_ignoring_case(h, name)) return "; did you mean " + quote_text(h) + "?";
    }
    if (name.size() < 4 || name.size() > 200) return "";
    std::size_t best = 3;
    const std::string* found = nullptr;
    for (const auto& h : header) {
        const std::size_t d = edit_distance(name, h, 2);
        if (d < best) {
            best = d;
            found = &h;
        }
    }
    return found != nullptr ? "; did you mean " + quote_text(*found) + "?" : "";
}

std::string column_word(const std::string& name) {
    return "column " + quote_text(name);
}

// ---------------------------------------------------------------------------------------------
// Where cells are, for LabelEncoder's fit and transform

/// @brief Cells of a list: messages name rows (from 0).
struct ListCells {
    const std::vector<std::string>& cells;
    const std::string& column;
    std::size_t size() const { return cells.size(); }
    std::string_view cell(std::size_t i) const { return cells[i]; }
    std::string at(std::size_t i) const { return "row " + std::to_string(i) + ": "; }
    std::string header() const { return ""; }
    const std::string& name() const { return column; }
};

/// @brief Cells of a table's column: messages name file, line and column.
struct TableCells {
    const Table& table;
    std::size_t column;
    std::size_t size() const { return table.rows(); }
    std::string_view cell(std::size_t i) const { return table.cell(i, column); }
    std::string at(std::size_t i) const { return table.where(i, column) + ": "; }
    std::string header() const { return table.where(npos, column) + ": "; }
    const std::string& name() const { return table.header()[column]; }
};

/// @brief What LabelEncoder's messages call things: labels, or a categorical column's
/// categories.
struct Words {
    bool label = true;
    std::string empty(const std::string& column) const {
        return label ? "empty cell in label column " + quote_text(column)
                     : "empty cell in categorical column " + quote_text(column) +
                           " (every row needs a category)";
    }
};

template <class Cells>
std::vector<std::size_t> encode_cells(const LabelEncoder& encoder, const Cells& cells,
                                      const Words& words) {
    std::vector<std::size_t> out(cells.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string_view cell = cells.cell(i);
        if (cell.empty()) throw column_error(cells.at(i) + words.empty(cells.name()));
        out[i] = encoder.find(cell);
        if (out[i] == npos) {
            throw column_error(cells.at(i) + (words.label ? "label " : "category ") +
                               quote_text(cell) + " in " + column_word(cells.name()) +
                               " was not seen in training (" +
                               (words.label ? "classes: " : "categories: ") +
                               quoted_list(encoder.classes(), 10) + ")");
        }
    }
    return out;
}

/// @brief Why `classes` cannot be a fitted encoder's classes (empty if they can); sets `numeric`
/// and `values` as fit() would.
std::string class_problem(const std::vector<std::string>& classes, bool& numeric,
                          std::vector<double>& values) {
    if (classes.empty()) return "is empty: at least one class is needed";
    for (std::size_t k = 0; k < classes.size(); ++k) {
        if (classes[k].empty()) return "[" + std::to_string(k) + "] is an empty string";
    }
    numeric = std::all_of(classes.begin(), classes.end(),
                          [](const std::string& c) { return is_number(c); });
    values.clear();
    if (numeric) {
        for (const auto& c : classes) {
            double v = 0.0;
            parse_number(c, v);
            values.push_back(v);
        }
    }
    for (std::size_t k = 1; k < classes.size(); ++k) {
        const bool ordered = numeric ? values[k - 1] < values[k] : classes[k - 1] < classes[k];
        if (!ordered) {
            return std::string("must be sorted") + (numeric ? " numerically" : "") +
                   " and distinct: " + quote_text(classes[k - 1]) + " comes before " +
                   quote_text(classes[k]);
        }
    }
    return "";
}

}  // namespace

bool is_missing_value(std::string_view cell) {
    if (cell.empty()) return true;
    for (const char* word : {"NA", "N/A", "NaN", "NULL"}) {
        if (equal_ignoring_case(cell, word)) return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// LabelEncoder

template <class Cells>
void LabelEncoder::fit_cells(const Cells& cells) {
    const std::size_t n = cells.size();
    if (n == 0) {
        throw column_error(cells.header() + "no labels to fit (" + column_word(cells.name()) +
                           " has no rows)");
    }
    std::size_t empty = 0;
    std::size_t first_empty = npos;
    for (std::size_t i = 0; i < n; ++i) {
        if (cells.cell(i).empty()) {
            ++empty;
            if (first_empty == npos) first_empty = i;
        }
    }
    if (empty == n) {
        throw column_error(cells.header() + "label column " + quote_text(cells.name()) +
                           " is empty in every row");
    }
    if (first_empty != npos)
        throw column_error(cells.at(first_empty) + Words{}.empty(cells.name()));
    // "nan" is no class: it is how numpy and pandas write a missing value. (Other spellings of
    // missing, such as NA, may be real class names.)
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view cell = cells.cell(i);
        if (is_nan_label(cell)) {
            throw column_error(cells.at(i) + "missing value (" + quote_text(cell) + ") in " +
                               column_word(cells.name()) +
                               ": NaN is not a class (delete the row, or give it one)");
        }
    }
    bool numeric = true;
    for (std::size_t i = 0; i < n && numeric; ++i) numeric = is_number(cells.cell(i));
    std::vector<std::string> classes;
    std::vector<double> values;
    if (numeric) {
        std::unordered_map<double, std::size_t> first;  // value → row where it is first seen
        for (std::size_t i = 0; i < n; ++i) {
            double v = 0.0;
            parse_number(cells.cell(i), v);
            first.emplace(v, i);
        }
        std::vector<std::pair<double, std::size_t>> sorted(first.begin(), first.end());
        std::sort(sorted.begin(), sorted.end());
        for (const auto& [v, i] : sorted) {
            values.push_back(v);
            classes.emplace_back(cells.cell(i));
        }
    } else {
        std::unordered_map<std::string_view, std::size_t> first;
        for (std::size_t i = 0; i < n; ++i) first.emplace(cells.cell(i), i);
        for (const auto& entry : first) classes.emplace_back(entry.first);
        std::sort(classes.begin(), classes.end());
    }
    classes_ = std::move(classes);
    values_ = std::move(values);
    numeric_ = numeric;
}

LabelEncoder& LabelEncoder::fit(const std::vector<std::string>& labels, const std::string& column) {
    fit_cells(ListCells{labels, column});
    return *this;
}

LabelEncoder& LabelEncoder::fit(const Table& table, std::size_t column) {
    if (column >= table.columns()) {
        throw std::out_of_range("LabelEncoder::fit: column " + std::to_string(column) +
                                " of a table of " + std::to_string(table.columns()) + " columns");
    }
    fit_cells(TableCells{table, column});
    return *this;
}

std::vector<std::size_t> LabelEncoder::transform(const std::vector<std::string>& labels,
                                                 const std::string& column) const {
    return encode_cells(*this, ListCells{labels, column}, Words{});
}

std::vector<std::size_t> LabelEncoder::transform(const Table& table, std::size_t column) const {
    if (column >= table.columns()) {
        throw std::out_of_range("LabelEncoder::transform: column " + std::to_string(column) +
                                " of a table of " + std::to_string(table.columns()) + " columns");
    }
    return encode_cells(*this, TableCells{table, column}, Words{});
}

std::size_t LabelEncoder::find(std::string_view label) const {
    if (numeric_) {
        double v = 0.0;
        if (parse_number(label, v) != Parsed::number) return npos;
        const auto it = std::lower_bound(values_.begin(), values_.end(), v);
        return it != values_.end() && *it == v ? static_cast<std::size_t>(it - values_.begin())
                                               : npos;
    }
    const auto it =
        std::lower_bound(classes_.begin(), classes_.end(), label,
                         [](const std::string& c, std::string_view l) { return c < l; });
    return it != classes_.end() && *it == label ? static_cast<std::size_t>(it - classes_.begin())
                                                : npos;
}

std::vector<std::string> LabelEncoder::inverse_transform(
    const std::vector<std::size_t>& indices) const {
    std::vector<std::string> out;
    out.reserve(indices.size());
    for (std::size_t k : indices) {
        if (k >= classes_.size()) {
            throw std::out_of_range("LabelEncoder::inverse_transform: index " + std::to_string(k) +
                                    " is not a class (" + std::to_string(classes_.size()) +
                                    " classes)");
        }
        out.push_back(classes_[k]);
    }
    return out;
}

std::vector<std::string> LabelEncoder::inverse_transform(const array& indices) const {
    std::vector<std::size_t> k;
    k.reserve(indices.size());
    for (double v : indices) {
        if (!(v >= 0.0 && v < static_cast<double>(classes_.size()) && v == std::floor(v))) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", v);
            throw std::out_of_range(std::string("LabelEncoder::inverse_transform: ") + text +
                                    " is not a class index (" + std::to_string(classes_.size()) +
                                    " classes)");
        }
        k.push_back(static_cast<std::size_t>(v));
    }
    return inverse_transform(k);
}

LabelEncoder LabelEncoder::from_classes(std::vector<std::string> classes) {
    LabelEncoder out;
    const std::string problem = class_problem(classes, out.numeric_, out.values_);
    if (!problem.empty()) throw column_error("classes " + problem);
    out.classes_ = std::move(classes);
    return out;
}

// ---------------------------------------------------------------------------------------------
// OneHotEncoder

OneHotEncoder::OneHotEncoder(std::vector<std::string> names, std::vector<LabelEncoder> categories)
    : names_(std::move(names)), categories_(std::move(categories)) {
    if (names_.size() != categories_.size()) {
        throw std::invalid_argument("OneHotEncoder: " + std::to_string(names_.size()) +
                                    " columns but " + std::to_string(categories_.size()) +
                                    " lists of categories");
    }
    for (std::size_t c = 0; c < names_.size(); ++c) {
        if (!categories_[c].fitted()) {
            throw std::invalid_argument("OneHotEncoder: column " + quote_text(names_[c]) +
                                        " has no categories");
        }
    }
}

OneHotEncoder& OneHotEncoder::fit(const Table& table, const std::vector<std::size_t>& columns) {
    std::vector<std::string> names;
    std::vector<LabelEncoder> categories;
    for (std::size_t c : columns) {
        if (c >= table.columns()) {
            throw std::out_of_range("OneHotEncoder::fit: column " + std::to_string(c) +
                                    " of a table of " + std::to_string(table.columns()) +
                                    " columns");
        }
        const TableCells cells{table, c};
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells.cell(i).empty())
                throw column_error(cells.at(i) + Words{false}.empty(cells.name()));
        }
        if (table.rows() == 0) {
            throw column_error(cells.header() + "no categories to learn (" +
                               column_word(cells.name()) + " has no rows)");
        }
        names.push_back(table.header()[c]);
        categories.emplace_back().fit(table, c);
    }
    names_ = std::move(names);
    categories_ = std::move(categories);
    return *this;
}

OneHotEncoder& OneHotEncoder::fit(const std::vector<std::string>& names,
                                  const std::vector<std::vector<std::string>>& cells) {
    if (names.size() != cells.size()) {
        throw std::invalid_argument("OneHotEncoder::fit: " + std::to_string(names.size()) +
                                    " names for " + std::to_string(cells.size()) + " columns");
    }
    std::vector<LabelEncoder> categories;
    for (std::size_t c = 0; c < names.size(); ++c) {
        const ListCells list{cells[c], names[c]};
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (list.cell(i).empty()) throw column_error(list.at(i) + Words{false}.empty(names[c]));
        }
        if (list.size() == 0)
            throw column_error("no categories to learn (" + column_word(names[c]) + " is empty)");
        categories.emplace_back().fit(cells[c], names[c]);
    }
    names_ = names;
    categories_ = std::move(categories);
    return *this;
}

std::vector<std::string> OneHotEncoder::feature_names(std::size_t c) const {
    std::vector<std::string> out;
    for (const auto& category : categories_.at(c).classes())
        out.push_back(names_[c] + "=" + category);
    return out;
}

std::vector<std::string> OneHotEncoder::feature_names() const {
    std::vector<std::string> out;
    for (std::size_t c = 0; c < names_.size(); ++c) {
        const auto names = feature_names(c);
        out.insert(out.end(), names.begin(), names.end());
    }
    return out;
}

array OneHotEncoder::transform(const Table& table) const {
    std::size_t width = 0;
    std::vector<std::size_t> columns;
    for (std::size_t c = 0; c < names_.size(); ++c) {
        const std::size_t column = table.find(names_[c]);
        if (column == npos) {
            throw column_error(table.where(npos, npos) + ": no column named " +
                               quote_text(names_[c]) + " (columns: " + quoted_list(table.header()) +
                               ")");
        }
        columns.push_back(column);
        width += categories_[c].classes().size();
    }
    array out = xt::zeros<double>(shape_type{table.rows(), width});
    std::size_t offset = 0;
    for (std::size_t c = 0; c < names_.size(); ++c) {
        const auto k = encode_cells(categories_[c], TableCells{table, columns[c]}, Words{false});
        for (std::size_t i = 0; i < k.size(); ++i) out(i, offset + k[i]) = 1.0;
        offset += categories_[c].classes().size();
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Imputer

Impute parse_impute(const std::string& name) {
    if (name == "none") return Impute::none;
    if (name == "mean") return Impute::mean;
    if (name == "median") return Impute::median;
    throw column_error("--impute must be 'none', 'mean' or 'median', found " + quote_text(name));
}

const char* to_string(Impute strategy) {
    switch (strategy) {
        case Impute::mean:
            return "mean";
        case Impute::median:
            return "median";
        default:
            return "none";
    }
}

Imputer::Imputer(Impute strategy) : strategy_(strategy) {
    if (strategy == Impute::none)
        throw std::invalid_argument("Imputer: the strategy must be mean or median, not none");
}

Imputer::Imputer(Impute strategy, array statistics) : Imputer(strategy) {
    if (statistics.dimension() != 1) {
        throw shape_error("Imputer: expects statistics of shape (features,), got " +
                          format_shape(statistics.shape()));
    }
    for (std::size_t j = 0; j < statistics.size(); ++j) {
        if (!std::isfinite(statistics(j)))
            throw column_error("Imputer: statistic " + std::to_string(j) + " is not finite");
    }
    statistics_ = std::move(statistics);
}

Imputer& Imputer::fit(const array& X, const std::vector<std::string>& names) {
    if (X.dimension() != 2) {
        throw shape_error("Imputer::fit: expects X of shape (rows, features), got " +
                          format_shape(X.shape()));
    }
    const std::size_t rows = X.shape()[0];
    const std::size_t n = X.shape()[1];
    if (rows == 0) throw column_error("cannot fit an imputer on 0 rows");
    array statistics = array::from_shape({n});
    std::vector<double> present;
    for (std::size_t j = 0; j < n; ++j) {
        present.clear();
        for (std::size_t i = 0; i < rows; ++i) {
            if (!std::isnan(X(i, j))) present.push_back(X(i, j));
        }
        if (present.empty()) {
            const std::string name =
                j < names.size() ? quote_text(names[j]) : std::to_string(j) + " (from 0)";
            throw column_error("cannot impute column " + name + ": all " + std::to_string(rows) +
                               " values are missing in the rows it is fitted on");
        }
        const auto count = static_cast<double>(present.size());
        double value = 0.0;
        if (strategy_ == Impute::mean) {
            for (double v : present) value += v;
            value /= count;
            if (!std::isfinite(value)) {  // the sum overflowed: add the shares instead
                value = 0.0;
                for (double v : present) value += v / count;
            }
        } else {
            // As numpy's median: the middle value, or the mean of the middle two.
            const std::size_t half = present.size() / 2;
            std::nth_element(present.begin(), present.begin() + half, present.end());
            value = present[half];
            if (present.size() % 2 == 0) {
                const double lower = *std::max_element(present.begin(), present.begin() + half);
                const double sum = lower + value;
                value = std::isfinite(sum) ? sum / 2.0 : lower / 2.0 + value / 2.0;
            }
        }
        statistics(j) = value;
    }
    statistics_ = std::move(statistics);
    return *this;
}

array Imputer::transform(const array& X) const {
    if (!fitted()) throw std::logic_error("Imputer::transform: the imputer is not fitted");
    if (X.dimension() != 2 || X.shape()[1] != statistics_.size()) {
        throw shape_error("Imputer::transform: expects X of shape (rows, " +
                          std::to_string(statistics_.size()) + "), got " + format_shape(X.shape()));
    }
    array out = X;
    const std::size_t n = statistics_.size();
    for (std::size_t i = 0; i < out.shape()[0]; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            if (std::isnan(out(i, j))) out(i, j) = statistics_(j);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Selection

namespace {

/// @brief The header's names → their columns, and the messages about them.
class Names {
  public:
    explicit Names(const Table& table) : table_(table) {
        for (std::size_t c = 0; c < table.columns(); ++c) columns_[table.header()[c]].push_back(c);
    }

    /// @brief Every column called `name`; fails naming `option` if there is none.
    const std::vector<std::size_t>& all(const std::string& name, const char* option) const {
        const auto found = columns_.find(name);
        if (found == columns_.end()) {
            throw column_error(
                table_.where(npos, npos) + ": " + option + " names " + quote_text(name) +
                ", but there is no such column (columns: " + quoted_list(table_.header()) +
                did_you_mean(name, table_.header()) + ")");
        }
        return found->second;
    }

    /// @brief The one column called `name`; a repeated name fails.
    std::size_t one(const std::string& name, const char* option, std::size_t label) const {
        const auto& columns = all(name, option);
        if (columns.size() > 1) duplicate(columns, label);
        return columns.front();
    }

    [[noreturn]] void duplicate(const std::vector<std::size_t>& columns, std::size_t label) const {
        const std::string list = detail::column_number_list(columns);
        const bool with_label = std::find(columns.begin(), columns.end(), label) != columns.end();
        throw column_error(table_.where(npos, columns[1]) + ": duplicate column name " +
                           quote_text(table_.header()[columns[0]]) + " (columns " + list + ")" +
                           (with_label ? ", one of them the label" : ""));
    }

    /// @brief Fails if a column in `used` has no name or shares its name with another column in
    /// `used` (in the order of the second columns, as read_csv).
    void check_used(const std::vector<std::size_t>& used, std::size_t label) const {
        std::vector<bool> is_used(table_.columns(), false);
        for (std::size_t c : used) is_used[c] = true;
        for (std::size_t c = 0; c < table_.columns(); ++c) {
            if (is_used[c] && table_.header()[c].empty()) {
                throw column_error(
                    table_.where(npos, c) + ": column " + std::to_string(c + 1) + " has no name" +
                    (c + 1 == table_.columns() ? " (a comma at the end of the header?)" : ""));
            }
        }
        for (std::size_t c = 0; c < table_.columns(); ++c) {
            if (!is_used[c]) continue;
            std::vector<std::size_t> same;
            for (std::size_t d : columns_.at(table_.header()[c])) {
                if (is_used[d]) same.push_back(d);
            }
            if (same.size() > 1 && same[1] == c) duplicate(same, label);
        }
    }

  private:
    const Table& table_;
    std::unordered_map<std::string, std::vector<std::size_t>> columns_;
};

}  // namespace

ColumnSelection select_columns(const Table& table, const ColumnSpec& spec) {
    if (!spec.features.empty() && !spec.drop.empty())
        throw column_error("--features and --drop cannot be used together: give one of them");
    if (table.columns() == 0) throw column_error(table.where(npos, npos) + ": the header is empty");
    const Names names(table);
    ColumnSelection out;
    out.label = spec.label.empty() ? table.columns() - 1 : names.one(spec.label, "--label", npos);
    const std::string label_name = quote_text(table.header()[out.label]);
    const std::string at_label = table.where(npos, out.label) + ": ";

    std::vector<bool> is_feature(table.columns(), false);
    if (!spec.features.empty()) {
        for (const auto& name : spec.features) {
            const std::size_t c = names.one(name, "--features", out.label);
            if (c == out.label) {
                throw column_error(at_label + "the label column " + label_name +
                                   " is also named in --features");
            }
            if (is_feature[c]) {
                throw column_error(table.where(npos, c) + ": " + quote_text(name) +
                                   " is named twice in --features");
            }
            is_feature[c] = true;
            out.features.push_back(c);
        }
    } else {
        std::vector<bool> dropped(table.columns(), false);
        for (const auto& name : spec.drop) {
            for (std::size_t c : names.all(name, "--drop")) {
                if (c == out.label) {
                    throw column_error(at_label + "the label column " + label_name +
                                       " cannot be dropped");
                }
                dropped[c] = true;
            }
        }
        for (std::size_t c = 0; c < table.columns(); ++c) {
            if (c != out.label && !dropped[c]) {
                is_feature[c] = true;
                out.features.push_back(c);
            }
        }
        if (out.features.empty()) {
            throw column_error(table.where(npos, npos) + ": no feature columns left (" +
                               (spec.drop.empty()
                                    ? "the file has only the label column " + label_name
                                    : "every column but the label " + label_name + " is dropped") +
                               ")");
        }
    }

    std::vector<bool> is_categorical(table.columns(), false);
    for (const auto& name : spec.categorical) {
        for (std::size_t c : names.all(name, "--categorical")) {
            if (c == out.label) {
                throw column_error(at_label + "the label column " + label_name +
                                   " cannot be categorical");
            }
            if (!is_feature[c]) {
                throw column_error(table.where(npos, c) + ": " + quote_text(name) +
                                   " is named in --categorical but is not a feature (" +
                                   (spec.features.empty() ? "it is dropped" : "not in --features") +
                                   ")");
            }
            is_categorical[c] = true;
        }
    }
    for (std::size_t c : out.features) out.categorical.push_back(is_categorical[c]);

    std::vector<std::size_t> used = out.features;
    used.push_back(out.label);
    names.check_used(used, out.label);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Features

namespace {

/// @brief How a numeric column's missing and non-numeric cells are met.
enum class Stage { training, prediction };

struct NumericRules {
    Stage stage = Stage::training;
    bool allow_missing = false;  ///< missing cells become NaN
};

/// @brief The number in a numeric feature cell, or NaN for an allowed missing value.
double numeric_cell(const Table& table, std::size_t row, std::size_t column,
                    const NumericRules& rules) {
    const std::string_view cell = table.cell(row, column);
    const std::string& name = table.header()[column];
    if (is_missing_value(cell)) {
        if (rules.allow_missing) return std::numeric_limits<double>::quiet_NaN();
        throw column_error(
            table.where(row, column) + ": missing value (" +
            (cell.empty() ? std::string("empty cell") : quote_text(cell)) + ") in " +
            column_word(name) +
            (rules.stage == Stage::training
                 ? ": fill it with --impute mean or --impute median, or delete the row"
                 : " (the model was trained without --impute: every value is needed)"));
    }
    double v = 0.0;
    switch (parse_number(cell, v)) {
        case Parsed::number:
            return v;
        case Parsed::too_large:
            throw column_error(table.where(row, column) + ": " + quote_text(cell) + " in " +
                               column_word(name) +
                               " is too large for a double (the largest is about 1.8e308)");
        case Parsed::not_finite:
            throw column_error(table.where(row, column) + ": " + quote_text(cell) + " in " +
                               column_word(name) + " is not a finite number");
        case Parsed::text:
            break;
    }
    std::string what = table.where(row, column) + ": " + quote_text(cell) + " in " +
                       column_word(name) + " is not a number";
    if (rules.stage == Stage::training) {
        what += ": drop the column (--drop " + shell_word(name) +
                ") or one-hot encode it (--categorical " + shell_word(name) + ")";
    } else {
        what += " (the model reads it as a number)";
    }
    if (cell.front() == '#') what += comment_hint;
    throw column_error(what);
}

/// @brief The feature matrix of `columns`, each numeric (encoders[k] null) or one-hot encoded
/// with encoders[k]'s categories, read row by row so that the first bad cell in the file is
/// the one reported. Sets d.features, d.feature_columns.
void fill_features(const Table& table, const std::vector<std::size_t>& columns,
                   const std::vector<const LabelEncoder*>& encoders, const NumericRules& rules,
                   Dataset& d) {
    std::size_t width = 0;
    d.feature_columns.clear();
    for (std::size_t k = 0; k < columns.size(); ++k) {
        const std::size_t n = encoders[k] != nullptr ? encoders[k]->classes().size() : 1;
        width += n;
        d.feature_columns.insert(d.feature_columns.end(), n, columns[k] + 1);
    }
    const std::size_t rows = table.rows();
    d.features = xt::zeros<double>(shape_type{rows, width});
    double* out = d.features.data();
    for (std::size_t i = 0; i < rows; ++i) {
        std::size_t j = 0;
        for (std::size_t k = 0; k < columns.size(); ++k) {
            const std::size_t c = columns[k];
            if (encoders[k] == nullptr) {
                out[i * width + j] = numeric_cell(table, i, c, rules);
                ++j;
                continue;
            }
            const LabelEncoder& categories = *encoders[k];
            const std::string_view cell = table.cell(i, c);
            std::size_t index = cell.empty() ? npos : categories.find(cell);
            if (index == npos) {  // the message, as OneHotEncoder::transform gives it
                encode_cells(categories, TableCells{table, c}, Words{false});
                index = 0;  // not reached: encode_cells has thrown for this row or before
            }
            out[i * width + j + index] = 1.0;
            j += categories.classes().size();
        }
    }
}

void fill_places(const Table& table, Dataset& d) {
    d.source = table.source();
    d.row_lines = table.row_lines();
    d.spanning_rows = table.spanning_rows();
}

}  // namespace

array numeric_columns(const Table& table, const std::vector<std::size_t>& columns,
                      bool allow_missing) {
    for (std::size_t c : columns) {
        if (c >= table.columns()) {
            throw std::out_of_range("numeric_columns: column " + std::to_string(c) +
                                    " of a table of " + std::to_string(table.columns()) +
                                    " columns");
        }
    }
    Dataset d;
    fill_features(table, columns, std::vector<const LabelEncoder*>(columns.size(), nullptr),
                  NumericRules{Stage::training, allow_missing}, d);
    return d.features;
}

// ---------------------------------------------------------------------------------------------
// The entry points

PreparedData encode_training_data(const Table& table, const ColumnSpec& spec) {
    const ColumnSelection selection = select_columns(table, spec);
    if (table.rows() == 0)
        throw column_error(table.where(npos, npos) + ": no data rows after the header");
    PreparedData out;
    FittedColumns& fitted = out.fitted;
    Dataset& d = out.data;
    fitted.task = spec.task;
    fitted.label = table.header()[selection.label];
    fitted.impute = spec.impute;
    if (spec.impute != Impute::none) fitted.imputer = Imputer(spec.impute);

    // The labels.
    d.labels = array::from_shape({table.rows()});
    if (spec.task == Task::classification) {
        fitted.labels.fit(table, selection.label);
        const auto k = fitted.labels.transform(table, selection.label);
        std::copy(k.begin(), k.end(), d.labels.begin());
    } else {
        for (std::size_t i = 0; i < table.rows(); ++i)
            d.labels(i) = regression_label(table, i, selection.label);
    }

    // The categories, then the features.
    std::vector<std::size_t> categorical;
    for (std::size_t k = 0; k < selection.features.size(); ++k) {
        fitted.columns.push_back(table.header()[selection.features[k]]);
        if (selection.categorical[k]) categorical.push_back(selection.features[k]);
    }
    fitted.one_hot.fit(table, categorical);
    std::vector<const LabelEncoder*> encoders;
    std::size_t next = 0;
    for (std::size_t k = 0; k < selection.features.size(); ++k) {
        const std::size_t c = selection.features[k];
        if (selection.categorical[k]) {
            encoders.push_back(&fitted.one_hot.categories(next));
            for (const auto& name : fitted.one_hot.feature_names(next)) {
                const std::size_t same = table.find(name);
                if (same != npos) {
                    throw column_error(table.where(npos, c) + ": the one-hot column " +
                                       quote_text(name) + " would repeat the name of column " +
                                       std::to_string(same + 1));
                }
                fitted.feature_names.push_back(name);
            }
            ++next;
        } else {
            encoders.push_back(nullptr);
            fitted.feature_names.push_back(table.header()[c]);
        }
    }
    fill_features(table, selection.features, encoders,
                  NumericRules{Stage::training, spec.impute != Impute::none}, d);

    d.feature_names = fitted.feature_names;
    d.label_name = fitted.label;
    d.label_column = selection.label + 1;
    fill_places(table, d);
    out.has_labels = true;
    return out;
}

namespace {

void impute_training_data(const Table& table, PreparedData& d,
                          const std::vector<std::size_t>* rows) {
    if (d.fitted.impute == Impute::none) return;
    const array& X = d.data.features;
    const array fit_on = rows != nullptr ? take_rows(X, *rows) : X;
    for (std::size_t j = 0; j < fit_on.shape()[1]; ++j) {
        bool any = false;
        for (std::size_t i = 0; i < fit_on.shape()[0] && !any; ++i) any = !std::isnan(fit_on(i, j));
        if (!any) {
            throw column_error(table.where(npos, d.data.feature_columns[j] - 1) +
                               ": cannot impute column " + quote_text(d.data.feature_names[j]) +
                               ": all " + std::to_string(fit_on.shape()[0]) +
                               " values are missing in the rows it is fitted on");
        }
    }
    d.fitted.imputer.fit(fit_on, d.data.feature_names);
    d.data.features = d.fitted.imputer.transform(X);
}

}  // namespace

PreparedData prepare_training_data(const Table& table, const ColumnSpec& spec) {
    PreparedData d = encode_training_data(table, spec);
    impute_training_data(table, d, nullptr);
    return d;
}

PreparedData prepare_training_data(const Table& table, const ColumnSpec& spec,
                                   const std::vector<std::size_t>& imputer_rows) {
    if (imputer_rows.empty())
        throw column_error("prepare_training_data: no rows to fit the imputer on");
    for (std::size_t r : imputer_rows) {
        if (r >= table.rows()) {
            throw std::out_of_range("prepare_training_data: imputer row " + std::to_string(r) +
                                    " of a table of " + std::to_string(table.rows()) + " rows");
        }
    }
    PreparedData d = encode_training_data(table, spec);
    impute_training_data(table, d, &imputer_rows);
    return d;
}

PreparedData prepare_prediction_data(const Table& table, const FittedColumns& fitted,
                                     bool with_labels) {
    const Names names(table);
    std::vector<std::string> missing;
    for (const auto& name : fitted.columns) {
        if (table.find(name) == npos) missing.push_back(name);
    }
    if (!missing.empty()) {
        throw column_error(table.where(npos, npos) + ": the model's " +
                           (missing.size() == 1 ? "column " : "columns ") + quoted_list(missing) +
                           (missing.size() == 1 ? " is" : " are") +
                           " missing (columns: " + quoted_list(table.header()) + ")");
    }
    std::size_t label = npos;
    if (with_labels) {
        if (table.find(fitted.label) == npos) {
            throw column_error(table.where(npos, npos) + ": no label column named " +
                               quote_text(fitted.label) +
                               " (columns: " + quoted_list(table.header()) +
                               did_you_mean(fitted.label, table.header()) + ")");
        }
        label = names.one(fitted.label, "--label", npos);
    }
    std::vector<std::size_t> columns;
    for (const auto& name : fitted.columns) columns.push_back(names.one(name, "the model", label));
    std::vector<std::size_t> used = columns;
    if (label != npos) used.push_back(label);
    names.check_used(used, label);

    std::vector<const LabelEncoder*> encoders;
    std::size_t width = 0;
    for (const auto& name : fitted.columns) {
        const auto& one_hot = fitted.one_hot.columns();
        const auto it = std::find(one_hot.begin(), one_hot.end(), name);
        encoders.push_back(
            it == one_hot.end()
                ? nullptr
                : &fitted.one_hot.categories(static_cast<std::size_t>(it - one_hot.begin())));
        width += encoders.back() != nullptr ? encoders.back()->classes().size() : 1;
    }
    if (width != fitted.feature_names.size()) {
        throw std::invalid_argument("prepare_prediction_data: the fitted columns give " +
                                    std::to_string(width) + " features but name " +
                                    std::to_string(fitted.feature_names.size()));
    }
    if (fitted.imputer.fitted() && fitted.imputer.statistics().size() != width) {
        throw std::invalid_argument("prepare_prediction_data: the imputer has " +
                                    std::to_string(fitted.imputer.statistics().size()) +
                                    " statistics for " + std::to_string(width) + " features");
    }

    PreparedData out;
    out.fitted = fitted;
    Dataset& d = out.data;
    d.labels = array::from_shape({0});
    if (label != npos) {
        d.labels = array::from_shape({table.rows()});
        if (fitted.task == Task::classification) {
            const auto k = fitted.labels.transform(table, label);
            std::copy(k.begin(), k.end(), d.labels.begin());
        } else {
            for (std::size_t i = 0; i < table.rows(); ++i)
                d.labels(i) = regression_label(table, i, label);
        }
        d.label_column = label + 1;
        out.has_labels = true;
    }
    fill_features(table, columns, encoders,
                  NumericRules{Stage::prediction, fitted.imputer.fitted()}, d);
    if (fitted.imputer.fitted()) d.features = fitted.imputer.transform(d.features);
    d.feature_names = fitted.feature_names;
    d.label_name = fitted.label;
    fill_places(table, d);
    return out;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

using json = nlohmann::json;
using xgrad::detail::type_of;

std::string join(const std::string& field, const std::string& key) {
    return field.empty() ? key : field + "." + key;
}

[[noreturn]] void json_fail(const std::string& field, const std::string& what) {
    throw column_error(
        (field.empty() ? std::string("the value") : "field " + quote_text(field, 60)) + " " + what);
}

void require_object(const json& j, const std::string& field) {
    if (!j.is_object()) json_fail(field, "must be an object, found " + type_of(j));
}

const json& member(const json& j, const std::string& field, const char* key) {
    require_object(j, field);
    const auto it = j.find(key);
    if (it == j.end()) throw column_error("missing field " + quote_text(join(field, key), 60));
    return *it;
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t code = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            code = c & 0x07;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            code = (code << 6) | (d & 0x3F);
        }
        const std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (code < least[n] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

/// @brief A name or label as JSON: the string when it is UTF-8, else {"hex": "<its bytes>"}, so
/// that bytes from a file in another encoding come back exactly (a JSON text must be UTF-8).
json text_json(const std::string& text) {
    if (valid_utf8(text)) return text;
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : text) {
        hex += digits[c >> 4];
        hex += digits[c & 15];
    }
    return json{{"hex", hex}};
}

json texts_json(const std::vector<std::string>& texts) {
    json out = json::array();
    for (const auto& t : texts) out.push_back(text_json(t));
    return out;
}

/// @brief The reverse of text_json.
std::string text_value(const json& value, const std::string& path) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.size() == 1 && value.contains("hex") &&
        value["hex"].is_string()) {
        const std::string& hex = value["hex"].get_ref<const std::string&>();
        const auto digit = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        std::string out;
        bool ok = hex.size() % 2 == 0;
        for (std::size_t i = 0; ok && i < hex.size(); i += 2) {
            const int high = digit(hex[i]);
            const int low = digit(hex[i + 1]);
            ok = high >= 0 && low >= 0;
            out += static_cast<char>(high * 16 + low);
        }
        if (!ok) json_fail(path + ".hex", "must be pairs of hexadecimal digits");
        return out;
    }
    json_fail(path, "must be a string, found " + type_of(value));
}

std::string string_member(const json& j, const std::string& field, const char* key) {
    return text_value(member(j, field, key), join(field, key));
}

std::vector<std::string> strings_member(const json& j, const std::string& field, const char* key) {
    const json& list = member(j, field, key);
    const std::string path = join(field, key);
    if (!list.is_array()) json_fail(path, "must be a list of strings, found " + type_of(list));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        out.push_back(text_value(list[i], path + "[" + std::to_string(i) + "]"));
    }
    return out;
}

/// @brief The encoder of the list at `path`, failing with a message that names the field.
LabelEncoder classes_at(const json& j, const std::string& field, const char* key) {
    std::vector<std::string> classes = strings_member(j, field, key);
    bool numeric = false;
    std::vector<double> values;
    const std::string problem = class_problem(classes, numeric, values);
    if (!problem.empty()) {
        // "[2] is an empty string" names an element; the others the whole list.
        std::string path = join(field, key);
        std::string what = problem;
        if (what.front() == '[') {
            const auto close = what.find(']');
            path += what.substr(0, close + 1);
            what = what.substr(close + 2);
        }
        json_fail(path, what);
    }
    return LabelEncoder::from_classes(std::move(classes));
}

}  // namespace

void to_json(json& j, const LabelEncoder& encoder) {
    j = json{{"classes", texts_json(encoder.classes())}};
}

void from_json(const json& j, LabelEncoder& encoder, const std::string& field) {
    encoder = classes_at(j, field, "classes");
}

void to_json(json& j, const Imputer& imputer) {
    if (!imputer.fitted()) throw std::logic_error("to_json: the imputer is not fitted");
    const array& s = imputer.statistics();
    j = json{{"strategy", to_string(imputer.strategy())},
             {"statistics", std::vector<double>(s.begin(), s.end())}};
}

void from_json(const json& j, Imputer& imputer, const std::string& field) {
    const std::string strategy = string_member(j, field, "strategy");
    if (strategy != "mean" && strategy != "median") {
        json_fail(join(field, "strategy"),
                  "must be 'mean' or 'median', found " + quote_text(strategy));
    }
    const json& list = member(j, field, "statistics");
    const std::string path = join(field, "statistics");
    if (!list.is_array()) json_fail(path, "must be a list of numbers, found " + type_of(list));
    array statistics = array::from_shape({list.size()});
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string element = path + "[" + std::to_string(i) + "]";
        if (!list[i].is_number()) json_fail(element, "must be a number, found " + type_of(list[i]));
        statistics(i) = list[i].get<double>();
        if (!std::isfinite(statistics(i))) json_fail(element, "is not finite");
    }
    imputer = Imputer(parse_impute(strategy), std::move(statistics));
}

void to_json(json& j, const OneHotEncoder& encoder) {
    json columns = json::array();
    for (std::size_t c = 0; c < encoder.columns().size(); ++c) {
        columns.push_back({{"name", text_json(encoder.columns()[c])},
                           {"categories", texts_json(encoder.categories(c).classes())}});
    }
    j = json{{"columns", std::move(columns)}};
}

void from_json(const json& j, OneHotEncoder& encoder, const std::string& field) {
    const json& list = member(j, field, "columns");
    const std::string path = join(field, "columns");
    if (!list.is_array()) json_fail(path, "must be a list, found " + type_of(list));
    std::vector<std::string> names;
    std::vector<LabelEncoder> categories;
    for (std::size_t c = 0; c < list.size(); ++c) {
        const std::string element = path + "[" + std::to_string(c) + "]";
        names.push_back(string_member(list[c], element, "name"));
        if (names.back().empty()) json_fail(join(element, "name"), "is an empty name");
        if (std::find(names.begin(), names.end() - 1, names.back()) != names.end() - 1)
            json_fail(join(element, "name"), "repeats the column " + quote_text(names.back()));
        categories.push_back(classes_at(list[c], element, "categories"));
    }
    encoder = OneHotEncoder(std::move(names), std::move(categories));
}

void to_json(json& j, const FittedColumns& fitted) {
    j = json{{"task", fitted.task == Task::classification ? "classification" : "regression"},
             {"label", text_json(fitted.label)},
             {"columns", texts_json(fitted.columns)},
             {"label_encoder", nullptr},
             {"one_hot", fitted.one_hot},
             {"imputer", nullptr},
             {"features", texts_json(fitted.feature_names)}};
    if (fitted.task == Task::classification) j["label_encoder"] = fitted.labels;
    if (fitted.impute != Impute::none) j["imputer"] = fitted.imputer;
}

void from_json(const json& j, FittedColumns& fitted, const std::string& field) {
    FittedColumns out;
    const std::string task = string_member(j, field, "task");
    if (task != "classification" && task != "regression") {
        json_fail(join(field, "task"),
                  "must be 'classification' or 'regression', found " + quote_text(task));
    }
    out.task = task == "classification" ? Task::classification : Task::regression;
    out.label = string_member(j, field, "label");
    if (out.label.empty()) json_fail(join(field, "label"), "is an empty name");
    out.columns = strings_member(j, field, "columns");
    if (out.columns.empty()) json_fail(join(field, "columns"), "is empty: a model needs a column");
    for (std::size_t c = 0; c < out.columns.size(); ++c) {
        const std::string element = join(field, "columns") + "[" + std::to_string(c) + "]";
        if (out.columns[c].empty()) json_fail(element, "is an empty name");
        if (out.columns[c] == out.label) json_fail(element, "is the label column");
        if (std::find(out.columns.begin(), out.columns.begin() + c, out.columns[c]) !=
            out.columns.begin() + c)
            json_fail(element, "repeats the column " + quote_text(out.columns[c]));
    }

    const json& labels = member(j, field, "label_encoder");
    if (out.task == Task::classification) {
        from_json(labels, out.labels, join(field, "label_encoder"));
    } else if (!labels.is_null()) {
        json_fail(join(field, "label_encoder"),
                  "must be null for a regression, found " + type_of(labels));
    }
    from_json(member(j, field, "one_hot"), out.one_hot, join(field, "one_hot"));
    for (std::size_t c = 0; c < out.one_hot.columns().size(); ++c) {
        const std::string& name = out.one_hot.columns()[c];
        if (std::find(out.columns.begin(), out.columns.end(), name) == out.columns.end()) {
            json_fail(join(field, "one_hot.columns") + "[" + std::to_string(c) + "].name",
                      "names " + quote_text(name) + ", which is not among 'columns'");
        }
    }
    std::vector<std::string> expected;
    for (const auto& name : out.columns) {
        const auto& one_hot = out.one_hot.columns();
        const auto it = std::find(one_hot.begin(), one_hot.end(), name);
        if (it == one_hot.end()) {
            expected.push_back(name);
        } else {
            const auto more =
                out.one_hot.feature_names(static_cast<std::size_t>(it - one_hot.begin()));
            expected.insert(expected.end(), more.begin(), more.end());
        }
    }
    out.feature_names = strings_member(j, field, "features");
    if (out.feature_names != expected) {
        json_fail(join(field, "features"),
                  "does not match the columns and their categories (expected " +
                      quoted_list(expected, 10) + ")");
    }

    const json& imputer = member(j, field, "imputer");
    if (!imputer.is_null()) {
        from_json(imputer, out.imputer, join(field, "imputer"));
        out.impute = out.imputer.strategy();
        if (out.imputer.statistics().size() != expected.size()) {
            json_fail(join(field, "imputer.statistics"),
                      "has " + std::to_string(out.imputer.statistics().size()) +
                          " values but there are " + std::to_string(expected.size()) + " features");
        }
    }
    fitted = std::move(out);
}

bool is_nan_label(std::string_view cell) {
    return cell.size() == 3 && (cell[0] | 0x20) == 'n' && (cell[1] | 0x20) == 'a' &&
           (cell[2] | 0x20) == 'n';
}

double regression_label(const Table& table, std::size_t row, std::size_t column) {
    const std::string_view cell = table.cell(row, column);
    const std::string& name = table.header()[column];
    if (cell.empty())
        throw column_error(table.where(row, column) + ": empty cell in label column " +
                           quote_text(name));
    if (is_missing_value(cell)) {
        throw column_error(table.where(row, column) + ": missing label (" + quote_text(cell) +
                           ") in column " + quote_text(name));
    }
    double v = 0.0;
    const Parsed parsed = parse_number(cell, v);
    if (parsed == Parsed::number) return v;
    throw column_error(table.where(row, column) + ": " + quote_text(cell) + " in label column " +
                       quote_text(name) +
                       (parsed == Parsed::too_large
                            ? " is too large for a double (the largest is about 1.8e308)"
                        : parsed == Parsed::not_finite
                            ? " is not a finite number"
                            : " is not a number (a regression label must be a number)"));
}

}  // namespace xgrad::data

namespace xgrad::detail {

std::string type_of(const nlohmann::json& value) {
    if (value.is_number_integer()) return "an integer";
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "null";
        case nlohmann::json::value_t::object:
            return "an object";
        case nlohmann::json::value_t::array:
            return "a list";
        case nlohmann::json::value_t::string:
            return "a string " + quote_text(value.get_ref<const std::string&>());
        case nlohmann::json::value_t::boolean:
            return value.get<bool>() ? "true" : "false";
        case nlohmann::json::value_t::number_float:
            return "a number";
        default:
            return value.type_name();
    }
}

}  // namespace xgrad::detail
