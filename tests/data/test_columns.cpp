/***************************************************************************
 * xgrad: columns of text tables: labels, selection, missing values, one-hot *
 ***************************************************************************/
#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "xgrad/data/columns.hpp"

namespace xgrad {
namespace {

using data::column_error;
using data::ColumnSpec;
using data::FittedColumns;
using data::Impute;
using data::LabelEncoder;
using data::PreparedData;
using data::Table;
using json = nlohmann::json;
using strings = std::vector<std::string>;
constexpr std::size_t npos = Table::npos;

Table table(const std::string& text) {
    return data::parse_table(text, "d.csv");
}

/// @brief The message of the column_error (or csv_error) `f` throws; "(no error)" if none.
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const column_error& e) {
        return e.what();
    } catch (const data::csv_error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string training_error(const std::string& text, const ColumnSpec& spec = {}) {
    return error_of([&] { data::prepare_training_data(table(text), spec); });
}

ColumnSpec spec_of(std::string label, strings features = {}, strings drop = {},
                   strings categorical = {}) {
    ColumnSpec s;
    s.label = std::move(label);
    s.features = std::move(features);
    s.drop = std::move(drop);
    s.categorical = std::move(categorical);
    return s;
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// ---------------------------------------------------------------------------------------------
// Reading text tables

TEST(Table, KeepsTextCellsWithTheirPlaces) {
    const Table t = table(
        "\n\"size, m\",color , \"note\"\n"
        "1.5, red ,\"two\nlines, and a comma\"\n"
        "\n"
        "2,\"dark \"\"blue\"\"\",plain\n");
    EXPECT_EQ(t.header(), (strings{"size, m", "color", "note"}));
    EXPECT_EQ(t.header_line(), 2u);
    ASSERT_EQ(t.rows(), 2u);
    EXPECT_EQ(t.cell(0, 0), "1.5");
    EXPECT_EQ(t.cell(0, 1), "red");  // trimmed, as read_csv trims
    EXPECT_EQ(t.cell(0, 2), "two\nlines, and a comma");
    EXPECT_EQ(t.cell(1, 1), "dark \"blue\"");
    EXPECT_EQ(t.row_lines(), (std::vector<std::size_t>{3, 6}));
    EXPECT_EQ(t.where(0, 2), "d.csv:3:3");
    EXPECT_EQ(t.where(1, 1), "d.csv:6:2");
    EXPECT_EQ(t.where(1, npos), "d.csv:6");
    EXPECT_EQ(t.where(npos, 1), "d.csv:2:2");
    EXPECT_EQ(t.where(npos, npos), "d.csv:2");
    EXPECT_EQ(t.find("color"), 1u);
    EXPECT_EQ(t.find("colour"), npos);
    EXPECT_THROW(t.cell(2, 0), std::out_of_range);
    EXPECT_THROW(t.cell(0, 3), std::out_of_range);
    // A cell after a quoted line break is on the next line.
    const Table spanning = table("a,b\n\"x\ny\",z\n");
    EXPECT_EQ(spanning.where(0, 0), "d.csv:2:1");
    EXPECT_EQ(spanning.where(0, 1), "d.csv:3:2");
    const Table header_spans = table("\"a\nb\",c\n1,2\n");
    EXPECT_EQ(header_spans.where(npos, 1), "d.csv:2:2");
}

TEST(Table, ReportsWhatReadCsvReports) {
    EXPECT_EQ(error_of([] { table("a,b\n1,2\n1,2,3\n"); }),
              "d.csv:3: ragged row: 3 fields, the header has 2");
    EXPECT_EQ(error_of([] { table(""); }), "d.csv:1: empty file, expected a header row");
    EXPECT_EQ(error_of([] { table("a,b\n1,\"2\n"); }),
              "d.csv:2:2: quoted field is not closed before the end of the file");
    EXPECT_EQ(error_of([] { table("# note\na\n1\n"); }),
              "d.csv:1:1: the header row '# note' starts with '#': comment lines are not "
              "supported (delete them)");
    EXPECT_EQ(error_of([] { table("a,b\n# x\n"); }),
              "d.csv:2: ragged row: 1 field, the header has 2 (a comment line? lines starting "
              "with '#' are not supported)");
    EXPECT_EQ(error_of([] { data::read_table("/nonexistent/t.csv"); }),
              "/nonexistent/t.csv: cannot open file: No such file or directory");
    // A header alone is a table of 0 rows; repeated or empty names are kept.
    const Table empty = table("a,a,\n");
    EXPECT_EQ(empty.rows(), 0u);
    EXPECT_EQ(empty.header(), (strings{"a", "a", ""}));
}

TEST(Table, ReadsInLinearTime) {
    std::string text = "a,b,y\n\"";
    for (int i = 0; i < 20000; ++i) text += "0.5,red,setosa\n";
    EXPECT_EQ(error_of([&] { table(text); }),
              "d.csv:2:1: quoted field is not closed before the end of the file");
    EXPECT_LE(data::last_parse_steps(), text.size());
    std::string clean = "a,b,y\n";
    for (int i = 0; i < 20000; ++i) clean += "0.5,\"r, d\",setosa\n";
    EXPECT_EQ(table(clean).rows(), 20000u);
    EXPECT_LE(data::last_parse_steps(), clean.size());
}

TEST(Table, CanBeBuiltRowByRow) {
    Table t("mem", {"x", "y"});
    t.append_row({"1", "a"}, 2);
    t.append_row({"2", "b"}, 3, {3, 4});
    EXPECT_EQ(t.rows(), 2u);
    EXPECT_EQ(t.cell(1, 1), "b");
    EXPECT_EQ(t.where(1, 1), "mem:4:2");
    EXPECT_THROW(t.append_row({"1"}, 4), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Labels

TEST(LabelEncoder, SortsTextLabelsInByteOrder) {
    LabelEncoder e;
    e.fit({"versicolor", "setosa", "virginica", "setosa", "Zebra", "apple"});
    EXPECT_FALSE(e.numeric());
    EXPECT_EQ(e.classes(), (strings{"Zebra", "apple", "setosa", "versicolor", "virginica"}));
    EXPECT_EQ(e.transform({"setosa", "virginica", "Zebra"}), (std::vector<std::size_t>{2, 4, 0}));
    EXPECT_EQ(e.inverse_transform(std::vector<std::size_t>{4, 0, 2}),
              (strings{"virginica", "Zebra", "setosa"}));
}

TEST(LabelEncoder, SortsNumbersNumerically) {
    LabelEncoder e;
    e.fit({"10", "9", "2", "9", "-1"});
    EXPECT_TRUE(e.numeric());
    EXPECT_EQ(e.classes(), (strings{"-1", "2", "9", "10"}));  // "10" after "9"
    EXPECT_EQ(e.transform({"10", "2", "9.0", "-1e0"}), (std::vector<std::size_t>{3, 1, 2, 0}));
    // One number spelled two ways is one class, kept as first spelled.
    LabelEncoder f;
    f.fit({"1.0", "2", "1", "0"});
    EXPECT_EQ(f.classes(), (strings{"0", "1.0", "2"}));
    EXPECT_EQ(f.transform({"1"}), (std::vector<std::size_t>{1}));
    EXPECT_EQ(f.inverse_transform(array{2.0, 1.0}), (strings{"2", "1.0"}));
}

TEST(LabelEncoder, MixedTextAndNumbersAreSortedAsText) {
    LabelEncoder e;
    e.fit({"9", "10", "a", "1"});
    EXPECT_FALSE(e.numeric());
    EXPECT_EQ(e.classes(), (strings{"1", "10", "9", "a"}));
    // As text, "1.0" is not "1".
    EXPECT_EQ(error_of([&] {
                  e.transform({"1", "1.0"}, "y");
              }),
              "row 1: label '1.0' in column 'y' was not seen in training (classes: '1', '10', "
              "'9', 'a')");
}

TEST(LabelEncoder, RefusesUnseenAndEmptyLabelsNamingTheCell) {
    const Table t = table("x,species\n1,setosa\n2,virginica\n3,\n");
    LabelEncoder e;
    EXPECT_EQ(error_of([&] { e.fit(t, 1); }), "d.csv:4:2: empty cell in label column 'species'");
    EXPECT_EQ(error_of([&] {
                  e.fit({"a", "", "b"}, "y");
              }),
              "row 1: empty cell in label column 'y'");
    e.fit({"setosa", "versicolor"});
    EXPECT_EQ(error_of([&] { e.transform(t, 1); }),
              "d.csv:3:2: label 'virginica' in column 'species' was not seen in training "
              "(classes: 'setosa', 'versicolor')");
    // Long class lists are cut.
    strings many;
    for (int i = 0; i < 12; ++i) many.push_back("c" + std::to_string(10 + i));
    e.fit(many);
    EXPECT_EQ(error_of([&] { e.transform({"z"}); }),
              "row 0: label 'z' in column 'label' was not seen in training (classes: 'c10', "
              "'c11', 'c12', 'c13', 'c14', 'c15', 'c16', 'c17', 'c18', 'c19', ... (12 in all))");
    EXPECT_THROW(e.inverse_transform(std::vector<std::size_t>{12}), std::out_of_range);
    EXPECT_THROW(e.inverse_transform(array{0.5}), std::out_of_range);
    EXPECT_THROW(e.inverse_transform(array{-1.0}), std::out_of_range);
}

TEST(LabelEncoder, RefusesAnEmptyColumn) {
    const Table t = table("x,y\n1,\n2,\n");
    EXPECT_EQ(error_of([&] { LabelEncoder().fit(t, 1); }),
              "d.csv:1:2: label column 'y' is empty in every row");
    EXPECT_EQ(error_of([] {
                  LabelEncoder().fit({"", ""}, "y");
              }),
              "label column 'y' is empty in every row");
    EXPECT_EQ(error_of([] { LabelEncoder().fit(strings{}, "y"); }),
              "no labels to fit (column 'y' has no rows)");
    EXPECT_EQ(error_of([] { LabelEncoder().fit(table("x,y\n"), 1); }),
              "d.csv:1:2: no labels to fit (column 'y' has no rows)");
    EXPECT_EQ(training_error("x,y\n1,\n2,\n"), "d.csv:1:2: label column 'y' is empty in every row");
    // NaN, in any case, is a missing value, not a class (NA may be a class's name).
    for (const char* nan : {"nan", "NaN", "NAN"}) {
        EXPECT_EQ(error_of([&] {
                      LabelEncoder().fit(table(std::string("x,y\n1,0\n2,") + nan + "\n"), 1);
                  }),
                  std::string("d.csv:3:2: missing value ('") + nan +
                      "') in column 'y': NaN is not a class (delete the row, or give it one)");
    }
    EXPECT_EQ(LabelEncoder().fit(strings{"NA", "EU"}, "y").classes(), (strings{"EU", "NA"}));
    // One label is one class.
    LabelEncoder one;
    one.fit({"only"});
    EXPECT_EQ(one.classes(), (strings{"only"}));
}

TEST(LabelEncoder, RoundTripsThroughJson) {
    for (const strings& labels :
         {strings{"b", "a", "c"}, strings{"10", "9", "1.5"}, strings{"x"}}) {
        LabelEncoder e;
        e.fit(labels);
        const json j = e;
        const auto back = j.get<LabelEncoder>();
        EXPECT_EQ(back.classes(), e.classes());
        EXPECT_EQ(back.numeric(), e.numeric());
        EXPECT_EQ(back.transform(labels), e.transform(labels));
        // Through text too.
        const auto again = json::parse(j.dump()).get<LabelEncoder>();
        EXPECT_EQ(again.classes(), e.classes());
    }
    EXPECT_EQ(json(LabelEncoder().fit({"b", "a"})).dump(), R"({"classes":["a","b"]})");
}

TEST(LabelEncoder, RefusesJsonThatIsNotAnEncoder) {
    const auto load = [](const std::string& text) {
        return error_of([&] {
            LabelEncoder e;
            data::from_json(json::parse(text), e, "columns.label_encoder");
        });
    };
    EXPECT_EQ(load(R"({"classes":["b","a"]})"),
              "field 'columns.label_encoder.classes' must be sorted and distinct: 'b' comes "
              "before 'a'");
    EXPECT_EQ(load(R"({"classes":["10","9"]})"),
              "field 'columns.label_encoder.classes' must be sorted numerically and distinct: "
              "'10' comes before '9'");
    EXPECT_EQ(load(R"({"classes":["a","a"]})"),
              "field 'columns.label_encoder.classes' must be sorted and distinct: 'a' comes "
              "before 'a'");
    EXPECT_EQ(load(R"({"classes":["a",3]})"),
              "field 'columns.label_encoder.classes[1]' must be a string, found an integer");
    EXPECT_EQ(load(R"({"classes":["a",""]})"),
              "field 'columns.label_encoder.classes[1]' is an empty string");
    EXPECT_EQ(load(R"({"classes":[]})"),
              "field 'columns.label_encoder.classes' is empty: at least one class is needed");
    EXPECT_EQ(load(R"({})"), "missing field 'columns.label_encoder.classes'");
    EXPECT_EQ(load(R"([1])"), "field 'columns.label_encoder' must be an object, found a list");
    EXPECT_EQ(error_of([] { json(1).get<LabelEncoder>(); }),
              "the value must be an object, found an integer");
    EXPECT_EQ(error_of([] {
                  LabelEncoder::from_classes({"b", "a"});
              }),
              "classes must be sorted and distinct: 'b' comes before 'a'");
}

// ---------------------------------------------------------------------------------------------
// Choosing columns

TEST(Columns, SelectsFeaturesByNameOrByDropping) {
    const Table t = table("a,b,label,c\n1,2,x,3\n4,5,y,6\n");
    auto s = data::select_columns(t, spec_of("label", {"c", "a"}));
    EXPECT_EQ(s.label, 2u);
    EXPECT_EQ(s.features, (std::vector<std::size_t>{3, 0}));
    s = data::select_columns(t, spec_of("label", {}, {"b"}));
    EXPECT_EQ(s.features, (std::vector<std::size_t>{0, 3}));
    s = data::select_columns(t, spec_of(""));  // the last column is the label
    EXPECT_EQ(s.label, 3u);
    EXPECT_EQ(s.features, (std::vector<std::size_t>{0, 1, 2}));
    const PreparedData d = data::prepare_training_data(t, spec_of("label", {"c", "a"}));
    EXPECT_EQ(d.data.features, (array{{3.0, 1.0}, {6.0, 4.0}}));
    EXPECT_EQ(d.data.feature_names, (strings{"c", "a"}));
    EXPECT_EQ(d.data.feature_columns, (std::vector<std::size_t>{4, 1}));
    EXPECT_EQ(d.data.labels, (array{0.0, 1.0}));
    EXPECT_EQ(d.data.label_column, 3u);
    EXPECT_EQ(d.data.where(1, d.data.feature_columns[0]), "d.csv:3:4");
    // Dropping a repeated name drops every column of that name.
    const Table twice = table("a,b,a,y\n1,2,3,0\n");
    EXPECT_EQ(data::select_columns(twice, spec_of("y", {}, {"a"})).features,
              (std::vector<std::size_t>{1}));
}

TEST(Columns, SelectionErrorsNameTheColumns) {
    const std::string text = "sepal_length,petal_length,color,species\n1,2,red,a\n";
    EXPECT_EQ(training_error(text, spec_of("species", {"petal_lenght"})),
              "d.csv:1: --features names 'petal_lenght', but there is no such column (columns: "
              "'sepal_length', 'petal_length', 'color', 'species'; did you mean "
              "'petal_length'?)");
    EXPECT_EQ(training_error(text, spec_of("Species")),
              "d.csv:1: --label names 'Species', but there is no such column (columns: "
              "'sepal_length', 'petal_length', 'color', 'species'; did you mean 'species'?)");
    EXPECT_EQ(training_error(text, spec_of("species", {}, {"zzz"})),
              "d.csv:1: --drop names 'zzz', but there is no such column (columns: "
              "'sepal_length', 'petal_length', 'color', 'species')");
    EXPECT_EQ(training_error(text, spec_of("species", {}, {}, {"colour"})),
              "d.csv:1: --categorical names 'colour', but there is no such column (columns: "
              "'sepal_length', 'petal_length', 'color', 'species'; did you mean 'color'?)");
    EXPECT_EQ(training_error(text, spec_of("species", {"sepal_length", "species"})),
              "d.csv:1:4: the label column 'species' is also named in --features");
    EXPECT_EQ(training_error(text, spec_of("species", {"sepal_length"}, {"color"})),
              "--features and --drop cannot be used together: give one of them");
    EXPECT_EQ(training_error(text, spec_of("species", {}, {"species"})),
              "d.csv:1:4: the label column 'species' cannot be dropped");
    EXPECT_EQ(training_error(text, spec_of("species", {}, {}, {"species"})),
              "d.csv:1:4: the label column 'species' cannot be categorical");
    EXPECT_EQ(training_error(text, spec_of("species", {"sepal_length"}, {}, {"color"})),
              "d.csv:1:3: 'color' is named in --categorical but is not a feature (not in "
              "--features)");
    EXPECT_EQ(training_error(text, spec_of("species", {}, {"color"}, {"color"})),
              "d.csv:1:3: 'color' is named in --categorical but is not a feature (it is dropped)");
    EXPECT_EQ(training_error(text, spec_of("species", {"color", "sepal_length", "color"})),
              "d.csv:1:3: 'color' is named twice in --features");
    EXPECT_EQ(
        training_error(text, spec_of("species", {}, {"sepal_length", "petal_length", "color"})),
        "d.csv:1: no feature columns left (every column but the label 'species' is "
        "dropped)");
    EXPECT_EQ(training_error("y\n1\n"),
              "d.csv:1: no feature columns left (the file has only the label column 'y')");
    // Repeated and nameless columns, when used, as read_csv.
    EXPECT_EQ(training_error("a,b,a,y\n1,2,3,0\n"),
              "d.csv:1:3: duplicate column name 'a' (columns 1 and 3)");
    EXPECT_EQ(training_error("a,b,a,y\n1,2,3,0\n", spec_of("y", {"a"})),
              "d.csv:1:3: duplicate column name 'a' (columns 1 and 3)");
    EXPECT_EQ(training_error("a,y,y\n1,2,0\n"),
              "d.csv:1:3: duplicate column name 'y' (columns 2 and 3), one of them the label");
    EXPECT_EQ(training_error("a,,y\n1,2,0\n"), "d.csv:1:2: column 2 has no name");
    EXPECT_EQ(training_error("a,y,\n1,0,2\n", spec_of("y")),
              "d.csv:1:3: column 3 has no name (a comma at the end of the header?)");
    // Columns not used may repeat or have no name.
    EXPECT_EQ(data::prepare_training_data(table("a,,n,n,y\n1,2,3,4,0\n"), spec_of("y", {"a"}))
                  .data.features,
              (testing::column({1.0})));
    // Long headers are listed up to 20 names.
    std::string header;
    for (int i = 0; i < 25; ++i) header += "c" + std::to_string(i) + ",";
    EXPECT_EQ(training_error(header + "y\n", spec_of("y", {"zz"})),
              "d.csv:1: --features names 'zz', but there is no such column (columns: 'c0', "
              "'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11', 'c12', 'c13', "
              "'c14', 'c15', 'c16', 'c17', 'c18', 'c19', ... (26 in all))");
}

// ---------------------------------------------------------------------------------------------
// Features

TEST(Features, TextInANumericColumnSuggestsDroppingOrEncoding) {
    EXPECT_EQ(training_error("x,color,y\n1,0.5,a\n2,red,b\n"),
              "d.csv:3:2: 'red' in column 'color' is not a number: drop the column (--drop "
              "color) or one-hot encode it (--categorical color)");
    EXPECT_EQ(training_error("x,\"wall colour\",y\n1,red,a\n"),
              "d.csv:2:2: 'red' in column 'wall colour' is not a number: drop the column (--drop "
              "'wall colour') or one-hot encode it (--categorical 'wall colour')");
    // After a quoted line break, the cell's own line.
    EXPECT_EQ(training_error("note,x,y\n\"two\nlines\",abc,0\n", spec_of("y", {}, {"note"})),
              "d.csv:3:2: 'abc' in column 'x' is not a number: drop the column (--drop x) or "
              "one-hot encode it (--categorical x)");
    // The first bad cell in the file is reported, row by row.
    EXPECT_EQ(training_error("a,b,y\n1,x,0\nz,2,1\n"),
              "d.csv:2:2: 'x' in column 'b' is not a number: drop the column (--drop b) or "
              "one-hot encode it (--categorical b)");
    EXPECT_EQ(training_error("x,y\n1e400,0\n"),
              "d.csv:2:1: '1e400' in column 'x' is too large for a double (the largest is about "
              "1.8e308)");
    EXPECT_EQ(training_error("x,y\ninf,0\n"),
              "d.csv:2:1: 'inf' in column 'x' is not a finite number");
    EXPECT_EQ(training_error("x,y\n-NaN,0\n"),
              "d.csv:2:1: '-NaN' in column 'x' is not a finite number");
    EXPECT_EQ(training_error("x,y\nNone,0\n"),
              "d.csv:2:1: 'None' in column 'x' is not a number: drop the column (--drop x) or "
              "one-hot encode it (--categorical x)");
}

TEST(Features, EverySpellingOfAMissingValueIsNamed) {
    for (const char* cell : {"NA", "na", "N/A", "n/a", "NaN", "nan", "NAN", "NULL", "null"}) {
        SCOPED_TRACE(cell);
        EXPECT_TRUE(data::is_missing_value(cell));
        EXPECT_EQ(training_error(std::string("x,z,y\n1,2,a\n3,") + cell + ",b\n"),
                  std::string("d.csv:3:2: missing value ('") + cell +
                      "') in column 'z': fill it with --impute mean or --impute median, or delete "
                      "the row");
        ColumnSpec s;
        s.impute = Impute::mean;
        const auto d =
            data::encode_training_data(table(std::string("x,z,y\n1,2,a\n3,") + cell + ",b\n"), s);
        EXPECT_TRUE(std::isnan(d.data.features(1, 1)));
        EXPECT_EQ(d.data.features(1, 0), 3.0);
    }
    EXPECT_TRUE(data::is_missing_value(""));
    for (const char* cell : {"N A", "NA.", "-nan", "none", "0", "?"})
        EXPECT_FALSE(data::is_missing_value(cell)) << cell;
    EXPECT_EQ(training_error("x,z,y\n1,,a\n"),
              "d.csv:2:2: missing value (empty cell) in column 'z': fill it with --impute mean or "
              "--impute median, or delete the row");
    EXPECT_EQ(training_error("x,z,y\n1,\"\",a\n"),
              "d.csv:2:2: missing value (empty cell) in column 'z': fill it with --impute mean or "
              "--impute median, or delete the row");
    // numeric_columns on its own: missing as NaN, or the error.
    const Table t = table("a,b\n1,NA\n,2\n");
    const array X = data::numeric_columns(t, {1, 0}, true);
    EXPECT_TRUE(std::isnan(X(0, 0)));
    EXPECT_EQ(X(0, 1), 1.0);
    EXPECT_EQ(X(1, 0), 2.0);
    EXPECT_TRUE(std::isnan(X(1, 1)));
    EXPECT_EQ(error_of([&] { data::numeric_columns(t, {0}, false); }),
              "d.csv:3:1: missing value (empty cell) in column 'a': fill it with --impute mean or "
              "--impute median, or delete the row");
}

TEST(Imputer, MeanAndMedianAsScikitLearn) {
    // Column a: 1, NaN, 2, 10, 4; column b: 7, 5, NaN, NaN, 1.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const array X{{1.0, 7.0}, {nan, 5.0}, {2.0, nan}, {10.0, nan}, {4.0, 1.0}};
    data::Imputer mean(Impute::mean);
    mean.fit(X);
    EXPECT_EQ(mean.statistics(), (array{17.0 / 4.0, 13.0 / 3.0}));
    data::Imputer median(Impute::median);
    median.fit(X);
    EXPECT_EQ(median.statistics(), (array{3.0, 5.0}));  // a: mean of 2 and 4 (even count)
    EXPECT_EQ(median.transform(X),
              (array{{1.0, 7.0}, {3.0, 5.0}, {2.0, 5.0}, {10.0, 5.0}, {4.0, 1.0}}));
    // Odd count, unsorted.
    EXPECT_EQ(data::Imputer(Impute::median).fit(testing::column({5.0, 1.0, 3.0})).statistics(),
              (array{3.0}));
    // One row, one column.
    EXPECT_EQ(data::Imputer(Impute::median).fit(testing::column({2.5})).statistics(), (array{2.5}));
    // Values whose sum overflows.
    EXPECT_EQ(data::Imputer(Impute::median).fit(testing::column({1e308, 1.5e308})).statistics(),
              (array{1.25e308}));
    EXPECT_EQ(data::Imputer(Impute::mean).fit(testing::column({1e308, 1.5e308})).statistics(),
              (array{1.25e308}));
    // Errors.
    EXPECT_EQ(error_of([&] {
                  data::Imputer().fit(array{{1.0, nan}, {2.0, nan}}, {"a", "b"});
              }),
              "cannot impute column 'b': all 2 values are missing in the rows it is fitted on");
    EXPECT_EQ(error_of([&] { data::Imputer().fit(testing::column({nan})); }),
              "cannot impute column 0 (from 0): all 1 values are missing in the rows it is fitted "
              "on");
    EXPECT_THROW(data::Imputer(Impute::none), std::invalid_argument);
    EXPECT_THROW(mean.transform(array{{1.0, 2.0, 3.0}}), shape_error);
    EXPECT_THROW(data::Imputer().fit(array{1.0, 2.0}), shape_error);
    EXPECT_EQ(data::parse_impute("median"), Impute::median);
    EXPECT_EQ(error_of([] { data::parse_impute("mode"); }),
              "--impute must be 'none', 'mean' or 'median', found 'mode'");
}

TEST(Imputer, IsFittedOnTheChosenRowsOnly) {
    // x: 1, NA, 2, 10, 4 (rows 0..4); z has no missing value.
    const Table t = table("x,z,y\n1,0,a\nNA,1,b\n2,2,a\n10,3,b\n4,4,a\n");
    ColumnSpec s;
    s.impute = Impute::median;
    // Fitted on rows 0..2: the median of 1 and 2 (1.5) fills row 1; all rows: 3.
    PreparedData d = data::prepare_training_data(t, s, {0, 1, 2});
    EXPECT_EQ(d.data.features(1, 0), 1.5);
    EXPECT_EQ(d.fitted.imputer.statistics(), (array{1.5, 1.0}));
    d = data::prepare_training_data(t, s);
    EXPECT_EQ(d.data.features(1, 0), 3.0);
    EXPECT_EQ(d.fitted.imputer.statistics(), (array{3.0, 2.0}));
    s.impute = Impute::mean;
    d = data::prepare_training_data(t, s, {0, 1, 2});
    EXPECT_EQ(d.data.features(1, 0), 1.5);
    d = data::prepare_training_data(t, s, {1, 3, 4});
    EXPECT_EQ(d.data.features(1, 0), 7.0);
    EXPECT_EQ(d.data.features(0, 0), 1.0);  // present values are kept
    // The staged way: encode, split, fit on the training part.
    PreparedData staged = data::encode_training_data(t, s);
    EXPECT_TRUE(std::isnan(staged.data.features(1, 0)));
    EXPECT_FALSE(staged.fitted.imputer.fitted());
    staged.fitted.imputer.fit(array{{1.0, 0.0}, {2.0, 2.0}}, staged.data.feature_names);
    EXPECT_EQ(staged.fitted.imputer.transform(staged.data.features)(1, 0), 1.5);
    // A column with no value in the rows fitted on.
    EXPECT_EQ(error_of([&] { data::prepare_training_data(t, s, {1}); }),
              "d.csv:1:1: cannot impute column 'x': all 1 values are missing in the rows it is "
              "fitted on");
    EXPECT_EQ(error_of([&] { data::prepare_training_data(table("x,y\nNA,a\n,b\n"), s); }),
              "d.csv:1:1: cannot impute column 'x': all 2 values are missing in the rows it is "
              "fitted on");
    EXPECT_THROW(data::prepare_training_data(t, s, {5}), std::out_of_range);
    EXPECT_EQ(error_of([&] { data::prepare_training_data(t, s, {}); }),
              "prepare_training_data: no rows to fit the imputer on");
}

TEST(OneHot, SortedCategoriesNamedColumnEqualsValue) {
    const Table t = table(
        "size,color,shape,y\n"
        "1,red,\"round, mostly\",a\n"
        "2,blue,square,b\n"
        "3,green,square,a\n"
        "4,red,\"round, mostly\",b\n");
    const PreparedData d = data::prepare_training_data(t, spec_of("y", {}, {}, {"color", "shape"}));
    EXPECT_EQ(d.data.feature_names, (strings{"size", "color=blue", "color=green", "color=red",
                                             "shape=round, mostly", "shape=square"}));
    EXPECT_EQ(
        d.data.features,
        (array{{1, 0, 0, 1, 1, 0}, {2, 1, 0, 0, 0, 1}, {3, 0, 1, 0, 0, 1}, {4, 0, 0, 1, 1, 0}}));
    EXPECT_EQ(d.data.feature_columns, (std::vector<std::size_t>{1, 2, 2, 2, 3, 3}));
    EXPECT_EQ(d.fitted.columns, (strings{"size", "color", "shape"}));
    EXPECT_EQ(d.fitted.one_hot.columns(), (strings{"color", "shape"}));
    // The encoder on its own: a block of its columns.
    data::OneHotEncoder e;
    e.fit(t, {1});
    EXPECT_EQ(e.feature_names(), (strings{"color=blue", "color=green", "color=red"}));
    EXPECT_EQ(e.transform(t), (array{{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}}));
    // Numbers as categories sort numerically; one category is one column of ones.
    e.fit({"grade", "k"}, {{"10", "9", "10"}, {"z", "z", "z"}});
    EXPECT_EQ(e.feature_names(), (strings{"grade=9", "grade=10", "k=z"}));
}

TEST(OneHot, UnseenAndEmptyCategoriesAreNamed) {
    const Table train = table("x,color,y\n1,red,a\n2,blue,b\n");
    const PreparedData d = data::prepare_training_data(train, spec_of("y", {}, {}, {"color"}));
    const Table later = table("x,color\n1,red\n2,purple\n");
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(later, d.fitted); }),
              "d.csv:3:2: category 'purple' in column 'color' was not seen in training "
              "(categories: 'blue', 'red')");
    EXPECT_EQ(error_of([&] { d.fitted.one_hot.transform(later); }),
              "d.csv:3:2: category 'purple' in column 'color' was not seen in training "
              "(categories: 'blue', 'red')");
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(table("x,color\n1,\n"), d.fitted); }),
              "d.csv:2:2: empty cell in categorical column 'color' (every row needs a category)");
    EXPECT_EQ(training_error("x,color,y\n1,red,a\n2,,b\n", spec_of("y", {}, {}, {"color"})),
              "d.csv:3:2: empty cell in categorical column 'color' (every row needs a category)");
    // "NA" is a category like any other.
    EXPECT_EQ(data::prepare_training_data(table("x,c,y\n1,NA,a\n"), spec_of("y", {}, {}, {"c"}))
                  .data.feature_names,
              (strings{"x", "c=NA"}));
    // A one-hot name that would repeat a column's name.
    EXPECT_EQ(training_error("c,c=a,y\na,1,0\n", spec_of("y", {}, {}, {"c"})),
              "d.csv:1:1: the one-hot column 'c=a' would repeat the name of column 2");
    EXPECT_EQ(error_of([&] { d.fitted.one_hot.transform(table("x\n1\n")); }),
              "d.csv:1: no column named 'color' (columns: 'x')");
}

// ---------------------------------------------------------------------------------------------
// Training and prediction

/// @brief Ten iris rows with the species as text (from data/iris.csv, UCI, CC BY 4.0).
const char* const iris_text =
    "sepal_length,sepal_width,petal_length,petal_width,species\n"
    "5.1,3.5,1.4,0.2,setosa\n"
    "4.9,3.0,1.4,0.2,setosa\n"
    "7.0,3.2,4.7,1.4,versicolor\n"
    "6.4,3.2,4.5,1.5,versicolor\n"
    "6.3,3.3,6.0,2.5,virginica\n"
    "5.8,2.7,5.1,1.9,virginica\n"
    "4.7,3.2,1.3,0.2,setosa\n"
    "6.9,3.1,4.9,1.5,versicolor\n"
    "7.1,3.0,5.9,2.1,virginica\n"
    "5.0,3.6,1.4,0.2,setosa\n";

TEST(Prepare, IrisWithSpeciesNames) {
    const PreparedData d = data::prepare_training_data(table(iris_text), ColumnSpec{});
    EXPECT_TRUE(d.has_labels);
    EXPECT_EQ(d.fitted.labels.classes(), (strings{"setosa", "versicolor", "virginica"}));
    EXPECT_EQ(d.data.labels, (array{0, 0, 1, 1, 2, 2, 0, 1, 2, 0}));
    EXPECT_EQ(d.data.features.shape(), (shape_type{10, 4}));
    EXPECT_EQ(d.data.features(2, 0), 7.0);
    EXPECT_EQ(d.data.features(9, 3), 0.2);
    EXPECT_EQ(d.data.label_name, "species");
    EXPECT_EQ(d.fitted.label, "species");
    EXPECT_EQ(d.data.row_lines.front(), 2u);
    EXPECT_EQ(d.data.where(4, d.data.label_column), "d.csv:6:5");
    // Predictions back to names.
    EXPECT_EQ(d.fitted.labels.inverse_transform(array{2.0, 0.0}), (strings{"virginica", "setosa"}));

    // Prediction: the label column may be absent, the columns in another order, others extra.
    const Table later = table(
        "id,petal_width,petal_length,sepal_width,sepal_length\n"
        "a,1.8,5.5,3.0,6.5\n"
        "b,0.3,1.5,3.4,5.0\n");
    const PreparedData p = data::prepare_prediction_data(later, d.fitted);
    EXPECT_FALSE(p.has_labels);
    EXPECT_EQ(p.data.features, (array{{6.5, 3.0, 5.5, 1.8}, {5.0, 3.4, 1.5, 0.3}}));
    EXPECT_EQ(p.data.feature_names, d.data.feature_names);
    EXPECT_EQ(p.data.feature_columns, (std::vector<std::size_t>{5, 4, 3, 2}));
    EXPECT_EQ(p.data.labels.size(), 0u);
    // Evaluation: the labels must be there and seen in training.
    const PreparedData e = data::prepare_prediction_data(table(iris_text), d.fitted, true);
    EXPECT_EQ(e.data.labels, d.data.labels);
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(later, d.fitted, true); }),
              "d.csv:1: no label column named 'species' (columns: 'id', 'petal_width', "
              "'petal_length', 'sepal_width', 'sepal_length')");
    EXPECT_EQ(error_of([&] {
                  data::prepare_prediction_data(
                      table("sepal_length,sepal_width,petal_length,petal_width,species\n"
                            "5.1,3.5,1.4,0.2,Setosa\n"),
                      d.fitted, true);
              }),
              "d.csv:2:5: label 'Setosa' in column 'species' was not seen in training (classes: "
              "'setosa', 'versicolor', 'virginica')");
}

TEST(Prepare, PredictionErrorsNameWhatIsMissing) {
    const PreparedData d =
        data::prepare_training_data(table("a,b,c,y\n1,2,3,x\n4,5,6,z\n"), ColumnSpec{});
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(table("a,c\n1,2\n"), d.fitted); }),
              "d.csv:1: the model's column 'b' is missing (columns: 'a', 'c')");
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(table("c,q\n1,2\n"), d.fitted); }),
              "d.csv:1: the model's columns 'a', 'b' are missing (columns: 'c', 'q')");
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(table("a,b,c\n1,NA,2\n"), d.fitted); }),
              "d.csv:2:2: missing value ('NA') in column 'b' (the model was trained without "
              "--impute: every value is needed)");
    EXPECT_EQ(error_of([&] { data::prepare_prediction_data(table("a,b,c\n1,x,2\n"), d.fitted); }),
              "d.csv:2:2: 'x' in column 'b' is not a number (the model reads it as a number)");
    EXPECT_EQ(
        error_of([&] { data::prepare_prediction_data(table("a,b,c,b\n1,2,3,4\n"), d.fitted); }),
        "d.csv:1:4: duplicate column name 'b' (columns 2 and 4)");
    // Zero rows: an empty (0, features) matrix.
    const PreparedData none = data::prepare_prediction_data(table("c,b,a\n"), d.fitted);
    EXPECT_EQ(none.data.features.shape(), (shape_type{0, 3}));
    // With an imputer, prediction fills with the training statistics.
    ColumnSpec s;
    s.impute = Impute::mean;
    const PreparedData m = data::prepare_training_data(table("a,y\n1,x\n3,z\nNA,x\n"), s);
    EXPECT_EQ(m.data.features, (testing::column({1.0, 3.0, 2.0})));
    EXPECT_EQ(data::prepare_prediction_data(table("a\nnan\n7\n"), m.fitted).data.features,
              (testing::column({2.0, 7.0})));
}

TEST(Prepare, RegressionLabelsAreNumbers) {
    ColumnSpec s;
    s.task = data::Task::regression;
    const PreparedData d = data::prepare_training_data(table("x,price\n1,10.5\n2,-3\n"), s);
    EXPECT_EQ(d.data.labels, (array{10.5, -3.0}));
    EXPECT_FALSE(d.fitted.labels.fitted());
    EXPECT_EQ(training_error("x,price\n1,cheap\n", s),
              "d.csv:2:2: 'cheap' in label column 'price' is not a number (a regression label "
              "must be a number)");
    EXPECT_EQ(training_error("x,price\n1,NA\n", s),
              "d.csv:2:2: missing label ('NA') in column 'price'");
    EXPECT_EQ(training_error("x,price\n1,\n", s), "d.csv:2:2: empty cell in label column 'price'");
    EXPECT_EQ(training_error("x,price\n1,1e999\n", s),
              "d.csv:2:2: '1e999' in label column 'price' is too large for a double (the largest "
              "is about 1.8e308)");
    const PreparedData e = data::prepare_prediction_data(table("price,x\n4,5\n"), d.fitted, true);
    EXPECT_EQ(e.data.labels, (array{4.0}));
}

TEST(Prepare, SizeZeroAndOneEdges) {
    // One row, one feature.
    const PreparedData d = data::prepare_training_data(table("x,y\n2.5,only\n"), ColumnSpec{});
    EXPECT_EQ(d.data.features, (testing::column({2.5})));
    EXPECT_EQ(d.data.labels, (array{0.0}));
    EXPECT_EQ(d.fitted.labels.classes(), (strings{"only"}));
    // One categorical feature with one category.
    const PreparedData c =
        data::prepare_training_data(table("c,y\nu,1\n"), spec_of("y", {}, {}, {"c"}));
    EXPECT_EQ(c.data.features, (testing::column({1.0})));
    EXPECT_EQ(c.data.feature_names, (strings{"c=u"}));
    // No rows.
    EXPECT_EQ(training_error("x,y\n"), "d.csv:1: no data rows after the header");
    EXPECT_EQ(training_error("\n\nx,y\n"), "d.csv:3: no data rows after the header");
}

TEST(Prepare, QuotedCellsWithCommasAndLineBreaks) {
    const Table t = table(
        "\"x, in m\",kind,label\n"
        "1,\"a, b\",\"first\nclass\"\n"
        "2,c,\"second, class\"\n"
        "3,\"a, b\",\"first\nclass\"\n");
    const PreparedData d = data::prepare_training_data(t, spec_of("label", {}, {}, {"kind"}));
    EXPECT_EQ(d.fitted.labels.classes(), (strings{"first\nclass", "second, class"}));
    EXPECT_EQ(d.data.labels, (array{0, 1, 0}));
    EXPECT_EQ(d.data.feature_names, (strings{"x, in m", "kind=a, b", "kind=c"}));
    EXPECT_EQ(d.data.features, (array{{1, 1, 0}, {2, 0, 1}, {3, 1, 0}}));
    EXPECT_EQ(d.data.row_lines, (std::vector<std::size_t>{2, 4, 5}));
    EXPECT_EQ(d.data.where(2, d.data.label_column), "d.csv:5:3");
    // The error after a spanning row names the right line.
    EXPECT_EQ(error_of([&] {
                  data::prepare_prediction_data(table("kind,\"x, in m\"\n\"new\nkind\",1\n"),
                                                d.fitted);
              }),
              "d.csv:2:1: category 'new\\nkind' in column 'kind' was not seen in training "
              "(categories: 'a, b', 'c')");
}

TEST(Prepare, FittedColumnsRoundTripThroughJson) {
    ColumnSpec s = spec_of("species", {}, {"id"}, {"color"});
    s.impute = Impute::median;
    const Table t = table(
        "id,x,color,species\n"
        "1,0.1,red,b\n"
        "2,NA,blue,a\n"
        "3,0.30000000000000004,red,c\n"
        "4,1e-300,green,a\n");
    const PreparedData d = data::prepare_training_data(t, s);
    const json j = d.fitted;
    const std::string text = j.dump();
    const auto back = json::parse(text).get<FittedColumns>();
    EXPECT_EQ(back.task, data::Task::classification);
    EXPECT_EQ(back.label, "species");
    EXPECT_EQ(back.columns, (strings{"x", "color"}));
    EXPECT_EQ(back.feature_names, d.fitted.feature_names);
    EXPECT_EQ(back.labels.classes(), (strings{"a", "b", "c"}));
    EXPECT_EQ(back.one_hot.feature_names(), (strings{"color=blue", "color=green", "color=red"}));
    EXPECT_EQ(back.impute, Impute::median);
    ASSERT_EQ(back.imputer.statistics().size(), d.fitted.imputer.statistics().size());
    for (std::size_t k = 0; k < back.imputer.statistics().size(); ++k)
        EXPECT_TRUE(same_bits(back.imputer.statistics()(k), d.fitted.imputer.statistics()(k)));
    EXPECT_EQ(back.imputer.statistics()(0), 0.1);  // the median of 0.1, 0.3..04 and 1e-300
    // What was loaded prepares the same data.
    const PreparedData again = data::prepare_prediction_data(t, back, true);
    EXPECT_EQ(again.data.features, d.data.features);
    EXPECT_EQ(again.data.labels, d.data.labels);
    // A regression without imputation.
    ColumnSpec r;
    r.task = data::Task::regression;
    const PreparedData reg = data::prepare_training_data(table("x,y\n1,2\n"), r);
    const json rj = reg.fitted;
    EXPECT_TRUE(rj["label_encoder"].is_null());
    EXPECT_TRUE(rj["imputer"].is_null());
    const auto rback = rj.get<FittedColumns>();
    EXPECT_EQ(rback.task, data::Task::regression);
    EXPECT_EQ(rback.impute, Impute::none);
    EXPECT_FALSE(rback.imputer.fitted());
}

TEST(Prepare, NamesThatAreNotUtf8RoundTripExactly) {
    // A Latin-1 file: "café" is c a f \xe9, not UTF-8; JSON must be UTF-8, so such texts are
    // stored as {"hex": ...} and come back byte for byte (even through a lossy dump).
    const Table t = table(
        "x,\"caf\xe9\",\"cr\xe8me\"\n1,br\xfbl\xe9"
        "e,oui\n2,noir,caf\xe9\n");
    const PreparedData d = data::prepare_training_data(t, spec_of("cr\xe8me", {}, {}, {"caf\xe9"}));
    const json j = d.fitted;
    const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_NE(text.find(R"({"hex":"6372e86d65"})"), std::string::npos) << text;
    const auto back = json::parse(text).get<FittedColumns>();
    EXPECT_EQ(back.label, "cr\xe8me");
    EXPECT_EQ(back.columns, (strings{"x", "caf\xe9"}));
    EXPECT_EQ(back.labels.classes(), (strings{"caf\xe9", "oui"}));
    EXPECT_EQ(back.feature_names, (strings{"x",
                                           "caf\xe9=br\xfbl\xe9"
                                           "e",
                                           "caf\xe9=noir"}));
    EXPECT_EQ(data::prepare_prediction_data(t, back, true).data.features, d.data.features);
    // Valid UTF-8 stays a string.
    EXPECT_EQ(json(LabelEncoder().fit({"caf\xc3\xa9"})).dump(), "{\"classes\":[\"caf\xc3\xa9\"]}");
    EXPECT_EQ(error_of([] { json::parse(R"({"classes":[{"hex":"6"}]})").get<LabelEncoder>(); }),
              "field 'classes[0].hex' must be pairs of hexadecimal digits");
    EXPECT_EQ(error_of([] { json::parse(R"({"classes":[{"hex":"zz"}]})").get<LabelEncoder>(); }),
              "field 'classes[0].hex' must be pairs of hexadecimal digits");
    EXPECT_EQ(json::parse(R"({"classes":[{"hex":"41"}]})").get<LabelEncoder>().classes(),
              (strings{"A"}));
}

TEST(Prepare, RefusesJsonThatDoesNotDescribeTheColumns) {
    const PreparedData d = data::prepare_training_data(table("x,color,y\n1,red,a\n2,blue,b\n"),
                                                       spec_of("y", {}, {}, {"color"}));
    const json good = d.fitted;
    const auto load = [](const json& j) {
        return error_of([&] {
            FittedColumns f;
            data::from_json(j, f, "columns");
        });
    };
    EXPECT_EQ(load(good), "(no error)");
    json bad = good;
    bad["task"] = "clustering";
    EXPECT_EQ(load(bad),
              "field 'columns.task' must be 'classification' or 'regression', found 'clustering'");
    bad = good;
    bad["features"] = {"x", "color=red", "color=blue"};
    EXPECT_EQ(load(bad),
              "field 'columns.features' does not match the columns and their categories "
              "(expected 'x', 'color=blue', 'color=red')");
    bad = good;
    bad["one_hot"]["columns"][0]["categories"] = {"red", "blue"};
    EXPECT_EQ(load(bad),
              "field 'columns.one_hot.columns[0].categories' must be sorted and distinct: 'red' "
              "comes before 'blue'");
    bad = good;
    bad["one_hot"]["columns"][0]["name"] = "shape";
    EXPECT_EQ(load(bad),
              "field 'columns.one_hot.columns[0].name' names 'shape', which is not among "
              "'columns'");
    bad = good;
    bad["columns"] = {"x", "x"};
    EXPECT_EQ(load(bad), "field 'columns.columns[1]' repeats the column 'x'");
    bad = good;
    bad["columns"] = {"x", "y"};
    EXPECT_EQ(load(bad), "field 'columns.columns[1]' is the label column");
    bad = good;
    bad.erase("label_encoder");
    EXPECT_EQ(load(bad), "missing field 'columns.label_encoder'");
    bad = good;
    bad["imputer"] = {{"strategy", "mean"}, {"statistics", {1.0}}};
    EXPECT_EQ(load(bad),
              "field 'columns.imputer.statistics' has 1 values but there are 3 features");
    bad["imputer"] = {{"strategy", "mode"}, {"statistics", {1.0, 2.0, 3.0}}};
    EXPECT_EQ(load(bad),
              "field 'columns.imputer.strategy' must be 'mean' or 'median', found 'mode'");
    bad["imputer"] = {{"strategy", "mean"}, {"statistics", {1.0, "2", 3.0}}};
    EXPECT_EQ(load(bad),
              "field 'columns.imputer.statistics[1]' must be a number, found a string '2'");
    bad["imputer"] = {{"strategy", "mean"}, {"statistics", {1.0, 2.0, 3.0}}};
    EXPECT_EQ(load(bad), "(no error)");
}

}  // namespace
}  // namespace xgrad
