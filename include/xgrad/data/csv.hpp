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

/// @brief A CSV file read as text: the header and every cell, any of which may be text, with
/// where each cell is in the file. Cells are stored column by column in one buffer per column
/// (a cell costs its bytes and one offset). Cells are trimmed of spaces, tabs and carriage
/// returns around them, as read_csv trims them, quoted or not; quotes are undone.
class Table {
  public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    Table() = default;
    /// @brief An empty table (no rows) with these column names; `source` names the file in
    /// messages; the header starts on `header_line`, and `header_cell_lines` (empty, or one per
    /// name) gives each name's line when the header spans lines.
    Table(std::string source, std::vector<std::string> header, std::size_t header_line = 1,
          std::vector<std::size_t> header_cell_lines = {});

    /// @brief Appends a row of exactly columns() cells (std::invalid_argument otherwise) that
    /// starts on `line`; `cell_lines` (empty, or one per cell) gives each cell's line when the row
    /// spans lines.
    void append_row(const std::vector<std::string>& cells, std::size_t line,
                    const std::vector<std::size_t>& cell_lines = {});

    std::size_t rows() const { return row_lines_.size(); }
    std::size_t columns() const { return header_.size(); }
    const std::string& source() const { return source_; }
    const std::vector<std::string>& header() const { return header_; }
    std::size_t header_line() const { return header_line_; }
    /// @brief The line (from 1) each row starts on.
    const std::vector<std::size_t>& row_lines() const { return row_lines_; }
    /// @brief The line of every cell of the rows that span lines, by row.
    const std::map<std::size_t, std::vector<std::size_t>>& spanning_rows() const {
        return spanning_rows_;
    }

    /// @brief The cell at `row` and `column` (both from 0; std::out_of_range beyond). The view
    /// lives as long as the table.
    std::string_view cell(std::size_t row, std::size_t column) const;
    /// @brief The first column named `name` (from 0), npos if there is none.
    std::size_t find(std::string_view name) const;
    /// @brief `file:line:column` (column printed from 1) of the cell at `row` and `column` (both
    /// from 0); `row` npos gives the header cell's place; `column` npos gives `file:line`.
    std::string where(std::size_t row, std::size_t column) const;

  private:
    std::string source_;
    std::vector<std::string> header_;
    std::size_t header_line_ = 1;
    std::vector<std::size_t> header_cell_lines_;  ///< empty when the header is on one line
    std::vector<std::size_t> row_lines_;
    std::map<std::size_t, std::vector<std::size_t>> spanning_rows_;
    std::vector<std::string> text_;               ///< per column: its cells one after another
    std::vector<std::vector<std::size_t>> ends_;  ///< per column: where each cell ends in text_
};

/// @brief Reads a CSV file whose cells may be text. Quoting, the byte-order mark, blank lines,
/// comment-line hints and the messages are read_csv's (csv_error naming file, line and column
/// for a bad quote or a ragged row; `file:line: empty file, expected a header row`); names may
/// repeat or be empty here (selecting such a column fails later). A header without rows gives a
/// table of 0 rows. Linear time in the file's size (the same tokenizer as read_csv).
Table read_table(const std::string& path);

/// @brief read_table on text in memory; `name` stands for the file in messages.
Table parse_table(std::string_view text, const std::string& name);

/// @brief One rank's share of a CSV file (read_table_shard).
struct TableShard {
    /// @brief The header and only this shard's rows, with the file's real lines (where() names
    /// them; spanning_rows() counts rows from this table's first).
    Table table;
    std::size_t first_row = 0;   ///< index (from 0) of the shard's first row among the file's rows
    std::size_t total_rows = 0;  ///< data rows in the whole file
};

/// @brief Reads shard `shard` (from 0) of `shards` contiguous blocks of the rows of a CSV file,
/// for data-parallel training: with R rows, shard s holds rows [s*q + min(s, r), ...) where
/// q = R / shards and r = R % shards (the first r shards get one row more). Rows are counted as
/// read_table counts them (same byte-order mark, blank-line, quoting and trimming rules), and the
/// tables of shards 0 to shards-1, one after another, are read_table(path): the same header,
/// cells, row_lines(), spanning_rows() (rows counted from each shard's first) and where().
///
/// The file is read in fixed-size blocks (1 MiB) twice by a scan that only follows quotes and
/// line breaks: once to count the rows, once (stopping at the shard's end) to find the shard's
/// bytes; then the header and those bytes alone are parsed with read_table's tokenizer. Memory:
/// the header, this shard's rows (their bytes, then the table) and one block, never the whole
/// file (a quote left open is reported without reading what follows it). Time linear in the
/// file's size. last_parse_steps() afterwards counts the tokenizer's steps over the header and
/// the shard's bytes (the scans are not counted).
///
/// Throws std::invalid_argument (naming the values) when shards is 0 or shard >= shards;
/// csv_error with read_table's message for a file that cannot be opened or read and for an
/// error in the header (every shard finds those), then `file: R data rows cannot be shared by S
/// ranks (each needs at least one row)` when R < shards (a header-only file included), and
/// read_table's message (file, line, column) for a bad quote or a ragged row among this shard's
/// rows. An error in another shard's rows is not looked for here: the rank reading that shard
/// reports it (after a malformed row, later shards may see different rows). Needs a regular file
/// (it is read twice: csv_error for a pipe) that does not change while it is read (csv_error
/// when a pass finds that it did).
TableShard read_table_shard(const std::string& path, std::size_t shard, std::size_t shards);

namespace detail {

/// @brief For tests: sets the size of the blocks read_table_shard reads files in (1 MiB unless
/// set; at least 1 byte) and returns the size it replaces. Tiny blocks make records cross block
/// boundaries anywhere. Takes effect for read_table_shard calls that start afterwards.
std::size_t set_shard_block_bytes(std::size_t bytes);

}  // namespace detail

/// @brief "is the file separated by ';' instead of commas?" (or tabs, or '|') when a header cell
/// holds more of one of those than of the others, for a file read as one column; else empty.
std::string separator_hint(const std::string& header_cell);

/// @brief Characters the tokenizer stepped over in the last parse on this thread (at most two
/// per byte of input: a blank line is looked at once to skip it): lets tests check that reading
/// is linear in the file's size.
std::size_t last_parse_steps();

}  // namespace xgrad::data
