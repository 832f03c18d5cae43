/***************************************************************************
 * xgrad: the CSV reader and its error messages                             *
 ***************************************************************************/
#include <cstdio>
#include <fstream>

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
                                ":1: no column named 'label' (columns: x, y)");
    }
    {
        TempCsv f("x,y\n1,nan\n");
        XGRAD_EXPECT_THROW_WITH(read_csv(f.path()), csv_error,
                                ":2:2: 'nan' in column 'y' is not a finite");
    }
    XGRAD_EXPECT_THROW_WITH(read_csv("/nonexistent/file.csv"), csv_error,
                            "/nonexistent/file.csv: cannot open file");
}

}  // namespace
}  // namespace xgrad
