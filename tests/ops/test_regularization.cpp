/***************************************************************************
 * xgrad: penalty terms, class weights, early stopping and optimizer choice *
 * in the linear models                                                     *
 ***************************************************************************/
#include <random>

#include <xtensor/xview.hpp>

#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/ops/regularization.hpp"

namespace xgrad {
namespace {

TEST(Regularization, PenaltyValuesAndGradients) {
    Var w = parameter({1.0, -2.0, 0.5});
    EXPECT_DOUBLE_EQ(l2_penalty(w, 2.0, 4).item(), 2.0 / 8.0 * (1.0 + 4.0 + 0.25));
    EXPECT_DOUBLE_EQ(l1_penalty(w, 2.0, 4).item(), 2.0 / 4.0 * 3.5);
    EXPECT_DOUBLE_EQ(elastic_net_penalty(w, 2.0, 0.25, 4).item(),
                     0.25 * 2.0 / 4.0 * 3.5 + 0.75 * 2.0 / 8.0 * 5.25);
    l1_penalty(w, 2.0, 4).backward();  // (λ/m)·sign(w)
    EXPECT_EQ(w.grad(), (array{0.5, -0.5, 0.5}));
    w.zero_grad();
    l2_penalty(w, 2.0, 4).backward();  // (λ/m)·w
    EXPECT_EQ(w.grad(), (array{0.5, -1.0, 0.25}));
    std::mt19937_64 rng(3);
    Var v = parameter(testing::random_array(rng, {4}, 0.2, 1.0));
    testing::expect_gradients_match(
        elastic_net_penalty(v * constant({1.0, -1.0, 1.0, -1.0}), 0.7, 0.4, 9));
    EXPECT_EQ(abs(constant({-3.0, 0.0, 2.0})).value(), (array{3.0, 0.0, 2.0}));
    XGRAD_EXPECT_THROW_WITH(l2_penalty(w, -1.0, 4), std::invalid_argument, "lambda must be >= 0");
    XGRAD_EXPECT_THROW_WITH(elastic_net_penalty(w, 1.0, 1.5, 4), std::invalid_argument, "l1_ratio");
}

TEST(Regularization, BalancedClassWeights) {
    const auto [w0, w1] = balanced_class_weights(array{0.0, 0.0, 0.0, 1.0});
    EXPECT_DOUBLE_EQ(w0, 4.0 / 6.0);
    EXPECT_DOUBLE_EQ(w1, 2.0);
    XGRAD_EXPECT_THROW_WITH(balanced_class_weights(array{1.0, 1.0}), std::invalid_argument,
                            "both classes must occur");
}

/// @brief The standardised breast-cancer data.
struct Data {
    array X;
    array y;
};
Data breast_cancer() {
    const data::Dataset d = data::read_csv(XGRAD_DATA_DIR "/breast_cancer.csv", "benign");
    return {data::Standardizer().fit_transform(d.features), d.labels};
}

TEST(Regularization, L1ShrinksAndZeroesWeights) {
    const Data d = breast_cancer();
    models::LogisticRegression plain;
    models::LogisticRegression lasso;
    models::TrainOptions options(0.05, 300, 0, 0);
    options.optimizer = "adam";
    plain.fit(d.X, d.y, options);
    options.l1 = 50.0;
    lasso.fit(d.X, d.y, options);
    const double plain_norm = xt::sum(xt::abs(plain.weights().value()))();
    const double lasso_norm = xt::sum(xt::abs(lasso.weights().value()))();
    EXPECT_LT(lasso_norm, 0.5 * plain_norm);
    std::size_t near_zero = 0;
    for (double w : lasso.weights().value()) near_zero += std::abs(w) < 0.02 ? 1 : 0;
    EXPECT_GE(near_zero, 10u);  // L1 drives many of the 30 weights to (about) zero
}

TEST(Regularization, BalancedWeightsRaiseMinorityRecall) {
    // Keep only 20 of the 212 malignant (0) rows: the classes become very unequal.
    const Data d = breast_cancer();
    std::vector<std::size_t> rows;
    std::size_t zeros = 0;
    for (std::size_t i = 0; i < d.y.size(); ++i) {
        if (d.y(i) == 1.0 || zeros++ < 20) rows.push_back(i);
    }
    array X = array::from_shape({rows.size(), d.X.shape()[1]});
    array y = array::from_shape({rows.size()});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t j = 0; j < d.X.shape()[1]; ++j) X(r, j) = d.X(rows[r], j);
        y(r) = d.y(rows[r]);
    }
    auto minority_mean_probability = [&](bool balanced) {
        models::LogisticRegression model;
        models::TrainOptions options(0.1, 50, 0, 0);
        options.balanced_class_weights = balanced;
        model.fit(X, y, options);
        const array p = model.predict_proba(X);
        double total = 0.0;
        for (std::size_t i = 0; i < y.size(); ++i) total += y(i) == 0.0 ? 1.0 - p(i) : 0.0;
        return total / 20.0;
    };
    EXPECT_GT(minority_mean_probability(true), minority_mean_probability(false) + 0.05);
}

TEST(Regularization, EarlyStoppingKeepsTheBestValidationLoss) {
    const Data d = breast_cancer();
    const std::size_t train_rows = 400;
    const array X_train = xt::view(d.X, xt::range(0, train_rows), xt::all());
    const array y_train = xt::view(d.y, xt::range(0, train_rows));
    models::LogisticRegression model;
    models::TrainOptions options(1.0, 2000, 16, 7);  // a large step: validation loss turns up
    options.optimizer = "sgd";
    options.validation_X = xt::view(d.X, xt::range(train_rows, d.X.shape()[0]), xt::all());
    options.validation_y = xt::view(d.y, xt::range(train_rows, d.y.size()));
    options.patience = 10;
    std::size_t reports = 0;
    options.on_epoch = [&reports](const models::EpochReport& r) {
        EXPECT_FALSE(std::isnan(r.validation_loss));
        ++reports;
    };
    model.fit(X_train, y_train, options);
    const auto& validation = model.validation_loss_history();
    ASSERT_LT(validation.size(), 2000u);  // stopped early
    EXPECT_EQ(reports, validation.size());
    const double best = *std::min_element(validation.begin(), validation.end());
    const std::size_t best_epoch =
        std::min_element(validation.begin(), validation.end()) - validation.begin();
    EXPECT_EQ(validation.size(), best_epoch + 1 + 10);  // patience epochs after the best
    EXPECT_DOUBLE_EQ(model.loss_on(options.validation_X, options.validation_y), best);  // restored
}

TEST(Regularization, SolversReportEachIterationAsAnEpoch) {
    const Data d = breast_cancer();
    for (const char* name : {"lbfgs", "newton"}) {
        SCOPED_TRACE(name);
        models::LogisticRegression model;
        models::TrainOptions options(0.1, 200);
        options.optimizer = name;
        options.l2 = 1.0;
        std::vector<double> losses;
        options.on_epoch = [&losses](const models::EpochReport& r) {
            EXPECT_EQ(r.epoch, losses.size());
            EXPECT_EQ(r.epochs, 200u);
            losses.push_back(r.train_loss);
        };
        model.fit(d.X, d.y, options);
        const std::vector<double>& history = model.loss_history();  // starts at the start point
        ASSERT_EQ(losses.size() + 1, history.size());
        EXPECT_TRUE(std::equal(losses.begin(), losses.end(), history.begin() + 1));
    }
}

TEST(Regularization, EveryOptimizerTrains) {
    const Data d = breast_cancer();
    for (const char* name :
         {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "lbfgs", "newton"}) {
        SCOPED_TRACE(name);
        models::LogisticRegression model;
        models::TrainOptions options(0.05, 60, 64, 1);
        options.optimizer = name;
        options.l2 = 1.0;
        model.fit(d.X, d.y, options);
        EXPECT_LT(model.loss_history().back(), 0.5 * model.loss_history().front());
    }
    models::LogisticRegression model;
    models::TrainOptions options;
    options.optimizer = "magic";
    XGRAD_EXPECT_THROW_WITH(model.fit(d.X, d.y, options), std::invalid_argument,
                            "unknown optimizer 'magic'");
}

}  // namespace
}  // namespace xgrad
