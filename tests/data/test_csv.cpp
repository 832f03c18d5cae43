/***************************************************************************
 * xgrad: the CSV reader and its error messages                             *
 ***************************************************************************/
#include <cstdio>
#include <fstream>
#include <limits>

#include "support.hpp"
#include "xgrad/data/csv.hpp"

namespace xgrad {
namespace {

using data::csv_error;
using data::read_csv;

/// @brief Writes `text` to a temporary file that is removed at scope exit.
class TempCsv {
  public:
    explicit TempCsv(const std::string& text)
        : path_(::testing::TempDir() + "xgrad_test_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv") {
        std::ofstream(path_) << text;
    }
    ~TempCsv() { std::remove(path_.c_str()); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

TEST(Csv, ReadsBundledIris) {
    const data::Dataset iris = read_csv(XGRAD_DATA_DIR "/iris.csv");
    EXPECT_EQ(iris.features.shape(), (shape_type{150, 4}));
    EXPECT_EQ(iris.label_name, "species");
    EXPECT_EQ(iris.feature_names.front(), "sepal_length");
    EXPECT_EQ(iris.features(0, 0), 5.1);
    EXPECT_EQ(iris.labels(149), 2.0);
}

TEST(Csv, PicksColumnsByName) {
    TempCsv f("a,b,label,c\n1,2,0,3\n4,5,1,6\n");
    const data::Dataset d = read_csv(f.path(), "label", {"c", "a"});
    EXPECT_EQ(d.features, (array{{3.0, 1.0}, {6.0, 4.0}}));
    EXPECT_EQ(d.labels, (array{0.0, 1.0}));
    const data::Dataset all = read_csv(f.path(), "label");
    EXPECT_EQ(all.feature_names, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Csv, ToleratesWindowsLineEndingsAndTrailingBlankLines) {
    TempCsv f("x,y\r\n1.5,0\r\n-2e3,1\r\n\r\n");
    const data::Dataset d = read_csv(f.path());
    EXPECT_EQ(d.features, testing::column({1.5, -2000.0}));
}

TEST(Csv, ReadsQuotedFields) {
    // RFC 4180 quoting: commas and doubled quotes inside quotes, quoted numbers, spaces around.
    TempCsv f(
        "\"size, m²\",\"the \"\"best\"\" one\",note,label\n"
        "\"1.5\",2,\"a, b\",1\n"
        " \"3\" ,4,\"\",0\n");
    const data::Dataset d = read_csv(f.path(), "label", {"size, m²", "the \"best\" one"});
    EXPECT_EQ(d.feature_names, (std::vector<std::string>{"size, m²", "the \"best\" one"}));
    EXPECT_EQ(d.features, (array{{1.5, 2.0}, {3.0, 4.0}}));
    EXPECT_EQ(d.labels, (array{1.0, 0.0}));
}

TEST(Csv, QuotedFieldsMaySpanLines) {
    // Quoted fields with line breaks (also Windows ones and a blank line), in the header and in a
    // column that is not read; errors after them name the line where the cell is.
    {
        TempCsv f(
            "\"x\nin m\",note,label\n"
            "1.5,\"first line\r\nsecond, with a comma\n\nafter a blank line\",1\n"
            "2.5,plain,0\n");
        const data::Dataset d = read_csv(f.path(), "label", {"x\nin m"});
        EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x\nin m"}));
        EXPECT_EQ(d.features, testing::column({1.5, 2.5}));
        EXPECT_EQ(d.labels, (array{1.0, 0.0}));
    }
    {
        TempCsv f("x,note,label\n1,\"two\nlines\",abc\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path(), "label", {"x"}), csv_error,
                                f.path() + ":3:3: 'abc' in column 'label' is not a number");
    }
    {
        TempCsv f("x,label\n1,\"two\nlines\",0\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path(), "label", {"x"}), csv_error,
                                f.path() + ":2: ragged row: 3 fields, the header has 2");
    }
}

TEST(Csv, BadQuotingIsReportedWhereItHappens) {
    {
        TempCsv f("x,y\n1,\"2\n3,4\n");
        XGRAD_EXPECT_THROW_WITH(
            read_csv(f.path()), csv_error,
            f.path() + ":2:2: quoted field is not closed before the end of the file");
    }
    {
        TempCsv f("x,y\n1,\"2\"3\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                f.path() + ":2:2: '3' after the closing quote");
    }
    {
        TempCsv f("x,y\n\"\",1\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                f.path() + ":2:1: empty cell in column 'x'");
    }
}

TEST(Csv, ErrorsNameFileLineAndColumn) {
    {
        TempCsv f("x,y\n1,0\n2,abc\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                f.path() + ":3:2: 'abc' in column 'y' is not a number");
    }
    {
        TempCsv f("x,y\n1,\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                f.path() + ":2:2: empty cell in column 'y'");
    }
    {
        TempCsv f("x,y\n1,0\n1,0,5\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                f.path() + ":3: ragged row: 3 fields, the header has 2");
    }
    {
        TempCsv f("");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error, ":1: empty file");
    }
    {
        TempCsv f("x,y\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error, "no data rows");
    }
    {
        TempCsv f("x,y\n1,0\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path(), "label"), csv_error,
                                ":1: no column named 'label' (columns: 'x', 'y')");
    }
    {
        TempCsv f("x,y\n1,nan\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                ":2:2: 'nan' in column 'y' is not a finite");
    }
    XGRAD_EXPECT_THROW_WITH(read_csv("/nonexistent/file.csv"), csv_error,
                            "/nonexistent/file.csv: cannot open file");
}

/// @brief The message parse_csv throws for `text` (read as "d.csv").
std::string csv_error_of(const std::string& text, const std::string& label = "",
                         const std::vector<std::string>& features = {}) {
    try {
        data::parse_csv(text, "d.csv", label, features);
    } catch (const csv_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Csv, RepeatedColumnNamesAreRefusedNamingTheColumns) {
    EXPECT_EQ(csv_error_of("a,a,y\n1,2,0\n"),
              "d.csv:1:2: duplicate column name 'a' (columns 1 and 2)");
    EXPECT_EQ(csv_error_of("a,y,y\n1,2,0\n"),
              "d.csv:1:3: duplicate column name 'y' (columns 2 and 3), one of them the label");
    EXPECT_EQ(csv_error_of("y,a,y\n1,2,0\n", "a"),
              "d.csv:1:3: duplicate column name 'y' (columns 1 and 3)");
    EXPECT_EQ(csv_error_of("x,b,x,y,x,b\n1,2,3,0,4,5\n"),
              "d.csv:1:3: duplicate column name 'x' (columns 1, 3 and 5)");
    EXPECT_EQ(csv_error_of("x,b,x,y,x\n1,2,3,0,4\n"),
              "d.csv:1:3: duplicate column name 'x' (columns 1, 3 and 5), one of them the label");
    // Asking for a repeated name by name is ambiguous too.
    EXPECT_EQ(csv_error_of("a,b,a,y\n1,2,3,0\n", "y", {"a"}),
              "d.csv:1:3: duplicate column name 'a' (columns 1 and 3)");
    EXPECT_EQ(csv_error_of("a,b,y,y\n1,2,3,0\n", "y", {"a"}),
              "d.csv:1:4: duplicate column name 'y' (columns 3 and 4)");
    // Names differing only in spaces around them are the same name (cells are trimmed).
    EXPECT_EQ(csv_error_of("a, a ,y\n1,2,0\n"),
              "d.csv:1:2: duplicate column name 'a' (columns 1 and 2)");
    // Columns nobody reads may repeat: prediction reads only the model's features.
    const data::Dataset d = data::parse_features("note,a,note\nx,1.5,y\n", "d.csv", {"a"});
    EXPECT_EQ(d.features, testing::column({1.5}));
    XGRAD_EXPECT_THROW_WITH(data::parse_features("a,b,a\n1,2,3\n", "d.csv", {"a"}), csv_error,
                            "d.csv:1:3: duplicate column name 'a' (columns 1 and 3)");
    // Linear in the number of columns: 100 000 copies of one name fail at once.
    std::string header;
    for (int i = 0; i < 100000; ++i) header += "x,";
    EXPECT_EQ(csv_error_of(header + "y\n"),
              "d.csv:1:2: duplicate column name 'x' (columns 1, 2, 3, 4, 5, 6, 7, 8, ... (100000 "
              "in all))");
}

TEST(Csv, NamelessColumnsAreRefused) {
    EXPECT_EQ(csv_error_of("a,,y\n1,2,0\n"), "d.csv:1:2: column 2 has no name");
    EXPECT_EQ(csv_error_of("a,b,y,\n1,2,0,\n"),
              "d.csv:1:4: column 4 has no name (a comma at the end of the header?)");
    const data::Dataset d = data::parse_features("a,,\n1,2,3\n", "d.csv", {"a"});  // unread
    EXPECT_EQ(d.features, testing::column({1.0}));
}

TEST(Csv, OtherSeparatorsAndCommentLinesAreNamed) {
    EXPECT_EQ(csv_error_of("a;b;y\n1;2;0\n"),
              "d.csv:1: header has 1 column 'a;b;y', but a feature column and a label column are "
              "needed: is the file separated by ';' instead of commas?");
    EXPECT_EQ(csv_error_of("a\tb\ty\n1\t2\t0\n"),
              "d.csv:1: header has 1 column 'a\\tb\\ty', but a feature column and a label column "
              "are needed: is the file separated by tabs instead of commas?");
    EXPECT_EQ(csv_error_of("a|b|y\n1|2|0\n"),
              "d.csv:1: header has 1 column 'a|b|y', but a feature column and a label column are "
              "needed: is the file separated by '|' instead of commas?");
    EXPECT_EQ(csv_error_of("y\n1\n"),
              "d.csv:1: header has 1 column 'y', but a feature column and a label column are "
              "needed");
    XGRAD_EXPECT_THROW_WITH(data::parse_features("a;b;y\n1;2;0\n", "d.csv", {"a"}), csv_error,
                            "d.csv:1: no column named 'a' (columns: 'a;b;y'): is the file "
                            "separated by ';' instead of commas?");
    EXPECT_EQ(csv_error_of("# exported 2024-01-01, by hand\na,y\n1,0\n"),
              "d.csv:1:1: the header row '# exported 2024-01-01, by hand' starts with '#': comment "
              "lines are not supported (delete them)");
    EXPECT_EQ(csv_error_of("a,b,y\n1,2,0\n# later rows\n3,4,1\n"),
              "d.csv:3: ragged row: 1 field, the header has 3 (a comment line? lines starting "
              "with '#' are not supported)");
    EXPECT_EQ(csv_error_of("a,b,y\n1,2,0\n# x, y, z\n"),
              "d.csv:3:1: '# x' in column 'a' is not a number (a comment line? lines starting "
              "with '#' are not supported)");
    // A quoted name may start with '#'.
    EXPECT_EQ(data::parse_csv("\"#id\",y\n1,0\n", "d.csv").feature_names,
              (std::vector<std::string>{"#id"}));
}

TEST(Csv, ByteOrderMarkIsSkippedAndOddBytesAreShown) {
    const data::Dataset d = data::parse_csv("\xEF\xBB\xBFx,y\n1,0\n", "d.csv");
    EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x"}));
    EXPECT_EQ(csv_error_of("\xEF\xBB\xBF"), "d.csv:1: empty file, expected a header row");
    // Anywhere else a BOM is part of a name, and shown.
    EXPECT_EQ(csv_error_of("x,y\n1,0\n", "\xEF\xBB\xBFy"),
              "d.csv:1: no column named '\\u{feff}y' (columns: 'x', 'y')");
    EXPECT_EQ(csv_error_of("x,y\u200b\n1,0\n", "y"),
              "d.csv:1: no column named 'y' (columns: 'x', 'y\\u{200b}')");
    EXPECT_EQ(csv_error_of(std::string("x,y\n1") + '\0' + "2,0\n"),
              "d.csv:2:1: '1\\x002' in column 'x' is not a number");
    EXPECT_EQ(csv_error_of("x,y\n\x1b[2J,0\n"),
              "d.csv:2:1: '\\x1b[2J' in column 'x' is not a number");
}

TEST(Csv, LongCellsAreCutInMessages) {
    const std::string cell(1 << 20, 'z');
    const std::string message = csv_error_of("x,y\n" + cell + ",0\n");
    EXPECT_EQ(message,
              "d.csv:2:1: '" + std::string(40, 'z') + "...' in column 'x' is not a number");
    EXPECT_EQ(csv_error_of("x,y\n1,\"2\"" + cell + "\n"),
              "d.csv:2:2: '" + std::string(40, 'z') + "...' after the closing quote");
}

TEST(Csv, NumbersBeyondADoubleAndNonFiniteCellsAreRefused) {
    EXPECT_EQ(csv_error_of("x,y\n1e400,0\n"),
              "d.csv:2:1: '1e400' in column 'x' is too large for a double (the largest is about "
              "1.8e308)");
    EXPECT_EQ(csv_error_of("x,y\n-1e309,0\n"),
              "d.csv:2:1: '-1e309' in column 'x' is too large for a double (the largest is about "
              "1.8e308)");
    EXPECT_EQ(csv_error_of("x,y\ninf,0\n"),
              "d.csv:2:1: 'inf' in column 'x' is not a finite number");
    EXPECT_EQ(csv_error_of("x,y\n1,-NaN\n"),
              "d.csv:2:2: '-NaN' in column 'y' is not a finite number");
    // Underflow is no error: the value is 0 (or a subnormal).
    EXPECT_EQ(data::parse_csv("x,y\n1e-400,0\n", "d.csv").features(0, 0), 0.0);
    EXPECT_EQ(data::parse_csv("x,y\n1.7976931348623157e308,0\n", "d.csv").features(0, 0),
              std::numeric_limits<double>::max());
}

TEST(Csv, AnUnclosedQuoteIsFoundInLinearTime) {
    // The case: an unclosed quote on line 2 of a 20 000-line file took 14-21 s to report
    // (every line re-split the whole record so far). Each byte is now stepped over once.
    for (std::size_t lines : {20000, 200000}) {
        SCOPED_TRACE(lines);
        std::string text = "a,b,y\n\"";
        for (std::size_t i = 0; i < lines; ++i)
            text += "0.123456,0.654321," + std::to_string(i % 2) + "\n";
        EXPECT_EQ(csv_error_of(text),
                  "d.csv:2:1: quoted field is not closed before the end of the file");
        EXPECT_LE(data::last_parse_steps(), text.size());
    }
    // A clean file: the same bound.
    std::string clean = "a,b,y\n";
    for (int i = 0; i < 20000; ++i) clean += "0.123456,\"0.65\",1\n";
    data::parse_csv(clean, "d.csv");
    EXPECT_LE(data::last_parse_steps(), clean.size());
    EXPECT_GE(data::last_parse_steps(), clean.size() - 1);
}

TEST(Csv, DatasetsKnowWhereEachCellIs) {
    const data::Dataset d =
        data::parse_csv("\n\na,note,y\n1,\"two\nlines\",0\n\n2,x,1\n", "d.csv", "y", {"a"});
    EXPECT_EQ(d.row_lines, (std::vector<std::size_t>{4, 7}));
    EXPECT_EQ(d.feature_columns, (std::vector<std::size_t>{1}));
    EXPECT_EQ(d.label_column, 3u);
    EXPECT_EQ(d.where(0, 3), "d.csv:5:3");  // the label cell follows the line break
    EXPECT_EQ(d.where(0, 1), "d.csv:4:1");
    EXPECT_EQ(d.where(1, 0), "d.csv:7");
    EXPECT_EQ(d.where(static_cast<std::size_t>(-1), 3), "d.csv:1:3");
}

TEST(Csv, ReadTableSeesTheCellsReadCsvSees) {
    // The same tokenizer: every cell of the bundled iris, read as text, is the number read_csv
    // reads, at the same line.
    const data::Dataset iris = read_csv(XGRAD_DATA_DIR "/iris.csv");
    const data::Table t = data::read_table(XGRAD_DATA_DIR "/iris.csv");
    ASSERT_EQ(t.rows(), 150u);
    EXPECT_EQ(t.header().back(), "species");
    EXPECT_EQ(t.row_lines(), iris.row_lines);
    for (std::size_t i = 0; i < t.rows(); ++i) {
        for (std::size_t j = 0; j < 4; ++j)
            EXPECT_EQ(std::stod(std::string(t.cell(i, j))), iris.features(i, j));
        EXPECT_EQ(std::stod(std::string(t.cell(i, 4))), iris.labels(i));
    }
    // Quoted cells, trimmed as read_csv trims them, and the same places in messages.
    const std::string text = "\"a, b\",y\n \" 1.5 \" ,\"x\nz\"\n2,0\n";
    const data::Table q = data::parse_table(text, "d.csv");
    EXPECT_EQ(q.cell(0, 0), "1.5");
    EXPECT_EQ(q.cell(0, 1), "x\nz");
    const data::Dataset d = data::parse_features(text, "d.csv", {"a, b"});
    EXPECT_EQ(q.where(1, 0), d.where(1, 1));
    EXPECT_EQ(q.where(0, 1), "d.csv:2:2");
    EXPECT_LE(data::last_parse_steps(), text.size());
}

}  // namespace
}  // namespace xgrad
