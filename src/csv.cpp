/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/data/csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>

namespace xgrad::data {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return "";
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

[[noreturn]] void fail(const std::string& path, std::size_t line, std::size_t column,
                       const std::string& what) {
    std::string where = path + ":" + std::to_string(line);
    if (column > 0) where += ":" + std::to_string(column);
    throw csv_error(where + ": " + what);
}

/// @brief The fields of one line, RFC 4180 style: a field in double quotes may hold commas and
/// doubled quotes ("" for "), and spaces around it are dropped. A quoted field may not span lines.
std::vector<std::string> split_fields(const std::string& line, const std::string& path,
                                      std::size_t line_number) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    std::vector<std::string> fields;
    const std::size_t n = line.size();
    std::size_t i = 0;
    for (;;) {
        const std::size_t column = fields.size() + 1;
        std::size_t start = i;
        while (start < n && is_space(line[start])) ++start;
        std::string field;
        if (start < n && line[start] == '"') {
            for (i = start + 1;; ++i) {
                if (i >= n)
                    fail(path, line_number, column, "quoted field is not closed on its line");
                if (line[i] != '"') {
                    field += line[i];
                } else if (i + 1 < n && line[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    ++i;
                    break;
                }
            }
            while (i < n && is_space(line[i])) ++i;
            if (i < n && line[i] != ',') {
                fail(path, line_number, column,
                     "'" + std::string(1, line[i]) + "' after the closing quote");
            }
        } else {
            const std::size_t comma = std::min(line.find(',', i), n);
            field = line.substr(i, comma - i);
            i = comma;
        }
        fields.push_back(std::move(field));
        if (i >= n) return fields;
        ++i;  // past the comma
    }
}

std::size_t column_index(const std::vector<std::string>& header, const std::string& name,
                         const std::string& path) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
        std::string known;
        for (const auto& h : header) known += (known.empty() ? "" : ", ") + h;
        fail(path, 1, 0, "no column named '" + name + "' (columns: " + known + ")");
    }
    return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

namespace {

/// @brief Reads the header, then the named feature columns and (if `label_column` is given; empty
/// names the last column) the label column. Only those cells must be numbers.
Dataset read_table(const std::string& path, const std::string* label_column,
                   const std::vector<std::string>& feature_columns) {
    std::ifstream in(path);
    if (!in) throw csv_error(path + ": cannot open file");
    std::string line;
    if (!std::getline(in, line) || trim(line).empty()) {
        fail(path, 1, 0, "empty file, expected a header row");
    }
    std::vector<std::string> header = split_fields(line, path, 1);
    for (auto& h : header) h = trim(h);
    if (label_column != nullptr && header.size() < 2) {
        fail(path, 1, 0, "need at least one feature column and a label column");
    }

    Dataset out;
    std::optional<std::size_t> label;
    if (label_column != nullptr) {
        label =
            label_column->empty() ? header.size() - 1 : column_index(header, *label_column, path);
        out.label_name = header[*label];
    }
    std::vector<std::size_t> features;
    if (feature_columns.empty()) {
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (c != label) features.push_back(c);
        }
    } else {
        for (const auto& name : feature_columns)
            features.push_back(column_index(header, name, path));
    }
    for (std::size_t c : features) out.feature_names.push_back(header[c]);
    std::vector<bool> used(header.size(), false);
    for (std::size_t c : features) used[c] = true;
    if (label) used[*label] = true;

    std::vector<double> feature_values;
    std::vector<double> label_values;
    std::vector<double> row(header.size());
    std::size_t line_number = 1;
    std::size_t rows = 0;
    while (std::getline(in, line)) {
        ++line_number;
        if (trim(line).empty()) continue;  // blank lines (e.g. a trailing newline) carry no row
        const std::vector<std::string> fields = split_fields(line, path, line_number);
        if (fields.size() != header.size()) {
            fail(path, line_number, 0,
                 "ragged row: " + std::to_string(fields.size()) + " fields, the header has " +
                     std::to_string(header.size()));
        }
        for (std::size_t c = 0; c < fields.size(); ++c) {
            if (!used[c]) continue;
            const std::string cell = trim(fields[c]);
            const std::string column = "column '" + header[c] + "'";
            if (cell.empty()) fail(path, line_number, c + 1, "empty cell in " + column);
            char* end = nullptr;
            const double v = std::strtod(cell.c_str(), &end);
            if (end != cell.c_str() + cell.size()) {
                fail(path, line_number, c + 1, "'" + cell + "' in " + column + " is not a number");
            }
            if (!std::isfinite(v)) {
                fail(path, line_number, c + 1,
                     "'" + cell + "' in " + column + " is not a finite number");
            }
            row[c] = v;
        }
        for (std::size_t c : features) feature_values.push_back(row[c]);
        if (label) label_values.push_back(row[*label]);
        ++rows;
    }
    if (rows == 0) fail(path, line_number, 0, "no data rows after the header");

    out.features = array::from_shape({rows, features.size()});
    std::copy(feature_values.begin(), feature_values.end(), out.features.begin());
    if (label) {
        out.labels = array::from_shape({rows});
        std::copy(label_values.begin(), label_values.end(), out.labels.begin());
    }
    return out;
}

}  // namespace

Dataset read_csv(const std::string& path, const std::string& label_column,
                 const std::vector<std::string>& feature_columns) {
    return read_table(path, &label_column, feature_columns);
}

Dataset read_features(const std::string& path, const std::vector<std::string>& feature_columns) {
    if (feature_columns.empty()) throw csv_error(path + ": no feature columns were named");
    return read_table(path, nullptr, feature_columns);
}

}  // namespace xgrad::data
