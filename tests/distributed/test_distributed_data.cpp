// Data preparation over ranks (threads here: run_ranks): encode_training_data, split_rows,
// fit_imputer and fit_standardizer on the ranks' shards of a table give what the single-process
// functions give on the whole table, and a bad cell stops every rank with one message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include "support.hpp"
#include "xgrad/data/columns.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/data.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/distributed/thread_group.hpp"

namespace xd = xgrad::distributed;
namespace data = xgrad::data;
using xgrad::array;
using xgrad::shape_type;
using xgrad::testing::relative_error;

namespace {

// ---------------------------------------------------------------------------------------------
// Tables and shards
using xgrad::testing::slurp;

/// @brief Rows [begin, end) of `whole` as a table of their own: the header, the rows' cells and
/// their real lines (what read_table_shard gives a rank).
data::Table block(const data::Table& whole, std::size_t begin, std::size_t end) {
    data::Table out(whole.source(), whole.header(), whole.header_line());
    for (std::size_t i = begin; i < end; ++i) {
        std::vector<std::string> cells;
        for (std::size_t c = 0; c < whole.columns(); ++c) cells.emplace_back(whole.cell(i, c));
        const auto spanning = whole.spanning_rows().find(i);
        out.append_row(cells, whole.row_lines()[i],
                       spanning == whole.spanning_rows().end() ? std::vector<std::size_t>{}
                                                               : spanning->second);
    }
    return out;
}

/// @brief The first row of each of `ranks` blocks, then the row count (shard_rows's blocks).
std::vector<std::size_t> even_bounds(std::size_t rows, std::size_t ranks) {
    std::vector<std::size_t> bounds{0};
    for (std::size_t r = 0; r < ranks; ++r)
        bounds.push_back(xd::shard_rows(rows, static_cast<int>(r), static_cast<int>(ranks)).end);
    return bounds;
}

/// @brief Exactly equal (same shape, same values, NaN where the other has NaN).
bool same(const array& a, const array& b) {
    if (a.shape() != b.shape()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a.data()[i];
        const double y = b.data()[i];
        if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
    }
    return true;
}

/// @brief Rows [begin, end) of a 2-D or 1-D array.
array rows_of(const array& a, std::size_t begin, std::size_t end) {
    std::vector<std::size_t> rows;
    for (std::size_t i = begin; i < end; ++i) rows.push_back(i);
    return data::take_rows(a, rows);
}

/// @brief The largest relative error of two arrays of one shape (infinite if they differ).
double worst(const array& a, const array& b) {
    if (a.shape() != b.shape()) return INFINITY;
    double out = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i)
        out = std::max(out, relative_error(a.data()[i], b.data()[i]));
    return out;
}

/// @brief What a rank threw: the exception's kind, message and (distributed_error) rank.
struct Caught {
    std::string kind;  ///< "distributed", "column", "invalid_argument", "shape", "other", ""
    std::string what;
    int failed_rank = -2;
};

template <class F>
Caught catch_on_rank(F f) {
    try {
        f();
    } catch (const xd::distributed_error& e) {
        return {"distributed", e.what(), e.failed_rank()};
    } catch (const data::column_error& e) {
        return {"column", e.what()};
    } catch (const xgrad::shape_error& e) {
        return {"shape", e.what()};
    } catch (const std::invalid_argument& e) {
        return {"invalid_argument", e.what()};
    } catch (const std::exception& e) {
        return {"other", e.what()};
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// encode_training_data

void expect_same_fitted(const data::FittedColumns& a, const data::FittedColumns& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.columns, b.columns);
    EXPECT_EQ(a.labels.classes(), b.labels.classes());
    EXPECT_EQ(a.labels.numeric(), b.labels.numeric());
    ASSERT_EQ(a.one_hot.columns(), b.one_hot.columns());
    for (std::size_t c = 0; c < a.one_hot.columns().size(); ++c) {
        EXPECT_EQ(a.one_hot.categories(c).classes(), b.one_hot.categories(c).classes());
        EXPECT_EQ(a.one_hot.categories(c).numeric(), b.one_hot.categories(c).numeric());
    }
    EXPECT_EQ(a.impute, b.impute);
    EXPECT_EQ(a.imputer.strategy(), b.imputer.strategy());
    EXPECT_FALSE(b.imputer.fitted());
    EXPECT_EQ(a.feature_names, b.feature_names);
}

/// @brief Encodes the shards [bounds[r], bounds[r+1]) of `whole` on ranks, and checks every
/// rank's result against data::encode_training_data on the whole table.
void expect_encoding_matches(const data::Table& whole, const data::ColumnSpec& spec,
                             const std::vector<std::size_t>& bounds) {
    const std::size_t ranks = bounds.size() - 1;
    SCOPED_TRACE(whole.source() + " on " + std::to_string(ranks) + " ranks");
    const data::PreparedData expected = data::encode_training_data(whole, spec);
    std::vector<data::PreparedData> got(ranks);
    xd::run_ranks(ranks, [&](xd::Communicator& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        got[r] = xd::encode_training_data(block(whole, bounds[r], bounds[r + 1]), spec, comm);
    });
    for (std::size_t r = 0; r < ranks; ++r) {
        SCOPED_TRACE("rank " + std::to_string(r));
        const std::size_t begin = bounds[r];
        const std::size_t end = bounds[r + 1];
        const data::Dataset& d = got[r].data;
        const data::Dataset& all = expected.data;
        expect_same_fitted(expected.fitted, got[r].fitted);
        EXPECT_TRUE(got[r].has_labels);
        EXPECT_TRUE(same(d.features, rows_of(all.features, begin, end)));
        EXPECT_TRUE(same(d.labels, rows_of(all.labels, begin, end)));
        EXPECT_EQ(d.feature_names, all.feature_names);
        EXPECT_EQ(d.label_name, all.label_name);
        EXPECT_EQ(d.source, all.source);
        EXPECT_EQ(d.feature_columns, all.feature_columns);
        EXPECT_EQ(d.label_column, all.label_column);
        EXPECT_EQ(d.row_lines, std::vector<std::size_t>(all.row_lines.begin() + begin,
                                                        all.row_lines.begin() + end));
        std::map<std::size_t, std::vector<std::size_t>> spanning;
        for (const auto& [row, lines] : all.spanning_rows) {
            if (row >= begin && row < end) spanning[row - begin] = lines;
        }
        EXPECT_EQ(d.spanning_rows, spanning);
        for (std::size_t i = 0; i < end - begin; ++i) {
            for (std::size_t j = 0; j < d.feature_columns.size(); ++j)
                EXPECT_EQ(d.where(i, d.feature_columns[j]),
                          all.where(begin + i, all.feature_columns[j]));
        }
    }
}

void expect_encoding_matches(const data::Table& whole, const data::ColumnSpec& spec) {
    for (std::size_t ranks = 1; ranks <= 4; ++ranks)
        expect_encoding_matches(whole, spec, even_bounds(whole.rows(), ranks));
}

data::ColumnSpec spec_of(data::Task task, std::vector<std::string> categorical = {},
                         data::Impute impute = data::Impute::none) {
    data::ColumnSpec spec;
    spec.task = task;
    spec.categorical = std::move(categorical);
    spec.impute = impute;
    return spec;
}

// Text labels; a category ('XL', 'green', a quoted one spanning two lines) and a class ('zeta')
// that only one rank holds for most groupings; missing values.
const char* const animals = R"(x1,color,x2,size,species
1.5,red,NA,XL,setosa
2.0,red,3.1,M,versicolor
"2.5",blue,4.0,S,setosa
3.0,blue,,M,virginica
3.5,"dark
red",5.5,S,zeta
4.0,red,6.0,M,virginica
4.5,blue,n/a,S,setosa
5.0,green,7.5,M,versicolor
)";

// Numeric labels spelled several ways: the class 1 is first spelled "1.0", 2 is "2".
const char* const spelled = R"(a,b,y
1,2,2
3,4,10
5,6,1.0
7,8,1
9,10,2.00
11,12,10
13,14,1e0
15,16,2
)";

// Regression with a numeric categorical column (categories sorted as numbers).
const char* const prices = R"(rooms,zone,area,price
3,10,NA,250.5
2,2,55,180
4,10,95,310.25
1,2.0,,99
5,33,140,400
2,2,60,175.5
)";

}  // namespace

TEST(DistributedEncode, BundledFilesMatchTheSingleProcessEncoding) {
    const data::Table iris = data::read_table(XGRAD_DATA_DIR "/iris.csv");
    expect_encoding_matches(iris, spec_of(data::Task::classification));
    const data::Table cancer = data::read_table(XGRAD_DATA_DIR "/breast_cancer.csv");
    expect_encoding_matches(cancer, spec_of(data::Task::classification));
    data::ColumnSpec regression = spec_of(data::Task::regression);
    regression.label = "petal_width";
    regression.drop = {"species"};
    expect_encoding_matches(iris, regression);
}

TEST(DistributedEncode, TextLabelsCategoriesOnOneRankAndMissingValues) {
    const data::Table table = data::parse_table(animals, "animals.csv");
    ASSERT_EQ(table.spanning_rows().size(), 1u);
    for (data::Impute impute : {data::Impute::mean, data::Impute::median}) {
        expect_encoding_matches(table,
                                spec_of(data::Task::classification, {"color", "size"}, impute));
    }
    // Uneven blocks, and a rank without rows (first, middle, last).
    const data::ColumnSpec spec =
        spec_of(data::Task::classification, {"color", "size"}, data::Impute::mean);
    expect_encoding_matches(table, spec, {0, 0, 8});
    expect_encoding_matches(table, spec, {0, 1, 1, 8});
    expect_encoding_matches(table, spec, {0, 7, 8, 8});
    expect_encoding_matches(table, spec, {0, 5, 6, 7, 8});
    // The category 'green' and the class 'zeta' exist on one rank only: every rank has them.
    xd::run_ranks(4, [&](xd::Communicator& comm) {
        const auto bounds = even_bounds(8, 4);
        const auto r = static_cast<std::size_t>(comm.rank());
        const auto got =
            xd::encode_training_data(block(table, bounds[r], bounds[r + 1]), spec, comm);
        EXPECT_EQ(got.fitted.labels.classes(),
                  (std::vector<std::string>{"setosa", "versicolor", "virginica", "zeta"}));
        EXPECT_EQ(got.fitted.one_hot.categories(0).classes(),
                  (std::vector<std::string>{"blue", "dark\nred", "green", "red"}));
        EXPECT_EQ(got.fitted.feature_names.size(), 2u + 4u + 3u);
    });
}

TEST(DistributedEncode, NumericClassesKeepTheSpellingSeenFirstInTheFile) {
    const data::Table table = data::parse_table(spelled, "spelled.csv");
    expect_encoding_matches(table, spec_of(data::Task::classification));
    std::vector<std::vector<std::string>> classes(3);
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        const auto bounds = even_bounds(8, 3);
        const auto r = static_cast<std::size_t>(comm.rank());
        classes[r] = xd::encode_training_data(block(table, bounds[r], bounds[r + 1]),
                                              spec_of(data::Task::classification), comm)
                         .fitted.labels.classes();
    });
    for (const auto& c : classes) EXPECT_EQ(c, (std::vector<std::string>{"1.0", "2", "10"}));
}

TEST(DistributedEncode, RegressionWithNumericCategories) {
    const data::Table table = data::parse_table(prices, "prices.csv");
    for (data::Impute impute : {data::Impute::mean, data::Impute::median})
        expect_encoding_matches(table, spec_of(data::Task::regression, {"zone"}, impute));
    expect_encoding_matches(table, spec_of(data::Task::regression, {"zone"}, data::Impute::mean),
                            {0, 4, 4, 6});
}

namespace {

/// @brief The line a `file:line...` message names (0 if none).
std::size_t line_in(const std::string& message, const std::string& source) {
    if (message.compare(0, source.size() + 1, source + ":") != 0) return 0;
    return std::strtoul(message.c_str() + source.size() + 1, nullptr, 10);
}

/// @brief data::encode_training_data's error on the whole table, and the one every rank must
/// throw: distributed_error "rank R: <message>" from the rank holding the row it names, or, for
/// an error of the whole file (`whole_file`), the same column_error on every rank.
void expect_error_matches(const std::string& text, const data::ColumnSpec& spec, bool whole_file,
                          const std::string& fragment) {
    const data::Table whole = data::parse_table(text, "bad.csv");
    std::string message;
    try {
        data::encode_training_data(whole, spec);
        ADD_FAILURE() << "no error from the single-process encoding";
        return;
    } catch (const data::column_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
    for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
        if (ranks > whole.rows() && whole.rows() > 0) break;
        SCOPED_TRACE(message + " on " + std::to_string(ranks) + " ranks");
        const auto bounds = whole.rows() == 0 ? std::vector<std::size_t>(ranks + 1, 0)
                                              : even_bounds(whole.rows(), ranks);
        std::vector<Caught> caught(ranks);
        xd::run_ranks(ranks, [&](xd::Communicator& comm) {
            const auto r = static_cast<std::size_t>(comm.rank());
            caught[r] = catch_on_rank([&] {
                xd::encode_training_data(block(whole, bounds[r], bounds[r + 1]), spec, comm);
            });
        });
        int failed = -1;
        const std::size_t line = line_in(message, "bad.csv");
        for (std::size_t r = 0; r < ranks; ++r) {
            for (std::size_t i = bounds[r]; i < bounds[r + 1]; ++i) {
                if (whole.row_lines()[i] == line) failed = static_cast<int>(r);
            }
        }
        for (std::size_t r = 0; r < ranks; ++r) {
            if (whole_file) {
                EXPECT_EQ(caught[r].kind, "column");
                EXPECT_EQ(caught[r].what, message);
            } else {
                ASSERT_GE(failed, 0);
                EXPECT_EQ(caught[r].kind, "distributed");
                EXPECT_EQ(caught[r].failed_rank, failed);
                EXPECT_EQ(caught[r].what,
                          ranks == 1 ? message : "rank " + std::to_string(failed) + ": " + message);
            }
        }
    }
}

}  // namespace

TEST(DistributedEncode, ARowsErrorStopsEveryRankWithItsMessage) {
    const data::ColumnSpec classes = spec_of(data::Task::classification);
    const data::ColumnSpec with_color = spec_of(data::Task::classification, {"color"});
    const data::ColumnSpec regression = spec_of(data::Task::regression);
    // A bad number on the last rows (rank 2 of 3, rank 3 of 4).
    expect_error_matches("x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\nabc,a\n8,b\n", classes, false,
                         "bad.csv:8:1: 'abc' in column 'x' is not a number");
    // Two bad numbers: the first in the file wins.
    expect_error_matches("x,y\n1,a\n2,b\n3,a\n4,b\nbad,a\n6,b\nworse,a\n8,b\n", classes, false,
                         "bad.csv:6:1: 'bad'");
    // A label problem comes before any feature problem, wherever it is.
    expect_error_matches("x,y\nabc,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,\n8,b\n", classes, false,
                         "bad.csv:8:2: empty cell in label column 'y'");
    // Every label of the last ranks is empty, not of the file.
    expect_error_matches("x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,\n8,\n", classes, false,
                         "bad.csv:8:2: empty cell in label column 'y'");
    expect_error_matches("x,y\n1,a\n2,b\n3,a\n4,NaN\n5,a\n6,b\n7,a\n8,b\n", classes, false,
                         "bad.csv:5:2: missing value ('NaN') in column 'y': NaN is not a class");
    // Categorical cells: empty, then "nan", before the numbers.
    expect_error_matches(
        "x,color,y\nbad,red,a\n2,blue,b\n3,red,a\n4,blue,b\n5,red,a\n6,,b\n7,red,a\n8,nan,b\n",
        with_color, false, "bad.csv:7:2: empty cell in categorical column 'color'");
    expect_error_matches(
        "x,color,y\nbad,red,a\n2,blue,b\n3,red,a\n4,blue,b\n5,red,a\n6,NAN,b\n7,red,a\n8,x,b\n",
        with_color, false, "bad.csv:7:2: missing value ('NAN') in column 'color'");
    expect_error_matches("x,y\n1,2\n2,3\n3,4\n4,5\n5,6\n6,abc\n7,8\n", regression, false,
                         "bad.csv:7:2: 'abc' in label column 'y' is not a number");
    expect_error_matches("x,y\n1,2\n2,3\n3,4\n4,NA\n5,6\n6,1e999\n7,8\n", regression, false,
                         "bad.csv:5:2: missing label ('NA') in column 'y'");
    expect_error_matches("x,y\n1,2\n2,3\n3,4\n4,5\n5,6\n6,1e999\n7,8\n", regression, false,
                         "bad.csv:7:2: '1e999' in label column 'y' is too large for a double");
    expect_error_matches("x,y\n1,2\n2,3\n3,4\n4,5\n5,6\n6,inf\n7,8\n", regression, false,
                         "bad.csv:7:2: 'inf' in label column 'y' is not a finite number");
    expect_error_matches("x,y\n1,2\n2,3\n3,4\n4,\n5,6\n6,7\n7,8\n", regression, false,
                         "bad.csv:5:2: empty cell in label column 'y'");
    expect_error_matches("x,z,y\n1,1,a\n2,2,b\n3,3,a\n4,NA,b\n5,5,a\n", classes, false,
                         "bad.csv:5:2: missing value ('NA') in column 'z': fill it with --impute");
}

TEST(DistributedEncode, AnErrorOfTheWholeFileIsTheSameOnEveryRank) {
    const data::ColumnSpec classes = spec_of(data::Task::classification);
    expect_error_matches("x,y\n1,\n2,\n3,\n4,\n", classes, true,
                         "bad.csv:1:2: label column 'y' is empty in every row");
    expect_error_matches("x,y\n", classes, true, "bad.csv:1: no data rows after the header");
    data::ColumnSpec unknown = classes;
    unknown.label = "z";
    expect_error_matches("x,y\n1,a\n2,b\n", unknown, true, "--label names 'z'");
    // 'color=red' is a category found on the last rank only.
    expect_error_matches(
        "color,color=red,y\nblue,1,a\nblue,2,b\nblue,3,a\nred,4,b\n",
        spec_of(data::Task::classification, {"color"}), true,
        "bad.csv:1:1: the one-hot column 'color=red' would repeat the name of column 2");
}

// ---------------------------------------------------------------------------------------------
// Splits

TEST(TrainTestIndices, GiveTheRowsTrainTestSplitGives) {
    const data::Dataset iris = data::read_csv(XGRAD_DATA_DIR "/iris.csv");
    for (bool stratify : {true, false}) {
        for (std::uint64_t seed : {0u, 7u, 2026u}) {
            for (double fraction : {0.1, 0.3, 0.5}) {
                const auto [train, test] =
                    data::train_test_indices(iris.labels, fraction, seed, stratify);
                const data::Split split =
                    data::train_test_split(iris.features, iris.labels, fraction, seed, stratify);
                EXPECT_EQ(train.size() + test.size(), 150u);
                EXPECT_TRUE(same(data::take_rows(iris.features, train), split.X_train));
                EXPECT_TRUE(same(data::take_rows(iris.labels, train), split.y_train));
                EXPECT_TRUE(same(data::take_rows(iris.features, test), split.X_test));
                EXPECT_TRUE(same(data::take_rows(iris.labels, test), split.y_test));
                std::vector<std::size_t> every = train;
                every.insert(every.end(), test.begin(), test.end());
                std::sort(every.begin(), every.end());
                for (std::size_t i = 0; i < every.size(); ++i) EXPECT_EQ(every[i], i);
            }
        }
    }
    XGRAD_EXPECT_THROW_WITH(data::train_test_indices(iris.labels, 0.0, 1), std::invalid_argument,
                            "train_test_indices: test_fraction must be in (0, 1), got 0.0");
    XGRAD_EXPECT_THROW_WITH(data::train_test_indices(iris.labels, 0.001, 1, false),
                            std::invalid_argument,
                            "train_test_indices: a test fraction of 0.001000 of 150 rows leaves "
                            "the test part empty");
    XGRAD_EXPECT_THROW_WITH(data::train_test_indices(iris.features, 0.5, 1), xgrad::shape_error,
                            "train_test_indices: expects y (rows,), got (150,4)");
    XGRAD_EXPECT_THROW_WITH(data::train_test_split(iris.features, iris.labels, 1.0, 1),
                            std::invalid_argument, "train_test_split: test_fraction must be in");
}

namespace {

/// @brief Puts each rank's rows `local` (of X_local) at their `ids` in a (total, ...) array, and
/// checks that every row is filled once.
array assemble(const std::vector<array>& X_local,
               const std::vector<std::vector<std::size_t>>& local,
               const std::vector<std::vector<std::size_t>>& ids, std::size_t total) {
    shape_type shape = X_local[0].shape();
    shape[0] = total;
    array out = xt::zeros<double>(shape);
    const std::size_t width = X_local[0].dimension() == 2 ? shape[1] : 1;
    std::vector<int> filled(total, 0);
    for (std::size_t r = 0; r < X_local.size(); ++r) {
        EXPECT_EQ(local[r].size(), ids[r].size());
        EXPECT_TRUE(std::is_sorted(ids[r].begin(), ids[r].end()));
        for (std::size_t t = 0; t < ids[r].size(); ++t) {
            EXPECT_LT(ids[r][t], total);
            if (ids[r][t] >= total) continue;
            ++filled[ids[r][t]];
            std::copy(X_local[r].data() + local[r][t] * width,
                      X_local[r].data() + (local[r][t] + 1) * width,
                      out.data() + ids[r][t] * width);
        }
    }
    for (std::size_t p = 0; p < total; ++p) EXPECT_EQ(filled[p], 1) << "position " << p;
    return out;
}

}  // namespace

TEST(SplitRows, TheRanksRowsConcatenatedByIdAreTheSingleProcessSplit) {
    const data::Dataset iris = data::read_csv(XGRAD_DATA_DIR "/iris.csv");
    for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
        const auto bounds = even_bounds(150, ranks);
        for (bool stratify : {true, false}) {
            for (std::uint64_t seed : {0u, 7u, 2026u}) {
                for (double fraction : {0.2, 0.3, 0.5}) {
                    SCOPED_TRACE(std::to_string(ranks) + " ranks, seed " + std::to_string(seed) +
                                 ", fraction " + std::to_string(fraction) +
                                 (stratify ? ", stratified" : ""));
                    std::vector<xd::RowSplit> splits(ranks);
                    std::vector<xd::RowSplit> validation(ranks);
                    std::vector<array> X(ranks), y(ranks), X_train(ranks), y_train(ranks);
                    xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                        const auto r = static_cast<std::size_t>(comm.rank());
                        X[r] = rows_of(iris.features, bounds[r], bounds[r + 1]);
                        y[r] = rows_of(iris.labels, bounds[r], bounds[r + 1]);
                        splits[r] = xd::split_rows(y[r], fraction, seed, stratify, comm);
                        // The training part split again (validation), as the CLI does.
                        X_train[r] = data::take_rows(X[r], splits[r].train_local);
                        y_train[r] = data::take_rows(y[r], splits[r].train_local);
                        validation[r] = xd::split_rows(y_train[r], splits[r].train_ids, 0.25,
                                                       seed + 1, stratify, comm);
                    });
                    const data::Split expected = data::train_test_split(iris.features, iris.labels,
                                                                        fraction, seed, stratify);
                    std::vector<std::vector<std::size_t>> train_local, train_ids, test_local,
                        test_ids, fit_local, fit_ids, val_local, val_ids;
                    for (const auto& s : splits) {
                        EXPECT_EQ(s.train_total, expected.y_train.size());
                        EXPECT_EQ(s.test_total, expected.y_test.size());
                        train_local.push_back(s.train_local);
                        train_ids.push_back(s.train_ids);
                        test_local.push_back(s.test_local);
                        test_ids.push_back(s.test_ids);
                    }
                    const std::size_t n_train = expected.y_train.size();
                    const std::size_t n_test = expected.y_test.size();
                    EXPECT_TRUE(
                        same(assemble(X, train_local, train_ids, n_train), expected.X_train));
                    EXPECT_TRUE(
                        same(assemble(y, train_local, train_ids, n_train), expected.y_train));
                    EXPECT_TRUE(same(assemble(X, test_local, test_ids, n_test), expected.X_test));
                    EXPECT_TRUE(same(assemble(y, test_local, test_ids, n_test), expected.y_test));

                    const data::Split expected_fit = data::train_test_split(
                        expected.X_train, expected.y_train, 0.25, seed + 1, stratify);
                    for (const auto& s : validation) {
                        fit_local.push_back(s.train_local);
                        fit_ids.push_back(s.train_ids);
                        val_local.push_back(s.test_local);
                        val_ids.push_back(s.test_ids);
                    }
                    EXPECT_TRUE(
                        same(assemble(X_train, fit_local, fit_ids, expected_fit.y_train.size()),
                             expected_fit.X_train));
                    EXPECT_TRUE(
                        same(assemble(y_train, val_local, val_ids, expected_fit.y_test.size()),
                             expected_fit.y_test));
                }
            }
        }
    }
}

TEST(SplitRows, ErrorsAreTheSameOnEveryRank) {
    const data::Dataset iris = data::read_csv(XGRAD_DATA_DIR "/iris.csv");
    std::vector<Caught> caught(3);
    const auto bounds = even_bounds(150, 3);
    const auto on_ranks = [&](const std::function<void(xd::Communicator&, std::size_t)>& body) {
        xd::run_ranks(3, [&](xd::Communicator& comm) {
            const auto r = static_cast<std::size_t>(comm.rank());
            caught[r] = catch_on_rank([&] { body(comm, r); });
        });
    };
    on_ranks([&](xd::Communicator& comm, std::size_t r) {
        xd::split_rows(rows_of(iris.labels, bounds[r], bounds[r + 1]), 1.5, 1, true, comm);
    });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "invalid_argument");
        EXPECT_EQ(c.what, "train_test_indices: test_fraction must be in (0, 1), got 1.500000");
    }
    on_ranks([&](xd::Communicator& comm, std::size_t r) {
        const array y = rows_of(iris.labels, bounds[r], bounds[r + 1]);
        xd::split_rows(r == 1 ? array(xt::zeros<double>({2, 2})) : y, 0.5, 1, true, comm);
    });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "distributed");
        EXPECT_EQ(c.what, "rank 1: split_rows: expects y_local of shape (rows,), got (2,2)");
        EXPECT_EQ(c.failed_rank, 1);
    }
    // Positions: repeated, beyond the rows, too few.
    for (int problem = 0; problem < 3; ++problem) {
        on_ranks([&](xd::Communicator& comm, std::size_t r) {
            const array y = rows_of(iris.labels, bounds[r], bounds[r + 1]);
            std::vector<std::size_t> ids;
            for (std::size_t i = bounds[r]; i < bounds[r + 1]; ++i) ids.push_back(i);
            if (r == 2 && problem == 0) ids[3] = 7;
            if (r == 2 && problem == 1) ids[3] = 150;
            if (r == 2 && problem == 2) ids.pop_back();
            xd::split_rows(y, ids, 0.5, 1, true, comm);
        });
        const std::string expected =
            problem == 0   ? "rank 2: split_rows: position 7 is given twice (ranks 0 and 2)"
            : problem == 1 ? "rank 2: split_rows: position 150 is beyond the 150 rows of all ranks"
                           : "rank 2: split_rows: 49 positions for 50 rows";
        for (const auto& c : caught) {
            EXPECT_EQ(c.kind, "distributed");
            EXPECT_EQ(c.what, expected);
            EXPECT_EQ(c.failed_rank, 2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Imputer and standardiser

namespace {

/// @brief (rows, 6) values with missing ones: column 0 complete, 1 some missing, 2 present in
/// the last 3 rows only (on the last rank only), 3 an even count, 4 huge values whose sum
/// overflows, 5 large offsets (cancellation in a one-pass variance).
array sample_matrix(std::size_t rows) {
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    array X = array::from_shape({rows, std::size_t{6}});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < rows; ++i) {
        X(i, 0) = 3.0 + u(rng);
        X(i, 1) = i % 3 == 1 ? nan : 20.0 + 10.0 * u(rng);
        X(i, 2) = i + 3 >= rows ? 2.0 + u(rng) : nan;
        X(i, 3) = i % 2 == 0 ? nan : 150.0 + u(rng) * 100.0;
        X(i, 4) = 1.5e308 * (0.9 + 0.1 * u(rng));
        X(i, 5) = 1e6 + u(rng);
    }
    return X;
}

}  // namespace

TEST(FitImputer, MatchesImputerFitOnEveryRanksRows) {
    const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
    for (std::size_t rows : {std::size_t{23}, std::size_t{24}}) {
        const array X = sample_matrix(rows);
        for (data::Impute strategy : {data::Impute::mean, data::Impute::median}) {
            const array expected = data::Imputer(strategy).fit(X, names).statistics();
            ASSERT_TRUE(std::isfinite(expected(4)));  // the overflowing sum was handled
            std::vector<std::vector<std::size_t>> groupings;
            for (std::size_t ranks = 1; ranks <= 4; ++ranks)
                groupings.push_back(even_bounds(rows, ranks));
            groupings.push_back({0, 0, 5, rows});  // a rank without rows
            for (const auto& bounds : groupings) {
                const std::size_t ranks = bounds.size() - 1;
                SCOPED_TRACE(std::to_string(rows) + " rows on " + std::to_string(ranks) +
                             " ranks, " + data::to_string(strategy));
                std::vector<array> got(ranks);
                xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                    const auto r = static_cast<std::size_t>(comm.rank());
                    got[r] =
                        xd::fit_imputer(rows_of(X, bounds[r], bounds[r + 1]), names, strategy, comm)
                            .statistics();
                });
                for (const auto& s : got) {
                    if (strategy == data::Impute::median) {
                        EXPECT_TRUE(same(s, expected));
                    } else {
                        EXPECT_LE(worst(s, expected), 1e-12);
                    }
                    EXPECT_TRUE(same(s, got[0]));  // the same bits on every rank
                }
            }
        }
    }
}

TEST(FitImputer, ErrorsAreTheSameOnEveryRank) {
    array X = sample_matrix(12);
    for (std::size_t i = 0; i < 12; ++i) X(i, 2) = std::numeric_limits<double>::quiet_NaN();
    const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};
    XGRAD_EXPECT_THROW_WITH(data::Imputer(data::Impute::mean).fit(X, names), data::column_error,
                            "cannot impute column 'c': all 12 values are missing in the rows it "
                            "is fitted on");
    const auto bounds = even_bounds(12, 3);
    std::vector<Caught> caught(3);
    for (data::Impute strategy : {data::Impute::mean, data::Impute::median}) {
        xd::run_ranks(3, [&](xd::Communicator& comm) {
            const auto r = static_cast<std::size_t>(comm.rank());
            caught[r] = catch_on_rank([&] {
                xd::fit_imputer(rows_of(X, bounds[r], bounds[r + 1]), names, strategy, comm);
            });
        });
        for (const auto& c : caught) {
            EXPECT_EQ(c.kind, "column");
            EXPECT_EQ(c.what,
                      "cannot impute column 'c': all 12 values are missing in the rows it "
                      "is fitted on");
        }
    }
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        caught[r] = catch_on_rank([&] {
            const array part = rows_of(X, bounds[r], bounds[r + 1]);
            xd::fit_imputer(r == 2 ? array(xt::view(part, xt::all(), xt::range(0, 4))) : part,
                            names, data::Impute::mean, comm);
        });
    });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "distributed");
        EXPECT_EQ(c.what, "rank 2: fit_imputer: rank 2 has 4 features, rank 0 has 6");
    }
    xd::run_ranks(2, [&](xd::Communicator& comm) {
        caught[static_cast<std::size_t>(comm.rank())] = catch_on_rank([&] {
            xd::fit_imputer(array::from_shape({0, 3}), {}, data::Impute::median, comm);
        });
    });
    for (std::size_t r = 0; r < 2; ++r) {
        EXPECT_EQ(caught[r].kind, "column");
        EXPECT_EQ(caught[r].what, "cannot fit an imputer on 0 rows");
    }
    xd::run_ranks(2, [&](xd::Communicator& comm) {
        caught[static_cast<std::size_t>(comm.rank())] =
            catch_on_rank([&] { xd::fit_imputer(X, names, data::Impute::none, comm); });
    });
    for (std::size_t r = 0; r < 2; ++r) EXPECT_EQ(caught[r].kind, "invalid_argument");
}

TEST(FitStandardizer, MatchesStandardizerFitOnEveryRanksRows) {
    std::vector<array> matrices{
        data::read_csv(XGRAD_DATA_DIR "/iris.csv").features,
        data::read_csv(XGRAD_DATA_DIR "/breast_cancer.csv").features,
    };
    const array sample = sample_matrix(31);
    array offsets = xt::view(sample, xt::all(), xt::keep(0, 5));  // 1e6 + noise in column 1
    xt::view(offsets, xt::all(), 0) = 2.0;                        // constant: scale 1
    matrices.push_back(offsets);
    for (const array& X : matrices) {
        const data::Standardizer expected = data::Standardizer().fit(X);
        const std::size_t rows = X.shape()[0];
        std::vector<std::vector<std::size_t>> groupings;
        for (std::size_t ranks = 1; ranks <= 4; ++ranks)
            groupings.push_back(even_bounds(rows, ranks));
        groupings.push_back({0, 3, 3, rows});
        for (const auto& bounds : groupings) {
            const std::size_t ranks = bounds.size() - 1;
            SCOPED_TRACE(std::to_string(rows) + " rows on " + std::to_string(ranks) + " ranks");
            std::vector<data::Standardizer> got(ranks);
            xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                const auto r = static_cast<std::size_t>(comm.rank());
                got[r] = xd::fit_standardizer(rows_of(X, bounds[r], bounds[r + 1]), comm);
            });
            for (const auto& s : got) {
                EXPECT_LE(worst(s.mean(), expected.mean()), 1e-12);
                EXPECT_LE(worst(s.scale(), expected.scale()), 1e-12);
                EXPECT_TRUE(same(s.mean(), got[0].mean()));
                EXPECT_TRUE(same(s.scale(), got[0].scale()));
            }
        }
    }
    // The constant column keeps scale 1, exactly as fit gives it.
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        const auto bounds = even_bounds(31, 3);
        const auto r = static_cast<std::size_t>(comm.rank());
        const auto s = xd::fit_standardizer(rows_of(offsets, bounds[r], bounds[r + 1]), comm);
        EXPECT_EQ(s.scale()(0), 1.0);
        EXPECT_EQ(s.mean()(0), 2.0);
    });
}

TEST(FitStandardizer, ConstantColumnsStandardiseToExactlyZeroInOneProcessAndOnEveryRank) {
    // Values whose mean Σx / n rounds to another number (0.1, 1/3), a subnormal one, and one
    // whose sum overflows: each keeps its value as the mean and scale 1, so (x − mean) / scale
    // is exactly 0; beside them a varying column standardises as before.
    const std::vector<double> values{0.1, 1.0 / 3.0, -2.5e-310, 1e300, -7.0};
    for (std::size_t rows : {1u, 7u, 31u}) {
        array X = array::from_shape({rows, values.size() + 1});
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < values.size(); ++j) X(i, j) = values[j];
            X(i, values.size()) = 0.5 * static_cast<double>(i);
        }
        const data::Standardizer one = data::Standardizer().fit(X);
        const array Z = one.transform(X);
        for (std::size_t j = 0; j < values.size(); ++j) {
            EXPECT_EQ(one.mean()(j), values[j]) << rows << " rows, column " << j;
            EXPECT_EQ(one.scale()(j), 1.0);
            for (std::size_t i = 0; i < rows; ++i) EXPECT_EQ(Z(i, j), 0.0);
        }
        for (std::size_t ranks = 1; ranks <= std::min<std::size_t>(rows, 4); ++ranks) {
            auto bounds = even_bounds(rows, ranks);
            if (ranks > 1) bounds[1] = 0;  // and a rank without rows
            xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                const auto r = static_cast<std::size_t>(comm.rank());
                const auto s = xd::fit_standardizer(rows_of(X, bounds[r], bounds[r + 1]), comm);
                for (std::size_t j = 0; j < values.size(); ++j) {
                    EXPECT_EQ(s.mean()(j), values[j]) << ranks << " ranks, column " << j;
                    EXPECT_EQ(s.scale()(j), 1.0);
                }
                EXPECT_LE(worst(s.mean(), one.mean()), 1e-12);
                EXPECT_LE(worst(s.scale(), one.scale()), 1e-12);
            });
        }
    }
}

TEST(FitStandardizer, ErrorsAreTheSameOnEveryRank) {
    std::vector<Caught> caught(2);
    const auto on_two = [&](const std::function<void(xd::Communicator&)>& body) {
        xd::run_ranks(2, [&](xd::Communicator& comm) {
            caught[static_cast<std::size_t>(comm.rank())] = catch_on_rank([&] { body(comm); });
        });
    };
    on_two([](xd::Communicator& comm) { xd::fit_standardizer(array::from_shape({0, 2}), comm); });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "shape");
        EXPECT_EQ(c.what,
                  "Standardizer.fit: expects X of shape (rows, features) with rows > 0, "
                  "got 0 rows on every rank");
    }
    on_two([](xd::Communicator& comm) {
        xd::fit_standardizer(comm.rank() == 1 ? array::from_shape({3}) : array::from_shape({2, 2}),
                             comm);
    });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "distributed");
        EXPECT_EQ(c.what,
                  "rank 1: fit_standardizer: expects X of shape (rows, features), got (3,)");
    }
    // A spread beyond a double: Standardizer::fit gives an infinite scale.
    array huge = array::from_shape({4, 1});
    huge(0, 0) = huge(2, 0) = 1e300;
    huge(1, 0) = huge(3, 0) = -1e300;
    EXPECT_TRUE(std::isinf(data::Standardizer().fit(huge).scale()(0)));
    on_two([&](xd::Communicator& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        xd::fit_standardizer(rows_of(huge, 2 * r, 2 * r + 2), comm);
    });
    for (const auto& c : caught) {
        EXPECT_EQ(c.kind, "other");
        EXPECT_EQ(c.what,
                  "fit_standardizer: column 0 (from 0) cannot be standardised: its spread "
                  "overflows a double");
    }
}

// ---------------------------------------------------------------------------------------------
// The pipeline of `xgrad train`

TEST(DistributedPipeline, EncodeSplitImputeStandardizeAsTheSingleProcessTrain) {
    // iris with missing cells, so the imputer matters.
    std::istringstream in(slurp(XGRAD_DATA_DIR "/iris.csv"));
    std::string text;
    std::string line;
    for (std::size_t n = 0; std::getline(in, line); ++n) {
        if (n > 0 && n % 7 == 0) {
            const std::size_t column = n % 4;
            std::size_t start = 0;
            for (std::size_t c = 0; c < column; ++c) start = line.find(',', start) + 1;
            line = line.substr(0, start) + "NA" + line.substr(line.find(',', start));
        }
        text += line + "\n";
    }
    const data::Table whole = data::parse_table(text, "iris-na.csv");
    for (data::Impute impute : {data::Impute::mean, data::Impute::median}) {
        const data::ColumnSpec spec = spec_of(data::Task::classification, {}, impute);
        // Single process, as train() does it.
        data::PreparedData all = data::encode_training_data(whole, spec);
        const data::Split split =
            data::train_test_split(all.data.features, all.data.labels, 0.3, 5, true);
        data::Imputer imputer = all.fitted.imputer;
        imputer.fit(split.X_train, all.data.feature_names);
        const array X_train = imputer.transform(split.X_train);
        const data::Split fit = data::train_test_split(X_train, split.y_train, 0.25, 6, true);
        const data::Standardizer scaler = data::Standardizer().fit(fit.X_train);

        for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
            SCOPED_TRACE(std::to_string(ranks) + " ranks, " + data::to_string(impute));
            const auto bounds = even_bounds(whole.rows(), ranks);
            std::vector<data::Imputer> imputers(ranks);
            std::vector<data::Standardizer> scalers(ranks);
            std::vector<array> X_fit(ranks);
            std::vector<std::vector<std::size_t>> fit_local(ranks), fit_ids(ranks);
            xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                const auto r = static_cast<std::size_t>(comm.rank());
                const data::PreparedData mine =
                    xd::encode_training_data(block(whole, bounds[r], bounds[r + 1]), spec, comm);
                const xd::RowSplit rows = xd::split_rows(mine.data.labels, 0.3, 5, true, comm);
                const array X = data::take_rows(mine.data.features, rows.train_local);
                const array y = data::take_rows(mine.data.labels, rows.train_local);
                imputers[r] = xd::fit_imputer(X, mine.data.feature_names, impute, comm);
                const array X_filled = imputers[r].transform(X);
                const xd::RowSplit again = xd::split_rows(y, rows.train_ids, 0.25, 6, true, comm);
                X_fit[r] = X_filled;
                fit_local[r] = again.train_local;
                fit_ids[r] = again.train_ids;
                scalers[r] =
                    xd::fit_standardizer(data::take_rows(X_filled, again.train_local), comm);
            });
            for (std::size_t r = 0; r < ranks; ++r) {
                if (impute == data::Impute::median) {
                    EXPECT_TRUE(same(imputers[r].statistics(), imputer.statistics()));
                } else {
                    EXPECT_LE(worst(imputers[r].statistics(), imputer.statistics()), 1e-12);
                }
                EXPECT_LE(worst(scalers[r].mean(), scaler.mean()), 1e-12);
                EXPECT_LE(worst(scalers[r].scale(), scaler.scale()), 1e-12);
            }
            const array assembled = assemble(X_fit, fit_local, fit_ids, fit.y_train.size());
            EXPECT_LE(worst(assembled, fit.X_train), 1e-12);
        }
    }
}
