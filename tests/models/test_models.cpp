/***************************************************************************
 * xgrad: logistic and linear regression trained on the engine              *
 ***************************************************************************/
#include <algorithm>
#include <array>
#include <random>

#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/metrics.hpp"

namespace xgrad {
namespace {

using models::LinearRegression;
using models::LogisticRegression;
using models::TrainOptions;

/// @brief Iris petal length and width, setosa (0) against versicolor (1).
data::Dataset iris_petals() {
    return data::where_label(
        data::read_csv(XGRAD_DATA_DIR "/iris.csv", "species", {"petal_length", "petal_width"}),
        [](double species) { return species <= 1.0; });
}

using metrics::accuracy;

TEST(LogisticRegressionModel, IrisPetalsBatchDescent) {
    const data::Dataset iris = iris_petals();
    ASSERT_EQ(iris.labels.size(), 100u);
    LogisticRegression model;
    TrainOptions options;
    options.learning_rate = 0.1;
    options.epochs = 1000;
    model.fit(iris.features, iris.labels, options);
    EXPECT_EQ(accuracy(model.predict(iris.features), iris.labels), 1.0);
    const auto& history = model.loss_history();
    ASSERT_EQ(history.size(), 1000u);
    EXPECT_NEAR(history.front(), std::log(2.0), 1e-15);  // zero weights: p = 1/2 everywhere
    for (std::size_t e = 1; e < history.size(); ++e) {
        EXPECT_LT(history[e], history[e - 1]) << "epoch " << e;
    }
    EXPECT_LT(history.back(), history.front() / 10.0);
}

TEST(LogisticRegressionModel, MiniBatchAndStochasticDescent) {
    const data::Dataset iris = iris_petals();
    for (std::size_t batch : {std::size_t{1}, std::size_t{16}, std::size_t{32}}) {
        SCOPED_TRACE(batch);
        LogisticRegression model;
        TrainOptions options;
        options.learning_rate = 0.05;
        options.epochs = 200;
        options.batch_size = batch;
        options.seed = 42;
        model.fit(iris.features, iris.labels, options);
        EXPECT_EQ(accuracy(model.predict(iris.features), iris.labels), 1.0);
        EXPECT_LT(model.loss_history().back(), model.loss_history().front() / 4.0);

        LogisticRegression again;  // same seed, same shuffles, same result
        again.fit(iris.features, iris.labels, options);
        EXPECT_EQ(again.weights().value(), model.weights().value());
    }
}

TEST(LogisticRegressionModel, OneStepEqualsAnalyticUpdate) {
    // With zero start, one full-batch step moves w by −η·(1/m)·Xᵀ(½ − y).
    const array X = {{1.0, 2.0}, {3.0, -1.0}, {0.5, 0.5}};
    const array y = {1.0, 0.0, 1.0};
    LogisticRegression model;
    model.fit(X, y, {0.5, 1, 0, 0});
    for (std::size_t j = 0; j < 2; ++j) {
        double g = 0.0;
        for (std::size_t i = 0; i < 3; ++i) g += X(i, j) * (0.5 - y(i)) / 3.0;
        EXPECT_DOUBLE_EQ(model.weights().value()(j), -0.5 * g);
    }
    EXPECT_DOUBLE_EQ(model.bias().value()(), -0.5 * (0.5 - 2.0 / 3.0));
}

TEST(LogisticRegressionModel, RejectsBadInput) {
    LogisticRegression model;
    const array X = testing::column({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 2.0}), std::invalid_argument,
                            "labels must be 0 or 1; row 1 has 2");
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 1.0, 1.0}), shape_error,
                            "LogisticRegression.fit: expects X of shape (rows, features)");
    XGRAD_EXPECT_THROW_WITH(model.fit(testing::column({1.0, std::nan("")}), array{0.0, 1.0}),
                            std::invalid_argument, "non-finite value at row 1, column 0");
    XGRAD_EXPECT_THROW_WITH(model.predict(X), graph_error, "call fit() first");
    model.fit(X, array{0.0, 1.0});
    XGRAD_EXPECT_THROW_WITH(model.predict(array{{1.0, 2.0}}), shape_error,
                            "expects X of shape (rows, 1), got (1,2)");
}

TEST(LinearRegressionModel, RecoversALine) {
    std::mt19937_64 rng(53);
    const array X = testing::random_array(rng, {200, 2}, -1.0, 1.0);
    array y = array::from_shape({200});
    for (std::size_t i = 0; i < 200; ++i) y(i) = 3.0 * X(i, 0) - 2.0 * X(i, 1) + 0.5;
    LinearRegression model;
    model.fit(X, y, {0.3, 2000, 0, 0});
    EXPECT_NEAR(model.weights().value()(0), 3.0, 1e-9);
    EXPECT_NEAR(model.weights().value()(1), -2.0, 1e-9);
    EXPECT_NEAR(model.bias().value()(), 0.5, 1e-9);
    EXPECT_LT(model.loss_history().back(), 1e-18);
    EXPECT_NEAR(model.predict(array{{1.0, 1.0}})(0), 1.5, 1e-9);
}

TEST(KFold, EveryRowInOneFoldEachClassSpreadAndSeeded) {
    // 3 classes of 10, 7 and 5 rows in 5 folds: every row once, each fold 4 or 5 rows, each class
    // within one row of an even share per fold, the same folds for the same seed.
    array y = array::from_shape({22});
    for (std::size_t i = 0; i < 22; ++i) y(i) = i < 10 ? 0.0 : (i < 17 ? 1.0 : 2.0);
    const auto folds = data::k_fold_indices(y, 5, true, 3);
    ASSERT_EQ(folds.size(), 5U);
    std::vector<int> seen(22, 0);
    for (const auto& fold : folds) {
        EXPECT_TRUE(std::is_sorted(fold.begin(), fold.end()));
        EXPECT_TRUE(fold.size() == 4 || fold.size() == 5) << fold.size();
        std::array<int, 3> per_class{};
        for (std::size_t row : fold) {
            ++seen[row];
            ++per_class[static_cast<std::size_t>(y(row))];
        }
        EXPECT_EQ(per_class[0], 2);                           // 10 rows over 5 folds
        EXPECT_TRUE(per_class[1] == 1 || per_class[1] == 2);  // 7 rows
        EXPECT_EQ(per_class[2], 1);                           // 5 rows
    }
    for (int count : seen) EXPECT_EQ(count, 1);
    EXPECT_EQ(data::k_fold_indices(y, 5, true, 3), folds);
    EXPECT_NE(data::k_fold_indices(y, 5, true, 4), folds);
    const auto plain = data::k_fold_indices(y, 2, false, 0);
    EXPECT_EQ(plain[0].size() + plain[1].size(), 22U);
    XGRAD_EXPECT_THROW_WITH(data::k_fold_indices(y, 1, true, 0), std::invalid_argument,
                            "k_fold_indices: 1 folds of 22 rows");
    XGRAD_EXPECT_THROW_WITH(data::k_fold_indices(y, 23, true, 0), std::invalid_argument,
                            "no more folds than rows");
}

}  // namespace
}  // namespace xgrad
