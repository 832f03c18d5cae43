/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/data/csv.hpp"

#include "data/csv_text.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "xgrad/data/io.hpp"

namespace xgrad::data {

namespace {

thread_local std::size_t parse_steps = 0;

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return "";
    const auto last = s.find_last_not_of(" \t\r");
    return std::string(s.substr(first, last - first + 1));
}

/// @brief `file:line:column: what` (`file:line: what` for column 0).
[[noreturn]] void fail(const std::string& path, std::size_t line, std::size_t column,
                       const std::string& what) {
    std::string where = escaped(path) + ":" + std::to_string(line);
    if (column > 0) where += ":" + std::to_string(column);
    throw csv_error(where + ": " + what);
}

std::string count(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

/// @brief One record of the file: its fields and the line each field starts on.
struct Record {
    std::vector<std::string> fields;
    std::vector<std::size_t> lines;
    std::size_t start = 0;  ///< offset of its first character in the text
    bool hash = false;      ///< starts with an unquoted '#': a comment line, most likely
};

/// @brief Splits the text into records in one pass, RFC 4180 style: a field in double quotes may
/// hold commas, line breaks and doubled quotes ("" for "), and spaces around it are dropped.
/// Every character is stepped over once (blank lines included), so reading is linear in the
/// size of the text whatever the quotes do.
class Tokenizer {
  public:
    Tokenizer(std::string_view text, const std::string& path) : text_(text), path_(path) {
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a UTF-8 byte-order mark
    }

    /// @brief The next record, skipping blank lines; false at the end of the text.
    bool next(Record& out) {
        out.fields.clear();
        out.lines.clear();
        const std::size_t n = text_.size();
        for (; pos_ < n; step()) {
            const char c = text_[pos_];
            if (c == '\n') {
                ++line_;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                break;
            }
        }
        if (pos_ >= n) return false;
        out.start = pos_;
        out.hash = text_[pos_] == '#';
        for (;;) {
            const std::size_t column = out.fields.size() + 1;
            while (pos_ < n && (text_[pos_] == ' ' || text_[pos_] == '\t')) step();
            out.lines.push_back(line_);
            std::string field;
            if (pos_ < n && text_[pos_] == '"') {
                quoted_field(field, column);
            } else {
                const std::size_t start = pos_;
                while (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n') step();
                field.assign(text_.data() + start, pos_ - start);
            }
            out.fields.push_back(std::move(field));
            if (pos_ >= n) return true;
            const char separator = text_[pos_];
            step();
            if (separator == '\n') {
                ++line_;
                return true;
            }
        }
    }

    /// @brief The line being read (from 1).
    std::size_t line() const { return line_; }

    /// @brief Up to 60 characters of the line a record starts on, for messages.
    std::string line_at(std::size_t start) const {
        const std::size_t end = std::min(text_.find('\n', start), text_.size());
        std::string_view line = text_.substr(start, std::min<std::size_t>(end - start, 200));
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return quote_text(line, 60);
    }

  private:
    void step() {
        ++pos_;
        ++parse_steps;
    }

    void quoted_field(std::string& field, std::size_t column) {
        const std::size_t n = text_.size();
        const std::size_t first_line = line_;
        step();  // the opening quote
        for (;;) {
            if (pos_ >= n) {
                fail(path_, first_line, column,
                     "quoted field is not closed before the end of the file");
            }
            const char c = text_[pos_];
            if (c == '"') {
                step();
                if (pos_ < n && text_[pos_] == '"') {
                    field += '"';
                    step();
                    continue;
                }
                break;
            }
            if (c == '\n') {
                ++line_;
                if (!field.empty() && field.back() == '\r') field.pop_back();  // a Windows break
            }
            field += c;
            step();
        }
        while (pos_ < n && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r'))
            step();
        if (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n') {
            const std::size_t end = std::min({text_.find(',', pos_), text_.find('\n', pos_), n});
            fail(path_, line_, column,
                 quote_text(text_.substr(pos_, std::min<std::size_t>(end - pos_, 200))) +
                     " after the closing quote");
        }
    }

    std::string_view text_;
    const std::string& path_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

const char* comment_hint = " (a comment line? lines starting with '#' are not supported)";

class Header {
  public:
    Header(std::vector<std::string> names, const std::string& path)
        : names_(std::move(names)), path_(path) {
        for (std::size_t c = 0; c < names_.size(); ++c) columns_[names_[c]].push_back(c);
    }

    std::size_t size() const { return names_.size(); }
    const std::string& operator[](std::size_t c) const { return names_[c]; }

    /// @brief The one column called `name`; an unknown or repeated name fails.
    std::size_t index(const std::string& name) const {
        const auto found = columns_.find(name);
        if (found == columns_.end()) {
            std::string known;
            for (std::size_t c = 0; c < names_.size() && c < 8; ++c)
                known += (c == 0 ? "" : ", ") + quote_text(names_[c]);
            if (names_.size() > 8) known += ", ... (" + count(names_.size(), "", "columns") + ")";
            const std::string hint = names_.size() == 1 ? separator_hint(names_[0]) : "";
            fail(path_, 1, 0,
                 "no column named " + quote_text(name) + " (columns: " + known + ")" +
                     (hint.empty() ? "" : ": " + hint));
        }
        if (found->second.size() > 1) duplicate(found->second, false);
        return found->second.front();
    }

    /// @brief Fails if a column in `used` has no name or shares it with another column in
    /// `used`: the repeated name whose second column comes first is reported.
    void check_names(const std::vector<std::size_t>& used, std::optional<std::size_t> label) const {
        std::vector<bool> is_used(names_.size(), false);
        for (std::size_t c : used) is_used[c] = true;
        for (std::size_t c = 0; c < names_.size(); ++c) {
            if (is_used[c] && names_[c].empty()) {
                fail(path_, 1, c + 1,
                     "column " + std::to_string(c + 1) + " has no name" +
                         (c + 1 == names_.size() ? " (a comma at the end of the header?)" : ""));
            }
        }
        for (std::size_t c = 0; c < names_.size(); ++c) {  // in the order of second columns
            if (!is_used[c]) continue;
            std::vector<std::size_t> same;
            for (std::size_t d : columns_.at(names_[c])) {
                if (is_used[d]) same.push_back(d);
            }
            if (same.size() > 1 && same[1] == c) {
                duplicate(same, label && std::find(same.begin(), same.end(), *label) != same.end());
            }
        }
    }

  private:
    [[noreturn]] void duplicate(const std::vector<std::size_t>& columns, bool label) const {
        const std::string list = detail::column_number_list(columns);
        fail(path_, 1, columns[1] + 1,
             "duplicate column name " + quote_text(names_[columns[0]]) + " (columns " + list + ")" +
                 (label ? ", one of them the label" : ""));
    }

    std::vector<std::string> names_;
    const std::string& path_;
    std::map<std::string, std::vector<std::size_t>> columns_;  ///< name → its columns, in order
};

/// @brief Reads the header row into `record` and returns its trimmed names; throws for an empty
/// file and for a header that is a '#' comment line.
std::vector<std::string> read_header(Tokenizer& tokens, Record& record, const std::string& path) {
    if (!tokens.next(record)) fail(path, 1, 0, "empty file, expected a header row");
    if (record.hash) {
        fail(path, record.lines.front(), 1,
             "the header row " + tokens.line_at(record.start) +
                 " starts with '#': comment lines are not supported (delete them)");
    }
    std::vector<std::string> names;
    for (const auto& field : record.fields) names.push_back(trim(field));
    return names;
}

/// @brief Reads the header, then the named feature columns and (if `label_column` is given; empty
/// names the last column) the label column. Only those cells must be numbers.
Dataset parse_dataset(std::string_view text, const std::string& path,
                      const std::string* label_column,
                      const std::vector<std::string>& feature_columns) {
    parse_steps = 0;
    Tokenizer tokens(text, path);
    Record record;
    std::vector<std::string> names = read_header(tokens, record, path);
    const std::size_t header_line = record.lines.front();
    const Header header(std::move(names), path);
    if (label_column != nullptr && header.size() < 2) {
        const std::string hint = separator_hint(header[0]);
        fail(path, header_line, 0,
             "header has 1 column " + quote_text(header[0]) +
                 ", but a feature column and a label column are needed" +
                 (hint.empty() ? "" : ": " + hint));
    }

    Dataset out;
    out.source = path;
    std::optional<std::size_t> label;
    if (label_column != nullptr) {
        label = label_column->empty() ? header.size() - 1 : header.index(*label_column);
        out.label_name = header[*label];
        out.label_column = *label + 1;
    }
    std::vector<std::size_t> features;
    if (feature_columns.empty()) {
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (c != label) features.push_back(c);
        }
    } else {
        for (const auto& name : feature_columns) features.push_back(header.index(name));
    }
    std::vector<std::size_t> used = features;
    if (label) used.push_back(*label);
    header.check_names(used, label);
    for (std::size_t c : features) {
        out.feature_names.push_back(header[c]);
        out.feature_columns.push_back(c + 1);
    }
    std::vector<bool> is_used(header.size(), false);
    for (std::size_t c : used) is_used[c] = true;

    std::vector<double> feature_values;
    std::vector<double> label_values;
    std::vector<double> row(header.size());
    std::size_t rows = 0;
    while (tokens.next(record)) {
        const std::vector<std::string>& fields = record.fields;
        const std::size_t first_line = record.lines.front();
        if (fields.size() != header.size()) {
            fail(path, first_line, 0,
                 "ragged row: " + count(fields.size(), "field", "fields") + ", the header has " +
                     std::to_string(header.size()) + (record.hash ? comment_hint : ""));
        }
        for (std::size_t c = 0; c < fields.size(); ++c) {
            if (!is_used[c]) continue;
            const std::string cell = trim(fields[c]);
            const std::string column = "column " + quote_text(header[c]);
            const std::size_t line = record.lines[c];
            if (cell.empty()) fail(path, line, c + 1, "empty cell in " + column);
            char* end = nullptr;
            errno = 0;
            const double v = std::strtod(cell.c_str(), &end);
            if (end != cell.c_str() + cell.size()) {
                fail(path, line, c + 1,
                     quote_text(cell) + " in " + column + " is not a number" +
                         (cell[0] == '#' ? comment_hint : ""));
            }
            if (errno == ERANGE && std::isinf(v)) {
                fail(path, line, c + 1,
                     quote_text(cell) + " in " + column +
                         " is too large for a double (the largest is about 1.8e308)");
            }
            if (!std::isfinite(v)) {
                fail(path, line, c + 1,
                     quote_text(cell) + " in " + column + " is not a finite number");
            }
            row[c] = v;
        }
        for (std::size_t c : features) feature_values.push_back(row[c]);
        if (label) label_values.push_back(row[*label]);
        out.row_lines.push_back(first_line);
        if (record.lines.back() != first_line) out.spanning_rows[rows] = record.lines;
        ++rows;
    }
    if (rows == 0) fail(path, header_line, 0, "no data rows after the header");

    out.features = array::from_shape({rows, features.size()});
    std::copy(feature_values.begin(), feature_values.end(), out.features.begin());
    if (label) {
        out.labels = array::from_shape({rows});
        std::copy(label_values.begin(), label_values.end(), out.labels.begin());
    }
    return out;
}

/// @brief Every cell of the text as a Table (trimmed, quotes undone), with the same tokenizer and
/// the same messages as parse_dataset.
Table parse_whole_table(std::string_view text, const std::string& path) {
    parse_steps = 0;
    Tokenizer tokens(text, path);
    Record record;
    std::vector<std::string> names = read_header(tokens, record, path);
    const std::size_t header_line = record.lines.front();
    std::vector<std::size_t> header_lines;
    if (record.lines.back() != header_line) header_lines = record.lines;
    Table table(path, std::move(names), header_line, std::move(header_lines));
    const std::vector<std::size_t> same_line;
    while (tokens.next(record)) {
        const std::size_t first_line = record.lines.front();
        if (record.fields.size() != table.columns()) {
            // A one-column header is most often a file separated by something else.
            const std::string hint =
                table.columns() == 1 ? separator_hint(table.header()[0]) : std::string();
            fail(path, first_line, 0,
                 "ragged row: " + count(record.fields.size(), "field", "fields") +
                     ", the header has " + std::to_string(table.columns()) +
                     (record.hash ? comment_hint : "") + (hint.empty() ? "" : ": " + hint));
        }
        for (auto& field : record.fields) field = trim(field);
        table.append_row(record.fields, first_line,
                         record.lines.back() != first_line ? record.lines : same_line);
    }
    return table;
}

std::string read_text(const std::string& path) {
    std::string text;
    std::string error;
    if (!read_whole_file(path, text, error)) throw csv_error(escaped(path) + ": " + error);
    return text;
}

}  // namespace

std::string Dataset::where(std::size_t row, std::size_t column) const {
    std::size_t line = 0;
    if (row == static_cast<std::size_t>(-1)) {
        line = 1;
    } else if (row < row_lines.size()) {
        line = row_lines[row];
        const auto spanning = spanning_rows.find(row);
        if (column > 0 && spanning != spanning_rows.end() && column <= spanning->second.size())
            line = spanning->second[column - 1];
    }
    std::string out = escaped(source);
    if (line == 0) return out;
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
    return out;
}

Dataset parse_csv(std::string_view text, const std::string& name, const std::string& label_column,
                  const std::vector<std::string>& feature_columns) {
    return parse_dataset(text, name, &label_column, feature_columns);
}

Dataset parse_features(std::string_view text, const std::string& name,
                       const std::vector<std::string>& feature_columns) {
    if (feature_columns.empty()) throw csv_error(escaped(name) + ": no feature columns were named");
    return parse_dataset(text, name, nullptr, feature_columns);
}

Dataset read_csv(const std::string& path, const std::string& label_column,
                 const std::vector<std::string>& feature_columns) {
    return parse_csv(read_text(path), path, label_column, feature_columns);
}

Dataset read_features(const std::string& path, const std::vector<std::string>& feature_columns) {
    if (feature_columns.empty()) throw csv_error(escaped(path) + ": no feature columns were named");
    return parse_features(read_text(path), path, feature_columns);
}

Table::Table(std::string source, std::vector<std::string> header, std::size_t header_line,
             std::vector<std::size_t> header_cell_lines)
    : source_(std::move(source)),
      header_(std::move(header)),
      header_line_(header_line),
      header_cell_lines_(std::move(header_cell_lines)),
      text_(header_.size()),
      ends_(header_.size()) {
    if (!header_cell_lines_.empty() && header_cell_lines_.size() != header_.size()) {
        throw std::invalid_argument("Table: " + std::to_string(header_cell_lines_.size()) +
                                    " header cell lines for " + std::to_string(header_.size()) +
                                    " columns");
    }
}

void Table::append_row(const std::vector<std::string>& cells, std::size_t line,
                       const std::vector<std::size_t>& cell_lines) {
    if (cells.size() != header_.size() ||
        (!cell_lines.empty() && cell_lines.size() != cells.size())) {
        throw std::invalid_argument("Table::append_row: " + std::to_string(cells.size()) +
                                    " cells and " + std::to_string(cell_lines.size()) +
                                    " cell lines for a table of " + std::to_string(header_.size()) +
                                    " columns");
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
        text_[c] += cells[c];
        ends_[c].push_back(text_[c].size());
    }
    if (!cell_lines.empty() &&
        std::any_of(cell_lines.begin(), cell_lines.end(), [&](std::size_t l) { return l != line; }))
        spanning_rows_[row_lines_.size()] = cell_lines;
    row_lines_.push_back(line);
}

std::string_view Table::cell(std::size_t row, std::size_t column) const {
    if (row >= rows() || column >= columns()) {
        throw std::out_of_range("Table::cell: row " + std::to_string(row) + ", column " +
                                std::to_string(column) + " of a table of " +
                                std::to_string(rows()) + " rows and " + std::to_string(columns()) +
                                " columns");
    }
    const std::size_t begin = row == 0 ? 0 : ends_[column][row - 1];
    return std::string_view(text_[column]).substr(begin, ends_[column][row] - begin);
}

std::size_t Table::find(std::string_view name) const {
    for (std::size_t c = 0; c < header_.size(); ++c) {
        if (header_[c] == name) return c;
    }
    return npos;
}

std::string Table::where(std::size_t row, std::size_t column) const {
    std::size_t line = 0;
    if (row == npos) {
        line = header_line_;
        if (column < header_cell_lines_.size()) line = header_cell_lines_[column];
    } else if (row < row_lines_.size()) {
        line = row_lines_[row];
        const auto spanning = spanning_rows_.find(row);
        if (spanning != spanning_rows_.end() && column < spanning->second.size())
            line = spanning->second[column];
    }
    std::string out = escaped(source_);
    if (line == 0) return out;
    out += ":" + std::to_string(line);
    if (column != npos) out += ":" + std::to_string(column + 1);
    return out;
}

Table parse_table(std::string_view text, const std::string& name) {
    return parse_whole_table(text, name);
}

Table read_table(const std::string& path) {
    return parse_whole_table(read_text(path), path);
}

std::size_t last_parse_steps() {
    return parse_steps;
}

// Declared, with its contract, in xgrad/data/csv.hpp.
std::string separator_hint(const std::string& name) {
    std::size_t best = 0;
    std::string hint;
    for (const auto& [c, said] : {std::pair{';', "';'"}, {'\t', "tabs"}, {'|', "'|'"}}) {
        const auto n = static_cast<std::size_t>(std::count(name.begin(), name.end(), c));
        if (n > best) {
            best = n;
            hint = std::string("is the file separated by ") + said + " instead of commas?";
        }
    }
    return hint;
}

namespace detail {

std::string column_number_list(const std::vector<std::size_t>& columns) {
    std::string list;
    for (std::size_t k = 0; k < columns.size() && k < 8; ++k) {
        list += (k == 0                    ? ""
                 : k + 1 == columns.size() ? " and "
                                           : ", ") +
                std::to_string(columns[k] + 1);
    }
    if (columns.size() > 8) list += ", ... (" + std::to_string(columns.size()) + " in all)";
    return list;
}

}  // namespace detail

}  // namespace xgrad::data
