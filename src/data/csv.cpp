/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/data/csv.hpp"

#include "data/csv_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
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
    /// @brief Reads a whole file's text (or its start): a UTF-8 byte-order mark is skipped.
    Tokenizer(std::string_view text, const std::string& path) : text_(text), path_(path) {
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a UTF-8 byte-order mark
    }

    /// @brief Reads a piece of a file that starts at the start of a record on line `first_line`:
    /// lines are counted from there, and the first bytes are data whatever they are.
    Tokenizer(std::string_view text, const std::string& path, std::size_t first_line)
        : text_(text), path_(path), line_(first_line) {}

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

/// @brief The table (no rows yet) of the header record the tokenizer reads next; throws as
/// read_header does.
Table header_table(Tokenizer& tokens, Record& record, const std::string& path) {
    std::vector<std::string> names = read_header(tokens, record, path);
    const std::size_t header_line = record.lines.front();
    std::vector<std::size_t> header_lines;
    if (record.lines.back() != header_line) header_lines = record.lines;
    return Table(path, std::move(names), header_line, std::move(header_lines));
}

/// @brief Appends every record the tokenizer has left to `table` (trimmed); a record with
/// another number of fields than the header fails as a ragged row.
void append_rows(Tokenizer& tokens, Record& record, Table& table, const std::string& path) {
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
}

/// @brief Every cell of the text as a Table (trimmed, quotes undone), with the same tokenizer and
/// the same messages as parse_dataset.
Table parse_whole_table(std::string_view text, const std::string& path) {
    parse_steps = 0;
    Tokenizer tokens(text, path);
    Record record;
    Table table = header_table(tokens, record, path);
    append_rows(tokens, record, table, path);
    return table;
}

std::string read_text(const std::string& path) {
    std::string text;
    std::string error;
    if (!read_whole_file(path, text, error)) throw csv_error(escaped(path) + ": " + error);
    return text;
}

/// @brief The size of the blocks read_table_shard reads (detail::set_shard_block_bytes).
std::atomic<std::size_t> shard_block_bytes{std::size_t{1} << 20};

/// @brief A file read in pieces at given offsets (pread), closed when this goes.
class RandomAccessFile {
  public:
    /// @brief Opens `path`, failing with read_table's messages ("cannot open file: ...", "is a
    /// directory, not a file"), and for a file that cannot be read twice (a pipe, a terminal).
    explicit RandomAccessFile(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw csv_error(escaped(path) + ": cannot open file: " + std::strerror(errno));
        struct stat info {};
        if (::fstat(fd_, &info) != 0)
            fail_and_close(std::string("cannot read: ") + std::strerror(errno));
        if (S_ISDIR(info.st_mode)) fail_and_close("is a directory, not a file");
        if (!S_ISREG(info.st_mode)) {
            fail_and_close("is not a regular file (a share is found by reading the file twice)");
        }
    }
    ~RandomAccessFile() { ::close(fd_); }
    RandomAccessFile(const RandomAccessFile&) = delete;
    RandomAccessFile& operator=(const RandomAccessFile&) = delete;

    /// @brief Reads up to `n` bytes at `offset` into `out`; returns how many (0 at the end).
    std::size_t read(std::size_t offset, char* out, std::size_t n) const {
        for (;;) {
            const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) {
                throw csv_error(escaped(path_) + ": cannot read: " + std::strerror(errno));
            }
        }
    }

    /// @brief Bytes [begin, end) of the file; fails if the file has become shorter.
    std::string read_range(std::size_t begin, std::size_t end) const {
        std::string out(end - begin, '\0');
        for (std::size_t done = 0; done < out.size();) {
            const std::size_t got = read(begin + done, out.data() + done, out.size() - done);
            if (got == 0) changed();
            done += got;
        }
        return out;
    }

    /// @brief Fails because what one pass over the file found is not there in the next.
    [[noreturn]] void changed() const {
        throw csv_error(escaped(path_) + ": the file changed while it was being read");
    }

  private:
    [[noreturn]] void fail_and_close(const std::string& what) {
        ::close(fd_);
        throw csv_error(escaped(path_) + ": " + what);
    }

    std::string path_;
    int fd_ = -1;
};

/// @brief Finds where the file's records start and end without building cells: the Tokenizer's
/// rules reduced to a state machine over quotes, commas and line breaks, fed one block at a time
/// (a record may cross any number of blocks; the machine carries its state over). A byte-order
/// mark at the start is skipped, blank lines too. On a well-formed file it finds the records the
/// Tokenizer finds, on the same lines. On a malformed one it agrees with the Tokenizer up to the
/// Tokenizer's first error, then reads on (text after a closing quote as if it were unquoted), so
/// that every shard finds the same boundaries; a quote still open at the end ends the last record
/// just past that quote (the Tokenizer needs no more to report it).
///
/// `visitor.start(record, offset, line)` is called at the first byte of each record (record
/// counted from 0, line from 1), `visitor.end(record, offset)` just past the line break that ends
/// it (or at the end of the file); the scan stops when `end` returns false. Returns the records
/// seen (the header is record 0). Time linear in the bytes scanned; memory: `block`.
template <class Visitor>
std::size_t scan_records(const RandomAccessFile& file, std::vector<char>& block, Visitor& visitor) {
    enum class State { between, field_start, unquoted, quoted, quote_seen };
    State state = State::between;
    std::size_t records = 0;
    std::size_t line = 1;
    std::size_t open_quote = 0;  // the offset of the last quote that opened a field
    std::size_t offset = 0;
    char bom[3] = {};
    std::size_t got = 0;
    for (std::size_t n = 1; got < 3 && n > 0; got += n) n = file.read(got, bom + got, 3 - got);
    if (got == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0) offset = 3;
    for (;;) {
        const std::size_t n = file.read(offset, block.data(), block.size());
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) {
            if (state == State::unquoted || state == State::field_start) {
                // Most lines hold no quote: from here to the line break nothing can open a
                // quoted field, and the break ends the record from either state, so jump to it.
                const char* here = block.data() + i;
                const auto* line_break = static_cast<const char*>(std::memchr(here, '\n', n - i));
                if (line_break != nullptr &&
                    std::memchr(here, '"', static_cast<std::size_t>(line_break - here)) == nullptr)
                    i = static_cast<std::size_t>(line_break - block.data());
            }
            const char c = block[i];
            bool ends = false;  // a line break that ends the record
            switch (state) {
                case State::between:
                    if (c == '\n') {
                        ++line;
                        break;
                    }
                    if (c == ' ' || c == '\t' || c == '\r') break;
                    visitor.start(records, offset + i, line);
                    state = State::field_start;
                    [[fallthrough]];
                case State::field_start:
                    if (c == ' ' || c == '\t') break;
                    if (c == '"') {
                        state = State::quoted;
                        open_quote = offset + i;
                        break;
                    }
                    state = State::unquoted;
                    [[fallthrough]];
                case State::unquoted:
                    if (c == ',') state = State::field_start;
                    ends = c == '\n';
                    break;
                case State::quoted:
                    if (c == '"') state = State::quote_seen;
                    if (c == '\n') ++line;
                    break;
                case State::quote_seen:
                    if (c == '"') {  // a doubled quote: one quote in the field
                        state = State::quoted;
                        break;
                    }
                    // Up to a comma or a line break, as in an unquoted field: spaces, or text
                    // the Tokenizer fails on.
                    state = c == ',' ? State::field_start : State::unquoted;
                    ends = c == '\n';
                    break;
            }
            if (ends) {
                ++line;
                state = State::between;
                if (!visitor.end(records++, offset + i + 1)) return records;
            }
        }
        offset += n;
    }
    if (state != State::between) {
        const std::size_t end = state == State::quoted ? open_quote + 1 : offset;
        visitor.end(records++, end);
    }
    return records;
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

TableShard read_table_shard(const std::string& path, std::size_t shard, std::size_t shards) {
    if (shards == 0) {
        throw std::invalid_argument("read_table_shard: 0 shards of " +
                                    quote_text(path, std::string::npos) +
                                    " asked for (at least 1 is needed)");
    }
    if (shard >= shards) {
        throw std::invalid_argument("read_table_shard: shard " + std::to_string(shard) + " of " +
                                    quote_text(path, std::string::npos) + " is out of range for " +
                                    std::to_string(shards) + " shards (0 to " +
                                    std::to_string(shards - 1) + ")");
    }
    parse_steps = 0;
    const RandomAccessFile file(path);
    std::vector<char> block(std::max<std::size_t>(1, shard_block_bytes.load()));

    // Pass 1 counts the records and finds where the header ends.
    struct {
        std::size_t header_end = 0;
        void start(std::size_t, std::size_t, std::size_t) {}
        bool end(std::size_t record, std::size_t offset) {
            if (record == 0) header_end = offset;
            return true;
        }
    } counter;
    const std::size_t records = scan_records(file, block, counter);

    // The header, read as read_table reads it: every shard reports its errors.
    const std::string head = file.read_range(0, records == 0 ? 0 : counter.header_end);
    Tokenizer header_tokens(head, path);
    Record record;
    Table table = header_table(header_tokens, record, path);
    const std::size_t rows = records - 1;  // records > 0 here
    if (rows < shards) {
        throw csv_error(escaped(path) + ": " + count(rows, "data row", "data rows") +
                        " cannot be shared by " + count(shards, "rank", "ranks") +
                        " (each needs at least one row)");
    }
    const std::size_t per_shard = rows / shards;
    const std::size_t extra = rows % shards;  // the first `extra` shards get one row more
    const std::size_t first = shard * per_shard + std::min(shard, extra);
    const std::size_t size = per_shard + (shard < extra ? 1 : 0);

    // Pass 2 finds where this shard's rows (records first + 1 to first + size) start and end.
    struct {
        std::size_t first_record = 0;
        std::size_t last_record = 0;
        std::size_t begin = Table::npos;
        std::size_t line = 0;
        std::size_t stop = Table::npos;
        void start(std::size_t record, std::size_t offset, std::size_t at_line) {
            if (record != first_record) return;
            begin = offset;
            line = at_line;
        }
        bool end(std::size_t record, std::size_t offset) {
            if (record != last_record) return true;
            stop = offset;
            return false;
        }
    } finder;
    finder.first_record = first + 1;
    finder.last_record = first + size;
    scan_records(file, block, finder);
    if (finder.begin == Table::npos || finder.stop == Table::npos) file.changed();
    block = std::vector<char>();

    const std::string text = file.read_range(finder.begin, finder.stop);
    Tokenizer tokens(text, path, finder.line);
    append_rows(tokens, record, table, path);
    if (table.rows() != size) file.changed();  // a well-formed range holds exactly its records
    return TableShard{std::move(table), first, rows};
}

namespace detail {

std::size_t set_shard_block_bytes(std::size_t bytes) {
    return shard_block_bytes.exchange(std::max<std::size_t>(1, bytes));
}

}  // namespace detail

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
