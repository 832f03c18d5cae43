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

/// @brief One record of the file: its fields and the line each field starts on.
struct Record {
    std::vector<std::string> fields;
    std::vector<std::size_t> lines;
};

/// @brief Splits `text`, which starts on line `first_line`, into fields, RFC 4180 style: a field
/// in double quotes may hold commas, line breaks and doubled quotes ("" for "), and spaces around
/// it are dropped. Returns the number (from 1) of a quoted field still open at the end of the
/// text, after which the caller appends the next line; 0 when the record is complete.
std::size_t split_record(const std::string& text, std::size_t first_line, const std::string& path,
                         Record& out) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    out.fields.clear();
    out.lines.clear();
    const std::size_t n = text.size();
    std::size_t line = first_line;
    std::size_t i = 0;
    for (;;) {
        const std::size_t column = out.fields.size() + 1;
        const std::size_t field_line = line;
        std::size_t start = i;
        while (start < n && is_space(text[start])) ++start;
        std::string field;
        if (start < n && text[start] == '"') {
            for (i = start + 1;; ++i) {
                if (i >= n) return column;
                if (text[i] != '"') {
                    if (text[i] == '\n') ++line;
                    field += text[i];
                } else if (i + 1 < n && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    ++i;
                    break;
                }
            }
            while (i < n && is_space(text[i])) ++i;
            if (i < n && text[i] != ',') {
                fail(path, line, column,
                     "'" + std::string(1, text[i]) + "' after the closing quote");
            }
        } else {
            const std::size_t comma = std::min(text.find(',', i), n);
            field = text.substr(i, comma - i);
            i = comma;
        }
        out.fields.push_back(std::move(field));
        out.lines.push_back(field_line);
        if (i >= n) return 0;
        ++i;  // past the comma
    }
}

/// @brief Reads the next record, skipping blank lines; `line_number` is the last line read.
/// Returns false at the end of the file.
bool read_record(std::istream& in, const std::string& path, std::size_t& line_number, Record& out) {
    std::string text;
    do {
        if (!std::getline(in, text)) return false;
        ++line_number;
    } while (trim(text).empty());  // blank lines (e.g. a trailing newline) carry no record
    const std::size_t first_line = line_number;
    std::string next;
    for (std::size_t open = split_record(text, first_line, path, out); open != 0;
         open = split_record(text, first_line, path, out)) {
        if (!std::getline(in, next)) {
            fail(path, first_line, open, "quoted field is not closed before the end of the file");
        }
        ++line_number;
        if (!text.empty() && text.back() == '\r') text.pop_back();  // a Windows line break
        text += '\n';
        text += next;
    }
    return true;
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
    std::size_t line_number = 0;
    Record record;
    if (!read_record(in, path, line_number, record) || record.lines.front() != 1) {
        fail(path, 1, 0, "empty file, expected a header row");
    }
    std::vector<std::string> header = record.fields;
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
    std::size_t rows = 0;
    while (read_record(in, path, line_number, record)) {
        const std::vector<std::string>& fields = record.fields;
        if (fields.size() != header.size()) {
            fail(path, record.lines.front(), 0,
                 "ragged row: " + std::to_string(fields.size()) + " fields, the header has " +
                     std::to_string(header.size()));
        }
        for (std::size_t c = 0; c < fields.size(); ++c) {
            if (!used[c]) continue;
            const std::string cell = trim(fields[c]);
            const std::string column = "column '" + header[c] + "'";
            const std::size_t line = record.lines[c];
            if (cell.empty()) fail(path, line, c + 1, "empty cell in " + column);
            char* end = nullptr;
            const double v = std::strtod(cell.c_str(), &end);
            if (end != cell.c_str() + cell.size()) {
                fail(path, line, c + 1, "'" + cell + "' in " + column + " is not a number");
            }
            if (!std::isfinite(v)) {
                fail(path, line, c + 1, "'" + cell + "' in " + column + " is not a finite number");
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
